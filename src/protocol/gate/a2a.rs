//! The A2A paywall's decisions, without I/O: the agent card's payment
//! extensions, the x402 v2 A2A transport (payment state in the task's status
//! message `metadata` under `x402.payment.*`), reading a JSON-RPC request
//! (A2A 0.3 wire format, the official binding's), and the tasks and errors the
//! paywall answers. The async steps (store, verify, executor, settle) are in
//! [`crate::gate::a2a`].
//!
//! Where the official binding (`@nevermined-io/payments` `src/a2a/`) fails
//! open we don't: it verifies for 1 credit whatever the card says, settles
//! nothing when the executor reports no `creditsUsed`, and settles whatever
//! the executor reports; here verify asks for the card's credits, settle
//! charges the reported credits capped at that amount (the card's credits
//! when none are reported). README.md lists these differences.

use super::{precheck_token, Credits, Refusal};
use crate::error::{Error, Result};
use crate::protocol::json::{self, Object, ObjectBuilder, Value};
use crate::protocol::token::{encode_access_token, TokenClaims};
use crate::protocol::Uint256;

/// Nevermined's payment extension of the agent card.
pub const NVM_PAYMENT_EXTENSION_URI: &str = "urn:nevermined:payment";
/// The a2a-x402 extension (x402 v2 in-band A2A transport).
pub const A2A_X402_EXTENSION_URI: &str =
    "https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2";
/// Canonical agent-card path (A2A 0.3+).
pub const AGENT_CARD_PATH: &str = "/.well-known/agent-card.json";
/// The legacy agent-card path (pre 0.3).
pub const LEGACY_AGENT_CARD_PATH: &str = "/.well-known/agent.json";
/// Metadata key: the payment flow's stage.
pub const STATUS_KEY: &str = "x402.payment.status";
/// Metadata key: the PaymentRequired.
pub const REQUIRED_KEY: &str = "x402.payment.required";
/// Metadata key: the payment payload (client to server).
pub const PAYLOAD_KEY: &str = "x402.payment.payload";
/// Metadata key: the settlement receipts (an array).
pub const RECEIPTS_KEY: &str = "x402.payment.receipts";
/// Metadata key: the error code of a failed payment.
pub const ERROR_KEY: &str = "x402.payment.error";
/// `x402.payment.status` values.
pub const PAYMENT_REQUIRED: &str = "payment-required";
/// The client's payment.
pub const PAYMENT_SUBMITTED: &str = "payment-submitted";
/// Settled.
pub const PAYMENT_COMPLETED: &str = "payment-completed";
/// Verification or settlement failed.
pub const PAYMENT_FAILED: &str = "payment-failed";
/// The largest in-band payload read, as compact JSON (bytes).
pub const MAX_PAYMENT_PAYLOAD: usize = 64 * 1024;
/// The largest JSON-RPC request body read (bytes).
pub const MAX_BODY: usize = 1024 * 1024;

/// JSON-RPC: the body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: not a valid request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: unknown method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: bad params.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC: internal error (the payment backend or the task store failed).
pub const INTERNAL_ERROR: i64 = -32603;
/// A2A: no such task.
pub const TASK_NOT_FOUND: i64 = -32001;
/// A2A: the task can't be canceled (it ended, or it runs where it can't be told).
pub const TASK_NOT_CANCELABLE: i64 = -32002;
/// A2A: push notifications are not supported (`PushNotificationNotSupportedError`).
pub const PUSH_NOTIFICATION_NOT_SUPPORTED: i64 = -32003;
/// A2A: the operation is not supported.
pub const UNSUPPORTED_OPERATION: i64 = -32004;

