//! `payments.mpp.fetch(input, init, {delegationConfig, planId?, maxCredits?, agentId?})`:
//! the buyer half of MPP, as the official helper, through this module's
//! courier and redirect rules.
//!
//! The request goes as the caller made it. A 402 with a usable `Payment`
//! challenge (`www-authenticate`) is paid: the challenge's plan (pinned by
//! `planId` when given), its credits within `maxCredits` for the WHOLE call,
//! an MPP token minted for the caller's delegation (`delegationId` required:
//! a retry must not create delegations), and the request sent again with the
//! credential put before the caller's own `Authorization`. At most one
//! re-challenge is followed: a retryable code (`BCK.MPP.0004`, `0005`) or,
//! with no code, a challenge with a new id; anything else the seller names
//! is an error. A credential goes only to the origin that was asked: a
//! redirect elsewhere is followed without it.
//!
//! The answer: `{settled, paid, credentialsPresented, creditsPresented?,
//! receipt?}` (the adapter adds the last Response). Every error after a
//! credential went out carries what was presented (`Error::Spent`, read with
//! `mppSpendOf`).

use super::{follow, Courier, Hop, Outgoing, Reply};
use crate::error::{Error, Result, MAX_CREDITS_EXCEEDED, PLAN_NOT_ALLOWED};
use crate::payments::Payments;
use crate::protocol::json::{self, Object, ObjectBuilder, Value};
use crate::protocol::mpp::{self, Challenge};
use crate::protocol::url::Url;
use crate::transport::Transport;

/// How much of a 402's body is read for its code (the courier's cap).
pub const ERROR_BODY_BYTES: usize = 64 * 1024;

/// What the call has presented so far.
#[derive(Default)]
struct Spend {
    credentials: u32,
    credits: u128,
    challenge_id: Option<String>,
}

impl Spend {
    fn to_json(&self) -> Value {
        ObjectBuilder::new()
            .put("credentialsPresented", self.credentials)
            .put_opt(
                "creditsPresented",
                (self.credentials > 0).then(|| self.credits.to_string()),
            )
            .put_opt("challengeId", self.challenge_id.as_deref())
            .build()
    }

    /// The error, carrying the spend once a credential went out.
    fn on(&self, e: Error) -> Error {
        if self.credentials == 0 {
            return e;
        }
        Error::Spent(Box::new((e, self.to_json())))
    }
}

/// The origin of the request, to name it in errors.
fn origin_of(url: &str) -> String {
    Url::parse(url).map_or_else(|| url.to_owned(), |u| u.origin())
}

/// A non-negative integer (a decimal string, a safe integer or a bigint as digits), or absent.
fn max_credits(options: &Object) -> Result<Option<u128>> {
    match options.get("maxCredits") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => crate::protocol::Uint256::from_json(v)
            .ok()
            .and_then(|n| n.to_u128())
            .map(Some)
            .ok_or_else(|| {
                Error::validation(format!(
                    "maxCredits must be a non-negative integer (decimal string, safe integer or bigint), got {}",
                    json::to_text(v)
                ))
            }),
    }
}

