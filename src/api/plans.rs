//! Plans: registration (credits, time, trial), lookup, balance, ordering
//! (crypto and fiat), and the price/credits configuration helpers that build
//! registration bodies as the official SDKs do.
//!
//! The client reads and writes these as JSON values; the wire shapes are
//! described once in the `nvm-x402-types` crate (`types/src/plans.rs`).

use super::x402::normalize_balance;
use super::{parse_any, query, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::json::{self, Object, ObjectBuilder};
use crate::protocol::json::{Map, Value};
use crate::protocol::url::encode_segment;
use crate::protocol::{ClientConfig, Uint256};
use crate::transport::HttpResponse;

/// The zero address (native token, unused contract slots).
pub const ZERO_ADDRESS: &str = "0x0000000000000000000000000000000000000000";

/// The EURC (euro stablecoin) token on Base mainnet, the default of `getEURCPriceConfig` (as in both official SDKs).
pub const EURC_TOKEN_ADDRESS: &str = "0x60a3E35Cc302bFA44Cb288Bc5a4F316Fdb1adb42";

/// Who may redeem (burn) a plan's credits. Numbers as on chain (3 is unused).
pub mod redemption {
    /// Only an account with the global burner role (the Nevermined proxy).
    pub const ONLY_GLOBAL_ROLE: u8 = 0;
    /// Only the plan's owner (the agent).
    pub const ONLY_OWNER: u8 = 1;
    /// Accounts granted a role on the plan.
    pub const ONLY_PLAN_ROLE: u8 = 2;
    /// Only the subscriber holding the credits (through the delegation): what
    /// both official SDKs' credits and duration helpers send, and the default.
    pub const ONLY_SUBSCRIBER: u8 = 4;
    /// Every value the backend knows.
    pub const ALL: [u8; 4] = [
        ONLY_GLOBAL_ROLE,
        ONLY_OWNER,
        ONLY_PLAN_ROLE,
        ONLY_SUBSCRIBER,
    ];
}

/// What limits access to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize)
)]
#[cfg_attr(any(test, feature = "serde"), serde(rename_all = "lowercase"))]
pub enum AccessLimit {
    /// A number of credits.
    Credits,
    /// A period of time.
    Time,
}

impl AccessLimit {
    /// `"credits"` or `"time"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLimit::Credits => "credits",
            AccessLimit::Time => "time",
        }
    }

    /// Parses `"credits"` / `"time"`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "credits" => Ok(AccessLimit::Credits),
            "time" => Ok(AccessLimit::Time),
            other => Err(Error::validation(format!(
                "accessLimit must be \"credits\" or \"time\", got \"{other}\""
            ))),
        }
    }

    /// What a (normalised) credits config implies when no limit is named: time when it has a duration.
    pub fn implied_by(credits: &Value) -> Self {
        match credits.get("durationSecs").and_then(Value::as_str) {
            Some(d) if d != "0" => AccessLimit::Time,
            _ => AccessLimit::Credits,
        }
    }
}

/// `0x` + 40 hex digits (the official SDKs' `isEthereumAddress`).
pub fn is_ethereum_address(address: &str) -> bool {
    address.len() == 42
        && address.starts_with("0x")
        && address.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
}

/// Checks an Ethereum address (`0x` + 40 hex digits). The error shows the
/// value only when it is no longer than an address: a longer one may be a
/// secret passed in the wrong argument (an API key, a token), so it is redacted.
pub fn check_address(what: &str, address: &str) -> Result<()> {
    if is_ethereum_address(address) {
        return Ok(());
    }
    Err(Error::validation(format!(
        "{what} {} is not a valid Ethereum address",
        crate::protocol::redact::quote_input(address)
    )))
}

// ---- configuration helpers (getFreePriceConfig, getFixedCreditsConfig, ...) ----

fn price(
    amounts: Vec<Value>,
    receivers: Vec<Value>,
    token_address: &str,
    is_crypto: bool,
) -> Value {
    ObjectBuilder::new()
        .put("tokenAddress", token_address)
        .put("amounts", amounts)
        .put("receivers", receivers)
        .put("contractAddress", ZERO_ADDRESS)
        .put("feeController", ZERO_ADDRESS)
        .put("externalPriceAddress", ZERO_ADDRESS)
        .put("templateAddress", ZERO_ADDRESS)
        .put("isCrypto", is_crypto)
        .build()
}

