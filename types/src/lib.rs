//! The wire shapes of the Nevermined API as typed serde structs: one
//! description per body, shared by nvm-local (which reads requests with them
//! and takes its field allow-lists from them), the tests (which hold the
//! core's JSON builders to them) and the package, whose TypeScript data types
//! are generated from them ([`typescript`]).
//!
//! The WebAssembly core does not depend on this crate, nor on serde: it builds
//! and reads the same bodies with its own JSON value (`nvm_x402::protocol::json`).
//! Cargo enforces that (the core's `serde` feature is off in the wasm build).

pub mod agents;
pub mod contracts;
pub mod delegation;
pub mod mpp;
pub mod orders;
pub mod organizations;
pub mod payment_required;
pub mod plans;
mod typescript;
pub mod widgets;
pub mod x402;

pub use payment_required::{Extra, PaymentRequired, PaymentRequirements, Resource};
pub use typescript::typescript;

use serde::{Deserialize, Deserializer, Serialize};

/// The top-level field names of a body, from its description (its serde
/// derive, renamed as on the wire), in declaration order: nvm-local's
/// allow-list for that endpoint. A struct with a `flatten`ed field takes any
/// field and has no list (empty).
///
/// ```
/// use nvm_x402_types::{fields, x402::VerifyRequest};
/// assert_eq!(fields::<VerifyRequest>(), ["paymentRequired", "x402AccessToken", "maxAmount"]);
/// ```
pub fn fields<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    serde_aux::serde_introspection::serde_introspect::<T>()
}

/// Reads `null` as the type's default (the backend sends `null` for absent values).
pub fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads a field that may be `null` as `Some(None)` (with `default`, an
/// absent one stays `None`), so that `null` is written back as sent: for the
/// answers' fields typed `T | null`.
pub fn null_kept<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A number or a string, kept as sent: the answers' fields that the Nevermined
/// backend and nvm-local write differently (cents as decimal strings or
/// numbers, times as epoch milliseconds or ISO 8601 text). `number | string`
/// in TypeScript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumberOrString {
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string.
    String(String),
}

/// Optional counts (cents, seconds, transactions): read from a JSON number or
/// a string of digits (a JS bigint arrives as one), written as a JSON number.
pub mod count {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Deserializes an optional count.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<nvm_x402::protocol::Uint256>::deserialize(d)? {
            None => Ok(None),
            Some(n) => n
                .as_str()
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom("number is too large")),
        }
    }

    /// Writes the count as a number.
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_u64(*n),
            None => s.serialize_none(),
        }
    }
}
