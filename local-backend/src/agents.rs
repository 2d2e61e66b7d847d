//! Agents: registration (alone or with a plan), storage, the `getAgent` views,
//! and matching a request URL and verb against the agent's registered
//! endpoints (`{"POST": "https://host/tasks/:id"}`): scheme, host and port
//! must be the endpoint's (all loopback names count as one host), the path
//! must match its pattern.

use crate::error::*;
use crate::ids::iso8601;
use crate::plans::Plan;
use nvm_x402::api::agents::normalize_agent_api;
use nvm_x402::protocol::routes::PathPattern;
use nvm_x402::protocol::url::{normalize_path, Url};
use nvm_x402_types::agents::{AgentApiAttributes, AgentMetadata};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where a URL points: its origin (absent for a bare path) and its normalised path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTarget {
    /// `(scheme, host, port)`, the port made explicit and every loopback host written `loopback`.
    pub origin: Option<(String, String, String)>,
    /// The path, normalised as the gate does (decoded, `//` collapsed, no trailing `/`).
    pub path: String,
}

impl UrlTarget {
    /// Reads an absolute `http(s)` URL, an MCP logical URL
    /// (`mcp://<server>/tools/<name>`, as MCP paywalls name what they charge
    /// for), or a path starting with `/`; the query is ignored.
    ///
    /// ```
    /// use nvm_local::agents::UrlTarget;
    /// assert_eq!(UrlTarget::parse("http://localhost/tasks/"), UrlTarget::parse("http://127.0.0.1:80/tasks?x=1"));
    /// assert_ne!(UrlTarget::parse("https://a.example/tasks"), UrlTarget::parse("http://a.example/tasks"));
    /// assert_eq!(UrlTarget::parse("/tasks").unwrap().origin, None);
    /// assert_eq!(UrlTarget::parse("mcp://srv/tools/echo?text=a"), UrlTarget::parse("MCP://SRV/tools/echo"));
    /// assert_ne!(UrlTarget::parse("mcp://srv/tools/echo"), UrlTarget::parse("mcp://other/tools/echo"));
    /// ```
    pub fn parse(url: &str) -> Option<UrlTarget> {
        if let Some(rest) = url
            .get(..6)
            .filter(|s| s.eq_ignore_ascii_case("mcp://"))
            .and(url.get(6..))
        {
            let rest = rest.split(['?', '#']).next().unwrap_or("");
            let (server, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            if server.is_empty() {
                return None;
            }
            return Some(UrlTarget {
                path: normalize_path(path),
                origin: Some(("mcp".to_owned(), server.to_ascii_lowercase(), String::new())),
            });
        }
        if url.starts_with('/') {
            let path = url.split(['?', '#']).next().unwrap_or("/");
            return Some(UrlTarget {
                origin: None,
                path: normalize_path(path),
            });
        }
        let parts = Url::parse(url).filter(|u| u.scheme == "http" || u.scheme == "https")?;
        let host = if parts.host.is_loopback() {
            "loopback".to_owned()
        } else {
            parts.host.serialize()
        };
        let port = parts.port_or_default().to_string();
        Some(UrlTarget {
            path: normalize_path(&parts.path),
            origin: Some((parts.scheme, host, port)),
        })
    }

    /// Whether two URLs name the same resource: same origin when both have one, same path (case-insensitive).
    pub fn same_resource(&self, other: &UrlTarget) -> bool {
        let origins_agree = match (&self.origin, &other.origin) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        origins_agree && self.path.eq_ignore_ascii_case(&other.path)
    }
}

/// One registered endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The verb, upper-case.
    pub verb: String,
    /// The URL pattern as registered.
    pub url: String,
    origin: Option<(String, String, String)>,
    path: PathPattern,
}