/// A free plan: no amounts, no receivers, `isCrypto: true`.
pub fn free_price_config() -> Value {
    price(vec![], vec![], ZERO_ADDRESS, true)
}

/// A crypto price in `token_address` (zero address: the native token).
pub fn crypto_price_config(
    amount: Uint256,
    receiver: &str,
    token_address: Option<&str>,
) -> Result<Value> {
    check_address("Receiver address", receiver)?;
    let token = token_address
        .filter(|t| !t.is_empty())
        .unwrap_or(ZERO_ADDRESS);
    check_address("Token address", token)?;
    Ok(price(
        vec![amount.into()],
        vec![receiver.into()],
        token,
        true,
    ))
}

/// A fiat price in `currency` (an ISO 4217 code, default `USD`; 6-decimal
/// units: `1000000` = 1.00, the minimum), as both official SDKs build it.
pub fn fiat_price_config(amount: Uint256, receiver: &str, currency: Option<&str>) -> Result<Value> {
    check_address("Receiver address", receiver)?;
    let currency = currency
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("USD");
    Ok(with_currency(
        price(
            vec![amount.into()],
            vec![receiver.into()],
            ZERO_ADDRESS,
            false,
        ),
        currency,
    ))
}

/// A price in EURC (6 decimals: `29000000` = €29.00), at `token_address` (default: EURC on Base).
pub fn eurc_price_config(
    amount: Uint256,
    receiver: &str,
    token_address: Option<&str>,
) -> Result<Value> {
    let token = token_address
        .filter(|t| !t.is_empty())
        .unwrap_or(EURC_TOKEN_ADDRESS);
    Ok(with_currency(
        crypto_price_config(amount, receiver, Some(token))?,
        "EURC",
    ))
}

/// A pay-as-you-go price: `amount` charged on every request (no credits are
/// minted), in `token_address` (default: the native token), under the
/// `PayAsYouGoTemplate` contract at `template_address` (the deployment's: see
/// `contracts.getPayAsYouGoTemplateAddress`). As the official SDK: the
/// receiver is checked first, then a missing template is an error.
pub fn payg_price_config(
    amount: Uint256,
    receiver: &str,
    token_address: Option<&str>,
    template_address: Option<&str>,
) -> Result<Value> {
    with_payg_template(
        crypto_price_config(amount, receiver, token_address)?,
        template_address,
    )
}

/// A crypto price made pay-as-you-go: `template` is required (and must be an address).
pub fn with_payg_template(mut price: Value, template: Option<&str>) -> Result<Value> {
    let template = template.filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::validation("templateAddress is required. Use ContractsAPI.getPayAsYouGoTemplateAddress() or Payments.plans.getPayAsYouGoPriceConfig()")
    })?;
    check_address("Template address", template)?;
    if let Some(o) = price.as_object_mut() {
        o.insert("templateAddress".into(), Value::from(template));
    }
    Ok(price)
}

fn with_currency(mut price: Value, currency: &str) -> Value {
    if let Some(o) = price.as_object_mut() {
        o.insert("currency".into(), Value::from(currency));
    }
    price
}

fn credits(fixed: bool, duration: Uint256, amount: Uint256, min: Uint256, max: Uint256) -> Value {
    ObjectBuilder::new()
        .put("isRedemptionAmountFixed", fixed)
        .put("redemptionType", redemption::ONLY_SUBSCRIBER)
        .put("onchainMirror", false)
        .put("durationSecs", duration)
        .put("amount", amount)
        .put("minAmount", min)
        .put("maxAmount", max)
        .build()
}

/// `granted` credits, `per_request` each request.
pub fn fixed_credits_config(granted: Uint256, per_request: Uint256) -> Value {
    credits(
        true,
        Uint256::from(0),
        granted,
        per_request.clone(),
        per_request,
    )
}

