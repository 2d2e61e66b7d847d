//! The MCP paywall's lifecycle over a [`Payments`] client, as one function:
//! [`McpGate::handle`] finds the plans, pre-checks the payment, verifies, asks
//! the [`Exchange`] to run the handler (and to price its result when the
//! credits are dynamic), settles, and answers. The facade only moves MCP SDK
//! arguments and results and calls the user's functions; the decisions are
//! here and in [`crate::protocol::gate::mcp`]. Backend round trips per paid
//! call: verify + settle, each asked again with the endpoint's HTTP URL when
//! the backend refuses the logical one (plus a plan lookup per plan every 5
//! minutes, and the agent's plan list when no plan is configured).
//!
//! Fail closed: a settle that fails withholds the handler's result; a backend
//! that can't be reached is an error (no content), never a free answer; a
//! hook observes, it never changes the answer.

use super::{
    agent_request_id, ask, dynamic_credits, schemes_of, Exchange, Outcome,
    PLANS_UNAVAILABLE as NO_PLANS, SETTLE_UNAVAILABLE, VERIFY_UNAVAILABLE,
};
use crate::error::{Error, Result};
use crate::payments::Payments;
use crate::protocol::gate::mcp::{
    discovery_document, fail, paid_meta, payment_required, payment_required_without_plans,
    precheck, refuse, unpaid_meta, Kind, McpCall, McpConfig, McpTool, INTERNAL_ERROR,
    MISCONFIGURATION, MISSING_PAYMENT, PLANS_UNAVAILABLE, SETTLEMENT_FAILED,
};
use crate::protocol::gate::{with_error, Credits, GateConfig, Hook, Refusal, DEFAULT_REFUSAL};
use crate::protocol::json::{self, ObjectBuilder, Value};
use crate::protocol::{ResolvedScheme, SCHEME_ERC4337};
use crate::transport::Transport;

/// A configured MCP paywall (`payments.mcp.configure`).
#[derive(Debug)]
pub struct McpGate {
    config: McpConfig,
}

/// The plans a call is paid with, and their schemes.
struct Offer {
    plan_ids: Vec<String>,
    schemes: Vec<ResolvedScheme>,
    /// The official SDK's ` Available plans: <id> (<name>), ...` (the first
    /// three) after a -32003's message, from the agent's plans when they were
    /// listed for this call (no plan configured); else empty (no lookup is
    /// made for it).
    listed: String,
}

impl McpGate {
    /// Reads `configure(options)`; mistakes are errors here.
    pub fn new(options: &Value) -> Result<Self> {
        Ok(McpGate {
            config: McpConfig::from_json(options)?,
        })
    }

    /// The OAuth discovery document at `path` for the server at `base_url`
    /// (see [`discovery_document`]), for the client's environment: its web
    /// app issues, its backend authorizes (`local`/`custom`: the backend both).
    pub fn discovery<T: Transport>(
        &self,
        p: &Payments<T>,
        path: &str,
        base_url: &str,
        options: &Value,
    ) -> Result<Option<Value>> {
        let cfg = p.config();
        let backend = cfg.backend_url.as_str();
        let issuer = cfg.environment.frontend_url().unwrap_or(backend);
        discovery_document(path, base_url, issuer, backend, options)
    }