impl Endpoint {
    fn parse(verb: &str, url: &str) -> ApiResult<Endpoint> {
        let target = UrlTarget::parse(url)
            .filter(|t| t.origin.is_some())
            .ok_or_else(|| {
                INVALID_FIELD.with(format!(
                    "endpoint {url:?} must be an absolute http(s) URL or an MCP logical URL (mcp://server/tools/name)"
                ))
            })?;
        let path_part = match Url::parse(url) {
            Some(p) => p.path,
            // mcp://server/path: what follows the server, before any query.
            None => url
                .get(6..)
                .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
                .map_or("/", |p| p.split(['?', '#']).next().unwrap_or("/"))
                .to_owned(),
        };
        let path = PathPattern::parse(&path_part, false)
            .map_err(|e| INVALID_FIELD.with(format!("endpoint {url:?}: {e}")))?;
        Ok(Endpoint {
            verb: verb.to_ascii_uppercase(),
            url: url.to_owned(),
            origin: target.origin,
            path,
        })
    }

    fn matches_url(&self, target: &UrlTarget) -> bool {
        let origin_ok = match &target.origin {
            Some(origin) => self.origin.as_ref() == Some(origin),
            None => true,
        };
        origin_ok && self.path.matches(&target.path)
    }
}

/// Which endpoint a request matched: `(urlMatching, verbMatching)`.
pub type EndpointMatch = (String, Option<String>);

/// A registered agent.
#[derive(Debug, Clone)]
pub struct Agent {
    /// The agent id (a uint256 in decimal).
    pub id: String,
    /// The account that registered it.
    pub owner: String,
    /// Name, description, ...
    pub metadata: AgentMetadata,
    /// Endpoints and the rest, as registered.
    pub api: AgentApiAttributes,
    /// The plans it accepts, in registration order.
    pub plan_ids: Vec<String>,
    /// The endpoints, compiled.
    pub endpoints: Vec<Endpoint>,
    /// When it was registered (ms).
    pub created_at: i64,
}

/// What an agent registration stores (everything but the plans, which have their own table).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredAgent {
    pub(crate) metadata_attributes: AgentMetadata,
    pub(crate) agent_api_attributes: AgentApiAttributes,
}

impl Agent {
    pub(crate) fn new(
        id: String,
        owner: &str,
        stored: StoredAgent,
        plan_ids: Vec<String>,
        created_at: i64,
    ) -> ApiResult<Agent> {
        if stored.metadata_attributes.name.trim().is_empty() {
            return Err(MISSING_FIELD.with("metadataAttributes.name is required"));
        }
        let api_json = serde_json::to_value(&stored.agent_api_attributes)
            .map_err(|e| INTERNAL.with(e.to_string()))?;
        normalize_agent_api(&api_json.into())
            .map_err(|e| INVALID_FIELD.with(format!("agentApiAttributes: {e}")))?;
        let mut endpoints = Vec::with_capacity(stored.agent_api_attributes.endpoints.len());
        for endpoint in &stored.agent_api_attributes.endpoints {
            for (verb, url) in endpoint {
                endpoints.push(Endpoint::parse(verb, url.as_str().unwrap_or_default())?);
            }
        }
        Ok(Agent {
            id,
            owner: owner.to_owned(),
            metadata: stored.metadata_attributes,
            api: stored.agent_api_attributes,
            plan_ids,
            endpoints,
            created_at,
        })
    }

    /// Whether the agent accepts this plan.
    /// Whether the agent takes this plan: it lists it, and the plan is its
    /// owner's (only a plan's owner can attach it; an agent registered before
    /// that rule, listing someone else's plan, takes nothing of theirs).
    pub fn accepts_plan(&self, plan: &Plan) -> bool {
        self.owner == plan.owner && self.plan_ids.contains(&plan.id)
    }

