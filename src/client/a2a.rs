//! The paying A2A client's wire (`payments.a2a.getClient(...).sendA2AMessage`),
//! without I/O: where the agent card is, what its payment extension lets this
//! call pay (checked before anything is sent), the JSON-RPC `message/send`
//! carrying the payment in band (x402 v2 A2A transport: `payment-submitted`
//! and the decoded token in `message.metadata`, on the `taskId` the agent's
//! `payment-required` task gave), and what the agent answered (a stream's
//! events handed to the caller as they come: [`StreamRead`]). The loop that
//! sends them is [`super::paying::pay`].
//!
//! Rules beyond `fetchWithPayment`'s (the plan and price rules of
//! [`super::next_step`] apply to the agent's PaymentRequired as to a 402):
//! - the card's payment extension is read first: a card whose plans the call
//!   does not allow, whose agent is not the call's `agentId`, or whose
//!   credits per message are over `maxCredits` is refused before any message
//!   is sent or any token minted;
//! - the token goes only to the card's `url` on the origin of `agentBaseUrl`
//!   (the one the caller named): a card that points elsewhere is refused;
//! - the token is carried in band only (not in the legacy `payment-signature`
//!   header as well, as the official client does).

use super::{allowed, PayOptions};
use crate::error::{Error, Result, MAX_CREDITS_EXCEEDED, PLAN_NOT_ALLOWED, REDIRECT_NOT_FOLLOWED};
use crate::protocol::gate::a2a::{
    payment_extension, state, PAYLOAD_KEY, PAYMENT_COMPLETED, PAYMENT_REQUIRED, PAYMENT_SUBMITTED,
    RECEIPTS_KEY, REQUIRED_KEY, STATUS_KEY,
};
use crate::protocol::json::{self, to_text, Object, ObjectBuilder, Value};
use crate::protocol::url::Url;
use crate::protocol::{decode_access_token, Uint256};

/// The card's path under `agentBaseUrl` (A2A 0.3+; the official client's).
pub const CARD_PATH: &str = ".well-known/agent-card.json";
/// The legacy path, tried when the card is not at [`CARD_PATH`].
pub const LEGACY_CARD_PATH: &str = ".well-known/agent.json";

/// One `sendA2AMessage` (or `sendA2AMessageStream`): the caller's `MessageSendParams`;
/// or one unpaid call on a task ([`TASK_CALLS`]: `getA2ATask`, `resubscribeA2ATask`,
/// `setA2ATaskPushNotificationConfig`, `getA2ATaskPushNotificationConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct A2aMessage {
    /// `params`: `{message, configuration?, metadata?}` (a task call's: `{id, ...}`).
    pub params: Value,
    /// A task call's JSON-RPC method (`tasks/get`, `tasks/resubscribe`,
    /// `tasks/pushNotificationConfig/set`, `.../get`): sent
    /// once, with no token (reading a task is not paid), and never paid on.
    pub task_call: Option<&'static str>,
    /// `message/stream`: the answer is Server-Sent Events, and the call's answer all of them.
    pub stream: bool,
    /// This attempt's JSON-RPC id (1, 2, ...).
    pub rpc_id: u64,
    /// The task waiting for its payment that this attempt's message continues.
    pub task_id: Option<String>,
}

impl A2aMessage {
    /// Reads `{params}` from the call's options (A2A requires `params.message.messageId`).
    pub fn from_json(options: &Value, stream: bool) -> Result<Self> {
        options
            .get("params")
            .filter(|p| json::at(p, &["message", "messageId"]).is_some_and(Value::is_string))
            .map(|p| A2aMessage {
                params: p.clone(),
                task_call: None,
                stream,
                rpc_id: 1,
                task_id: None,
            })
            .ok_or_else(|| {
                Error::validation("sendA2AMessage: params.message.messageId is required")
            })
    }

