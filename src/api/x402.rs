//! The x402 facilitator calls: mint an access token (`api/v1/x402/permissions`),
//! verify (`api/v1/x402/verify`) and settle (`api/v1/x402/settle`).
//!
//! The client builds and reads these bodies as JSON values (see
//! [`crate::protocol::json`]); the wire shapes are described once in the
//! `nvm-x402-types` crate (`types/src/x402.rs`: nvm-local and the tests that
//! cross-check the bytes use them).

use super::{parse_any, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::json::{self, Object, ObjectBuilder};
use crate::protocol::json::{Map, Value};
use crate::protocol::payment_required::check_payment_required;
use crate::protocol::{ClientConfig, Uint256, SCHEME_ERC4337};
use crate::transport::HttpResponse;

/// What [`mint`] found worth a warning (shown on every call that earns it, as the official SDK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MintWarning {
    /// The deprecated inline create-on-the-fly fields were used without a `delegationId`.
    InlineDelegation,
}

/// The deprecation warning, word for word the official SDK's (users filter on `[DEPRECATED]`).
pub const INLINE_DELEGATION_WARNING: &str = "[DEPRECATED] delegationConfig: inline create-on-the-fly delegationConfig (no delegationId) is deprecated and will be removed in a future release. Create the delegation first with payments.delegation.createDelegation(), then request the token with delegationConfig: { delegationId }.";

/// The fields of `delegationConfig` that ask the backend to create a
/// delegation on the fly (the official SDKs' predicate: `currency` alone, or
/// `apiKeyId`, is not one of them).
pub const INLINE_DELEGATION_FIELDS: [&str; 4] = [
    "cardId",
    "providerPaymentMethodId",
    "spendingLimitCents",
    "durationSecs",
];

/// What to do when a mint names no delegation: the warning's last sentence ("Create
/// the delegation first with payments.delegation.createDelegation(), then request
/// the token with delegationConfig: { delegationId }."), the same bytes in the .wasm.
fn create_delegation_hint() -> &'static str {
    INLINE_DELEGATION_WARNING
        .get(146..)
        .unwrap_or(INLINE_DELEGATION_WARNING)
}

/// The path of the x402 mint.
pub const PERMISSIONS: &str = "api/v1/x402/permissions";

/// Validates the inputs of `getX402AccessToken(planId, agentId?, tokenOptions?)`
/// and builds the mint call. Nothing is sent when validation fails.
///
/// `token_options`: `{scheme?, network?, delegationConfig, tokenVersion?, resource?, httpVerb?}` (or `null`).
pub fn mint(
    cfg: &ClientConfig,
    plan_id: &str,
    agent_id: Option<&str>,
    token_options: &Value,
) -> Result<(Call<Value>, Option<MintWarning>)> {
    mint_at(cfg, PERMISSIONS, plan_id, agent_id, token_options)
}

/// [`mint`] at `path`: the MPP mint (`super::mpp::PERMISSIONS`) takes the same body.
pub fn mint_at(
    cfg: &ClientConfig,
    path: &str,
    plan_id: &str,
    agent_id: Option<&str>,
    token_options: &Value,
) -> Result<(Call<Value>, Option<MintWarning>)> {
    const WHAT: &str = "tokenOptions";
    let plan_id = plan_id.trim();
    if plan_id.is_empty() {
        return Err(Error::validation("planId is required"));
    }
    let empty = Map::new();
    let options = json::opt_object(Some(token_options), WHAT)?.unwrap_or(&empty);
    let scheme = json::opt_str(options, "scheme", WHAT)?
        .filter(|s| !s.is_empty())
        .unwrap_or(SCHEME_ERC4337);
    let network = json::opt_str(options, "network", WHAT)?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| cfg.default_network(scheme));
    let required = || {
        Error::misuse(
            format!("delegationConfig is required for {scheme} token generation. Create a delegation first with payments.delegation.createDelegation(), then request the token with delegationConfig.delegationId."),
            create_delegation_hint(),
        )
    };
    let config = json::opt_object(
        options.get("delegationConfig"),
        "tokenOptions.delegationConfig",
    )?
    .ok_or_else(required)?;
    let (delegation_config, warning) = delegation_config(config)?;
    let token_version = match options.get("tokenVersion") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n @ (2 | 3)) => Some(n),
            _ => {
                return Err(Error::validation(format!(
                    "tokenVersion must be 2 or 3, got {}",
                    json::to_text(v)
                )))
            }
        },
    };
    let resource = match json::opt_object(options.get("resource"), "tokenOptions.resource")? {
        None => None,
        Some(r) => {
            if json::opt_str(r, "url", "tokenOptions.resource")?.is_none() {
                return Err(Error::validation("tokenOptions.resource.url is required"));
            }
            Some(Value::Object(r.clone()))
        }
    };
    let http_verb = json::opt_str(options, "httpVerb", WHAT)?
        .filter(|v| !v.is_empty())
        .map(str::to_ascii_uppercase);
    let extra = ObjectBuilder::new()
        .put_opt("agentId", agent_id.map(str::trim).filter(|a| !a.is_empty()))
        .put_opt("httpVerb", http_verb)
        .build();
    let accepted = ObjectBuilder::new()
        .put("scheme", scheme)
        .put("network", network)
        .put("planId", plan_id)
        .put("extra", extra)
        .build();
    let body = ObjectBuilder::new()
        .put("accepted", accepted)
        .put("delegationConfig", delegation_config)
        .put_opt("resource", resource)
        .put_opt("tokenVersion", token_version)
        .build();
    let call = Call {
        request: super::build_request(cfg, "POST", path, Auth::Bearer, Some(&body))?,
        parse: parse_mint,
    };
    Ok((call, warning))
}

