//! The error envelope nvm-local answers with — `{code, message, httpStatus, hint?}` —
//! and the catalogue of every code it can produce.
//!
//! Codes the Nevermined backend documents (`BCK.X402.0005`, ...) keep their
//! meaning. Codes nvm-local adds use the numbers `09xx` in each area, a range
//! chosen so they can't collide with the hosted backend's own codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::fmt;

/// One error code: its string, its HTTP status and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// `BCK.<AREA>.<NNNN>`.
    pub code: &'static str,
    /// The HTTP status answered with it.
    pub status: u16,
    /// One line for the README and the `hint`.
    pub meaning: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $status:literal, $meaning:literal;)*) => {
        $(
            #[doc = $meaning]
            pub const $name: ErrorCode = ErrorCode { code: $code, status: $status, meaning: $meaning };
        )*
        /// Every code nvm-local can answer with, in README order.
        pub const ALL_CODES: &[ErrorCode] = &[$($name),*];
    };
}

codes! {
    PRECISION = "BCK.COMMON.0026", 400, "A number is too large to be exact in JSON (beyond 2^53): send big integers as decimal strings.";
    NOT_JSON = "BCK.COMMON.0900", 400, "The request body is not a JSON object.";
    INVALID_FIELD = "BCK.COMMON.0901", 400, "A field has the wrong type or an invalid value.";
    UNKNOWN_FIELD = "BCK.COMMON.0902", 400, "The body has a field this endpoint does not take.";
    MISSING_FIELD = "BCK.COMMON.0903", 400, "A required field is missing.";
    BODY_TOO_LARGE = "BCK.COMMON.0904", 413, "The request body is larger than 1 MiB.";
    ROUTE_NOT_FOUND = "BCK.COMMON.0905", 404, "No endpoint has this path.";
    METHOD_NOT_ALLOWED = "BCK.COMMON.0906", 405, "The endpoint exists but not with this HTTP method.";
    MISDIRECTED = "BCK.COMMON.0908", 421, "The Host header does not name this machine: nvm-local answers only to loopback names and its listen address (DNS-rebinding protection).";
    INTERNAL = "BCK.COMMON.0907", 500, "nvm-local failed (a database error); the request changed nothing.";
    RETURN_NOT_ALLOWED = "BCK.AUTH.0900", 400, "The sign-in or card-setup page was asked to return to a URL that is not http(s) on this machine nor an origin nvm-local was started with (--allow-origin); the CLI sign-in returns to loopback only.";
    CROSS_SITE_SIGN_IN = "BCK.AUTH.0901", 403, "A sign-in or card setup was posted from another site: nvm-local's pages act only on a click on the page itself.";
    WIDGET_NOT_ORG_MEMBER = "BCK.WIDGET_SESSION.0019", 403, "The orgId of a card-setup session is not an organization the caller is an active member of.";
    WIDGET_SESSION_UNKNOWN = "BCK.WIDGET_SESSION.0900", 401, "The card-setup page's sessionToken is not one nvm-local issued (mint one: POST api/v1/widgets/session/self).";
    WIDGET_SESSION_USED = "BCK.WIDGET_SESSION.0901", 409, "The card-setup session was used already: each session sets up one card.";
    WIDGET_RETURN_MISMATCH = "BCK.WIDGET_SESSION.0902", 400, "The card-setup page's returnUrl is not the one its session was minted for.";
    WIDGET_SESSION_EXPIRED = "BCK.WIDGET_SESSION.0903", 410, "The card-setup session expired (sessions last two hours): mint a new one.";
    INVALID_API_KEY = "BCK.APIKEY.0004", 401, "Missing, malformed, forged or unknown API key (send Authorization: Bearer <key>).";
    FIAT_PRICE_TOO_LOW = "BCK.PROTOCOL.0047", 400, "A fiat plan's price is below $1.00 (1000000).";
    PLAN_NOT_FOUND = "BCK.PROTOCOL.0900", 404, "No plan has this id.";
    AGENT_NOT_FOUND = "BCK.PROTOCOL.0901", 404, "No agent has this id.";
    TRIAL_ALREADY_ORDERED = "BCK.PROTOCOL.0902", 409, "A trial plan can be ordered once per subscriber.";
    WRONG_ORDER_ENDPOINT = "BCK.PROTOCOL.0903", 400, "Fiat plans are ordered with orderFiatPlan (api/v1/fiat/stripe/payment), crypto and free plans with orderPlan (.../order).";
    CREDITS_OVERFLOW = "BCK.PROTOCOL.0904", 400, "A credit amount is beyond what nvm-local stores (2^63 - 1).";
    PLAN_EXISTS = "BCK.PROTOCOL.0905", 409, "A plan with the same owner, configuration and nonce is already registered.";
    CHECKOUT_NOT_FOUND = "BCK.PROTOCOL.0906", 404, "No checkout session has this id.";
    CHECKOUT_EXPIRED = "BCK.PROTOCOL.0907", 410, "The checkout session expired before it was paid.";
    NOT_PLAN_OWNER = "BCK.PROTOCOL.0908", 403, "Only a plan's owner can attach the plan to an agent (or remove it).";
    NOT_ORG_MEMBER = "BCK.PROTOCOL.0909", 403, "The caller is not an active Admin or Member of that organization (X-Current-Org-Id, orgId, the activity feed).";
    NOT_AGENT_OWNER = "BCK.PROTOCOL.0910", 403, "Only an agent's owner can change it or the plans it takes.";
    PLAN_NOT_ON_AGENT = "BCK.PROTOCOL.0911", 404, "The agent does not take this plan.";
    DELEGATION_NOT_FOUND = "BCK.DELEGATION.0900", 404, "No delegation of this account has this id.";
    PAYMENT_METHOD_NOT_FOUND = "BCK.DELEGATION.0901", 404, "No card (or payment method) of this account has this id.";
    PAYMENT_METHOD_RESTRICTED = "BCK.DELEGATION.0902", 403, "The card is restricted to other API keys (its allowedApiKeyIds).";
    NOT_ORG_ADMIN = "BCK.ORG.0900", 403, "Only an Admin of the caller's organization can manage its members and customers.";
    EMAIL_TAKEN = "BCK.ORG.0901", 409, "The email belongs to another account: a new member is always a new account.";
    ORDER_INVALID = "BCK.ORDER.0001", 400, "The order request is invalid: amountMinor 100 to 99999999 cents, currency usd, description at most 1024 characters, buyerRef and idempotencyKey at most 255 (also a malformed body, or a refund of more than is left).";
    ORDER_NOT_FOUND = "BCK.ORDER.0002", 404, "No order has this id (or this client secret).";
    ORDER_NOT_ORGANIZATION = "BCK.ORDER.0003", 403, "Order not initiated by an active organization: the key's account must be an Admin or Member of one (a personal account can't create orders).";
    ORDER_IDEMPOTENCY_CONFLICT = "BCK.ORDER.0007", 409, "The idempotencyKey was used for an order with another amountMinor or currency.";
    ORDER_NOT_PAYABLE = "BCK.ORDER.0900", 409, "The order's status doesn't allow this: only requires_payment can be paid or declined, only a paid (or partly refunded) order refunded or disputed.";
    ORDER_NOT_MERCHANT = "BCK.ORDER.0901", 403, "Only an Admin or Member of the organization that created an order can refund it.";
    ORDER_CROSS_SITE = "BCK.ORDER.0902", 403, "The confirmation form was posted from another site: nvm-local's confirmation page acts only on a click on the page itself.";
    INVALID_TOKEN = "BCK.X402.0005", 402, "The access token is not a token nvm-local signed, or it was edited.";
    DELEGATION_EXPIRED = "BCK.X402.0013", 402, "The delegation behind the token expired.";
    BUDGET_TOO_LOW = "BCK.X402.0023", 402, "The delegation's remaining budget can't pay for the plan it must order (card top-ups), or for a pay-as-you-go request.";
    DELEGATION_REQUIRED = "BCK.X402.0030", 400, "Required token-generation input is missing or incomplete: delegationConfig needs a delegationId (or the deprecated inline-create fields).";
    TOKEN_ALREADY_USED = "BCK.X402.0059", 402, "A single-use (v3) token was already settled.";
    MAX_TRANSACTIONS = "BCK.X402.0900", 402, "The delegation reached its maxTransactions.";
    PLAN_MISMATCH = "BCK.X402.0901", 402, "The token's plan is not one the PaymentRequired accepts.";
    SCHEME_MISMATCH = "BCK.X402.0902", 402, "Scheme or network don't match the plan, the PaymentRequired or the delegation.";
    AGENT_MISMATCH = "BCK.X402.0903", 402, "The agent is unknown, not linked to the plan, or not the one a v3 token is bound to.";
    ENDPOINT_MISMATCH = "BCK.X402.0904", 402, "The resource URL is not one of the agent's registered endpoints (or not the v3 token's).";
    VERB_MISMATCH = "BCK.X402.0905", 402, "The HTTP verb is not registered for that endpoint (or not the v3 token's).";
    INSUFFICIENT_CREDITS = "BCK.X402.0906", 402, "The subscriber's balance is below the credits asked for (or they never ordered the plan).";
    PLAN_EXPIRED = "BCK.X402.0907", 402, "The subscriber's time plan has expired.";
    DELEGATION_NOT_USABLE = "BCK.X402.0908", 402, "The delegation belongs to another account, is restricted to another plan or API key, or can't pay this scheme.";
    NOT_PAYEE = "BCK.X402.0909", 403, "Only the plan's owner (directly or through an agent of theirs that carries the plan) may settle (burn) its credits.";
    MPP_NOT_CONFIGURED = "BCK.MPP.0002", 503, "MPP is switched off on this nvm-local (started with --no-mpp).";
    MPP_REJECTED = "BCK.MPP.0003", 400, "The MPP credential was refused (forged or edited challenge, another resource or verb, an x402 or foreign token, another plan or agent, a caller who doesn't own the plan, no funds): one answer for every reason, the reason only in nvm-local's log.";
    MPP_EXPIRED = "BCK.MPP.0004", 400, "The MPP challenge expired (challenges last 300 s): ask for a new one.";
    MPP_DIGEST_MISMATCH = "BCK.MPP.0005", 400, "The MPP challenge is bound to a request body (digest) and bodyDigest differs or is missing.";
}

