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
//! Single use: a spent credential is refused here for the challenge's
//! lifetime (300 s), without a backend call; that memory is per isolate and
//! bounded ([`SPENT`] entries), so across instances, and past it, single use
//! rests on the backend: nvm-local refuses a settled challenge at verify and
//! answers a second settle as `replayed`, which delivers nothing here (the
//! official backend's behaviour is not documented: against one that verifies
//! settled challenges and replays settles silently, a credential can buy a
//! response once per instance, as with the official middleware).

use super::{respond, Decision, Exchange, Gate, Outcome, SETTLE_UNAVAILABLE, VERIFY_UNAVAILABLE};
use crate::cache::Bounded;
use crate::error::{Error, Result};
use crate::payments::Payments;
use crate::protocol::gate::{GateRequest, Hook, PaidRoute, HANDLER_FAILED, INVALID_REQUEST};
use crate::protocol::header::encode_payment_header;
use crate::protocol::json::{self, ObjectBuilder, Value};
use crate::protocol::mpp::credential_challenge_id;
use crate::transport::Transport;
use std::rc::Rc;

/// How long a spent credential is refused: the backend's challenge lifetime.
const SPENT_MS: u64 = 300_000;
/// How many credentials are remembered.
pub(super) const SPENT: usize = 4096;
/// Credentials by challenge id: being paid (`false`) or spent (`true`).
pub(super) type Credentials = Bounded<String, bool, SPENT>;

/// The rejection code of a refused credential (the backend's one code for all of them).
const REJECTED: &str = "BCK.MPP.0003";
const REFUSED: &str = "Credential rejected";
const USED: &str =
    "Credential already used. Each credential buys exactly one response; pay the new challenge.";

/// What a challenge for this request seals, and what its credential is redeemed with.
#[derive(Debug)]
struct Sealed {
    /// `{planId, credits, resource, httpVerb, agentId, digest?, description?}`: the challenge's.
    challenge: Value,
    /// `{resource, httpVerb, bodyDigest?}`: verify's and settle's, less the credential.
    redeem: json::Object,
}

/// A verified MPP credential, claimed, waiting for the handler.
#[derive(Debug)]
pub(super) struct MppTicket {
    req: GateRequest,
    prepared: Rc<super::prepared::Prepared>,
    sealed: Sealed,
    /// The verify/settle body.
    body: Value,
    /// The credential's challenge id.
    id: String,
}

impl MppTicket {
    /// The plan it pays.
    pub(super) fn plan_id(&self) -> &str {
        self.sealed.challenge["planId"].as_str().unwrap_or_default()
    }

    /// `{credential, resource, httpVerb}`: the official `paymentContext.mpp`.
    pub(super) fn context(&self) -> Value {
        let mut context = self.body.as_object().cloned().unwrap_or_default();
        context.remove("bodyDigest");
        Value::Object(context)
    }

    /// What it pays.
    pub(super) fn credits(&self) -> &str {
        self.sealed.challenge["credits"]
            .as_str()
            .unwrap_or_default()
    }
}

/// A 402 to answer: its message, the refusal's code, and what `onPaymentError` is told.
struct Refuse {
    message: &'static str,
    code: Option<String>,
    told: Option<(String, String)>,
}

impl Refuse {
    fn new(message: &'static str, code: Option<&str>) -> Self {
        Refuse {
            message,
            code: code.map(str::to_owned),
            told: None,
        }
    }

    fn told(mut self, code: &str, message: &str) -> Self {
        self.told = Some((code.to_owned(), message.to_owned()));
        self
    }
}