/// Checks `delegationConfig` and returns it as sent (counts as JSON numbers).
/// Whatever it holds besides a blank `delegationId` goes to the backend, which
/// chooses (`{}` and `{ apiKeyId }` too, as the official SDK sends them).
fn delegation_config(config: &Object) -> Result<(Value, Option<MintWarning>)> {
    const WHAT: &str = "delegationConfig";
    let id = json::opt_str(config, "delegationId", WHAT)?;
    if id.is_some_and(|id| id.trim().is_empty()) {
        return Err(Error::misuse(
            "delegationConfig.delegationId must not be an empty string. Pass a valid delegation UUID or omit the field.",
            create_delegation_hint(),
        ));
    }
    let inline = id.is_none()
        && INLINE_DELEGATION_FIELDS
            .iter()
            .any(|f| config.contains_key(f));
    let mut out = config.clone();
    for key in ["spendingLimitCents", "durationSecs"] {
        if let Some(n) = crate::protocol::uint::opt_count(config, key, WHAT)? {
            out.insert(key.to_owned(), Value::from(n));
        }
    }
    Ok((
        Value::Object(out),
        inline.then_some(MintWarning::InlineDelegation),
    ))
}

fn parse_mint(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let v = parse_any(response)?;
    match v.get("accessToken") {
        Some(Value::String(t)) if !t.is_empty() => Ok(v),
        _ => Err(Error::InvalidResponse {
            status,
            message: "The backend's answer has no accessToken".into(),
        }),
    }
}

/// Reads `{paymentRequired, x402AccessToken, maxAmount?}` and writes it back in wire order.
fn facilitator_body<'a>(params: &'a Value, what: &str) -> Result<(ObjectBuilder, &'a Object)> {
    let o = json::object(params, what)?;
    let payment_required = o
        .get("paymentRequired")
        .ok_or_else(|| Error::validation(format!("{what}.paymentRequired is required")))?;
    check_payment_required(payment_required)?;
    let token = json::opt_str(o, "x402AccessToken", what)?
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Error::validation("x402AccessToken is required"))?;
    let body = ObjectBuilder::new()
        .put("paymentRequired", payment_required.clone())
        .put("x402AccessToken", token)
        .put_opt(
            "maxAmount",
            crate::protocol::uint::opt_uint(o, "maxAmount", what)?,
        );
    Ok((body, o))
}

/// Builds the verify call from `{paymentRequired, x402AccessToken, maxAmount?}`.
pub fn verify(cfg: &ClientConfig, params: &Value) -> Result<Call<Value>> {
    let (body, _) = facilitator_body(params, "verifyPermissions")?;
    facilitator_text(cfg, false, json::to_text(&body.build()))
}

