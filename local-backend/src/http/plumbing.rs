//! The HTTP plumbing under the routes: the `Host` check, CORS for loopback
//! origins, the 1 MiB body cap, and JSON body parsing that turns every kind of
//! bad input into an error envelope with a code. Routes and handlers are in
//! the parent module.

use super::Shared;
use crate::error::*;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use nvm_x402::protocol::uint::MAX_SAFE_INTEGER;
use nvm_x402::protocol::url::{Host, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::SocketAddr;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of a too-large body is still read (and dropped) so the client,
/// still sending, gets the 413 answer instead of a broken pipe. This is why
/// the cap is ours and not tower-http's `RequestBodyLimitLayer`: that layer
/// answers a declared length over the cap before reading, hyper then closes
/// the connection, and a client still writing gets EPIPE, not the envelope
/// (measured with it in place: 3 of 10 runs of bad_input's 2 MiB case and
/// 10 of 10 with a 16 MiB body failed so; 0 of 10 with this reader).
const DRAIN_BYTES: usize = 64 * 1024 * 1024;

/// Whether a `Host` header names this machine: a loopback host (`127.0.0.0/8`,
/// `localhost`, `[::1]`) or the address nvm-local listens on, with any port and
/// nothing else. Anything else (`attacker.example:3001` after DNS rebinding)
/// is answered 421, so a web page on another name can't read or change nvm-local.
///
/// ```
/// use nvm_local::http::is_local_host;
/// let bound = "127.0.0.1:3001".parse().unwrap();
/// assert!(is_local_host("127.0.0.1:3001", bound) && is_local_host("localhost", bound) && is_local_host("[::1]:3001", bound));
/// assert!(!is_local_host("attacker.example:3001", bound) && !is_local_host("127.0.0.1@attacker.example", bound));
/// ```
pub fn is_local_host(host: &str, bound: SocketAddr) -> bool {
    let plain = !host.is_empty() && !host.bytes().any(|b| b"/\\?#@ \t".contains(&b));
    let Some(url) = Url::parse(&format!("http://{host}/")).filter(|_| plain) else {
        return false;
    };
    if url.has_credentials || url.path != "/" || url.query.is_some() {
        return false;
    }
    let listening = match (bound.ip(), &url.host) {
        (ip, _) if ip.is_unspecified() => false,
        (std::net::IpAddr::V4(ip), Host::Ipv4(a)) => u32::from(ip) == *a,
        (std::net::IpAddr::V6(ip), Host::Ipv6(p)) => ip.segments() == *p,
        _ => false,
    };
    url.host.is_loopback() || listening
}

/// Refuses requests whose `Host` does not name this machine (421); requests without one pass.
pub(super) async fn check_host(State(app): Shared, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).map(|h| h.to_str().ok());
    match host {
        None => next.run(request).await,
        Some(Some(h)) if is_local_host(h, app.bound) => next.run(request).await,
        Some(h) => MISDIRECTED
            .with(format!(
                "nvm-local does not answer to the host {}; use 127.0.0.1, localhost or [::1]",
                shorten(h.unwrap_or("(not text)"))
            ))
            .into_response(),
    }
}

// ---- CORS ------------------------------------------------------------------

/// Whether a browser origin is this machine: `http(s)://localhost`, `127.0.0.1` or `[::1]`, any port.
///
/// ```
/// use nvm_local::http::is_loopback_origin;
/// assert!(is_loopback_origin("http://localhost:5173") && is_loopback_origin("http://[::1]:8080"));
/// assert!(!is_loopback_origin("http://localhost.evil.example") && !is_loopback_origin("null"));
/// ```
pub fn is_loopback_origin(origin: &str) -> bool {
    // An Origin header is exactly `scheme://host[:port]`: nothing after the authority.
    let bare = origin
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.contains(['/', '\\', '?', '#', '@']));
    match Url::parse(origin) {
        Some(u) => {
            let exact_loopback = match &u.host {
                Host::Domain(d) => d == "localhost",
                Host::Ipv4(a) => *a == 0x7f00_0001,
                Host::Ipv6(_) => u.host.is_loopback(),
            };
            bare && (u.scheme == "http" || u.scheme == "https") && exact_loopback
        }
        None => false,
    }
}