/// The error code (`x402.payment.error`) of a refused payment.
pub const REFUSED_CODE: &str = "PAYMENT_REFUSED";
/// The error code of a settlement that failed after the executor ran.
pub const SETTLEMENT_FAILED_CODE: &str = "SETTLEMENT_FAILED";
/// The error code of an executor that threw (nothing charged).
pub const EXECUTION_FAILED_CODE: &str = "EXECUTION_FAILED";
/// The error code of a task whose payment came too late (the a2a-x402 spec's
/// "submitted after its expiry time"): it waited [`A2aConfig::pending_ttl_ms`].
pub const EXPIRED_CODE: &str = "EXPIRED_PAYMENT";
/// `x402.payment.status` of a task canceled while it waited for its payment
/// (the a2a-x402 spec's state for requirements the client turned down).
pub const PAYMENT_REJECTED: &str = "payment-rejected";
/// Task metadata: when a task asking for payment expires (milliseconds since
/// the Unix epoch). A payment for it after that is refused, nothing charged.
pub const EXPIRES_KEY: &str = "paymentExpiresAt";
/// How long a task asking for payment waits for it unless the paywall says
/// otherwise (`pendingTaskTtlSeconds`): 15 minutes, the time a person may take
/// to approve a payment; after it the task fails with [`EXPIRED_CODE`].
pub const DEFAULT_PENDING_TTL_SECONDS: u64 = 900;
/// The longest `pendingTaskTtlSeconds`: 7 days.
pub const MAX_PENDING_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// Task metadata: when the task store removes a task the paywall wrote
/// (milliseconds since the Unix epoch; the store's `removeAt`), unless it is
/// written again before. Past it the paywall answers the task as unknown
/// (-32001), whether or not the store removed it.
pub const REMOVE_AT_KEY: &str = "removeAt";
/// How long a task is kept after the paywall last wrote it (its run's end, a
/// cancel, its expiry; a run that never ended, its start) unless the paywall
/// says otherwise (`finishedTaskTtlSeconds`): 7 days. The client that paid
/// gets the result in the answer itself; `tasks/get` is for one that lost the
/// answer or polls, and a week covers one that comes back after a weekend or
/// an outage, while a busy agent's store holds at most a week of tasks.
pub const DEFAULT_FINISHED_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// The longest `finishedTaskTtlSeconds`: 365 days (there is no "forever": a
/// store that must keep results longer is the executor's own).
pub const MAX_FINISHED_TTL_SECONDS: u64 = 365 * 24 * 3600;
/// The official A2A server's hooks (`hooks: {beforeRequest, afterRequest,
/// onError}`): `beforeRequest(method, params, request)` once a JSON-RPC call is
/// read, `afterRequest(method, response, request)` with the answer (a stream's
/// last event), `onError(method, error, request)` when that answer is a
/// JSON-RPC error. Each observes: it is awaited (within the backend time
/// limit), and one that throws is logged; none changes what is answered.
pub const HOOKS: [&str; 3] = ["beforeRequest", "afterRequest", "onError"];

/// `buildPaymentAgentCard(card, metadata)`: `card` with the Nevermined payment
/// extension (params: the metadata as given) and the a2a-x402 extension added
/// to `capabilities.extensions`, checked as the official helper checks it.
pub fn build_payment_agent_card(card: &Value, metadata: &Value) -> Result<Value> {
    const WHAT: &str = "buildPaymentAgentCard";
    let card_o = json::object(card, "buildPaymentAgentCard: the agent card")?;
    let meta = json::object(metadata, "buildPaymentAgentCard: the payment metadata")?;
    let payment_type = json::opt_str(meta, "paymentType", WHAT)?.unwrap_or("");
    if payment_type.is_empty() {
        return Err(Error::validation("paymentType is required"));
    }
    if payment_type != "fixed" && payment_type != "dynamic" {
        return Err(Error::validation(
            "paymentType must be 'fixed' or 'dynamic'",
        ));
    }
    let credits = meta
        .get("credits")
        .map(Uint256::from_json)
        .transpose()
        .map_err(|_| Error::validation("credits cannot be negative"))?;
    let trial = meta.get("isTrialPlan").and_then(Value::as_bool) == Some(true);
    if !trial && credits.as_ref().is_none_or(Uint256::is_zero) {
        return Err(Error::validation(
            "credits must be a positive number for paid plans",
        ));
    }
    if json::opt_id(meta, "agentId", WHAT)?.is_none() {
        return Err(Error::validation("agentId is required"));
    }
    let description = json::opt_str(meta, "costDescription", WHAT)?;
    let capabilities = json::opt_object(card_o.get("capabilities"), "capabilities")?;
    let mut extensions = capabilities
        .and_then(|c| c.get("extensions"))
        .map(|e| json::items(Some(e)).to_vec())
        .unwrap_or_default();
    extensions.push(
        ObjectBuilder::new()
            .put("uri", NVM_PAYMENT_EXTENSION_URI)
            .put_opt("description", description)
            .put("required", false)
            .put("params", metadata.clone())
            .build(),
    );
    extensions.push(
        ObjectBuilder::new()
            .put("uri", A2A_X402_EXTENSION_URI)
            .put(
                "description",
                description.unwrap_or(
                    "Supports payments using the x402 protocol for on-chain settlement.",
                ),
            )
            .put("required", false)
            .build(),
    );
    let mut caps = capabilities.cloned().unwrap_or_default();
    caps.insert("extensions".into(), Value::Array(extensions));
    let mut out = card_o.clone();
    out.insert("capabilities".into(), Value::Object(caps));
    Ok(Value::Object(out))
}

