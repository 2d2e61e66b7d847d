//! The one error type of nvm-x402: every failure has a stable string `code`,
//! a human message (said once, never repeated), an optional HTTP status and hint.
//!
//! Backend envelope codes (`BCK.X402.0005`, ...) pass through unchanged; our own
//! codes are lower-case words (`validation`, `network_error`, `http_502`, ...).
//! Messages never contain a whole token or API key (see [`crate::protocol::redact`]).

use crate::protocol::json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, with a stable [`Error::code`].
///
/// ```
/// let e = nvm_x402::Error::validation("planId is required");
/// assert_eq!(e.code(), "validation");
/// assert_eq!(e.to_string(), "planId is required");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Bad input caught before any request was sent. Code `validation`.
    Validation(String),
    /// The backend answered with its JSON error envelope; its code passes through.
    Backend(Box<BackendError>),
    /// A non-2xx answer whose body is not the backend's envelope (an HTML
    /// gateway page, a proxy error). Code `http_<status>`.
    Http {
        /// The HTTP status.
        status: u16,
        /// What happened, without the body.
        message: String,
    },
    /// A 2xx answer whose body is not the JSON we expected. Code `invalid_response`.
    InvalidResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong with the body.
        message: String,
    },
    /// The request never got an answer (DNS, refused connection, CORS, abort). Code `network_error`.
    Network(String),
    /// No answer within the configured time. Code `timeout`.
    Timeout {
        /// The limit that was exceeded.
        after_ms: u64,
    },
    /// A paid agent could not be reached. Code `network_error`.
    Unreachable(String),
    /// The paying client did not follow the agent's redirect: the token would
    /// have left the origin that was checked (code `redirect_not_followed`), or
    /// as `fetch` fails (`redirect: 'error'`, too many redirects; code `network_error`).
    Redirect {
        /// `redirect_not_followed` or `network_error`.
        code: &'static str,
        /// Where the redirect went and why it was not followed.
        message: String,
    },
    /// A token or key would have been sent over plain `http:` to a non-loopback host.
    /// Code `insecure_transport`.
    InsecureTransport(String),
    /// A paid agent still answered 402 after paying. Code `payment_required`.
    PaymentRequired {
        /// Why the agent refused (its `message`, or a default).
        message: String,
        /// The decoded `payment-required` header, when the agent sent one.
        payment_required: Option<Value>,
    },
    /// The paying client refused to pay what the agent asked: a plan the caller
    /// did not allow (code `plan_not_allowed`), or more credits per request than
    /// `maxCredits` (code `max_credits_exceeded`).
    PaymentRefused {
        /// `plan_not_allowed` or `max_credits_exceeded`.
        code: &'static str,
        /// What was asked and what was allowed.
        message: String,
        /// The agent's PaymentRequired, or its receipt.
        details: Option<Value>,
    },
    /// `mcp.callTool` found no MCP protocol revision it shares with the server
    /// (or the one `protocolVersion` pins), or the server refused `initialize`.
    /// Code `mcp_negotiation_failed`.
    McpNegotiation(String),
    /// A method that this build of the core leaves out (each package entry
    /// carries one part of the API, see Cargo.toml's features). Code `not_in_entry`.
    NotInEntry {
        /// The method, by its JS name.
        what: String,
        /// The package entry this core is loaded by.
        entry: &'static str,
        /// The package entry that has it.
        home: &'static str,
    },
}

/// `code` of [`Error::PaymentRefused`] for a plan the caller did not allow.
pub const PLAN_NOT_ALLOWED: &str = "plan_not_allowed";
/// `code` of [`Error::Redirect`] when the token would have left the checked origin.
pub const REDIRECT_NOT_FOLLOWED: &str = "redirect_not_followed";
/// `code` of [`Error::PaymentRefused`] for a price over `maxCredits`.
pub const MAX_CREDITS_EXCEEDED: &str = "max_credits_exceeded";

/// The backend's error envelope: `{code, message, httpStatus, hint?, details?, category?, retryable?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendError {
    /// `BCK.<AREA>.<NNNN>`, or `http_<status>` when the envelope had no code.
    pub code: String,
    /// The backend's message, as sent.
    pub message: String,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The backend's hint, if any.
    pub hint: Option<String>,
    /// The envelope's `details`, `category` and `retryable`, and any other fields, as sent.
    pub extra: Map,
}