/// `granted` credits, between `min` and `max` each request.
pub fn dynamic_credits_config(granted: Uint256, min: Uint256, max: Uint256) -> Value {
    credits(false, Uint256::from(0), granted, min, max)
}

/// Access for `duration_secs` seconds.
pub fn expirable_duration_config(duration_secs: Uint256) -> Value {
    credits(
        false,
        duration_secs,
        Uint256::from(1),
        Uint256::from(1),
        Uint256::from(1),
    )
}

/// Access that never expires (also the official's pay-as-you-go credits config).
pub fn non_expirable_duration_config() -> Value {
    expirable_duration_config(Uint256::from(0))
}

// ---- registration ----------------------------------------------------------

/// Checks a plan's `metadataAttributes` (a name is required) and returns it
/// with `isTrialPlan` set when `trial`.
pub fn normalize_plan_metadata(metadata: &Value, trial: bool, what: &str) -> Result<Object> {
    let mut out = json::object(metadata, what)?.clone();
    if json::opt_str(&out, "name", what)?.is_none_or(|n| n.trim().is_empty()) {
        return Err(Error::validation(format!("{what}.name is required")));
    }
    if trial {
        out.insert("isTrialPlan".into(), Value::Bool(true));
    }
    Ok(out)
}

/// Checks a `priceConfig` and writes it in wire order: amounts as decimal
/// strings, one valid receiver per amount, missing addresses the zero address.
pub fn normalize_price_config(price: &Value) -> Result<Value> {
    const WHAT: &str = "priceConfig";
    let o = json::object(price, WHAT)?;
    let list = |key: &str| match o.get(key) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(Error::validation(format!("{WHAT}.{key} must be a list"))),
    };
    let mut amounts = Vec::new();
    for a in list("amounts")? {
        amounts
            .push(Value::from(Uint256::from_json(&a).map_err(|e| {
                Error::validation(format!("{WHAT}.amounts: {e}"))
            })?));
    }
    let receivers = list("receivers")?;
    if amounts.len() != receivers.len() {
        return Err(Error::validation(
            "priceConfig.amounts and priceConfig.receivers must have the same length",
        ));
    }
    for r in &receivers {
        check_address("Receiver address", r.as_str().unwrap_or(""))?;
    }
    let address = |key: &str| -> Result<String> {
        let a = json::opt_str(o, key, WHAT)?.unwrap_or(ZERO_ADDRESS);
        check_address(&format!("{WHAT}.{key}"), a)?;
        Ok(a.to_owned())
    };
    Ok(ObjectBuilder::new()
        .put("tokenAddress", address("tokenAddress")?)
        .put("amounts", amounts)
        .put("receivers", receivers)
        .put("contractAddress", address("contractAddress")?)
        .put("feeController", address("feeController")?)
        .put("externalPriceAddress", address("externalPriceAddress")?)
        .put("templateAddress", address("templateAddress")?)
        .put(
            "isCrypto",
            json::opt_bool(o, "isCrypto", WHAT)?.unwrap_or(true),
        )
        .rest(o)
        .build())
}

/// Checks a `creditsConfig` and writes it in wire order with its numbers as
/// decimal strings. A credits plan must grant at least one credit and have
/// `minAmount <= maxAmount`.
pub fn normalize_credits_config(
    credits: &Value,
    access_limit: Option<AccessLimit>,
) -> Result<Value> {
    const WHAT: &str = "creditsConfig";
    let o = json::object(credits, WHAT)?;
    let uint =
        |key: &str, default: u64| -> Result<Uint256> {
            Ok(crate::protocol::uint::opt_uint(o, key, WHAT)?
                .unwrap_or_else(|| Uint256::from(default)))
        };
    let (amount, min, max) = (
        uint("amount", 0)?,
        uint("minAmount", 1)?,
        uint("maxAmount", 1)?,
    );
    let redemption_type = match o.get("redemptionType") {
        None | Some(Value::Null) => redemption::ONLY_SUBSCRIBER,
        Some(v) => v
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| redemption::ALL.contains(n))
            .ok_or_else(|| {
                Error::validation("creditsConfig.redemptionType must be 0, 1, 2 or 4")
            })?,
    };
    let out = ObjectBuilder::new()
        .put(
            "isRedemptionAmountFixed",
            json::opt_bool(o, "isRedemptionAmountFixed", WHAT)?.unwrap_or(false),
        )
        .put("redemptionType", redemption_type)
        .put(
            "onchainMirror",
            json::opt_bool(o, "onchainMirror", WHAT)?.unwrap_or(false),
        )
        .put("durationSecs", uint("durationSecs", 0)?)
        .put("amount", amount.clone())
        .put("minAmount", min.clone())
        .put("maxAmount", max.clone())
        .rest(o)
        .build();
    if access_limit.unwrap_or_else(|| AccessLimit::implied_by(&out)) == AccessLimit::Credits {
        if amount.is_zero() {
            return Err(Error::validation(
                "creditsConfig.amount (credits granted) must be at least 1",
            ));
        }
        if min > max {
            return Err(Error::validation(
                "The creditsConfig.minAmount can not be more than creditsConfig.maxAmount",
            ));
        }
    }
    Ok(out)
}