/// The verify call (`settle`: the settle call) with its body already written:
/// by [`verify`]/[`settle`] from their parameters, or by the gate from a
/// PaymentRequired it built itself (see `gate::prepared`).
pub fn facilitator_text(cfg: &ClientConfig, settle: bool, body: String) -> Result<Call<Value>> {
    let (path, parse): (_, fn(HttpResponse) -> Result<Value>) = if settle {
        ("api/v1/x402/settle", parse_settle)
    } else {
        ("api/v1/x402/verify", parse_verify)
    };
    Ok(Call {
        request: super::build_request_text(cfg, "POST", path, Auth::Bearer, Some(body))?,
        parse,
    })
}

/// Builds the settle call from verify's parameters plus `agentRequestId?, batch?, marginPercent?`.
pub fn settle(cfg: &ClientConfig, params: &Value) -> Result<Call<Value>> {
    const WHAT: &str = "settlePermissions";
    let (body, o) = facilitator_body(params, WHAT)?;
    let margin = match o.get("marginPercent") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if !n.is_negative() => Some(Value::Number(n.clone())),
        Some(_) => {
            return Err(Error::validation(
                "marginPercent must be a non-negative number",
            ))
        }
    };
    let body = body
        .put_opt("agentRequestId", json::opt_id(o, "agentRequestId", WHAT)?)
        .put_opt("batch", json::opt_bool(o, "batch", WHAT)?)
        .put_opt("marginPercent", margin)
        .build();
    facilitator_text(cfg, true, json::to_text(&body))
}

fn require_bool(v: &Value, key: &str, status: u16) -> Result<()> {
    if v.get(key).is_some_and(Value::is_boolean) {
        Ok(())
    } else {
        Err(Error::InvalidResponse {
            status,
            message: format!("The backend's answer has no boolean {key}"),
        })
    }
}

/// Writes a uint field as a decimal string (`null` and absent stay as they are).
pub(crate) fn uint_as_string(obj: &mut Object, key: &str) {
    if let Some(v) = obj.get_mut(key) {
        if let Ok(n) = Uint256::from_json(v) {
            *v = n.into();
        }
    }
}

/// Normalises a plan balance: `balance` a decimal string (`"0"` when absent),
/// `planId` a string, `isSubscriber` a boolean.
pub fn normalize_balance(balance: &mut Value) {
    if let Some(b) = balance.as_object_mut() {
        uint_as_string(b, "balance");
        if !b.get("balance").is_some_and(Value::is_string) {
            b.insert("balance".into(), Value::from("0"));
        }
        if let Some(id) = b.get("planId").and_then(json::id_value) {
            b.insert("planId".into(), Value::from(id));
        }
        if !b.get("isSubscriber").is_some_and(Value::is_boolean) {
            b.insert("isSubscriber".into(), Value::Bool(false));
        }
    }
}

/// Reads verify's answer (the MPP verify's too: the same answer).
pub(crate) fn parse_verify(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let mut v = parse_any(response)?;
    require_bool(&v, "isValid", status)?;
    if let Some(balance) = v
        .get_mut("agentRequest")
        .and_then(|r| r.as_object_mut()?.get_mut("balance"))
    {
        normalize_balance(balance);
    }
    Ok(v)
}

