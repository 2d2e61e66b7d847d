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
use super::json::{self, at, parse, to_text, Object, ObjectBuilder, Value};
use crate::error::{Error, Result};

/// The modern revision (stateless, the envelope in every request).
pub const MODERN: &str = "2026-07-28";
/// The 2025-era revision `initialize` asks for.
pub const LEGACY: &str = "2025-11-25";
/// The oldest revision a server may answer `initialize` with (the official
/// client's list: 2024-10-07, 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25;
/// revisions are dates, compared as text).
const OLDEST: &str = "2024-10-07";

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
    pub fn headers(&self, method: &str, name: Option<&str>) -> Object {
        let headers = ObjectBuilder::new();
        match self {
            Era::Modern => headers
                .put("mcp-protocol-version", MODERN)
                .put("mcp-method", method)
                .put_opt("mcp-name", name.map(header_value)),
            Era::Legacy { version, session } => headers
                .put_opt("mcp-protocol-version", version.as_deref())
                .put_opt("mcp-session-id", session.as_deref()),
        }
        .into_map()
    }
}

/// A value for an `Mcp-*` header (the spec's value encoding, as the official
/// client's `encodeMcpParamValue`): as it is when it is plain visible ASCII
/// (spaces and tabs inside), else `=?base64?<base64 of its UTF-8>?=`.
pub fn header_value(s: &str) -> String {
    let b = s.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(|&c| c != b' ' && c != b'\t');
    let plain = edge(b.first())
        && edge(b.last())
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

// The requests of the negotiation are constant, written here whole: building
// them with `ObjectBuilder` costs the `.wasm` more than the text.
macro_rules! client_info {
    () => {
        concat!(
            r#"{"name":"nvm-x402","version":""#,
            env!("CARGO_PKG_VERSION"),
            r#""}"#
        )
    };
}

macro_rules! envelope {
    () => {
        concat!(
            r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":"#,
            client_info!(),
            r#","io.modelcontextprotocol/clientCapabilities":{}}"#
        )
    };
}

/// The `_meta` envelope every 2026-07-28 request carries.
pub fn envelope() -> Object {
    match parse(envelope!()) {
        Ok(Value::Object(o)) => o,
        _ => Object::new(),
    }
}

/// The probe: `server/discover` with the envelope (never a token).
pub const PROBE: &str = concat!(
    r#"{"jsonrpc":"2.0","id":"nvm-x402-discover","method":"server/discover","params":{"_meta":"#,
    envelope!(),
    "}}"
);

/// A 2025-era `initialize`.
pub const INITIALIZE: &str = concat!(
    r#"{"jsonrpc":"2.0","id":"nvm-x402-initialize","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":"#,
    client_info!(),
    "}}"
);

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

/// The negotiation's `step` answered HTTP `status`: `http_<status>`, with
/// the server's JSON-RPC error, if it sent one.
pub fn http_failure(step: &str, status: u16, message: Option<&Value>) -> Error {
    let mut text = format!("The MCP server answered {step} with HTTP {status}");
    if let Some(e) = message.and_then(|m| m.get("error")) {
        text.push_str(": ");
        text.push_str(&to_text(e));
    }
    Error::Http {
        status,
        message: text,
    }
}

/// A 2xx answer to `step` that is not JSON-RPC.
fn not_json_rpc(step: &str, status: u16) -> Error {
    Error::InvalidResponse {
        status,
        message: format!("The MCP server's answer to {step} is not JSON-RPC"),
    }
}

/// What the answer to the probe says: `Ok(true)` the server speaks
/// 2026-07-28, `Ok(false)` it is a 2025-era server (or gave no modern
/// evidence), `Err` the negotiation failed (as the official client's
/// `classifyProbeOutcome`, with 2026-07-28 the one modern revision; a
/// [`Pin::Modern`] call has no fallback). A server that speaks only newer
/// revisions falls back too, and fails at `initialize`.
pub fn probe_says_modern(status: u16, body: &str, pin: Pin) -> Result<bool> {
    let message = response(body);
    let ok = (200..300).contains(&status);
    if matches!(status, 401 | 403 | 500..) {
        return Err(http_failure("server/discover", status, message.as_ref()));
    }
    let modern = match &message {
        None if ok => return Err(not_json_rpc("server/discover", status)),
        Some(m) if ok => json::items(at(m, &["result", "supportedVersions"]))
            .iter()
            .any(|v| v.as_str() == Some(MODERN)),
        _ => false,
    };
    if !modern && pin == Pin::Modern {
        return Err(Error::McpNegotiation(
            "The MCP server does not offer protocol version 2026-07-28, which protocolVersion pins"
                .into(),
        ));
    }
    Ok(modern)
}

/// The revision a 2025-era server's answer to `initialize` agreed on.
pub fn initialized_version(status: u16, body: &str) -> Result<String> {
    let message = response(body);
    if !(200..300).contains(&status) {
        return Err(http_failure("initialize", status, message.as_ref()));
    }
    let message = message.ok_or_else(|| not_json_rpc("initialize", status))?;
    let said = message
        .get("error")
        .or_else(|| at(&message, &["result", "protocolVersion"]));
    match said.and_then(Value::as_str) {
        Some(v) if v.len() == MODERN.len() && (OLDEST..MODERN).contains(&v) => Ok(v.to_owned()),
        _ => {
            let mut text = String::from("The MCP server's answer to initialize agrees on no protocol version this client speaks: ");
            text.push_str(&said.map(to_text).unwrap_or_default());
            Err(Error::McpNegotiation(text))
        }
    }
}

/// Whether the answer to a `tools/call` says the server no longer speaks
/// what was remembered of it (redeployed, restarted, its session gone): HTTP
/// 400 (a revision, header or session it does not take) or 404 (a session it
/// no longer has). Each is the MCP transport refusing the request before any
/// tool runs, and an error has no result to carry a receipt: nothing was
/// paid, so the call may go again.
pub fn refused_as_stale(status: u16) -> bool {
    matches!(status, 400 | 404)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn the_envelope_and_the_headers_of_each_revision() {
        let probe = parse(PROBE).unwrap();
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
            Value::Object(Era::Modern.headers("tools/call", Some("weather"))),
            json!({"mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "weather"})
        );
        let legacy = Era::Legacy {
            version: Some("2025-06-18".into()),
            session: Some("s-1".into()),
        };
        assert_eq!(
            Value::Object(legacy.headers("tools/call", Some("weather"))),
            json!({"mcp-protocol-version": "2025-06-18", "mcp-session-id": "s-1"})
        );
        let init = parse(INITIALIZE).unwrap();
        assert_eq!(init["params"]["protocolVersion"], LEGACY);
        assert_eq!(
            init["params"]["clientInfo"],
            meta["io.modelcontextprotocol/clientInfo"]
        );
        assert_eq!(Value::Object(envelope()), *meta);
        assert!(init["params"].get("_meta").is_none(), "no envelope in 2025");
    }

    #[test]
    fn a_name_that_is_not_a_plain_header_value_is_sent_in_base64() {
        assert_eq!(header_value("get_weather.v2"), "get_weather.v2");
        assert_eq!(header_value("météo"), "=?base64?bcOpdMOpbw==?=");
        assert_eq!(
            header_value("a b\tc"),
            "a b\tc",
            "spaces and tabs inside are plain"
        );
        for odd in ["", " padded", "padded\t", "=?base64?abc?="] {
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
        // 2025-era servers (the v1 SDK's stateless and sessionful transports), a discover
        // without 2026-07-28, one of newer revisions only (it fails at initialize), a 404.
        let v1 = r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}"#;
        let not_found = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"p\",\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}\n\n";
        let older = r#"{"jsonrpc":"2.0","id":"p","result":{"supportedVersions":["2025-11-25"]}}"#;
        let newer = r#"{"jsonrpc":"2.0","id":"p","error":{"code":-32022,"message":"unsupported","data":{"supported":["2027-01-01"]}}}"#;
        for (status, body) in [
            (400, v1),
            (200, not_found),
            (200, older),
            (400, newer),
            (404, "Not Found"),
            (405, ""),
        ] {
            assert!(
                !probe_says_modern(status, body, Pin::Auto).unwrap(),
                "{status} {body}"
            );
            let pinned = probe_says_modern(status, body, Pin::Modern).unwrap_err();
            assert_eq!(pinned.code(), "mcp_negotiation_failed", "{status} {body}");
            assert!(pinned.hint().contains("protocolVersion"));
        }
        // Failures: auth, a server error (with its JSON-RPC error), an unusable 2xx.
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
        let newer = initialized_version(200, &answer("2030-01-01")).unwrap_err();
        assert_eq!(newer.code(), "mcp_negotiation_failed");
        assert!(newer.to_string().contains("2030-01-01"), "{newer}");
        let refused =
            r#"{"jsonrpc":"2.0","id":"i","error":{"code":-32602,"message":"bad version"}}"#;
        let err = initialized_version(200, refused).unwrap_err();
        assert_eq!(err.code(), "mcp_negotiation_failed");
        assert!(err.to_string().contains("bad version"), "{err}");
        assert_eq!(initialized_version(403, "").unwrap_err().code(), "http_403");
        assert_eq!(
            initialized_version(200, "hello").unwrap_err().code(),
            "invalid_response"
        );
    }

    #[test]
    fn a_refusal_before_any_tool_ran_is_stale_a_tool_result_or_error_is_not() {
        assert!(refused_as_stale(400) && refused_as_stale(404));
        assert!(!refused_as_stale(200) && !refused_as_stale(500) && !refused_as_stale(401));
    }
}
