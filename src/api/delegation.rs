//! Delegations (a spending allowance a token draws on) and payment methods.

use super::x402::count;
use super::{parse_any, query, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::ClientConfig;
use crate::transport::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Delegation providers.
pub const PROVIDERS: [&str; 4] = ["stripe", "braintree", "visa", "erc4337"];
/// Delegation currencies.
pub const CURRENCIES: [&str; 4] = ["usd", "eur", "usdc", "eurc"];

/// The `createDelegation` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDelegation {
    /// `stripe`, `braintree`, `visa` (a card) or `erc4337` (crypto).
    #[serde(default)]
    pub provider: String,
    /// The card (required for card providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_payment_method_id: Option<String>,
    /// The spending limit, in cents.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    pub spending_limit_cents: Option<u64>,
    /// How long the delegation lasts, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    pub duration_secs: Option<u64>,
    /// `usd`, `eur`, `usdc` or `eurc` (default `usd` for cards, `usdc` for erc4337).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Restrict to a plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The merchant account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_account_id: Option<String>,
    /// At most this many transactions.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "count")]
    pub max_transactions: Option<u64>,
    /// Restrict to an API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
}

/// `{delegationId, delegationToken?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedDelegation {
    /// Pass as `delegationConfig.delegationId`.
    pub delegation_id: String,
    /// The provider's token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation_token: Option<String>,
    /// Anything else the backend sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Checks and completes a `createDelegation` body, then builds the call.
pub fn create_delegation(cfg: &ClientConfig, body: &CreateDelegation) -> Result<Call<CreatedDelegation>> {
    let mut body = body.clone();
    body.provider = body.provider.trim().to_ascii_lowercase();
    if !PROVIDERS.contains(&body.provider.as_str()) {
        return Err(Error::validation(format!("provider must be one of stripe, braintree, visa, erc4337 (got {:?})", body.provider)));
    }
    let is_card = body.provider != "erc4337";
    if is_card && body.provider_payment_method_id.as_deref().map_or(true, |p| p.trim().is_empty()) {
        return Err(Error::validation("providerPaymentMethodId is required for card delegations (see listPaymentMethods)"));
    }
    match body.spending_limit_cents {
        Some(n) if n > 0 => {}
        _ => return Err(Error::validation("spendingLimitCents must be a positive integer")),
    }
    match body.duration_secs {
        Some(n) if n > 0 => {}
        _ => return Err(Error::validation("durationSecs must be a positive integer")),
    }
    if body.max_transactions == Some(0) {
        return Err(Error::validation("maxTransactions must be at least 1 when given"));
    }
    let currency = body.currency.take().map(|c| c.to_ascii_lowercase()).unwrap_or_else(|| if is_card { "usd" } else { "usdc" }.to_owned());
    if !CURRENCIES.contains(&currency.as_str()) {
        return Err(Error::validation(format!("currency must be one of usd, eur, usdc, eurc (got {currency:?})")));
    }
    body.currency = Some(currency);
    Call::json(cfg, "POST", "api/v1/delegation/create", Auth::Bearer, Some(&body))
}

/// `GET api/v1/delegation[?accessible=true]`, normalised to
/// `{delegations, totalResults, page, offset}` whichever shape the backend sent.
pub fn list_delegations(cfg: &ClientConfig, accessible: bool) -> Result<Call<Value>> {
    let path = format!("api/v1/delegation{}", query(&[("accessible", accessible.then(|| "true".to_owned()))]));
    Ok(Call { request: super::build_request(cfg, "GET", &path, Auth::Bearer, None::<&()>)?, parse: parse_delegations })
}

fn parse_delegations(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    match parse_any(response)? {
        Value::Array(items) => {
            let n = items.len();
            Ok(json!({"delegations": items, "totalResults": n, "page": 1, "offset": n}))
        }
        Value::Object(mut map) => {
            let items = match map.remove("delegations").or_else(|| map.remove("data")) {
                Some(Value::Array(items)) => items,
                None | Some(Value::Null) => vec![],
                Some(_) => return Err(Error::InvalidResponse { status, message: "delegations is not a list".into() }),
            };
            let n = items.len();
            let mut out = Map::new();
            out.insert("delegations".into(), Value::Array(items));
            out.insert("totalResults".into(), map.remove("totalResults").unwrap_or(json!(n)));
            out.insert("page".into(), map.remove("page").unwrap_or(json!(1)));
            out.insert("offset".into(), map.remove("offset").unwrap_or(json!(n)));
            out.extend(map);
            Ok(Value::Object(out))
        }
        _ => Err(Error::InvalidResponse { status, message: "The backend's answer is not a list of delegations".into() }),
    }
}

/// Filters of `listPaymentMethods`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodsQuery {
    /// Include methods shared with the caller.
    #[serde(default)]
    pub accessible: Option<bool>,
    /// Only this provider.
    #[serde(default)]
    pub provider: Option<String>,
}

/// `GET api/v1/payment-methods[?accessible=true][&provider=...]`: a list.
pub fn list_payment_methods(cfg: &ClientConfig, q: &PaymentMethodsQuery) -> Result<Call<Value>> {
    let path = format!(
        "api/v1/payment-methods{}",
        query(&[("accessible", q.accessible.filter(|a| *a).map(|_| "true".to_owned())), ("provider", q.provider.clone().filter(|p| !p.is_empty()))])
    );
    Ok(Call { request: super::build_request(cfg, "GET", &path, Auth::Bearer, None::<&()>)?, parse: parse_payment_methods })
}

fn parse_payment_methods(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    match parse_any(response)? {
        list @ Value::Array(_) => Ok(list),
        Value::Object(mut map) => match map.remove("paymentMethods").or_else(|| map.remove("data")) {
            Some(list @ Value::Array(_)) => Ok(list),
            _ => Err(Error::InvalidResponse { status, message: "The backend's answer is not a list of payment methods".into() }),
        },
        Value::Null => Ok(Value::Array(vec![])),
        _ => Err(Error::InvalidResponse { status, message: "The backend's answer is not a list of payment methods".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> HttpResponse {
        HttpResponse { status: 200, body: body.into() }
    }

    #[test]
    fn both_delegation_list_shapes_normalise() {
        let bare = parse_delegations(ok(r#"[{"delegationId":"a"},{"delegationId":"b"}]"#)).unwrap();
        assert_eq!(bare, json!({"delegations":[{"delegationId":"a"},{"delegationId":"b"}],"totalResults":2,"page":1,"offset":2}));
        let paged = parse_delegations(ok(r#"{"delegations":[{"delegationId":"a"}],"totalResults":9,"page":3,"offset":1}"#)).unwrap();
        assert_eq!(paged["totalResults"], 9);
        assert_eq!(paged["page"], 3);
        assert_eq!(parse_delegations(ok(r#""nope""#)).unwrap_err().code(), "invalid_response");
    }

    #[test]
    fn payment_method_lists_normalise() {
        assert_eq!(parse_payment_methods(ok(r#"[{"id":"pm_1"}]"#)).unwrap(), json!([{"id":"pm_1"}]));
        assert_eq!(parse_payment_methods(ok(r#"{"paymentMethods":[{"id":"pm_1"}]}"#)).unwrap(), json!([{"id":"pm_1"}]));
        assert_eq!(parse_payment_methods(ok(r#"{"x":1}"#)).unwrap_err().code(), "invalid_response");
    }
}