/// What the paywall charges, read from the card's payment extension.
#[derive(Debug, Clone, PartialEq)]
pub struct A2aConfig {
    /// The card, as served.
    pub card: Value,
    /// `params.agentId`.
    pub agent_id: String,
    /// `params.planId` (or `planIds`).
    pub plan_ids: Vec<String>,
    /// `params.credits`: what verify asks for and, when the executor reports
    /// nothing, what settle charges (the most settle ever charges).
    pub credits: Credits,
    /// How long a task asking for payment waits for it (ms):
    /// `pendingTaskTtlSeconds`, by default [`DEFAULT_PENDING_TTL_SECONDS`].
    pub pending_ttl_ms: u64,
    /// How long any other task the paywall writes is kept after it was
    /// written (ms): `finishedTaskTtlSeconds`, by default
    /// [`DEFAULT_FINISHED_TTL_SECONDS`].
    pub finished_ttl_ms: u64,
    /// Which of [`HOOKS`] were given (bit `i`: `HOOKS[i]`).
    pub hooks: u8,
}

impl A2aConfig {
    /// Reads `{agentCard, pendingTaskTtlSeconds?, finishedTaskTtlSeconds?,
    /// hooks?}`: a card made by [`build_payment_agent_card`], and the hooks as
    /// the adapter marks functions.
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "a2a.paywall options";
        let o = json::object(v, WHAT)?;
        let ttl = seconds(
            o.get("pendingTaskTtlSeconds"),
            DEFAULT_PENDING_TTL_SECONDS,
            MAX_PENDING_TTL_SECONDS,
            "a2a.paywall: pendingTaskTtlSeconds must be a whole number of seconds from 1 to 604800 (7 days)",
        )?;
        let finished_ttl = seconds(
            o.get("finishedTaskTtlSeconds"),
            DEFAULT_FINISHED_TTL_SECONDS,
            MAX_FINISHED_TTL_SECONDS,
            "a2a.paywall: finishedTaskTtlSeconds must be a whole number of seconds from 1 to 31536000 (365 days)",
        )?;
        let given = json::opt_object(o.get("hooks"), "a2a.paywall: hooks")?;
        let mut hooks = 0;
        for (i, name) in HOOKS.iter().enumerate() {
            match given.and_then(|h| h.get(name)) {
                None | Some(Value::Null) => {}
                Some(f) if super::is_function_mark(f) => hooks |= 1 << i,
                Some(_) => {
                    return Err(Error::validation(format!(
                        "a2a.paywall: hooks.{name} must be a function"
                    )))
                }
            }
        }
        let card = o
            .get("agentCard")
            .filter(|c| c.as_object().is_some())
            .ok_or_else(|| Error::validation("a2a.paywall: agentCard is required (an object)"))?;
        // A client of A2A 1.0 would call an interface declared so with SendMessage & co.,
        // which this paywall (A2A 0.3 JSON-RPC) answers Method not found: said here instead.
        let v1 = json::items(card.get("supportedInterfaces"))
            .iter()
            .any(|i| {
                let version = i.get("protocolVersion").and_then(Value::as_str);
                !version.unwrap_or("").starts_with("0.")
            });
        if v1 {
            return Err(Error::validation("a2a.paywall serves A2A 0.3 JSON-RPC: the card declares an A2A 1.0 interface (supportedInterfaces), which clients would call with SendMessage; give it url and protocolVersion '0.3.0' instead"));
        }
        let ext = payment_extension(card).ok_or_else(|| {
            Error::validation("a2a.paywall: the agent card has no urn:nevermined:payment extension (build it with buildPaymentAgentCard)")
        })?;
        let params = json::object(
            ext.get("params").unwrap_or(&Value::Null),
            "the payment extension's params",
        )?;
        let agent_id = json::opt_id(params, "agentId", WHAT)?.ok_or_else(|| {
            Error::validation("a2a.paywall: the payment extension has no agentId")
        })?;
        let mut plan_ids = json::opt_ids(params, "planIds", WHAT)?;
        if let Some(plan) = json::opt_id(params, "planId", WHAT)? {
            if !plan_ids.contains(&plan) {
                plan_ids.insert(0, plan);
            }
        }
        if plan_ids.is_empty() {
            return Err(Error::validation(
                "a2a.paywall: the payment extension has no planId",
            ));
        }
        let credits = params
            .get("credits")
            .map(Uint256::from_json)
            .transpose()?
            .unwrap_or_else(|| Uint256::from(1u64));
        let dynamic = json::opt_str(params, "paymentType", WHAT)? == Some("dynamic");
        Ok(A2aConfig {
            card: card.clone(),
            agent_id,
            plan_ids,
            credits: if dynamic {
                Credits::Dynamic {
                    verify_with: credits,
                }
            } else {
                Credits::Fixed(credits)
            },
            pending_ttl_ms: ttl * 1000,
            finished_ttl_ms: finished_ttl * 1000,
            hooks,
        })
    }

    /// Whether hook `HOOKS[i]` was given.
    pub fn has_hook(&self, i: usize) -> bool {
        self.hooks & (1 << i) != 0
    }

    /// What verify asks for: the most a task is charged.
    pub fn verify_amount(&self) -> &Uint256 {
        match &self.credits {
            Credits::Fixed(c) => c,
            Credits::Dynamic { verify_with } => verify_with,
        }
    }

    /// The credits settled for a task: what the executor reported (`creditsUsed`
    /// in the task's metadata), capped at [`Self::verify_amount`]; when it
    /// reported none, the verified amount for a completed task and nothing
    /// for one that did not complete.
    pub fn settle_amount(&self, task: &Value) -> Uint256 {
        let max = self.verify_amount();
        let reported =
            json::at(task, &["metadata", "creditsUsed"]).and_then(|v| Uint256::from_json(v).ok());
        match reported {
            Some(n) if &n > max => max.clone(),
            Some(n) => n,
            None if state(task) == Some("completed") => max.clone(),
            None => Uint256::from(0u64),
        }
    }

    /// The pre-checks of a token (plan, agent; a v3 token bound to POST and this URL).
    pub fn precheck(
        &self,
        token: &str,
        url: &str,
    ) -> std::result::Result<(TokenClaims, usize), Refusal> {
        let path = |u: &str| u.split(['?', '#']).next().unwrap_or("").to_owned();
        let here = path(url);
        precheck_token(
            token,
            &self.plan_ids,
            Some(&self.agent_id),
            "POST",
            |bound| path(bound) == here,
        )
    }
}

