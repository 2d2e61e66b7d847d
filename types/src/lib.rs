//! The wire shapes of the Nevermined API as typed serde structs: one
//! description per body, shared by nvm-local (which reads requests with them
//! and takes its field allow-lists from them) and the tests (which hold the
//! core's JSON builders and the package's index.d.ts to them).
//!
//! The WebAssembly core does not depend on this crate, nor on serde: it builds
//! and reads the same bodies with its own JSON value (`nvm_x402::protocol::json`).
//! Cargo enforces that (the core's `serde` feature is off in the wasm build).

pub mod agents;
pub mod delegation;
pub mod payment_required;
pub mod plans;
pub mod x402;

pub use payment_required::{Extra, PaymentRequired, PaymentRequirements, Resource};

use serde::{Deserialize, Deserializer};

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

/// Every body above as TypeScript declarations (ts-rs, from the same derives):
/// `cargo run -p nvm-x402-types --example ts-declarations` prints them, and
/// `tests/js/node/ts-types.test.mjs` compiles them against the package's
/// `index.d.ts`. Big integers are decimal strings, counts numbers; fields
/// kept as sent (`flatten`) are left out.
pub fn typescript() -> String {
    use ts_rs::{Config, TS};
    fn decl<T: TS>(cfg: &Config) -> String {
        format!("export {}\n", T::decl(cfg))
    }
    let cfg = Config::new().with_large_int("number");
    [
        decl::<PaymentRequired>,
        decl::<Resource>,
        decl::<PaymentRequirements>,
        decl::<Extra>,
        decl::<x402::TokenOptions>,
        decl::<x402::DelegationConfig>,
        decl::<x402::MintRequest>,
        decl::<x402::MintAccepted>,
        decl::<x402::MintExtra>,
        decl::<x402::MintResponse>,
        decl::<x402::VerifyRequest>,
        decl::<x402::SettleRequest>,
        decl::<x402::VerifyResponse>,
        decl::<x402::AgentRequest>,
        decl::<x402::PlanBalance>,
        decl::<x402::SettleResponse>,
        decl::<plans::PlanMetadata>,
        decl::<plans::PriceConfig>,
        decl::<plans::CreditsConfig>,
        decl::<plans::RegisterPlanRequest>,
        decl::<plans::FiatPaymentRequest>,
        decl::<plans::PlansQuery>,
        decl::<agents::AgentMetadata>,
        decl::<agents::AgentApiAttributes>,
        decl::<agents::RegisterAgentRequest>,
        decl::<agents::RegisterAgentAndPlanRequest>,
        decl::<agents::PlanPart>,
        decl::<agents::AgentPart>,
        decl::<delegation::CreateDelegation>,
        decl::<delegation::CreatedDelegation>,
        decl::<delegation::DelegationsQuery>,
        decl::<delegation::PaymentMethodsQuery>,
    ]
    .iter()
    .map(|d| d(&cfg))
    .collect()
}
