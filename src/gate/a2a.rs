//! The A2A paywall's lifecycle over a [`Payments`] client, as one function:
//! [`A2aGate::handle`] answers one HTTP request to an A2A server (the agent
//! card, or a JSON-RPC call). For `message/send` it reads the payment, asks
//! for payment in band (an `input-required` task, kept in the task store), or
//! pre-checks and verifies it for the card's credits, claims the pending task
//! (compare-and-set in the store: one follow-up pays, whichever isolate gets
//! it), asks the [`A2aExchange`] to run the executor, settles what it reports
//! (never above what was verified) and answers the task stamped
//! `payment-completed` with the receipt, or `payment-failed` with no content.
//! The facade (`pkg-template/a2a-server.js`) only moves the Request, the
//! Response and the executor's events; every decision is here and in
//! [`crate::protocol::gate::a2a`].
//!
//! Fail closed: nothing the executor produced leaves without a settle that
//! succeeded; a backend or store that fails is a JSON-RPC error, never a free
//! answer; a task is paid once (the claim), and a payment that is refused
//! leaves the task waiting for another.

use super::{ask, schemes_of, Outcome, PLANS_UNAVAILABLE, SETTLE_UNAVAILABLE, VERIFY_UNAVAILABLE};
use crate::error::Result;
use crate::payments::Payments;
use crate::protocol::gate::a2a::{
    canceled, completed, expired, expires_at, failed, ids_of, is_expired, is_pending, is_removed,
    is_terminal, not_waiting, outcome_task, payment_required_task, payment_status, remove_at,
    removed_at, rpc_error, rpc_result, state, task, with_history_length, without_payload,
    A2aConfig, A2aRequest, IncomingMessage, Payment, RpcCall, AGENT_CARD_PATH,
    EXECUTION_FAILED_CODE, HOOKS, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST,
    LEGACY_AGENT_CARD_PATH, METHOD_NOT_FOUND, PAYMENT_FAILED, PUSH_NOTIFICATION_NOT_SUPPORTED,
    SETTLEMENT_FAILED_CODE, TASK_NOT_CANCELABLE, TASK_NOT_FOUND, UNSUPPORTED_OPERATION,
};
use crate::protocol::gate::{payment_required_for, Refusal, Resource, DEFAULT_REFUSAL};
use crate::protocol::json::{self, ObjectBuilder, Value};
use crate::protocol::ResolvedScheme;
use crate::transport::Transport;

/// What the A2A paywall asks of the side that holds the request, the task
/// store and the executor (`pkg-template/a2a-server.js`; a scripted one in
/// the tests).
#[allow(async_fn_in_trait)]
pub trait A2aExchange {
    /// A task store operation: `load` (`{id}`: the task, or null), `save`
    /// (`{task, expiry?, removeAt?}`: true; `expiry` `{at, task, removeAt?}`:
    /// if the task is not written again before `at`, ms since the Unix epoch,
    /// it becomes `expiry.task`, removed at `expiry.removeAt`), `claim`
    /// (`{id, expect, task, removeAt?}`: replaces the stored task with `task`
    /// only if its `status.state` is `expect`, atomically; true when it did).
    /// `removeAt` (ms): if the task is not written again before it, the store
    /// removes it (a store that can't keeps it: the paywall answers it as
    /// unknown all the same, [`is_removed`]). `None`: the store failed.
    async fn store(&self, op: &str, arg: &Value) -> Option<Value>;

    /// Runs the executor, told `context` (`{taskId, contextId, userMessage,
    /// task, planId, subscriberAddress?, agentRequest?, credits}`): its outcome
    /// (`{task}` or `{message}`: the final one, the last status update's
    /// metadata merged into the task's), or `None` when it threw.
    async fn run(&self, context: &Value) -> Option<Value>;

