//! JSON: the crate's own [`Value`] (see its module notes: ordered objects,
//! numbers kept as written, a small reader and writer), and helpers that read
//! and write objects field by field. The client works on values instead of
//! derived types: unknown fields and key order survive untouched, and the
//! WebAssembly stays small (each derived `Deserialize` costs kilobytes; these
//! helpers are shared by every call).

mod map;
mod number;
mod read;
#[cfg(any(test, feature = "serde"))]
mod serde;
mod value;
mod write;

pub use map::Map;
pub use number::Number;
pub use read::{parse, ParseError};
use std::fmt;
pub use value::Value;
pub use write::to_text;
pub use write::write_string as write_str;

/// Why a field helper refused a value: a message naming the field (`what.key
/// must be a string`). The crate's [`Error`](crate::Error) takes it as a
/// `validation` error; this module depends on nothing else in the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError(pub String);

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FieldError {}

/// The field helpers' result.
pub type Result<T, E = FieldError> = std::result::Result<T, E>;

/// A JSON object.
pub type Object = Map;

/// `v` as an object, or a `validation` error naming `what`.
pub fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Object> {
    v.as_object()
        .ok_or_else(|| FieldError(format!("{what} must be an object")))
}

/// `v` as an object; `null` is absent.
pub fn opt_object<'a>(v: Option<&'a Value>, what: &str) -> Result<Option<&'a Object>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => object(v, what).map(Some),
    }
}

/// The field, unless absent or `null`.
pub fn present<'a>(obj: &'a Object, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// `what.key must be expected`.
pub fn wrong(what: &str, key: &str, expected: &str) -> FieldError {
    FieldError(format!("{what}.{key} must be {expected}"))
}

/// An optional string field (`null` is absent).
pub fn opt_str<'a>(obj: &'a Object, key: &str, what: &str) -> Result<Option<&'a str>> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong(what, key, "a string")),
    }
}

/// An optional id: a string, or an integer written as digits; blank is absent.
pub fn opt_id(obj: &Object, key: &str, what: &str) -> Result<Option<String>> {
    match present(obj, key) {
        None => Ok(None),
        Some(v) => id_value(v)
            .map(|s| Some(s).filter(|s| !s.is_empty()))
            .ok_or_else(|| wrong(what, key, "a string")),
    }
}

/// An optional list of ids (non-empty strings, or integers as digits); `null` is empty.
pub fn opt_ids(obj: &Object, key: &str, what: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    match present(obj, key) {
        None => {}
        Some(Value::Array(items)) => {
            for item in items {
                match id_value(item) {
                    Some(id) if !id.is_empty() => out.push(id),
                    _ => return Err(wrong(what, key, "a list of non-empty strings")),
                }
            }
        }
        Some(_) => return Err(wrong(what, key, "a list of non-empty strings")),
    }
    Ok(out)
}

/// A string, or an unsigned integer as digits, trimmed.
pub fn id_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => n.as_u64().map(|u| u.to_string()),
        _ => None,
    }
}

/// The value at a path of object keys (`at(v, &["a", "b"])` is JSON
/// pointer `/a/b`, without pointer's `~1` escapes).
///
/// ```
/// use nvm_x402::protocol::json::{at, parse, Value};
/// let v = parse(r#"{"a": {"b/c": 1}, "x": [2]}"#).unwrap();
/// assert_eq!(at(&v, &["a", "b/c"]), Some(&Value::from(1)));
/// assert_eq!(at(&v, &["a", "nope"]), None);
/// assert_eq!(at(&v, &["x", "0"]), None); // object keys only
/// ```
pub fn at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, key| v.as_object()?.get(key))
}

/// The items of an array value; nothing for anything else.
pub fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

/// An optional boolean field.
pub fn opt_bool(obj: &Object, key: &str, what: &str) -> Result<Option<bool>> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong(what, key, "a boolean")),
    }
}

/// Builds an object in insertion order, skipping absent values.
///
/// ```
/// use nvm_x402::protocol::json::ObjectBuilder;
/// let v = ObjectBuilder::new().put("a", 1).put_opt("b", None::<u8>).put("c", "x").build();
/// assert_eq!(v.to_string(), r#"{"a":1,"c":"x"}"#);
/// ```
#[derive(Debug, Default)]
pub struct ObjectBuilder(Box<Object>);

impl ObjectBuilder {
    /// An empty object.
    pub fn new() -> Self {
        ObjectBuilder(Box::default())
    }

    /// Adds a field.
    #[inline]
    pub fn put(self, key: &str, value: impl Into<Value>) -> Self {
        self.insert(key, value.into())
    }

    /// Adds a field when present.
    #[inline]
    pub fn put_opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.insert(key, v.into()),
            None => self,
        }
    }

    // One out-of-line body for every call site (keeps the WebAssembly small).
    #[inline(never)]
    fn insert(mut self, key: &str, value: Value) -> Self {
        self.0.insert(key.to_owned(), value);
        self
    }

    /// Adds every field of `rest` that isn't set yet (keeps unknown fields).
    pub fn rest(mut self, rest: &Object) -> Self {
        for (k, v) in rest {
            if !self.0.contains_key(k) {
                self.0.insert(k.clone(), v.clone());
            }
        }
        self
    }

    /// The object as a value.
    pub fn build(self) -> Value {
        Value::Object(*self.0)
    }

    /// The object.
    pub fn into_map(self) -> Object {
        *self.0
    }
}

