//! `Uint256`: the backend's big integers (planId, amounts, credits, maxAmount,
//! nonce) as canonical decimal strings. Parsed tolerantly (a string, or a JSON
//! integer that is exact), always written as a string.

use super::json::{self, Value};
use crate::error::{Error, Result};
use std::fmt;

const MAX: &str = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
/// The largest integer a JavaScript number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A uint256 as a canonical decimal string (no sign, no leading zeros).
///
/// ```
/// use nvm_x402::protocol::Uint256;
/// assert_eq!(Uint256::parse("007").unwrap().as_str(), "7");
/// assert!(Uint256::parse("-1").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Uint256(String);

impl Uint256 {
    /// Parses a decimal string of at most 2^256 - 1.
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(format!(
                "expected a non-negative integer as a decimal string, got \"{}\"",
                truncate(s)
            )));
        }
        let digits = s.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        if digits.len() > MAX.len() || (digits.len() == MAX.len() && digits > MAX) {
            return Err(Error::validation("integer does not fit in uint256"));
        }
        Ok(Uint256(digits.to_owned()))
    }

    /// Reads a JSON value: a decimal string, or an integer a JavaScript number holds exactly.
    ///
    /// ```
    /// use nvm_x402::protocol::{json::parse, Uint256};
    /// assert_eq!(Uint256::from_json(&parse("12").unwrap()).unwrap().as_str(), "12");
    /// assert!(Uint256::from_json(&parse("1.5").unwrap()).is_err());
    /// ```
    pub fn from_json(v: &crate::protocol::json::Value) -> Result<Self> {
        use crate::protocol::json::Value;
        match v {
            Value::String(s) => Uint256::parse(s),
            // Read from the number's text (`10.0` and `1e3` are integers), no float involved.
            Value::Number(n) => match n.non_negative_integer().map(|d| d.parse()) {
                Some(Ok(u)) => Self::from_exact_u64(u),
                Some(Err(_)) => Err(Error::validation(PRECISION)),
                None => Err(Error::validation(NEGATIVE)),
            },
            _ => Err(Error::validation(
                "expected a non-negative integer (decimal string, bigint or safe integer)",
            )),
        }
    }

    fn from_exact_u64(v: u64) -> Result<Self> {
        if v > MAX_SAFE_INTEGER {
            return Err(Error::validation(PRECISION));
        }
        Ok(Uint256::from(v))
    }

    #[cfg(any(test, feature = "serde"))]
    fn from_f64(v: f64) -> Result<Self> {
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_SAFE_INTEGER as f64 {
            Ok(Uint256::from(v as u64))
        } else if !v.is_finite() || v.fract() != 0.0 || v < 0.0 {
            Err(Error::validation(NEGATIVE))
        } else {
            Err(Error::validation(PRECISION))
        }
    }

    /// The decimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value, when it fits in a `u128`.
    pub fn to_u128(&self) -> Option<u128> {
        self.0.parse().ok()
    }

    /// A `u128` (a named constructor: a second `From` would make integer literals ambiguous).
    pub fn from_u128(n: u128) -> Self {
        Uint256(n.to_string())
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}

impl Ord for Uint256 {
    /// Numeric order: canonical strings compare by length, then digit by digit.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Uint256 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Default for Uint256 {
    fn default() -> Self {
        Uint256::from(0)
    }
}

impl From<u64> for Uint256 {
    fn from(n: u64) -> Self {
        Uint256(n.to_string())
    }
}

impl fmt::Display for Uint256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uint256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uint256({})", self.0)
    }
}

/// serde: read tolerantly (see [`Uint256::from_json`]'s rules), written as a string.
#[cfg(any(test, feature = "serde"))]
mod serde_impl {
    use super::*;
    use serde::de;

