//! [`Number`]: a JSON number kept as its text; exact equality and integer
//! readings with no float.

use super::read::Parser;
use super::Value;
use std::fmt;

/// A JSON number, kept as its (valid) JSON text. Numbers are equal when
/// their values are (`2.5 == 25e-1`, `0 == -0.0`), exactly, with no float.
#[derive(Clone)]
pub struct Number(pub(super) String);

// ---------------------------------------------------------------- Number

impl Number {
    /// The number of a JSON number text (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
    ///
    /// ```
    /// use nvm_x402::protocol::json::Number;
    /// assert_eq!(Number::from_text("-0.5e+3").unwrap().as_str(), "-0.5e+3");
    /// for bad in ["", "01", "1.", ".5", "+1", "1e", "NaN", "1 "] { assert!(Number::from_text(bad).is_none(), "{bad}"); }
    /// ```
    pub fn from_text(text: &str) -> Option<Number> {
        let mut p = Parser {
            text,
            at: 0,
            depth: 0,
        };
        match p.number() {
            Some(n) if p.at == text.len() => Some(n),
            _ => None,
        }
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value, when it is written as an integer that fits in a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        if self.0.bytes().all(|b| b.is_ascii_digit()) {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The value, when it is written as an integer that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        let digits = self.0.strip_prefix('-').unwrap_or(&self.0);
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The nearest `f64` (for tests and servers: the WebAssembly never needs
    /// a float, and `str::parse::<f64>` is kilobytes of tables).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }

    /// Whether [`as_u64`](Self::as_u64) is `Some`.
    pub fn is_u64(&self) -> bool {
        self.as_u64().is_some()
    }

    /// Whether [`as_i64`](Self::as_i64) is `Some`.
    pub fn is_i64(&self) -> bool {
        self.as_i64().is_some()
    }

    /// Whether the value is below zero (`-0` is not).
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-') && !self.is_zero()
    }

    /// Whether the value is zero (`0`, `-0.0`, `0e5` ...).
    pub fn is_zero(&self) -> bool {
        self.mantissa().all(|b| b == b'0')
    }

    fn mantissa(&self) -> impl Iterator<Item = u8> + '_ {
        self.0
            .bytes()
            .take_while(|b| !matches!(b, b'e' | b'E'))
            .filter(u8::is_ascii_digit)
    }

    /// The exact integer this number is, as canonical decimal digits, when
    /// it has no fractional part (`10.0`, `1e3` and `1.5e1` are integers)
    /// and is not negative (`-0` is `0`). `None` for fractions, negative
    /// numbers, and exponents too large to write out (beyond 10^400).
    ///
    /// ```
    /// use nvm_x402::protocol::json::Number;
    /// let int = |t: &str| Number::from_text(t).unwrap().non_negative_integer();
    /// assert_eq!(int("1.50e1").as_deref(), Some("15"));
    /// assert_eq!(int("0.0").as_deref(), Some("0"));
    /// assert_eq!(int("1200e-2").as_deref(), Some("12"));
    /// assert_eq!(int("1.5"), None);
    /// assert_eq!(int("-3"), None);
    /// ```
    pub fn non_negative_integer(&self) -> Option<String> {
        let (negative, point, mut digits) = self.canonical();
        if digits.is_empty() {
            return Some("0".to_owned());
        }
        // An integer has no digit after the point, and is written out only up to 10^400.
        if negative || point < digits.len() as i64 || point > 400 {
            return None;
        }
        digits.extend(std::iter::repeat_n('0', point as usize - digits.len()));
        Some(digits)
    }

    /// `(negative, point, digits)`: the value is `±0.digits × 10^point`,
    /// digits without leading or trailing zeros; zero is `(false, 0, "")`.
    fn canonical(&self) -> (bool, i64, String) {
        let text = self.0.as_str();
        let (mantissa, exp) = match text.find(['e', 'E']) {
            Some(e) => {
                let exp = text.get(e + 1..).unwrap_or_default();
                // An exponent beyond i64 saturates (far beyond any use, no overflow below).
                let huge = if exp.starts_with('-') {
                    -(1 << 60)
                } else {
                    1 << 60
                };
                (
                    text.get(..e).unwrap_or_default(),
                    exp.parse::<i64>()
                        .unwrap_or(huge)
                        .clamp(-(1 << 60), 1 << 60),
                )
            }
            None => (text, 0),
        };
        let negative = mantissa.starts_with('-');
        let unsigned = mantissa.trim_start_matches('-');
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits: String = int.chars().chain(frac.chars()).collect();
        let lead = digits.len() - digits.trim_start_matches('0').len();
        let kept = digits.trim_matches('0');
        if kept.is_empty() {
            return (false, 0, String::new());
        }
        // The place of the decimal point relative to the first significant digit.
        let point = int.len() as i64 - lead as i64 + exp;
        (negative, point, kept.to_owned())
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.0 == other.0 || self.canonical() == other.canonical()
    }
}

impl Eq for Number {}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Self {
                Number(n.to_string())
            }
        }
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                Value::Number(n.into())
            }
        }
        impl PartialEq<$t> for Value {
            fn eq(&self, other: &$t) -> bool {
                matches!(self, Value::Number(n) if n.0 == other.to_string())
            }
        }
    )*};
}
number_from!(u8, u16, u32, u64, usize, i32, i64);
