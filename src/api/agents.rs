//! Agents: registration (alone, or with a plan in one call) and lookup.
//! The client works on JSON values; the wire shapes are described once, as
//! serde structs, in the `nvm-x402-types` crate (`types/src/agents.rs`: for
//! nvm-local, the tests and the generated TypeScript; never in the .wasm).

use super::plans::{
    normalize_credits_config, normalize_plan_metadata, normalize_price_config, AccessLimit,
};
use super::{parse_any, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::json::{self, ObjectBuilder};
use crate::protocol::json::{Map, Value};
use crate::protocol::url::encode_segment;
use crate::protocol::ClientConfig;
use crate::transport::HttpResponse;

/// The HTTP methods an agent endpoint may name.
pub const HTTP_VERBS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Checks `agentApiAttributes` (`null` is a minimal agent): every endpoint is
/// one `{VERB: "url"}` pair with a known verb.
pub fn normalize_agent_api(api: &Value) -> Result<Value> {
    const WHAT: &str = "agentApi";
    // No endpoints is sent as no `endpoints` key, as both official SDKs do: the
    // backend reads an absent list as "no allowlist", and an empty one may be
    // read as an allowlist that matches nothing.
    let Some(o) = json::opt_object(Some(api), WHAT)? else {
        return Ok(Value::Object(Map::new()));
    };
    let endpoints = match o.get("endpoints") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.clone()),
        Some(_) => return Err(Error::validation("agentApi.endpoints must be a list")),
    };
    for endpoint in endpoints.iter().flatten() {
        let pair = endpoint
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next());
        let Some((verb, url)) = pair else {
            return Err(Error::validation(
                "each endpoint must be one {\"VERB\": \"url\"} pair",
            ));
        };
        if !HTTP_VERBS.contains(&verb.to_ascii_uppercase().as_str()) {
            return Err(Error::validation(format!(
                "endpoint method \"{verb}\" is not an HTTP method"
            )));
        }
        if url.as_str().is_none_or(|u| u.trim().is_empty()) {
            return Err(Error::validation(format!("endpoint {verb} needs a URL")));
        }
    }
    let mut out = o.clone();
    match endpoints {
        Some(list) => {
            out.insert("endpoints".into(), Value::Array(list));
        }
        None => {
            out.remove("endpoints");
        }
    }
    Ok(Value::Object(out))
}

fn check_agent_metadata(metadata: &Value) -> Result<Value> {
    let o = json::object(metadata, "agentMetadata")?;
    if json::opt_str(o, "name", "agentMetadata")?.is_none_or(|n| n.trim().is_empty()) {
        return Err(Error::validation("agentMetadata.name is required"));
    }
    Ok(metadata.clone())
}

