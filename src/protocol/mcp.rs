//! The MCP client's protocol, as `mcp.callTool` speaks it (`src/client/paying.rs`
//! sends it): the two revisions, what each request of the version negotiation
//! looks like, and how its answers read. Pure: no I/O.
//!
//! As the official v2 client (`@modelcontextprotocol/client` 2.4,
//! `negotiateEra` and its `classify*` functions), with 2026-07-28 the one
//! modern revision this client speaks: a `server/discover` probe carrying the
//! 2026-07-28 envelope in `_meta` (and its headers); a server whose answer
//! lists 2026-07-28 is spoken to in it (stateless: the envelope in every
//! request's `_meta`, `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`
//! headers). Any other answer that is not a failure (a JSON-RPC error, a 4xx,
//! a result that is not a discover result) is a 2025-era server: `initialize`
//! (2025-11-25, or what the server answers), then `notifications/initialized`
//! when it opened a session (`Mcp-Session-Id`), then requests with
//! `MCP-Protocol-Version` and the session. Failures: 401 and 403 and 5xx
//! (`http_<status>`), a 2xx that is not JSON-RPC (`invalid_response`), and no
//! revision in common (`mcp_negotiation_failed`).

use super::base64;
use super::json::{at, parse, to_text, Object, ObjectBuilder, Value};
use crate::error::{Error, Result};

/// The modern revision (stateless, the envelope in every request).
pub const MODERN: &str = "2026-07-28";
/// The 2025-era revision `initialize` asks for.
pub const LEGACY: &str = "2025-11-25";
/// The 2025-era revisions a server may answer `initialize` with (the official client's list).
const LEGACY_VERSIONS: [&str; 5] = [
    LEGACY,
    "2025-06-18",
    "2025-03-26",
    "2024-11-05",
    "2024-10-07",
];

/// The caller's `protocolVersion` (as the official client's `{ pin }` and `mode: 'legacy'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    /// Negotiate: 2026-07-28 to a server that speaks it, else 2025-11-25.
    Auto,
    /// `"2026-07-28"`: probed, no fallback.
    Modern,
    /// `"2025-11-25"`: no probe.
    Legacy,
}

impl Pin {
    /// Reads `protocolVersion` (absent or `null`: [`Pin::Auto`]).
    pub fn from_json(v: Option<&Value>) -> Result<Pin> {
        match v {
            None | Some(Value::Null) => Ok(Pin::Auto),
            Some(v) => match v.as_str() {
                Some(MODERN) => Ok(Pin::Modern),
                Some(LEGACY) => Ok(Pin::Legacy),
                _ => Err(Error::validation(
                    "mcp.callTool: protocolVersion must be \"2026-07-28\" or \"2025-11-25\"",
                )),
            },
        }
    }
}

/// The revision a server was found to speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Era {
    /// 2026-07-28.
    Modern,
    /// A 2025-era revision.
    Legacy {
        /// The revision its `initialize` agreed on (`None`: the caller's own
        /// session, whose headers the caller set).
        version: Option<String>,
        /// Its `Mcp-Session-Id`, when it opened a session.
        session: Option<String>,
    },
}

impl Era {
    /// The headers of a request for `method` in this revision (`name`: the
    /// tool of a `tools/call`, for `Mcp-Name`).
    pub fn headers(&self, method: &str, name: Option<&str>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match self {
            Era::Modern => {
                out.push(("mcp-protocol-version", MODERN.to_owned()));
                out.push(("mcp-method", method.to_owned()));
                if let Some(name) = name {
                    out.push(("mcp-name", header_value(name)));
                }
            }
            Era::Legacy { version, session } => {
                if let Some(v) = version {
                    out.push(("mcp-protocol-version", v.clone()));
                }
                if let Some(s) = session {
                    out.push(("mcp-session-id", s.clone()));
                }
            }
        }
        out
    }
}

/// A value for an `Mcp-*` header (the spec's value encoding, as the official
/// client's `encodeMcpParamValue`): as it is when it is plain visible ASCII,
/// else `=?base64?<base64 of its UTF-8>?=`.
pub fn header_value(s: &str) -> String {
    let b = s.as_bytes();
    let plain = !b.is_empty()
        && s.trim() == s
        && b.iter().all(|&c| c == b'\t' || (0x20..=0x7e).contains(&c))
        && !(b.starts_with(b"=?base64?") && b.ends_with(b"?="));
    if plain {
        return s.to_owned();
    }
    let mut out = String::from("=?base64?");
    out.push_str(&base64::encode_standard(b));
    out.push_str("?=");
    out
}