    /// The handler's plans (or the server's, or the agent's), with their
    /// schemes; `Err(answer)` when they can't be known.
    async fn offer<T: Transport>(
        &self,
        p: &Payments<T>,
        call: &McpCall,
        logical_url: &str,
    ) -> std::result::Result<Offer, Value> {
        let cfg = &self.config;
        // The official SDK's answer (a refusal saying `plans unavailable`), never the handler's.
        let unavailable = |known: &[String], e: &Error| {
            p.transport().warn(&format!(
                "nvm-x402 MCP paywall: the plans of {logical_url} could not be looked up: {e} ({})",
                e.code()
            ));
            let network = p.config().default_network(SCHEME_ERC4337);
            let pr =
                payment_required_without_plans(cfg, known, network, logical_url, PLANS_UNAVAILABLE);
            refuse(call.tool.kind, pr, NO_PLANS)
        };
        let mut plan_ids = if call.tool.plan_ids.is_empty() {
            cfg.plan_ids.clone()
        } else {
            call.tool.plan_ids.clone()
        };
        let mut listed = String::new();
        if plan_ids.is_empty() {
            if let Some(agent) = &cfg.agent_id {
                let answer = p
                    .get_agent_plans(agent, &Value::Null)
                    .send()
                    .await
                    .map_err(|e| unavailable(&[], &e))?;
                for plan in json::items(answer.get("plans")).iter() {
                    let id = plan.get("planId").or_else(|| plan.get("id"));
                    let Some(id) = id.and_then(json::id_value) else {
                        continue;
                    };
                    if plan_ids.len() < 3 {
                        listed.push_str(if plan_ids.is_empty() {
                            " Available plans: "
                        } else {
                            ", "
                        });
                        listed.push_str(&id);
                        if let Some(name) = plan.get("name").and_then(Value::as_str) {
                            listed.push_str(" (");
                            listed.push_str(name);
                            listed.push(')');
                        }
                    }
                    plan_ids.push(id);
                }
                if !listed.is_empty() {
                    listed.push_str("...");
                }
            }
        }
        if plan_ids.is_empty() {
            return Err(fail(
                MISCONFIGURATION,
                "Server misconfiguration: no plan pays for this call (configure a planId, or attach a plan to the agent)",
            ));
        }
        let schemes = schemes_of(p, &plan_ids, None)
            .await
            .map_err(|e| unavailable(&plan_ids, &e))?;
        Ok(Offer {
            plan_ids,
            schemes,
            listed,
        })
    }

