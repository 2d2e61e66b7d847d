//! Sans-IO backend calls: each call is a [`Call`] — an [`HttpRequest`] value
//! plus the function that parses its [`HttpResponse`]. Nothing here sends
//! anything; [`crate::Payments`] hands calls to a [`crate::transport::Transport`].

pub mod agents;
pub mod contracts;
pub mod delegation;
#[cfg(feature = "mpp")]
pub mod mpp;
#[cfg(feature = "builder")]
pub mod orders;
pub mod organizations;
pub mod plans;
#[cfg(feature = "browser")]
pub mod widgets;
pub mod x402;

use crate::error::{with_status, BackendError, Error, Result};
use crate::protocol::json::{parse, Value};
use crate::protocol::url::join;
use crate::protocol::ClientConfig;
use crate::transport::{HttpRequest, HttpResponse};

/// Whether a call sends the API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <the whole key>`.
    Bearer,
    /// No `Authorization` header.
    Public,
}

/// One backend call: the request to send and how to read the answer.
pub struct Call<T> {
    /// The request.
    pub request: HttpRequest,
    /// Turns the answer into a value or an [`Error`].
    pub parse: fn(HttpResponse) -> Result<T>,
}

impl<T> std::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.request.method)
            .field("url", &self.request.url)
            .finish()
    }
}

/// Builds a request with the common headers.
///
/// ```
/// use nvm_x402::api::{build_request, Auth};
/// use nvm_x402::protocol::{ClientConfig, PaymentsOptions};
/// let cfg = ClientConfig::from_options(&PaymentsOptions {
///     nvm_api_key: Some("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()), ..Default::default() }).unwrap();
/// let req = build_request(&cfg, "GET", "api/v1/protocol/plans/1", Auth::Public, None).unwrap();
/// assert_eq!(req.url, "http://127.0.0.1:3001/api/v1/protocol/plans/1");
/// assert_eq!(req.header("nevermined-version"), Some("1.1"));
/// assert_eq!(req.header("authorization"), None);
/// ```
pub fn build_request(
    cfg: &ClientConfig,
    method: &'static str,
    path: &str,
    auth: Auth,
    body: Option<&Value>,
) -> Result<HttpRequest> {
    build_request_text(
        cfg,
        method,
        path,
        auth,
        body.map(crate::protocol::json::to_text),
    )
}

/// [`build_request`] with the body already written as JSON text.
pub fn build_request_text(
    cfg: &ClientConfig,
    method: &'static str,
    path: &str,
    auth: Auth,
    body: Option<String>,
) -> Result<HttpRequest> {
    // An id is one encoded segment, but `.` and `..` (even as %2e) are resolved by every URL
    // parser: `getPlan('..')` would ask another path. No call's path has such a segment.
    let route = path.split('?').next().unwrap_or(path);
    if route.split('/').any(|s| matches!(s, "." | "..")) {
        return Err(Error::validation("an id can't be \".\" or \"..\""));
    }
    let mut headers = Vec::with_capacity(5);
    if auth == Auth::Bearer {
        headers.push(("Authorization", format!("Bearer {}", cfg.api_key.expose())));
    }
    headers.push(("Accept", "application/json".to_owned()));
    headers.push(("Content-Type", "application/json".to_owned()));
    // The instance's pin only: no caller's header can change it.
    headers.push(("Nevermined-Version", cfg.version.clone()));
    if let Some(org) = cfg.organization_id.borrow().as_ref() {
        headers.push(("X-Current-Org-Id", org.clone()));
    }
    Ok(HttpRequest {
        method,
        url: join(&cfg.backend_url, path),
        headers,
        body,
    })
}

/// A registration's `publicationOptions` (`{organizationId?}`): a non-empty
/// id replaces the request's `X-Current-Org-Id`; absent, `null` or empty
/// leaves it; anything else is refused.
#[cfg(feature = "builder")]
pub fn publish_in(request: &mut HttpRequest, options: &Value) -> Result<()> {
    const NAME: &str = "X-Current-Org-Id";
    let org = match options {
        Value::Null => None,
        Value::Object(o) => match o.get("organizationId") {
            None | Some(Value::Null) => None,
            Some(Value::String(org)) => Some(org),
            Some(_) => {
                return Err(Error::validation(
                    "publicationOptions.organizationId must be a string",
                ))
            }
        },
        _ => return Err(Error::validation("publicationOptions must be an object")),
    };
    if let Some(org) = org.filter(|o| !o.trim().is_empty()) {
        // (Replaced in place, not `retain` and push: that is 0.2 KB more in the .wasm.)
        match request.headers.iter_mut().find(|(name, _)| *name == NAME) {
            Some(header) => header.1.clone_from(org),
            None => request.headers.push((NAME, org.clone())),
        }
    }
    Ok(())
}