    /// Reads the `{params}` of a task call of kind `kind` ([`TASK_CALLS`]):
    /// `None` when `kind` is not one. Its key (`params.id`, `params.taskId`)
    /// is required; `tasks/resubscribe`'s answer is Server-Sent Events.
    pub fn task_call(kind: &str, options: &Value) -> Result<Option<Self>> {
        let Some(&(_, method, key)) = TASK_CALLS.iter().find(|c| c.0 == kind) else {
            return Ok(None);
        };
        let params = options
            .get("params")
            .filter(|p| p.get(key).and_then(json::id_value).is_some());
        let Some(params) = params else {
            let mut message = "params.".to_owned();
            message.push_str(key);
            message.push_str(" is required");
            return Err(Error::validation(message));
        };
        Ok(Some(A2aMessage {
            params: params.clone(),
            task_call: Some(method),
            stream: method == RESUBSCRIBE,
            rpc_id: 1,
            task_id: None,
        }))
    }
}

/// `tasks/resubscribe`: a task call answered with Server-Sent Events.
const RESUBSCRIBE: &str = "tasks/resubscribe";

/// The task calls: unpaid, sent once with no token to the card's `url`
/// (reading a task or setting where its notifications go is not paid; the
/// official client sends its cached token in the deprecated
/// `payment-signature` header on each). The call's kind (`core.pay`'s), its
/// JSON-RPC method, and the key its `params` must have.
pub const TASK_CALLS: [(&str, &str, &str); 4] = [
    ("a2a-get", "tasks/get", "id"),
    ("a2a-resubscribe", RESUBSCRIBE, "id"),
    // A2A 0.3 `TaskPushNotificationConfig`: `{taskId, pushNotificationConfig}`.
    ("a2a-push-set", "tasks/pushNotificationConfig/set", "taskId"),
    // `GetTaskPushNotificationConfigParams`: `{id, pushNotificationConfigId?}`.
    ("a2a-push-get", "tasks/pushNotificationConfig/get", "id"),
];

/// Reads the agent card: where its JSON-RPC endpoint is (its `url`, on the
/// origin of `base_url`), and checks its payment extension against the
/// call's options. The card's `agentId` becomes the call's when it names none
/// (the token is then bound to that agent).
pub fn read_card(card_text: &str, base_url: &str, opts: &mut PayOptions) -> Result<String> {
    let card = json::parse(card_text).unwrap_or(Value::Null);
    let endpoint = card.get("url").and_then(Value::as_str).unwrap_or("");
    let Some(origin) = Url::parse(endpoint).map(|u| u.origin()) else {
        return Err(Error::InvalidResponse {
            status: 200,
            message: "The agent card has no absolute url (its JSON-RPC endpoint)".into(),
        });
    };
    if Url::parse(base_url).map(|u| u.origin()) != Some(origin) {
        let mut message = "The agent card sends messages to ".to_owned();
        message.push_str(endpoint);
        message.push_str(", on another origin than agentBaseUrl: no payment is sent there (name that origin in agentBaseUrl if you trust it)");
        return Err(Error::Redirect {
            code: REDIRECT_NOT_FOLLOWED,
            message,
        });
    }
    if let Some(terms) = payment_extension(&card).and_then(|e| e.get("params")) {
        check_terms(terms, opts)?;
    }
    Ok(endpoint.to_owned())
}