impl ErrorCode {
    /// An error with this code and a message.
    pub fn with(self, message: impl Into<String>) -> ApiError {
        ApiError {
            code: self,
            message: message.into(),
        }
    }
}

/// An error answer: a code and a message saying what was wrong, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The code.
    pub code: ErrorCode,
    /// What happened, for a human (never contains a whole token or key).
    pub message: String,
}

impl ApiError {
    /// The envelope: `{code, message, httpStatus, hint}`.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code.code, "message": self.message, "httpStatus": self.code.status, "hint": self.code.meaning})
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        INTERNAL.with(format!("database error: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, &self.to_json())
    }
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(axum::body::Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// At most 80 characters of a user-supplied string, for messages.
pub fn shorten(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A `Result` whose error is an [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in ALL_CODES {
            assert!(seen.insert(c.code), "{} is listed twice", c.code);
            let parts: Vec<&str> = c.code.split('.').collect();
            assert_eq!(parts.len(), 3, "{}", c.code);
            assert_eq!(parts[0], "BCK");
            assert!(
                parts[1]
                    .chars()
                    // `WIDGET_SESSION`: the hosted backend's area names have underscores.
                    .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_'),
                "{}",
                c.code
            );
            assert!(
                parts[2].len() == 4 && parts[2].chars().all(|ch| ch.is_ascii_digit()),
                "{}",
                c.code
            );
            assert!((400..600).contains(&c.status), "{}", c.code);
        }
    }

    #[test]
    fn the_readme_lists_every_code_with_its_status() {
        let readme = include_str!("../README.md");
        for c in ALL_CODES {
            let row = format!("| `{}` | {} |", c.code, c.status);
            assert!(readme.contains(&row), "README.md has no row {row}");
        }
        let rows = readme.lines().filter(|l| l.starts_with("| `BCK.")).count();
        assert_eq!(
            rows,
            ALL_CODES.len(),
            "README.md lists a code nvm-local doesn't have"
        );
    }

    #[test]
    fn envelope_has_the_documented_shape() {
        let v = DELEGATION_EXPIRED.with("Delegation expired").to_json();
        assert_eq!(v["code"], "BCK.X402.0013");
        assert_eq!(v["message"], "Delegation expired");
        assert_eq!(v["httpStatus"], 402);
        assert_eq!(v["hint"], DELEGATION_EXPIRED.meaning);
    }
}