/// An option in seconds: `default` when absent or null, else a whole number
/// from 1 to `max` (`refusal` otherwise).
fn seconds(v: Option<&Value>, default: u64, max: u64, refusal: &'static str) -> Result<u64> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|s| (1..=max).contains(s))
            .ok_or_else(|| Error::validation(refusal)),
    }
}

/// The card's `urn:nevermined:payment` extension.
pub fn payment_extension(card: &Value) -> Option<&Value> {
    json::items(json::at(card, &["capabilities", "extensions"]))
        .iter()
        .find(|e| e.get("uri").and_then(Value::as_str) == Some(NVM_PAYMENT_EXTENSION_URI))
}

/// A task's `status.state`.
pub fn state(task: &Value) -> Option<&str> {
    json::at(task, &["status", "state"]).and_then(Value::as_str)
}

/// A task's `x402.payment.status`.
pub fn payment_status(task: &Value) -> Option<&str> {
    json::at(task, &["status", "message", "metadata", STATUS_KEY]).and_then(Value::as_str)
}

/// Whether a stored task waits for its payment (`input-required`, `payment-required`).
pub fn is_pending(task: &Value) -> bool {
    state(task) == Some("input-required") && payment_status(task) == Some(PAYMENT_REQUIRED)
}

/// When a task asking for payment expires ([`EXPIRES_KEY`]).
pub fn expires_at(task: &Value) -> Option<u64> {
    json::at(task, &["metadata", EXPIRES_KEY]).and_then(Value::as_u64)
}

/// Whether `task` waits for its payment and its time ran out at `now_ms`. A
/// pending task without an expiry (kept before there was one) never expires.
pub fn is_expired(task: &Value, now_ms: u64) -> bool {
    is_pending(task) && expires_at(task).is_some_and(|at| at <= now_ms)
}

/// When the task store removes `task` ([`REMOVE_AT_KEY`]); `None`: never (a
/// task kept before there was a removal, or one asking for payment: it
/// expires first).
pub fn remove_at(task: &Value) -> Option<u64> {
    json::at(task, &["metadata", REMOVE_AT_KEY]).and_then(Value::as_u64)
}

