//! The `createDelegation` body and answer (`/api/v1/delegation/create`).

use crate::count;
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