    /// One call of `tool`, start to end. `call`: see [`McpCall::read`]. Answers, as JSON text:
    /// - `{action: "deliver", meta}`: the handler's result, with `meta` merged into its `_meta`;
    /// - `{action: "refuse", result | error}`: answer this instead (an error
    ///   tool result, or a JSON-RPC error for resources and prompts);
    /// - `{action: "fail", error}`: throw this JSON-RPC error;
    /// - `{action: "threw"}`: the handler threw: its error goes to the MCP SDK as is (nothing charged).
    ///
    /// The handler is run with the paywall's context (`{logicalUrl, httpUrl?,
    /// planId, subscriberAddress?, agentId?, agentRequest?, credits?, token}`:
    /// the official SDK's `authResult`).
    pub async fn handle<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        tool: &McpTool,
        call: &Value,
        x: &X,
    ) -> Result<String> {
        let call = McpCall::read(tool, call)?;
        let (answer, error_code) = self.paid_call(p, &call, x).await?;
        if let Some(code) = error_code.filter(|_| self.config.hooks.has(Hook::PaymentError)) {
            // What the caller is told: the JSON-RPC error, or the error result's PaymentRequired's reason.
            let error = answer.get("error");
            let message = error
                .and_then(|e| e.get("message"))
                .or_else(|| json::at(&answer, &["result", "structuredContent", "error"]))
                .cloned()
                .unwrap_or(Value::Null);
            let rpc_code = error
                .and_then(|e| e.get("code"))
                .map(|c| ObjectBuilder::new().put("rpcCode", c.clone()).build());
            x.hook(
                Hook::PaymentError,
                Hook::error_detail(code, message, None, rpc_code),
            )
            .await;
        }
        Ok(json::to_text(&answer))
    }

    /// The call's answer, and the code `onPaymentError` is told when it is a
    /// payment error (`payment_required`: refused; `internal`: the backend
    /// can't be asked or no plan pays).
    async fn paid_call<T: Transport, X: Exchange>(
        &self,
        p: &Payments<T>,
        call: &McpCall,
        x: &X,
    ) -> Result<(Value, Option<&'static str>)> {
        const REFUSED: Option<&str> = Some("payment_required");
        const FAILED: Option<&str> = Some(crate::error::INTERNAL);
        let cfg = &self.config;
        let logical_url = call.logical_url(&cfg.server_name);
        let offer = match self.offer(p, call, &logical_url).await {
            Ok(o) => o,
            Err(answer) => return Ok((answer, FAILED)),
        };
        let refused = |reason: &str| -> Result<(Value, Option<&'static str>)> {
            let pr = payment_required(
                cfg,
                &offer.plan_ids,
                &offer.schemes,
                &logical_url,
                Some(reason),
            )?;
            let mut message = reason.to_owned();
            message.push_str(&offer.listed);
            Ok((refuse(call.tool.kind, pr, &message), REFUSED))
        };
        let Some(token) = call.token.as_deref() else {
            return refused(MISSING_PAYMENT);
        };
        let (claims, index) = match precheck(cfg, call, &offer.plan_ids, &logical_url, token) {
            Ok(c) => c,
            Err(Refusal(reason)) => return refused(&reason),
        };
        if let Err(Refusal(reason)) = GateConfig::check_scheme(&claims, &offer.schemes[index]) {
            return refused(&reason);
        }
        let max_amount = call.tool.verify_amount();
        let fixed = match &call.tool.credits {
            Credits::Fixed(c) => Some(c),
            Credits::Dynamic { .. } => None,
        };
        // The logical URL first; the HTTP URL of the endpoint if the backend refuses that (as the official SDK).
        let urls = [Some(logical_url.as_str()), call.http_url.as_deref()];
        let mut reason = DEFAULT_REFUSAL.to_owned();
        let mut verified = None;
        for (at, url) in urls.iter().enumerate() {
            let Some(url) = url else { break };
            let pr = payment_required(cfg, &offer.plan_ids, &offer.schemes, url, None)?;
            if cfg.hooks.has(Hook::BeforeVerify) {
                x.hook(Hook::BeforeVerify, pr.clone()).await;
            }
            let params = ObjectBuilder::new()
                .put("paymentRequired", pr.clone())
                .put("x402AccessToken", token)
                .put("maxAmount", max_amount.clone())
                .build();
            match ask(p.verify_permissions(&params), false, token).await {
                Outcome::Ok(v) => {
                    verified = Some((at, pr, v));
                    break;
                }
                Outcome::Refused(why, _) => reason = why,
                Outcome::Unavailable(e) => {
                    let why = unreachable(p, VERIFY_UNAVAILABLE, &e);
                    return Ok((fail(INTERNAL_ERROR, &why), FAILED));
                }
            }
        }
        let Some((mut at, mut payment_required, verification)) = verified else {
            return refused(&reason);
        };
        let request_id = agent_request_id(&verification);
        let plan_id = offer.plan_ids[index].as_str();
        let context = ObjectBuilder::new()
            .put("logicalUrl", logical_url.as_str())
            .put_opt("httpUrl", call.http_url.as_deref())
            .put("planId", plan_id)
            .put_opt("subscriberAddress", claims.from.as_deref())
            .put_opt("agentId", cfg.agent_id.as_deref())
            .put_opt("agentRequest", verification.get("agentRequest").cloned())
            .put_opt("credits", fixed.cloned())
            .put("token", token)
            .build();
        if cfg.hooks.has(Hook::AfterVerify) {
            x.hook(Hook::AfterVerify, verification).await;
        }
        // A handler that throws is charged nothing: its error goes to the MCP SDK as is.
        if x.run(&context).await.is_none() {
            return Ok((ObjectBuilder::new().put("action", "threw").build(), None));
        }
        let amount = match fixed {
            Some(c) => c.clone(),
            None => match dynamic_credits(&x.price("").await) {
                Ok(n) => n,
                // The agent's own function failed: not a payment error.
                Err(why) => {
                    let message =
                        format!("The credits function {why}; nothing was delivered or charged");
                    return Ok((fail(INTERNAL_ERROR, &message), None));
                }
            },
        };
        let subscriber = claims.from.as_deref();
        if amount.is_zero() {
            return Ok((deliver(paid_meta(None, &amount, plan_id, subscriber)), None));
        }
        let settled = loop {
            let params = ObjectBuilder::new()
                .put("paymentRequired", payment_required.clone())
                .put("x402AccessToken", token)
                .put("maxAmount", amount.clone())
                .put_opt("agentRequestId", request_id.clone())
                .build();
            let outcome = ask(p.settle_permissions(&params), true, token).await;
            // Refused with an error (the official SDK's settle that throws) for the logical
            // URL: settled again with the HTTP URL, as verify is. A refusal burned nothing;
            // an outage is not retried (that settle may have burned).
            let retry = match &outcome {
                Outcome::Refused(_, None) => urls.get(at + 1).copied().flatten(),
                _ => None,
            };
            let Some(url) = retry else { break outcome };
            at += 1;
            payment_required =
                self::payment_required(cfg, &offer.plan_ids, &offer.schemes, url, None)?;
        };
        Ok(match settled {
            Outcome::Ok(settlement) => {
                if cfg.hooks.has(Hook::AfterSettle) {
                    x.hook(
                        Hook::AfterSettle,
                        Hook::settled_detail(&amount, &settlement),
                    )
                    .await;
                }
                let meta = paid_meta(Some(&settlement), &amount, plan_id, subscriber);
                (deliver(meta), None)
            }
            // `onRedeemError: "propagate"`: a settle that errs is the official SDK's -32002.
            Outcome::Refused(reason, None) if call.tool.propagate_redeem_errors => {
                (redeem_failed(&reason), REFUSED)
            }
            Outcome::Refused(reason, settlement) => {
                let meta = unpaid_meta(settlement.as_ref(), &reason, plan_id, subscriber);
                let answer = settle_refused(call.tool.kind, &payment_required, &reason, meta);
                (answer, REFUSED)
            }
            Outcome::Unavailable(e) => {
                let why = unreachable(p, SETTLE_UNAVAILABLE, &e);
                let answer = if call.tool.propagate_redeem_errors {
                    redeem_failed(&why)
                } else {
                    fail(INTERNAL_ERROR, &why)
                };
                (answer, FAILED)
            }
        })
    }
}

