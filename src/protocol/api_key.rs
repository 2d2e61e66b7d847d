//! NVM API keys: `<prefix>:<JWT>`. The JWT is decoded (never verified) for its
//! claims; `sub` is the account address. `Debug` never shows the key.

use super::base64;
use super::redact::redact;
use crate::error::{Error, Result};
use crate::protocol::json::{parse, Map, Value};
use std::fmt;

/// A parsed API key.
///
/// ```
/// use nvm_x402::protocol::ApiKey;
/// let key = ApiKey::parse("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln").unwrap();
/// assert_eq!(key.prefix(), Some("local"));
/// assert_eq!(key.subject(), Some("0xabc"));
/// assert!(!format!("{key:?}").contains("eyJzdWIi"));
/// ```
#[derive(Clone)]
pub struct ApiKey {
    raw: String,
    prefix_len: Option<usize>,
    claims: Map,
}

impl ApiKey {
    /// Parses a key; "Invalid NVM API Key" when its JWT payload isn't a base64url JSON object.
    pub fn parse(key: &str) -> Result<Self> {
        let invalid = || Error::validation("Invalid NVM API Key");
        let (prefix_len, jwt) = match key.split_once(':') {
            Some((prefix, jwt)) => (Some(prefix.len()), jwt),
            None => (None, key),
        };
        let mut parts = jwt.split('.');
        let (Some(_header), Some(payload), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let bytes = base64::decode(payload).map_err(|_| invalid())?;
        // from_str after a UTF-8 check accepts exactly what from_slice would, and
        // shares the one JSON parser the rest of the crate uses (from_slice
        // would add a second copy of it to the .wasm).
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
        let claims = match parse(text) {
            Ok(Value::Object(map)) => map,
            _ => return Err(invalid()),
        };
        Ok(ApiKey {
            raw: key.to_owned(),
            prefix_len,
            claims,
        })
    }

    /// No key: a browser client before sign-in or after logout (never sent).
    #[cfg(feature = "browser")]
    pub fn none() -> Self {
        ApiKey {
            raw: String::new(),
            prefix_len: None,
            claims: Map::new(),
        }
    }

    /// Whether this is [`ApiKey::none`].
    #[cfg(feature = "browser")]
    pub fn is_none(&self) -> bool {
        self.raw.is_empty()
    }

    /// The part before the first `:`, if any.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix_len.and_then(|n| self.raw.get(..n))
    }

    /// The `sub` claim: the account address (default balance holder).
    pub fn subject(&self) -> Option<&str> {
        self.claims.get("sub").and_then(Value::as_str)
    }

    /// All decoded claims.
    pub fn claims(&self) -> &Map {
        &self.claims
    }

    /// The whole key, prefix included, as sent in `Authorization: Bearer`.
    pub fn expose(&self) -> &str {
        &self.raw
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", redact(&self.raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_is_redacted() {
        let raw =
            "sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweDEyMzQ1Njc4OTAifQ.c2lnbmF0dXJlLXNlY3JldA";
        let key = ApiKey::parse(raw).unwrap();
        let shown = format!(
            "{key:?} {:?}",
            crate::protocol::ClientConfig::from_options(&crate::protocol::PaymentsOptions {
                nvm_api_key: Some(raw.into()),
                ..Default::default()
            })
            .unwrap()
        );
        assert!(!shown.contains("eyJzdWIiOiIweDEyMzQ1Njc4OTAifQ"), "{shown}");
        assert!(!shown.contains("c2lnbmF0dXJlLXNlY3JldA"), "{shown}");
        let expected = format!("{}…{}", &raw[..6], &raw[raw.len() - 4..]);
        assert!(shown.contains(&expected), "{shown}");
        assert_eq!(key.subject(), Some("0x1234567890"));
        assert_eq!(key.expose(), raw);
    }

    #[test]
    fn keys_without_prefix_are_accepted() {
        let key = ApiKey::parse("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln").unwrap();
        assert_eq!(key.prefix(), None);
        assert_eq!(key.subject(), Some("0xabc"));
    }
}
