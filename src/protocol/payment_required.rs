//! PaymentRequired — what a 402 carries — and its entries. Nevermined entries
//! carry `planId`; standard x402 entries carry `amount/asset/payTo/...`; both
//! decode, and fields we don't model are kept as raw JSON so they round-trip.

use super::environment::NETWORK_BASE_SEPOLIA;
use super::json::{self, ObjectBuilder};
use super::SCHEME_ERC4337;
use crate::error::{Error, Result};
use crate::protocol::json::{Map, Value};

/// The x402 protocol version this crate speaks.
pub const X402_VERSION: u32 = 2;

/// Options of [`build_payment_required`] (JS: `buildPaymentRequired(planId, options)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// `resource.url` (default `""`).
    pub endpoint: Option<String>,
    /// `extra.agentId`.
    pub agent_id: Option<String>,
    /// `extra.httpVerb` (upper-cased).
    pub http_verb: Option<String>,
    /// Default `eip155:84532` for `nvm:erc4337`, `stripe` for `nvm:card-delegation`.
    pub network: Option<String>,
    /// `resource.description`.
    pub description: Option<String>,
    /// `resource.mimeType`.
    pub mime_type: Option<String>,
    /// Default `nvm:erc4337`.
    pub scheme: Option<String>,
}

impl BuildOptions {
    /// Reads `{endpoint?, agentId?, httpVerb?, network?, description?, mimeType?, scheme?}`; `null` is "no options".
    pub fn from_json(v: &Value) -> Result<Self> {
        let Some(o) = json::opt_object(Some(v), "options")? else {
            return Ok(BuildOptions::default());
        };
        // Every field is checked (in this order) before any is copied: an
        // early return then has nothing to drop, which keeps the .wasm small.
        let text = |key: &str| json::opt_str(o, key, "options");
        let endpoint = text("endpoint")?;
        let agent_id = json::opt_id(o, "agentId", "options")?;
        let http_verb = text("httpVerb")?;
        let network = text("network")?;
        let description = text("description")?;
        let mime_type = text("mimeType")?;
        let scheme = text("scheme")?;
        let owned = |s: Option<&str>| s.map(str::to_owned);
        Ok(BuildOptions {
            endpoint: owned(endpoint),
            agent_id,
            http_verb: owned(http_verb),
            network: owned(network),
            description: owned(description),
            mime_type: owned(mime_type),
            scheme: owned(scheme),
        })
    }
}

/// Builds the PaymentRequired for one plan, as JSON in wire order.
///
/// ```
/// use nvm_x402::protocol::{build_payment_required, BuildOptions};
/// let pr = build_payment_required("123", &BuildOptions { endpoint: Some("/x".into()), ..Default::default() }).unwrap();
/// assert_eq!(pr.to_string(),
///   r#"{"x402Version":2,"resource":{"url":"/x"},"accepts":[{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"version":"1"}}],"extensions":{}}"#);
/// ```
pub fn build_payment_required(plan_id: &str, options: &BuildOptions) -> Result<Value> {
    build_payment_required_for_plans(&[plan_id], options)
}

/// Builds a PaymentRequired with one `accepts` entry per plan, in order (no
/// plan: one entry with an empty `planId`, which offers nothing payable).
pub fn build_payment_required_for_plans<S: AsRef<str>>(
    plan_ids: &[S],
    options: &BuildOptions,
) -> Result<Value> {
    // One body for every `S` (the .wasm would hold a copy per type).
    for_plans(&mut plan_ids.iter().map(AsRef::as_ref), options)
}

