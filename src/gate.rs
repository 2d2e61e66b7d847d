//! The agent-side gate's request lifecycle over a [`Payments`] client, as one
//! function: [`Gate::handle`] routes the request, pre-checks the token,
//! verifies (or, in upfront mode, settles), asks the [`Exchange`] to run the
//! handler (and to price its answer when the route's credits are dynamic),
//! settles, and answers. What only JavaScript can do (hold the Request and
//! the Response, call the user's functions) is the exchange's; every decision
//! is made here or in [`crate::protocol::gate`]. Backend round trips per paid
//! request: verify + settle (2), or settle alone in upfront mode and for
//! repeat payers (1); a token refused by the pre-checks costs none once the
//! route's plan schemes are known.
//!
//! Fail closed: when settling fails, the handler's (paid) response is never
//! delivered; when the backend can't be reached, the answer is a 503, never a
//! free 200; a hook can observe but never change what is answered.

use crate::error::{Error, Result};
use crate::payments::{Payments, Pending};
use crate::protocol::gate::{
    Answer, Credits, GateConfig, GateRequest, Hook, Refusal, Routing, DEFAULT_REFUSAL,
    HANDLER_FAILED, HANDLER_FAILED_AFTER_PAYMENT, INVALID_CREDITS, MISSING_TOKEN,
};
use std::borrow::Cow;
use std::rc::Rc;

/// What could not be done when the backend fails (both gates say it so).
pub(crate) const PLANS_UNAVAILABLE: &str = "Payment plans are unavailable";
pub(crate) const VERIFY_UNAVAILABLE: &str = "Payment verification is unavailable";
pub(crate) const SETTLE_UNAVAILABLE: &str = "Payment settlement is unavailable";
use crate::protocol::json::Value;
use crate::protocol::json::{self, ObjectBuilder};
use crate::protocol::{ResolvedScheme, Uint256};
use crate::transport::Transport;

/// What the gate asks of the side that holds the request and the handler's
/// response (the JavaScript adapter, `pkg-template/paywall.js`; a scripted one
/// in the tests). Each is asked at most once per request, and only when the
/// gate needs it.
#[allow(async_fn_in_trait)]
pub trait Exchange {
    /// Runs the handler, told `context` (the MCP paywall's context for the
    /// handler; the HTTP paywall's `{planId, credits}`): the status of its response (an MCP
    /// handler that returned: 200), or `None` when it threw or gave no
    /// response (nothing is charged).
    async fn run(&self, context: &Value) -> Option<u16>;

    /// The dynamic credits of the handler's answer (HTTP: asked only for a
    /// response below 400), for `route` (the HTTP route's key): what the
    /// credits function returned, as the adapter reads it (see [`dynamic_credits`]).
    async fn price(&self, route: &str) -> Value;

    /// Calls a hook the paywall was given (only those: see
    /// [`crate::protocol::gate::Hooks`]), with what it is told; awaited. Nothing
    /// it does changes the answer: the adapter logs a hook that throws.
    async fn hook(&self, hook: Hook, detail: Value);

    /// The request body's digest, `sha-256=<base64>` (an MPP route with
    /// `bindBody`; an empty body's too), or `None` when it could not be read.
    async fn digest(&self) -> Option<String> {
        None
    }
}

/// A compiled paywall.
#[derive(Debug)]
pub struct Gate {
    config: GateConfig,
    /// Tokens that may skip verify (`repeatPayers`).
    repeats: repeat::Repeats,
    /// Decoded reusable tokens.
    claims: claims::Claims,
    /// PaymentRequireds of recent resources, built and written once.
    prepared: prepared::Cache,
    #[cfg(all(feature = "mpp", feature = "agent"))]
    /// MPP credentials being paid or spent, by challenge id (keyed by what the
    /// backend burns once; evicting a spent one lets it be replayed: see `mpp`).
    mpp: mpp::Credentials,
}

/// What [`Gate::decide`] found a paid request needs after the handler runs.
#[derive(Debug)]
struct Ticket {
    req: GateRequest,
    /// The resource's PaymentRequired (and the route's key).
    prepared: Rc<prepared::Prepared>,
    /// The plan the token pays.
    plan_id: String,
    credits: Uint256,
    /// The route's credits are priced after the handler.
    dynamic: bool,
    token: String,
    agent_request_id: Option<String>,
    /// Settle's receipt is remembered for `repeatPayers`.
    remember: bool,
    /// Verify was skipped (a repeat payer): the reservation made on that
    /// generation of the token's entry is given back after.
    repeat: Option<u32>,
    /// Upfront mode: already settled.
    settlement: Option<Value>,
}