    /// Tells the executor running task `task_id` to cancel it (its
    /// `cancelTask`), and waits until that run has ended and been settled:
    /// false when no run of it is here to tell (another isolate runs it, or
    /// the executor has no `cancelTask`).
    async fn cancel(&self, task_id: &str) -> bool;

    /// Calls hook `name` (one of [`crate::protocol::gate::a2a::HOOKS`] that
    /// was given) with `detail`; nothing it does changes the answer.
    async fn hook(&self, name: &str, detail: &Value);
}

/// A configured A2A paywall (`payments.a2a.paywall`).
#[derive(Debug)]
pub struct A2aGate {
    config: A2aConfig,
}

/// One paid `message/send` as far as it got before the executor.
struct Paid {
    token: String,
    plan_id: String,
    payment_required: Value,
    agent_request_id: Option<String>,
    verification: Value,
    subscriber: Option<String>,
}

impl A2aGate {
    /// Reads `{agentCard}`; mistakes are errors here.
    pub fn new(options: &Value) -> Result<Self> {
        Ok(A2aGate {
            config: A2aConfig::from_json(options)?,
        })
    }

    /// One HTTP request, start to end: `{status, body}` (the body's JSON text
    /// as a string), or `{status: 404}` for a request that isn't the server's.
    /// `message/stream` and `tasks/resubscribe` answer `{status, body, stream:
    /// true}`: the body is Server-Sent Events, one JSON-RPC response per event,
    /// written once the task is settled (see [`Self::send`]).
    pub async fn handle<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        request: &Value,
        x: &X,
    ) -> Result<String> {
        let req = A2aRequest::from_json(request)?;
        let mut events = None;
        let (status, body) = match (req.method.as_str(), req.path.as_str()) {
            ("GET" | "HEAD", AGENT_CARD_PATH | LEGACY_AGENT_CARD_PATH) => {
                (200, Some(json::to_text(&self.config.card)))
            }
            ("POST", _) => {
                let last = match RpcCall::read(req.body.as_deref().unwrap_or("")) {
                    Ok(call) => self.observed(p, &req, &call, x, &mut events).await,
                    Err(answer) => answer,
                };
                (200, Some(sse(events.as_mut(), last)))
            }
            _ => (404, None),
        };
        Ok(json::to_text(
            &ObjectBuilder::new()
                .put("status", status as u64)
                .put_opt("body", body)
                .put_opt("stream", events.map(|_| true))
                .build(),
        ))
    }

    /// A JSON-RPC call's answer, the hooks given told before and after: they
    /// only observe (the answer is decided without them, and stays as it is).
    async fn observed<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        req: &A2aRequest,
        call: &RpcCall,
        x: &X,
        events: &mut Option<Vec<Value>>,
    ) -> Value {
        let told = |key: &str, value: Value| {
            ObjectBuilder::new()
                .put("method", call.method.as_str())
                .put(key, value)
                .build()
        };
        if self.config.has_hook(0) {
            x.hook(HOOKS[0], &told("params", without_payload(&call.params)))
                .await;
        }
        let answer = self.rpc(p, req, call, x, events).await;
        if self.config.has_hook(1) {
            x.hook(HOOKS[1], &told("response", answer.clone())).await;
        }
        if let Some(error) = answer.get("error").filter(|_| self.config.has_hook(2)) {
            x.hook(HOOKS[2], &told("error", error.clone())).await;
        }
        answer
    }

    /// A JSON-RPC call's answer; `message/stream`'s (and `tasks/resubscribe`'s)
    /// events before it go in `events`. The push notification configs are
    /// not supported (-32003); any other method, A2A 1.0's names
    /// (`SendMessage`, ...) too, is `Method not found`: nothing runs unpaid.
    async fn rpc<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        req: &A2aRequest,
        call: &RpcCall,
        x: &X,
        events: &mut Option<Vec<Value>>,
    ) -> Value {
        let id = &call.id;
        match call.method.as_str() {
            "message/send" => self.send(p, req, call, x, None).await,
            "message/stream" => {
                self.send(p, req, call, x, Some(events.insert(Vec::new())))
                    .await
            }
            "tasks/get" => match self.task_of(p, call, x).await {
                Err(answer) => answer,
                Ok(t) => match with_history_length(t, call.params.get("historyLength")) {
                    Some(t) => rpc_result(id, t),
                    None => rpc_error(id, INVALID_PARAMS, "historyLength must be a whole number."),
                },
            },
            "tasks/cancel" => self.cancel(p, req, call, x).await,
            // The task as it is now, in one event: what a paid run streams goes to
            // the stream that paid, once settled (a stored task never holds more).
            "tasks/resubscribe" => {
                *events = Some(Vec::new());
                let streaming = json::at(&self.config.card, &["capabilities", "streaming"]);
                if streaming.and_then(Value::as_bool) != Some(true) {
                    return rpc_error(
                        id,
                        UNSUPPORTED_OPERATION,
                        "Streaming (and so resubscription) is not supported.",
                    );
                }
                match self.task_of(p, call, x).await {
                    Ok(t) => rpc_result(id, t),
                    Err(answer) => answer,
                }
            }
            // A2A 0.3's push notification configs: the paywall keeps none and sends
            // no notification, whatever the card says (the A2A SDK's handler serves
            // them only with its own store and sender, which would POST the task,
            // paid content, to any URL a caller names, unsettled events included).
            "tasks/pushNotificationConfig/set"
            | "tasks/pushNotificationConfig/get"
            | "tasks/pushNotificationConfig/list"
            | "tasks/pushNotificationConfig/delete" => rpc_error(
                id,
                PUSH_NOTIFICATION_NOT_SUPPORTED,
                "Push Notification is not supported",
            ),
            _ => rpc_error(id, METHOD_NOT_FOUND, "Method not found"),
        }
    }

    /// The task `params.id` names, as it is now; `Err`: the answer.
    async fn task_of<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        call: &RpcCall,
        x: &X,
    ) -> std::result::Result<Value, Value> {
        let id = &call.id;
        let Some(task_id) = call.params.get("id").and_then(json::id_value) else {
            return Err(rpc_error(id, INVALID_PARAMS, "id is required."));
        };
        match self.load(p, x, &task_id).await {
            None => Err(rpc_error(id, INTERNAL_ERROR, "The task store failed")),
            Some(t) if t.as_object().is_some() => Ok(t),
            Some(_) => Err(rpc_error(id, TASK_NOT_FOUND, "Task not found")),
        }
    }

    /// Task `task_id` from the store (null: there is none, or it is past its
    /// removal; `None`: the store failed). One whose wait for its payment ran
    /// out is made expired there first, by a claim: a payment that claimed it
    /// before wins.
    async fn load<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        x: &X,
        task_id: &str,
    ) -> Option<Value> {
        let arg = ObjectBuilder::new().put("id", task_id).build();
        let now = p.transport().now_ms();
        let mut task = x.store("load", &arg).await?;
        if is_expired(&task, now) {
            let gone = expired(&task, self.config.finished_ttl_ms);
            task = match x
                .store("claim", &claim(task_id, "input-required", &gone))
                .await?
            {
                Value::Bool(true) => gone,
                _ => x.store("load", &arg).await?,
            };
        }
        Some(if is_removed(&task, now) {
            Value::Null
        } else {
            task
        })
    }

    /// `task` stamped to be removed `finishedTaskTtlSeconds` from now, unless
    /// written again before: every task the paywall writes, but one asking
    /// for payment (it expires first, then is removed as long after that).
    fn kept<T: Transport>(&self, p: &Payments<T>, task: Value) -> Value {
        let at = p
            .transport()
            .now_ms()
            .saturating_add(self.config.finished_ttl_ms);
        removed_at(task, at)
    }

    /// `tasks/cancel`, as the A2A SDK's handler: a canceled task as it is; a
    /// waiting one (for its payment, or for input) canceled by a claim, so a
    /// payment racing it either claimed it first (then the cancel is refused)
    /// or is refused itself, nothing charged; a running one through its
    /// executor's `cancelTask` when it runs here (the run then settles what
    /// the executor reports); any other not cancelable (-32002).
    async fn cancel<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        req: &A2aRequest,
        call: &RpcCall,
        x: &X,
    ) -> Value {
        let id = &call.id;
        let task = match self.task_of(p, call, x).await {
            Ok(t) => t,
            Err(answer) => return answer,
        };
        let (task_id, _) = ids_of(&task);
        let done = match state(&task) {
            Some("canceled") => Some(task),
            Some("working" | "submitted") => match x.cancel(&task_id).await {
                true => {
                    let arg = ObjectBuilder::new().put("id", task_id.as_str()).build();
                    x.store("load", &arg).await
                }
                false => None,
            },
            Some(now) if !is_terminal(&task) => {
                let done = self.kept(p, canceled(&task, &req.fresh(2), &req.now));
                match x.store("claim", &claim(&task_id, now, &done)).await {
                    Some(Value::Bool(true)) => Some(done),
                    _ => None,
                }
            }
            _ => None,
        };
        match done {
            Some(t) if state(&t) == Some("canceled") => rpc_result(id, t),
            _ => rpc_error(
                id,
                TASK_NOT_CANCELABLE,
                "Task not cancelable: it has ended, a payment claimed it meanwhile, or it runs where it can't be told to stop",
            ),
        }
    }

    /// `message/send`, paid; `message/stream` when `stream` is given: the
    /// answer is then the last event (the final status of a task that ran,
    /// or the one task of an answer that ran nothing), and `stream` gets what
    /// comes before it: the working task and the executor's events, only once
    /// the task was settled (nothing of it when settling failed).
    async fn send<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        req: &A2aRequest,
        call: &RpcCall,
        x: &X,
        stream: Option<&mut Vec<Value>>,
    ) -> Value {
        let id = &call.id;
        let incoming = match IncomingMessage::read(&call.params, req.header_token.as_deref()) {
            Ok(m) => m,
            Err(why) => return rpc_error(id, INVALID_PARAMS, why),
        };
        // The task this message continues: only one that waits for its payment.
        // (One whose wait ran out is expired: refused before anything is verified.)
        let pending = match &incoming.task_id {
            None => None,
            Some(task_id) => match self.load(p, x, task_id).await {
                None => return rpc_error(id, INTERNAL_ERROR, "The task store failed"),
                Some(t) if is_pending(&t) => Some(t),
                Some(t) if t.as_object().is_some() => {
                    return rpc_error(id, INVALID_REQUEST, not_waiting(&t))
                }
                Some(_) => return rpc_error(id, TASK_NOT_FOUND, "Task not found"),
            },
        };
        let schemes = match schemes_of(p, &self.config.plan_ids, None).await {
            Ok(s) => s,
            Err(e) => return self.unavailable(p, id, PLANS_UNAVAILABLE, &e),
        };
        let pr = |error: Option<&str>| self.payment_required(&schemes, &req.url, error);
        let token = match &incoming.payment {
            Payment::None => {
                return self
                    .ask_payment(p, x, id, req, &incoming, pending, pr(None), None)
                    .await
            }
            Payment::Unreadable(why) => {
                return self
                    .ask_payment(p, x, id, req, &incoming, pending, pr(Some(why)), Some(why))
                    .await
            }
            Payment::Token(t) => t.clone(),
        };
        let paid = match self.verify(p, &token, &req.url, &schemes).await {
            Ok(paid) => paid,
            Err(Err(answer)) => return answer_with_id(answer, id),
            Err(Ok(Refusal(why))) => {
                return self
                    .ask_payment(
                        p,
                        x,
                        id,
                        req,
                        &incoming,
                        pending,
                        pr(Some(&why)),
                        Some(&why),
                    )
                    .await
            }
        };
        // The task to run: the pending one, claimed (only one follow-up gets it), or a new one.
        let mut history = pending
            .as_ref()
            .map(|t| json::items(t.get("history")).to_vec())
            .unwrap_or_default();
        history.push(incoming.message.clone());
        let (task_id, context_id) = match &pending {
            Some(t) => ids_of(t),
            None => (
                incoming.task_id.clone().unwrap_or_else(|| req.fresh(0)),
                incoming.context_id.clone().unwrap_or_else(|| req.fresh(1)),
            ),
        };
        // A run that never ends (its isolate died) leaves this: removed in time too.
        let working = self.kept(
            p,
            task(&task_id, &context_id, "working", None, &req.now, history),
        );
        let stored = match &pending {
            Some(_) => {
                x.store("claim", &claim(&task_id, "input-required", &working))
                    .await
            }
            None => x.store("save", &saved(&working, None)).await,
        };
        match stored {
            None => {
                return rpc_error(
                    id,
                    INTERNAL_ERROR,
                    "The task store failed; nothing was charged",
                )
            }
            Some(Value::Bool(true)) => {}
            Some(_) => {
                return rpc_error(
                    id,
                    INVALID_REQUEST,
                    "The task no longer waits for a payment (another payment claimed it, or it was canceled or expired meanwhile); nothing was charged",
                )
            }
        }
        let context = ObjectBuilder::new()
            .put("taskId", task_id.as_str())
            .put("contextId", context_id.as_str())
            .put("userMessage", incoming.message.clone())
            .put("task", working.clone())
            .put("planId", paid.plan_id.as_str())
            .put_opt("subscriberAddress", paid.subscriber.as_deref())
            .put_opt(
                "agentRequest",
                paid.verification.get("agentRequest").cloned(),
            )
            .put("credits", self.config.verify_amount().as_str())
            .put_opt("stream", stream.as_ref().map(|_| true))
            .build();
        let message_id = req.fresh(2);
        let outcome = x.run(&context).await;
        let final_task = self.kept(
            p,
            match &outcome {
                None => failed(
                    &working,
                    EXECUTION_FAILED_CODE,
                    "The agent failed; nothing was charged.",
                    None,
                    &message_id,
                    &req.now,
                ),
                Some(outcome) => {
                    let done = outcome
                        .get("task")
                        .or_else(|| outcome.get("message"))
                        .map(|o| outcome_task(o, &working, &req.now))
                        .unwrap_or_else(|| working.clone());
                    self.settle(p, &paid, done, &working, &message_id, &req.now)
                        .await
                }
            },
        );
        if x.store("save", &saved(&final_task, None)).await.is_none() {
            p.transport()
                .warn("nvm-x402 A2A paywall: the task store failed to keep a finished task");
        }
        match stream {
            Some(events) if payment_status(&final_task) != Some(PAYMENT_FAILED) => {
                events.push(rpc_result(id, working));
                let published = outcome.as_ref().and_then(|o| o.get("events"));
                for event in json::items(published).iter().filter(|e| passes_on(e)) {
                    events.push(rpc_result(id, event.clone()));
                }
                rpc_result(id, final_status(&final_task))
            }
            _ => rpc_result(id, final_task),
        }
    }

    /// Settles `done` (the executor's task) and stamps it, or fails it.
    async fn settle<T: Transport>(
        &self,
        p: &Payments<T>,
        paid: &Paid,
        done: Value,
        working: &Value,
        message_id: &str,
        now: &str,
    ) -> Value {
        let amount = self.config.settle_amount(&done);
        if amount.is_zero() {
            return completed(done, None, &amount, message_id);
        }
        let params = ObjectBuilder::new()
            .put("paymentRequired", paid.payment_required.clone())
            .put("x402AccessToken", paid.token.as_str())
            .put("maxAmount", amount.as_str())
            .put_opt("agentRequestId", paid.agent_request_id.clone())
            .build();
        let (reason, settlement) = match ask(p.settle_permissions(&params), true, &paid.token).await
        {
            Outcome::Ok(settlement) => {
                return completed(done, Some(&settlement), &amount, message_id)
            }
            Outcome::Refused(reason, settlement) => (reason, settlement),
            Outcome::Unavailable(e) => {
                p.transport().warn(&format!(
                    "nvm-x402 A2A paywall: {SETTLE_UNAVAILABLE}: {e} ({})",
                    e.code()
                ));
                (
                    format!("{SETTLE_UNAVAILABLE}: the payment backend could not be reached"),
                    None,
                )
            }
        };
        let text = format!("Payment settlement failed: {reason}; the result is withheld.");
        failed(
            working,
            SETTLEMENT_FAILED_CODE,
            &text,
            settlement.as_ref(),
            message_id,
            now,
        )
    }

    /// The pre-checks and verify, for the card's credits. `Err(Ok(refusal))`:
    /// refused (ask again); `Err(Err(answer))`: the backend can't be asked.
    async fn verify<T: Transport>(
        &self,
        p: &Payments<T>,
        token: &str,
        url: &str,
        schemes: &[ResolvedScheme],
    ) -> std::result::Result<Paid, std::result::Result<Refusal, Value>> {
        let (claims, index) = self.config.precheck(token, url).map_err(Ok)?;
        crate::protocol::gate::GateConfig::check_scheme(&claims, &schemes[index]).map_err(Ok)?;
        let payment_required = self.payment_required(schemes, url, None);
        let params = ObjectBuilder::new()
            .put("paymentRequired", payment_required.clone())
            .put("x402AccessToken", token)
            .put("maxAmount", self.config.verify_amount().as_str())
            .build();
        match ask(p.verify_permissions(&params), false, token).await {
            Outcome::Ok(verification) => Ok(Paid {
                token: token.to_owned(),
                plan_id: self.config.plan_ids[index].clone(),
                payment_required,
                agent_request_id: super::agent_request_id(&verification),
                verification,
                subscriber: claims.from.clone(),
            }),
            Outcome::Refused(why, _) => Err(Ok(Refusal(if why.is_empty() {
                DEFAULT_REFUSAL.to_owned()
            } else {
                why
            }))),
            Outcome::Unavailable(e) => Err(Err(self.unavailable(
                p,
                &Value::Null,
                VERIFY_UNAVAILABLE,
                &e,
            ))),
        }
    }

    /// The `input-required` task asking for payment (`refusal`: why the
    /// payment given was refused): the pending task again, or a new one, kept
    /// with its expiry (it becomes [`expired`] unless paid or canceled before).
    #[allow(clippy::too_many_arguments)]
    async fn ask_payment<T: Transport, X: A2aExchange>(
        &self,
        p: &Payments<T>,
        x: &X,
        id: &Value,
        req: &A2aRequest,
        incoming: &IncomingMessage,
        pending: Option<Value>,
        payment_required: Value,
        refusal: Option<&str>,
    ) -> Value {
        let (task_id, context_id, history, expires) = match &pending {
            Some(t) => {
                let (a, b) = ids_of(t);
                (a, b, json::items(t.get("history")).to_vec(), expires_at(t))
            }
            None => (
                incoming.task_id.clone().unwrap_or_else(|| req.fresh(0)),
                incoming.context_id.clone().unwrap_or_else(|| req.fresh(1)),
                vec![incoming.message.clone()],
                Some(
                    p.transport()
                        .now_ms()
                        .saturating_add(self.config.pending_ttl_ms),
                ),
            ),
        };
        let task = payment_required_task(
            &task_id,
            &context_id,
            &req.fresh(2),
            payment_required,
            refusal,
            &req.now,
            history,
            expires,
        );
        // A new task is kept so the follow-up finds it; a pending one is already.
        if pending.is_none() {
            let expiry = expires.map(|at| {
                let gone = expired(&task, self.config.finished_ttl_ms);
                ObjectBuilder::new()
                    .put("at", at)
                    .put_opt("removeAt", remove_at(&gone))
                    .put("task", gone)
                    .build()
            });
            if x.store("save", &saved(&task, expiry)).await.is_none() {
                return rpc_error(id, INTERNAL_ERROR, "The task store failed");
            }
        }
        rpc_result(id, task)
    }

    fn payment_required(
        &self,
        schemes: &[ResolvedScheme],
        url: &str,
        error: Option<&str>,
    ) -> Value {
        let resource = Resource {
            url,
            agent_id: Some(&self.config.agent_id),
            verb: "POST",
            description: None,
            mime_type: None,
        };
        payment_required_for(&self.config.plan_ids, schemes, &resource, error)
            .unwrap_or(Value::Null)
    }

    fn unavailable<T: Transport>(
        &self,
        p: &Payments<T>,
        id: &Value,
        what: &str,
        e: &crate::Error,
    ) -> Value {
        let why = super::unreachable(p, "nvm-x402 A2A paywall", what, e, "delivered");
        rpc_error(id, INTERNAL_ERROR, &why)
    }
}

