//! Plans: registration (credits, time, trial), lookup, balance, ordering
//! (crypto and fiat), and the price/credits configuration helpers that build
//! registration bodies exactly as the official SDKs do.

use super::{parse_any, query, Auth, Call};
use crate::api::x402::PlanBalance;
use crate::error::{Error, Result};
use crate::protocol::url::encode_segment;
use crate::protocol::{ClientConfig, Uint256};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The zero address (native token, unused contract slots).
pub const ZERO_ADDRESS: &str = "0x0000000000000000000000000000000000000000";

/// Who may redeem (burn) a plan's credits. Numbers as on chain.
pub mod redemption {
    /// Only an account with the global burner role (the Nevermined proxy).
    pub const ONLY_GLOBAL_ROLE: u8 = 0;
    /// Only the plan's owner (the agent).
    pub const ONLY_OWNER: u8 = 1;
    /// Accounts granted a role on the plan.
    pub const ONLY_PLAN_ROLE: u8 = 2;
}

/// `metadataAttributes` of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn zero_address() -> String {
    ZERO_ADDRESS.to_owned()
}

/// `priceConfig` of a plan. Amounts are in the token's smallest unit (fiat: 6 decimals, `1000000` = $1.00).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceConfig {
    /// ERC-20 token, or the zero address for the native token / fiat.
    #[serde(default = "zero_address")]
    pub token_address: String,
    /// One amount per receiver.
    #[serde(default)]
    pub amounts: Vec<Uint256>,
    /// Who gets paid.
    #[serde(default)]
    pub receivers: Vec<String>,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    pub contract_address: String,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    pub fee_controller: String,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    pub external_price_address: String,
    /// Unused by these helpers (zero address).
    #[serde(default = "zero_address")]
    pub template_address: String,
    /// `false` for fiat plans.
    #[serde(default = "yes")]
    pub is_crypto: bool,
    /// Fiat currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Anything else, sent as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn yes() -> bool {
    true
}

/// `creditsConfig` of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditsConfig {
    /// Whether every request costs exactly `minAmount` (= `maxAmount`).
    #[serde(default)]
    pub is_redemption_amount_fixed: bool,
    /// See [`redemption`].
    #[serde(default = "only_owner")]
    pub redemption_type: u8,
    /// Mirror balances on chain.
    #[serde(default)]
    pub onchain_mirror: bool,
    /// Time plans: seconds until the plan expires (0: never).
    #[serde(default)]
    pub duration_secs: Uint256,
    /// Credits granted per order.
    #[serde(default)]
    pub amount: Uint256,
    /// Credits per request, minimum.
    #[serde(default)]
    pub min_amount: Uint256,
    /// Credits per request, maximum.
    #[serde(default)]
    pub max_amount: Uint256,
    /// Anything else (`proofRequired`, ...), sent as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn only_owner() -> u8 {
    redemption::ONLY_OWNER
}

/// What limits access to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLimit {
    /// A number of credits.
    Credits,
    /// A period of time.
    Time,
}

impl AccessLimit {
    /// What a credits config implies when no limit is named: time when it has a duration.
    pub fn implied_by(credits: &CreditsConfig) -> Self {
        if credits.duration_secs.is_zero() { AccessLimit::Credits } else { AccessLimit::Time }
    }
}

/// The registration body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterPlanRequest {
    /// Name, description, tags.
    pub metadata_attributes: PlanMetadata,
    /// What the subscriber pays.
    pub price_config: PriceConfig,
    /// What the subscriber gets.
    pub credits_config: CreditsConfig,
    /// Replay protection (random).
    pub nonce: Uint256,
    /// Whether it's a trial plan.
    pub is_trial_plan: bool,
    /// Credits or time.
    pub access_limit: AccessLimit,
}

