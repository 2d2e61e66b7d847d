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
    Validation {
        /// What was wrong.
        message: String,
        /// What to do about it, when there is more to say than "fix the argument".
        hint: Option<&'static str>,
    },
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
    /// A browser's (or a web worker's) fetch failed with a `TypeError`: all a
    /// page sees of a refused connection and of a CORS refusal alike. Code
    /// `network_error`.
    FetchFailed {
        /// What happened.
        message: String,
        /// The request went to an agent (else to the backend).
        agent: bool,
    },
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
    /// An MPP payment the wire refused or left unknown: `mpp_error` (no code
    /// given), `spend_outcome_unknown`, `settlement_outcome_unknown`, or the
    /// seller's `BCK.MPP.*` (the JS `MppError` family).
    #[cfg(feature = "mpp")]
    Mpp {
        /// The code.
        code: String,
        /// What happened.
        message: String,
    },
    /// An MPP payment's error after a credential went out, with what was
    /// presented (`{credentialsPresented, creditsPresented, challengeId}`:
    /// `mppSpendOf`); otherwise the error it wraps.
    #[cfg(feature = "mpp")]
    Spent(Box<(Error, Value)>),
    /// A browser client that is not signed in (before `connect()`, or after
    /// `logout()`): nothing was sent. Code `not_logged_in`.
    #[cfg(feature = "browser")]
    NotLoggedIn,
    /// A return from the web or embed app that this tab did not start (a
    /// forged, missing or used one-time state) or that carries nothing usable:
    /// nothing was signed in or kept. Code `signin_refused` ([`SIGNIN_REFUSED`])
    /// or `card_setup_refused` ([`CARD_SETUP_REFUSED`]).
    #[cfg(feature = "browser")]
    ReturnRefused {
        /// The code (which flow refused it).
        code: &'static str,
        /// What was wrong.
        message: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
}

/// `code` of [`Error::PaymentRefused`] for a plan the caller did not allow.
pub const PLAN_NOT_ALLOWED: &str = "plan_not_allowed";
/// `code` of [`Error::Redirect`] when the token would have left the checked origin.
pub const REDIRECT_NOT_FOLLOWED: &str = "redirect_not_followed";
/// `code` of [`Error::PaymentRefused`] for a price over `maxCredits`.
pub const MAX_CREDITS_EXCEEDED: &str = "max_credits_exceeded";
/// `code` of [`Error::PaymentRefused`] for a pay-as-you-go price over `maxPriceCents`
/// (or one that can't be checked: unknown price, or no money cap at all under `maxCredits`).
pub const MAX_PRICE_EXCEEDED: &str = "max_price_exceeded";
/// The code the paywalls tell `onPaymentError` when the backend can't be asked
/// or no plan pays (a `PaymentsError` handed to the hook, never thrown).
pub const INTERNAL: &str = "internal";
/// `code` of [`Error::ReturnRefused`] for a sign-in return.
pub const SIGNIN_REFUSED: &str = "signin_refused";
/// `code` of [`Error::ReturnRefused`] for a card-setup return (and a session
/// the backend would not return from).
pub const CARD_SETUP_REFUSED: &str = "card_setup_refused";

/// Every code a `PaymentsError` from the core can carry, but the two open
/// families: the backend's own codes (`BCK.<AREA>.<NNNN>`, passed through) and
/// `http_<status>`. `PaymentsErrorCode` in pkg-template/common.d.ts is this
/// list, the JS-only codes and those two families (tests/js/node/api-table.test.mjs
/// holds it to `cargo run --example api-table`); the tests below hold this list
/// to [`Error::code`] of every variant.
pub const CODES: &[&str] = &[
    "validation",
    "network_error",
    "timeout",
    "invalid_response",
    "insecure_transport",
    "payment_required",
    PLAN_NOT_ALLOWED,
    MAX_CREDITS_EXCEEDED,
    MAX_PRICE_EXCEEDED,
    REDIRECT_NOT_FOLLOWED,
    "mcp_negotiation_failed",
    "not_in_entry",
    "not_logged_in",
    SIGNIN_REFUSED,
    CARD_SETUP_REFUSED,
    INTERNAL,
];

