//! nvm-local API keys: `local:<JWT>`, the JWT signed with HS256 by a secret
//! that belongs to the database. Claims: `{sub, o11y, iss: "nvm-local", iat, jti}`
//! (`sub` is the account address; the official Python SDK refuses a key
//! without `o11y`). A key checks out when its signature is ours and its `sub`
//! is an account of this database.

use crate::ids::{hex, random_bytes};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

/// The `iss` claim of every key nvm-local mints.
pub const ISSUER: &str = "nvm-local";
/// The environment prefix of the keys nvm-local mints.
pub const PREFIX: &str = "local";

/// The claims of a key that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaims {
    /// The account address (`0x` + 40 hex).
    pub sub: String,
    /// The key's id.
    pub jti: String,
}

/// HS256-signs a JSON payload as a compact JWT (`header.payload.signature`), with jsonwebtoken.
pub fn sign_jwt(secret: &[u8], payload: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        payload,
        &EncodingKey::from_secret(secret),
    )
    .expect("a JSON value always encodes")
}

/// Checks a compact HS256 JWT's signature and returns its payload (keys and
/// card tokens carry no expiry: nothing but the signature and the algorithm is checked).
pub fn verify_jwt(secret: &[u8], jwt: &str) -> Option<Value> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_secret(secret), &validation)
        .ok()
        .map(|data| data.claims)
}

/// Mints a new `local:<JWT>` key for an account.
///
/// ```
/// let key = nvm_local::api_keys::mint(b"secret", "0x0000000000000000000000000000000000000001", 1_700_000_000);
/// let claims = nvm_local::api_keys::verify(b"secret", &key).unwrap();
/// assert_eq!(claims.sub, "0x0000000000000000000000000000000000000001");
/// assert!(nvm_local::api_keys::verify(b"other secret", &key).is_none());
/// ```
pub fn mint(secret: &[u8], address: &str, issued_at_secs: i64) -> String {
    let claims = json!({
        "sub": address,
        "o11y": format!("nvm-local-o11y-{}", hex(&random_bytes::<8>())),
        "iss": ISSUER,
        "iat": issued_at_secs,
        "jti": hex(&random_bytes::<16>()),
    });
    format!("{PREFIX}:{}", sign_jwt(secret, &claims))
}

/// Checks a key as sent (with or without its `local:` prefix); `None` unless
/// nvm-local signed it with this secret. Whether `sub` is a known account is
/// the caller's question.
pub fn verify(secret: &[u8], key: &str) -> Option<KeyClaims> {
    let jwt = match key.split_once(':') {
        Some((_prefix, jwt)) => jwt,
        None => key,
    };
    let claims = verify_jwt(secret, jwt)?;
    if claims.get("iss").and_then(Value::as_str) != Some(ISSUER) || claims.get("o11y").is_none() {
        return None;
    }
    Some(KeyClaims {
        sub: claims.get("sub").and_then(Value::as_str)?.to_owned(),
        jti: claims
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvm_x402::protocol::base64;

    const ADDR: &str = "0x00000000000000000000000000000000000000aa";

    #[test]
    fn keys_decode_with_the_client_parser_and_carry_o11y() {
        let key = mint(b"s", ADDR, 1);
        let parsed = nvm_x402::protocol::ApiKey::parse(&key).unwrap();
        assert_eq!(parsed.prefix(), Some("local"));
        assert_eq!(parsed.subject(), Some(ADDR));
        assert!(parsed.claims()["o11y"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert_eq!(parsed.claims()["iss"], "nvm-local");
        let without_prefix = key.strip_prefix("local:").unwrap();
        assert_eq!(verify(b"s", without_prefix).unwrap().sub, ADDR);
    }

    #[test]
    fn forged_and_edited_keys_are_refused() {
        let key = mint(b"s", ADDR, 1);
        let (head, sig) = key.rsplit_once('.').unwrap();
        // Another account's address in the payload, signature kept.
        let parts: Vec<&str> = head.split('.').collect();
        let forged_payload = base64::encode_url(json!({"sub": "0x00000000000000000000000000000000000000bb", "o11y": "x", "iss": ISSUER, "iat": 1, "jti": "j"}).to_string().as_bytes());
        assert!(verify(b"s", &format!("{}.{forged_payload}.{sig}", parts[0])).is_none());
        // A key signed with another secret.
        assert!(verify(b"s", &mint(b"t", ADDR, 1)).is_none());
        // A key without o11y, correctly signed.
        let no_o11y = sign_jwt(b"s", &json!({"sub": ADDR, "iss": ISSUER}));
        assert!(verify(b"s", &no_o11y).is_none());
        for junk in ["", "local:", "local:a.b", "a.b.c.d", "local:eyJ9.eyJ9.!!"] {
            assert!(verify(b"s", junk).is_none(), "{junk}");
        }
    }
}
