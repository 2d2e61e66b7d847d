//! Base64 as x402 uses it: headers are standard padded base64, tokens are
//! unpadded base64url, and decoding accepts either alphabet, padded or not.
//! Whitespace anywhere is invalid (a token with surrounding spaces is not a token).
//!
//! Hand-written rather than the `base64` crate because of its measured cost:
//! base64 0.22 (alloc only) in its place made the .wasm 5.1 KB larger
//! gzipped (86,812 -> 91,943 B; bench/README.md).

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Standard alphabet with `=` padding (the `payment-required` / `payment-response` headers).
///
/// ```
/// assert_eq!(nvm_x402::protocol::base64::encode_standard(b"{}"), "e30=");
/// ```
pub fn encode_standard(bytes: &[u8]) -> String {
    encode(bytes, STD, true)
}

/// URL-safe alphabet without padding (access tokens).
///
/// ```
/// assert_eq!(nvm_x402::protocol::base64::encode_url(b"{}"), "e30");
/// ```
pub fn encode_url(bytes: &[u8]) -> String {
    encode(bytes, URL, false)
}

fn encode(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let sextets = chunk.len() + 1;
        for i in 0..4 {
            if i < sextets {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Why a string is not base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base64Error {
    /// A character outside both alphabets (whitespace included), or `=` not at the end.
    InvalidCharacter(usize),
    /// A length no base64 encoding can have.
    InvalidLength,
}

/// Decodes standard or URL-safe base64, padded or unpadded.
///
/// ```
/// use nvm_x402::protocol::base64::decode;
/// assert_eq!(decode("e30=").unwrap(), b"{}");
/// assert_eq!(decode("e30").unwrap(), b"{}");
/// assert!(decode(" e30").is_err());
/// ```
pub fn decode(input: &str) -> Result<Vec<u8>, Base64Error> {
    let bytes = input.as_bytes();
    let unpadded = match bytes.iter().position(|&b| b == b'=') {
        None => bytes,
        Some(at) => {
            let padding = &bytes[at..];
            if let Some(bad) = padding.iter().position(|&b| b != b'=') {
                return Err(Base64Error::InvalidCharacter(at + bad));
            }
            if padding.len() > 2 {
                return Err(Base64Error::InvalidCharacter(at + 2));
            }
            if bytes.len() % 4 != 0 {
                return Err(Base64Error::InvalidLength);
            }
            &bytes[..at]
        }
    };
    let value = |i: usize, c: u8| -> Result<u32, Base64Error> {
        Ok(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(Base64Error::InvalidCharacter(i)),
        }))
    };
    let mut out = Vec::with_capacity(unpadded.len() * 3 / 4 + 2);
    // Four characters make three bytes: whole groups first, the tail bit by bit.
    let mut groups = unpadded.chunks_exact(4);
    for (g, group) in groups.by_ref().enumerate() {
        let mut acc = 0;
        for (j, &c) in group.iter().enumerate() {
            acc = (acc << 6) | value(g * 4 + j, c)?;
        }
        out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
    }
    let tail_at = unpadded.len() - groups.remainder().len();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for (j, &c) in groups.remainder().iter().enumerate() {
        acc = (acc << 6) | value(tail_at + j, c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if unpadded.len() % 4 == 1 {
        return Err(Base64Error::InvalidLength);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length_in_both_alphabets() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..data.len() {
            let slice = &data[..len];
            assert_eq!(decode(&encode_standard(slice)).unwrap(), slice);
            assert_eq!(decode(&encode_url(slice)).unwrap(), slice);
            assert_eq!(encode_standard(slice).len() % 4, 0);
            assert!(!encode_url(slice).contains(['=', '+', '/']));
        }
    }

    #[test]
    fn known_answers() {
        // RFC 4648 section 10 test vectors.
        for (plain, b64) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode_standard(plain.as_bytes()), b64);
            assert_eq!(decode(b64).unwrap(), plain.as_bytes());
            assert_eq!(decode(b64.trim_end_matches('=')).unwrap(), plain.as_bytes());
        }
        assert_eq!(encode_standard(&[0xfb, 0xff]), "+/8=");
        assert_eq!(encode_url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn rejects_what_is_not_base64() {
        assert_eq!(decode("Zm9v\n"), Err(Base64Error::InvalidCharacter(4)));
        assert_eq!(decode(" Zm9v"), Err(Base64Error::InvalidCharacter(0)));
        assert_eq!(decode("Zm9=v"), Err(Base64Error::InvalidCharacter(4)));
        assert_eq!(decode("Zg==="), Err(Base64Error::InvalidCharacter(4)));
        assert_eq!(decode("Zg="), Err(Base64Error::InvalidLength));
        assert_eq!(decode("Z"), Err(Base64Error::InvalidLength));
        assert_eq!(decode("Zm9v!"), Err(Base64Error::InvalidCharacter(4)));
        assert_eq!(decode("é"), Err(Base64Error::InvalidCharacter(0)));
    }
}
