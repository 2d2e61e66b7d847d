//! The x402 facilitator calls: mint an access token (`api/v1/x402/permissions`),
//! verify (`api/v1/x402/verify`) and settle (`api/v1/x402/settle`), with their
//! wire types. Field order matches the spec's wire examples byte for byte.

use super::{Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::payment_required::Resource;
use crate::protocol::{ClientConfig, PaymentRequired, Uint256, SCHEME_ERC4337};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Reads `null` as the type's default (the backend sends `null` for absent values).
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Optional counts (cents, seconds, transactions): read from a JSON number or
/// a string of digits (a JS bigint arrives as one), written as a JSON number.
pub(crate) mod count {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Deserializes an optional count.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<crate::protocol::Uint256>::deserialize(d)? {
            None => Ok(None),
            Some(n) => n.as_str().parse().map(Some).map_err(|_| serde::de::Error::custom("number is too large")),
        }
    }

    /// Writes the count as a number.
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_u64(*n),
            None => s.serialize_none(),
        }
    }
}

/// `tokenOptions` of `getX402AccessToken`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenOptions {
    /// Default `nvm:erc4337`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Default: the scheme's network in the client's environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Which delegation pays. Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation_config: Option<DelegationConfig>,
    /// 2 (reusable, default) or 3 (single-use, bound to agent, URL and verb).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_version: Option<u8>,
    /// The resource the token is for (bound by v3 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// The HTTP method the token is for (bound by v3 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_verb: Option<String>,
}

/// `delegationConfig`: `{delegationId, apiKeyId?}`, or the deprecated inline form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegationConfig {
    /// The delegation to spend from (see `createDelegation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation_id: Option<String>,
    /// Restrict to an API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    /// Deprecated inline creation: spending limit in cents.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    pub spending_limit_cents: Option<u64>,
    /// Deprecated inline creation: duration in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    pub duration_secs: Option<u64>,
    /// Deprecated inline creation: the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_payment_method_id: Option<String>,
    /// Deprecated inline creation: the card (older name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// Deprecated inline creation: the currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Anything else, sent as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl DelegationConfig {
    /// Whether any deprecated inline field is set.
    pub fn uses_inline_fields(&self) -> bool {
        self.spending_limit_cents.is_some()
            || self.duration_secs.is_some()
            || self.provider_payment_method_id.is_some()
            || self.card_id.is_some()
            || self.currency.is_some()
    }
}

/// The mint body: `{accepted, delegationConfig, resource?, tokenVersion?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    pub token_version: Option<u8>,
}

/// `accepted` of a mint body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MintExtra {
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_verb: Option<String>,
}

/// The mint answer: `{accessToken, ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MintResponse {
    /// The x402 access token.
    pub access_token: String,
    /// Anything else the backend sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What [`mint`] found worth a warning (shown once per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MintWarning {
    /// The deprecated inline delegation fields were used.
    InlineDelegation,
}

/// The deprecation warning text.
pub const INLINE_DELEGATION_WARNING: &str = "nvm-x402: tokenOptions.delegationConfig with inline fields (spendingLimitCents, durationSecs, providerPaymentMethodId, cardId, currency) is deprecated; create a delegation with payments.delegation.createDelegation and pass { delegationId }.";

/// Validates the inputs of `getX402AccessToken` and builds the mint call.
/// Nothing is sent when validation fails.
pub fn mint(cfg: &ClientConfig, plan_id: &str, agent_id: Option<&str>, options: &TokenOptions) -> Result<(Call<MintResponse>, Option<MintWarning>)> {
    let plan_id = plan_id.trim();
    if plan_id.is_empty() {
        return Err(Error::validation("planId is required"));
    }
    let scheme = options.scheme.as_deref().filter(|s| !s.is_empty()).unwrap_or(SCHEME_ERC4337);
    let network = options.network.as_deref().filter(|s| !s.is_empty()).unwrap_or_else(|| cfg.default_network(scheme));
    let config = options
        .delegation_config
        .as_ref()
        .ok_or_else(|| Error::validation(format!("delegationConfig is required for {scheme} token generation")))?;
    let warning = match config.delegation_id.as_deref() {
        Some(id) if id.trim().is_empty() => return Err(Error::validation("delegationConfig.delegationId must not be empty or blank")),
        Some(_) => None,
        None if config.uses_inline_fields() => Some(MintWarning::InlineDelegation),
        None => return Err(Error::validation(format!("delegationConfig is required for {scheme} token generation: pass {{ delegationId }}"))),
    };
    if let Some(v) = options.token_version {
        if v != 2 && v != 3 {
            return Err(Error::validation(format!("tokenVersion must be 2 or 3, got {v}")));
        }
    }
    let body = MintRequest {
        accepted: MintAccepted {
            scheme: scheme.to_owned(),
            network: network.to_owned(),
            plan_id: plan_id.to_owned(),
            extra: MintExtra {
                agent_id: agent_id.map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned),
                http_verb: options.http_verb.as_deref().filter(|v| !v.is_empty()).map(str::to_ascii_uppercase),
            },
        },
        delegation_config: config.clone(),
        resource: options.resource.clone(),
        token_version: options.token_version,
    };
    Ok((Call::json(cfg, "POST", "api/v1/x402/permissions", Auth::Bearer, Some(&body))?, warning))
}

