//! The `createDelegation` body and answer (`/api/v1/delegation/create`), the
//! delegation and payment-method lists and their queries.

use crate::{count, null_kept, NumberOrString};
use nvm_x402::protocol::json::Map;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The `createDelegation` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "CreateDelegationPayload")]
pub struct CreateDelegation {
    /// `stripe`, `braintree`, `visa` (a card) or `erc4337` (crypto).
    #[serde(default)]
    #[ts(type = "DelegationProvider")]
    pub provider: String,
    /// The card (required for card providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_payment_method_id: Option<String>,
    /// The spending limit, in cents. Required (read as optional so that a
    /// missing one is nvm-local's validation error, not a parse error).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    #[ts(type = "BigIntLike", optional = false)]
    pub spending_limit_cents: Option<u64>,
    /// How long the delegation lasts, in seconds. Required (as above).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    #[ts(type = "BigIntLike", optional = false)]
    pub duration_secs: Option<u64>,
    /// `usd`, `eur`, `usdc` or `eurc` (default `usd` for cards, `usdc` for erc4337).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "DelegationCurrency")]
    pub currency: Option<String>,
    /// Restrict to a plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The merchant account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_account_id: Option<String>,
    /// At most this many transactions.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    #[ts(type = "BigIntLike")]
    pub max_transactions: Option<u64>,
    /// Restrict to an API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
}

/// `{delegationId, delegationToken?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "CreateDelegationResponse")]
pub struct CreatedDelegation {
    /// Pass as `delegationConfig.delegationId`.
    pub delegation_id: String,
    /// The provider's token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation_token: Option<String>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The query of `GET api/v1/delegation` (`listDelegations`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct DelegationsQuery {
    /// Include delegations shared with the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessible: Option<bool>,
}

/// The query of `GET api/v1/payment-methods` (`listPaymentMethods`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "ListOptions")]
pub struct PaymentMethodsQuery {
    /// Include methods shared with the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessible: Option<bool>,
    /// Only this provider (`stripe`, `erc4337`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// One delegation of `listDelegations` (passed on as the backend sends it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct DelegationSummary {
    /// Pass as `delegationConfig.delegationId`.
    pub delegation_id: String,
    /// `stripe`, `braintree`, `visa` or `erc4337`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The card (`null` for crypto delegations).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_kept"
    )]
    pub provider_payment_method_id: Option<Option<String>>,
    /// `Active`, `expired`, ... (compare case-insensitively).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The budget in cents: a decimal string (the Nevermined backend) or a number (nvm-local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number | string")]
    pub spending_limit_cents: Option<NumberOrString>,
    /// Spent so far, in cents (as `spendingLimitCents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number | string")]
    pub amount_spent_cents: Option<NumberOrString>,
    /// Left, in cents (as `spendingLimitCents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number | string")]
    pub remaining_budget_cents: Option<NumberOrString>,
    /// `usd`, `eur`, `usdc` or `eurc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Payments made with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_count: Option<u64>,
    /// When it stops working (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When it was created (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The API key it is restricted to (`null`: any).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_kept"
    )]
    pub api_key_id: Option<Option<String>>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// What `listDelegations` answers: one page of delegations (a bare list from
/// the backend is answered as one page of all of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "DelegationListResponse")]
pub struct DelegationList {
    /// The delegations.
    pub delegations: Vec<DelegationSummary>,
    /// How many there are in all.
    pub total_results: u64,
    /// The page (from 1).
    pub page: u64,
    /// The page size.
    pub offset: u64,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// One entry of `listPaymentMethods`: an enrolled card, or the account's
/// ERC-4337 wallet (`provider: "erc4337"`, `type: "crypto_wallet"`). Passed on
/// as the backend sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct PaymentMethodSummary {
    /// The card's id, to pass as `providerPaymentMethodId` (the wallet's address for `erc4337`).
    pub id: String,
    /// `card`, `crypto_wallet`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `visa`, `mastercard`, ... (`ethereum` for the wallet).
    pub brand: String,
    /// The card's last 4 digits (the wallet address's last 4 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    /// The card's expiry month (0 for other methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp_month: Option<u32>,
    /// The card's expiry year (0 for other methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp_year: Option<u32>,
    /// A name the owner gave it (`null`: none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_kept"
    )]
    pub alias: Option<Option<String>>,
    /// `stripe`, `braintree`, `visa` or `erc4337`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// `Active` or `Revoked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The API keys that may use it (`null`: any).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_kept"
    )]
    pub allowed_api_key_ids: Option<Option<Vec<String>>>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The `updatePaymentMethod` body (`PATCH api/v1/payment-methods/:id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct UpdatePaymentMethodDto {
    /// A name for the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The API keys (their ids) that may use it; `null`: any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_kept"
    )]
    pub allowed_api_key_ids: Option<Option<Vec<String>>>,
}

/// What `getPurchasingPower` answers: the cards and delegations the API key
/// can use, and their budget left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct PurchasingPower {
    /// `listPaymentMethods({accessible: true})`.
    pub cards: Vec<PaymentMethodSummary>,
    /// `listDelegations({accessible: true})`'s delegations.
    pub delegations: Vec<DelegationSummary>,
    /// The sum of their `remainingBudgetCents`.
    pub total_remaining_budget_cents: u64,
    /// The first delegation's currency (`usd` when there is none).
    pub currency: String,
}
