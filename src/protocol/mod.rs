//! Pure x402 / Nevermined protocol logic: wire types, codecs, tokens,
//! PaymentRequired, environments. No I/O, no clock, no wasm-bindgen.

pub mod api_key;
pub mod base64;
pub mod environment;
pub mod gate;
pub mod header;
pub mod json;
pub mod mcp;
pub mod mpp;
pub mod payment_required;
pub mod redact;
pub mod routes;
#[cfg(feature = "browser")]
pub mod signin;
pub mod token;
pub mod uint;
pub mod url;

#[cfg(test)]
mod fuzz_tests;

pub use api_key::ApiKey;
pub use environment::{ClientConfig, Environment, PaymentsOptions};
pub use header::{decode_payment_header, encode_payment_header};
pub use payment_required::{
    build_payment_required, build_payment_required_for_plans, BuildOptions,
};
pub use token::{
    decode_access_token, encode_access_token, token_version, try_decode_access_token, TokenClaims,
    TokenError,
};
pub use uint::Uint256;

/// What the backend says when an agent's URL is not one of its registered
/// endpoints (the hosted backend and nvm-local alike): a misconfigured agent,
/// which no payment fixes.
pub const NOT_AN_ENDPOINT: &str = "is not an endpoint of agent";

/// Whether `text` says [`NOT_AN_ENDPOINT`].
pub fn says_not_an_endpoint(text: &str) -> bool {
    redact::find(text, NOT_AN_ENDPOINT).is_some()
}

/// What to do about [`NOT_AN_ENDPOINT`].
pub const NOT_AN_ENDPOINT_HINT: &str = "The agent has not registered this URL as one of its endpoints: the agent must register it (the endpoints of agents.registerAgent, e.g. {\"POST\": \"https://host/tasks\"}), or be called at the URL it registered. Paying more won't help.";

use crate::protocol::json::Value;

/// The crypto scheme (ERC-4337 smart accounts with session keys).
pub const SCHEME_ERC4337: &str = "nvm:erc4337";
/// The fiat scheme (a delegated, enrolled card).
pub const SCHEME_CARD_DELEGATION: &str = "nvm:card-delegation";

/// The scheme and network a plan is paid with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedScheme {
    /// `nvm:erc4337` or `nvm:card-delegation`.
    pub scheme: String,
    /// The network (`eip155:...` or the card provider).
    pub network: String,
}

impl ResolvedScheme {
    /// `{scheme, network}`.
    pub fn to_json(&self) -> Value {
        json::ObjectBuilder::new()
            .put("scheme", self.scheme.as_str())
            .put("network", self.network.as_str())
            .build()
    }
}

/// Decides a plan's scheme from its `GET api/v1/protocol/plans/:id` answer:
/// `registry.price.isCrypto === false` means `nvm:card-delegation` on
/// `metadata.plan.fiatPaymentProvider` (default `stripe`); anything else is
/// `nvm:erc4337` on the environment's network.
///
/// ```
/// use nvm_x402::protocol::{json::parse, scheme_of_plan, Environment};
/// let fiat = parse(r#"{"registry": {"price": {"isCrypto": false}}, "metadata": {"plan": {"fiatPaymentProvider": "braintree"}}}"#).unwrap();
/// assert_eq!(scheme_of_plan(&fiat, Environment::Live).network, "braintree");
/// assert_eq!(scheme_of_plan(&parse("{}").unwrap(), Environment::Live).scheme, "nvm:erc4337");
/// ```
pub fn scheme_of_plan(plan: &Value, environment: Environment) -> ResolvedScheme {
    let is_fiat =
        json::at(plan, &["registry", "price", "isCrypto"]).and_then(Value::as_bool) == Some(false);
    if is_fiat {
        let network = json::at(plan, &["metadata", "plan", "fiatPaymentProvider"])
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("stripe");
        ResolvedScheme {
            scheme: SCHEME_CARD_DELEGATION.to_owned(),
            network: network.to_owned(),
        }
    } else {
        ResolvedScheme {
            scheme: SCHEME_ERC4337.to_owned(),
            network: environment.default_network(SCHEME_ERC4337).to_owned(),
        }
    }
}
