//! The x402 calls' bodies and answers: mint (`/api/v1/x402/permissions`),
//! verify and settle.

use crate::payment_required::{PaymentRequired, Resource};
use crate::{count, nullable};
use nvm_x402::protocol::json::{Map, Value};
use nvm_x402::protocol::Uint256;
use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

/// `tokenOptions` of `getX402AccessToken`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402TokenOptions")]
pub struct TokenOptions {
    /// Default `nvm:erc4337`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "X402SchemeType | (string & {})")]
    pub scheme: Option<String>,
    /// Default: the scheme's network in the client's environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Which delegation pays. Required (read as optional so that a missing
    /// one is the core's validation error, not a parse error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(as = "DelegationConfig", optional = false)]
    pub delegation_config: Option<DelegationConfig>,
    /// 2 (reusable, default) or 3 (single-use, bound to agent, URL and verb).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "2 | 3")]
    pub token_version: Option<u8>,
    /// The resource the token is for (bound by v3 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// The HTTP method the token is for (bound by v3 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "HttpVerb | (string & {})")]
    pub http_verb: Option<String>,
}

/// `delegationConfig`: `{delegationId, apiKeyId?}`, or the deprecated inline form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct DelegationConfig {
    /// The delegation to spend from (see `createDelegation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation_id: Option<String>,
    /// Restrict to an API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    /// Inline creation: the spending limit in cents.
    /// @deprecated create a delegation and pass `delegationId`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    #[ts(type = "BigIntLike")]
    pub spending_limit_cents: Option<u64>,
    /// Inline creation: the duration in seconds.
    /// @deprecated create a delegation and pass `delegationId`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    #[ts(type = "BigIntLike")]
    pub duration_secs: Option<u64>,
    /// Inline creation: the card.
    /// @deprecated create a delegation and pass `delegationId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_payment_method_id: Option<String>,
    /// Inline creation: the card (older name).
    /// @deprecated create a delegation and pass `delegationId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// Inline creation: the currency.
    /// @deprecated create a delegation and pass `delegationId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Anything else, sent as given.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

impl DelegationConfig {
    /// Whether it asks for a delegation created on the fly (the deprecated
    /// inline-create fields; `currency` alone, or `apiKeyId`, does not: the
    /// official SDKs' predicate).
    pub fn uses_inline_fields(&self) -> bool {
        self.spending_limit_cents.is_some()
            || self.duration_secs.is_some()
            || self.provider_payment_method_id.is_some()
            || self.card_id.is_some()
    }
}

/// The mint body: `{accepted, delegationConfig, resource?, tokenVersion?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct MintRequest {
    /// What the token pays with.
    pub accepted: MintAccepted,
    /// Which delegation pays.
    pub delegation_config: DelegationConfig,
    /// The resource (v3 binding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// 2 or 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "2 | 3")]
    pub token_version: Option<u8>,
}

/// `accepted` of a mint body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct MintAccepted {
    /// The scheme.
    pub scheme: String,
    /// The network.
    pub network: String,
    /// The plan.
    pub plan_id: String,
    /// `{agentId?, httpVerb?}` (`{}` when neither).
    #[serde(default)]
    pub extra: MintExtra,
}

/// `accepted.extra` of a mint body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct MintExtra {
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_verb: Option<String>,
}

/// The mint answer: `{accessToken, ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "AccessTokenResult")]
pub struct MintResponse {
    /// The x402 access token.
    pub access_token: String,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The verify body: `{paymentRequired, x402AccessToken, maxAmount?}` (also the JS parameter object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "VerifyPermissionsParams")]
pub struct VerifyRequest {
    /// What the agent asks for.
    pub payment_required: PaymentRequired,
    /// The subscriber's token.
    pub x402_access_token: String,
    /// Credits the request will cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "BigIntLike")]
    pub max_amount: Option<Uint256>,
}

/// The settle body: verify's plus `agentRequestId?, batch?, marginPercent?`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "SettlePermissionsParams")]
pub struct SettleRequest {
    /// What the agent asked for.
    pub payment_required: PaymentRequired,
    /// The subscriber's token.
    pub x402_access_token: String,
    /// Credits to burn (`"0"`: the plan's default per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "BigIntLike")]
    pub max_amount: Option<Uint256>,
    /// The id verify returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    /// Batch settlement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<bool>,
    /// Margin on dynamic pricing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_percent: Option<f64>,
}