fn client_info() -> Value {
    ObjectBuilder::new()
        .put("name", "nvm-x402")
        .put("version", env!("CARGO_PKG_VERSION"))
        .build()
}

/// The `_meta` envelope every 2026-07-28 request carries.
pub fn envelope() -> Object {
    ObjectBuilder::new()
        .put("io.modelcontextprotocol/protocolVersion", MODERN)
        .put("io.modelcontextprotocol/clientInfo", client_info())
        .put(
            "io.modelcontextprotocol/clientCapabilities",
            Value::Object(Object::new()),
        )
        .into_map()
}

fn request(id: &str, method: &str, params: Value) -> String {
    to_text(
        &ObjectBuilder::new()
            .put("jsonrpc", "2.0")
            .put("id", id)
            .put("method", method)
            .put("params", params)
            .build(),
    )
}

/// The probe: `server/discover` with the envelope (never a token).
pub fn probe() -> String {
    let params = ObjectBuilder::new().put("_meta", Value::Object(envelope()));
    request("nvm-x402-discover", "server/discover", params.build())
}

/// A 2025-era `initialize`.
pub fn initialize() -> String {
    let params = ObjectBuilder::new()
        .put("protocolVersion", LEGACY)
        .put("capabilities", Value::Object(Object::new()))
        .put("clientInfo", client_info());
    request("nvm-x402-initialize", "initialize", params.build())
}

/// What follows `initialize` on a server that opened a session.
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// The JSON-RPC response in an answer's body: the body (JSON), or the first
/// event of a `text/event-stream` that is a response (has `result` or `error`:
/// notifications before it are skipped).
pub fn response(body: &str) -> Option<Value> {
    if body.trim_start().starts_with('{') {
        return parse(body).ok();
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| parse(d.trim()).ok())
        .find(|m| m.get("result").is_some() || m.get("error").is_some())
}

/// A JSON-RPC error's `code` and `message`, as text.
pub fn error_text(error: &Value) -> String {
    let mut out = error.get("code").map(to_text).unwrap_or_default();
    if let Some(m) = error.get("message").and_then(Value::as_str) {
        out.push_str(": ");
        out.push_str(m);
    }
    out
}

fn error_code(message: Option<&Value>) -> Option<i64> {
    message?.get("error")?.get("code")?.as_i64()
}

/// A list of revisions (strings), when `v` is one.
fn versions(v: Option<&Value>) -> Option<Vec<&str>> {
    v?.as_array()?.iter().map(Value::as_str).collect()
}

/// `mcp_negotiation_failed`.
fn failed(message: String) -> Error {
    Error::McpNegotiation(message)
}

/// An HTTP failure of the negotiation's `step`, with the server's JSON-RPC message.
fn http_failure(step: &str, status: u16, message: Option<&Value>) -> Error {
    let mut text = format!("The MCP server answered {step} with HTTP {status}");
    if let Some(e) = message.and_then(|m| m.get("error")) {
        text.push_str(" (");
        text.push_str(&error_text(e));
        text.push(')');
    }
    Error::Http {
        status,
        message: text,
    }
}

/// What the answer to the probe says: `Ok(true)` the server speaks
/// 2026-07-28, `Ok(false)` it is a 2025-era server (or gave no modern
/// evidence), `Err` the negotiation failed (as the official client's
/// `classifyProbeOutcome`; a [`Pin::Modern`] call has no fallback).
pub fn probe_says_modern(status: u16, body: &str, pin: Pin) -> Result<bool> {
    let message = response(body);
    let offered = match (status, &message) {
        (401 | 403 | 500.., _) => {
            return Err(http_failure("server/discover", status, message.as_ref()))
        }
        (200..=299, None) => {
            return Err(Error::InvalidResponse {
                status,
                message: "The MCP server's answer to server/discover is not JSON-RPC".into(),
            })
        }
        // -32022 UnsupportedProtocolVersion names what the server speaks; any other error is no modern evidence.
        (_, Some(m)) if m.get("error").is_some() => match error_code(Some(m)) {
            Some(-32022) => versions(at(m, &["error", "data", "supported"])),
            _ => None,
        },
        (200..=299, Some(m)) => versions(at(m, &["result", "supportedVersions"])),
        _ => None,
    };
    let list = offered.unwrap_or_default();
    if list.contains(&MODERN) && error_code(message.as_ref()).is_none() {
        return Ok(true);
    }
    // A server that speaks only revisions newer than this client's has nothing to fall back to.
    let newer_only = !list.is_empty() && list.iter().all(|v| *v > MODERN);
    if pin == Pin::Modern || newer_only {
        let mut text = format!("The MCP server does not offer protocol version {MODERN}");
        if !list.is_empty() {
            text.push_str(" (it offers ");
            text.push_str(&list.join(", "));
            text.push(')');
        }
        if pin == Pin::Modern {
            text.push_str(", which protocolVersion pins");
        }
        return Err(failed(text));
    }
    Ok(false)
}