/// The payment extension's terms (`agentId`, `planId` or `planIds`,
/// `credits` per message) against the call's options, as a 402's entries
/// are checked: an allowed plan, the call's agent, at most `maxCredits`.
fn check_terms(terms: &Value, opts: &mut PayOptions) -> Result<()> {
    let id = |key: &str| terms.get(key).and_then(json::id_value);
    let agent = id("agentId");
    let plans = json::items(terms.get("planIds"));
    let mut may_pay = plans
        .iter()
        .filter_map(json::id_value)
        .chain(id("planId"))
        .any(|p| allowed(opts, &p))
        || (plans.is_empty() && id("planId").is_none());
    if let (Some(mine), Some(theirs)) = (&opts.agent_id, &agent) {
        may_pay &= mine == theirs;
    }
    let refuse = |code, message: &str| Error::PaymentRefused {
        code,
        message: message.into(),
        details: Some(terms.clone()),
    };
    if !may_pay {
        return Err(refuse(
            PLAN_NOT_ALLOWED,
            "The agent card asks to be paid with a plan (or for an agent) this call does not allow: see planIds, anyPlan and agentId, and the card's terms in details",
        ));
    }
    let credits = terms
        .get("credits")
        .and_then(|c| Uint256::from_json(c).ok());
    if opts
        .max_credits
        .as_ref()
        .is_some_and(|cap| credits.is_some_and(|c| &c > cap))
    {
        return Err(refuse(
            MAX_CREDITS_EXCEEDED,
            "The agent card asks more credits per message than maxCredits",
        ));
    }
    if opts.agent_id.is_none() {
        opts.agent_id = agent;
    }
    Ok(())
}

/// The JSON-RPC `message/send` (`message/stream`) of one attempt: the
/// caller's params, the message continuing `m.task_id` (the task waiting for
/// its payment) and carrying `token` in band (decoded) with `payment-submitted`.
pub fn message_send(m: &A2aMessage, token: Option<&str>) -> Result<Value> {
    let mut params = m.params.clone();
    if let Some(message) = params.get_mut("message").and_then(Value::as_object_mut) {
        if let Some(task_id) = &m.task_id {
            message.insert("taskId".into(), Value::from(task_id.as_str()));
        }
        if let Some(token) = token {
            let decoded = decode_access_token(token)
                .ok_or_else(|| Error::validation("the access token is not decodable"))?;
            let mut meta = match message.remove("metadata") {
                Some(Value::Object(m)) => m,
                _ => Object::new(),
            };
            meta.insert(STATUS_KEY.into(), Value::from(PAYMENT_SUBMITTED));
            meta.insert(PAYLOAD_KEY.into(), Value::Object(decoded));
            message.insert("metadata".into(), Value::Object(meta));
        }
    }
    Ok(ObjectBuilder::new()
        .put("jsonrpc", "2.0")
        .put("id", m.rpc_id)
        .put(
            "method",
            m.task_call.unwrap_or(if m.stream {
                "message/stream"
            } else {
                "message/send"
            }),
        )
        .put("params", params)
        .build())
}

/// What an A2A agent answered one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct A2aAnswer {
    /// The JSON-RPC response, as sent (a result or an error); a stream's: all its events' (an array).
    pub response: Value,
    /// The JSON-RPC id it answers.
    pub rpc_id: u64,
    /// The answer is a task that waits for its payment (`input-required`, `payment-required`).
    pub asks_payment: bool,
    /// Its PaymentRequired (`x402.payment.required`).
    pub payment_required: Option<Object>,
    /// That task's id: the follow-up pays on it.
    pub waiting_task: Option<String>,
    /// The receipt of a `payment-completed` task (`x402.payment.receipts[0]`).
    pub receipt: Option<Object>,
}

/// `r` is the JSON-RPC response to the attempt `rpc_id`.
fn answers(r: &Value, rpc_id: u64) -> bool {
    r.get("id").and_then(Value::as_u64) == Some(rpc_id)
}

/// One line of a Server-Sent Events answer to the attempt `rpc_id` (the A2A
/// SDKs write one `data:` line per event): `None` when it is not a `data:`
/// line, else its JSON-RPC response (`Err`: not JSON, or not this attempt's,
/// which makes the whole answer unreadable).
pub fn sse_event(line: &str, rpc_id: u64) -> Option<std::result::Result<Value, ()>> {
    let data = line.strip_prefix("data:")?;
    Some(
        json::parse(data)
            .ok()
            .filter(|r| answers(r, rpc_id))
            .ok_or(()),
    )
}