/// A 402's code and message (`{code?, message?|error?}`); `None` for a body that isn't JSON.
fn rejection(text: &str) -> Option<(Option<String>, String)> {
    if text.trim().is_empty() {
        return Some((None, "MPP 402 carried no body".to_owned()));
    }
    let v = json::parse(text).ok()?;
    let code = v
        .get("code")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let message = v
        .get("message")
        .or_else(|| v.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("MPP request failed");
    Some((code, message.chars().take(200).collect()))
}

/// Runs `payments.mpp.fetch`; `req` carries the caller's `authorization`.
pub async fn fetch<T: Transport, C: Courier>(
    p: &Payments<T>,
    req: &Outgoing,
    options: &Value,
    courier: &C,
) -> Result<Value> {
    const WHAT: &str = "payments.mpp.fetch";
    let o = json::object(options, WHAT)?;
    let delegation = json::opt_object(o.get("delegationConfig"), "delegationConfig")?;
    if !delegation.is_some_and(|d| {
        d.get("delegationId")
            .and_then(Value::as_str)
            .is_some_and(|id| !id.trim().is_empty())
    }) {
        return Err(Error::misuse(
            "payments.mpp.fetch requires delegationConfig.delegationId. Create a delegation first with payments.delegation.createDelegation(), then pass { delegationId }. An inline create-on-the-fly delegationConfig (no delegationId) is not accepted here — the retry loop can mint against it twice per call, which would create two delegations.",
            "Create the delegation first (payments.delegation.createDelegation) and pass { delegationConfig: { delegationId } }.",
        ));
    }
    // Single-use (v3) tokens: a seller can't take the token out of the credential and settle
    // challenges of its own with it (the call's cap would not bound what it takes).
    let token_options = ObjectBuilder::new()
        .put(
            "delegationConfig",
            Value::Object(delegation.cloned().unwrap_or_default()),
        )
        .put("tokenVersion", 3)
        .build();
    let pinned = json::opt_id(o, "planId", WHAT)?;
    let agent = json::opt_id(o, "agentId", WHAT)?;
    let cap = max_credits(o)?;
    let origin = origin_of(&req.url);
    let mut spend = Spend::default();
    // The first request as the caller made it, by its own redirect rules.
    let first = attempt(req, Object::new(), &req.redirect);
    let mut reply = follow(courier, req, first, false).await?.reply;
    // The credential's hops are followed by hand (manual): it stays with this origin.
    let paid_req = Outgoing {
        has_token: true,
        ..req.clone()
    };
    let mut turns = 0;
    while reply.status == 402 && turns < 2 {
        turns += 1;
        let Some(header) = reply.www_authenticate.as_deref() else {
            break;
        };
        let challenge = match mpp::parse_challenge(header) {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(why) => {
                return Err(spend.on(Error::Mpp {
                    code: MPP_ERROR.into(),
                    message: format!("The 402 from {origin} carried a malformed MPP challenge ({why}). No payment was attempted."),
                }))
            }
        };
        let credits = match mpp::decimal_credits(&challenge.credits)
            .ok()
            .and_then(|c| c.parse::<u128>().ok())
        {
            Some(c) => c,
            None => {
                return Err(spend.on(Error::Mpp {
                    code: MPP_ERROR.into(),
                    message: format!("The MPP challenge from {origin} names a non-decimal-string credits value (\"{}\"); refusing to mint.", challenge.credits),
                }))
            }
        };
        if let Some(plan) = pinned.as_deref().filter(|p| *p != challenge.plan_id) {
            return Err(spend.on(Error::PaymentRefused {
                code: PLAN_NOT_ALLOWED,
                message: format!(
                    "MPP challenge names plan {}, but plan {plan} was pinned by the caller",
                    challenge.plan_id
                ),
                details: None,
            }));
        }
        let total = spend.credits.saturating_add(credits);
        if let Some(cap) = cap.filter(|cap| total > *cap) {
            let already = if spend.credentials > 0 {
                format!(
                    " ({} already presented on {} credential(s))",
                    spend.credits, spend.credentials
                )
            } else {
                String::new()
            };
            return Err(spend.on(Error::PaymentRefused {
                code: MAX_CREDITS_EXCEEDED,
                message: format!("MPP challenge asks for {credits} credits, which would take this call to {total}, above the caller's cap of {cap}{already}"),
                details: None,
            }));
        }
        let minted = p
            .get_mpp_access_token(
                &challenge.plan_id,
                agent.as_deref().or(challenge.agent_id.as_deref()),
                &token_options,
            )
            .send()
            .await
            .map_err(|e| spend.on(e.into_mpp(false)))?;
        let token = minted
            .get("accessToken")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let credential = mpp::credential(&challenge, token);
        let mut headers = Object::new();
        headers.insert(
            "authorization".into(),
            Value::from(match &req.authorization {
                Some(own) => format!("{credential}, {own}"),
                None => credential,
            }),
        );
        // Counted before it is sent: once on the wire it may be burned.
        spend.credentials += 1;
        spend.credits = total;
        spend.challenge_id = Some(challenge.id.clone());
        let hop = attempt(req, headers, "manual");
        reply = match follow(courier, &paid_req, hop, false).await {
            Ok(sent) => sent.reply,
            Err(e) => {
                return Err(spend.on(Error::Mpp {
                    code: SPEND_OUTCOME_UNKNOWN.into(),
                    message: format!("The MPP credential was sent to {origin} but the request failed before any response was read ({e}), so {} credits may or may not have been burned. Do not blindly retry.", spend.credits),
                }))
            }
        };
        if reply.status == 402 {
            if let Err(e) = retry_or_stop(courier, &reply, &challenge, &origin).await {
                courier.discard();
                return Err(spend.on(e));
            }
        }
    }
    let receipt = match reply.payment_receipt.as_deref().map(mpp::parse_receipt) {
        Some(Ok(r)) => Some(r),
        Some(Err(why)) => {
            p.transport().warn(&format!("[payments.mpp.fetch] payment may have succeeded but the Payment-Receipt could not be decoded: {why}"));
            None
        }
        None => None,
    };
    let settled = receipt
        .as_ref()
        .is_some_and(|r| !mpp::receipt_states_failure(&r.status));
    let mut answer = spend.to_json();
    if let Some(o) = answer.as_object_mut() {
        o.remove("challengeId");
        o.insert("settled".into(), Value::Bool(settled));
        o.insert(
            "paid".into(),
            Value::Bool(settled && (200..300).contains(&reply.status)),
        );
        if let Some(r) = receipt {
            o.insert("receipt".into(), r.to_json());
        }
    }
    Ok(answer)
}

/// A new attempt of the caller's request with `headers` set, sent `redirect`.
fn attempt(req: &Outgoing, headers: Object, redirect: &str) -> Hop {
    Hop {
        attempt: true,
        url: req.url.clone(),
        method: req.method.clone(),
        token: None,
        body: None,
        keep_body: false,
        drop: &[],
        headers,
        redirect: redirect.to_owned(),
    }
}

/// After a credential was refused with a 402: `Ok` to pay once more (a
/// retryable code, or no code and a challenge with a new id), else the error
/// the seller's answer makes.
async fn retry_or_stop<C: Courier>(
    courier: &C,
    reply: &Reply,
    presented: &Challenge,
    origin: &str,
) -> Result<()> {
    let text = body(courier).await.unwrap_or_default();
    let Some((code, message)) = rejection(&text) else {
        return Err(Error::Mpp {
            code: MPP_ERROR.into(),
            message: format!("{origin} rejected the credential: MPP 402 was not JSON (likely a proxy or WAF page)"),
        });
    };
    let fresh = code.is_none()
        && reply
            .www_authenticate
            .as_deref()
            .and_then(|h| mpp::parse_challenge(h).ok().flatten())
            .is_some_and(|c| c.id != presented.id);
    if code.as_deref().is_some_and(mpp::retryable_code) || fresh {
        return Ok(());
    }
    Err(Error::Mpp {
        code: code.unwrap_or_else(|| MPP_ERROR.into()),
        message: format!("{origin} rejected the credential: {message}"),
    })
}

/// The last response's body (the courier caps it at [`ERROR_BODY_BYTES`]).
async fn body<C: Courier>(courier: &C) -> Result<String> {
    #[cfg(not(feature = "a2a-client"))]
    return courier.text().await;
    #[cfg(feature = "a2a-client")]
    return Ok(courier.read("text").await?.unwrap_or_default());
}

/// The code of an MPP error the wire gave no code for (the official `MppError` with none).
pub const MPP_ERROR: &str = "mpp_error";
/// The credential went out and no answer came back (the official `MppSpendOutcomeUnknownError`).
pub const SPEND_OUTCOME_UNKNOWN: &str = "spend_outcome_unknown";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_reads_its_code_and_at_most_200_characters() {
        let (code, message) = rejection(r#"{"code":"BCK.MPP.0003","message":"no"}"#).unwrap();
        assert_eq!(
            (code.as_deref(), message.as_str()),
            (Some("BCK.MPP.0003"), "no")
        );
        let (code, _) = rejection(r#"{"code":null,"message":"try again"}"#).unwrap();
        assert_eq!(code, None);
        let (code, _) = rejection(r#"{"code":"","error":{"reason":"x"}}"#).unwrap();
        assert_eq!(code, None);
        assert_eq!(rejection("  ").unwrap().0, None);
        assert!(rejection("<html>").is_none());
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(500));
        assert_eq!(rejection(&long).unwrap().1.len(), 200);
    }

    #[test]
    fn max_credits_takes_whole_non_negative_numbers_only() {
        let read = |v: &str| max_credits(json::parse(v).unwrap().as_object().unwrap());
        assert_eq!(read(r#"{}"#).unwrap(), None);
        assert_eq!(read(r#"{"maxCredits":"5"}"#).unwrap(), Some(5));
        assert_eq!(read(r#"{"maxCredits":0}"#).unwrap(), Some(0));
        for bad in [r#"-1"#, r#"1.5"#, r#""abc""#, r#""""#, r#"true"#] {
            let e = read(&format!(r#"{{"maxCredits":{bad}}}"#)).unwrap_err();
            assert_eq!(e.code(), "validation", "{bad}");
        }
    }
}