/// Builds the registration call (`POST api/v1/protocol/plans`) after checking
/// the configs; `access_limit` defaults to what the credits config implies.
pub fn register_plan(
    cfg: &ClientConfig,
    metadata: &Value,
    price: &Value,
    credits: &Value,
    access_limit: Option<AccessLimit>,
    trial: bool,
    nonce: Uint256,
) -> Result<Call<Value>> {
    let metadata = normalize_plan_metadata(metadata, trial, "planMetadata")?;
    let is_trial = metadata
        .get("isTrialPlan")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let price = normalize_price_config(price)?;
    let credits = normalize_credits_config(credits, access_limit)?;
    let limit = access_limit.unwrap_or_else(|| AccessLimit::implied_by(&credits));
    // Both official SDKs repeat the price's currency at the top level.
    let currency = price
        .get("currency")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let body = ObjectBuilder::new()
        .put("metadataAttributes", Value::Object(metadata))
        .put("priceConfig", price)
        .put("creditsConfig", credits)
        .put("nonce", nonce)
        .put("isTrialPlan", is_trial)
        .put("accessLimit", limit.as_str())
        .put_opt("currency", currency)
        .build();
    Ok(Call {
        request: super::build_request(
            cfg,
            "POST",
            "api/v1/protocol/plans",
            Auth::Bearer,
            Some(&body),
        )?,
        parse: parse_plan_id,
    })
}

fn parse_plan_id(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let v = parse_any(response)?;
    match v
        .get("planId")
        .or_else(|| json::at(&v, &["data", "planId"]))
        .and_then(json::id_value)
    {
        Some(id) if !id.is_empty() => Ok(ObjectBuilder::new().put("planId", id).build()),
        _ => Err(Error::InvalidResponse {
            status,
            message: "The backend's answer has no planId".into(),
        }),
    }
}

// ---- calls -----------------------------------------------------------------

fn plan_path(plan_id: &str) -> Result<String> {
    let plan_id = plan_id.trim();
    if plan_id.is_empty() {
        return Err(Error::validation("planId is required"));
    }
    Ok(format!("api/v1/protocol/plans/{}", encode_segment(plan_id)))
}

/// `GET api/v1/protocol/plans/:planId` (public).
pub fn get_plan(cfg: &ClientConfig, plan_id: &str) -> Result<Call<Value>> {
    Ok(Call {
        request: super::build_request(cfg, "GET", &plan_path(plan_id)?, Auth::Public, None)?,
        parse: parse_any,
    })
}

/// `GET api/v1/protocol/plans?page&offset&sortBy&sortOrder[&orgId]`: the
/// caller's plans (with `orgId`, every plan of that organization).
/// `options`: `{page?, offset?, sortBy?, sortOrder?, orgId?}` or `null`.
pub fn get_plans(cfg: &ClientConfig, options: &Value) -> Result<Call<Value>> {
    own_list(cfg, "api/v1/protocol/plans", options)
}

