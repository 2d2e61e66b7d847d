//! Agents: registration (alone, or with a plan in one call) and lookup.

use super::plans::{AccessLimit, CreditsConfig, PlanMetadata, PriceConfig};
use super::{parse_any, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::url::encode_segment;
use crate::protocol::ClientConfig;
use crate::transport::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The HTTP methods an agent endpoint may name.
pub const HTTP_VERBS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// `metadataAttributes` of an agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `agentApiAttributes`: the agent's endpoints (`[{"POST": "https://host/tasks/:id"}]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentApiAttributes {
    /// Protected endpoints, one `{VERB: url}` object each.
    #[serde(default)]
    pub endpoints: Vec<Map<String, Value>>,
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
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl AgentApiAttributes {
    /// Checks every endpoint is one `{VERB: "url"}` pair with a known verb.
    pub fn check(&self) -> Result<()> {
        for endpoint in &self.endpoints {
            let mut pairs = endpoint.iter();
            let (Some((verb, url)), None) = (pairs.next(), pairs.next()) else {
                return Err(Error::validation("each endpoint must be one {\"VERB\": \"url\"} pair"));
            };
            if !HTTP_VERBS.contains(&verb.to_ascii_uppercase().as_str()) {
                return Err(Error::validation(format!("endpoint method {verb:?} is not an HTTP method")));
            }
            if url.as_str().map_or(true, |u| u.trim().is_empty()) {
                return Err(Error::validation(format!("endpoint {verb} needs a URL")));
            }
        }
        Ok(())
    }
}

/// `{agentId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentIdAnswer {
    /// The new agent.
    pub agent_id: String,
}

/// `{agentId, planId, txHash}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentAndPlanAnswer {
    /// The new agent.
    pub agent_id: String,
    /// The new plan.
    pub plan_id: String,
    /// The registration transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<String>,
}

fn id_at(v: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|p| match v.pointer(p) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn missing(status: u16, what: &str) -> Error {
    Error::InvalidResponse { status, message: format!("The backend's answer has no {what}") }
}

fn parse_agent_id(response: HttpResponse) -> Result<AgentIdAnswer> {
    let status = response.status;
    let v = parse_any(response)?;
    let agent_id = id_at(&v, &["/data/agentId", "/agentId"]).ok_or_else(|| missing(status, "agentId"))?;
    Ok(AgentIdAnswer { agent_id })
}

fn parse_agent_and_plan(response: HttpResponse) -> Result<AgentAndPlanAnswer> {
    let status = response.status;
    let v = parse_any(response)?;
    Ok(AgentAndPlanAnswer {
        agent_id: id_at(&v, &["/data/agentId", "/agentId"]).ok_or_else(|| missing(status, "agentId"))?,
        plan_id: id_at(&v, &["/data/planId", "/planId"]).ok_or_else(|| missing(status, "planId"))?,
        tx_hash: id_at(&v, &["/txHash", "/data/txHash"]),
    })
}

/// `POST api/v1/protocol/agents`.
pub fn register_agent(cfg: &ClientConfig, metadata: &AgentMetadata, api: &AgentApiAttributes, plans: &[String]) -> Result<Call<AgentIdAnswer>> {
    if metadata.name.trim().is_empty() {
        return Err(Error::validation("agent metadata name is required"));
    }
    api.check()?;
    if plans.iter().any(|p| p.trim().is_empty()) {
        return Err(Error::validation("plan ids must not be empty"));
    }
    let body = serde_json::json!({"metadataAttributes": metadata, "agentApiAttributes": api, "plans": plans});
    Ok(Call { request: super::build_request(cfg, "POST", "api/v1/protocol/agents", Auth::Bearer, Some(&body))?, parse: parse_agent_id })
}

/// `POST api/v1/protocol/agents/plans`: a plan and an agent using it, in one call.
pub fn register_agent_and_plan(
    cfg: &ClientConfig,
    agent: &AgentMetadata,
    api: &AgentApiAttributes,
    plan: &PlanMetadata,
    price: &PriceConfig,
    credits: &CreditsConfig,
    access_limit: Option<AccessLimit>,
) -> Result<Call<AgentAndPlanAnswer>> {
    if agent.name.trim().is_empty() || plan.name.trim().is_empty() {
        return Err(Error::validation("agent and plan names are required"));
    }
    api.check()?;
    let access_limit = access_limit.unwrap_or_else(|| AccessLimit::implied_by(credits));
    let body = serde_json::json!({
        "plan": {"metadataAttributes": plan, "priceConfig": price, "creditsConfig": credits, "accessLimit": access_limit},
        "agent": {"metadataAttributes": agent, "agentApiAttributes": api},
    });
    Ok(Call { request: super::build_request(cfg, "POST", "api/v1/protocol/agents/plans", Auth::Bearer, Some(&body))?, parse: parse_agent_and_plan })
}

fn agent_path(agent_id: &str) -> Result<String> {
    let agent_id = agent_id.trim();
    if agent_id.is_empty() {
        return Err(Error::validation("agentId is required"));
    }
    Ok(format!("api/v1/protocol/agents/{}", encode_segment(agent_id)))
}

/// `GET api/v1/protocol/agents/:agentId` (public).
pub fn get_agent(cfg: &ClientConfig, agent_id: &str) -> Result<Call<Value>> {
    Ok(Call { request: super::build_request(cfg, "GET", &agent_path(agent_id)?, Auth::Public, None::<&()>)?, parse: parse_any })
}

/// `GET api/v1/protocol/agents/:agentId/plans` (public).
pub fn get_agent_plans(cfg: &ClientConfig, agent_id: &str) -> Result<Call<Value>> {
    let path = format!("{}/plans", agent_path(agent_id)?);
    Ok(Call { request: super::build_request(cfg, "GET", &path, Auth::Public, None::<&()>)?, parse: parse_any })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints_are_checked() {
        let ok: AgentApiAttributes = serde_json::from_value(json!({"endpoints": [{"POST": "https://a.example/tasks/:id"}, {"get": "https://a.example/x"}]})).unwrap();
        assert!(ok.check().is_ok());
        for bad in [json!({"endpoints": [{"FETCH": "u"}]}), json!({"endpoints": [{"POST": ""}]}), json!({"endpoints": [{"POST": "u", "GET": "v"}]}), json!({"endpoints": [{}]})] {
            let api: AgentApiAttributes = serde_json::from_value(bad.clone()).unwrap();
            assert_eq!(api.check().unwrap_err().code(), "validation", "{bad}");
        }
    }

    #[test]
    fn answers_accept_both_shapes() {
        let r = |body: &str| HttpResponse { status: 201, body: body.into() };
        assert_eq!(parse_agent_id(r(r#"{"data":{"agentId":"7"}}"#)).unwrap().agent_id, "7");
        assert_eq!(parse_agent_id(r(r#"{"agentId":8}"#)).unwrap().agent_id, "8");
        assert_eq!(parse_agent_id(r(r#"{"data":{}}"#)).unwrap_err().code(), "invalid_response");
        let both = parse_agent_and_plan(r(r#"{"data":{"agentId":"1","planId":"2"},"txHash":"0xab"}"#)).unwrap();
        assert_eq!((both.agent_id.as_str(), both.plan_id.as_str(), both.tx_hash.as_deref()), ("1", "2", Some("0xab")));
    }
}
