//! A plan's registration body and its parts (`/api/v1/protocol/plans`).

use crate::NumberOrString;
use nvm_x402::api::plans::{redemption, AccessLimit, ZERO_ADDRESS};
use nvm_x402::protocol::json::Map;
use nvm_x402::protocol::Uint256;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `metadataAttributes` of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct PlanMetadata {
    /// The plan's name.
    #[serde(default)]
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Whether it is a trial plan (orderable once per subscriber).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_trial_plan: Option<bool>,
    /// Anything else, sent as given.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

fn zero_address() -> String {
    ZERO_ADDRESS.to_owned()
}

/// `priceConfig` of a plan. Amounts are in the token's smallest unit (fiat: 6 decimals, `1000000` = $1.00).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "PlanPriceConfig")]
pub struct PriceConfig {
    /// ERC-20 token, or the zero address for the native token / fiat.
    #[serde(default = "zero_address")]
    #[ts(type = "Address | string", optional = nullable)]
    pub token_address: String,
    /// One amount per receiver.
    #[serde(default)]
    #[ts(type = "Array<BigIntLike>")]
    pub amounts: Vec<Uint256>,
    /// Who gets paid.
    #[serde(default)]
    #[ts(type = "Array<Address | string>")]
    pub receivers: Vec<String>,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    #[ts(as = "Option<String>")]
    pub contract_address: String,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    #[ts(as = "Option<String>")]
    pub fee_controller: String,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    #[ts(as = "Option<String>")]
    pub external_price_address: String,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    #[ts(as = "Option<String>")]
    pub template_address: String,
    /// `false` for fiat plans.
    #[serde(default = "yes")]
    pub is_crypto: bool,
    /// Fiat: an ISO 4217 code (`USD`, `EUR`); `EURC` for the euro stablecoin.
    /// Also sent as the registration's top-level `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Anything else, sent as given.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

fn yes() -> bool {
    true
}

/// `creditsConfig` of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "PlanCreditsConfig")]
pub struct CreditsConfig {
    /// Whether every request costs exactly `minAmount` (= `maxAmount`).
    #[serde(default)]
    pub is_redemption_amount_fixed: bool,
    /// Who may redeem: 0 global role, 1 owner, 2 plan role, 4 subscriber
    /// (the default, and what every helper sends, as in both official SDKs).
    #[serde(default = "only_subscriber")]
    #[ts(type = "0 | 1 | 2 | 4", optional = nullable)]
    pub redemption_type: u8,
    /// Mirror balances on chain.
    #[serde(default)]
    #[ts(as = "Option<bool>")]
    pub onchain_mirror: bool,
    /// Time plans: seconds until the plan expires (0: never).
    #[serde(default)]
    #[ts(type = "BigIntLike")]
    pub duration_secs: Uint256,
    /// Credits granted per order.
    #[serde(default)]
    #[ts(type = "BigIntLike")]
    pub amount: Uint256,
    /// Credits per request, minimum.
    #[serde(default)]
    #[ts(type = "BigIntLike")]
    pub min_amount: Uint256,
    /// Credits per request, maximum.
    #[serde(default)]
    #[ts(type = "BigIntLike")]
    pub max_amount: Uint256,
    /// Anything else (`proofRequired`, ...), sent as given.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

fn only_subscriber() -> u8 {
    redemption::ONLY_SUBSCRIBER
}

/// What the price helpers (`getFreePriceConfig`, `getCryptoPriceConfig`, ...)
/// return: a `PlanPriceConfig` with every field written, amounts as decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct PriceConfigResult {
    /// ERC-20 token, or the zero address for the native token / fiat.
    pub token_address: String,
    /// One amount per receiver (decimal strings).
    #[ts(as = "Vec<String>")]
    pub amounts: Vec<Uint256>,
    /// Who gets paid.
    pub receivers: Vec<String>,
    /// The zero address.
    pub contract_address: String,
    /// The zero address.
    pub fee_controller: String,
    /// The zero address.
    pub external_price_address: String,
    /// The zero address.
    pub template_address: String,
    /// `false` for fiat plans.
    pub is_crypto: bool,
    /// Fiat: the ISO 4217 code (`USD`, `EUR`); `EURC` for the euro stablecoin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Anything else (none from the helpers; a copy may add some).
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// What the credits helpers (`getFixedCreditsConfig`, `getExpirableDurationConfig`, ...)
/// return: a `PlanCreditsConfig` with every field written, numbers as decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CreditsConfigResult {
    /// Whether every request costs exactly `minAmount` (= `maxAmount`).
    pub is_redemption_amount_fixed: bool,
    /// 4: only the subscriber redeems (as both official SDKs' helpers send).
    #[ts(type = "4")]
    pub redemption_type: u8,
    /// `false`.
    pub onchain_mirror: bool,
    /// Time plans: seconds until the plan expires (`"0"`: never).
    #[ts(as = "String")]
    pub duration_secs: Uint256,
    /// Credits granted per order.
    #[ts(as = "String")]
    pub amount: Uint256,
    /// Credits per request, minimum.
    #[ts(as = "String")]
    pub min_amount: Uint256,
    /// Credits per request, maximum.
    #[ts(as = "String")]
    pub max_amount: Uint256,
    /// Anything else (none from the helpers; a copy may add some).
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The registration body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct RegisterPlanRequest {
    /// Name, description, tags.
    pub metadata_attributes: PlanMetadata,
    /// What the subscriber pays.
    pub price_config: PriceConfig,
    /// What the subscriber gets.
    pub credits_config: CreditsConfig,
    /// Replay protection (random).
    #[ts(as = "String")]
    pub nonce: Uint256,
    /// Whether it's a trial plan.
    pub is_trial_plan: bool,
    /// Credits or time.
    #[ts(type = "AccessLimit")]
    pub access_limit: AccessLimit,
    /// The price's currency again (both official SDKs send it beside `priceConfig.currency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// What `registerPlan` (and its credits, time and trial forms) answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct RegisterPlanResult {
    /// The new plan.
    pub plan_id: String,
}

/// The `orderFiatPlan` body (`/api/v1/fiat/stripe/payment`): `{sessionType: "embedded", planId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct FiatPaymentRequest {
    /// `embedded` (default) or `hosted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_type: Option<String>,
    /// The fiat plan.
    #[ts(as = "String")]
    pub plan_id: Uint256,
}

/// The `orderPlan` answer: the backend's, with what the caller held before
/// (`alreadySubscribed`, `balanceBefore`: nvm-x402 reads the balance first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "NvmAPIResult")]
pub struct OrderResult {
    /// Whether the plan was ordered.
    pub success: bool,
    /// The order transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<String>,
    /// What happened, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The caller already held the plan (its balance said `isSubscriber`): this
    /// order bought it again, adding to `balanceBefore`. Absent when the API key
    /// names no account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_subscribed: Option<bool>,
    /// The caller's balance of the plan just before the order (a decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_before: Option<String>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The `orderFiatPlan` answer: `{result: {checkoutLink, ...}}` (passed on as the backend sends it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct FiatCheckoutResult {
    /// The checkout session.
    pub result: StripeCheckoutResult,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// `result` of an `orderFiatPlan` answer: where to pay by card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct StripeCheckoutResult {
    /// The Stripe checkout session.
    pub stripe_checkout_session_id: String,
    /// Where the subscriber pays.
    pub checkout_link: String,
    /// The subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_reference_id: Option<String>,
    /// The payment's status, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<String>,
    /// When the link was made: epoch milliseconds (the Nevermined backend) or ISO 8601 text (nvm-local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number | string")]
    pub link_created_at: Option<NumberOrString>,
    /// When the link stops working (as `linkCreatedAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number | string")]
    pub link_expires_at: Option<NumberOrString>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The pagination of `getPlans` and `getAgentPlans`, sent as their query
/// string (read back as a `PlansQuery`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct PaginationOptions {
    /// The field to sort by (`created`, `name`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// Default `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "'asc' | 'desc'")]
    pub sort_order: Option<String>,
    /// The page, from 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// The page size (default 100 for `getPlans`, 10 for `getAgentPlans`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// The options of `getPlans` (also taken positionally, as the official SDK's
/// `getPlans(page, offset, sortBy, sortOrder, orgId)`), sent as its query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct ListPlansOptions {
    /// The page and its order.
    #[serde(flatten)]
    pub pagination: PaginationOptions,
    /// An organization: every plan in it (the caller must be a member) instead of the caller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

/// The query of `GET api/v1/protocol/plans` (`getPlans`, and `getAgentPlans`
/// on `.../agents/:id/plans`). Both SDKs' paginations are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct PlansQuery {
    /// Page number (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// Page size (payments-py's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size (the TS SDK's name; wins over `offset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u64>,
    /// `created` or `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "'asc' | 'desc'")]
    pub sort_order: Option<String>,
    /// `getPlans` and `getAgents`: an organization's plans or agents instead of the caller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}