/// Checks an Ethereum address (`0x` + 40 hex digits).
pub fn check_address(what: &str, address: &str) -> Result<()> {
    let ok = address.len() == 42 && address.starts_with("0x") && address[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok { Ok(()) } else { Err(Error::validation(format!("{what} {address:?} is not a valid Ethereum address"))) }
}

fn price(amounts: Vec<Uint256>, receivers: Vec<String>, token_address: &str, is_crypto: bool) -> PriceConfig {
    PriceConfig {
        token_address: token_address.to_owned(),
        amounts,
        receivers,
        contract_address: zero_address(),
        fee_controller: zero_address(),
        external_price_address: zero_address(),
        template_address: zero_address(),
        is_crypto,
        currency: None,
        other: Map::new(),
    }
}

/// A free plan: no amounts, no receivers, `isCrypto: true`.
pub fn free_price_config() -> PriceConfig {
    price(vec![], vec![], ZERO_ADDRESS, true)
}

/// A crypto price in `token_address` (zero address: the native token).
pub fn crypto_price_config(amount: Uint256, receiver: &str, token_address: Option<&str>) -> Result<PriceConfig> {
    check_address("Receiver address", receiver)?;
    let token = token_address.filter(|t| !t.is_empty()).unwrap_or(ZERO_ADDRESS);
    check_address("Token address", token)?;
    Ok(price(vec![amount], vec![receiver.to_owned()], token, true))
}

/// A fiat price (6-decimal units: `1000000` = $1.00, the minimum).
pub fn fiat_price_config(amount: Uint256, receiver: &str) -> Result<PriceConfig> {
    check_address("Receiver address", receiver)?;
    Ok(price(vec![amount], vec![receiver.to_owned()], ZERO_ADDRESS, false))
}

fn credits(fixed: bool, duration: Uint256, amount: Uint256, min: Uint256, max: Uint256) -> CreditsConfig {
    CreditsConfig {
        is_redemption_amount_fixed: fixed,
        redemption_type: redemption::ONLY_OWNER,
        onchain_mirror: false,
        duration_secs: duration,
        amount,
        min_amount: min,
        max_amount: max,
        other: Map::new(),
    }
}

/// `granted` credits, `per_request` each request.
pub fn fixed_credits_config(granted: Uint256, per_request: Uint256) -> CreditsConfig {
    credits(true, Uint256::from(0), granted, per_request.clone(), per_request)
}

/// `granted` credits, between `min` and `max` each request.
pub fn dynamic_credits_config(granted: Uint256, min: Uint256, max: Uint256) -> CreditsConfig {
    credits(false, Uint256::from(0), granted, min, max)
}

/// Access for `duration_secs` seconds.
pub fn expirable_duration_config(duration_secs: Uint256) -> CreditsConfig {
    credits(false, duration_secs, Uint256::from(1), Uint256::from(1), Uint256::from(1))
}

/// Access that never expires.
pub fn non_expirable_duration_config() -> CreditsConfig {
    expirable_duration_config(Uint256::from(0))
}

/// Builds the registration call after checking the configs fit the access limit.
pub fn register_plan(cfg: &ClientConfig, mut metadata: PlanMetadata, price: PriceConfig, credits: CreditsConfig, access_limit: AccessLimit, trial: bool, nonce: Uint256) -> Result<Call<PlanIdAnswer>> {
    if metadata.name.trim().is_empty() {
        return Err(Error::validation("plan metadata name is required"));
    }
    if price.amounts.len() != price.receivers.len() {
        return Err(Error::validation("priceConfig.amounts and priceConfig.receivers must have the same length"));
    }
    for receiver in &price.receivers {
        check_address("Receiver address", receiver)?;
    }
    if access_limit == AccessLimit::Credits {
        if credits.amount.is_zero() {
            return Err(Error::validation("creditsConfig.amount (credits granted) must be at least 1"));
        }
        if credits.min_amount > credits.max_amount {
            return Err(Error::validation("The creditsConfig.minAmount can not be more than creditsConfig.maxAmount"));
        }
    }
    let is_trial = trial || metadata.is_trial_plan.unwrap_or(false);
    if is_trial {
        metadata.is_trial_plan = Some(true);
    }
    let body = RegisterPlanRequest {
        metadata_attributes: metadata,
        price_config: price,
        credits_config: credits,
        nonce,
        is_trial_plan: is_trial,
        access_limit,
    };
    Ok(Call { request: super::build_request(cfg, "POST", "api/v1/protocol/plans", Auth::Bearer, Some(&body))?, parse: parse_plan_id })
}

/// `{planId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanIdAnswer {
    /// The new plan.
    pub plan_id: String,
}

fn parse_plan_id(response: crate::transport::HttpResponse) -> Result<PlanIdAnswer> {
    let status = response.status;
    let v = parse_any(response)?;
    let id = v.get("planId").or_else(|| v.pointer("/data/planId"));
    match id {
        Some(Value::String(s)) => Ok(PlanIdAnswer { plan_id: s.clone() }),
        Some(Value::Number(n)) => Ok(PlanIdAnswer { plan_id: n.to_string() }),
        _ => Err(Error::InvalidResponse { status, message: "The backend's answer has no planId".into() }),
    }
}

fn plan_path(plan_id: &str) -> Result<String> {
    let plan_id = plan_id.trim();
    if plan_id.is_empty() {
        return Err(Error::validation("planId is required"));
    }
    Ok(format!("api/v1/protocol/plans/{}", encode_segment(plan_id)))
}

/// `GET api/v1/protocol/plans/:planId` (public).
pub fn get_plan(cfg: &ClientConfig, plan_id: &str) -> Result<Call<Value>> {
    Ok(Call { request: super::build_request(cfg, "GET", &plan_path(plan_id)?, Auth::Public, None::<&()>)?, parse: parse_any })
}

/// Paging of `getPlans`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlansQuery {
    /// Page number (1-based).
    #[serde(default)]
    pub page: Option<u64>,
    /// Page size.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Field to sort by.
    #[serde(default)]
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    #[serde(default)]
    pub sort_order: Option<String>,
}