fn for_plans(
    plan_ids: &mut dyn ExactSizeIterator<Item = &str>,
    options: &BuildOptions,
) -> Result<Value> {
    // No plan at all: one entry whose planId is "" (as the official SDK). It
    // offers nothing payable: no backend has a plan "", and the paying client
    // skips such an entry.
    let none = plan_ids.len() == 0;
    let nonempty = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let scheme = nonempty(&options.scheme).unwrap_or_else(|| SCHEME_ERC4337.to_owned());
    let network = nonempty(&options.network).unwrap_or_else(|| {
        if scheme == super::SCHEME_CARD_DELEGATION {
            "stripe"
        } else {
            NETWORK_BASE_SEPOLIA
        }
        .to_owned()
    });
    let extra = ObjectBuilder::new()
        .put("version", "1")
        .put_opt("agentId", nonempty(&options.agent_id))
        .put_opt(
            "httpVerb",
            nonempty(&options.http_verb).map(|v| v.to_ascii_uppercase()),
        )
        .build();
    let mut accepts = Vec::with_capacity(plan_ids.len() + 1);
    for plan_id in plan_ids.chain(none.then_some("")) {
        let plan_id = plan_id.trim();
        if plan_id.is_empty() && !none {
            return Err(Error::validation("planId must not be empty"));
        }
        accepts.push(
            ObjectBuilder::new()
                .put("scheme", scheme.as_str())
                .put("network", network.as_str())
                .put("planId", plan_id)
                .put("extra", extra.clone())
                .build(),
        );
    }
    let resource = ObjectBuilder::new()
        .put("url", options.endpoint.clone().unwrap_or_default())
        .put_opt("description", options.description.clone())
        .put_opt("mimeType", options.mime_type.clone())
        .build();
    Ok(ObjectBuilder::new()
        .put("x402Version", X402_VERSION)
        .put("resource", resource)
        .put("accepts", accepts)
        .put("extensions", Value::Object(Map::new()))
        .build())
}

/// Checks a PaymentRequired received from a caller or an agent: an object
/// with `x402Version: 2`, a `resource` object and an `accepts` list.
pub fn check_payment_required(v: &Value) -> Result<&json::Object> {
    let o = json::object(v, "paymentRequired")?;
    match o.get("x402Version").and_then(Value::as_u64) {
        Some(2) => {}
        Some(other) => {
            return Err(Error::validation(format!(
                "unsupported x402Version {other} (expected 2)"
            )))
        }
        None => return Err(Error::validation("paymentRequired.x402Version must be 2")),
    }
    if !o.get("accepts").is_some_and(Value::is_array) {
        return Err(Error::validation("paymentRequired.accepts must be a list"));
    }
    if !o.get("resource").is_some_and(Value::is_object) {
        return Err(Error::validation(
            "paymentRequired.resource must be an object",
        ));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn builds_the_full_form_with_absent_fields_omitted() {
        let pr = build_payment_required_for_plans(
            &["1", "2"],
            &BuildOptions {
                endpoint: Some("https://agent.example/tasks".into()),
                agent_id: Some("agent-9".into()),
                http_verb: Some("post".into()),
                description: Some("Tasks".into()),
                mime_type: Some("application/json".into()),
                scheme: Some("nvm:card-delegation".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            pr,
            json!({"x402Version":2,"resource":{"url":"https://agent.example/tasks","description":"Tasks","mimeType":"application/json"},
                   "accepts":[{"scheme":"nvm:card-delegation","network":"stripe","planId":"1","extra":{"version":"1","agentId":"agent-9","httpVerb":"POST"}},
                              {"scheme":"nvm:card-delegation","network":"stripe","planId":"2","extra":{"version":"1","agentId":"agent-9","httpVerb":"POST"}}],
                   "extensions":{}})
        );
        assert!(check_payment_required(&pr).is_ok());
        assert!(
            check_payment_required(&json!({"x402Version": 1, "accepts": [], "resource": {}}))
                .unwrap_err()
                .to_string()
                .contains("x402Version")
        );
        // No plan: one entry with an empty planId (the official SDK's), which nothing can pay.
        let none = build_payment_required_for_plans::<&str>(&[], &BuildOptions::default()).unwrap();
        assert_eq!(
            none["accepts"],
            json!([{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"","extra":{"version":"1"}}])
        );
        assert!(build_payment_required_for_plans(&["1", " "], &BuildOptions::default()).is_err());
        assert!(build_payment_required(" ", &BuildOptions::default()).is_err());
    }

    #[test]
    fn options_are_read_from_json() {
        let o =
            BuildOptions::from_json(&json!({"endpoint": "/t", "agentId": 5, "httpVerb": "get"}))
                .unwrap();
        assert_eq!(
            (o.endpoint.as_deref(), o.agent_id.as_deref()),
            (Some("/t"), Some("5"))
        );
        assert_eq!(
            BuildOptions::from_json(&Value::Null).unwrap(),
            BuildOptions::default()
        );
        assert!(BuildOptions::from_json(&json!({"endpoint": 1})).is_err());
    }
}