/// Whether `task` is past its removal at `now_ms`: it is answered as unknown,
/// whether or not the store removed it yet (a store may ignore `removeAt`, and
/// an alarm may run late).
pub fn is_removed(task: &Value, now_ms: u64) -> bool {
    remove_at(task).is_some_and(|at| at <= now_ms)
}

/// `task` stamped with when the store removes it ([`REMOVE_AT_KEY`] in its
/// metadata: the client sees until when `tasks/get` finds it).
pub fn removed_at(mut task: Value, at: u64) -> Value {
    if let Some(o) = task.as_object_mut() {
        with_object(o, "metadata", |meta| {
            meta.insert(REMOVE_AT_KEY.into(), Value::from(at));
        });
    }
    task
}

/// Whether a task ended (A2A's terminal states).
pub fn is_terminal(task: &Value) -> bool {
    matches!(
        state(task),
        Some("completed" | "failed" | "canceled" | "rejected")
    )
}

/// Why a message paying for `task` (stored, not pending) is refused.
pub fn not_waiting(task: &Value) -> &'static str {
    let error = json::at(task, &["status", "message", "metadata", ERROR_KEY]);
    if error.and_then(Value::as_str) == Some(EXPIRED_CODE) {
        "The task expired: its payment did not come in time; nothing was charged. Send the message again, without its taskId, for a new task"
    } else if state(task) == Some("canceled") {
        "The task was canceled; nothing was charged. Send the message again, without its taskId, for a new task"
    } else {
        "The task does not wait for a payment (it was paid, or it ended)"
    }
}

/// What a task asking for payment becomes when its time runs out: `failed`,
/// `payment-failed` with [`EXPIRED_CODE`], the client's messages only,
/// removed `kept_ms` after its expiry. The same whoever makes it (the store
/// when the time comes, or the paywall on a later access): its message id is
/// the task's with `-expired`.
pub fn expired(task: &Value, kept_ms: u64) -> Value {
    let text = "The payment did not come in time: the task expired. Nothing was charged.";
    let mut message_id = ids_of(task).0;
    message_id.push_str("-expired");
    let out = failed(task, EXPIRED_CODE, text, None, &message_id, "");
    match expires_at(task) {
        Some(at) => removed_at(out, at.saturating_add(kept_ms)),
        None => out,
    }
}

/// `task` canceled (`tasks/cancel`): its status `canceled`, the rest as it
/// was; one that waited for its payment says `payment-rejected` (nothing was
/// charged, and no payment is taken for it any more).
pub fn canceled(task: &Value, message_id: &str, now: &str) -> Value {
    let (id, context) = ids_of(task);
    let mut meta = Object::new();
    let text = if is_pending(task) {
        meta.insert(STATUS_KEY.into(), Value::from(PAYMENT_REJECTED));
        "The task was canceled before it was paid; nothing was charged."
    } else {
        "The task was canceled."
    };
    let message = agent_message(message_id, &id, &context, text, meta);
    let mut out = task.clone();
    if let Some(o) = out.as_object_mut() {
        let status = ObjectBuilder::new()
            .put("state", "canceled")
            .put("message", message)
            .put_opt("timestamp", Some(now).filter(|n| !n.is_empty()))
            .build();
        o.insert("status".into(), status);
    }
    out
}

/// `tasks/get`'s `historyLength`: absent, every message; `n` (at most 0: none),
/// the last `n`. `None`: it is not a whole number.
pub fn with_history_length(mut task: Value, length: Option<&Value>) -> Option<Value> {
    let keep = match length {
        None | Some(Value::Null) => return Some(task),
        // A negative whole number keeps none, as the A2A SDK's handler.
        Some(n) => match (n.as_u64(), n.as_number()) {
            (Some(n), _) => n,
            (None, Some(n))
                if n.is_negative() && n.as_str().bytes().skip(1).all(|b| b.is_ascii_digit()) =>
            {
                0
            }
            _ => return None,
        },
    };
    if let Some(history) = task.get_mut("history").and_then(Value::as_array_mut) {
        let drop = history
            .len()
            .saturating_sub(keep.min(usize::MAX as u64) as usize);
        history.drain(..drop);
    }
    Some(task)
}

