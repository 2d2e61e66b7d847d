//! serde glue: `Serialize`/`Deserialize` and `From` both ways with
//! `serde_json::Value`, for nvm-local's typed wire structs and the tests (the
//! .wasm never calls them).

use super::{Map, Number, Value};
use std::fmt;

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