fn id_at(v: &Value, paths: &[&[&str]]) -> Option<String> {
    paths.iter().find_map(|p| match json::at(v, p) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn missing(status: u16, what: &str) -> Error {
    Error::InvalidResponse {
        status,
        message: format!("The backend's answer has no {what}"),
    }
}

fn parse_agent_id(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let v = parse_any(response)?;
    let agent_id = id_at(&v, &[&["data", "agentId"], &["agentId"]])
        .ok_or_else(|| missing(status, "agentId"))?;
    Ok(ObjectBuilder::new().put("agentId", agent_id).build())
}

fn parse_agent_and_plan(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let v = parse_any(response)?;
    Ok(ObjectBuilder::new()
        .put(
            "agentId",
            id_at(&v, &[&["data", "agentId"], &["agentId"]])
                .ok_or_else(|| missing(status, "agentId"))?,
        )
        .put(
            "planId",
            id_at(&v, &[&["data", "planId"], &["planId"]])
                .ok_or_else(|| missing(status, "planId"))?,
        )
        .put_opt("txHash", id_at(&v, &[&["txHash"], &["data", "txHash"]]))
        .build())
}

/// `POST api/v1/protocol/agents`: `{metadataAttributes, agentApiAttributes, plans}`.
pub fn register_agent(
    cfg: &ClientConfig,
    metadata: &Value,
    api: &Value,
    plans: &[String],
) -> Result<Call<Value>> {
    let metadata = check_agent_metadata(metadata)?;
    let api = normalize_agent_api(api)?;
    if plans.iter().any(|p| p.trim().is_empty()) {
        return Err(Error::validation("plan ids must not be empty"));
    }
    let body = ObjectBuilder::new()
        .put("metadataAttributes", metadata)
        .put("agentApiAttributes", api)
        .put("plans", plans.to_vec())
        .build();
    Ok(Call {
        request: super::build_request(
            cfg,
            "POST",
            "api/v1/protocol/agents",
            Auth::Bearer,
            Some(&body),
        )?,
        parse: parse_agent_id,
    })
}

/// The parts of `registerAgentAndPlan`.
#[derive(Debug, Clone, Copy)]
pub struct AgentAndPlan<'a> {
    /// `agentMetadata`.
    pub agent: &'a Value,
    /// `agentApi`.
    pub api: &'a Value,
    /// `planMetadata`.
    pub plan: &'a Value,
    /// `priceConfig`.
    pub price: &'a Value,
    /// `creditsConfig`.
    pub credits: &'a Value,
    /// `accessLimit` (default: what the credits config implies).
    pub access_limit: Option<AccessLimit>,
}

/// `POST api/v1/protocol/agents/plans`: a plan and an agent using it, in one call.
pub fn register_agent_and_plan(cfg: &ClientConfig, parts: AgentAndPlan<'_>) -> Result<Call<Value>> {
    let agent = check_agent_metadata(parts.agent)?;
    let api = normalize_agent_api(parts.api)?;
    let plan = normalize_plan_metadata(parts.plan, false, "planMetadata")?;
    let price = normalize_price_config(parts.price)?;
    let credits = normalize_credits_config(parts.credits, parts.access_limit)?;
    let limit = parts
        .access_limit
        .unwrap_or_else(|| AccessLimit::implied_by(&credits));
    let body = ObjectBuilder::new()
        .put(
            "plan",
            ObjectBuilder::new()
                .put("metadataAttributes", Value::Object(plan))
                .put("priceConfig", price)
                .put("creditsConfig", credits)
                .put("accessLimit", limit.as_str())
                .build(),
        )
        .put(
            "agent",
            ObjectBuilder::new()
                .put("metadataAttributes", agent)
                .put("agentApiAttributes", api)
                .build(),
        )
        .build();
    Ok(Call {
        request: super::build_request(
            cfg,
            "POST",
            "api/v1/protocol/agents/plans",
            Auth::Bearer,
            Some(&body),
        )?,
        parse: parse_agent_and_plan,
    })
}

fn agent_path(agent_id: &str) -> Result<String> {
    let agent_id = agent_id.trim();
    if agent_id.is_empty() {
        return Err(Error::validation("agentId is required"));
    }
    Ok(format!(
        "api/v1/protocol/agents/{}",
        encode_segment(agent_id)
    ))
}

/// `GET api/v1/protocol/agents/:agentId` (public).
pub fn get_agent(cfg: &ClientConfig, agent_id: &str) -> Result<Call<Value>> {
    Ok(Call {
        request: super::build_request(cfg, "GET", &agent_path(agent_id)?, Auth::Public, None)?,
        parse: parse_any,
    })
}

/// `GET api/v1/protocol/agents/:agentId/plans?sortBy&sortOrder&page&pageSize`
/// (public): one page of the plans that give access to the agent (see
/// [`super::plans::page_query`]).
pub fn get_agent_plans(
    cfg: &ClientConfig,
    agent_id: &str,
    pagination: &Value,
) -> Result<Call<Value>> {
    let path = format!(
        "{}/plans{}",
        agent_path(agent_id)?,
        super::plans::page_query(pagination)?
    );
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Public, None)?,
        parse: parse_any,
    })
}

/// `GET api/v1/protocol/agents?page&offset&sortBy&sortOrder[&orgId]`: the
/// caller's agents (with `orgId`, every agent of that organization), as
/// `getPlans` lists plans. `options`: `{page?, offset?, sortBy?, sortOrder?, orgId?}` or `null`.
pub fn get_agents(cfg: &ClientConfig, options: &Value) -> Result<Call<Value>> {
    super::plans::own_list(cfg, "api/v1/protocol/agents", options)
}

