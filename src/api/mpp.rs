//! The MPP (Machine Payments Protocol) backend calls, siblings of the x402
//! ones: mint an MPP-domain access token (`api/v1/mpp/permissions`, the same
//! body as x402's), and the seller's three: issue a challenge
//! (`api/v1/mpp/challenge`), verify a credential (`api/v1/mpp/verify`,
//! burns nothing) and settle it (`api/v1/mpp/settle`, burns once per
//! challenge id). The wire shapes are `types/src/mpp.rs`'s (nvm-local).

#[cfg(feature = "agent")]
use {
    super::x402::{parse_settle, parse_verify},
    super::{parse_any, Auth, Call},
    crate::error::{Error, Result},
    crate::protocol::json::{self, ObjectBuilder, Value},
    crate::protocol::ClientConfig,
    crate::transport::HttpResponse,
};

/// The path of the MPP mint (the x402 mint's body: `super::x402::mint`).
pub const PERMISSIONS: &str = "api/v1/mpp/permissions";

/// `mpp.issueChallenge({planId, credits, resource, httpVerb, agentId?, digest?, description?})`:
/// `credits` a non-negative integer (a decimal string, a safe integer or a bigint), sent as a string.
#[cfg(feature = "agent")]
pub fn challenge(cfg: &ClientConfig, params: &Value) -> Result<Call<Value>> {
    const WHAT: &str = "mpp.issueChallenge";
    let o = json::object(params, WHAT)?;
    let text = |key: &str| -> Result<Option<&str>> {
        Ok(json::opt_str(o, key, WHAT)?.filter(|s| !s.is_empty()))
    };
    let required = |key: &'static str| -> Result<&str> {
        text(key)?.ok_or_else(|| Error::validation(format!("{WHAT}: {key} is required")))
    };
    let plan_id =
        json::opt_id(o, "planId", WHAT)?.ok_or_else(|| Error::validation("planId is required"))?;
    let credits = o
        .get("credits")
        .map(crate::protocol::Uint256::from_json)
        .transpose()
        .map_err(|e| Error::validation(format!("credits must be a non-negative integer: {e}")))?
        .ok_or_else(|| Error::validation(format!("{WHAT}: credits is required")))?;
    let body = ObjectBuilder::new()
        .put("planId", plan_id)
        .put("credits", credits.as_str())
        .put("resource", required("resource")?)
        .put("httpVerb", required("httpVerb")?)
        .put_opt("agentId", json::opt_id(o, "agentId", WHAT)?)
        .put_opt("digest", text("digest")?)
        .put_opt("description", text("description")?)
        .build();
    call(cfg, "api/v1/mpp/challenge", &body, parse_challenge)
}

/// `mpp.verifyCredential` (`settle`: `mpp.settleCredential`) of
/// `{credential, resource, httpVerb, bodyDigest?}`.
#[cfg(feature = "agent")]
pub fn redeem(cfg: &ClientConfig, settle: bool, params: &Value) -> Result<Call<Value>> {
    let what = if settle {
        "mpp.settleCredential"
    } else {
        "mpp.verifyCredential"
    };
    let o = json::object(params, what)?;
    let text = |key: &str| -> Result<Option<&str>> {
        Ok(json::opt_str(o, key, what)?.filter(|s| !s.is_empty()))
    };
    let required = |key: &'static str| -> Result<&str> {
        text(key)?.ok_or_else(|| Error::validation(format!("{what}: {key} is required")))
    };
    let body = ObjectBuilder::new()
        .put("credential", required("credential")?)
        .put("resource", required("resource")?)
        .put("httpVerb", required("httpVerb")?)
        .put_opt("bodyDigest", text("bodyDigest")?)
        .build();
    redeem_body(cfg, settle, &body)
}

/// The verify (`settle`: settle) call with its body built by the gate.
#[cfg(feature = "agent")]
pub(crate) fn redeem_body(cfg: &ClientConfig, settle: bool, body: &Value) -> Result<Call<Value>> {
    if settle {
        call(cfg, "api/v1/mpp/settle", body, parse_settle)
    } else {
        call(cfg, "api/v1/mpp/verify", body, parse_verify)
    }
}

#[cfg(feature = "agent")]
fn call(
    cfg: &ClientConfig,
    path: &str,
    body: &Value,
    parse: fn(HttpResponse) -> Result<Value>,
) -> Result<Call<Value>> {
    Ok(Call {
        request: super::build_request(cfg, "POST", path, Auth::Bearer, Some(body))?,
        parse,
    })
}

