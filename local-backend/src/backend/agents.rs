//! The [`Backend`] operations of [`crate::agents`]: the endpoints' behaviour over
//! the state; the agents types and their rules live in that module.

use crate::agents::*;
use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::ids::{random_u256_id, tx_hash};
use crate::plans::{canonical_id, insert_plan, Plan};
use nvm_x402::api::plans::AccessLimit;
use nvm_x402::protocol::Uint256;
use nvm_x402_types::agents::{
    RegisterAgentAndPlanRequest, RegisterAgentRequest, UpdateAgentRequest,
};
use nvm_x402_types::plans::RegisterPlanRequest;
use rusqlite::OptionalExtension;
use serde_json::{json, Value};
use std::sync::Arc;

impl Backend {
    /// The agent with this id (cached). An agent changes only by
    /// `updateAgentMetadata` and `add`/`removePlanFromAgent`, which write the
    /// database and the cache while holding the database lock; a load reads
    /// and caches under the same lock, so it can't cache what a change replaced.
    pub fn agent(&self, id: &str) -> ApiResult<Option<Arc<Agent>>> {
        let id = canonical_id(id);
        if let Some(agent) = self.agents.get(&id) {
            return Ok(Some(agent));
        }
        let conn = self.store.lock();
        if let Some(agent) = self.agents.get(&id) {
            return Ok(Some(agent));
        }
        let Some(agent) = load_agent(&conn, &id)? else {
            return Ok(None);
        };
        let agent = Arc::new(agent);
        self.agents.insert(id, agent.clone());
        Ok(Some(agent))
    }

    /// The agent with this id, or `BCK.PROTOCOL.0901`.
    pub fn require_agent(&self, id: &str) -> ApiResult<Arc<Agent>> {
        self.agent(id)?.ok_or_else(|| {
            AGENT_NOT_FOUND.with(format!("Agent {} not found", crate::error::shorten(id)))
        })
    }

    /// `POST api/v1/protocol/agents`: the plans must exist and be the caller's
    /// (only a plan's owner may attach it to an agent: an agent that lists a
    /// plan can settle its subscribers' credits).
    pub fn register_agent(&self, caller: &Caller, body: RegisterAgentRequest) -> ApiResult<Value> {
        let mut plan_ids: Vec<String> = Vec::with_capacity(body.plans.len());
        for plan in &body.plans {
            let plan = self.require_plan(plan.as_str())?;
            if plan.owner != caller.address() {
                return Err(NOT_PLAN_OWNER.with(format!(
                    "Plan {} belongs to {}; only its owner can attach it to an agent",
                    plan.id, plan.owner
                )));
            }
            if !plan_ids.contains(&plan.id) {
                plan_ids.push(plan.id.clone());
            }
        }
        let stored = StoredAgent {
            metadata_attributes: body.metadata_attributes,
            agent_api_attributes: body.agent_api_attributes,
        };
        let now = self.now_ms();
        let org = self.publishing_org(caller)?;
        let agent = Agent::new(random_u256_id(), caller.address(), stored, plan_ids, now)?;
        {
            let mut conn = self.store.lock();
            let tx = conn.transaction()?;
            insert_agent(&tx, &agent)?;
            self.publish(
                &tx,
                org.as_ref(),
                "agent",
                &agent.id,
                &agent.metadata.name,
                now,
            )?;
            tx.commit()?;
        }
        let id = agent.id.clone();
        self.agents.insert(id.clone(), Arc::new(agent));
        Ok(json!({"data": {"agentId": id, "txHash": tx_hash()}}))
    }

