//! Identifiers and their text forms: random bytes, hex, uint256 decimals (plan
//! and agent ids), UUIDs (delegations), Stripe-like ids, transaction hashes,
//! and ISO 8601 timestamps. Hex, UUIDs and dates come from their crates
//! (`hex`, `uuid`, `time`); what is left here is what no crate does for us.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random source failed");
    out
}

/// Lower-case hex.
///
/// ```
/// assert_eq!(nvm_local::ids::hex(&[0, 0xab]), "00ab");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Parses hex (either case); `None` for anything else.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

/// SHA-256 of some bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A 256-bit big-endian number as a decimal string (how plan and agent ids travel).
///
/// ```
/// let mut n = [0u8; 32];
/// n[31] = 1;
/// n[30] = 1;
/// assert_eq!(nvm_local::ids::u256_decimal(&n), "257");
/// assert_eq!(nvm_local::ids::u256_decimal(&[0xff; 32]).len(), 78);
/// ```
pub fn u256_decimal(bytes: &[u8; 32]) -> String {
    let mut n = *bytes;
    let mut digits = Vec::with_capacity(78);
    while n.iter().any(|&b| b != 0) {
        let mut rem: u16 = 0;
        for b in n.iter_mut() {
            let cur = (rem << 8) | u16::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        return "0".to_owned();
    }
    digits.reverse();
    String::from_utf8(digits).expect("digits are ASCII")
}

/// A fresh uint256 id in decimal (agent ids).
pub fn random_u256_id() -> String {
    u256_decimal(&random_bytes::<32>())
}

/// A random UUID v4 (delegation and request ids).
pub fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A random transaction hash (`0x` + 64 hex).
pub fn tx_hash() -> String {
    format!("0x{}", hex(&random_bytes::<32>()))
}

/// `prefix` followed by `len` random alphanumerics (Stripe-style `pm_...`, `cs_test_...`).
pub fn alphanumeric_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    while out.len() < prefix.len() + len {
        for b in random_bytes::<32>() {
            // 248 = 4 * 62: rejecting the top values keeps every character equally likely.
            if b < 248 && out.len() < prefix.len() + len {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// The instant `ms` milliseconds after the Unix epoch (clamped to what `time` represents).
fn instant(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(if ms < 0 {
        OffsetDateTime::UNIX_EPOCH
    } else {
        time::macros::datetime!(9999-12-31 23:59:59.999 UTC)
    })
}

/// Milliseconds since the Unix epoch as ISO 8601 UTC (`2026-01-02T03:04:05.678Z`).
///
/// ```
/// assert_eq!(nvm_local::ids::iso8601(0), "1970-01-01T00:00:00.000Z");
/// assert_eq!(nvm_local::ids::iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
/// ```
pub fn iso8601(ms: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    instant(ms).format(FORMAT).unwrap_or_default()
}

/// Parses ISO 8601 / RFC 3339 text (`2026-01-02T03:04:05.678Z`) into milliseconds since the Unix epoch.
///
/// ```
/// assert_eq!(nvm_local::ids::parse_iso8601("2023-11-14T22:13:20.123Z"), Some(1_700_000_000_123));
/// assert_eq!(nvm_local::ids::parse_iso8601("yesterday"), None);
/// ```
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The calendar year of a timestamp (for card expiry dates).
pub fn year_of(ms: i64) -> i64 {
    i64::from(instant(ms).year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_known_values() {
        assert_eq!(u256_decimal(&[0; 32]), "0");
        assert_eq!(
            u256_decimal(&[0xff; 32]),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
        let mut n = [0u8; 32];
        n[24..].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(u256_decimal(&n), u64::MAX.to_string());
    }

    #[test]
    fn ids_have_their_shapes() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(uuid_v4(), u);
        let pm = alphanumeric_id("pm_", 24);
        assert!(
            pm.starts_with("pm_")
                && pm.len() == 27
                && pm[3..].chars().all(|c| c.is_ascii_alphanumeric())
        );
        let tx = tx_hash();
        assert!(tx.starts_with("0x") && tx.len() == 66);
        assert_eq!(parse_hex(&hex(&[1, 2, 255])), Some(vec![1, 2, 255]));
        assert_eq!(parse_hex("0g"), None);
        assert_eq!(parse_hex("abc"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(year_of(1_700_000_000_000), 2023);
    }
}