/// What a request needs, decided before the handler.
// Returned once per request and never stored: boxing the ticket would be one
// more allocation per paid request for nothing.
#[allow(clippy::large_enum_variant)]
enum Decision {
    /// This answer (JSON); the handler is not run.
    Answer(Value),
    /// A refusal kept as its whole answer's JSON text ([`prepared::Prepared::refusal`]).
    Kept(String),
    /// Paid: run the handler, then settle.
    Proceed(Ticket),
    /// Paid with an MPP credential: run the handler, then settle it.
    #[cfg(all(feature = "mpp", feature = "agent"))]
    Mpp(mpp::MppTicket),
}

fn respond(answer: Answer) -> Value {
    ObjectBuilder::new()
        .put("action", "respond")
        .put("response", answer.to_json())
        .build()
}

/// How a backend failure is answered.
pub(crate) enum Failure {
    /// The backend refused the payment (a 4xx envelope): 402.
    Refused(String),
    /// The backend is unreachable, broken, or refused the agent's own key: 503.
    Unavailable,
}

pub(crate) fn classify(error: &Error) -> Failure {
    match error {
        Error::Backend(b)
            if (400..500).contains(&b.http_status)
                && b.http_status != 401
                && b.http_status != 403
                && b.http_status != 429 =>
        {
            Failure::Refused(b.message.clone())
        }
        _ => Failure::Unavailable,
    }
}

/// What the backend said of a payment.
pub(crate) enum Outcome {
    /// verify's `isValid: true`, settle's `success: true`: the answer.
    Ok(Value),
    /// A "no" (`isValid`/`success` false, or a 4xx envelope): the reason, and
    /// the backend's answer when it gave one.
    Refused(String, Option<Value>),
    /// Unreachable, broken, or refusing the agent's own key.
    Unavailable(Error),
}

/// One verify (or, with `settle`, settle) call read into an [`Outcome`]. Both
/// gates ask through this one function, so its future is in the .wasm once.
pub(crate) async fn ask<T: Transport>(
    pending: Pending<'_, T>,
    settle: bool,
    token: &str,
) -> Outcome {
    let (flag, why) = if settle {
        ("success", "errorReason")
    } else {
        ("isValid", "invalidReason")
    };
    // A reason or backend message that quotes the token is shown with it redacted:
    // it goes into answers, errors and logs.
    let shown = |text: &str| crate::protocol::redact::redact_within(text, token);
    match pending.send().await {
        Err(mut e) => {
            if let Error::Backend(b) = &mut e {
                b.message = shown(&b.message);
            }
            match classify(&e) {
                Failure::Refused(reason) => Outcome::Refused(reason, None),
                Failure::Unavailable => Outcome::Unavailable(e),
            }
        }
        Ok(v) if v.get(flag).and_then(Value::as_bool) == Some(true) => Outcome::Ok(v),
        Ok(v) => {
            let reason = v
                .get(why)
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
                .map_or_else(|| DEFAULT_REFUSAL.to_owned(), shown);
            Outcome::Refused(reason, Some(v))
        }
    }
}

/// The backend's id of a verified request (`agentRequestId`, or `agentRequest.agentRequestId`).
pub(crate) fn agent_request_id(verification: &Value) -> Option<String> {
    verification
        .get("agentRequestId")
        .or_else(|| json::at(verification, &["agentRequest", "agentRequestId"]))
        .and_then(json::id_value)
}

/// Why a paid call failed when the backend can't be reached, as the caller is told it:
/// `{what}: the payment backend could not be reached; nothing was {held} or charged`.
/// The full error (which names the backend) goes to the agent's log only, after
/// `who`. A settle that failed so may still have burned: only "nothing was
/// delivered" is certain then.
pub(crate) fn unreachable<T: Transport>(
    p: &Payments<T>,
    who: &str,
    what: &str,
    error: &Error,
    held: &str,
) -> String {
    p.transport()
        .warn(&format!("{who}: {what}: {error} ({})", error.code()));
    if what == SETTLE_UNAVAILABLE {
        format!("{what}: the payment backend could not be reached; nothing was delivered")
    } else {
        format!("{what}: the payment backend could not be reached; nothing was {held} or charged")
    }
}