    /// `POST api/v1/protocol/agents/plans`: a plan and an agent that accepts it, atomically.
    pub fn register_agent_and_plan(
        &self,
        caller: &Caller,
        body: RegisterAgentAndPlanRequest,
    ) -> ApiResult<Value> {
        let now = self.now_ms();
        let org = self.publishing_org(caller)?;
        let p = body.plan;
        let access_limit = match p.access_limit {
            Some(limit) => limit,
            None => AccessLimit::implied_by(
                &serde_json::to_value(&p.credits_config)
                    .map_err(|e| INTERNAL.with(e.to_string()))?
                    .into(),
            ),
        };
        let registration = RegisterPlanRequest {
            is_trial_plan: p
                .is_trial_plan
                .or(p.metadata_attributes.is_trial_plan)
                .unwrap_or(false),
            metadata_attributes: p.metadata_attributes,
            price_config: p.price_config,
            credits_config: p.credits_config,
            nonce: p.nonce.unwrap_or_else(|| {
                Uint256::parse(&random_u256_id()).expect("a decimal id is a uint256")
            }),
            access_limit,
            currency: None,
        };
        let plan = Plan::from_registration(caller.address(), registration, now)?;
        let stored = StoredAgent {
            metadata_attributes: body.agent.metadata_attributes,
            agent_api_attributes: body.agent.agent_api_attributes,
        };
        let agent = Agent::new(
            random_u256_id(),
            caller.address(),
            stored,
            vec![plan.id.clone()],
            now,
        )?;
        {
            let mut conn = self.store.lock();
            let tx = conn.transaction()?;
            insert_plan(&tx, &plan)?;
            insert_agent(&tx, &agent)?;
            self.publish(&tx, org.as_ref(), "plan", &plan.id, plan.name(), now)?;
            self.publish(
                &tx,
                org.as_ref(),
                "agent",
                &agent.id,
                &agent.metadata.name,
                now,
            )?;
            tx.commit()?;
        }
        let answer = json!({"data": {"agentId": agent.id, "planId": plan.id}, "txHash": tx_hash()});
        self.plans.insert(plan.id.clone(), Arc::new(plan));
        self.agents.insert(agent.id.clone(), Arc::new(agent));
        Ok(answer)
    }

    /// `GET api/v1/protocol/agents/:agentId/plans[?page&pageSize|offset]`: the
    /// plans in registration order, one page of them (page 1, and all of
    /// them, unless a page size is given; both SDKs' parameter names work).
    pub fn agent_plans(
        &self,
        agent_id: &str,
        query: &nvm_x402_types::plans::PlansQuery,
    ) -> ApiResult<Value> {
        let agent = self.require_agent(agent_id)?;
        let total = agent.plan_ids.len();
        let (page, size) = public_page(query, total);
        let mut plans = Vec::new();
        for id in agent
            .plan_ids
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
        {
            plans.push(self.require_plan(id)?.to_json());
        }
        Ok(json!({"total": total, "page": page, "offset": size, "plans": plans}))
    }

