//! The deployment the backend runs (`GET /`, `contracts.getDeploymentInfo`).

use nvm_x402::protocol::json::Map;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

/// The backend root's answer: `{deployment, ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiInfo {
    /// The deployment.
    pub deployment: DeploymentInfo,
    /// Anything else the backend says about itself.
    #[serde(flatten)]
    pub other: Map,
}

/// What `contracts.getDeploymentInfo()` answers: the contracts' addresses by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct DeploymentInfo {
    /// The deployment's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The chain it is deployed on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// Each contract's address, by name (`PayAsYouGoTemplate`, `PaymentsVault`, ...).
    #[ts(type = "Record<string, string>")]
    pub contracts: BTreeMap<String, String>,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}