/// Turns every integer a JavaScript number (an `f64`) can't hold exactly —
/// beyond ±(2^53 - 1) — into a string of the same digits, so a value read
/// from the backend (a uint256 plan id, a huge balance sent as a JSON number)
/// reaches JavaScript's `JSON.parse` with all its digits. Fractions and
/// exponents are left alone.
///
/// ```
/// use nvm_x402::protocol::json::{parse, quote_unsafe_integers, to_text};
/// let mut v = parse(r#"{"a":18446744073709551616,"b":"1","c":[9007199254740991,-9007199254740992,1.5e300]}"#).unwrap();
/// quote_unsafe_integers(&mut v);
/// assert_eq!(to_text(&v), r#"{"a":"18446744073709551616","b":"1","c":[9007199254740991,"-9007199254740992",1.5e300]}"#);
/// ```
pub fn quote_unsafe_integers(v: &mut Value) {
    const MAX_SAFE: &str = "9007199254740991";
    match v {
        Value::Number(n) => {
            let digits = n.as_str().trim_start_matches('-');
            let unsafe_int = digits.bytes().all(|b| b.is_ascii_digit())
                && (digits.len() > MAX_SAFE.len()
                    || (digits.len() == MAX_SAFE.len() && digits > MAX_SAFE));
            if unsafe_int {
                *v = Value::String(n.as_str().to_owned());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(quote_unsafe_integers),
        Value::Object(map) => map.iter_mut().for_each(|(_, v)| quote_unsafe_integers(v)),
        _ => {}
    }
}

#[cfg(test)]
mod value_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn typed_reads_name_the_field() {
        let v = json!({"s": "x", "n": 5, "b": true, "u": "12", "big": 1e300, "nul": null});
        let o = object(&v, "opts").unwrap();
        assert_eq!(opt_str(o, "s", "opts").unwrap(), Some("x"));
        assert_eq!(opt_str(o, "nul", "opts").unwrap(), None);
        assert_eq!(
            opt_str(o, "n", "opts").unwrap_err().to_string(),
            "opts.n must be a string"
        );
        assert_eq!(opt_id(o, "n", "opts").unwrap().as_deref(), Some("5"));
        assert_eq!(opt_bool(o, "b", "opts").unwrap(), Some(true));
        use crate::protocol::uint::{opt_count, opt_uint};
        assert_eq!(opt_uint(o, "u", "opts").unwrap().unwrap().as_str(), "12");
        assert!(opt_uint(o, "big", "opts")
            .unwrap_err()
            .to_string()
            .starts_with("opts.big: "));
        assert_eq!(opt_count(o, "n", "opts").unwrap(), Some(5));
        assert!(object(&json!([]), "opts")
            .unwrap_err()
            .to_string()
            .contains("opts must be an object"));
        assert_eq!(opt_object(Some(&Value::Null), "x").unwrap(), None);
    }

    #[test]
    fn unsafe_integers_become_strings() {
        let u256 = "84537562196237864853096924547108151127536962412307123401931048542183040958813";
        let text = format!(
            r#"{{"id":{u256}, "s":"{u256} \" 18446744073709551616","n":[9007199254740992,9007199254740991,-1,0,1e30,2.5],"f":12345678901234567.5,"t":true}}"#
        );
        let mut v = parse(&text).unwrap();
        quote_unsafe_integers(&mut v);
        assert_eq!(v["id"], u256);
        assert_eq!(
            v["s"],
            format!("{u256} \" 18446744073709551616"),
            "strings are untouched"
        );
        assert_eq!(
            v["n"],
            json!(["9007199254740992", 9007199254740991u64, -1, 0, 1e30, 2.5])
        );
        assert_eq!(v["t"], true);
        assert_eq!(
            to_text(&v["f"]),
            "12345678901234567.5",
            "a fraction keeps its digits"
        );
        for unchanged in [
            "{}",
            "[1,2]",
            "\"9999999999999999999\"",
            "-9007199254740991",
        ] {
            let mut v = parse(unchanged).unwrap();
            quote_unsafe_integers(&mut v);
            assert_eq!(to_text(&v), unchanged);
        }
        let mut v = parse("-99999999999999999").unwrap();
        quote_unsafe_integers(&mut v);
        assert_eq!(v, "-99999999999999999");
    }

    #[test]
    fn builder_keeps_order_and_unknown_fields() {
        let rest = json!({"z": 1, "a": 2});
        let v = ObjectBuilder::new()
            .put("a", 0)
            .rest(rest.as_object().unwrap())
            .build();
        assert_eq!(v.to_string(), r#"{"a":0,"z":1}"#);
    }
}
