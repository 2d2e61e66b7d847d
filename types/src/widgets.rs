//! The embed app's widget sessions: `POST api/v1/widgets/session/self`, the
//! self-mint session the official CLI makes before `<embed>/cards/setup`
//! (`markdown/cli-card-setup.md`).

use crate::null_kept;
use nvm_x402::protocol::json::Map;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The body of `POST api/v1/widgets/session/self` (`widgets.createSelfSession`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "CreateSelfSessionParams")]
pub struct SelfSessionRequest {
    /// The organization the session is for: one the caller is a member of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Where the embed app will return (the answer's `isReturnUrlAllowed` says
    /// whether the backend allows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// What it answers (the hosted docs' `WidgetSessionResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "WidgetSessionResponse")]
pub struct SelfSessionResponse {
    /// The bearer credential of the embed app's session: never log or keep it.
    pub session_token: String,
    /// The caller (`us-...`).
    pub user_id: String,
    /// The caller's account address.
    pub user_wallet: String,
    /// Which API key minted it (nvm-local: the key's id, never the key).
    pub api_key_hash: String,
    /// When the session stops working (ISO 8601).
    pub expires_at: String,
    /// Whether the embed app may return to `returnUrl` (`null` without one).
    #[serde(
        default,
        deserialize_with = "null_kept",
        skip_serializing_if = "Option::is_none"
    )]
    #[ts(type = "boolean | null")]
    pub is_return_url_allowed: Option<Option<bool>>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}