/// The caller's own plans or agents (`path`), one page: the TS SDK's query
/// (`page`, `offset` the page size, default 1 and 100; `sortBy` default
/// `created`; `sortOrder` default `desc`; `orgId` only when given), authenticated.
pub(crate) fn own_list(cfg: &ClientConfig, path: &str, options: &Value) -> Result<Call<Value>> {
    let path = format!("{path}{}", list_query(options, "options", true)?);
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Bearer, None)?,
        parse: parse_any,
    })
}

/// The query of the public paginated lists (`getAgentPlans`,
/// `getAgentsAssociatedToAPlan`): the TS SDK's (`PaginationOptions.asQueryParams`:
/// `sortBy` when given, `sortOrder` default `desc`, `page` default 1, and
/// `offset`, default 10, travelling as `pageSize`); payments-py sends `page`
/// and `offset` instead, and where the two official SDKs disagree we follow
/// the TS one. `pagination`: `{page?, offset?, sortBy?, sortOrder?}` or `null`.
pub(crate) fn page_query(pagination: &Value) -> Result<String> {
    list_query(pagination, "pagination", false)
}

/// A list's query string from `{page?, offset?, sortBy?, sortOrder?, orgId?}`
/// (`what` names it in errors): the caller's own list (`own`, see
/// [`own_list`]) or a public one (see [`page_query`]), in the TS SDK's order.
fn list_query(options: &Value, what: &str, own: bool) -> Result<String> {
    let empty = Map::new();
    let o = json::opt_object(Some(options), what)?.unwrap_or(&empty);
    let count = |key: &str, default: u64| -> Result<Option<String>> {
        let n = crate::protocol::uint::opt_count(o, key, what)?;
        Ok(Some(
            n.filter(|n| own || *n > 0).unwrap_or(default).to_string(),
        ))
    };
    let (page, size) = (
        count("page", 1)?,
        count("offset", if own { 100 } else { 10 })?,
    );
    let sort_by = json::opt_str(o, "sortBy", what)?
        .or(own.then_some("created"))
        .map(str::to_owned);
    let order = match json::opt_str(o, "sortOrder", what)?.unwrap_or("desc") {
        order @ ("asc" | "desc") => Some(order.to_owned()),
        _ => return Err(Error::validation("sortOrder must be \"asc\" or \"desc\"")),
    };
    Ok(if own {
        let org = json::opt_id(o, "orgId", what)?;
        query(&[
            ("page", page),
            ("offset", size),
            ("sortBy", sort_by),
            ("sortOrder", order),
            ("orgId", org),
        ])
    } else {
        query(&[
            ("sortBy", sort_by),
            ("sortOrder", order),
            ("page", page),
            ("pageSize", size),
        ])
    })
}

/// `GET api/v1/protocol/plans/:planId/agents?sortBy&sortOrder&page&pageSize`
/// (public): the agents a plan gives access to, one page (see [`page_query`]).
pub fn get_agents_associated_to_a_plan(
    cfg: &ClientConfig,
    plan_id: &str,
    pagination: &Value,
) -> Result<Call<Value>> {
    let path = format!("{}/agents{}", plan_path(plan_id)?, page_query(pagination)?);
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Public, None)?,
        parse: parse_any,
    })
}

/// `GET api/v1/protocol/plans/:planId/balance/:holder` (public), with
/// `balance` a decimal string and `isSubscriber` a boolean.
pub fn get_plan_balance(cfg: &ClientConfig, plan_id: &str, holder: &str) -> Result<Call<Value>> {
    let holder = holder.trim();
    if holder.is_empty() {
        return Err(Error::validation(
            "holder address is required (the API key has no sub claim)",
        ));
    }
    let path = format!("{}/balance/{}", plan_path(plan_id)?, encode_segment(holder));
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Public, None)?,
        parse: parse_balance,
    })
}

fn parse_balance(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let mut v = parse_any(response)?;
    if !v.is_object() {
        return Err(Error::InvalidResponse {
            status,
            message: "The backend's answer is not a balance".into(),
        });
    }
    normalize_balance(&mut v);
    Ok(v)
}

/// `POST api/v1/protocol/plans/:planId/order` (no body): `{success, txHash?, message?}`.
pub fn order_plan(cfg: &ClientConfig, plan_id: &str) -> Result<Call<Value>> {
    let path = format!("{}/order", plan_path(plan_id)?);
    Ok(Call {
        request: super::build_request(cfg, "POST", &path, Auth::Bearer, None)?,
        parse: parse_any,
    })
}

