//! The crate's JSON value: a small ordered tree with a parser and a compact
//! writer of its own.
//!
//! Why not `serde_json::Value`: in the WebAssembly, serde_json's value
//! (its `Deserialize` visitor, float parsing and printing, and the
//! `indexmap`/`hashbrown` behind `preserve_order`) cost more than the rest of
//! the JSON handling together. This one keeps what the crate needs:
//!
//! - objects keep their key order (a decoded header re-encodes to the same
//!   bytes); a repeated key keeps its first position and its last value;
//! - numbers keep the text they were written with, so nothing is lost to a
//!   float: `12345678901234567890` and `1.10` are written back as they came;
//! - object equality ignores key order, as `serde_json`'s does.
//!
//! The API mirrors the parts of `serde_json::Value` the crate uses, and
//! `From` converts both ways (for `nvm-local` and for tests, which build
//! values with [`json!`](crate::json)).
//!
//! ```
//! use nvm_x402::protocol::json::{parse, to_text, Value};
//! let v = parse(r#" {"b": 1.10, "a": [true, null, "\u00e9"], "n": 123456789012345678901} "#).unwrap();
//! assert_eq!(v["a"][2], "é");
//! assert_eq!(v["n"].as_u64(), None); // beyond u64, but not lost:
//! assert_eq!(to_text(&v), r#"{"b":1.10,"a":[true,null,"é"],"n":123456789012345678901}"#);
//! assert!(parse("[1,]").is_err());
//! ```

use std::fmt;

/// A JSON value.
#[derive(Clone, Default, PartialEq)]
pub enum Value {
    /// `null`
    #[default]
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, in key order.
    Object(Map),
}

/// A JSON number, kept as its (valid) JSON text. Numbers are equal when
/// their values are (`2.5 == 25e-1`, `0 == -0.0`), exactly, with no float.
#[derive(Clone)]
pub struct Number(String);

/// A JSON object: keys in insertion order.
#[derive(Clone, Default)]
pub struct Map(Vec<(String, Value)>);

/// Why a text is not JSON: the byte offset where reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the text.
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}", self.offset)
    }
}

impl std::error::Error for ParseError {}

static NULL: Value = Value::Null;

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

// ---------------------------------------------------------------- Map

type Entries<'a> = std::iter::Map<
    std::slice::Iter<'a, (String, Value)>,
    fn(&'a (String, Value)) -> (&'a String, &'a Value),
>;
type EntriesMut<'a> = std::iter::Map<
    std::slice::IterMut<'a, (String, Value)>,
    fn(&'a mut (String, Value)) -> (&'a String, &'a mut Value),
>;

impl Map {
    /// An empty object.
    pub fn new() -> Self {
        Map(Vec::new())
    }

    /// An empty object with room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        Map(Vec::with_capacity(n))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.0.iter().position(|(k, _)| k == key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` (in place when present, else last); returns the old value.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.0.remove(i).1)
    }

    /// Keeps the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries, in order.
    pub fn iter(&self) -> Entries<'_> {
        self.into_iter()
    }

    /// The entries, in order, values mutable.
    pub fn iter_mut(&mut self) -> EntriesMut<'_> {
        self.into_iter()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values, in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }
}

impl PartialEq for Map {
    /// The same keys with equal values, in any order.
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = Entries<'a>;
    fn into_iter(self) -> Entries<'a> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = EntriesMut<'a>;
    fn into_iter(self) -> EntriesMut<'a> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(items: I) -> Self {
        let mut map = Map::new();
        map.extend(items);
        map
    }
}

// ---------------------------------------------------------------- Value

impl Value {
    /// The field `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// The field `key` of an object, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_object_mut()?.get_mut(key)
    }

    /// The string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// An integer number that fits in a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number()?.as_u64()
    }

    /// An integer number that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }

    /// A number as the nearest `f64` (see [`Number::as_f64`]).
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()?.as_f64()
    }

    /// The object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The object, to change it.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The array, to change it.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// Whether this is a boolean.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    /// Whether this is an integer that fits in a `u64`.
    pub fn is_u64(&self) -> bool {
        self.as_u64().is_some()
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// Takes the value out, leaving `null`.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }
}

impl std::ops::Index<&str> for Value {
    type Output = Value;
    /// The field, or `null` when absent or not an object.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<&String> for Value {
    type Output = Value;
    fn index(&self, key: &String) -> &Value {
        &self[key.as_str()]
    }
}