    /// Checks a request URL and verb against the endpoints. An agent without
    /// endpoints accepts any URL; a request without a verb is matched on its URL alone.
    pub fn match_request(&self, url: &str, verb: Option<&str>) -> ApiResult<EndpointMatch> {
        if self.endpoints.is_empty() {
            return Ok((url.to_owned(), verb.map(str::to_ascii_uppercase)));
        }
        let target = UrlTarget::parse(url).ok_or_else(|| {
            ENDPOINT_MISMATCH.with(format!(
                "resource.url {:?} is not an http(s) URL or a path",
                crate::error::shorten(url)
            ))
        })?;
        let candidates: Vec<&Endpoint> = self
            .endpoints
            .iter()
            .filter(|e| e.matches_url(&target))
            .collect();
        if candidates.is_empty() {
            return Err(ENDPOINT_MISMATCH.with(format!(
                "{} is not an endpoint of agent {} (registered: {})",
                crate::error::shorten(url),
                self.id,
                self.endpoint_list()
            )));
        }
        let Some(verb) = verb else {
            return Ok((candidates[0].url.clone(), None));
        };
        let verb = verb.to_ascii_uppercase();
        let found = candidates
            .iter()
            .find(|e| e.verb == verb || (e.verb == "GET" && verb == "HEAD"));
        match found {
            Some(e) => Ok((e.url.clone(), Some(e.verb.clone()))),
            None => Err(VERB_MISMATCH.with(format!(
                "{verb} is not allowed on {} for agent {} (registered: {})",
                crate::error::shorten(url),
                self.id,
                self.endpoint_list()
            ))),
        }
    }

    fn endpoint_list(&self) -> String {
        self.endpoints
            .iter()
            .map(|e| format!("{} {}", e.verb, e.url))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The `GET api/v1/protocol/agents/:agentId` view.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "agentId": self.id,
            "owner": self.owner,
            "name": self.metadata.name,
            "metadata": {"main": self.metadata, "agent": self.api},
            "endpoints": self.api.endpoints,
            "plans": self.plan_ids,
            "registry": {"owner": self.owner, "plans": self.plan_ids},
            "createdAt": iso8601(self.created_at),
        })
    }
}

pub(crate) fn insert_agent(conn: &Connection, agent: &Agent) -> ApiResult<()> {
    let stored = StoredAgent {
        metadata_attributes: agent.metadata.clone(),
        agent_api_attributes: agent.api.clone(),
    };
    let registration = serde_json::to_string(&stored).map_err(|e| INTERNAL.with(e.to_string()))?;
    conn.execute(
        "INSERT INTO agents (id, owner, registration, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![agent.id, agent.owner, registration, agent.created_at],
    )?;
    for (position, plan_id) in agent.plan_ids.iter().enumerate() {
        conn.execute(
            "INSERT INTO agent_plans (agent_id, plan_id, position) VALUES (?1, ?2, ?3)",
            params![agent.id, plan_id, position as i64],
        )?;
    }
    Ok(())
}

/// Replaces an agent's stored metadata and endpoints.
pub(crate) fn update_registration(conn: &Connection, agent: &Agent) -> ApiResult<()> {
    let stored = StoredAgent {
        metadata_attributes: agent.metadata.clone(),
        agent_api_attributes: agent.api.clone(),
    };
    let registration = serde_json::to_string(&stored).map_err(|e| INTERNAL.with(e.to_string()))?;
    conn.execute(
        "UPDATE agents SET registration = ?2 WHERE id = ?1",
        params![agent.id, registration],
    )?;
    Ok(())
}

/// Adds a plan at the end of an agent's list.
pub(crate) fn add_agent_plan(conn: &Connection, agent_id: &str, plan_id: &str) -> ApiResult<()> {
    conn.execute(
        "INSERT INTO agent_plans (agent_id, plan_id, position) VALUES (?1, ?2, (SELECT COALESCE(MAX(position) + 1, 0) FROM agent_plans WHERE agent_id = ?1))",
        params![agent_id, plan_id],
    )?;
    Ok(())
}