/// An A2A stream's body read as it comes (the paying loop asks its courier
/// for it piece by piece): each event answering the attempt is handed to the
/// caller once its line is complete; a task call's at once, a message's one
/// event late, as its last says how the payment went (a task asking for
/// payment, or the receipt) and stays in the call's answer. After a line
/// that is not this attempt's, nothing more is handed over (the answer is
/// then an error, [`read_answer`]).
#[derive(Debug, Default)]
pub struct StreamRead {
    /// The body so far.
    pub text: String,
    /// How many events were handed over (the first of the answer's).
    pub emitted: usize,
    /// Where the lines not read yet start.
    read: usize,
    /// A message's last event so far (it may be the last).
    held: Option<Value>,
    /// A line was not this attempt's.
    broken: bool,
}

impl StreamRead {
    /// Adds the next `piece` of the body of the attempt `m`; the courier's
    /// next ask: the events the caller may have now (a JSON array).
    pub fn feed(&mut self, piece: &str, m: &A2aMessage) -> String {
        self.text.push_str(piece);
        let mut ready = Vec::new();
        while let Some((line, _)) = self.text.get(self.read..).and_then(|t| t.split_once('\n')) {
            self.read += line.len() + 1;
            match sse_event(line, m.rpc_id) {
                Some(Ok(event)) if !self.broken => {
                    let event = if m.task_call.is_some() {
                        Some(event)
                    } else {
                        self.held.replace(event)
                    };
                    if let Some(event) = event {
                        ready.push(event);
                        self.emitted += 1;
                    }
                }
                Some(_) => self.broken = true,
                None => {}
            }
        }
        to_text(&Value::Array(ready))
    }
}

/// Reads the JSON-RPC response to the attempt `m`: JSON, or Server-Sent
/// Events (one response per `data:` line) of which the last says how the
/// payment went. A stream's answer is every event (an array).
pub fn read_answer(text: &str, m: &A2aMessage) -> Result<A2aAnswer> {
    let rpc_id = m.rpc_id;
    let mut events = Vec::new();
    if text.trim_start().starts_with('{') {
        // JSON: one event.
        if let Some(r) = json::parse(text).ok().filter(|r| answers(r, rpc_id)) {
            events.push(r);
        }
    } else {
        for line in text.split('\n') {
            match sse_event(line, rpc_id) {
                Some(Ok(r)) => events.push(r),
                Some(Err(())) => {
                    events.clear();
                    break;
                }
                None => {}
            }
        }
    }
    if events.is_empty() {
        return Err(Error::InvalidResponse {
            status: 200,
            message: "The A2A agent's answer is not the JSON-RPC response to this message".into(),
        });
    }
    let last = events.pop().unwrap_or_default();
    let result = last.get("result").unwrap_or(&Value::Null);
    let meta = |key: &str| json::at(result, &["status", "message", "metadata", key]);
    let status = meta(STATUS_KEY).and_then(Value::as_str);
    // (A task read is never paid on: a task waiting for its payment is only shown.)
    let asks_payment = m.task_call.is_none()
        && status == Some(PAYMENT_REQUIRED)
        && state(result) == Some("input-required");
    let receipt = json::items(meta(RECEIPTS_KEY))
        .first()
        .and_then(Value::as_object);
    let receipt = receipt
        .filter(|_| status == Some(PAYMENT_COMPLETED))
        .cloned();
    let payment_required = meta(REQUIRED_KEY)
        .and_then(Value::as_object)
        .filter(|_| asks_payment)
        .cloned();
    let waiting_task = result
        .get("id")
        .and_then(json::id_value)
        .filter(|_| asks_payment);
    let response = if m.stream {
        events.push(last);
        Value::Array(events)
    } else {
        last
    };
    Ok(A2aAnswer {
        response,
        rpc_id,
        asks_payment,
        payment_required,
        waiting_task,
        receipt,
    })
}

#[cfg(test)]
mod tests;