impl std::ops::IndexMut<&str> for Value {
    /// The field, inserted as `null` when absent; `null` becomes an empty object first.
    ///
    /// # Panics
    /// When the value is neither an object nor `null` (as `serde_json`'s does).
    fn index_mut(&mut self, key: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        let Value::Object(map) = self else {
            panic!("cannot set a field of a JSON value that is not an object")
        };
        let i = match map.position(key) {
            Some(i) => i,
            None => {
                map.0.push((key.to_owned(), Value::Null));
                map.0.len() - 1
            }
        };
        &mut map.0[i].1
    }
}

impl std::ops::Index<&str> for Map {
    type Output = Value;
    /// The field, or `null` when absent.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for Value {
    type Output = Value;
    /// The item, or `null` when absent or not an array.
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

impl fmt::Display for Value {
    /// The compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_text(self))
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_text(self))
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_object(&mut out, self);
        f.write_str(&out)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(a: Vec<T>) -> Self {
        Value::Array(a.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl FromIterator<Value> for Value {
    fn from_iter<I: IntoIterator<Item = Value>>(items: I) -> Self {
        Value::Array(items.into_iter().collect())
    }
}

impl FromIterator<(String, Value)> for Value {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(items: I) -> Self {
        Value::Object(items.into_iter().collect())
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<String> for Value {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

impl PartialEq<Value> for String {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<Value> for &str {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

// ---------------------------------------------------------------- serde_json

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => Value::Number(Number(n.to_string())),
            J::String(s) => Value::String(s),
            J::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            J::Object(m) => Value::Object(m.into()),
        }
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for Map {
    fn from(m: serde_json::Map<String, serde_json::Value>) -> Self {
        m.into_iter().map(|(k, v)| (k, v.into())).collect()
    }
}

impl From<Map> for serde_json::Map<String, serde_json::Value> {
    fn from(m: Map) -> Self {
        m.into_iter().map(|(k, v)| (k, v.into())).collect()
    }
}

impl From<Value> for serde_json::Value {
    /// Numbers go through `serde_json`'s own reading of their text (an
    /// integer beyond `u64` becomes a float there; one out of `f64`'s range, `null`).
    fn from(v: Value) -> Self {
        use serde_json::Value as J;
        match v {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(b),
            Value::Number(n) => n.0.parse().map_or(J::Null, J::Number),
            Value::String(s) => J::String(s),
            Value::Array(a) => J::Array(a.into_iter().map(J::from).collect()),
            Value::Object(m) => J::Object(m.into()),
        }
    }
}

// serde, for the typed wire structs `nvm-local` reads and writes (the
// WebAssembly never calls these).

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(v) => s.serialize_str(v),
            Value::Array(items) => s.collect_seq(items),
            Value::Object(map) => map.serialize(s),
        }
    }
}

impl serde::Serialize for Number {
    /// As a `u64` or `i64` when it is one, else as the nearest `f64`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.as_u64(), self.as_i64()) {
            (Some(u), _) => s.serialize_u64(u),
            (None, Some(i)) => s.serialize_i64(i),
            _ => s.serialize_f64(self.as_f64().unwrap_or_default()),
        }
    }
}

impl serde::Serialize for Map {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

struct Visitor;

impl<'de> serde::de::Visitor<'de> for Visitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(n.into())
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(n.into())
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        // Debug writes JSON-valid text for finite floats (`5.0`, `1e30`).
        Ok(match n.is_finite() {
            true => Value::Number(Number(format!("{n:?}"))),
            false => Value::Null,
        })
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(s.into())
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(s.into())
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((k, v)) = access.next_entry()? {
            map.insert(k, v);
        }
        Ok(Value::Object(map))
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Visitor)
    }
}

impl<'de> serde::Deserialize<'de> for Map {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        match d.deserialize_map(Visitor)? {
            Value::Object(map) => Ok(map),
            _ => Err(serde::de::Error::custom("expected a JSON object")),
        }
    }
}

impl PartialEq<serde_json::Value> for Value {
    // For tests and nvm-local, where a conversion is simpler than a second comparison.
    #[allow(clippy::cmp_owned)]
    fn eq(&self, other: &serde_json::Value) -> bool {
        *self == Value::from(other.clone())
    }
}

