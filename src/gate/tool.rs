//! A paid function's lifecycle (`nvm-x402/langchain`'s `requiresPayment`, for
//! LangChain tools) over a [`Payments`] client, as one function:
//! [`ToolGate::handle`] resolves the plans' schemes, pre-checks the token,
//! verifies, asks the [`Exchange`] to run the function (and to price its
//! result when the credits are a function), settles, and answers. The adapter
//! (`pkg-template/langchain.js`) only moves LangChain's arguments and results,
//! calls the user's functions and turns the answer into a result or an error.
//! Backend round trips per paid call: verify + settle (plus a plan lookup per
//! plan every 5 minutes when no scheme is given).
//!
//! Fail closed, where the official SDK is not: a settle that fails withholds
//! the function's result (the official SDK logs it and returns the result
//! unpaid); a backend that can't be reached is an error, never a free answer.
//!
//! The adapter is told each step through [`Exchange::hook`] (`onBeforeVerify`
//! with the PaymentRequired, `onAfterVerify` with the verification, valid or not,
//! `onAfterSettle` with the settlement): it opens and closes its LangSmith spans
//! (`nvm:verify`, `nvm:settlement`) on them; nothing it does changes the answer.

use super::{agent_request_id, ask, dynamic_credits, schemes_of, Exchange, Outcome};
use super::{PLANS_UNAVAILABLE, SETTLE_UNAVAILABLE, VERIFY_UNAVAILABLE};
use crate::error::{Error, Result};
use crate::payments::Payments;
use crate::protocol::gate::tool::{ToolConfig, MISSING_TOKEN, SETTLE_FAILED, VERIFY_FAILED};
use crate::protocol::gate::{with_error, Credits, GateConfig, Hook, Refusal};
use crate::protocol::json::{self, ObjectBuilder, Value};
use crate::protocol::redact::redact;
use crate::transport::Transport;

/// A wrapped function (`requiresPayment(fn, options)`).
#[derive(Debug)]
pub struct ToolGate {
    config: ToolConfig,
}

fn refuse(message: &str, payment_required: Value) -> Value {
    ObjectBuilder::new()
        .put("action", "refuse")
        .put("message", message)
        .put("paymentRequired", payment_required)
        .build()
}

/// The backend could not be asked (or the agent's own credits function failed):
/// an error with `code`, never the result.
fn fail(code: &str, message: &str) -> Value {
    ObjectBuilder::new()
        .put("action", "fail")
        .put("code", code)
        .put("message", message)
        .build()
}

impl ToolGate {
    /// Reads `requiresPayment`'s options; mistakes are errors here.
    pub fn new(options: &Value) -> Result<Self> {
        Ok(ToolGate {
            config: ToolConfig::from_json(options)?,
        })
    }

