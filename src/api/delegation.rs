//! Delegations (a spending allowance a token draws on) and payment methods.
//! The client works on JSON values; the wire shapes (`CreateDelegation`, ...)
//! are described once in the `nvm-x402-types` crate (`types/src/delegation.rs`).

use super::{parse_any, query, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::json::{self, ObjectBuilder};
use crate::protocol::json::{Map, Value};
use crate::protocol::ClientConfig;
use crate::transport::HttpResponse;

/// Delegation providers.
pub const PROVIDERS: [&str; 4] = ["stripe", "braintree", "visa", "erc4337"];
/// Delegation currencies.
pub const CURRENCIES: [&str; 4] = ["usd", "eur", "usdc", "eurc"];

/// Checks and completes a `createDelegation` payload, then builds the call.
/// Card providers need `providerPaymentMethodId`; `currency` defaults to
/// `usd` for cards and `usdc` for `erc4337`.
pub fn create_delegation(cfg: &ClientConfig, payload: &Value) -> Result<Call<Value>> {
    const WHAT: &str = "createDelegation";
    let o = json::object(payload, WHAT)?;
    let provider = json::opt_str(o, "provider", WHAT)?
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !PROVIDERS.contains(&provider.as_str()) {
        return Err(Error::validation(format!(
            "provider must be one of stripe, braintree, visa, erc4337 (got \"{provider}\")"
        )));
    }
    let is_card = provider != "erc4337";
    let method = json::opt_str(o, "providerPaymentMethodId", WHAT)?
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if is_card && method.is_none() {
        return Err(Error::validation(
            "providerPaymentMethodId is required for card delegations (see listPaymentMethods)",
        ));
    }
    let positive = |key: &str| -> Result<u64> {
        crate::protocol::uint::opt_count(o, key, WHAT)?
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::validation(format!("{key} must be a positive integer")))
    };
    let (limit, duration) = (positive("spendingLimitCents")?, positive("durationSecs")?);
    let max_transactions = match crate::protocol::uint::opt_count(o, "maxTransactions", WHAT)? {
        Some(0) => {
            return Err(Error::validation(
                "maxTransactions must be at least 1 when given",
            ))
        }
        other => other,
    };
    let currency = json::opt_str(o, "currency", WHAT)?
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| if is_card { "usd" } else { "usdc" }.to_owned());
    if !CURRENCIES.contains(&currency.as_str()) {
        return Err(Error::validation(format!(
            "currency must be one of usd, eur, usdc, eurc (got \"{currency}\")"
        )));
    }
    let body = ObjectBuilder::new()
        .put("provider", provider)
        .put_opt("providerPaymentMethodId", method)
        .put("spendingLimitCents", limit)
        .put("durationSecs", duration)
        .put("currency", currency)
        .put_opt("planId", json::opt_id(o, "planId", WHAT)?)
        .put_opt(
            "merchantAccountId",
            json::opt_str(o, "merchantAccountId", WHAT)?,
        )
        .put_opt("maxTransactions", max_transactions)
        .put_opt("apiKeyId", json::opt_str(o, "apiKeyId", WHAT)?)
        .build();
    Ok(Call {
        request: super::build_request(
            cfg,
            "POST",
            "api/v1/delegation/create",
            Auth::Bearer,
            Some(&body),
        )?,
        parse: parse_created,
    })
}

fn parse_created(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let v = parse_any(response)?;
    match v.get("delegationId").and_then(json::id_value) {
        Some(id) if !id.is_empty() => Ok(v),
        _ => Err(Error::InvalidResponse {
            status,
            message: "The backend's answer has no delegationId".into(),
        }),
    }
}

/// `GET api/v1/delegation[?accessible=true]`, normalised to
/// `{delegations, totalResults, page, offset}` whichever shape the backend sent.
/// `options`: `{accessible?}` or `null`.
pub fn list_delegations(cfg: &ClientConfig, options: &Value) -> Result<Call<Value>> {
    let accessible = match json::opt_object(Some(options), "options")? {
        Some(o) => json::opt_bool(o, "accessible", "options")?.unwrap_or(false),
        None => false,
    };
    let path = format!(
        "api/v1/delegation{}",
        query(&[("accessible", accessible.then(|| "true".to_owned()))])
    );
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Bearer, None)?,
        parse: parse_delegations,
    })
}