/// Reads settle's answer (the MPP settle's too: the same, plus `paymentReceipt`).
pub(crate) fn parse_settle(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let mut v = parse_any(response)?;
    require_bool(&v, "success", status)?;
    if let Some(o) = v.as_object_mut() {
        uint_as_string(o, "creditsRedeemed");
        uint_as_string(o, "remainingBalance");
        for key in ["transaction", "network"] {
            if !o.get(key).is_some_and(Value::is_string) {
                o.insert(key.to_owned(), Value::from(""));
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::protocol::{build_payment_required, BuildOptions, PaymentsOptions};

    pub(crate) fn cfg() -> ClientConfig {
        ClientConfig::from_options(&PaymentsOptions {
            nvm_api_key: Some("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
            ..Default::default()
        })
        .unwrap()
    }

    fn with_delegation(id: &str) -> Value {
        json!({"delegationConfig": {"delegationId": id}})
    }

    #[test]
    fn mint_body_matches_the_spec_bytes() {
        let (call, warning) =
            mint(&cfg(), "123", Some("agent-1"), &with_delegation("del-uuid")).unwrap();
        let body = call.request.body.unwrap();
        assert_eq!(
            body,
            r#"{"accepted":{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"agentId":"agent-1"}},"delegationConfig":{"delegationId":"del-uuid"}}"#
        );
        assert_eq!(warning, None);
        let (call, _) = mint(&cfg(), "123", None, &with_delegation("del-uuid")).unwrap();
        assert!(call.request.body.unwrap().contains(r#""extra":{}"#));
    }

    #[test]
    fn verify_body_matches_the_spec_bytes() {
        let params = json!({
            "paymentRequired": build_payment_required("123", &BuildOptions { endpoint: Some("/x".into()), ..Default::default() }).unwrap(),
            "x402AccessToken": "tok",
            "maxAmount": 1
        });
        let body = verify(&cfg(), &params).unwrap().request.body.unwrap();
        assert_eq!(
            body,
            r#"{"paymentRequired":{"x402Version":2,"resource":{"url":"/x"},"accepts":[{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"version":"1"}}],"extensions":{}},"x402AccessToken":"tok","maxAmount":"1"}"#
        );
    }

    #[test]
    fn settle_adds_its_fields_in_order_and_checks_them() {
        let pr = build_payment_required("1", &BuildOptions::default()).unwrap();
        let params = json!({"paymentRequired": pr, "x402AccessToken": "t", "maxAmount": "2", "agentRequestId": "r", "batch": false, "marginPercent": 0.5});
        let body = settle(&cfg(), &params).unwrap().request.body.unwrap();
        assert!(body.ends_with(r#""x402AccessToken":"t","maxAmount":"2","agentRequestId":"r","batch":false,"marginPercent":0.5}"#), "{body}");
        for bad in [
            json!({"paymentRequired": pr, "x402AccessToken": "t", "marginPercent": -1}),
            json!({"paymentRequired": pr, "x402AccessToken": " "}),
            json!({"x402AccessToken": "t"}),
            json!({"paymentRequired": {"x402Version": 1}, "x402AccessToken": "t"}),
            json!("nope"),
        ] {
            assert_eq!(
                settle(&cfg(), &bad).unwrap_err().code(),
                "validation",
                "{bad}"
            );
        }
        let imprecise = json!({"paymentRequired": pr, "x402AccessToken": "t", "maxAmount": 9007199254740993u64});
        assert!(verify(&cfg(), &imprecise)
            .unwrap_err()
            .to_string()
            .contains("maxAmount"));
    }

    #[test]
    fn delegation_rules_are_checked_before_any_request() {
        let c = cfg();
        // No delegationConfig: the official SDK's message, and a hint naming createDelegation.
        let no_config = mint(&c, "1", None, &Value::Null).unwrap_err();
        assert_eq!(
            no_config.to_string(),
            "delegationConfig is required for nvm:erc4337 token generation. Create a delegation first with payments.delegation.createDelegation(), then request the token with delegationConfig.delegationId."
        );
        assert_eq!(
            no_config.hint(),
            "Create the delegation first with payments.delegation.createDelegation(), then request the token with delegationConfig: { delegationId }."
        );
        let card = json!({"scheme": "nvm:card-delegation"});
        assert!(mint(&c, "1", None, &card)
            .unwrap_err()
            .to_string()
            .contains("nvm:card-delegation"));
        // A blank delegationId: the official SDK's message.
        for blank in ["", "   ", "\t\n"] {
            let e = mint(&c, "1", None, &with_delegation(blank)).unwrap_err();
            assert_eq!(
                (e.code().as_ref(), e.to_string().as_str()),
                ("validation", "delegationConfig.delegationId must not be an empty string. Pass a valid delegation UUID or omit the field.")
            );
        }
        assert_eq!(
            mint(
                &c,
                "1",
                None,
                &json!({"delegationConfig": {"delegationId": 5}})
            )
            .unwrap_err()
            .code(),
            "validation"
        );
        let v4 = json!({"delegationConfig": {"delegationId": "d"}, "tokenVersion": 4});
        assert!(mint(&c, "1", None, &v4)
            .unwrap_err()
            .to_string()
            .contains("tokenVersion"));
        assert!(mint(&c, " ", None, &with_delegation("d")).is_err());
    }

    fn body_and_warning(config: Value) -> (String, Option<MintWarning>) {
        let (call, warning) =
            mint(&cfg(), "1", None, &json!({ "delegationConfig": config })).unwrap();
        (call.request.body.unwrap(), warning)
    }

    #[test]
    fn a_config_without_delegation_id_goes_to_the_backend_which_chooses() {
        // `{}`, `{apiKeyId}` and `{currency}` are sent as they are, without a warning (the official SDK's).
        for config in [
            json!({}),
            json!({"apiKeyId": "key-1"}),
            json!({"currency": "usd"}),
        ] {
            let (body, warning) = body_and_warning(config.clone());
            assert_eq!(warning, None, "{config}");
            assert!(
                body.ends_with(&format!(
                    r#""delegationConfig":{}}}"#,
                    json::to_text(&config)
                )),
                "{body}"
            );
        }
    }

    #[test]
    fn inline_create_fields_without_a_delegation_id_warn_as_the_official_sdk() {
        // Each of the four creation fields alone triggers it; the body keeps them (counts as numbers).
        for field in INLINE_DELEGATION_FIELDS {
            let (_, warning) = body_and_warning(json!({ field: "1" }));
            assert_eq!(warning, Some(MintWarning::InlineDelegation), "{field}");
        }
        let (body, warning) =
            body_and_warning(json!({"spendingLimitCents": "10000", "durationSecs": 604800}));
        assert_eq!(warning, Some(MintWarning::InlineDelegation));
        assert!(body
            .contains(r#""delegationConfig":{"spendingLimitCents":10000,"durationSecs":604800}"#));
        // A delegationId wins: leftover inline fields are silent (the migration footgun).
        let (_, warning) = body_and_warning(
            json!({"delegationId": "d", "spendingLimitCents": 1000, "durationSecs": 3600, "currency": "usd"}),
        );
        assert_eq!(warning, None);
        assert!(INLINE_DELEGATION_WARNING
            .starts_with("[DEPRECATED] delegationConfig: inline create-on-the-fly"));
    }

    #[test]
    fn v3_options_bind_resource_and_verb() {
        let options = json!({"delegationConfig": {"delegationId": "d"}, "tokenVersion": 3, "httpVerb": "post", "resource": {"url": "https://a.example/tasks"}, "network": "eip155:1"});
        let (call, _) = mint(&cfg(), "9", Some("ag"), &options).unwrap();
        assert_eq!(
            call.request.body.as_deref(),
            Some(
                r#"{"accepted":{"scheme":"nvm:erc4337","network":"eip155:1","planId":"9","extra":{"agentId":"ag","httpVerb":"POST"}},"delegationConfig":{"delegationId":"d"},"resource":{"url":"https://a.example/tasks"},"tokenVersion":3}"#
            )
        );
        assert!(mint(
            &cfg(),
            "9",
            None,
            &json!({"delegationConfig": {"delegationId": "d"}, "resource": {}})
        )
        .is_err());
    }

    fn answer(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            body: body.into(),
        }
    }

    #[test]
    fn answers_are_checked_and_normalised() {
        let v = parse_verify(answer(r#"{"isValid":true,"payer":null,"agentRequest":{"agentRequestId":"r1","balance":{"planId":5,"balance":7,"pricePerCredit":0.5}},"future":1}"#)).unwrap();
        assert_eq!(
            v["agentRequest"]["balance"],
            json!({"planId":"5","balance":"7","pricePerCredit":0.5,"isSubscriber":false})
        );
        assert_eq!(v["future"], 1);
        assert_eq!(
            parse_verify(answer(r#"{"valid":true}"#))
                .unwrap_err()
                .code(),
            "invalid_response"
        );
        let s = parse_settle(answer(r#"{"success":false,"errorReason":"insufficient","transaction":null,"remainingBalance":0}"#)).unwrap();
        assert_eq!(
            s,
            json!({"success":false,"errorReason":"insufficient","transaction":"","remainingBalance":"0","network":""})
        );
        let s = parse_settle(answer(r#"{"success":true,"transaction":"0x1","network":"n","creditsRedeemed":2,"remainingBalance":"8"}"#)).unwrap();
        assert_eq!(
            s.to_string(),
            r#"{"success":true,"transaction":"0x1","network":"n","creditsRedeemed":"2","remainingBalance":"8"}"#
        );
        assert_eq!(
            parse_mint(answer(r#"{"token":"x"}"#)).unwrap_err().code(),
            "invalid_response"
        );
    }
}