/// CORS (tower-http): loopback origins are reflected (with `Vary: Origin`),
/// preflights answered with the methods and headers the API takes, and a
/// page may reach nvm-local across the private-network boundary.
pub(super) fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _| {
            origin.to_str().is_ok_and(is_loopback_origin)
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("nevermined-version"),
            HeaderName::from_static("x-current-org-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
        .allow_private_network(true)
}

// ---- bodies ----------------------------------------------------------------

/// A request body read whole (at most [`MAX_BODY_BYTES`]). Handlers that
/// ignore their body take it too, so the connection stays usable for the next
/// request whatever the client sent (an empty chunked body, say).
pub struct RequestBody(pub ApiResult<Bytes>);

impl<S: Send + Sync> FromRequest<S> for RequestBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestBody(read_body(request).await))
    }
}

async fn read_body(request: Request) -> ApiResult<Bytes> {
    use http_body_util::BodyExt;
    let too_large = || {
        BODY_TOO_LARGE.with(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes"
        ))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = request.into_body();
    let mut kept: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| NOT_JSON.with(format!("The request body could not be read: {e}")))?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= MAX_BODY_BYTES {
                kept.extend_from_slice(&data);
            } else if seen > DRAIN_BYTES {
                break;
            }
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(Bytes::from(kept))
}

/// Reads a body as a JSON object whose top-level fields are all in `allowed`,
/// with no number a JavaScript client would have rounded.
pub fn parse_object(body: RequestBody, allowed: &[&str]) -> ApiResult<Value> {
    let bytes = body.0?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(NOT_JSON.with("The request body is empty; expected a JSON object"));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        if e.to_string().starts_with("number out of range") {
            PRECISION.with(format!(
                "A number in the body is out of range ({e}); send big integers as decimal strings"
            ))
        } else {
            NOT_JSON.with(format!("The request body is not valid JSON: {e}"))
        }
    })?;
    let Value::Object(map) = &value else {
        return Err(NOT_JSON.with("The request body must be a JSON object"));
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(UNKNOWN_FIELD.with(format!(
            "Unknown field {:?}; this endpoint takes {}",
            shorten(unknown),
            allowed.join(", ")
        )));
    }
    if let Some(path) = imprecise_number(&value, "") {
        return Err(PRECISION.with(format!("{path} is a number beyond 2^53 that JSON clients can't hold exactly; send it as a decimal string")));
    }
    Ok(value)
}

/// The path of the first number a JavaScript client can't hold exactly.
fn imprecise_number(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::Number(n) => {
            let exact = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => u <= MAX_SAFE_INTEGER,
                (None, Some(i), _) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
                (None, None, Some(f)) => f.abs() <= MAX_SAFE_INTEGER as f64,
                _ => false,
            };
            (!exact).then(|| {
                if at.is_empty() {
                    "a value".to_owned()
                } else {
                    at.to_owned()
                }
            })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| imprecise_number(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            imprecise_number(
                v,
                &if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                },
            )
        }),
        _ => None,
    }
}

/// Deserializes a checked body; the error names the field that is wrong.
pub fn decode<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let code = if inner.starts_with("missing field") {
            MISSING_FIELD
        } else if inner.starts_with("unknown field") {
            UNKNOWN_FIELD
        } else {
            INVALID_FIELD
        };
        let message = if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        };
        code.with(message)
    })
}

pub(super) fn path_param<T>(path: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    path.map(|Path(p)| p)
        .map_err(|e| INVALID_FIELD.with(format!("Bad path parameter: {e}")))
}

pub(super) fn query_param<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query
        .map(|Query(q)| q)
        .map_err(|e| INVALID_FIELD.with(format!("Bad query string: {e}")))
}