fn parse_delegations(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    match parse_any(response)? {
        Value::Array(items) => {
            let n = items.len();
            Ok(ObjectBuilder::new()
                .put("delegations", items)
                .put("totalResults", n)
                .put("page", 1)
                .put("offset", n)
                .build())
        }
        Value::Object(mut map) => {
            let items = match map.remove("delegations").or_else(|| map.remove("data")) {
                Some(Value::Array(items)) => items,
                None | Some(Value::Null) => vec![],
                Some(_) => {
                    return Err(Error::InvalidResponse {
                        status,
                        message: "delegations is not a list".into(),
                    })
                }
            };
            let n = items.len();
            let mut out = Map::new();
            out.insert("delegations".into(), Value::Array(items));
            out.insert(
                "totalResults".into(),
                map.remove("totalResults").unwrap_or(Value::from(n)),
            );
            out.insert("page".into(), map.remove("page").unwrap_or(Value::from(1)));
            out.insert(
                "offset".into(),
                map.remove("offset").unwrap_or(Value::from(n)),
            );
            out.extend(map);
            Ok(Value::Object(out))
        }
        _ => Err(Error::InvalidResponse {
            status,
            message: "The backend's answer is not a list of delegations".into(),
        }),
    }
}

/// `GET api/v1/payment-methods[?accessible=true][&provider=...]`: a list.
/// `options`: `{accessible?, provider?}` or `null`.
pub fn list_payment_methods(cfg: &ClientConfig, options: &Value) -> Result<Call<Value>> {
    const WHAT: &str = "options";
    let empty = Map::new();
    let o = json::opt_object(Some(options), WHAT)?.unwrap_or(&empty);
    let accessible = json::opt_bool(o, "accessible", WHAT)?.unwrap_or(false);
    let provider = json::opt_str(o, "provider", WHAT)?
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let path = format!(
        "api/v1/payment-methods{}",
        query(&[
            ("accessible", accessible.then(|| "true".to_owned())),
            ("provider", provider)
        ])
    );
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Bearer, None)?,
        parse: parse_payment_methods,
    })
}

fn parse_payment_methods(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    match parse_any(response)? {
        list @ Value::Array(_) => Ok(list),
        Value::Object(mut map) => match map.remove("paymentMethods").or_else(|| map.remove("data"))
        {
            Some(list @ Value::Array(_)) => Ok(list),
            _ => Err(Error::InvalidResponse {
                status,
                message: "The backend's answer is not a list of payment methods".into(),
            }),
        },
        Value::Null => Ok(Value::Array(vec![])),
        _ => Err(Error::InvalidResponse {
            status,
            message: "The backend's answer is not a list of payment methods".into(),
        }),
    }
}

/// `PATCH api/v1/payment-methods/:id` with `{alias?, allowedApiKeyIds?}`
/// (`allowedApiKeyIds: null` lifts the restriction): the updated method.
pub fn update_payment_method(
    cfg: &ClientConfig,
    payment_method_id: &str,
    dto: &Value,
) -> Result<Call<Value>> {
    const WHAT: &str = "dto";
    let id = payment_method_id.trim();
    if id.is_empty() {
        return Err(Error::validation("paymentMethodId is required"));
    }
    let o = json::object(dto, WHAT)?;
    let allowed = o.get("allowedApiKeyIds");
    if let Some(Value::Array(ids)) = allowed {
        if ids.iter().any(|id| id.as_str().is_none_or(str::is_empty)) {
            return Err(
                json::wrong(WHAT, "allowedApiKeyIds", "a list of API key ids or null").into(),
            );
        }
    } else if allowed.is_some_and(|v| !v.is_null()) {
        return Err(json::wrong(WHAT, "allowedApiKeyIds", "a list of API key ids or null").into());
    }
    let body = ObjectBuilder::new()
        .put_opt("alias", json::opt_str(o, "alias", WHAT)?)
        .put_opt("allowedApiKeyIds", allowed.cloned())
        .build();
    let path = format!(
        "api/v1/payment-methods/{}",
        crate::protocol::url::encode_segment(id)
    );
    Ok(Call {
        request: super::build_request(cfg, "PATCH", &path, Auth::Bearer, Some(&body))?,
        parse: parse_any,
    })
}