/// What [`Gate::mpp_check`] found.
enum Checked {
    Go(Value, String),
    Answer(Value),
    Refuse(Refuse),
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
        let digest = if bind_body {
            match x.digest().await {
                Some(d) => Some(d),
                None => {
                    return Ok(Decision::Answer(respond(cfg.handler_failed_answer(
                        &req,
                        INVALID_REQUEST,
                        "The request body could not be read to bind the payment to it; nothing was charged",
                    ))))
                }
            }
        } else {
            None
        };
        // The path and query (the official middleware's `req.originalUrl`).
        let resource = match req.url.split_once('?') {
            Some((_, query)) => format!("{}?{}", req.path(), query.split('#').next().unwrap_or("")),
            None => req.path().to_owned(),
        };
        let redeem = ObjectBuilder::new()
            .put("resource", resource)
            .put("httpVerb", req.verb())
            .put_opt("bodyDigest", digest.as_deref())
            .build();
        let credits = match &route.credits {
            crate::protocol::gate::Credits::Fixed(c)
            | crate::protocol::gate::Credits::Dynamic { verify_with: c } => c.as_str(),
        };
        let challenge = ObjectBuilder::new()
            .put("planId", route.plan_ids[0].as_str())
            .put("credits", credits)
            .put("resource", redeem["resource"].clone())
            .put("httpVerb", req.verb())
            .put("agentId", cfg.agent_id.as_str())
            .put_opt("digest", digest)
            .put_opt("description", route.description.as_deref())
            .build();
        let Value::Object(redeem) = redeem else {
            unreachable!("an object was built")
        };
        let sealed = Sealed { challenge, redeem };
        match self.mpp_check(p, x, &req, &prepared, &sealed).await {
            Checked::Go(body, id) => Ok(Decision::Mpp(MppTicket {
                req,
                prepared,
                sealed,
                body,
                id,
            })),
            Checked::Answer(answer) => Ok(Decision::Answer(answer)),
            Checked::Refuse(r) => self
                .mpp_refuse(p, x, &req, &prepared, &sealed, r)
                .await
                .map(Decision::Answer),
        }
    }

    /// The credential's checks, up to its claim.
    async fn mpp_check<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        x: &X,
        req: &GateRequest,
        prepared: &super::prepared::Prepared,
        sealed: &Sealed,
    ) -> Checked {
        let cfg = &self.config;
        let Some(credential) = req.credential.as_deref() else {
            // The opening request of every MPP payment carries none: not an error,
            // unless an Authorization came without a Payment scheme (something on
            // the way rewrote it, and the buyer would loop).
            let r = Refuse::new(
                "Payment required. Present the challenge credential in Authorization.",
                None,
            );
            return Checked::Refuse(if req.authorization {
                r.told("payment_required", "An Authorization header was present but carried no MPP Payment scheme. An intermediary may be rewriting it; the buyer cannot make progress.")
            } else {
                r
            });
        };
        let Some(id) = credential_challenge_id(credential) else {
            return Checked::Refuse(Refuse::new(REFUSED, Some(REJECTED)).told(REJECTED, REFUSED));
        };
        if self.mpp.get_at(id.as_str(), p.transport().now_ms()) == Some(true) {
            return Checked::Refuse(Refuse::new(USED, Some(REJECTED)));
        }
        let mut body = sealed.redeem.clone();
        body.insert("credential".into(), Value::from(credential));
        let body = Value::Object(body);
        if cfg.hooks.has(Hook::BeforeVerify) {
            x.hook(Hook::BeforeVerify, prepared.payment_required.clone())
                .await;
        }
        match redeem(p, false, &body).await {
            Outcome::Ok(verified) => {
                if cfg.hooks.has(Hook::AfterVerify) {
                    x.hook(Hook::AfterVerify, verified).await;
                }
            }
            Outcome::Refused(reason, code) => {
                let code = code.as_ref().and_then(Value::as_str);
                return Checked::Refuse(
                    Refuse::new(REFUSED, code).told("payment_required", &reason),
                );
            }
            Outcome::Unavailable(e) => {
                return Checked::Answer(self.unavailable(p, x, req, VERIFY_UNAVAILABLE, &e).await)
            }
        }
        // Check and claim with no await between: two requests with one credential can't both pass.
        let now = p.transport().now_ms();
        match self.mpp.get_at(id.as_str(), now) {
            Some(true) => Checked::Refuse(Refuse::new(USED, Some(REJECTED))),
            Some(false) => {
                const BUSY: &str =
                    "This credential is already being processed by a concurrent request.";
                self.payment_error(x, REJECTED, BUSY, 409).await;
                Checked::Answer(respond(cfg.conflict_answer(req)))
            }
            None => {
                self.mpp.insert_until(id.clone(), false, now + SPENT_MS);
                Checked::Go(body, id)
            }
        }
    }

    /// MPP's 402: a fresh challenge (none when it can't be issued: the 402 is
    /// then x402's alone), told to `onPaymentError` when it is a failure.
    async fn mpp_refuse<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        x: &X,
        req: &GateRequest,
        prepared: &super::prepared::Prepared,
        sealed: &Sealed,
        r: Refuse,
    ) -> Result<Value> {
        let issued = p.mpp_challenge(&sealed.challenge).send().await;
        let mut told = r.told;
        if let Err(e) = &issued {
            p.transport().warn(&format!(
                "nvm-x402 paywall: the MPP challenge could not be issued, the 402 offers x402 only: {e} ({})",
                e.code()
            ));
            told = Some((e.code().into_owned(), e.to_string()));
        }
        if let Some((code, message)) = told {
            self.payment_error(x, &code, &message, 402).await;
        }
        let header = encode_payment_header(&crate::protocol::gate::with_error(
            &prepared.payment_required,
            r.message,
        ))?;
        Ok(respond(
            self.config.mpp_challenge_answer(
                req,
                header,
                issued
                    .as_ref()
                    .ok()
                    .and_then(|v| v.get("challenge")?.as_str()),
                r.message,
                r.code.as_deref(),
            ),
        ))
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
        let mut headers = cfg.cors_headers(req);
        let mut settlement = None;
        let answer = if status == 0 {
            respond(cfg.handler_failed_answer(
                req,
                HANDLER_FAILED,
                "The handler failed; nothing was charged",
            ))
        } else if !(200..400).contains(&status) {
            Value::Null
        } else {
            match redeem(p, true, &t.body).await {
                Outcome::Ok(s) => {
                    self.mpp
                        .insert_until(t.id.clone(), true, p.transport().now_ms() + SPENT_MS);
                    let credits = crate::protocol::uint::opt_uint(
                        s.as_object().unwrap_or(&json::Object::new()),
                        "creditsRedeemed",
                        "settlement",
                    )
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| {
                        crate::protocol::Uint256::parse(t.credits()).unwrap_or_default()
                    });
                    self.after_settle(x, &credits, &s).await;
                    if let Some(receipt) = s.get("paymentReceipt").and_then(Value::as_str) {
                        headers.push(("payment-receipt".to_owned(), receipt.to_owned()));
                    }
                    headers.push(("cache-control".to_owned(), "private".to_owned()));
                    settlement = Some(s);
                    Value::Null
                }
                Outcome::Refused(reason, code) => {
                    let r = Refuse::new(
                        "The payment could not be settled; nothing was delivered. Pay the new challenge.",
                        code.as_ref().and_then(Value::as_str),
                    )
                    .told("payment_required", &reason);
                    self.mpp_refuse(p, x, req, &t.prepared, &t.sealed, r)
                        .await?
                }
                Outcome::Unavailable(e) => {
                    self.unavailable(p, x, req, SETTLE_UNAVAILABLE, &e).await
                }
            }
        };
        if settlement.is_none() {
            self.mpp.remove(t.id.as_str());
        }
        if !answer.is_null() {
            return Ok(answer);
        }
        Ok(ObjectBuilder::new()
            .put("action", "deliver")
            .put("headers", crate::protocol::gate::headers_json(&headers))
            .put("route", t.prepared.route())
            .put("planId", t.plan_id())
            .put_opt("settlement", settlement)
            .build())
    }
}

/// One MPP verify (`settle`: settle) read into an [`Outcome`]; a refusal's
/// value is its `BCK.MPP.*` code (the backend's one code for a refusal when it
/// answered `isValid`/`success: false`, or a 4xx with another code).
async fn redeem<T: Transport>(p: &Payments<T>, settle: bool, body: &Value) -> Outcome {
    let flag = if settle { "success" } else { "isValid" };
    match p.mpp_redeem_body(settle, body).send().await {
        // A settle the backend says is a replay (its challenge was settled before, for
        // another request or on another instance) bought nothing now: nothing is delivered.
        Ok(v) if v.get("replayed").and_then(Value::as_bool) == Some(true) => {
            Outcome::Refused(USED.to_owned(), Some(Value::from(REJECTED)))
        }
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