/// `POST api/v1/fiat/stripe/payment` `{sessionType: "embedded", planId}`: a checkout link.
pub fn order_fiat_plan(cfg: &ClientConfig, plan_id: &str) -> Result<Call<Value>> {
    let plan_id = plan_id.trim();
    if plan_id.is_empty() {
        return Err(Error::validation("planId is required"));
    }
    let body = ObjectBuilder::new()
        .put("sessionType", "embedded")
        .put("planId", plan_id)
        .build();
    Ok(Call {
        request: super::build_request(
            cfg,
            "POST",
            "api/v1/fiat/stripe/payment",
            Auth::Bearer,
            Some(&body),
        )?,
        parse: parse_any,
    })
}

/// Tokens whose amounts are in 6-decimal units, so a price in them is read in
/// cents: USDC and EURC on Base and Base Sepolia. Any other token's decimals
/// are unknown here (a plan's own `currency` is not trusted for that: a plan
/// could name `USDC` over an 18-decimal token).
#[cfg(feature = "subscriber")]
const SIX_DECIMAL_TOKENS: [&str; 4] = [
    "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    EURC_TOKEN_ADDRESS,
    "0x808456652fdb597867f38412077A9182bf77359F",
];

/// How a plan charges a request, as its `getPlan` view says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// Credits, bought by orders: `registry.price.templateAddress` is the zero address.
    Credits,
    /// Pay-as-you-go (any other template, `getPayAsYouGoPriceConfig`'s): each
    /// request is one charge of the price, here in cents rounded up (`None`:
    /// in a token whose decimals are unknown, or amounts that aren't integers
    /// within 2^64 in all).
    PayAsYouGo(Option<u64>),
    /// The view names no template.
    Unknown,
}

