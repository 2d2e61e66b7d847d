//! The `payment-required` / `payment-response` header codec: standard padded
//! base64 of compact JSON. Key order is kept, so decode + encode reproduces
//! the exact header bytes.

use super::base64;
use super::token::{decode_object, TokenError};
use crate::error::{Error, Result};
use crate::protocol::json::{Map, Value};

/// The longest header value we decode (64 KiB).
pub const MAX_HEADER_LEN: usize = 64 * 1024;

/// Encodes a JSON value as a header value.
///
/// ```
/// use nvm_x402::protocol::json::parse;
/// let value = parse(r#"{"success": true}"#).unwrap();
/// assert_eq!(nvm_x402::protocol::encode_payment_header(&value).unwrap(), "eyJzdWNjZXNzIjp0cnVlfQ==");
/// ```
pub fn encode_payment_header(value: &Value) -> Result<String> {
    Ok(base64::encode_standard(
        super::json::to_text(value).as_bytes(),
    ))
}

/// Decodes a header value to its JSON object.
///
/// ```
/// let v = nvm_x402::protocol::decode_payment_header("eyJzdWNjZXNzIjp0cnVlfQ==").unwrap();
/// assert_eq!(v["success"], true);
/// ```
pub fn decode_payment_header(header: &str) -> Result<Map> {
    decode_object(header, MAX_HEADER_LEN).map_err(|e| {
        let why = e.unwrap_or(TokenError::NotObject).predicate();
        Error::validation(format!("Invalid payment header: it {why}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_objects_with_a_reason() {
        let err = decode_payment_header("MTIz").unwrap_err();
        assert_eq!(err.code(), "validation");
        assert!(err.to_string().contains("not an object"), "{err}");
        assert!(decode_payment_header("")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(decode_payment_header(" e30=")
            .unwrap_err()
            .to_string()
            .contains("not base64"));
    }
}