/// The codes of the MPP family (an `MppError`'s, with the backend's `BCK.MPP.*`): not a `PaymentsError`'s.
pub const MPP_CODES: &[&str] = &[
    "mpp_error",
    "spend_outcome_unknown",
    "settlement_outcome_unknown",
];

/// The hint of a `validation` error that says no more.
const VALIDATION_HINT: &str = "Nothing was sent: fix the argument the message names.";

/// The backend's error envelope: `{code, message, httpStatus, hint?, details?, category?, retryable?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendError {
    /// `BCK.<AREA>.<NNNN>`, or `http_<status>` when the envelope had no code.
    pub code: String,
    /// The backend's message, as sent (the error's message adds ` (HTTP <status>)`).
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
        Error::Validation {
            message: message.into(),
            hint: None,
        }
    }

    /// A `validation` error with this message and what to do about it.
    pub fn misuse(message: impl Into<String>, hint: &'static str) -> Self {
        Error::Validation {
            message: message.into(),
            hint: Some(hint),
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> Cow<'_, str> {
        match self {
            Error::Validation { .. } => Cow::Borrowed("validation"),
            Error::Backend(b) => Cow::Borrowed(&b.code),
            Error::Http { status, .. } => Cow::Owned(format!("http_{status}")),
            Error::InvalidResponse { .. } => Cow::Borrowed("invalid_response"),
            Error::Network(_) | Error::FetchFailed { .. } | Error::Unreachable(_) => {
                Cow::Borrowed("network_error")
            }
            Error::Redirect { code, .. } => Cow::Borrowed(code),
            Error::Timeout { .. } => Cow::Borrowed("timeout"),
            Error::InsecureTransport(_) => Cow::Borrowed("insecure_transport"),
            Error::PaymentRequired { .. } => Cow::Borrowed("payment_required"),
            Error::PaymentRefused { code, .. } => Cow::Borrowed(code),
            Error::NotInEntry { .. } => Cow::Borrowed("not_in_entry"),
            Error::McpNegotiation(_) => Cow::Borrowed("mcp_negotiation_failed"),
            #[cfg(feature = "mpp")]
            Error::Mpp { code, .. } => Cow::Borrowed(code),
            #[cfg(feature = "mpp")]
            Error::Spent(inner) => inner.0.code(),
            #[cfg(feature = "browser")]
            Error::NotLoggedIn => Cow::Borrowed("not_logged_in"),
            #[cfg(feature = "browser")]
            Error::ReturnRefused { code, .. } => Cow::Borrowed(code),
        }
    }

    /// The HTTP status the error came with (or the one an HTTP layer should use).
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Backend(b) => Some(b.http_status),
            Error::Http { status, .. } | Error::InvalidResponse { status, .. } => Some(*status),
            Error::PaymentRequired { .. } => Some(402),
            #[cfg(feature = "mpp")]
            Error::Spent(inner) => inner.0.http_status(),
            _ => None,
        }
    }

    /// What the user can do about it: every error has one.
    pub fn hint(&self) -> Cow<'_, str> {
        let fixed = match self {
            Error::Validation { hint, .. } => hint.unwrap_or(VALIDATION_HINT),
            Error::Backend(b) => return match &b.hint {
                Some(h) => Cow::Borrowed(h),
                None => Cow::Borrowed(known_hint(&b.code).unwrap_or_else(|| status_hint(b.http_status))),
            },
            Error::Http { status, .. } => status_hint(*status),
            Error::InvalidResponse { .. } => "Check that backendUrl is a Nevermined backend.",
            Error::Network(_) => "Check the backend URL and that the backend is running (for the local backend: nvm-local).",
            Error::Timeout { .. } => "The backend did not answer in time; retry, or raise `timeoutMs`.",
            Error::InsecureTransport(_) => "Use an https: URL (plain http: is only allowed to localhost, 127.0.0.1 or [::1]).",
            Error::NotInEntry { home, .. } => return Cow::Owned(format!("import {{ Payments }} from '{home}' for it")),
            #[cfg(feature = "mpp")]
            Error::Spent(inner) => return inner.0.hint(),
            #[cfg(feature = "mpp")]
            Error::Mpp { code, .. } => mpp_hint(code),
            // Only the paying client (the `subscriber` cores) makes the rest: the
            // serving cores leave their hints out.
            #[cfg(feature = "subscriber")]
            other => client_hint(other),
            #[cfg(not(feature = "subscriber"))]
            _ => VALIDATION_HINT,
        };
        Cow::Borrowed(fixed)
    }

    /// Extra structured data: the envelope's own fields, or the decoded PaymentRequired.
    pub fn details(&self) -> Option<Value> {
        match self {
            Error::Backend(b) if !b.extra.is_empty() => Some(Value::Object(b.extra.clone())),
            Error::PaymentRequired {
                payment_required, ..
            } => payment_required.clone(),
            Error::PaymentRefused { details, .. } => details.clone(),
            #[cfg(feature = "mpp")]
            Error::Spent(inner) => inner.0.details(),
            _ => None,
        }
    }

    #[cfg(feature = "mpp")]
    /// The JS class of an MPP error (`MppError` or its subclass by code), `None` for a `PaymentsError`.
    pub fn mpp_class(&self) -> Option<&'static str> {
        match self {
            Error::Spent(inner) => inner.0.mpp_class(),
            Error::Mpp { code, .. } => Some(match code.as_str() {
                "BCK.MPP.0002" => "MppNotConfiguredError",
                "BCK.MPP.0003" => "MppCredentialRejectedError",
                "BCK.MPP.0004" => "MppChallengeExpiredError",
                "BCK.MPP.0005" => "MppBodyDigestMismatchError",
                "settlement_outcome_unknown" => "MppSettlementOutcomeUnknownError",
                "spend_outcome_unknown" => "MppSpendOutcomeUnknownError",
                _ => "MppError",
            }),
            _ => None,
        }
    }

    #[cfg(feature = "mpp")]
    /// This error as the MPP family's (the official `toMppError`: every failure
    /// of an MPP backend call is one), its code and message kept; `settle`:
    /// an answer that never came, a 5xx or 408, or one that could not be read
    /// may have burned (`settlement_outcome_unknown`).
    pub fn into_mpp(self, settle: bool) -> Error {
        let unknown = settle
            && match &self {
                Error::Timeout { .. } | Error::Network(_) | Error::InvalidResponse { .. } => true,
                _ => self.http_status().is_some_and(|s| s >= 500 || s == 408),
            };
        match self {
            Error::Mpp { .. } | Error::Spent(_) => self,
            e => Error::Mpp {
                code: if unknown {
                    "settlement_outcome_unknown".to_owned()
                } else {
                    e.code().into_owned()
                },
                message: e.to_string(),
            },
        }
    }

    #[cfg(feature = "mpp")]
    /// What an MPP payment presented before it failed (`mppSpendOf`), if anything.
    pub fn spend(&self) -> Option<&Value> {
        match self {
            Error::Spent(inner) => Some(&inner.1),
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
        map.insert("hint".into(), Value::String(self.hint().into_owned()));
        if let Some(details) = self.details() {
            map.insert("details".into(), details);
        }
        map.insert("retryable".into(), Value::Bool(self.is_retryable()));
        #[cfg(feature = "mpp")]
        if let Some(spend) = self.spend() {
            map.insert("spend".into(), spend.clone());
        }
        Value::Object(map)
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Network(_)
            | Error::FetchFailed { .. }
            | Error::Unreachable(_)
            | Error::Timeout { .. } => true,
            Error::Http { status, .. } => *status >= 500 || *status == 429,
            Error::Backend(b) => b
                .extra
                .get("retryable")
                .and_then(Value::as_bool)
                .unwrap_or(b.http_status >= 500 || b.http_status == 429),
            _ => false,
        }
    }
}

