//! PaymentRequired — what a 402 carries — and its entries. Nevermined entries
//! carry `planId`; standard x402 entries carry `amount/asset/payTo/...`; both
//! decode, and fields not modelled are kept as raw JSON so they round-trip.

use nvm_x402::protocol::json::{Map, Value};
use nvm_x402::protocol::payment_required::X402_VERSION;
use nvm_x402::{Error, Result};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `{x402Version: 2, error?, resource, accepts, extensions}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402PaymentRequired")]
pub struct PaymentRequired {
    /// Always 2.
    #[ts(type = "2")]
    pub x402_version: u32,
    /// Why payment is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The resource being paid for.
    pub resource: Resource,
    /// The ways to pay, in order of preference.
    pub accepts: Vec<PaymentRequirements>,
    /// Protocol extensions (`{}` when we build one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "JsonObject")]
    pub extensions: Option<Value>,
    /// Anything else, kept as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// `{url, description?, mimeType?}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402Resource")]
pub struct Resource {
    /// The URL (or path) of the resource.
    #[serde(default)]
    pub url: String,
    /// A human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The response's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Anything else, kept as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// One `accepts` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402Scheme")]
pub struct PaymentRequirements {
    /// `nvm:erc4337`, `nvm:card-delegation`, or a standard scheme such as `exact`.
    pub scheme: String,
    /// `eip155:84532`, `stripe`, ...
    pub network: String,
    /// The Nevermined plan (absent on standard entries).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "id_string"
    )]
    pub plan_id: Option<String>,
    /// `{version: "1", agentId?, httpVerb?}` on Nevermined entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Extra>,
    /// Standard entries: the price in the asset's smallest unit (x402: a
    /// decimal string; read and kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string")]
    pub amount: Option<Value>,
    /// Standard entries: the token contract (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string")]
    pub asset: Option<Value>,
    /// Standard entries: who is paid (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "string")]
    pub pay_to: Option<Value>,
    /// Standard entries: how long a payment stays valid (x402: a number; kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number")]
    pub max_timeout_seconds: Option<Value>,
    /// Anything else, kept as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// An entry's `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "X402SchemeExtra")]
pub struct Extra {
    /// `"1"` on Nevermined entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The agent being paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The HTTP method of the paid request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_verb: Option<String>,
    /// Anything else, kept as sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// Plan ids are uint256 decimal strings; accept an integer too.
fn id_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        Some(_) => return Err(serde::de::Error::custom("planId must be a string")),
    })
}

impl PaymentRequired {
    /// Reads a PaymentRequired from JSON, refusing another `x402Version`.
    pub fn from_value(value: Value) -> Result<Self> {
        let pr: PaymentRequired = serde_json::from_value(serde_json::Value::from(value))
            .map_err(|e| Error::validation(format!("not a PaymentRequired: {e}")))?;
        if pr.x402_version != X402_VERSION {
            return Err(Error::validation(format!(
                "unsupported x402Version {} (expected 2)",
                pr.x402_version
            )));
        }
        Ok(pr)
    }

    /// The plan ids of the Nevermined entries, in order.
    pub fn plan_ids(&self) -> impl Iterator<Item = &str> {
        self.accepts.iter().filter_map(|a| a.plan_id.as_deref())
    }
}