/// The revision a 2025-era server's answer to `initialize` agreed on.
pub fn initialized_version(status: u16, body: &str) -> Result<String> {
    let message = response(body);
    if !(200..300).contains(&status) {
        return Err(http_failure("initialize", status, message.as_ref()));
    }
    let Some(message) = message else {
        return Err(Error::InvalidResponse {
            status,
            message: "The MCP server's answer to initialize is not JSON-RPC".into(),
        });
    };
    if let Some(e) = message.get("error") {
        return Err(failed(format!(
            "The MCP server refused initialize: {}",
            error_text(e)
        )));
    }
    let version = at(&message, &["result", "protocolVersion"]).and_then(Value::as_str);
    match version {
        Some(v) if LEGACY_VERSIONS.contains(&v) => Ok(v.to_owned()),
        other => Err(failed(format!(
            "The MCP server answered initialize with protocol version {}, which this client does not speak ({MODERN}, or {LEGACY} back to 2024-10-07)",
            other.unwrap_or("(none)")
        ))),
    }
}

/// Whether the answer to a `tools/call` says the server no longer speaks
/// what was remembered of it (redeployed, restarted, its session gone): HTTP
/// 400 or 404, or the JSON-RPC error of an unknown session (-32001), of
/// headers that disagree with the body (-32020) or of a revision it does not
/// speak (-32022). Each is the MCP transport refusing the request before any
/// tool runs, and an error has no result to carry a receipt: nothing was
/// paid, so the call may go again.
pub fn refused_as_stale(status: u16, body: &str) -> bool {
    matches!(status, 400 | 404)
        || matches!(
            error_code(response(body).as_ref()),
            Some(-32001 | -32020 | -32022)
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn the_envelope_and_the_headers_of_each_revision() {
        let probe = parse(&probe()).unwrap();
        assert_eq!(probe["method"], "server/discover");
        let meta = &probe["params"]["_meta"];
        assert_eq!(meta["io.modelcontextprotocol/protocolVersion"], MODERN);
        assert_eq!(
            meta["io.modelcontextprotocol/clientCapabilities"],
            json!({})
        );
        assert_eq!(
            meta["io.modelcontextprotocol/clientInfo"]["name"],
            "nvm-x402"
        );
        assert_eq!(
            Era::Modern.headers("tools/call", Some("weather")),
            vec![
                ("mcp-protocol-version", MODERN.to_owned()),
                ("mcp-method", "tools/call".to_owned()),
                ("mcp-name", "weather".to_owned())
            ]
        );
        let legacy = Era::Legacy {
            version: Some("2025-06-18".into()),
            session: Some("s-1".into()),
        };
        assert_eq!(
            legacy.headers("tools/call", Some("weather")),
            vec![
                ("mcp-protocol-version", "2025-06-18".to_owned()),
                ("mcp-session-id", "s-1".to_owned())
            ]
        );
        let init = parse(&initialize()).unwrap();
        assert_eq!(init["params"]["protocolVersion"], LEGACY);
        assert!(init["params"].get("_meta").is_none(), "no envelope in 2025");
    }

    #[test]
    fn a_name_that_is_not_a_plain_header_value_is_sent_in_base64() {
        assert_eq!(header_value("get_weather.v2"), "get_weather.v2");
        assert_eq!(header_value("météo"), "=?base64?bcOpdMOpbw==?=");
        for odd in ["", " padded", "=?base64?abc?="] {
            let encoded = header_value(odd);
            assert!(encoded.starts_with("=?base64?"), "{odd:?} -> {encoded}");
        }
    }

    #[test]
    fn what_the_probe_answers_decides_the_revision() {
        let discover = r#"{"jsonrpc":"2.0","id":"p","result":{"supportedVersions":["2026-07-28"],"capabilities":{},"resultType":"complete"}}"#;
        assert!(probe_says_modern(200, discover, Pin::Auto).unwrap());
        assert!(probe_says_modern(200, discover, Pin::Modern).unwrap());
        // As an event stream too.
        let sse = format!("event: message\ndata: {discover}\n\n");
        assert!(probe_says_modern(200, &sse, Pin::Auto).unwrap());
        // 2025-era servers (the v1 SDK's stateless and sessionful transports), and a discover without 2026-07-28.
        let v1 = r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}"#;
        let not_found = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"p\",\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}\n\n";
        let older = r#"{"jsonrpc":"2.0","id":"p","result":{"supportedVersions":["2025-11-25"]}}"#;
        let only_old = r#"{"jsonrpc":"2.0","id":"p","error":{"code":-32022,"message":"unsupported","data":{"supported":["2025-11-25"]}}}"#;
        for (status, body) in [
            (400, v1),
            (200, not_found),
            (200, older),
            (400, only_old),
            (404, "Not Found"),
            (405, ""),
        ] {
            assert!(
                !probe_says_modern(status, body, Pin::Auto).unwrap(),
                "{status} {body}"
            );
            let pinned = probe_says_modern(status, body, Pin::Modern).unwrap_err();
            assert_eq!(pinned.code(), "mcp_negotiation_failed", "{status} {body}");
        }
        // Failures: auth, a server error, an unusable 2xx, and only newer revisions.
        assert_eq!(
            probe_says_modern(401, "", Pin::Auto).unwrap_err().code(),
            "http_401"
        );
        let down = probe_says_modern(503, v1, Pin::Auto).unwrap_err();
        assert_eq!(down.code(), "http_503");
        assert!(
            down.to_string().contains("Server not initialized"),
            "{down}"
        );
        assert_eq!(
            probe_says_modern(200, "<html>", Pin::Auto)
                .unwrap_err()
                .code(),
            "invalid_response"
        );
        let newer = r#"{"jsonrpc":"2.0","id":"p","error":{"code":-32022,"message":"unsupported","data":{"supported":["2027-01-01"]}}}"#;
        let err = probe_says_modern(400, newer, Pin::Auto).unwrap_err();
        assert_eq!(err.code(), "mcp_negotiation_failed");
        assert!(err.to_string().contains("2027-01-01"), "{err}");
    }

    #[test]
    fn initialize_agrees_on_a_2025_revision_or_fails() {
        let answer = |v: &str| {
            format!("event: message\ndata: {{\"jsonrpc\":\"2.0\",\"id\":\"i\",\"result\":{{\"protocolVersion\":\"{v}\",\"capabilities\":{{}}}}}}\n\n")
        };
        assert_eq!(
            initialized_version(200, &answer("2025-11-25")).unwrap(),
            "2025-11-25"
        );
        assert_eq!(
            initialized_version(200, &answer("2025-06-18")).unwrap(),
            "2025-06-18"
        );
        assert_eq!(
            initialized_version(200, &answer("2030-01-01"))
                .unwrap_err()
                .code(),
            "mcp_negotiation_failed"
        );
        let refused =
            r#"{"jsonrpc":"2.0","id":"i","error":{"code":-32602,"message":"bad version"}}"#;
        let err = initialized_version(200, refused).unwrap_err();
        assert_eq!(err.code(), "mcp_negotiation_failed");
        assert!(err.to_string().contains("-32602: bad version"), "{err}");
        assert_eq!(initialized_version(403, "").unwrap_err().code(), "http_403");
        assert_eq!(
            initialized_version(200, "hello").unwrap_err().code(),
            "invalid_response"
        );
    }

    #[test]
    fn a_refusal_before_any_tool_ran_is_stale_a_tool_result_is_not() {
        let gone =
            r#"{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}"#;
        assert!(refused_as_stale(404, gone));
        assert!(refused_as_stale(
            400,
            r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Unsupported protocol version"},"id":null}"#
        ));
        assert!(refused_as_stale(
            200,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"x"}}"#
        ));
        assert!(!refused_as_stale(
            200,
            r#"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#
        ));
        assert!(!refused_as_stale(
            200,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Unknown tool"}}"#
        ));
        assert!(!refused_as_stale(500, "down"));
    }
}
