//! An agent's registration parts (`/api/v1/protocol/agents`).

use crate::plans::{CreditsConfig, PlanMetadata, PriceConfig};
use nvm_x402::api::plans::AccessLimit;
use nvm_x402::protocol::json::Map;
use nvm_x402::protocol::Uint256;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `metadataAttributes` of an agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct AgentMetadata {
    /// The agent's name.
    #[serde(default)]
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Anything else, sent as given.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// `agentApiAttributes`: the agent's endpoints (`[{"POST": "https://host/tasks/:id"}]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "AgentAPIAttributes")]
pub struct AgentApiAttributes {
    /// Protected endpoints, one `{VERB: url}` object each: an allowlist the
    /// backend enforces on verify. Leave it out for none (nothing is sent
    /// then, as in both official SDKs).
    #[serde(default)]
    #[ts(type = "Array<Partial<Record<HttpVerb, string>>>", optional = nullable)]
    pub endpoints: Vec<Map>,
    /// Endpoints anyone may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_endpoints: Option<Vec<String>>,
    /// Where the agent describes itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_definition_url: Option<String>,
    /// How the agent authenticates callers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    /// Anything else, sent as given.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The `registerAgent` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct RegisterAgentRequest {
    /// Name, description, ...
    pub metadata_attributes: AgentMetadata,
    /// Endpoints.
    pub agent_api_attributes: AgentApiAttributes,
    /// Plan ids.
    #[serde(default)]
    #[ts(as = "Vec<String>")]
    pub plans: Vec<Uint256>,
}

/// The `updateAgentMetadata` body (`PUT api/v1/protocol/agents/:agentId`):
/// the agent's new metadata and endpoints, replacing the old ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct UpdateAgentRequest {
    /// Name, description, ...
    pub metadata_attributes: AgentMetadata,
    /// Endpoints.
    pub agent_api_attributes: AgentApiAttributes,
}

/// What `registerAgent` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct RegisterAgentResult {
    /// The new agent.
    pub agent_id: String,
}

/// What `registerAgentAndPlan` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct RegisterAgentAndPlanResult {
    /// The new agent.
    pub agent_id: String,
    /// The new plan.
    pub plan_id: String,
    /// The registration transaction, when the backend tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<String>,
}

/// The `registerAgentAndPlan` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields)]
pub struct RegisterAgentAndPlanRequest {
    /// The plan part.
    pub plan: PlanPart,
    /// The agent part.
    pub agent: AgentPart,
}

/// `plan` of a `registerAgentAndPlan` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields)]
pub struct PlanPart {
    /// Name, description, ...
    pub metadata_attributes: PlanMetadata,
    /// The price.
    pub price_config: PriceConfig,
    /// The credits.
    pub credits_config: CreditsConfig,
    /// Credits or time (default: implied by the credits config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "AccessLimit")]
    pub access_limit: Option<AccessLimit>,
    /// Replay protection (default: random).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(as = "Option<String>")]
    pub nonce: Option<Uint256>,
    /// Trial plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_trial_plan: Option<bool>,
}

/// `agent` of a `registerAgentAndPlan` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields)]
pub struct AgentPart {
    /// Name, description, ...
    pub metadata_attributes: AgentMetadata,
    /// Endpoints.
    pub agent_api_attributes: AgentApiAttributes,
}