/// Parses a 2xx JSON body to a [`Value`]; integers a JS number can't hold come back as decimal strings.
pub fn parse_any(response: HttpResponse) -> Result<Value> {
    parse_value(response.status, &response.body)
}

fn parse_value(status: u16, body: &str) -> Result<Value> {
    if !(200..300).contains(&status) {
        return Err(error_from_response(status, body));
    }
    let body = if body.trim().is_empty() { "null" } else { body };
    let mut value = parse(body).map_err(|_| Error::InvalidResponse {
        status,
        message: format!("The backend answered HTTP {status} with a body that is not JSON"),
    })?;
    // Integers beyond 2^53 become strings, so JavaScript gets all their digits.
    crate::protocol::json::quote_unsafe_integers(&mut value);
    Ok(value)
}

/// Reads the backend's error envelope; a body that isn't one becomes
/// `http_<status>`. The error's message ends with ` (HTTP <status>)`, as the
/// official SDK's (see [`Error`]'s `Display`); only the backend's own codes
/// (`BCK.*`) pass through as the code (any other stays in `details.code`, the
/// error is `http_<status>`).
///
/// ```
/// let e = nvm_x402::api::error_from_response(402, r#"{"code":"BCK.X402.0013","message":"Delegation expired","httpStatus":402}"#);
/// assert_eq!((e.code().as_ref(), e.to_string().as_str()), ("BCK.X402.0013", "Delegation expired (HTTP 402)"));
/// let e = nvm_x402::api::error_from_response(502, "<html>Bad gateway</html>");
/// assert_eq!((e.code().as_ref(), e.to_string().as_str()), ("http_502", "The backend answered Bad Gateway (HTTP 502)"));
/// ```
pub fn error_from_response(status: u16, body: &str) -> Error {
    let answered = || format!("The backend answered {}", reason_phrase(status));
    let Ok(Value::Object(mut map)) = parse(body) else {
        let message = answered() + &with_status(status);
        return Error::Http { status, message };
    };
    let message = match map.remove("message") {
        Some(Value::String(m)) if !m.trim().is_empty() => m,
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        _ => match map.get("error").and_then(Value::as_str) {
            Some(e) => e.to_owned(),
            None => answered(),
        },
    };
    // Another code (a proxy's) stays in the details.
    let code = match map.get("code") {
        Some(Value::String(c)) if c.as_bytes().starts_with(b"BCK.") => c.clone(),
        _ => format!("http_{status}"),
    };
    if code.as_bytes().starts_with(b"BCK.") {
        map.remove("code");
    }
    let hint = match map.remove("hint") {
        Some(Value::String(h)) if !h.trim().is_empty() && h != message => Some(h),
        _ => None,
    };
    let http_status = map
        .remove("httpStatus")
        .and_then(|v| v.as_u64())
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s))
        .unwrap_or(status);
    Error::Backend(Box::new(BackendError {
        code,
        message,
        http_status,
        hint,
        extra: map,
    }))
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        s if s >= 500 => "a server error",
        _ => "an unexpected status",
    }
}