/// `GET api/v1/protocol/plans?page&offset&sortBy&sortOrder`: the caller's plans.
pub fn get_plans(cfg: &ClientConfig, q: &PlansQuery) -> Result<Call<Value>> {
    if let Some(order) = q.sort_order.as_deref() {
        if order != "asc" && order != "desc" {
            return Err(Error::validation("sortOrder must be \"asc\" or \"desc\""));
        }
    }
    let path = format!(
        "api/v1/protocol/plans{}",
        query(&[
            ("page", Some(q.page.unwrap_or(1).to_string())),
            ("offset", Some(q.offset.unwrap_or(100).to_string())),
            ("sortBy", Some(q.sort_by.clone().unwrap_or_else(|| "created".into()))),
            ("sortOrder", Some(q.sort_order.clone().unwrap_or_else(|| "desc".into()))),
        ])
    );
    Ok(Call { request: super::build_request(cfg, "GET", &path, Auth::Bearer, None::<&()>)?, parse: parse_any })
}

/// `GET api/v1/protocol/plans/:planId/balance/:holder` (public).
pub fn get_plan_balance(cfg: &ClientConfig, plan_id: &str, holder: &str) -> Result<Call<PlanBalance>> {
    let holder = holder.trim();
    if holder.is_empty() {
        return Err(Error::validation("holder address is required (the API key has no sub claim)"));
    }
    let path = format!("{}/balance/{}", plan_path(plan_id)?, encode_segment(holder));
    Call::json(cfg, "GET", &path, Auth::Public, None::<&()>)
}

/// `POST api/v1/protocol/plans/:planId/order` (no body): `{success, txHash?, message?}`.
pub fn order_plan(cfg: &ClientConfig, plan_id: &str) -> Result<Call<Value>> {
    let path = format!("{}/order", plan_path(plan_id)?);
    Ok(Call { request: super::build_request(cfg, "POST", &path, Auth::Bearer, None::<&()>)?, parse: parse_any })
}

/// `POST api/v1/fiat/stripe/payment` `{sessionType: "embedded", planId}`: a checkout link.
pub fn order_fiat_plan(cfg: &ClientConfig, plan_id: &str) -> Result<Call<Value>> {
    let plan_id = plan_id.trim();
    if plan_id.is_empty() {
        return Err(Error::validation("planId is required"));
    }
    let body = json!({"sessionType": "embedded", "planId": plan_id});
    Ok(Call { request: super::build_request(cfg, "POST", "api/v1/fiat/stripe/payment", Auth::Bearer, Some(&body))?, parse: parse_any })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIVER: &str = "0x1234567890abcdef1234567890ABCDEF12345678";

    #[test]
    fn price_helpers_match_the_official_shapes() {
        let free = serde_json::to_string(&free_price_config()).unwrap();
        assert_eq!(free, r#"{"tokenAddress":"0x0000000000000000000000000000000000000000","amounts":[],"receivers":[],"contractAddress":"0x0000000000000000000000000000000000000000","feeController":"0x0000000000000000000000000000000000000000","externalPriceAddress":"0x0000000000000000000000000000000000000000","templateAddress":"0x0000000000000000000000000000000000000000","isCrypto":true}"#);
        let fiat = fiat_price_config(Uint256::from(1_000_000), RECEIVER).unwrap();
        assert_eq!((fiat.is_crypto, fiat.amounts[0].as_str()), (false, "1000000"));
        let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
        let erc20 = crypto_price_config(Uint256::from(5), RECEIVER, Some(usdc)).unwrap();
        assert_eq!((erc20.token_address.as_str(), erc20.is_crypto), (usdc, true));
        assert!(crypto_price_config(Uint256::from(5), "0x123", None).unwrap_err().to_string().contains("not a valid Ethereum address"));
        assert!(crypto_price_config(Uint256::from(5), RECEIVER, Some("usdc")).is_err());
    }

    #[test]
    fn credits_helpers_match_the_official_shapes() {
        let fixed = serde_json::to_value(fixed_credits_config(Uint256::from(100), Uint256::from(2))).unwrap();
        assert_eq!(fixed, json!({"isRedemptionAmountFixed":true,"redemptionType":1,"onchainMirror":false,"durationSecs":"0","amount":"100","minAmount":"2","maxAmount":"2"}));
        let dynamic = dynamic_credits_config(Uint256::from(100), Uint256::from(1), Uint256::from(5));
        assert!(!dynamic.is_redemption_amount_fixed);
        let week = expirable_duration_config(Uint256::from(604_800));
        assert_eq!((week.duration_secs.as_str(), AccessLimit::implied_by(&week)), ("604800", AccessLimit::Time));
        assert_eq!(AccessLimit::implied_by(&dynamic), AccessLimit::Credits);
        assert_eq!(non_expirable_duration_config().duration_secs.as_str(), "0");
    }
}