#[cfg(feature = "mpp")]
/// What to do about an MPP error, by its code.
fn mpp_hint(code: &str) -> &'static str {
    match code {
        "spend_outcome_unknown" | "settlement_outcome_unknown" => "The credits may have been burned: check the balance (and the seller's records) before paying again.",
        "BCK.MPP.0002" => "MPP is not enabled on this environment; pay with x402 (payments.fetch).",
        "BCK.MPP.0004" | "BCK.MPP.0005" => "Pay the fresh challenge the 402 carries (payments.mpp.fetch does, once).",
        _ => "The seller refused the payment; paying again with a new credential won't change that.",
    }
}

/// The hints of the errors only the client's core (`subscriber`) makes: the
/// paying client's, and a browser's failed fetch.
#[cfg(feature = "subscriber")]
fn client_hint(e: &Error) -> &'static str {
    match e {
        Error::FetchFailed { agent: false, .. } => "Check the backend URL and that the backend is running, or the backend does not allow this origin (CORS).",
        Error::FetchFailed { .. } => "Check the agent's URL and that the agent is running, or the agent does not allow this origin (CORS).",
        Error::Unreachable(_) => "Check the agent's URL and that the agent is running.",
        Error::Redirect { code, .. } if *code == REDIRECT_NOT_FOLLOWED => "Call the URL the agent redirects to, or ask the agent to answer without a redirect.",
        Error::Redirect { .. } => "Call the URL the agent redirects to directly.",
        Error::PaymentRequired { message, .. } if crate::protocol::says_not_an_endpoint(message) => crate::protocol::NOT_AN_ENDPOINT_HINT,
        Error::PaymentRequired { .. } => "Order the plan first (payments.plans.orderPlan, or orderFiatPlan for card plans), then retry.",
        Error::PaymentRefused { code, .. } if *code == PLAN_NOT_ALLOWED => "Pass planIds with the plans you are willing to pay with (or anyPlan: true to pay with any plan the agent offers).",
        Error::McpNegotiation(_) => "Check the URL (the MCP server's Streamable HTTP endpoint). callTool speaks MCP 2026-07-28, else 2025-11-25; protocolVersion pins one.",
        #[cfg(feature = "browser")]
        Error::NotLoggedIn => "Sign in first: payments.connect() (a browser instance), or make the client with an API key.",
        #[cfg(feature = "browser")]
        Error::ReturnRefused { hint, .. } => hint,
        // max_credits_exceeded, max_price_exceeded (whose message says which cap).
        _ => "Raise maxCredits (or maxPriceCents) if that price is expected; otherwise don't use this agent.",
    }
}