/// Why a call is an error when the backend can't be reached ([`super::unreachable`]).
fn unreachable<T: Transport>(p: &Payments<T>, what: &str, error: &Error) -> String {
    super::unreachable(p, "nvm-x402 MCP paywall", what, error, "delivered")
}

/// `onRedeemError: "propagate"`'s answer to a settle that errs (the official SDK's -32002).
fn redeem_failed(why: &str) -> Value {
    fail(
        MISCONFIGURATION,
        &format!("Failed to redeem credits: {why}"),
    )
}

fn deliver(meta: Value) -> Value {
    ObjectBuilder::new()
        .put("action", "deliver")
        .put("meta", meta)
        .build()
}

/// The handler ran but its payment did not land: its result is withheld, the
/// PaymentRequired says `settlement failed` (as the official SDK's); a tool's
/// error result carries `meta` (what the official SDK ends a stream with:
/// `success: false` and the reason) in its `_meta`.
fn settle_refused(kind: Kind, payment_required: &Value, reason: &str, meta: Value) -> Value {
    let mut answer = refuse(
        kind,
        with_error(payment_required, SETTLEMENT_FAILED),
        &format!("Settlement failed after the call ran, so its result is withheld: {reason}"),
    );
    if let Some(result) = answer.get_mut("result").and_then(Value::as_object_mut) {
        result.insert("_meta".into(), meta);
    }
    answer
}

#[cfg(test)]
mod tests;