impl Billing {
    /// Reads a `getPlan` answer. Fiat amounts and those of
    /// [`SIX_DECIMAL_TOKENS`] are 6-decimal units (10 000 a cent).
    #[cfg(feature = "subscriber")]
    pub fn of_plan(plan: &Value) -> Billing {
        let price = json::at(plan, &["registry", "price"]);
        let text = |k: &str| price.and_then(|p| p.get(k)).and_then(Value::as_str);
        match text("templateAddress") {
            None => Billing::Unknown,
            Some(t) if t.eq_ignore_ascii_case(ZERO_ADDRESS) => Billing::Credits,
            Some(_) => {
                let fiat = price
                    .and_then(|p| p.get("isCrypto"))
                    .and_then(Value::as_bool)
                    == Some(false);
                let known = text("tokenAddress")
                    .is_some_and(|t| SIX_DECIMAL_TOKENS.iter().any(|k| k.eq_ignore_ascii_case(t)));
                let mut units: Option<u64> = (fiat || known).then_some(0);
                for a in json::items(price.and_then(|p| p.get("amounts"))) {
                    // Within u64 (more is no price a cap in cents allows); else unknown.
                    let n = Uint256::from_json(a)
                        .ok()
                        .and_then(|n| n.as_str().parse::<u64>().ok());
                    units = units.zip(n).and_then(|(u, n)| u.checked_add(n));
                }
                Billing::PayAsYouGo(units.map(|u| u.div_ceil(10_000)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    const RECEIVER: &str = "0x1234567890abcdef1234567890ABCDEF12345678";

    #[test]
    fn price_helpers_match_the_official_shapes() {
        let free = free_price_config().to_string();
        assert_eq!(
            free,
            r#"{"tokenAddress":"0x0000000000000000000000000000000000000000","amounts":[],"receivers":[],"contractAddress":"0x0000000000000000000000000000000000000000","feeController":"0x0000000000000000000000000000000000000000","externalPriceAddress":"0x0000000000000000000000000000000000000000","templateAddress":"0x0000000000000000000000000000000000000000","isCrypto":true}"#
        );
        let fiat = fiat_price_config(Uint256::from(1_000_000), RECEIVER, None).unwrap();
        assert_eq!(
            (
                fiat["isCrypto"].as_bool(),
                fiat["amounts"][0].as_str(),
                fiat["currency"].as_str()
            ),
            (Some(false), Some("1000000"), Some("USD"))
        );
        let eur = fiat_price_config(Uint256::from(3_000_000), RECEIVER, Some("EUR")).unwrap();
        assert_eq!(
            eur["currency"], "EUR",
            "the currency is no longer ignored (#10)"
        );
        let eurc = eurc_price_config(Uint256::from(29_000_000), RECEIVER, None).unwrap();
        assert_eq!(
            (
                eurc["tokenAddress"].as_str(),
                eurc["currency"].as_str(),
                eurc["isCrypto"].as_bool()
            ),
            (Some(EURC_TOKEN_ADDRESS), Some("EURC"), Some(true))
        );
        let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
        let erc20 = crypto_price_config(Uint256::from(5), RECEIVER, Some(usdc)).unwrap();
        assert_eq!(
            (erc20["tokenAddress"].as_str(), erc20["isCrypto"].as_bool()),
            (Some(usdc), Some(true))
        );
        assert!(crypto_price_config(Uint256::from(5), "0x123", None)
            .unwrap_err()
            .to_string()
            .contains("not a valid Ethereum address"));
        assert!(crypto_price_config(Uint256::from(5), RECEIVER, Some("usdc")).is_err());
        let key = "sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweDEyMyJ9.c2lnbmF0dXJlLXNlY3JldA";
        let shown = crypto_price_config(Uint256::from(5), key, None)
            .unwrap_err()
            .to_string();
        assert!(!shown.contains("eyJzdWIiOiIweDEyMyJ9"), "{shown}");
        assert!(
            shown.contains(&crate::protocol::redact::redact(key)),
            "{shown}"
        );
    }

    #[test]
    fn the_pay_as_you_go_price_needs_a_template_and_checks_the_receiver_first() {
        let template = "0x5e852077b30099106Aa65B4d329FFF9b5C9a8e7C";
        let e = payg_price_config(Uint256::from(100), RECEIVER, None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "templateAddress is required. Use ContractsAPI.getPayAsYouGoTemplateAddress() or Payments.plans.getPayAsYouGoPriceConfig()"
        );
        let e = payg_price_config(Uint256::from(100), "0x12", None, Some(template)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Receiver address \"0x12\" is not a valid Ethereum address"
        );
        assert!(payg_price_config(Uint256::from(100), "0x12", None, None)
            .unwrap_err()
            .to_string()
            .starts_with("Receiver address"));
        assert!(payg_price_config(Uint256::from(1), RECEIVER, None, Some("0xnope")).is_err());
        let price = payg_price_config(Uint256::from(100), RECEIVER, None, Some(template)).unwrap();
        let mut expected = crypto_price_config(Uint256::from(100), RECEIVER, None).unwrap();
        expected["templateAddress"] = Value::from(template);
        assert_eq!(price, expected);
        assert_eq!(
            (price["isCrypto"].as_bool(), price["tokenAddress"].as_str()),
            (Some(true), Some(ZERO_ADDRESS))
        );
        let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
        let price =
            payg_price_config(Uint256::from(7), RECEIVER, Some(usdc), Some(template)).unwrap();
        assert_eq!(price["tokenAddress"], usdc);
    }

    #[test]
    fn credits_helpers_match_the_official_shapes() {
        let fixed = fixed_credits_config(Uint256::from(100), Uint256::from(2));
        assert_eq!(
            fixed,
            // redemptionType 4 (ONLY_SUBSCRIBER): what payments-py's and the TS SDK's helpers send (#10).
            json!({"isRedemptionAmountFixed":true,"redemptionType":4,"onchainMirror":false,"durationSecs":"0","amount":"100","minAmount":"2","maxAmount":"2"})
        );
        let dynamic =
            dynamic_credits_config(Uint256::from(100), Uint256::from(1), Uint256::from(5));
        assert_eq!(dynamic["isRedemptionAmountFixed"], false);
        let week = expirable_duration_config(Uint256::from(604_800));
        assert_eq!(
            (
                week["durationSecs"].as_str(),
                AccessLimit::implied_by(&week)
            ),
            (Some("604800"), AccessLimit::Time)
        );
        assert_eq!(AccessLimit::implied_by(&dynamic), AccessLimit::Credits);
        assert_eq!(non_expirable_duration_config()["durationSecs"], "0");
    }

    #[test]
    fn configs_copied_from_either_official_sdk_are_accepted() {
        // Both SDKs' helpers send redemptionType 4 (ONLY_SUBSCRIBER); it used to be refused (#10).
        for (given, sent) in [
            (json!(4), 4),
            (json!(0), 0),
            (json!(1), 1),
            (json!(2), 2),
            (json!(null), 4),
        ] {
            let credits = json!({"amount": "10", "redemptionType": given});
            let out = normalize_credits_config(&credits, Some(AccessLimit::Credits)).unwrap();
            assert_eq!(out["redemptionType"], sent, "{given}");
        }
        for bad in [json!(3), json!(5), json!(-1), json!("4")] {
            let credits = json!({"amount": "10", "redemptionType": bad});
            let err = normalize_credits_config(&credits, Some(AccessLimit::Credits)).unwrap_err();
            assert!(err.to_string().contains("0, 1, 2 or 4"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_fiat_plan_carries_its_currency_at_both_levels() {
        let cfg = crate::protocol::ClientConfig::from_options(&crate::protocol::PaymentsOptions {
            nvm_api_key: Some("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
            ..Default::default()
        })
        .unwrap();
        let price = fiat_price_config(Uint256::from(3_000_000), RECEIVER, Some("EUR")).unwrap();
        let credits = fixed_credits_config(Uint256::from(20), Uint256::from(1));
        let call = register_plan(
            &cfg,
            &json!({"name": "EUR"}),
            &price,
            &credits,
            None,
            false,
            Uint256::from(7),
        )
        .unwrap();
        let body = crate::protocol::json::parse(call.request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            (
                body["priceConfig"]["currency"].as_str(),
                body["currency"].as_str()
            ),
            (Some("EUR"), Some("EUR"))
        );
        let crypto = crypto_price_config(Uint256::from(5), RECEIVER, None).unwrap();
        let call = register_plan(
            &cfg,
            &json!({"name": "C"}),
            &crypto,
            &credits,
            None,
            false,
            Uint256::from(7),
        )
        .unwrap();
        let body = crate::protocol::json::parse(call.request.body.as_deref().unwrap()).unwrap();
        assert!(body.get("currency").is_none(), "no currency, no key");
    }

    #[test]
    fn user_configs_are_normalised_and_checked() {
        // Official-SDK style input: bigints arrive as strings or numbers, extra fields are kept.
        let price = json!({"amounts": [1000000], "receivers": [RECEIVER], "isCrypto": false, "tokenAddress": "0x0000000000000000000000000000000000000000", "extraField": 1});
        let p = normalize_price_config(&price).unwrap();
        assert_eq!(
            (
                p["amounts"][0].as_str(),
                p["extraField"].as_u64(),
                p["feeController"].as_str()
            ),
            (Some("1000000"), Some(1), Some(ZERO_ADDRESS))
        );
        assert!(normalize_price_config(&json!({"amounts": [1], "receivers": []})).is_err());
        assert!(normalize_price_config(&json!({"amounts": [1], "receivers": ["nope"]})).is_err());
        let credits = json!({"amount": "10", "minAmount": 2, "maxAmount": 1});
        assert!(
            normalize_credits_config(&credits, Some(AccessLimit::Credits))
                .unwrap_err()
                .to_string()
                .contains("minAmount")
        );
        assert!(normalize_credits_config(&json!({"amount": 0}), None)
            .unwrap_err()
            .to_string()
            .contains("at least 1"));
        assert!(
            normalize_credits_config(&json!({"durationSecs": 60}), Some(AccessLimit::Time)).is_ok()
        );
        assert!(normalize_plan_metadata(&json!({"name": " "}), false, "planMetadata").is_err());
        assert_eq!(
            normalize_plan_metadata(&json!({"name": "P"}), true, "planMetadata").unwrap()
                ["isTrialPlan"],
            true
        );
    }
}