/// The backend's code for a single-use (v3) access token settled a second time:
/// the one refusal a buyer fixes by minting a new token (payments-py's
/// `X402_TOKEN_ALREADY_USED_CODE`).
pub const TOKEN_ALREADY_USED: &str = "BCK.X402.0059";

/// ` (HTTP <status>)`, what an error's message ends with when the backend refused.
pub(crate) fn with_status(status: u16) -> String {
    format!(" (HTTP {status})")
}

/// What to do about a refusal whose code says nothing we know.
fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => "Check the API key: a current key of this environment, of the account that owns what the call names.",
        404 => "Check the id the call names.",
        s if s >= 500 => "The backend or a proxy in front of it failed; retry later.",
        _ => "Fix what the message names.",
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
        TOKEN_ALREADY_USED => "Single-use (v3) tokens can be settled once; mint a new token for each request.",
        "BCK.COMMON.0026" => "Send big numbers as strings or bigints, not JavaScript numbers.",
        "BCK.PROTOCOL.0047" => "Fiat prices start at 1000000 (= $1.00).",
        _ => return None,
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation { message: m, .. }
            | Error::Network(m)
            | Error::FetchFailed { message: m, .. }
            | Error::Unreachable(m)
            | Error::InsecureTransport(m)
            | Error::McpNegotiation(m)
            | Error::Redirect { message: m, .. } => f.write_str(m),
            Error::Backend(b) => {
                // ` (HTTP <status>)` at the end, as the official SDK's messages (once).
                let status = with_status(b.http_status);
                f.write_str(&b.message)?;
                if !b.message.as_bytes().ends_with(status.as_bytes()) {
                    f.write_str(&status)?;
                }
                Ok(())
            }
            Error::Http { message, .. } | Error::InvalidResponse { message, .. } => {
                f.write_str(message)
            }
            Error::Timeout { after_ms } => write!(f, "The request timed out after {after_ms} ms"),
            Error::PaymentRequired { message, .. } | Error::PaymentRefused { message, .. } => {
                f.write_str(message)
            }
            #[cfg(feature = "mpp")]
            Error::Mpp { message, .. } => f.write_str(message),
            #[cfg(feature = "mpp")]
            Error::Spent(inner) => inner.0.fmt(f),
            #[cfg(feature = "browser")]
            Error::NotLoggedIn => f.write_str("Not signed in: this client has no API key (never signed in, or logged out); nothing was sent"),
            #[cfg(feature = "browser")]
            Error::ReturnRefused { message, .. } => f.write_str(message),
            Error::NotInEntry { what, entry, .. } => {
                write!(f, "{what} is not in {entry}, which carries a smaller core")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::protocol::json::FieldError> for Error {
    fn from(e: crate::protocol::json::FieldError) -> Self {
        Error::validation(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(code: &str, http_status: u16, hint: Option<&str>) -> Error {
        Error::Backend(Box::new(BackendError {
            code: code.into(),
            message: "refused (HTTP 400)".into(),
            http_status,
            hint: hint.map(str::to_owned),
            extra: Map::new(),
        }))
    }

    /// One error of every variant, and of every code and hint a variant can
    /// carry. The match has no wildcard: a new variant does not compile until
    /// it is listed here (and so held to a hint and to [`CODES`]).
    fn every_error() -> Vec<Error> {
        let mut all = vec![
            Error::validation("planId is required"),
            Error::misuse("delegationConfig is required", "Create a delegation"),
            backend("BCK.X402.0013", 402, None),
            backend("BCK.X402.0099", 400, Some("the backend's own hint")),
            backend("http_409", 409, None),
            Error::InvalidResponse {
                status: 200,
                message: "The backend's answer has no accessToken".into(),
            },
            Error::Network("Could not reach http://127.0.0.1:9/: refused".into()),
            Error::FetchFailed {
                message: "Could not reach https://api/: Failed to fetch".into(),
                agent: false,
            },
            Error::FetchFailed {
                message: "Could not reach https://agent/: Failed to fetch".into(),
                agent: true,
            },
            Error::Timeout { after_ms: 30000 },
            Error::Unreachable("Could not reach https://agent/: refused".into()),
            Error::Redirect {
                code: REDIRECT_NOT_FOLLOWED,
                message: "redirected elsewhere".into(),
            },
            Error::Redirect {
                code: "network_error",
                message: "too many redirects".into(),
            },
            Error::InsecureTransport("http://agent.example/".into()),
            Error::PaymentRequired {
                message: "The agent asked for payment".into(),
                payment_required: None,
            },
            Error::PaymentRequired {
                message: crate::protocol::NOT_AN_ENDPOINT.into(),
                payment_required: None,
            },
            Error::PaymentRefused {
                code: PLAN_NOT_ALLOWED,
                message: "plan 2 is not allowed".into(),
                details: None,
            },
            Error::PaymentRefused {
                code: MAX_CREDITS_EXCEEDED,
                message: "5 credits, more than maxCredits".into(),
                details: None,
            },
            Error::PaymentRefused {
                code: MAX_PRICE_EXCEEDED,
                message: "500 cents, more than maxPriceCents".into(),
                details: None,
            },
            Error::McpNegotiation("the server offers no revision in common".into()),
            Error::Mpp {
                code: "BCK.MPP.0003".into(),
                message: "https://agent.example rejected the credential: Credential rejected"
                    .into(),
            },
            Error::Mpp {
                code: "mpp_error".into(),
                message: "The 402 carried a malformed MPP challenge".into(),
            },
            Error::Mpp {
                code: "settlement_outcome_unknown".into(),
                message: "The backend answered 502 without a definite settlement outcome".into(),
            },
            Error::Mpp {
                code: "spend_outcome_unknown".into(),
                message: "The MPP credential was sent and no answer came back".into(),
            },
            Error::Spent(Box::new((
                Error::validation("maxCredits exceeded on the second turn"),
                Value::Null,
            ))),
            Error::NotInEntry {
                what: "plans.orderPlan".into(),
                entry: "nvm-x402/agent",
                home: "nvm-x402",
            },
            Error::NotLoggedIn,
            Error::ReturnRefused {
                code: SIGNIN_REFUSED,
                message: "The sign-in return was refused",
                hint: "Start again from this tab",
            },
            Error::ReturnRefused {
                code: CARD_SETUP_REFUSED,
                message: "The card-setup return was refused",
                hint: "Start again from this tab",
            },
        ];
        for status in [400, 401, 402, 403, 404, 418, 429, 500, 502] {
            all.push(backend(&format!("http_{status}"), status, None));
            all.push(Error::Http {
                status,
                message: format!("The backend answered (HTTP {status})"),
            });
        }
        for e in &all {
            match e {
                Error::Validation { .. }
                | Error::Backend(_)
                | Error::Http { .. }
                | Error::InvalidResponse { .. }
                | Error::Network(_)
                | Error::FetchFailed { .. }
                | Error::Timeout { .. }
                | Error::Unreachable(_)
                | Error::Redirect { .. }
                | Error::InsecureTransport(_)
                | Error::PaymentRequired { .. }
                | Error::PaymentRefused { .. }
                | Error::McpNegotiation(_)
                | Error::NotInEntry { .. }
                | Error::Mpp { .. }
                | Error::Spent(_)
                | Error::NotLoggedIn
                | Error::ReturnRefused { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_error_has_a_hint_that_adds_to_its_message() {
        for e in every_error() {
            let hint = e.hint();
            assert!(!hint.trim().is_empty(), "{e:?}");
            assert_ne!(hint, e.to_string(), "{e:?}");
            assert_eq!(e.to_json()["hint"], Value::from(hint.as_ref()), "{e:?}");
        }
    }

    #[test]
    fn a_browser_fetch_failure_may_be_cors_and_says_so() {
        for e in every_error() {
            let says_cors = crate::protocol::redact::find(&e.hint(), "(CORS)").is_some();
            assert_eq!(says_cors, matches!(e, Error::FetchFailed { .. }), "{e:?}");
        }
        let agent = Error::FetchFailed {
            message: "m".into(),
            agent: true,
        };
        assert_eq!(
            (agent.code().as_ref(), agent.is_retryable()),
            ("network_error", true)
        );
        assert!(agent.hint().starts_with("Check the agent's URL"));
    }

    #[test]
    fn codes_lists_every_code_but_the_open_families() {
        let errors = every_error();
        for e in &errors {
            let code = e.code();
            let open = code.starts_with("BCK.") || code.starts_with("http_");
            let codes = if e.mpp_class().is_some() {
                MPP_CODES
            } else {
                CODES
            };
            assert!(
                open || codes.contains(&code.as_ref()),
                "{code} is not in CODES"
            );
        }
        // And nothing more: each listed code is one some error carries (`internal`
        // is only told to onPaymentError, see gate::mcp).
        for code in CODES.iter().chain(MPP_CODES) {
            let carried = errors.iter().any(|e| e.code() == *code);
            assert!(
                carried || *code == INTERNAL,
                "{code} is listed but never carried"
            );
        }
    }

    #[test]
    fn a_validation_error_names_what_to_do() {
        let plain = Error::validation("planId is required");
        assert_eq!(plain.hint(), VALIDATION_HINT);
        let specific = Error::misuse("no delegation", "Create a delegation with createDelegation");
        assert_eq!(specific.code(), "validation");
        assert_eq!(specific.hint(), "Create a delegation with createDelegation");
        assert_eq!(specific.to_string(), "no delegation");
    }
}