/// One HTTP request to the A2A server, as the facade describes it:
/// `{method, url, headers: {"payment-signature"?}, body?, ids: [3 fresh ids], now}`.
#[derive(Debug, Clone, PartialEq)]
pub struct A2aRequest {
    /// The HTTP method.
    pub method: String,
    /// The request's URL (origin and path: the resource paid for).
    pub url: String,
    /// Its path.
    pub path: String,
    /// The `payment-signature` header (the legacy path).
    pub header_token: Option<String>,
    /// The body's text (POST).
    pub body: Option<String>,
    /// Fresh ids the facade made (task, context, message), for new tasks.
    pub ids: Vec<String>,
    /// The time, ISO 8601 (task timestamps).
    pub now: String,
}

impl A2aRequest {
    /// Reads the facade's description of a request.
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "a2a request";
        let o = json::object(v, WHAT)?;
        let url = json::opt_str(o, "url", WHAT)?.unwrap_or("").to_owned();
        let path = crate::protocol::url::Url::parse(&url)
            .map(|u| u.path)
            .unwrap_or_else(|| "/".to_owned());
        let headers = json::opt_object(o.get("headers"), "a2a request headers")?;
        Ok(A2aRequest {
            method: json::opt_str(o, "method", WHAT)?
                .unwrap_or("GET")
                .to_owned(),
            url: url.split(['?', '#']).next().unwrap_or("").to_owned(),
            path,
            header_token: headers
                .and_then(|h| h.get("payment-signature"))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            body: json::opt_str(o, "body", WHAT)?.map(str::to_owned),
            ids: json::opt_ids(o, "ids", WHAT)?,
            now: json::opt_str(o, "now", WHAT)?.unwrap_or("").to_owned(),
        })
    }

    /// The `n`th fresh id.
    pub fn fresh(&self, n: usize) -> String {
        self.ids.get(n).cloned().unwrap_or_default()
    }
}

/// A JSON-RPC call read from the body.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcCall {
    /// `id` (answered back as given).
    pub id: Value,
    /// `method`.
    pub method: String,
    /// `params`.
    pub params: Value,
}

impl RpcCall {
    /// Reads a body; `Err(answer)`: the JSON-RPC error to answer.
    pub fn read(body: &str) -> std::result::Result<Self, Value> {
        if body.len() > MAX_BODY {
            return Err(rpc_error(
                &Value::Null,
                INVALID_REQUEST,
                "Request body too large",
            ));
        }
        let v =
            json::parse(body).map_err(|_| rpc_error(&Value::Null, PARSE_ERROR, "Parse error"))?;
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        let method = v.get("method").and_then(Value::as_str);
        match (v.get("jsonrpc").and_then(Value::as_str), method) {
            (Some("2.0"), Some(m)) => Ok(RpcCall {
                method: m.to_owned(),
                params: v.get("params").cloned().unwrap_or(Value::Null),
                id,
            }),
            _ => Err(rpc_error(&id, INVALID_REQUEST, "Invalid Request")),
        }
    }
}

/// The payment a message carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Payment {
    /// None.
    None,
    /// An access token: the in-band payload re-encoded, or the legacy header.
    Token(String),
    /// An in-band payload that can't be read (not an object, or over 64 KiB): refused.
    Unreadable(&'static str),
}

/// `message/send`'s message, its payment taken out of its metadata (the
/// payload is a token: it is never stored nor shown to the executor).
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    /// The message, without `x402.payment.payload`.
    pub message: Value,
    /// `message.taskId`.
    pub task_id: Option<String>,
    /// `message.contextId`.
    pub context_id: Option<String>,
    /// The payment.
    pub payment: Payment,
}

impl IncomingMessage {
    /// Reads `params` of `message/send`; `Err`: why the params are invalid.
    pub fn read(
        params: &Value,
        header_token: Option<&str>,
    ) -> std::result::Result<Self, &'static str> {
        let mut message = params
            .get("message")
            .filter(|m| m.as_object().is_some())
            .cloned()
            .ok_or("message is required.")?;
        if message
            .get("messageId")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err("message.messageId is required.");
        }
        let text = |key: &str| {
            message
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (task_id, context_id) = (text("taskId"), text("contextId"));
        let payload = message
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.remove(PAYLOAD_KEY));
        let payment = match payload {
            Some(Value::Object(map))
                if json::to_text(&Value::Object(map.clone())).len() <= MAX_PAYMENT_PAYLOAD =>
            {
                Payment::Token(encode_access_token(&map))
            }
            Some(Value::Object(_)) => {
                Payment::Unreadable("The payment payload is larger than 64 KiB")
            }
            Some(Value::Null) | None => match header_token {
                Some(t) => Payment::Token(t.to_owned()),
                None => Payment::None,
            },
            Some(_) => Payment::Unreadable("The payment payload must be a JSON object"),
        };
        Ok(IncomingMessage {
            message,
            task_id,
            context_id,
            payment,
        })
    }
}

