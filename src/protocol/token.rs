//! x402 access tokens: base64 of compact JSON (not a JWT). Encoding writes
//! unpadded base64url; decoding accepts padded standard base64 too. Decoding
//! never panics and never allocates more than a bounded amount.

use super::base64;
use crate::protocol::json::{parse, Map, Value};
use std::fmt;

/// The longest token we try to decode (64 KiB, the MCP `_meta` limit).
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Why a string is not an access token. [`TokenError::reason`] is a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// The empty string.
    Empty,
    /// Longer than [`MAX_TOKEN_LEN`].
    TooLong,
    /// Not base64 (whitespace included).
    NotBase64,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The text is not JSON.
    NotJson,
    /// JSON, but not an object (`123`, `"x"`, `[]`).
    NotObject,
}

impl TokenError {
    /// A stable machine-readable reason (`token_not_base64`, ...).
    pub fn reason(self) -> &'static str {
        match self {
            TokenError::Empty => "token_empty",
            TokenError::TooLong => "token_too_long",
            TokenError::NotBase64 => "token_not_base64",
            TokenError::NotUtf8 => "token_not_utf8",
            TokenError::NotJson => "token_not_json",
            TokenError::NotObject => "token_not_object",
        }
    }
}

impl TokenError {
    /// What is wrong, as a predicate without a subject ("is not base64 ...").
    pub fn predicate(self) -> &'static str {
        match self {
            TokenError::Empty => "is empty",
            TokenError::TooLong => "is longer than 64 KiB",
            TokenError::NotBase64 => "is not base64 (surrounding whitespace is not allowed)",
            TokenError::NotUtf8 => "does not decode to UTF-8 text",
            TokenError::NotJson => "does not decode to JSON",
            TokenError::NotObject => "decodes to JSON that is not an object",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "The access token {}", self.predicate())
    }
}

impl std::error::Error for TokenError {}

/// Decodes a token to its JSON object, or says why it can't.
///
/// ```
/// use nvm_x402::protocol::token::{try_decode_access_token, TokenError};
/// assert_eq!(try_decode_access_token("e30").unwrap().len(), 0);
/// assert_eq!(try_decode_access_token("MTIz"), Err(TokenError::NotObject)); // "123"
/// ```
pub fn try_decode_access_token(token: &str) -> Result<Map, TokenError> {
    decode_object(token, MAX_TOKEN_LEN).map_err(|e| e.unwrap_or(TokenError::NotObject))
}

/// Decodes a token to its JSON object; `None` for anything that isn't one.
///
/// ```
/// assert!(nvm_x402::protocol::token::decode_access_token("not a token").is_none());
/// ```
pub fn decode_access_token(token: &str) -> Option<Map> {
    try_decode_access_token(token).ok()
}

/// Base64 (either alphabet) of a JSON object, bounded by `max_len` characters.
/// `Err(None)` means "JSON, but not an object".
pub(crate) fn decode_object(input: &str, max_len: usize) -> Result<Map, Option<TokenError>> {
    if input.is_empty() {
        return Err(Some(TokenError::Empty));
    }
    if input.len() > max_len {
        return Err(Some(TokenError::TooLong));
    }
    let bytes = base64::decode(input).map_err(|_| Some(TokenError::NotBase64))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Some(TokenError::NotUtf8))?;
    match parse(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(None),
        Err(_) => Err(Some(TokenError::NotJson)),
    }
}

/// Whitespace as Python's `str.strip()` sees it (payments-py reads nonces so):
/// Unicode's `White_Space`, and the information separators U+001C..U+001F
/// (written out: `char::is_whitespace` brings a table into the .wasm).
fn is_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\u{1c}'..=' ' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// The version of an access token: 3 for a single-use token (bound to one
/// seller, URL and verb; its first settle consumes it, a second is refused
/// with `BCK.X402.0059`), else 2 (reusable), undecodable input included — as
/// payments-py's `detect_access_token_version`: read from the token itself,
/// never from the `tokenVersion` asked for (a backend that predates v3 drops
/// that field and mints v2).
///
/// ```
/// use nvm_x402::protocol::token::token_version;
/// assert_eq!(token_version("eyJwYXlsb2FkIjp7ImF1dGhvcml6YXRpb24iOnsibm9uY2UiOiIweDEifX19"), 3); // nonce "0x1"
/// assert_eq!(token_version("e30"), 2);
/// assert_eq!(token_version("not a token"), 2);
/// ```
pub fn token_version(token: &str) -> u8 {
    match decode_access_token(token) {
        Some(t) if TokenClaims::from_token(&t).is_v3() => 3,
        _ => 2,
    }
}