/// Each plan's scheme and network: `fixed` (with the environment's network
/// unless given), or looked up (cached by the client).
pub(crate) async fn schemes_of<T: Transport>(
    p: &Payments<T>,
    plan_ids: &[String],
    fixed: Option<(&str, Option<&str>)>,
) -> Result<Vec<ResolvedScheme>> {
    let mut out = Vec::with_capacity(plan_ids.len());
    for plan_id in plan_ids {
        out.push(match fixed {
            Some((scheme, network)) => ResolvedScheme {
                network: network
                    .unwrap_or_else(|| p.config().default_network(scheme))
                    .to_owned(),
                scheme: scheme.to_owned(),
            },
            None => p.resolve_scheme(plan_id).await?,
        });
    }
    Ok(out)
}

impl Gate {
    /// Compiles `paywall(options)`; configuration mistakes are errors here.
    pub fn new(options: &Value) -> Result<Self> {
        Ok(Gate {
            config: GateConfig::from_json(options)?,
            repeats: repeat::Repeats::default(),
            claims: claims::Claims::default(),
            prepared: prepared::Cache::default(),
            #[cfg(all(feature = "mpp", feature = "agent"))]
            mpp: mpp::Credentials::default(),
        })
    }

    /// The compiled configuration.
    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// One request, start to end. `request`: `{method, url, headers}` (the
    /// payment and CORS headers). Answers, as JSON text:
    /// - `{action: "respond", response, settlement?}`: send this (the
    ///   handler's response, if it ran, is withheld);
    /// - `{action: "deliver", headers, route, planId, settlement?}`: send the
    ///   handler's response with these headers (it was paid for, or free);
    /// - `{action: "pass", headers}`: an unprotected route, decided without
    ///   running anything: run the handler and add these headers (a handler
    ///   that fails there is answered with [`Gate::handler_failed`]).
    ///
    /// A refusal, a preflight and an unprotected route need no backend call
    /// once the route's schemes are known: the future is then ready on its
    /// first poll (a refusal awaits `onPaymentError` when it is given).
    pub async fn handle<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        request: &Value,
        x: &X,
    ) -> Result<String> {
        let ticket = match self.decide(p, request, x).await? {
            Decision::Kept(text) => return Ok(text),
            Decision::Answer(answer) => return Ok(json::to_text(&answer)),
            Decision::Proceed(ticket) => ticket,
            #[cfg(all(feature = "mpp", feature = "agent"))]
            Decision::Mpp(ticket) => {
                // The handler is told it was paid with MPP, as the official `paymentContext.mpp`.
                let paid = ObjectBuilder::new()
                    .put("planId", ticket.plan_id())
                    .put("credits", ticket.credits())
                    .put("mpp", ticket.context())
                    .build();
                let status = x.run(&paid).await.unwrap_or(0);
                return self
                    .mpp_settle(p, x, ticket, status)
                    .await
                    .map(|answer| json::to_text(&answer));
            }
        };
        // The handler is told what it is paid with (the paywall's third argument to it).
        let paid = ObjectBuilder::new()
            .put("planId", ticket.plan_id.as_str())
            .put("credits", ticket.credits.as_str())
            .build();
        let status = x.run(&paid).await.unwrap_or(0);
        // Everything below 400 is delivered content (a redirect to a download is the
        // download), so a dynamic price is asked for it too.
        let credits = if ticket.dynamic && (200..400).contains(&status) {
            Some(x.price(ticket.prepared.route()).await)
        } else {
            None
        };
        let out = self
            .settle_after(p, &ticket, status, credits.as_ref(), x)
            .await;
        // What a repeat payer's request reserved is given back once it is settled (or not).
        if let Some(generation) = ticket.repeat {
            self.repeats.release(
                &ticket.token,
                ticket.prepared.route(),
                &ticket.credits,
                generation,
            );
        }
        out.map(|answer| json::to_text(&answer))
    }

    /// The 500 for an unprotected route whose handler threw or gave no
    /// response (`request` as [`Gate::handle`] takes it, for the CORS headers).
    pub fn handler_failed(&self, request: &Value) -> Value {
        match GateRequest::from_json(request) {
            Ok(req) => self
                .config
                .handler_failed_answer(&req, HANDLER_FAILED, "The handler failed")
                .to_json(),
            Err(e) => GateConfig::misconfigured_answer(&e).to_json(),
        }
    }

    /// Tells `onPaymentError` (when given) why a paid request is answered
    /// `status` (402: refused, 503: the backend can't be asked).
    async fn payment_error<X: Exchange>(&self, x: &X, code: &str, message: &str, status: u16) {
        if self.config.hooks.has(Hook::PaymentError) {
            let detail = Hook::error_detail(code, Value::from(message), Some(status), None);
            x.hook(Hook::PaymentError, detail).await;
        }
    }

    /// A 503 for a paid request, and the full error (which names the backend)
    /// in the agent's log only; told to `onPaymentError`.
    async fn unavailable<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        x: &X,
        req: &GateRequest,
        what: &str,
        error: &Error,
    ) -> Value {
        p.transport().warn(&format!(
            "nvm-x402 paywall: {what}: {error} ({})",
            error.code()
        ));
        let answer = self.config.unavailable_answer(req, what, error);
        self.payment_error(x, &error.code(), what, 503).await;
        respond(answer)
    }

    /// Everything before the handler.
    async fn decide<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        request: &Value,
        x: &X,
    ) -> Result<Decision> {
        let cfg = &self.config;
        let req = match GateRequest::from_json(request) {
            Ok(r) => r,
            Err(e) => {
                return Ok(Decision::Answer(respond(GateConfig::misconfigured_answer(
                    &e,
                ))))
            }
        };
        let route = match cfg.route(&req) {
            Routing::Preflight(answer) => return Ok(Decision::Answer(respond(answer))),
            Routing::Unprotected => {
                return Ok(Decision::Answer(
                    ObjectBuilder::new()
                        .put("action", "pass")
                        .put(
                            "headers",
                            crate::protocol::gate::headers_json(&cfg.cors_headers(&req)),
                        )
                        .build(),
                ));
            }
            Routing::Paid(route) => route,
        };
        // Cheap refusals first: a token that can't pay for this route costs no plan lookup it doesn't need.
        let checked = req.token.as_deref().map(|t| {
            self.claims
                .of(t)
                .and_then(|claims| cfg.precheck(route, &req, claims))
        });
        let fixed = route
            .scheme
            .as_deref()
            .map(|s| (s, route.network.as_deref()));
        let schemes = match schemes_of(p, &route.plan_ids, fixed).await {
            Ok(s) => s,
            Err(e) => {
                let answer = self.unavailable(p, x, &req, PLANS_UNAVAILABLE, &e).await;
                return Ok(Decision::Answer(answer));
            }
        };
        let prepared = self.prepared.get(cfg, route, &req, schemes)?;
        // An MPP route: a Payment credential, or no x402 token, is MPP's.
        #[cfg(all(feature = "mpp", feature = "agent"))]
        if let Some(bind_body) = route.mpp {
            if req.credential.is_some() || req.token.is_none() {
                return self.mpp_decide(p, x, req, route, prepared, bind_body).await;
            }
        }
        let refused = match (req.token.as_deref(), checked) {
            (Some(token), Some(Ok((claims, index)))) => {
                match GateConfig::check_scheme(&claims, &prepared.schemes[index]) {
                    Ok(()) => Ok((token, claims, index)),
                    Err(Refusal(reason)) => Err(Cow::Owned(reason)),
                }
            }
            (_, Some(Err(Refusal(reason)))) => Err(Cow::Owned(reason)),
            // (borrowed: the tokenless 402 is the hot refusal, and allocates nothing for its reason)
            _ => Err(Cow::Borrowed(MISSING_TOKEN)),
        };
        let (token, claims, index) = match refused {
            Ok(paying) => paying,
            Err(reason) => return self.refuse(x, &req, &prepared, &reason).await,
        };
        let (credits, dynamic) = match &route.credits {
            Credits::Fixed(c) => (c, false),
            Credits::Dynamic { verify_with } => (verify_with, true),
        };
        // A repeat payer (a reusable token that settled here within the window): settle only.
        let remember = cfg.repeat_window_ms > 0 && !dynamic && !claims.is_v3();
        let slot = if remember {
            let now = p.transport().now_ms();
            self.repeats.take(token, &route.key, credits, now)
        } else {
            repeat::Slot::Verify
        };
        let mut agent_request_id = None;
        let mut settlement = None;
        let repeat = match slot {
            repeat::Slot::Go(generation) => Some(generation),
            repeat::Slot::Verify => None,
        };
        if repeat.is_some() {
            // Verify skipped; settle after the handler.
        } else if cfg.upfront {
            let body = prepared.body(token, credits, None);
            match ask(p.facilitator_prepared(true, body), true, token).await {
                Outcome::Ok(s) => {
                    self.after_settle(x, credits, &s).await;
                    settlement = Some(s);
                }
                Outcome::Refused(reason, Some(settlement)) => {
                    let answer = cfg.settle_failed_answer(
                        &req,
                        &prepared.payment_required,
                        &settlement,
                        &reason,
                    )?;
                    self.payment_error(x, "payment_required", &reason, 402)
                        .await;
                    return Ok(Decision::Answer(respond(answer)));
                }
                Outcome::Refused(reason, None) => {
                    return self.refuse(x, &req, &prepared, &reason).await
                }
                Outcome::Unavailable(e) => {
                    let answer = self.unavailable(p, x, &req, SETTLE_UNAVAILABLE, &e).await;
                    return Ok(Decision::Answer(answer));
                }
            }
        } else {
            if cfg.hooks.has(Hook::BeforeVerify) {
                x.hook(Hook::BeforeVerify, prepared.payment_required.clone())
                    .await;
            }
            let body = prepared.body(token, credits, None);
            let verified = match ask(p.facilitator_prepared(false, body), false, token).await {
                Outcome::Ok(v) => v,
                Outcome::Refused(reason, _) => {
                    return self.refuse(x, &req, &prepared, &reason).await
                }
                Outcome::Unavailable(e) => {
                    let answer = self.unavailable(p, x, &req, VERIFY_UNAVAILABLE, &e).await;
                    return Ok(Decision::Answer(answer));
                }
            };
            agent_request_id = self::agent_request_id(&verified).filter(|id| !id.is_empty());
            if cfg.hooks.has(Hook::AfterVerify) {
                x.hook(Hook::AfterVerify, verified).await;
            }
        }
        Ok(Decision::Proceed(Ticket {
            token: token.to_owned(),
            plan_id: route.plan_ids[index].clone(),
            prepared: Rc::clone(&prepared),
            credits: credits.clone(),
            dynamic,
            agent_request_id,
            remember,
            repeat,
            settlement,
            req,
        }))
    }

    /// The 402 refusing a request to `prepared`'s resource for `reason` (kept
    /// as its whole answer's text, see [`prepared::Prepared::refusal`]), told
    /// to `onPaymentError`.
    async fn refuse<X: Exchange>(
        &self,
        x: &X,
        req: &GateRequest,
        prepared: &prepared::Prepared,
        reason: &str,
    ) -> Result<Decision> {
        let text = prepared.refusal(reason, self.config.cors_headers(req), |header, cors| {
            json::to_text(&respond(GateConfig::payment_required_answer_encoded(
                cors, header, reason,
            )))
        })?;
        self.payment_error(x, "payment_required", reason, 402).await;
        Ok(Decision::Kept(text))
    }

    /// Tells `onAfterSettle` (when given): the credits and the settlement.
    async fn after_settle<X: Exchange>(&self, x: &X, credits: &Uint256, settlement: &Value) {
        if self.config.hooks.has(Hook::AfterSettle) {
            x.hook(Hook::AfterSettle, Hook::settled_detail(credits, settlement))
                .await;
        }
    }

    /// After the handler: `status` of its response (0 when it threw: a 500 is
    /// answered and nothing is charged), `credits` the dynamic cost when the
    /// route has one.
    async fn settle_after<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        t: &Ticket,
        status: u16,
        credits: Option<&Value>,
        x: &X,
    ) -> Result<Value> {
        let cfg = &self.config;
        let req = &t.req;
        // What follows the handler: with the route and plan (for `onSettled`) whenever a
        // settlement was made, delivered or not.
        let after = |action: &str, key: &str, value: Value, settlement: Option<Value>| {
            ObjectBuilder::new()
                .put("action", action)
                .put(key, value)
                .put("route", t.prepared.route())
                .put("planId", t.plan_id.as_str())
                .put_opt("settlement", settlement)
                .build()
        };
        let deliver = |headers: Vec<(String, String)>, settlement: Option<Value>| {
            after(
                "deliver",
                "headers",
                crate::protocol::gate::headers_json(&headers),
                settlement,
            )
        };
        let withheld = |answer: Answer, settlement: Value| {
            after("respond", "response", answer.to_json(), Some(settlement))
        };
        if let Some(settlement) = &t.settlement {
            // Upfront mode: already paid, whatever the handler answered.
            if status == 0 {
                let answer = cfg
                    .handler_failed_answer(req, HANDLER_FAILED_AFTER_PAYMENT, "The handler failed after the payment was settled: the credits were already spent")
                    .with_all(cfg.receipt_headers(settlement)?);
                return Ok(withheld(answer, settlement.clone()));
            }
            return Ok(deliver(
                cfg.paid_headers(req, settlement)?,
                Some(settlement.clone()),
            ));
        }
        if status == 0 {
            return Ok(respond(cfg.handler_failed_answer(
                req,
                HANDLER_FAILED,
                "The handler failed; nothing was charged",
            )));
        }
        // Everything below 400 is delivered content (a redirect to a download is the download).
        if !(200..400).contains(&status) {
            return Ok(deliver(cfg.cors_headers(req), None));
        }
        let dynamic;
        let amount = match credits {
            None => &t.credits,
            Some(c) => match dynamic_credits(c) {
                Ok(n) if n.is_zero() => return Ok(deliver(cfg.cors_headers(req), None)),
                Ok(n) => {
                    dynamic = n;
                    &dynamic
                }
                Err(why) => {
                    return Ok(respond(cfg.handler_failed_answer(
                        req,
                        INVALID_CREDITS,
                        &format!("The route's credits function {why}; nothing was charged"),
                    )))
                }
            },
        };
        let body = t
            .prepared
            .body(&t.token, amount, t.agent_request_id.as_deref());
        match ask(p.facilitator_prepared(true, body), true, &t.token).await {
            Outcome::Ok(settlement) => {
                if t.remember {
                    let left = crate::protocol::uint::opt_uint(
                        settlement.as_object().unwrap_or(&json::Object::new()),
                        "remainingBalance",
                        "settlement",
                    )
                    .ok()
                    .flatten();
                    let until = p.transport().now_ms().saturating_add(cfg.repeat_window_ms);
                    self.repeats
                        .settled(&t.token, t.prepared.route(), left.as_ref(), until);
                }
                self.after_settle(x, amount, &settlement).await;
                Ok(deliver(
                    cfg.paid_headers(req, &settlement)?,
                    Some(settlement),
                ))
            }
            Outcome::Refused(reason, settlement) => {
                self.repeats.forget(&t.token, t.prepared.route());
                // A 4xx envelope has no receipt: the failed one the spec describes stands in.
                let settlement = settlement.unwrap_or_else(|| {
                    ObjectBuilder::new()
                        .put("success", false)
                        .put("errorReason", reason.as_str())
                        .put("transaction", "")
                        .put("network", t.prepared.network())
                        .build()
                });
                let answer = cfg.settle_failed_answer(
                    req,
                    &t.prepared.payment_required,
                    &settlement,
                    &reason,
                )?;
                self.payment_error(x, "payment_required", &reason, 402)
                    .await;
                Ok(withheld(answer, settlement))
            }
            Outcome::Unavailable(e) => {
                Ok(self.unavailable(p, x, req, SETTLE_UNAVAILABLE, &e).await)
            }
        }
    }
}

/// What the dynamic credits function returned, as the facade describes it:
/// a number, a decimal string (bigints cross as strings), or `{invalid: kind}`
/// for what can't be a credit count (`undefined`, `null`, `NaN`, `Infinity`,
/// another type, or `threw`). Negative, fractional and unsafe numbers are refused too.
pub(crate) fn dynamic_credits(value: &Value) -> std::result::Result<Uint256, String> {
    if let Some(kind) = json::at(value, &["invalid"]).and_then(Value::as_str) {
        return Err(match kind {
            "threw" => "threw".to_owned(),
            other => format!("returned {other}, not a number of credits"),
        });
    }
    Uint256::from_json(value).map_err(|e| format!("returned an invalid amount ({e})"))
}

pub mod a2a;
mod claims;
pub mod mcp;
#[cfg(all(feature = "mpp", feature = "agent"))]
mod mpp;
mod prepared;
mod repeat;
pub mod tool;

#[cfg(test)]
mod tests;