/// What the official `X402A2AUtils` reads of a message's `metadata` (its
/// guards): `{status, required, payload}`: the payment status when it is a
/// string (else null); whether the payment-required is an object with a
/// numeric `x402Version` and an `accepts` list; whether the payment payload is
/// an object of at most [`MAX_PAYMENT_PAYLOAD`] bytes of JSON (the paywall's
/// own limit). Anything else is read as absent.
pub fn inband_metadata(metadata: &Value) -> Value {
    let required = metadata.get(REQUIRED_KEY).is_some_and(|r| {
        r.is_object()
            && r.get("x402Version").is_some_and(Value::is_number)
            && r.get("accepts").is_some_and(Value::is_array)
    });
    let payload = matches!(metadata.get(PAYLOAD_KEY),
        Some(p @ Value::Object(_)) if json::to_text(p).len() <= MAX_PAYMENT_PAYLOAD);
    ObjectBuilder::new()
        .put(
            "status",
            metadata
                .get(STATUS_KEY)
                .filter(|s| s.is_string())
                .cloned()
                .unwrap_or(Value::Null),
        )
        .put("required", required)
        .put("payload", payload)
        .build()
}

/// `params` as a hook is told them: without the message's payment payload (a token).
pub fn without_payload(params: &Value) -> Value {
    let mut out = params.clone();
    if let Some(meta) = out
        .get_mut("message")
        .and_then(|m| m.get_mut("metadata"))
        .and_then(Value::as_object_mut)
    {
        meta.remove(PAYLOAD_KEY);
    }
    out
}

/// A JSON-RPC error response.
pub fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    ObjectBuilder::new()
        .put("jsonrpc", "2.0")
        .put("id", id.clone())
        .put(
            "error",
            ObjectBuilder::new()
                .put("code", code)
                .put("message", message)
                .build(),
        )
        .build()
}

/// A JSON-RPC result response.
pub fn rpc_result(id: &Value, result: Value) -> Value {
    ObjectBuilder::new()
        .put("jsonrpc", "2.0")
        .put("id", id.clone())
        .put("result", result)
        .build()
}

/// An agent message with one text part and `metadata`.
pub fn agent_message(
    id: &str,
    task_id: &str,
    context_id: &str,
    text: &str,
    metadata: Object,
) -> Value {
    ObjectBuilder::new()
        .put("kind", "message")
        .put("messageId", id)
        .put("role", "agent")
        .put(
            "parts",
            Value::Array(vec![ObjectBuilder::new()
                .put("kind", "text")
                .put("text", text)
                .build()]),
        )
        .put("taskId", task_id)
        .put("contextId", context_id)
        .put("metadata", Value::Object(metadata))
        .build()
}

/// A task.
pub fn task(
    id: &str,
    context_id: &str,
    state: &str,
    message: Option<Value>,
    now: &str,
    history: Vec<Value>,
) -> Value {
    ObjectBuilder::new()
        .put("kind", "task")
        .put("id", id)
        .put("contextId", context_id)
        .put(
            "status",
            ObjectBuilder::new()
                .put("state", state)
                .put_opt("message", message)
                .put_opt("timestamp", Some(now).filter(|n| !n.is_empty()))
                .build(),
        )
        .put("history", Value::Array(history))
        .build()
}

/// The `input-required` task asking for payment: `x402.payment.status:
/// payment-required` and the PaymentRequired (with `error` and
/// `x402.payment.error` when a payment was refused).
#[allow(clippy::too_many_arguments)]
pub fn payment_required_task(
    id: &str,
    context_id: &str,
    message_id: &str,
    payment_required: Value,
    refusal: Option<&str>,
    now: &str,
    history: Vec<Value>,
    expires_at: Option<u64>,
) -> Value {
    let mut meta = Object::new();
    meta.insert(STATUS_KEY.into(), Value::from(PAYMENT_REQUIRED));
    meta.insert(REQUIRED_KEY.into(), payment_required);
    if refusal.is_some() {
        meta.insert(ERROR_KEY.into(), Value::from(REFUSED_CODE));
    }
    let text = match refusal {
        Some(reason) => format!("Payment is required for this service: {reason}"),
        None => "Payment is required for this service.".to_owned(),
    };
    let message = agent_message(message_id, id, context_id, &text, meta);
    let mut out = task(
        id,
        context_id,
        "input-required",
        Some(message),
        now,
        history,
    );
    if let (Some(at), Some(o)) = (expires_at, out.as_object_mut()) {
        let meta = ObjectBuilder::new().put(EXPIRES_KEY, at).build();
        o.insert("metadata".into(), meta);
    }
    out
}