/// Encodes a JSON object as a token: unpadded base64url of compact JSON.
///
/// ```
/// use nvm_x402::protocol::json::parse;
/// let t = nvm_x402::protocol::token::encode_access_token(parse(r#"{"x402Version": 2}"#).unwrap().as_object().unwrap());
/// assert_eq!(t, "eyJ4NDAyVmVyc2lvbiI6Mn0");
/// ```
pub fn encode_access_token(token: &Map) -> String {
    base64::encode_url(super::json::to_text(&Value::Object(token.clone())).as_bytes())
}

/// The fields of a decoded token that the gate and client check, read leniently
/// (a missing or mistyped field is `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenClaims {
    /// `x402Version`.
    pub x402_version: Option<u64>,
    /// `accepted.scheme`.
    pub scheme: Option<String>,
    /// `accepted.network`.
    pub network: Option<String>,
    /// `accepted.planId` (a string, or an integer written as digits).
    pub plan_id: Option<String>,
    /// `accepted.extra.agentId`.
    pub agent_id: Option<String>,
    /// `accepted.extra.httpVerb`.
    pub http_verb: Option<String>,
    /// `resource.url` (bound by v3 tokens).
    pub resource_url: Option<String>,
    /// `payload.authorization.from`: the subscriber.
    pub from: Option<String>,
    /// `payload.authorization.nonce`: present (a string, not only whitespace) only on v3 tokens.
    pub nonce: Option<String>,
}