    impl serde::Serialize for Uint256 {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.serialize_str(&self.0)
        }
    }

    impl<'de> serde::Deserialize<'de> for Uint256 {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            d.deserialize_any(UintVisitor)
        }
    }

    struct UintVisitor;

    impl de::Visitor<'_> for UintVisitor {
        type Value = Uint256;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer (decimal string, bigint or safe integer)")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Uint256, E> {
            Uint256::parse(v).map_err(|e| E::custom(e.to_string()))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Uint256, E> {
            Uint256::from_exact_u64(v).map_err(|e| E::custom(e.to_string()))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Uint256, E> {
            u64::try_from(v)
                .map_err(|_| E::custom(NEGATIVE))
                .and_then(|v| self.visit_u64(v))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Uint256, E> {
            Uint256::from_f64(v).map_err(|e| E::custom(e.to_string()))
        }
    }
}

const NEGATIVE: &str = "expected a non-negative integer";
const PRECISION: &str = "integer is too large for a JavaScript number and may have lost precision; pass it as a string or a bigint";

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        // get(): i is a char boundary, and the .wasm needs no slicing panic.
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// An optional uint256 field (string, bigint-as-string, or safe integer).
pub fn opt_uint(obj: &json::Object, key: &str, what: &str) -> Result<Option<Uint256>> {
    match json::present(obj, key) {
        None => Ok(None),
        Some(v) => Uint256::from_json(v)
            .map(Some)
            .map_err(|e| Error::validation(format!("{what}.{key}: {e}"))),
    }
}

/// An optional count that fits in a `u64`, written back as a JSON number.
pub fn opt_count(obj: &json::Object, key: &str, what: &str) -> Result<Option<u64>> {
    match opt_uint(obj, key, what)? {
        None => Ok(None),
        Some(n) => n
            .as_str()
            .parse()
            .map(Some)
            .map_err(|_| Error::from(json::wrong(what, key, "a smaller number"))),
    }
}

impl From<Uint256> for Value {
    /// A uint256 travels as a decimal string.
    fn from(n: Uint256) -> Self {
        Value::String(n.as_str().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strings_and_exact_numbers() {
        let max: Uint256 = serde_json::from_str(&format!("\"{MAX}\"")).unwrap();
        assert_eq!(max.as_str(), MAX);
        assert_eq!(serde_json::from_str::<Uint256>("0").unwrap().as_str(), "0");
        assert_eq!(
            serde_json::from_str::<Uint256>("9007199254740991")
                .unwrap()
                .as_str(),
            "9007199254740991"
        );
        assert_eq!(
            serde_json::from_str::<Uint256>("10.0").unwrap().as_str(),
            "10"
        );
        assert_eq!(
            serde_json::from_str::<Uint256>("\"000\"").unwrap().as_str(),
            "0"
        );
    }

    #[test]
    fn rejects_imprecise_negative_and_malformed_values() {
        for bad in [
            "9007199254740993",
            "1e21",
            "-1",
            "1.5",
            "\"\"",
            "\" 1\"",
            "\"1e3\"",
            "\"0x10\"",
            "true",
            "null",
            "{}",
        ] {
            assert!(
                serde_json::from_str::<Uint256>(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        let over = format!("\"{}\"", "9".repeat(78));
        assert!(serde_json::from_str::<Uint256>(&over).is_err());
        let err = serde_json::from_str::<Uint256>("9007199254740993")
            .unwrap_err()
            .to_string();
        assert!(err.contains("string or a bigint"), "{err}");
    }

    #[test]
    fn orders_numerically() {
        let n = |s| Uint256::parse(s).unwrap();
        assert!(n("9") < n("10"));
        assert!(n("0010") > n("9"));
        assert!(n("123") > n("122"));
        assert_eq!(n("007").cmp(&n("7")), std::cmp::Ordering::Equal);
        assert_eq!(Uint256::parse("12").unwrap().to_u128(), Some(12));
        assert!(Uint256::parse("0").unwrap().is_zero());
    }
}