/// An executor's event that a stream passes on before the final status: a
/// task, an artifact, a status on the way. Not the final status update, nor
/// a message the executor answered with: the final status (stamped with the
/// payment) carries those.
fn passes_on(event: &Value) -> bool {
    match event.get("kind").and_then(Value::as_str) {
        Some("task" | "artifact-update") => true,
        Some("status-update") => event.get("final").and_then(Value::as_bool) != Some(true),
        _ => false,
    }
}

/// The last event of a task that ran: its final `status-update`, with the
/// payment in its status message and the task's metadata (credits charged).
fn final_status(task: &Value) -> Value {
    let (id, context) = ids_of(task);
    ObjectBuilder::new()
        .put("kind", "status-update")
        .put("taskId", id)
        .put("contextId", context)
        .put("status", task.get("status").cloned().unwrap_or(Value::Null))
        .put("final", true)
        .put_opt("metadata", task.get("metadata").cloned())
        .build()
}

/// The body of an answer: the JSON-RPC response (`events` is `None`), or
/// Server-Sent Events: each of `events`, then `last`.
fn sse(events: Option<&mut Vec<Value>>, last: Value) -> String {
    let Some(events) = events else {
        return json::to_text(&last);
    };
    events.push(last);
    let mut out = String::new();
    for event in events.iter() {
        out.push_str("data: ");
        out.push_str(&json::to_text(event));
        out.push_str("\n\n");
    }
    out
}

/// The store's `save` argument: the task, for one asking for payment its
/// expiry, and when the store removes it (its stamp, [`remove_at`]).
fn saved(task: &Value, expiry: Option<Value>) -> Value {
    ObjectBuilder::new()
        .put("task", task.clone())
        .put_opt("expiry", expiry)
        .put_opt("removeAt", remove_at(task))
        .build()
}

/// The store's `claim` argument (with when the store removes the task, its stamp).
fn claim(task_id: &str, expect: &str, task: &Value) -> Value {
    ObjectBuilder::new()
        .put("id", task_id)
        .put("expect", expect)
        .put("task", task.clone())
        .put_opt("removeAt", remove_at(task))
        .build()
}

/// A JSON-RPC error answer made before the request's id was at hand, with it.
fn answer_with_id(mut answer: Value, id: &Value) -> Value {
    if let Some(o) = answer.as_object_mut() {
        o.insert("id".into(), id.clone());
    }
    answer
}

#[cfg(test)]
mod tests;