/// `getPurchasingPower()`'s answer from what the caller's API key can use
/// (`listPaymentMethods` and `listDelegations`, both `{accessible: true}`):
/// `{cards, delegations, totalRemainingBudgetCents, currency}`. The total is
/// the sum of the delegations' `remainingBudgetCents` (numbers or decimal
/// strings; anything else counts as 0, as the official SDK's `parseInt`);
/// `currency` is the first delegation's, `usd` when there is none.
pub fn purchasing_power(cards: Value, delegations: Value) -> Value {
    let list = match delegations {
        Value::Object(mut page) => page.remove("delegations").unwrap_or(Value::Array(vec![])),
        other => other,
    };
    let items = json::items(Some(&list));
    let total = items.iter().fold(0u64, |sum, d| {
        let cents = match d.get("remainingBudgetCents") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        sum.saturating_add(cents.unwrap_or(0))
    });
    // At most 2^53 - 1, so JavaScript reads the number exactly (a hostile answer could say more).
    let total = total.min((1 << 53) - 1);
    let currency = items
        .first()
        .and_then(|d| d.get("currency"))
        .and_then(Value::as_str)
        .unwrap_or("usd")
        .to_owned();
    ObjectBuilder::new()
        .put("cards", cards)
        .put("delegations", list)
        .put("totalRemainingBudgetCents", total)
        .put("currency", currency)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn ok(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            body: body.into(),
        }
    }

    fn cfg() -> ClientConfig {
        crate::protocol::ClientConfig::from_options(&crate::protocol::PaymentsOptions {
            nvm_api_key: Some("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn create_body_is_checked_completed_and_in_spec_order() {
        let call = create_delegation(&cfg(), &json!({"provider": "Stripe", "providerPaymentMethodId": "pm_1", "spendingLimitCents": "1000", "durationSecs": 3600, "maxTransactions": 5})).unwrap();
        let body = call.request.body.unwrap();
        assert_eq!(
            body,
            r#"{"provider":"stripe","providerPaymentMethodId":"pm_1","spendingLimitCents":1000,"durationSecs":3600,"currency":"usd","maxTransactions":5}"#
        );
        let crypto = create_delegation(
            &cfg(),
            &json!({"provider": "erc4337", "spendingLimitCents": 1, "durationSecs": 1}),
        )
        .unwrap();
        assert!(crypto
            .request
            .body
            .unwrap()
            .contains(r#""currency":"usdc""#));
        for bad in [
            json!({"provider": "paypal", "spendingLimitCents": 1, "durationSecs": 1}),
            json!({"provider": "stripe", "spendingLimitCents": 1, "durationSecs": 1}),
            json!({"provider": "erc4337", "spendingLimitCents": 0, "durationSecs": 1}),
            json!({"provider": "erc4337", "spendingLimitCents": 1}),
            json!({"provider": "erc4337", "spendingLimitCents": 1, "durationSecs": 1, "currency": "btc"}),
            json!({"provider": "erc4337", "spendingLimitCents": 1, "durationSecs": 1, "maxTransactions": 0}),
        ] {
            assert_eq!(
                create_delegation(&cfg(), &bad).unwrap_err().code(),
                "validation",
                "{bad}"
            );
        }
    }

    #[test]
    fn list_options_are_checked() {
        let call = list_delegations(&cfg(), &json!({"accessible": true})).unwrap();
        assert!(call
            .request
            .url
            .ends_with("/api/v1/delegation?accessible=true"));
        assert!(list_delegations(&cfg(), &Value::Null)
            .unwrap()
            .request
            .url
            .ends_with("/api/v1/delegation"));
        assert_eq!(
            list_delegations(&cfg(), &json!({"accessible": "yes"}))
                .unwrap_err()
                .code(),
            "validation"
        );
    }

    #[test]
    fn both_delegation_list_shapes_normalise() {
        let bare = parse_delegations(ok(r#"[{"delegationId":"a"},{"delegationId":"b"}]"#)).unwrap();
        assert_eq!(
            bare,
            json!({"delegations":[{"delegationId":"a"},{"delegationId":"b"}],"totalResults":2,"page":1,"offset":2})
        );
        let paged = parse_delegations(ok(
            r#"{"delegations":[{"delegationId":"a"}],"totalResults":9,"page":3,"offset":1}"#,
        ))
        .unwrap();
        assert_eq!(paged["totalResults"], 9);
        assert_eq!(paged["page"], 3);
        assert_eq!(
            parse_delegations(ok(r#""nope""#)).unwrap_err().code(),
            "invalid_response"
        );
    }

    #[test]
    fn payment_method_lists_normalise() {
        assert_eq!(
            parse_payment_methods(ok(r#"[{"id":"pm_1"}]"#)).unwrap(),
            json!([{"id":"pm_1"}])
        );
        assert_eq!(
            parse_payment_methods(ok(r#"{"paymentMethods":[{"id":"pm_1"}]}"#)).unwrap(),
            json!([{"id":"pm_1"}])
        );
        assert_eq!(
            parse_payment_methods(ok(r#"{"x":1}"#)).unwrap_err().code(),
            "invalid_response"
        );
    }

    #[test]
    fn purchasing_power_adds_up_what_is_left() {
        let cards = json!([{"id": "pm_1"}]);
        let page = json!({"delegations": [
            {"delegationId": "a", "remainingBudgetCents": "990", "currency": "eur"},
            {"delegationId": "b", "remainingBudgetCents": 10},
            {"delegationId": "c", "remainingBudgetCents": "n/a"},
            {"delegationId": "d"}
        ], "totalResults": 4, "page": 1, "offset": 4});
        let power = purchasing_power(cards.clone(), page);
        assert_eq!(power["totalRemainingBudgetCents"], 1000);
        assert_eq!(power["currency"], "eur");
        assert_eq!(power["cards"], cards);
        assert_eq!(power["delegations"].as_array().map(Vec::len), Some(4));
        // A hostile total stops where JavaScript still reads it exactly.
        let huge = json!({"delegations": [{"remainingBudgetCents": "18446744073709551615"}, {"remainingBudgetCents": 5}]});
        assert_eq!(
            purchasing_power(json!([]), huge)["totalRemainingBudgetCents"],
            9_007_199_254_740_991u64
        );
        let none = purchasing_power(json!([]), json!({"delegations": []}));
        assert_eq!(
            none,
            json!({"cards": [], "delegations": [], "totalRemainingBudgetCents": 0, "currency": "usd"})
        );
    }

    #[test]
    fn payment_method_updates_send_only_the_dto_fields() {
        let body = |dto: Value| {
            update_payment_method(&cfg(), "pm/1", &dto)
                .map(|c| (c.request.url, c.request.body.unwrap_or_default()))
        };
        let (url, sent) =
            body(json!({"alias": "Work", "allowedApiKeyIds": ["k1", "k2"], "x": 1})).unwrap();
        assert!(url.ends_with("/api/v1/payment-methods/pm%2F1"), "{url}");
        assert_eq!(sent, r#"{"alias":"Work","allowedApiKeyIds":["k1","k2"]}"#);
        assert_eq!(
            body(json!({"allowedApiKeyIds": null})).unwrap().1,
            r#"{"allowedApiKeyIds":null}"#
        );
        assert_eq!(body(json!({})).unwrap().1, "{}");
        for bad in [
            json!(null),
            json!({"alias": 5}),
            json!({"allowedApiKeyIds": "k1"}),
            json!({"allowedApiKeyIds": [""]}),
        ] {
            assert_eq!(body(bad.clone()).unwrap_err().code(), "validation", "{bad}");
        }
        assert_eq!(
            update_payment_method(&cfg(), " ", &json!({}))
                .unwrap_err()
                .code(),
            "validation"
        );
    }
}