/// Builds a query string from present parameters (values are percent-encoded).
pub(crate) fn query(params: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (name, value) in params {
        if let Some(v) = value {
            out.push(if out.is_empty() { '?' } else { '&' });
            out.push_str(name);
            out.push('=');
            out.push_str(&crate::protocol::url::encode_segment(v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_id_can_be_a_dot_segment() {
        let cfg = ClientConfig::from_options(&crate::protocol::PaymentsOptions {
            nvm_api_key: Some("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
            ..Default::default()
        })
        .unwrap();
        let dots = [".", "..", " .. "];
        for id in dots {
            let calls = [
                plans::get_plan(&cfg, id).map(|_| ()),
                plans::get_plan_balance(&cfg, "p1", id).map(|_| ()),
                agents::get_agent(&cfg, id).map(|_| ()),
                orders::get_order(&cfg, id).map(|_| ()),
            ];
            for call in calls {
                let e = call.expect_err(id);
                assert_eq!(e.code(), "validation", "{id}");
            }
        }
        // A dot inside an id is just a character of it.
        let ok = plans::get_plan(&cfg, "a..b").unwrap();
        assert!(
            ok.request.url.ends_with("/api/v1/protocol/plans/a..b"),
            "{}",
            ok.request.url
        );
    }

    #[test]
    fn envelope_fields_pass_through_once() {
        let e = error_from_response(
            400,
            r#"{"code":"BCK.X402.0023","message":"Budget too low","httpStatus":400,"hint":"Budget too low","details":{"remaining":"5"},"category":"payment","retryable":false}"#,
        );
        assert_eq!(e.code(), "BCK.X402.0023");
        // The official SDK's form: the backend's message, then the status (said once).
        assert_eq!(e.to_string(), "Budget too low (HTTP 400)");
        // A hint identical to the message is dropped instead of saying it twice; the known hint is used.
        assert!(e.hint().contains("spending limit"));
        assert_eq!(e.details().unwrap()["details"]["remaining"], "5");
        assert!(!e.is_retryable());
    }

    #[test]
    fn non_envelopes_become_http_status_codes() {
        for (status, body, code, msg) in [
            (
                502,
                "<html><body>Bad Gateway</body></html>",
                "http_502",
                "The backend answered Bad Gateway (HTTP 502)",
            ),
            (
                404,
                r#"{"statusCode":404,"message":"Cannot GET /x"}"#,
                "http_404",
                "Cannot GET /x (HTTP 404)",
            ),
            (
                400,
                r#"{"message":["planId must be a string","nonce is required"]}"#,
                "http_400",
                "planId must be a string; nonce is required (HTTP 400)",
            ),
            (
                500,
                "",
                "http_500",
                "The backend answered Internal Server Error (HTTP 500)",
            ),
            (
                418,
                "[]",
                "http_418",
                "The backend answered an unexpected status (HTTP 418)",
            ),
        ] {
            let e = error_from_response(status, body);
            assert_eq!(
                (e.code().as_ref(), e.to_string().as_str(), e.http_status()),
                (code, msg, Some(status))
            );
        }
    }

    #[test]
    fn only_the_backends_own_codes_pass_through() {
        // A proxy's JSON with a code of its own is not a backend code: http_<status>,
        // its code kept in details.
        let e = error_from_response(503, r#"{"code":"ECONNRESET","message":"upstream reset"}"#);
        assert_eq!(e.code(), "http_503");
        assert_eq!(e.details().unwrap()["code"], "ECONNRESET");
        assert_eq!(e.to_string(), "upstream reset (HTTP 503)");
        // A message that already ends with its status does not say it twice.
        let e = error_from_response(
            409,
            r#"{"code":"BCK.PROTOCOL.0902","message":"Trial already ordered (HTTP 409)"}"#,
        );
        assert_eq!(
            (e.code().as_ref(), e.to_string().as_str()),
            ("BCK.PROTOCOL.0902", "Trial already ordered (HTTP 409)")
        );
    }

    #[test]
    fn invalid_json_in_a_2xx_is_an_invalid_response() {
        let e = parse_any(HttpResponse {
            status: 200,
            body: "<html>".into(),
        })
        .unwrap_err();
        assert_eq!(
            (e.code().as_ref(), e.http_status()),
            ("invalid_response", Some(200))
        );
        assert_eq!(
            parse_any(HttpResponse {
                status: 204,
                body: String::new()
            })
            .unwrap(),
            Value::Null
        );
    }

    #[test]
    fn integers_beyond_u64_keep_every_digit() {
        let v = parse_any(HttpResponse {
            status: 200,
            body: r#"{"planId":84537562196237864853096924547108151127536962412307123401931048542183040958813,"balance":18446744073709551616,"n":5}"#.into(),
        })
        .unwrap();
        assert_eq!(
            v,
            crate::json!({"planId":"84537562196237864853096924547108151127536962412307123401931048542183040958813","balance":"18446744073709551616","n":5})
        );
    }

    #[test]
    fn query_strings_skip_absent_values_and_encode() {
        assert_eq!(
            query(&[
                ("page", Some("1".into())),
                ("x", None),
                ("sortBy", Some("a b".into()))
            ]),
            "?page=1&sortBy=a%20b"
        );
        assert_eq!(query(&[("x", None)]), "");
    }
}