    /// `GET api/v1/protocol/plans/:planId/agents[?page&pageSize|offset]`
    /// (public): the agents that take the plan (list it, and are its owner's),
    /// oldest first, one page of them (as [`Backend::agent_plans`] pages).
    pub fn plan_agents(
        &self,
        plan_id: &str,
        query: &nvm_x402_types::plans::PlansQuery,
    ) -> ApiResult<Value> {
        let plan = self.require_plan(plan_id)?;
        let ids: Vec<String> = {
            let conn = self.store.lock();
            let mut stmt = conn.prepare_cached(
                "SELECT a.id FROM agent_plans p JOIN agents a ON a.id = p.agent_id WHERE p.plan_id = ?1 ORDER BY a.created_at, a.id",
            )?;
            let ids = stmt
                .query_map([&plan.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids
        };
        let mut agents = Vec::with_capacity(ids.len());
        for id in ids {
            agents.extend(self.agent(&id)?.filter(|a| a.accepts_plan(&plan)));
        }
        let total = agents.len();
        let (page, size) = public_page(query, total);
        let items: Vec<Value> = agents
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|a| a.to_json())
            .collect();
        Ok(json!({"total": total, "page": page, "offset": size, "agents": items}))
    }

    /// `GET api/v1/protocol/agents?page&offset&sortBy&sortOrder[&orgId]`: the
    /// caller's agents, or with `orgId` every agent published into that
    /// organization (the caller must be an active Admin or Member there).
    pub fn list_agents(
        &self,
        caller: &Caller,
        query: &nvm_x402_types::plans::PlansQuery,
    ) -> ApiResult<Value> {
        let ids = self.own_or_org(caller, query, "agents", "agent")?;
        let mut agents = Vec::with_capacity(ids.len());
        for id in ids {
            agents.extend(self.agent(&id)?);
        }
        let rows = agents
            .iter()
            .map(|a| {
                (
                    a.metadata.name.as_str(),
                    a.created_at,
                    a.id.as_str(),
                    a.as_ref(),
                )
            })
            .collect();
        crate::backend::plans::page_of(query, rows, "agents", Agent::to_json)
    }

    /// The caller's agent with this id: `BCK.PROTOCOL.0901` when there is
    /// none, `BCK.PROTOCOL.0910` when it is someone else's.
    fn own_agent(&self, caller: &Caller, agent_id: &str) -> ApiResult<Arc<Agent>> {
        let agent = self.require_agent(agent_id)?;
        if agent.owner != caller.address() {
            return Err(NOT_AGENT_OWNER.with(format!(
                "Agent {} belongs to {}; only its owner can change it",
                agent.id, agent.owner
            )));
        }
        Ok(agent)
    }

    /// Writes a change to an agent (`change`, inside a transaction) and
    /// caches the agent as it is then, under the database lock.
    fn change_agent(
        &self,
        id: &str,
        change: impl FnOnce(&rusqlite::Transaction<'_>) -> ApiResult<()>,
    ) -> ApiResult<()> {
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        change(&tx)?;
        tx.commit()?;
        let agent =
            load_agent(&conn, id)?.ok_or_else(|| INTERNAL.with(format!("agent {id} vanished")))?;
        self.agents.insert(id.to_owned(), Arc::new(agent));
        Ok(())
    }

    /// `PUT api/v1/protocol/agents/:agentId`: new metadata and endpoints (checked
    /// as at registration), by the agent's owner. The plans it takes don't change.
    pub fn update_agent(
        &self,
        caller: &Caller,
        agent_id: &str,
        body: UpdateAgentRequest,
    ) -> ApiResult<Value> {
        let agent = self.own_agent(caller, agent_id)?;
        let stored = StoredAgent {
            metadata_attributes: body.metadata_attributes,
            agent_api_attributes: body.agent_api_attributes,
        };
        // Checks the new registration (name, endpoints) before anything is written.
        let updated = Agent::new(
            agent.id.clone(),
            &agent.owner,
            stored,
            agent.plan_ids.clone(),
            agent.created_at,
        )?;
        self.change_agent(&agent.id, |tx| update_registration(tx, &updated))?;
        Ok(
            json!({"success": true, "message": format!("Agent {} updated", agent.id), "txHash": tx_hash()}),
        )
    }

    /// `POST` (`add`) or `DELETE api/v1/protocol/agents/:agentId/plan/:planId`:
    /// only the plan's owner, who must own the agent too, may attach or
    /// remove it (an agent that takes a plan can settle its subscribers' credits).
    pub fn plan_on_agent(
        &self,
        caller: &Caller,
        agent_id: &str,
        plan_id: &str,
        add: bool,
    ) -> ApiResult<Value> {
        let plan = self.require_plan(plan_id)?;
        if plan.owner != caller.address() {
            return Err(NOT_PLAN_OWNER.with(format!(
                "Plan {} belongs to {}; only its owner can attach it to an agent or remove it",
                plan.id, plan.owner
            )));
        }
        let agent = self.own_agent(caller, agent_id)?;
        let listed = agent.plan_ids.contains(&plan.id);
        let message = match (add, listed) {
            (true, true) => format!("Agent {} already takes plan {}", agent.id, plan.id),
            (true, false) => {
                self.change_agent(&agent.id, |tx| add_agent_plan(tx, &agent.id, &plan.id))?;
                format!("Plan {} added to agent {}", plan.id, agent.id)
            }
            (false, true) => {
                self.change_agent(&agent.id, |tx| remove_agent_plan(tx, &agent.id, &plan.id))?;
                format!("Plan {} removed from agent {}", plan.id, agent.id)
            }
            (false, false) => {
                return Err(PLAN_NOT_ON_AGENT
                    .with(format!("Agent {} does not take plan {}", agent.id, plan.id)))
            }
        };
        Ok(json!({"success": true, "message": message, "txHash": tx_hash()}))
    }
}

/// The page (from 1) and page size of a public list of `total` items
/// (`?page&pageSize|offset`; both SDKs' names): page 1, and all of them unless
/// a page size is given.
fn public_page(query: &nvm_x402_types::plans::PlansQuery, total: usize) -> (usize, usize) {
    let size = query
        .page_size
        .or(query.offset)
        .filter(|s| *s > 0)
        .map_or(total.max(1), |s| s as usize);
    (query.page.filter(|p| *p > 0).unwrap_or(1) as usize, size)
}

/// Reads an agent and the plans it takes.
fn load_agent(conn: &rusqlite::Connection, id: &str) -> ApiResult<Option<Agent>> {
    let row: Option<(String, String, i64)> = conn
        .prepare_cached("SELECT owner, registration, created_at FROM agents WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((owner, registration, created_at)) = row else {
        return Ok(None);
    };
    let plan_ids: Vec<String> = conn
        .prepare_cached("SELECT plan_id FROM agent_plans WHERE agent_id = ?1 ORDER BY position")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let stored: StoredAgent = serde_json::from_str(&registration)
        .map_err(|e| INTERNAL.with(format!("stored agent {id} is unreadable: {e}")))?;
    Ok(Some(Agent::new(
        id.to_owned(),
        &owner,
        stored,
        plan_ids,
        created_at,
    )?))
}