impl Error {
    /// A `validation` error with this message.
    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> Cow<'_, str> {
        match self {
            Error::Validation(_) => Cow::Borrowed("validation"),
            Error::Backend(b) => Cow::Borrowed(&b.code),
            Error::Http { status, .. } => Cow::Owned(format!("http_{status}")),
            Error::InvalidResponse { .. } => Cow::Borrowed("invalid_response"),
            Error::Network(_) | Error::Unreachable(_) => Cow::Borrowed("network_error"),
            Error::Redirect { code, .. } => Cow::Borrowed(code),
            Error::Timeout { .. } => Cow::Borrowed("timeout"),
            Error::InsecureTransport(_) => Cow::Borrowed("insecure_transport"),
            Error::PaymentRequired { .. } => Cow::Borrowed("payment_required"),
            Error::PaymentRefused { code, .. } => Cow::Borrowed(code),
            Error::NotInEntry { .. } => Cow::Borrowed("not_in_entry"),
            Error::McpNegotiation(_) => Cow::Borrowed("mcp_negotiation_failed"),
        }
    }

    /// The HTTP status the error came with (or the one an HTTP layer should use).
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Backend(b) => Some(b.http_status),
            Error::Http { status, .. } | Error::InvalidResponse { status, .. } => Some(*status),
            Error::PaymentRequired { .. } => Some(402),
            _ => None,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<Cow<'_, str>> {
        let fixed = match self {
            Error::Backend(b) => return b.hint.as_deref().map(Cow::Borrowed).or_else(|| known_hint(&b.code).map(Cow::Borrowed)),
            Error::Http { status, .. } if *status >= 500 => "The backend or a proxy in front of it failed; retry later.",
            Error::Network(_) => "Check the backend URL and that the backend is running (for the local backend: nvm-local).",
            Error::Unreachable(_) => "Check the agent's URL and that the agent is running.",
            Error::Redirect { code, .. } if *code == REDIRECT_NOT_FOLLOWED => "Call the URL the agent redirects to, or ask the agent to answer without a redirect.",
            Error::Timeout { .. } => "The backend did not answer in time; retry, or raise `timeoutMs`.",
            Error::InsecureTransport(_) => "Use an https: URL (plain http: is only allowed to localhost, 127.0.0.1 or [::1]).",
            Error::PaymentRequired { message, .. } if crate::protocol::says_not_an_endpoint(message) => crate::protocol::NOT_AN_ENDPOINT_HINT,
            Error::PaymentRequired { .. } => "Order the plan first (payments.plans.orderPlan, or orderFiatPlan for card plans), then retry.",
            Error::PaymentRefused { code, .. } if *code == PLAN_NOT_ALLOWED => "Pass planIds with the plans you are willing to pay with (or anyPlan: true to pay with any plan the agent offers).",
            Error::PaymentRefused { .. } => "Raise maxCredits if that price is expected; otherwise don't use this agent.",
            // Only the paying client (subscriber) negotiates: the serving cores leave the text out.
            #[cfg(feature = "subscriber")]
            Error::McpNegotiation(_) => "Check the URL (the MCP server's Streamable HTTP endpoint). callTool speaks MCP 2026-07-28, else 2025-11-25; protocolVersion pins one.",
            Error::NotInEntry { home, .. } => return Some(Cow::Owned(format!("import {{ Payments }} from '{home}' for it"))),
            _ => return None,
        };
        Some(Cow::Borrowed(fixed))
    }

    /// Extra structured data: the envelope's own fields, or the decoded PaymentRequired.
    pub fn details(&self) -> Option<Value> {
        match self {
            Error::Backend(b) if !b.extra.is_empty() => Some(Value::Object(b.extra.clone())),
            Error::PaymentRequired {
                payment_required, ..
            } => payment_required.clone(),
            Error::PaymentRefused { details, .. } => details.clone(),
            _ => None,
        }
    }

    /// The error as a JSON object: `{code, message, httpStatus?, hint?, details?, retryable}`
    /// (how it crosses into JavaScript and into HTTP error bodies).
    ///
    /// ```
    /// let v = nvm_x402::Error::Network("connection refused".into()).to_json();
    /// assert_eq!(v["code"], "network_error");
    /// assert_eq!(v["retryable"], true);
    /// ```
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("code".into(), Value::String(self.code().into_owned()));
        map.insert("message".into(), Value::String(self.to_string()));
        if let Some(status) = self.http_status() {
            map.insert("httpStatus".into(), Value::from(status));
        }
        if let Some(hint) = self.hint() {
            map.insert("hint".into(), Value::String(hint.into_owned()));
        }
        if let Some(details) = self.details() {
            map.insert("details".into(), details);
        }
        map.insert("retryable".into(), Value::Bool(self.is_retryable()));
        Value::Object(map)
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Network(_) | Error::Unreachable(_) | Error::Timeout { .. } => true,
            Error::Http { status, .. } => *status >= 500 || *status == 429,
            Error::Backend(b) => b
                .extra
                .get("retryable")
                .and_then(Value::as_bool)
                .unwrap_or(b.http_status >= 500),
            _ => false,
        }
    }
}

/// Hints for backend codes whose envelope often comes without one.
fn known_hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "BCK.APIKEY.0004" => "Check the API key: it must be a current key of this environment (the prefix before ':' picks it).",
        "BCK.AUTH.0003" => "This API key was revoked; create a new one.",
        "BCK.X402.0005" => "The access token is invalid; mint a new one with getX402AccessToken.",
        "BCK.X402.0013" => "The delegation expired; create a new delegation and mint a new token.",
        "BCK.X402.0023" => "The delegation's remaining budget is too low; create a delegation with a higher spending limit.",
        "BCK.X402.0030" => "Pass tokenOptions.delegationConfig with a delegationId (see createDelegation).",
        "BCK.X402.0059" => "Single-use (v3) tokens can be settled once; mint a new token for each request.",
        "BCK.COMMON.0026" => "Send big numbers as strings or bigints, not JavaScript numbers.",
        "BCK.PROTOCOL.0047" => "Fiat prices start at 1000000 (= $1.00).",
        _ => return None,
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation(m)
            | Error::Network(m)
            | Error::Unreachable(m)
            | Error::InsecureTransport(m)
            | Error::McpNegotiation(m)
            | Error::Redirect { message: m, .. } => f.write_str(m),
            Error::Backend(b) => f.write_str(&b.message),
            Error::Http { message, .. } | Error::InvalidResponse { message, .. } => {
                f.write_str(message)
            }
            Error::Timeout { after_ms } => write!(f, "The request timed out after {after_ms} ms"),
            Error::PaymentRequired { message, .. } | Error::PaymentRefused { message, .. } => {
                f.write_str(message)
            }
            Error::NotInEntry { what, entry, .. } => {
                write!(f, "{what} is not in {entry}, which carries a smaller core")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::protocol::json::FieldError> for Error {
    fn from(e: crate::protocol::json::FieldError) -> Self {
        Error::Validation(e.0)
    }
}