/// Takes a plan off an agent's list.
pub(crate) fn remove_agent_plan(conn: &Connection, agent_id: &str, plan_id: &str) -> ApiResult<()> {
    conn.execute(
        "DELETE FROM agent_plans WHERE agent_id = ?1 AND plan_id = ?2",
        params![agent_id, plan_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(endpoints: Value) -> Agent {
        let stored: StoredAgent = serde_json::from_value(json!({"metadataAttributes": {"name": "A"}, "agentApiAttributes": {"endpoints": endpoints}})).unwrap();
        Agent::new("1".into(), "0x", stored, vec![], 0).unwrap()
    }

    #[test]
    fn mcp_logical_urls_match_their_server_and_path() {
        let a = agent(
            json!([{"POST": "mcp://weather/tools/forecast"}, {"POST": "mcp://weather/resources/city/:id"}]),
        );
        assert_eq!(
            a.match_request("mcp://weather/tools/forecast?city=Paris", Some("POST"))
                .unwrap()
                .0,
            "mcp://weather/tools/forecast"
        );
        assert!(a
            .match_request("mcp://weather/resources/city/7", Some("POST"))
            .is_ok());
        for url in [
            "mcp://other/tools/forecast",
            "mcp://weather/tools/other",
            "http://weather/tools/forecast",
            "mcp:///tools/forecast",
        ] {
            assert!(a.match_request(url, Some("POST")).is_err(), "{url}");
        }
    }

    #[test]
    fn urls_match_on_origin_path_and_verb() {
        let a = agent(
            json!([{"POST": "http://127.0.0.1:8787/tasks"}, {"GET": "https://api.example/items/:id"}]),
        );
        assert_eq!(
            a.match_request("http://localhost:8787/tasks/", Some("post"))
                .unwrap(),
            (
                "http://127.0.0.1:8787/tasks".to_owned(),
                Some("POST".to_owned())
            )
        );
        assert_eq!(
            a.match_request("https://api.example:443/items/42?x=1", Some("HEAD"))
                .unwrap()
                .1
                .as_deref(),
            Some("GET")
        );
        assert_eq!(
            a.match_request("/tasks", None).unwrap().0,
            "http://127.0.0.1:8787/tasks"
        );
        for (url, verb, code) in [
            ("http://127.0.0.1:8788/tasks", "POST", ENDPOINT_MISMATCH),
            ("https://127.0.0.1:8787/tasks", "POST", ENDPOINT_MISMATCH),
            ("http://evil.example:8787/tasks", "POST", ENDPOINT_MISMATCH),
            ("http://127.0.0.1:8787/tasks/1", "POST", ENDPOINT_MISMATCH),
            ("https://api.example/items", "GET", ENDPOINT_MISMATCH),
            ("ftp://127.0.0.1:8787/tasks", "POST", ENDPOINT_MISMATCH),
            ("http://127.0.0.1:8787/tasks", "GET", VERB_MISMATCH),
            ("https://api.example/items/1", "DELETE", VERB_MISMATCH),
        ] {
            assert_eq!(
                a.match_request(url, Some(verb)).unwrap_err().code,
                code,
                "{verb} {url}"
            );
        }
    }

    #[test]
    fn agents_without_endpoints_accept_any_url_and_bad_endpoints_are_refused() {
        assert!(agent(json!([]))
            .match_request("https://anything.example/x", Some("PUT"))
            .is_ok());
        for bad in [
            json!([{"POST": "/relative"}]),
            json!([{"POST": "ftp://h/x"}]),
            json!([{"FETCH": "http://h/x"}]),
            json!([{"POST": "http://h/:"}]),
        ] {
            let stored: StoredAgent = serde_json::from_value(json!({"metadataAttributes": {"name": "A"}, "agentApiAttributes": {"endpoints": bad}})).unwrap();
            assert_eq!(
                Agent::new("1".into(), "0x", stored, vec![], 0)
                    .unwrap_err()
                    .code,
                INVALID_FIELD,
                "{bad}"
            );
        }
    }
}