/// The verify body: `{paymentRequired, x402AccessToken, maxAmount?}` (also the JS parameter object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// What the agent asks for.
    pub payment_required: PaymentRequired,
    /// The subscriber's token.
    pub x402_access_token: String,
    /// Credits the request will cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_amount: Option<Uint256>,
}

/// The settle body: verify's plus `agentRequestId?, batch?, marginPercent?`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleRequest {
    /// What the agent asked for.
    pub payment_required: PaymentRequired,
    /// The subscriber's token.
    pub x402_access_token: String,
    /// Credits to burn (`"0"`: the plan's default per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    pub url_matching: Option<Value>,
    /// The request's context (agent, balance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request: Option<AgentRequest>,
    /// Anything else the backend sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `agentRequest` of a verify answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRequest {
    /// The request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    /// The subscriber's balance on the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<PlanBalance>,
    /// `agentName`, `agentId`, `urlMatching`, `verbMatching`, `batch`, ... as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A subscriber's balance on a plan (also `getPlanBalance`'s answer).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    pub balance: Uint256,
    /// The credits contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_contract: Option<String>,
    /// Whether the holder is subscribed (has ordered the plan and it is usable).
    #[serde(default, deserialize_with = "nullable")]
    pub is_subscriber: bool,
    /// Price of one credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_credit: Option<Value>,
    /// Anything else the backend sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn nullable_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    })
}

impl Default for Uint256 {
    fn default() -> Self {
        Uint256::from(0)
    }
}

/// The settle answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// Credits burned (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_redeemed: Option<Uint256>,
    /// Credits left (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_balance: Option<Uint256>,
    /// The order transaction, when settle topped the plan up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tx: Option<String>,
    /// Anything else the backend sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Builds the verify call.
pub fn verify(cfg: &ClientConfig, body: &VerifyRequest) -> Result<Call<VerifyResponse>> {
    check_token_present(&body.x402_access_token)?;
    Call::json(cfg, "POST", "api/v1/x402/verify", Auth::Bearer, Some(body))
}

/// Builds the settle call.
pub fn settle(cfg: &ClientConfig, body: &SettleRequest) -> Result<Call<SettleResponse>> {
    check_token_present(&body.x402_access_token)?;
    if let Some(m) = body.margin_percent {
        if !m.is_finite() || m < 0.0 {
            return Err(Error::validation("marginPercent must be a non-negative number"));
        }
    }
    Call::json(cfg, "POST", "api/v1/x402/settle", Auth::Bearer, Some(body))
}

