//! MPP (the Machine Payments Protocol) on the HTTP paywall: a route with
//! `mpp: true | {bindBody}` also takes a `Payment` credential in
//! `Authorization`, next to x402's token. The lifecycle, as the official
//! Express middleware's, but fail closed:
//!
//! - No credential and no x402 token: a 402 with both protocols' offers, the
//!   MPP challenge the backend issues (`www-authenticate`) and the x402
//!   `payment-required` (an x402 buyer is served as before). When the
//!   challenge can't be issued the 402 is x402's alone.
//! - A credential: keyed on the challenge id it carries (never its bytes,
//!   which a buyer can vary), refused when already spent here; verified
//!   (nothing burned); claimed (a second request with it meanwhile is a 409);
//!   the handler runs; settled; only then is the response delivered, with
//!   `payment-receipt`. A settle that fails withholds the response (the
//!   official middleware delivers it unpaid); the backend down is a 503.
//! - Every refusal is a 402 with a fresh challenge, and the backend's
//!   `BCK.MPP.*` code with `retryable` when a credential was refused.
//!
//! The price is the route's fixed credits, sealed into the challenge; with
//! `bindBody` the challenge is bound to the SHA-256 of the request body (the
//! adapter computes it: [`Exchange::digest`]), an empty body included.
//!
//! Single use within this isolate: a spent credential is refused for the
//! challenge's lifetime (300 s); the memory is bounded ([`SPENT`] entries),
//! so a buyer who paid for that many newer credentials could replay the
//! oldest, and instances don't share it (as the official middleware's).

use super::{respond, Decision, Exchange, Gate, Outcome, SETTLE_UNAVAILABLE, VERIFY_UNAVAILABLE};
use crate::cache::Bounded;
use crate::error::{Error, Result};
use crate::payments::Payments;
use crate::protocol::gate::{GateRequest, Hook, PaidRoute, HANDLER_FAILED, INVALID_REQUEST};
use crate::protocol::header::encode_payment_header;
use crate::protocol::json::{self, ObjectBuilder, Value};
use crate::protocol::mpp::credential_challenge_id;
use crate::protocol::url::Url;
use crate::protocol::Uint256;
use crate::transport::Transport;
use std::rc::Rc;

/// How long a spent credential is refused: the backend's challenge lifetime.
const SPENT_MS: u64 = 300_000;
/// How many credentials are remembered.
pub(super) const SPENT: usize = 1024;
/// Credentials by challenge id: being paid (`false`) or spent (`true`).
pub(super) type Credentials = Bounded<String, bool, SPENT>;

/// The rejection code of a refused credential (the backend's one code for all of them).
const REJECTED: &str = "BCK.MPP.0003";
const REFUSED: &str = "Credential rejected";

/// A verified MPP credential, claimed, waiting for the handler.
#[derive(Debug)]
pub(super) struct MppTicket {
    req: GateRequest,
    prepared: Rc<super::prepared::Prepared>,
    plan_id: String,
    credits: Uint256,
    /// The verify/settle body.
    body: Value,
    /// The credential's challenge id.
    id: String,
    digest: Option<String>,
}

impl MppTicket {
    /// The plan it pays.
    pub(super) fn plan_id(&self) -> &str {
        &self.plan_id
    }

    /// What it pays.
    pub(super) fn credits(&self) -> &str {
        self.credits.as_str()
    }
}

/// What the challenge binds: the path and query of the request's URL (as the
/// official middleware's `req.originalUrl`).
fn resource_of(url: &str) -> String {
    match Url::parse(url) {
        Some(u) => match u.query {
            Some(q) => format!("{}?{q}", u.path),
            None => u.path,
        },
        None => String::from("/"),
    }
}