impl TokenClaims {
    /// Reads the claims out of a decoded token.
    ///
    /// ```
    /// use nvm_x402::protocol::{json::parse, token::TokenClaims};
    /// let t = parse(r#"{"accepted": {"planId": 7, "extra": {"agentId": "a"}}, "payload": {"authorization": {"nonce": "n1"}}}"#).unwrap();
    /// let c = TokenClaims::from_token(t.as_object().unwrap());
    /// assert_eq!((c.plan_id.as_deref(), c.agent_id.as_deref(), c.is_v3()), (Some("7"), Some("a"), true));
    /// ```
    pub fn from_token(token: &Map) -> Self {
        let accepted = token.get("accepted");
        let extra = accepted.and_then(|a| a.get("extra"));
        let auth = token.get("payload").and_then(|p| p.get("authorization"));
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
            _ => None,
        };
        TokenClaims {
            x402_version: token.get("x402Version").and_then(Value::as_u64),
            scheme: text(accepted.and_then(|a| a.get("scheme"))),
            network: text(accepted.and_then(|a| a.get("network"))),
            plan_id: text(accepted.and_then(|a| a.get("planId"))),
            agent_id: text(extra.and_then(|e| e.get("agentId"))),
            http_verb: text(extra.and_then(|e| e.get("httpVerb"))),
            resource_url: text(token.get("resource").and_then(|r| r.get("url"))),
            from: text(auth.and_then(|a| a.get("from"))),
            // A string with more than whitespace, as the official SDKs read it (the backend
            // mints `0x` and 32 random bytes in hex): a number or a blank string is no nonce.
            nonce: match auth.and_then(|a| a.get("nonce")) {
                Some(Value::String(n)) if n.chars().any(|c| !is_space(c)) => Some(n.clone()),
                _ => None,
            },
        }
    }

    /// Whether this is a single-use v3 token (it carries a nonce).
    pub fn is_v3(&self) -> bool {
        self.nonce.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn sample() -> Map {
        json!({
            "x402Version": 2,
            "accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": "123", "extra": {"version": "1", "agentId": "agent-1"}},
            "payload": {"signature": "0xabc", "authorization": {"from": "0xsub", "sessionKeysProvider": "zerodev", "sessionKeys": [{"id": "k", "data": "ü€"}]}},
            "extensions": {}
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn encodes_unpadded_url_safe_and_decodes_every_variant() {
        let token = sample();
        let encoded = encode_access_token(&token);
        assert!(!encoded.contains(['=', '+', '/']));
        let json = Value::Object(token.clone()).to_string();
        let padded_std = base64::encode_standard(json.as_bytes());
        for variant in [
            encoded.clone(),
            padded_std.clone(),
            padded_std.trim_end_matches('=').to_owned(),
            encoded.clone() + &"=".repeat((4 - encoded.len() % 4) % 4),
        ] {
            assert_eq!(
                decode_access_token(&variant).as_ref(),
                Some(&token),
                "{variant}"
            );
        }
        // Key order survives a decode/encode round trip.
        assert_eq!(
            encode_access_token(&decode_access_token(&encoded).unwrap()),
            encoded
        );
    }

    #[test]
    fn edge_cases_never_panic_and_say_why() {
        let cases: Vec<(String, TokenError)> = vec![
            (String::new(), TokenError::Empty),
            (" e30".into(), TokenError::NotBase64),
            ("e30 ".into(), TokenError::NotBase64),
            ("e30\n".into(), TokenError::NotBase64),
            ("!!!!".into(), TokenError::NotBase64),
            ("e".into(), TokenError::NotBase64),
            (base64::encode_url(&[0xff, 0xfe, 0x00]), TokenError::NotUtf8),
            (base64::encode_url(b"{not json"), TokenError::NotJson),
            (base64::encode_url(b"123"), TokenError::NotObject),
            (base64::encode_url(b"\"str\""), TokenError::NotObject),
            (base64::encode_url(b"[1,2]"), TokenError::NotObject),
            (base64::encode_url(b"null"), TokenError::NotObject),
            ("A".repeat(MAX_TOKEN_LEN + 1), TokenError::TooLong),
            ("eyJh".repeat(MAX_TOKEN_LEN), TokenError::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(
                try_decode_access_token(&input),
                Err(expected),
                "{:?}",
                &input[..input.len().min(20)]
            );
            assert_eq!(decode_access_token(&input), None);
        }
        // Deeply nested JSON is refused by the JSON reader's depth limit (128) instead of overflowing the stack.
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            try_decode_access_token(&base64::encode_url(deep.as_bytes())),
            Err(TokenError::NotJson)
        );
    }

    #[test]
    fn claims_are_read_leniently() {
        let claims = TokenClaims::from_token(&sample());
        assert_eq!(claims.plan_id.as_deref(), Some("123"));
        assert_eq!(claims.agent_id.as_deref(), Some("agent-1"));
        assert_eq!(claims.from.as_deref(), Some("0xsub"));
        assert_eq!(claims.x402_version, Some(2));
        assert!(!claims.is_v3());
        let odd = json!({"accepted": "nope", "payload": {"authorization": {"nonce": ""}}});
        let claims = TokenClaims::from_token(odd.as_object().unwrap());
        assert_eq!(claims, TokenClaims::default());
    }

    #[test]
    fn a_token_is_v3_when_its_nonce_is_a_string_with_more_than_whitespace() {
        let with_nonce = |nonce: Value| {
            let token = json!({"x402Version": 2, "payload": {"authorization": {"from": "0xsub", "nonce": nonce}}});
            token_version(&encode_access_token(token.as_object().unwrap()))
        };
        assert_eq!(with_nonce(json!("0x1f")), 3);
        assert_eq!(with_nonce(json!(" n ")), 3);
        // payments-py's reading: a number, a blank string (Python's whitespace) or no nonce is v2.
        for not_one in [
            json!(7),
            json!(""),
            json!(" \t\n\u{a0}\u{3000}"),
            json!("\u{1c}\u{1f}"),
            json!(null),
            json!(["n"]),
        ] {
            assert_eq!(with_nonce(not_one.clone()), 2, "{not_one}");
        }
        let elsewhere = json!({"nonce": "n", "payload": {"nonce": "n", "authorization": "n"}});
        assert_eq!(
            token_version(&encode_access_token(elsewhere.as_object().unwrap())),
            2
        );
        for undecodable in ["", "garbage", "MTIz", "W10"] {
            assert_eq!(token_version(undecodable), 2, "{undecodable}");
        }
        // Padded standard base64 reads the same.
        let v3 = base64::encode_standard(br#"{"payload":{"authorization":{"nonce":"n"}}}"#);
        assert_eq!(token_version(&v3), 3);
    }
}
