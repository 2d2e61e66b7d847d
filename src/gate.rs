//! The agent-side gate's request lifecycle over a [`Payments`] client:
//! `begin` (route, pre-check, verify — or settle, in upfront mode) before the
//! handler runs, `finish` (settle) after it. JavaScript only moves `Request`
//! and `Response` objects; every decision is made here or in
//! [`crate::protocol::gate`]. Backend round trips per paid request: verify +
//! settle (2), or settle alone in upfront mode (1); a token refused by the
//! pre-checks costs none once the route's plan schemes are known.
//!
//! Fail closed: when settling fails, the handler's (paid) response is never
//! delivered; when the backend can't be reached, the answer is a 503, never a
//! free 200.

use crate::error::{Error, Result};
use crate::payments::{Payments, Pending};
use crate::protocol::gate::{
    Answer, Credits, GateConfig, GateRequest, Refusal, Routing, DEFAULT_REFUSAL, HANDLER_FAILED,
    HANDLER_FAILED_AFTER_PAYMENT, INVALID_CREDITS, MISSING_TOKEN,
};
use std::rc::Rc;

/// What could not be done when the backend fails (both gates say it so).
pub(crate) const PLANS_UNAVAILABLE: &str = "Payment plans are unavailable";
pub(crate) const VERIFY_UNAVAILABLE: &str = "Payment verification is unavailable";
pub(crate) const SETTLE_UNAVAILABLE: &str = "Payment settlement is unavailable";
use crate::protocol::json::Value;
use crate::protocol::json::{self, ObjectBuilder};
use crate::protocol::{ResolvedScheme, Uint256};
use crate::transport::Transport;

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
    /// Requests between `begin` and `finish`.
    tickets: tickets::Tickets<Ticket>,
}

/// What `begin` keeps for `finish`, on this side of the boundary (JavaScript
/// holds its number).
#[derive(Debug)]
struct Ticket {
    req: GateRequest,
    /// The resource's PaymentRequired (and the route's key).
    prepared: Rc<prepared::Prepared>,
    credits: Uint256,
    token: String,
    agent_request_id: Option<String>,
    /// Settle's receipt is remembered for `repeatPayers`.
    remember: bool,
    /// Verify was skipped (a repeat payer): the reservation is given back in `finish`.
    repeat: bool,
    /// Upfront mode: already settled.
    settlement: Option<Value>,
}

fn respond(answer: Answer) -> Value {
    ObjectBuilder::new()
        .put("action", "respond")
        .put("response", answer.to_json())
        .build()
}