impl Gate {
    /// `decide` for a request to an MPP route that carries a credential, or no x402 token.
    pub(super) async fn mpp_decide<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        x: &X,
        req: GateRequest,
        route: &PaidRoute,
        prepared: Rc<super::prepared::Prepared>,
        bind_body: bool,
    ) -> Result<Decision> {
        let cfg = &self.config;
        let credits = match &route.credits {
            crate::protocol::gate::Credits::Fixed(c) => c.clone(),
            // (refused when the paywall is compiled)
            crate::protocol::gate::Credits::Dynamic { verify_with } => verify_with.clone(),
        };
        let plan_id = route.plan_ids[0].clone();
        let resource = resource_of(&req.url);
        let verb = req.verb().to_owned();
        let digest = if bind_body {
            match x.digest().await {
                Some(d) => Some(d),
                None => {
                    let answer = cfg.handler_failed_answer(
                        &req,
                        INVALID_REQUEST,
                        "The request body could not be read to bind the payment to it; nothing was charged",
                    );
                    return Ok(Decision::Answer(respond(answer)));
                }
            }
        } else {
            None
        };
        // The 402 with a fresh challenge, for `message` (and the refusal's code).
        let challenge = |message: &'static str, code: Option<String>| {
            let params = ObjectBuilder::new()
                .put("planId", plan_id.as_str())
                .put("credits", credits.as_str())
                .put("resource", resource.as_str())
                .put("httpVerb", verb.as_str())
                .put("agentId", cfg.agent_id.as_str())
                .put_opt("digest", digest.as_deref())
                .put_opt("description", route.description.as_deref())
                .build();
            let (req, prepared) = (&req, &prepared);
            async move {
                let issued = p.mpp_challenge(&params).send().await;
                let challenge = match &issued {
                    Ok(v) => v.get("challenge").and_then(Value::as_str),
                    Err(e) => {
                        p.transport().warn(&format!(
                            "nvm-x402 paywall: the MPP challenge could not be issued, the 402 offers x402 only: {e} ({})",
                            e.code()
                        ));
                        self.payment_error(x, &e.code(), &e.to_string(), 402).await;
                        None
                    }
                };
                let header = encode_payment_header(&crate::protocol::gate::with_error(
                    &prepared.payment_required,
                    message,
                ))?;
                Ok(Decision::Answer(respond(cfg.mpp_challenge_answer(
                    req,
                    header,
                    challenge,
                    message,
                    code.as_deref(),
                ))))
            }
        };
        let Some(credential) = req.credential.clone() else {
            // The opening request of every MPP payment carries none: not an error,
            // unless an Authorization came without a Payment scheme (something on
            // the way rewrote it, and the buyer would loop).
            if req.authorization {
                self.payment_error(x, "payment_required", "An Authorization header was present but carried no MPP Payment scheme. An intermediary may be rewriting it; the buyer cannot make progress.", 402).await;
            }
            return challenge(
                "Payment required. Present the challenge credential in Authorization.",
                None,
            )
            .await;
        };
        let Some(id) = credential_challenge_id(&credential) else {
            self.payment_error(x, REJECTED, REFUSED, 402).await;
            return challenge(REFUSED, Some(REJECTED.to_owned())).await;
        };
        let spent = |now| self.mpp.get_at(id.as_str(), now) == Some(true);
        if spent(p.transport().now_ms()) {
            return challenge(
                "Credential already used. Each credential buys exactly one response; pay the new challenge.",
                Some(REJECTED.to_owned()),
            )
            .await;
        }
        let body = ObjectBuilder::new()
            .put("credential", credential.as_str())
            .put("resource", resource.as_str())
            .put("httpVerb", verb.as_str())
            .put_opt("bodyDigest", digest.as_deref())
            .build();
        if cfg.hooks.has(Hook::BeforeVerify) {
            x.hook(Hook::BeforeVerify, prepared.payment_required.clone())
                .await;
        }
        let verified = match redeem(p, false, &body).await {
            Outcome::Ok(v) => v,
            Outcome::Refused(reason, code) => {
                self.payment_error(x, "payment_required", &reason, 402)
                    .await;
                return challenge(REFUSED, code.and_then(|c| c.as_str().map(str::to_owned))).await;
            }
            Outcome::Unavailable(e) => {
                let answer = self.unavailable(p, x, &req, VERIFY_UNAVAILABLE, &e).await;
                return Ok(Decision::Answer(answer));
            }
        };
        if cfg.hooks.has(Hook::AfterVerify) {
            x.hook(Hook::AfterVerify, verified).await;
        }
        // Check and claim with no await between: two requests with one credential can't both pass.
        let now = p.transport().now_ms();
        if spent(now) {
            return challenge(
                "Credential already used. Each credential buys exactly one response; pay the new challenge.",
                Some(REJECTED.to_owned()),
            )
            .await;
        }
        if self.mpp.get_at(id.as_str(), now) == Some(false) {
            self.payment_error(
                x,
                REJECTED,
                "This credential is already being processed by a concurrent request.",
                409,
            )
            .await;
            return Ok(Decision::Answer(respond(cfg.conflict_answer(&req))));
        }
        self.mpp.insert_until(id.clone(), false, now + SPENT_MS);
        Ok(Decision::Mpp(MppTicket {
            req,
            prepared,
            plan_id,
            credits,
            body,
            id,
            digest,
        }))
    }

    /// After the handler (`status`: 0 when it failed): settle, then deliver; the claim is
    /// released unless the credential was spent.
    pub(super) async fn mpp_settle<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        x: &X,
        t: MppTicket,
        status: u16,
    ) -> Result<Value> {
        let cfg = &self.config;
        let req = &t.req;
        let deliver = |headers: Vec<(String, String)>, settlement: Option<Value>| {
            ObjectBuilder::new()
                .put("action", "deliver")
                .put("headers", crate::protocol::gate::headers_json(&headers))
                .put("route", t.prepared.route())
                .put("planId", t.plan_id.as_str())
                .put_opt("settlement", settlement)
                .build()
        };
        let settled = if (200..400).contains(&status) {
            Some(redeem(p, true, &t.body).await)
        } else {
            None
        };
        let answer = match settled {
            Some(Outcome::Ok(settlement)) => {
                self.mpp
                    .insert_until(t.id.clone(), true, p.transport().now_ms() + SPENT_MS);
                let credits = crate::protocol::uint::opt_uint(
                    settlement.as_object().unwrap_or(&json::Object::new()),
                    "creditsRedeemed",
                    "settlement",
                )
                .ok()
                .flatten()
                .unwrap_or_else(|| t.credits.clone());
                self.after_settle(x, &credits, &settlement).await;
                let mut headers = Vec::with_capacity(4);
                if let Some(receipt) = settlement.get("paymentReceipt").and_then(Value::as_str) {
                    headers.push(("payment-receipt".to_owned(), receipt.to_owned()));
                }
                headers.push(("cache-control".to_owned(), "private".to_owned()));
                headers.extend(cfg.cors_headers(req));
                return Ok(deliver(headers, Some(settlement)));
            }
            _ if status == 0 => respond(cfg.handler_failed_answer(
                req,
                HANDLER_FAILED,
                "The handler failed; nothing was charged",
            )),
            None => deliver(cfg.cors_headers(req), None),
            Some(Outcome::Refused(reason, code)) => {
                self.payment_error(x, "payment_required", &reason, 402)
                    .await;
                let message = "The payment could not be settled; nothing was delivered. Pay the new challenge.";
                let params = ObjectBuilder::new()
                    .put("planId", t.plan_id.as_str())
                    .put("credits", t.credits.as_str())
                    .put(
                        "resource",
                        json::at(&t.body, &["resource"])
                            .cloned()
                            .unwrap_or_default(),
                    )
                    .put(
                        "httpVerb",
                        json::at(&t.body, &["httpVerb"])
                            .cloned()
                            .unwrap_or_default(),
                    )
                    .put("agentId", cfg.agent_id.as_str())
                    .put_opt("digest", t.digest.as_deref())
                    .build();
                let issued = p.mpp_challenge(&params).send().await.ok();
                let header = encode_payment_header(&crate::protocol::gate::with_error(
                    &t.prepared.payment_required,
                    message,
                ))?;
                respond(cfg.mpp_challenge_answer(
                    req,
                    header,
                    issued.as_ref().and_then(|v| v.get("challenge")?.as_str()),
                    message,
                    code.as_ref().and_then(Value::as_str),
                ))
            }
            Some(Outcome::Unavailable(e)) => {
                self.unavailable(p, x, req, SETTLE_UNAVAILABLE, &e).await
            }
        };
        self.mpp.remove(t.id.as_str());
        Ok(answer)
    }
}

/// One MPP verify (`settle`: settle) read into an [`Outcome`]; a refusal's
/// value is its `BCK.MPP.*` code (the backend's one code for a refusal when it
/// answered `isValid`/`success: false`, or a 4xx with another code).
async fn redeem<T: Transport>(p: &Payments<T>, settle: bool, body: &Value) -> Outcome {
    let flag = if settle { "success" } else { "isValid" };
    match p.mpp_redeem_body(settle, body).send().await {
        Ok(v) if v.get(flag).and_then(Value::as_bool) == Some(true) => Outcome::Ok(v),
        Ok(_) => Outcome::Refused(REFUSED.to_owned(), Some(Value::from(REJECTED))),
        Err(e) => match super::classify(&e) {
            super::Failure::Refused(reason) => {
                let code = match &e {
                    Error::Backend(b) if b.code.as_bytes().starts_with(b"BCK.MPP.") => {
                        b.code.as_str()
                    }
                    _ => REJECTED,
                };
                Outcome::Refused(reason, Some(Value::from(code)))
            }
            super::Failure::Unavailable => Outcome::Unavailable(e),
        },
    }
}

#[cfg(test)]
mod tests;