impl PartialEq<Value> for serde_json::Value {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

/// Builds a [`Value`] with `serde_json::json!`'s syntax (for tests and examples).
///
/// ```
/// let v = nvm_x402::json!({"a": [1, "x", null]});
/// assert_eq!(v["a"][1], "x");
/// ```
#[macro_export]
macro_rules! json {
    ($($t:tt)+) => {
        $crate::protocol::json::Value::from($crate::__serde_json::json!($($t)+))
    };
}

// ---------------------------------------------------------------- reading

/// How deep arrays and objects may nest (as in `serde_json`).
const MAX_DEPTH: u32 = 128;

/// Parses a JSON text (surrounding whitespace allowed, nothing else).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        text,
        at: 0,
        depth: 0,
    };
    let v = p.value();
    p.space();
    match v {
        Some(v) if p.at == text.len() => Ok(v),
        _ => Err(ParseError { offset: p.at }),
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.at += hit as usize;
        hit
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.space();
        match self.peek()? {
            b'{' => self.nested(b'}'),
            b'[' => self.nested(b']'),
            b'"' => self.string().map(Value::String),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            _ => self.number().map(Value::Number),
        }
    }

    fn word(&mut self, word: &str, v: Value) -> Option<Value> {
        let hit = self.text.get(self.at..)?.starts_with(word);
        self.at += if hit { word.len() } else { 0 };
        hit.then_some(v)
    }

    /// An object (`close` is `}`) or an array (`]`); at its opening bracket.
    fn nested(&mut self, close: u8) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        let mut map = Map::new();
        let mut items = Vec::new();
        self.space();
        if !self.eat(close) {
            loop {
                if close == b'}' {
                    self.space();
                    if self.peek() != Some(b'"') {
                        return None;
                    }
                    let key = self.string()?;
                    self.space();
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value()?;
                    map.insert(key, v);
                } else {
                    items.push(self.value()?);
                }
                self.space();
                if self.eat(close) {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        self.depth -= 1;
        Some(if close == b'}' {
            Value::Object(map)
        } else {
            Value::Array(items)
        })
    }

    /// A string; at its opening quote.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let mut out = String::new();
        let mut run = self.at; // start of the unescaped run being read
        loop {
            match self.peek()? {
                b'"' => {
                    out.push_str(self.text.get(run..self.at)?);
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    out.push_str(self.text.get(run..self.at)?);
                    out.push(self.escape()?);
                    run = self.at;
                }
                0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
    }

    /// One escape (`\n`, `\u00e9`, a surrogate pair `\ud83d\ude00` ...); at
    /// its backslash, leaves `at` past it.
    fn escape(&mut self) -> Option<char> {
        self.at += 2; // the backslash and the letter
        Some(match *self.text.as_bytes().get(self.at - 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if self.text.get(self.at..self.at + 2) != Some("\\u") {
                        return None;
                    }
                    self.at += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                char::from_u32(code)? // a lone low surrogate is None
            }
            _ => return None,
        })
    }

    /// Four hex digits at `at`.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Option<Number> {
        let start = self.at;
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(Number(self.text.get(start..self.at)?.to_owned()))
    }
}

// ---------------------------------------------------------------- writing

/// The compact JSON text of a value (what `serde_json::to_string` writes).
pub fn to_text(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.0),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

fn write_object(out: &mut String, map: &Map) {
    out.push('{');
    for (i, (k, v)) in map.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, k);
        out.push(':');
        write(out, v);
    }
    out.push('}');
}