/// `PUT api/v1/protocol/agents/:agentId` `{metadataAttributes, agentApiAttributes}`:
/// replaces the agent's metadata and endpoints (checked as at registration).
pub fn update_agent_metadata(
    cfg: &ClientConfig,
    agent_id: &str,
    metadata: &Value,
    api: &Value,
) -> Result<Call<Value>> {
    let path = agent_path(agent_id)?;
    let body = ObjectBuilder::new()
        .put("metadataAttributes", check_agent_metadata(metadata)?)
        .put("agentApiAttributes", normalize_agent_api(api)?)
        .build();
    Ok(Call {
        request: super::build_request(cfg, "PUT", &path, Auth::Bearer, Some(&body))?,
        parse: parse_any,
    })
}

/// `POST` (`add`) or `DELETE api/v1/protocol/agents/:agentId/plan/:planId`
/// (no body): `addPlanToAgent` / `removePlanFromAgent`.
pub fn plan_on_agent(
    cfg: &ClientConfig,
    plan_id: &str,
    agent_id: &str,
    add: bool,
) -> Result<Call<Value>> {
    let plan_id = plan_id.trim();
    if plan_id.is_empty() {
        return Err(Error::validation("planId is required"));
    }
    let path = format!("{}/plan/{}", agent_path(agent_id)?, encode_segment(plan_id));
    let method = if add { "POST" } else { "DELETE" };
    Ok(Call {
        request: super::build_request(cfg, method, &path, Auth::Bearer, None)?,
        parse: parse_any,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn endpoints_are_checked() {
        let ok = json!({"endpoints": [{"POST": "https://a.example/tasks/:id"}, {"get": "https://a.example/x"}], "agentDefinitionUrl": "https://a.example/def"});
        let api = normalize_agent_api(&ok).unwrap();
        assert_eq!(api, ok, "a valid agentApi is sent as given");
        // No endpoints: no `endpoints` key at all, as both official SDKs send it (#10).
        assert_eq!(normalize_agent_api(&Value::Null).unwrap(), json!({}));
        assert_eq!(
            normalize_agent_api(
                &json!({"agentDefinitionUrl": "https://a.example/def", "endpoints": null})
            )
            .unwrap(),
            json!({"agentDefinitionUrl": "https://a.example/def"})
        );
        assert_eq!(
            normalize_agent_api(&json!({"endpoints": []})).unwrap(),
            json!({"endpoints": []}),
            "an explicit empty list is the caller's to send"
        );
        for bad in [
            json!({"endpoints": [{"FETCH": "u"}]}),
            json!({"endpoints": [{"POST": ""}]}),
            json!({"endpoints": [{"POST": "u", "GET": "v"}]}),
            json!({"endpoints": [{}]}),
            json!({"endpoints": "x"}),
        ] {
            assert_eq!(
                normalize_agent_api(&bad).unwrap_err().code(),
                "validation",
                "{bad}"
            );
        }
    }

    #[test]
    fn answers_accept_both_shapes() {
        let r = |body: &str| HttpResponse {
            status: 201,
            body: body.into(),
        };
        assert_eq!(
            parse_agent_id(r(r#"{"data":{"agentId":"7"}}"#)).unwrap(),
            json!({"agentId": "7"})
        );
        assert_eq!(
            parse_agent_id(r(r#"{"agentId":8}"#)).unwrap(),
            json!({"agentId": "8"})
        );
        assert_eq!(
            parse_agent_id(r(r#"{"data":{}}"#)).unwrap_err().code(),
            "invalid_response"
        );
        let both = parse_agent_and_plan(r(
            r#"{"data":{"agentId":"1","planId":"2"},"txHash":"0xab"}"#,
        ))
        .unwrap();
        assert_eq!(
            both,
            json!({"agentId": "1", "planId": "2", "txHash": "0xab"})
        );
    }
}