fn check_token_present(token: &str) -> Result<()> {
    if token.trim().is_empty() {
        return Err(Error::validation("x402AccessToken is required"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{build_payment_required, BuildOptions, PaymentsOptions};

    pub(crate) fn cfg() -> ClientConfig {
        ClientConfig::from_options(&PaymentsOptions {
            nvm_api_key: Some("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
            ..Default::default()
        })
        .unwrap()
    }

    fn with_delegation(id: &str) -> TokenOptions {
        TokenOptions { delegation_config: Some(DelegationConfig { delegation_id: Some(id.into()), ..Default::default() }), ..Default::default() }
    }

    #[test]
    fn mint_body_matches_the_spec_bytes() {
        let (call, warning) = mint(&cfg(), "123", Some("agent-1"), &with_delegation("del-uuid")).unwrap();
        assert_eq!(
            call.request.body.as_deref(),
            Some(r#"{"accepted":{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"agentId":"agent-1"}},"delegationConfig":{"delegationId":"del-uuid"}}"#)
        );
        assert_eq!(warning, None);
        let (call, _) = mint(&cfg(), "123", None, &with_delegation("del-uuid")).unwrap();
        assert!(call.request.body.unwrap().contains(r#""extra":{}"#));
    }

    #[test]
    fn verify_body_matches_the_spec_bytes() {
        let body = VerifyRequest {
            payment_required: build_payment_required("123", &BuildOptions { endpoint: Some("/x".into()), ..Default::default() }).unwrap(),
            x402_access_token: "tok".into(),
            max_amount: Some(Uint256::from(1)),
        };
        assert_eq!(
            verify(&cfg(), &body).unwrap().request.body.as_deref(),
            Some(r#"{"paymentRequired":{"x402Version":2,"resource":{"url":"/x"},"accepts":[{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"version":"1"}}],"extensions":{}},"x402AccessToken":"tok","maxAmount":"1"}"#)
        );
    }

    #[test]
    fn delegation_rules_are_checked_before_any_request() {
        let c = cfg();
        let no_config = mint(&c, "1", None, &TokenOptions::default()).unwrap_err();
        assert_eq!(no_config.to_string(), "delegationConfig is required for nvm:erc4337 token generation");
        let card = TokenOptions { scheme: Some("nvm:card-delegation".into()), ..Default::default() };
        assert!(mint(&c, "1", None, &card).unwrap_err().to_string().contains("nvm:card-delegation"));
        for blank in ["", "   "] {
            assert_eq!(mint(&c, "1", None, &with_delegation(blank)).unwrap_err().code(), "validation");
        }
        let empty = TokenOptions { delegation_config: Some(DelegationConfig::default()), ..Default::default() };
        assert_eq!(mint(&c, "1", None, &empty).unwrap_err().code(), "validation");
        let inline = TokenOptions {
            delegation_config: Some(DelegationConfig { spending_limit_cents: Some(10_000), duration_secs: Some(604_800), ..Default::default() }),
            ..Default::default()
        };
        let (call, warning) = mint(&c, "1", None, &inline).unwrap();
        assert_eq!(warning, Some(MintWarning::InlineDelegation));
        assert!(call.request.body.unwrap().contains(r#""delegationConfig":{"spendingLimitCents":10000,"durationSecs":604800}"#));
        let v4 = TokenOptions { token_version: Some(4), ..with_delegation("d") };
        assert!(mint(&c, "1", None, &v4).unwrap_err().to_string().contains("tokenVersion"));
        assert!(mint(&c, " ", None, &with_delegation("d")).is_err());
    }

    #[test]
    fn v3_options_bind_resource_and_verb() {
        let options = TokenOptions {
            token_version: Some(3),
            http_verb: Some("post".into()),
            resource: Some(Resource { url: "https://a.example/tasks".into(), ..Default::default() }),
            network: Some("eip155:1".into()),
            ..with_delegation("d")
        };
        let (call, _) = mint(&cfg(), "9", Some("ag"), &options).unwrap();
        assert_eq!(
            call.request.body.as_deref(),
            Some(r#"{"accepted":{"scheme":"nvm:erc4337","network":"eip155:1","planId":"9","extra":{"agentId":"ag","httpVerb":"POST"}},"delegationConfig":{"delegationId":"d"},"resource":{"url":"https://a.example/tasks"},"tokenVersion":3}"#)
        );
    }

    #[test]
    fn responses_are_parsed_tolerantly() {
        let v: VerifyResponse = serde_json::from_str(
            r#"{"isValid":true,"payer":null,"agentRequestId":"r1","agentRequest":{"agentRequestId":"r1","agentName":"A","balance":{"planId":5,"balance":7,"isSubscriber":true,"pricePerCredit":0.5}},"future":1}"#,
        )
        .unwrap();
        let balance = v.agent_request.as_ref().unwrap().balance.as_ref().unwrap();
        assert_eq!((balance.plan_id.as_str(), balance.balance.as_str(), balance.is_subscriber), ("5", "7", true));
        assert_eq!(v.other["future"], 1);
        let s: SettleResponse = serde_json::from_str(r#"{"success":false,"errorReason":"insufficient","transaction":null,"network":"eip155:84532","remainingBalance":0}"#).unwrap();
        assert_eq!((s.transaction.as_str(), s.remaining_balance.unwrap().as_str()), ("", "0"));
        let s: SettleResponse = serde_json::from_str(r#"{"success":true,"transaction":"0x1","network":"n","creditsRedeemed":"2","remainingBalance":"8"}"#).unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"success":true,"transaction":"0x1","network":"n","creditsRedeemed":"2","remainingBalance":"8"}"#);
    }
}