/// A JSON string literal: `"` and `\` escaped, control characters as
/// `\n`-style or `\u00xx` escapes, everything else as is.
fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(run..i).unwrap_or_default());
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text serde_json reads, we read to the same tree and write to the same text.
    #[test]
    fn agrees_with_serde_json() {
        let texts = [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
            r#"  [ 1 , -2 , 3.25 , -0.5e-3 , 1E+2 , 0 ]  "#,
            r#""esc \" \\ \/ \b \f \n \r \t \u0001 \u00e9 \u20ac \ud83d\ude00 é""#,
            r#"{"z":1,"a":2,"z":3}"#,
            "[]",
            "{}",
            r#"[[[[{"x":[]}]]]]"#,
            "\"\u{7f}\"",
        ];
        for text in texts {
            let ours = parse(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, Value::from(theirs.clone()), "{text}");
            let written = to_text(&ours);
            let reread: serde_json::Value = serde_json::from_str(&written).unwrap();
            assert_eq!(reread, theirs, "{text} -> {written}");
            if !text.contains(['.', 'E']) {
                assert_eq!(written, serde_json::to_string(&theirs).unwrap(), "{text}");
            }
        }
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        let bad = [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "1.",
            ".1",
            "-",
            "+1",
            "1e",
            "1e+",
            "tru",
            "nul",
            "NaN",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\u{1}b\"",
            "[1] [2]",
            "{} x",
            "[\"\\",
            "\"\\u",
        ];
        for text in bad {
            assert!(parse(text).is_err(), "{text:?} should be rejected");
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "{text:?}"
            );
        }
        assert_eq!(parse("[1, x]").unwrap_err().offset, 4);
        let deep = "[".repeat(129) + &"]".repeat(129);
        assert!(parse(&deep).is_err());
        let ok = "[".repeat(128) + &"]".repeat(128);
        assert!(parse(&ok).is_ok());
    }

    /// Random texts over JSON's alphabet (mostly invalid, many valid): we accept
    /// exactly what serde_json accepts, read the same tree, and write text
    /// serde_json reads back to that tree.
    #[test]
    fn random_texts_agree_with_serde_json() {
        let alphabet: Vec<char> = "{}[]\",:0123456789.eE+- \ttrufalsn\\/u\u{e9}\u{1}"
            .chars()
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut valid, mut total) = (0, 0);
        for _ in 0..40_000 {
            let len = (next() % 12) as usize;
            let mut text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            // Half of the cases start from a valid document, then get one random edit.
            if next() % 2 == 0 {
                text = format!(
                    r#"{{"a":[1,-2.5e3,"x\u00e9",true,null,{{}}],"{}":{{"c":[]}}}}"#,
                    next() % 100
                );
                let at = (next() as usize) % text.len();
                let b = alphabet[(next() % alphabet.len() as u64) as usize];
                if text.is_char_boundary(at) {
                    text.insert(at, b);
                }
            }
            let ours = parse(&text);
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            total += 1;
            match (&ours, &theirs) {
                (Ok(v), Ok(t)) => {
                    valid += 1;
                    // Numbers compared as serde_json reads them (its float reading
                    // is not always exact; ours keeps the text).
                    assert_eq!(serde_json::Value::from(v.clone()), *t, "{text:?}");
                    let reread: serde_json::Value = serde_json::from_str(&to_text(v)).unwrap();
                    assert_eq!(&reread, t, "{text:?}");
                }
                (Err(_), Err(_)) => {}
                // serde_json refuses numbers beyond f64's range; we keep their text.
                (Ok(_), Err(e)) if e.to_string().contains("out of range") => {}
                _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
            }
        }
        assert!(valid > 1_000 && valid < total, "{valid} of {total} valid");
    }

    #[test]
    fn numbers_keep_their_text() {
        let v = parse(
            "[12345678901234567890123, 1.10, -0, 18446744073709551615, -9223372036854775808]",
        )
        .unwrap();
        assert_eq!(
            to_text(&v),
            "[12345678901234567890123,1.10,-0,18446744073709551615,-9223372036854775808]"
        );
        assert_eq!(v[0].as_u64(), None);
        assert_eq!(v[3].as_u64(), Some(u64::MAX));
        assert_eq!(v[4].as_i64(), Some(i64::MIN));
        assert_eq!(v[1].as_f64(), Some(1.1));
        assert!(!v[2].as_number().unwrap().is_negative());
        assert!(Number::from_text("-0.01").unwrap().is_negative());
        assert_eq!(
            Number::from_text("1e401").unwrap().non_negative_integer(),
            None
        );
        assert_eq!(
            Number::from_text("12e20")
                .unwrap()
                .non_negative_integer()
                .as_deref(),
            Some("1200000000000000000000")
        );
    }

    #[test]
    fn maps_keep_order_and_compare_as_sets() {
        let mut m = parse(r#"{"b":1,"a":2,"c":3}"#).unwrap();
        let o = m.as_object_mut().unwrap();
        assert_eq!(o.insert("a".into(), Value::from(9)), Some(Value::from(2)));
        assert_eq!(o.remove("b"), Some(Value::from(1)));
        o.insert("d".into(), Value::Null);
        assert_eq!(to_text(&m), r#"{"a":9,"c":3,"d":null}"#);
        assert_eq!(m, parse(r#"{"d":null,"c":3,"a":9}"#).unwrap());
        assert_ne!(m, parse(r#"{"c":3,"a":9}"#).unwrap());
        assert_eq!(m["nope"], Value::Null);
        assert_eq!(
            serde_json::Value::from(m.clone()),
            serde_json::json!({"a":9,"c":3,"d":null})
        );
    }
}