/// The executor's final task stamped `payment-completed` with the receipt
/// (when one was settled) in its status message's metadata, and the credits
/// charged in its metadata (`creditsCharged`, `txHash`, as the official's). A
/// pay-as-you-go settle (`billingModel` other than `credits`) charged money,
/// not credits: no `creditsCharged` (as the official since payments #439).
pub fn completed(
    mut task: Value,
    settlement: Option<&Value>,
    charged: &Uint256,
    message_id: &str,
) -> Value {
    let (id, context) = ids_of(&task);
    if let Some(o) = task.as_object_mut() {
        with_object(o, "metadata", |meta| {
            let model = settlement.and_then(|s| s.get("billingModel"));
            if model.is_none_or(|m| m.as_str() == Some("credits")) {
                meta.insert("creditsCharged".into(), Value::from(charged.as_str()));
            }
            if let Some(tx) =
                settlement.and_then(|s| s.get("transaction").or_else(|| s.get("txHash")))
            {
                meta.insert("txHash".into(), tx.clone());
            }
        });
        with_object(o, "status", |status| {
            if status.get("message").and_then(Value::as_object).is_none() {
                let text = "Payment completed successfully.";
                status.insert(
                    "message".into(),
                    agent_message(message_id, &id, &context, text, Object::new()),
                );
            }
            if let Some(m) = status.get_mut("message").and_then(Value::as_object_mut) {
                with_object(m, "metadata", |meta| {
                    meta.insert(STATUS_KEY.into(), Value::from(PAYMENT_COMPLETED));
                    if let Some(s) = settlement {
                        meta.insert(RECEIPTS_KEY.into(), Value::Array(vec![s.clone()]));
                    }
                });
            }
        });
    }
    task
}

/// A task whose payment failed after the executor ran (or whose executor
/// threw): state `failed`, no content (no artifacts; the history keeps only
/// the client's messages), `payment-failed` with `code` and the settlement
/// answer when there was one.
pub fn failed(
    task: &Value,
    code: &str,
    text: &str,
    settlement: Option<&Value>,
    message_id: &str,
    now: &str,
) -> Value {
    let (id, context) = ids_of(task);
    let history: Vec<Value> = json::items(task.get("history"))
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .cloned()
        .collect();
    let mut meta = Object::new();
    meta.insert(STATUS_KEY.into(), Value::from(PAYMENT_FAILED));
    meta.insert(ERROR_KEY.into(), Value::from(code));
    if let Some(s) = settlement {
        meta.insert(RECEIPTS_KEY.into(), Value::Array(vec![s.clone()]));
    }
    let message = agent_message(message_id, &id, &context, text, meta);
    self::task(&id, &context, "failed", Some(message), now, history)
}

/// A task's id and context id.
pub fn ids_of(task: &Value) -> (String, String) {
    let get = |k: &str| task.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    (get("id"), get("contextId"))
}

/// The executor's outcome as a task: a task as given (its id and context made
/// this task's), a message as the status message of a `completed` task.
pub fn outcome_task(outcome: &Value, working: &Value, now: &str) -> Value {
    let (id, context) = ids_of(working);
    let mut out = match outcome.get("kind").and_then(Value::as_str) {
        Some("task") => outcome.clone(),
        Some("message") => {
            let mut history = json::items(working.get("history")).to_vec();
            history.push(outcome.clone());
            task(
                &id,
                &context,
                "completed",
                Some(outcome.clone()),
                now,
                history,
            )
        }
        _ => working.clone(),
    };
    if let Some(o) = out.as_object_mut() {
        o.insert("id".into(), Value::from(id.as_str()));
        o.insert("contextId".into(), Value::from(context.as_str()));
        o.insert("kind".into(), Value::from("task"));
    }
    out
}

/// Changes the object at `key` (made, or replacing a non-object, when needed).
fn with_object(o: &mut Object, key: &str, change: impl FnOnce(&mut Object)) {
    let mut inner = match o.remove(key) {
        Some(Value::Object(m)) => m,
        _ => Object::new(),
    };
    change(&mut inner);
    o.insert(key.into(), Value::Object(inner));
}

#[cfg(test)]
mod tests;