    /// One call, start to end. `call`: `{token?}` (the `payment_token` the
    /// adapter took out of `config.configurable`). Answers, as JSON text:
    /// - `{action: "deliver", settlement?}`: the function's result (no
    ///   settlement when a credits function priced the call at 0);
    /// - `{action: "refuse", message, paymentRequired}`: a payment
    ///   error (the official SDK's `PaymentRequiredError`); nothing delivered;
    /// - `{action: "fail", code, message}`: the backend could not be
    ///   asked, or the credits function failed; nothing delivered;
    /// - `{action: "threw"}`: the function threw (nothing charged): its error goes on as is.
    ///
    /// The function is run with `{paymentContext, verification}`: the official
    /// SDK's `payment_context` (`{token` (shown redacted)`, paymentRequired,
    /// creditsToSettle, verified, agentRequestId?, agentRequest?, planId, subscriberAddress?}`)
    /// and the backend's verification.
    pub async fn handle<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        call: &Value,
        x: &X,
    ) -> Result<String> {
        Ok(json::to_text(&self.paid_call(p, call, x).await?))
    }

    async fn paid_call<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        call: &Value,
        x: &X,
    ) -> Result<Value> {
        let cfg = &self.config;
        let fixed = cfg.fixed.as_ref().map(|(s, n)| (s.as_str(), n.as_deref()));
        let schemes = match schemes_of(p, &cfg.plan_ids, fixed).await {
            Ok(s) => s,
            Err(e) => return Ok(unreachable(p, PLANS_UNAVAILABLE, &e)),
        };
        let payment_required = cfg.payment_required(&schemes, None)?;
        x.hook(Hook::BeforeVerify, payment_required.clone()).await;
        let refused = |why: &str| {
            let message = format!("{VERIFY_FAILED}: {why}");
            refuse(&message, with_error(&payment_required, why))
        };
        let token = call.get("token").and_then(Value::as_str).unwrap_or("");
        if token.is_empty() {
            return Ok(refuse(MISSING_TOKEN, payment_required.clone()));
        }
        let (claims, index) = match cfg.precheck(token) {
            Ok(c) => c,
            Err(Refusal(why)) => return Ok(refused(&why)),
        };
        if let Err(Refusal(why)) = GateConfig::check_scheme(&claims, &schemes[index]) {
            return Ok(refused(&why));
        }
        let params = ObjectBuilder::new()
            .put("paymentRequired", payment_required.clone())
            .put("x402AccessToken", token)
            .put("maxAmount", cfg.verify_amount().clone())
            .build();
        let verification = match ask(p.verify_permissions(&params), false, token).await {
            Outcome::Ok(v) => v,
            Outcome::Refused(why, verification) => {
                // The span of a refused verify carries what the backend said too (the official SDK's).
                if let Some(v) = verification {
                    x.hook(Hook::AfterVerify, v).await;
                }
                return Ok(refused(&why));
            }
            Outcome::Unavailable(e) => return Ok(unreachable(p, VERIFY_UNAVAILABLE, &e)),
        };
        x.hook(Hook::AfterVerify, verification.clone()).await;
        let request_id = agent_request_id(&verification);
        let context = ObjectBuilder::new()
            .put("token", redact(token))
            .put("paymentRequired", payment_required.clone())
            .put("creditsToSettle", cfg.verify_amount().clone())
            .put("verified", true)
            .put_opt("agentRequestId", request_id.clone())
            .put_opt("agentRequest", verification.get("agentRequest").cloned())
            .put("planId", cfg.plan_ids[index].as_str())
            .put_opt("subscriberAddress", claims.from.as_deref())
            .build();
        let run = ObjectBuilder::new()
            .put("paymentContext", context)
            .put("verification", verification)
            .build();
        // A function that throws is charged nothing: its error goes on as is.
        if x.run(&run).await.is_none() {
            return Ok(ObjectBuilder::new().put("action", "threw").build());
        }
        let amount = match &cfg.credits {
            Credits::Fixed(c) => c.clone(),
            Credits::Dynamic { .. } => match dynamic_credits(&x.price("").await) {
                Ok(n) => n,
                Err(why) => {
                    let message =
                        format!("The credits function {why}; nothing was delivered or charged");
                    return Ok(fail(crate::error::INTERNAL, &message));
                }
            },
        };
        if amount.is_zero() {
            return Ok(ObjectBuilder::new().put("action", "deliver").build());
        }
        let params = ObjectBuilder::new()
            .put("paymentRequired", payment_required.clone())
            .put("x402AccessToken", token)
            .put("maxAmount", amount.clone())
            .put_opt("agentRequestId", request_id)
            .build();
        Ok(
            match ask(p.settle_permissions(&params), true, token).await {
                Outcome::Ok(settlement) => {
                    x.hook(
                        Hook::AfterSettle,
                        Hook::settled_detail(&amount, &settlement),
                    )
                    .await;
                    ObjectBuilder::new()
                        .put("action", "deliver")
                        .put("settlement", settlement)
                        .build()
                }
                Outcome::Refused(why, _) => {
                    let message = format!("{SETTLE_FAILED}: {why}; the result was withheld");
                    refuse(&message, with_error(&payment_required, "settlement failed"))
                }
                Outcome::Unavailable(e) => unreachable(p, SETTLE_UNAVAILABLE, &e),
            },
        )
    }
}

/// The answer when the backend can't be reached ([`super::unreachable`]; before
/// the function ran: "nothing was run or charged").
fn unreachable<T: Transport>(p: &Payments<T>, what: &str, error: &Error) -> Value {
    let why = super::unreachable(p, "nvm-x402 requiresPayment", what, error, "run");
    fail(&error.code(), &why)
}

#[cfg(test)]
mod tests;