#[cfg(feature = "agent")]
fn parse_challenge(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let v = parse_any(response)?;
    let has = |key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if has("challenge") && has("id") {
        Ok(v)
    } else {
        Err(Error::InvalidResponse {
            status,
            message: "The backend's answer has no challenge".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn cfg() -> ClientConfig {
        use crate::protocol::PaymentsOptions;
        ClientConfig::from_options(&PaymentsOptions {
            nvm_api_key: Some("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
            ..Default::default()
        })
        .unwrap()
    }

    fn body(call: &Call<Value>) -> &str {
        call.request.body.as_deref().unwrap()
    }

    #[test]
    fn challenge_sends_credits_as_a_string_and_only_what_it_was_given() {
        let c = challenge(
            &cfg(),
            &json!({"planId": "123", "credits": 2, "resource": "/ask", "httpVerb": "POST"}),
        )
        .unwrap();
        assert!(c.request.url.ends_with("/api/v1/mpp/challenge"));
        assert_eq!(
            body(&c),
            r#"{"planId":"123","credits":"2","resource":"/ask","httpVerb":"POST"}"#
        );
        let c = challenge(
            &cfg(),
            &json!({"planId": "123", "credits": "1", "resource": "/ask", "httpVerb": "POST",
                    "agentId": "agent-1", "digest": "sha-256=abc", "description": "Premium"}),
        )
        .unwrap();
        assert_eq!(
            body(&c),
            r#"{"planId":"123","credits":"1","resource":"/ask","httpVerb":"POST","agentId":"agent-1","digest":"sha-256=abc","description":"Premium"}"#
        );
    }

    #[test]
    fn challenge_refuses_amounts_that_are_not_whole_non_negative_numbers() {
        for credits in [
            json!("0x10"),
            json!(""),
            json!(" 5 "),
            json!(-1),
            json!(1.5),
            json!("1e3"),
        ] {
            let e = challenge(
                &cfg(),
                &json!({"planId": "1", "credits": credits, "resource": "/a", "httpVerb": "GET"}),
            )
            .unwrap_err();
            assert_eq!(e.code(), "validation", "{credits:?}");
        }
        let e = challenge(
            &cfg(),
            &json!({"planId": "1", "credits": 1, "httpVerb": "GET"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("resource is required"), "{e}");
    }

    #[test]
    fn redeem_bodies_name_the_credential_resource_verb_and_digest() {
        let params = json!({"credential": "Payment abc", "resource": "/ask", "httpVerb": "POST", "bodyDigest": "sha-256=x"});
        let v = redeem(&cfg(), false, &params).unwrap();
        assert!(v.request.url.ends_with("/api/v1/mpp/verify"));
        let s = redeem(&cfg(), true, &params).unwrap();
        assert!(s.request.url.ends_with("/api/v1/mpp/settle"));
        assert_eq!(body(&v), body(&s));
        assert_eq!(
            body(&s),
            r#"{"credential":"Payment abc","resource":"/ask","httpVerb":"POST","bodyDigest":"sha-256=x"}"#
        );
        assert!(redeem(
            &cfg(),
            true,
            &json!({"resource": "/ask", "httpVerb": "POST"})
        )
        .is_err());
    }

    #[test]
    fn answers_are_checked_and_amounts_read_as_strings() {
        let ok = |status, body: &str| HttpResponse {
            status,
            body: body.to_owned(),
        };
        assert!(parse_challenge(ok(201, r#"{"challenge":"Payment id=\"x\"","id":"x"}"#)).is_ok());
        assert_eq!(
            parse_challenge(ok(201, r#"{"id":"x"}"#))
                .unwrap_err()
                .code(),
            "invalid_response"
        );
        let e = parse_verify(ok(
            400,
            r#"{"code":"BCK.MPP.0003","message":"Credential rejected"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code(), "BCK.MPP.0003");
        let s = parse_settle(ok(
            200,
            r#"{"success":true,"creditsRedeemed":2,"paymentReceipt":"r"}"#,
        ))
        .unwrap();
        assert_eq!(s.get("creditsRedeemed").and_then(Value::as_str), Some("2"));
        assert!(parse_settle(ok(200, r#"{"paymentReceipt":"r"}"#)).is_err());
    }
}