/// The verify answer. `isValid: false` is a normal "no", not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "VerifyPermissionsResult")]
pub struct VerifyResponse {
    /// Whether the token may be used for this request.
    pub is_valid: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    /// The subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// The network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Pass to settle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    /// Whether the URL matched the agent's endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "JsonValue")]
    pub url_matching: Option<Value>,
    /// The request's context (agent, balance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request: Option<AgentRequest>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// `agentRequest` of a verify answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "StartAgentRequest")]
pub struct AgentRequest {
    /// The request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    /// The agent's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The subscriber's balance on the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<PlanBalance>,
    /// Whether the URL matched the agent's endpoints (as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "JsonValue")]
    pub url_matching: Option<Value>,
    /// Whether the HTTP method matched (as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "JsonValue")]
    pub verb_matching: Option<Value>,
    /// Batch settlement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<bool>,
    /// Anything else, as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// A subscriber's balance on a plan (also `getPlanBalance`'s answer).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct PlanBalance {
    /// The plan.
    #[serde(default, deserialize_with = "nullable_id")]
    pub plan_id: String,
    /// The plan's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_name: Option<String>,
    /// `credits` or `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<String>,
    /// Whose balance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_address: Option<String>,
    /// Credits left (a decimal string).
    #[serde(default, deserialize_with = "nullable")]
    #[ts(as = "String")]
    pub balance: Uint256,
    /// The credits contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_contract: Option<String>,
    /// Whether the holder is subscribed (has ordered the plan and it is usable).
    #[serde(default, deserialize_with = "nullable")]
    pub is_subscriber: bool,
    /// Price of one credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number")]
    pub price_per_credit: Option<Value>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

fn nullable_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    })
}

/// The settle answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "SettlePermissionsResult")]
pub struct SettleResponse {
    /// Whether credits were burned.
    pub success: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// The subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// The burn transaction (`""` on failure).
    #[serde(default, deserialize_with = "nullable")]
    pub transaction: String,
    /// The network.
    #[serde(default, deserialize_with = "nullable")]
    pub network: String,
    /// How the plan bills: `credits` (credits burned from a balance), or
    /// `pay-as-you-go` (one direct charge of the plan's price: `creditsRedeemed`
    /// is `"0"` and the charge is `orderTx`, or `transaction`). Absent from
    /// older backends (read as `credits`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "'credits' | 'pay-as-you-go'")]
    pub billing_model: Option<String>,
    /// Credits burned (decimal string; `"0"` for a pay-as-you-go charge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(as = "Option<String>")]
    pub credits_redeemed: Option<Uint256>,
    /// Credits left (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(as = "Option<String>")]
    pub remaining_balance: Option<Uint256>,
    /// The order transaction: of the top-up a settle bought (credits), or of
    /// the pay-as-you-go charge itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tx: Option<String>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// A decoded x402 access token (`decodeAccessToken`): the JSON whose base64
/// is the mint answer's `accessToken`. Decoding checks only that it is a JSON
/// object, so every field is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402PaymentAccepted")]
pub struct AccessToken {
    /// 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x402_version: Option<u32>,
    /// What it pays with: the scheme, network and plan (`extra`: the agent and verb it is bound to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<crate::PaymentRequirements>,
    /// The resource it is bound to (single-use tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// The signed part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<TokenPayload>,
    /// Protocol extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "JsonObject")]
    pub extensions: Option<Value>,
    /// Anything else, kept as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// `payload` of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402AccessTokenPayload")]
pub struct TokenPayload {
    /// The subscriber's signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Card delegations: the provider's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Who pays, and with which session keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<TokenAuthorization>,
    /// Anything else, kept as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// `payload.authorization` of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402AccessTokenAuthorization")]
pub struct TokenAuthorization {
    /// The subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Who holds the session keys (`zerodev`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_keys_provider: Option<String>,
    /// The session keys (as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "Array<JsonValue>")]
    pub session_keys: Option<Vec<Value>>,
    /// Present on single-use (v3) tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Anything else, kept as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// What `requests.startProcessingRequest` answers: verify's verdict on the
/// token for that URL and verb, and the subscriber's balance. A missing or
/// undecodable token is `isValid: false` (no backend call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct StartProcessingResult {
    /// Whether the token may be used for this request.
    pub is_valid: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    /// Pass to settle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    /// The plan (the token's, or the one asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The PaymentRequired that was verified; settle with the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_required: Option<PaymentRequired>,
    /// The subscriber's balance on the plan (`balance: "0"`, `isSubscriber: false` when unknown).
    pub balance: PlanBalance,
}

/// What `resolveScheme` answers: how a plan is paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct ResolvedScheme {
    /// `nvm:erc4337` (crypto plans) or `nvm:card-delegation` (fiat plans).
    #[ts(type = "X402SchemeType")]
    pub scheme: String,
    /// The environment's chain (`eip155:84532`, ...) or the card provider (`stripe`, ...).
    pub network: String,
}