fn deliver(headers: Vec<(String, String)>, settlement: Option<Value>) -> Value {
    ObjectBuilder::new()
        .put("action", "deliver")
        .put("headers", crate::protocol::gate::headers_json(&headers))
        .put_opt("settlement", settlement)
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
pub(crate) async fn ask<T: Transport>(pending: Pending<'_, T>, settle: bool) -> Outcome {
    let (flag, why) = if settle {
        ("success", "errorReason")
    } else {
        ("isValid", "invalidReason")
    };
    match pending.send().await {
        Err(e) => match classify(&e) {
            Failure::Refused(reason) => Outcome::Refused(reason, None),
            Failure::Unavailable => Outcome::Unavailable(e),
        },
        Ok(v) if v.get(flag).and_then(Value::as_bool) == Some(true) => Outcome::Ok(v),
        Ok(v) => {
            let reason = v
                .get(why)
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
                .unwrap_or(DEFAULT_REFUSAL)
                .to_owned();
            Outcome::Refused(reason, Some(v))
        }
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
            tickets: tickets::Tickets::default(),
        })
    }

    /// The compiled configuration.
    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// Before the handler. `request`: `{method, url, headers}`. Answers
    /// `{action: "respond", response}`, `{action: "pass", headers}` (unprotected;
    /// add these headers to the handler's response) or `{action: "proceed",
    /// route, planId, dynamic, ticket}` (run the handler, then call
    /// [`Gate::finish`] with the ticket, a number).
    pub async fn begin<T: Transport>(&self, p: &Payments<T>, request: &Value) -> Result<Value> {
        match self.decide(p, request).await? {
            Value::String(text) => json::parse(&text)
                .map_err(|_| Error::validation("gate: a kept refusal is not JSON")),
            answer => Ok(answer),
        }
    }

    /// [`Gate::begin`]'s answer as JSON text (what JavaScript is handed).
    pub async fn begin_text<T: Transport>(
        &self,
        p: &Payments<T>,
        request: &Value,
    ) -> Result<String> {
        Ok(match self.decide(p, request).await? {
            Value::String(text) => text,
            answer => json::to_text(&answer),
        })
    }

    /// [`Gate::begin`]'s decision; a refusal kept as text (see
    /// [`prepared::Prepared::refusal`]) comes back as a JSON string value
    /// holding it (no other answer is a string).
    async fn decide<T: Transport>(&self, p: &Payments<T>, request: &Value) -> Result<Value> {
        let cfg = &self.config;
        let req = match GateRequest::from_json(request) {
            Ok(r) => r,
            Err(e) => return Ok(respond(GateConfig::misconfigured_answer(&e))),
        };
        let route = match cfg.route(&req) {
            Routing::Preflight(answer) => return Ok(respond(answer)),
            Routing::Unprotected => {
                return Ok(ObjectBuilder::new()
                    .put("action", "pass")
                    .put(
                        "headers",
                        crate::protocol::gate::headers_json(&cfg.cors_headers(&req)),
                    )
                    .build());
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
            Err(e) => return Ok(respond(self.unavailable(p, &req, PLANS_UNAVAILABLE, &e))),
        };
        let prepared = self.prepared.get(cfg, route, &req, schemes)?;
        let refuse = |reason: &str| -> Result<Value> {
            prepared
                .refusal(reason, cfg.cors_headers(&req), |header, cors| {
                    json::to_text(&respond(GateConfig::payment_required_answer_encoded(
                        cors, header, reason,
                    )))
                })
                .map(Value::String)
        };
        let (token, claims, index) = match (req.token.as_deref(), checked) {
            (Some(token), Some(Ok((claims, index)))) => (token, claims, index),
            (_, Some(Err(Refusal(reason)))) => return refuse(&reason),
            _ => return refuse(MISSING_TOKEN),
        };
        if let Err(Refusal(reason)) = GateConfig::check_scheme(&claims, &prepared.schemes[index]) {
            return refuse(&reason);
        }
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
        if slot == repeat::Slot::Go {
            // Verify skipped; finish settles.
        } else if cfg.upfront {
            let body = prepared.body(token, credits, None);
            match ask(p.facilitator_prepared(true, body), true).await {
                Outcome::Ok(s) => settlement = Some(s),
                Outcome::Refused(reason, Some(settlement)) => {
                    return Ok(respond(cfg.settle_failed_answer(
                        &req,
                        &prepared.payment_required,
                        &settlement,
                        &reason,
                    )?))
                }
                Outcome::Refused(reason, None) => return refuse(&reason),
                Outcome::Unavailable(e) => {
                    return Ok(respond(self.unavailable(p, &req, SETTLE_UNAVAILABLE, &e)))
                }
            }
        } else {
            let body = prepared.body(token, credits, None);
            let verified = match ask(p.facilitator_prepared(false, body), false).await {
                Outcome::Ok(v) => v,
                Outcome::Refused(reason, _) => return refuse(&reason),
                Outcome::Unavailable(e) => {
                    return Ok(respond(self.unavailable(p, &req, VERIFY_UNAVAILABLE, &e)))
                }
            };
            agent_request_id = verified
                .get("agentRequestId")
                .or_else(|| json::at(&verified, &["agentRequest", "agentRequestId"]))
                .and_then(json::id_value)
                .filter(|id| !id.is_empty());
        }
        let plan_id = route.plan_ids[index].as_str();
        let ticket = self.tickets.keep(Ticket {
            token: token.to_owned(),
            prepared: Rc::clone(&prepared),
            credits: credits.clone(),
            agent_request_id,
            remember,
            repeat: slot == repeat::Slot::Go,
            settlement,
            req,
        });
        Ok(ObjectBuilder::new()
            .put("action", "proceed")
            .put("route", route.key.as_str())
            .put("dynamic", dynamic)
            .put("ticket", u64::from(ticket))
            .put("planId", plan_id)
            .build())
    }

    /// 503, and the full error (which names the backend) in the agent's log only.
    fn unavailable<T: Transport>(
        &self,
        p: &Payments<T>,
        req: &GateRequest,
        what: &str,
        error: &Error,
    ) -> Answer {
        p.transport().warn(&format!(
            "nvm-x402 paywall: {what}: {error} ({})",
            error.code()
        ));
        self.config.unavailable_answer(req, what, error)
    }

    /// After the handler: `ticket` is `begin`'s number, `status` its
    /// response's status (0 when it threw: a 500 is answered and nothing is
    /// charged), `credits` the dynamic cost (JS number/bigint/string) when the
    /// route has one. Answers `{action: "deliver", headers, settlement?}`
    /// (send the handler's response with these headers) or `{action:
    /// "respond", response, settlement?}` (send this instead: the paid body is
    /// withheld). A ticket is finished once.
    pub async fn finish<T: Transport>(
        &self,
        p: &Payments<T>,
        ticket: &Value,
        status: u16,
        credits: Option<&Value>,
    ) -> Result<Value> {
        let ticket = ticket
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .and_then(|n| self.tickets.take(n))
            .ok_or_else(|| Error::validation("gate: unknown or finished ticket"))?;
        let out = self.settle_after(p, &ticket, status, credits).await;
        // What a repeat payer's request reserved is given back once it is settled (or not).
        if ticket.repeat {
            self.repeats
                .release(&ticket.token, ticket.prepared.route(), &ticket.credits);
        }
        out
    }

    async fn settle_after<T: Transport>(
        &self,
        p: &Payments<T>,
        t: &Ticket,
        status: u16,
        credits: Option<&Value>,
    ) -> Result<Value> {
        let cfg = &self.config;
        let req = &t.req;
        if let Some(settlement) = &t.settlement {
            // Upfront mode: already paid, whatever the handler answered.
            if status == 0 {
                let answer = cfg
                    .handler_failed_answer(req, HANDLER_FAILED_AFTER_PAYMENT, "The handler failed after the payment was settled: the credits were already spent")
                    .with_all(cfg.receipt_headers(settlement)?);
                return Ok(ObjectBuilder::new()
                    .put("action", "respond")
                    .put("response", answer.to_json())
                    .put("settlement", settlement.clone())
                    .build());
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
        let amount = match credits.filter(|c| !c.is_null()) {
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
        match ask(p.facilitator_prepared(true, body), true).await {
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
                Ok(ObjectBuilder::new()
                    .put("action", "respond")
                    .put("response", answer.to_json())
                    .put("settlement", settlement)
                    .build())
            }
            Outcome::Unavailable(e) => {
                Ok(respond(self.unavailable(p, req, SETTLE_UNAVAILABLE, &e)))
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

mod claims;
pub mod mcp;
mod prepared;
mod repeat;
pub(crate) mod tickets;

#[cfg(test)]
mod tests;
