//! The [`Backend`] operations of [`crate::agents`]: the endpoints' behaviour over
//! the state; the agents types and their rules live in that module.

use crate::agents::*;
use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::ids::{random_u256_id, tx_hash};
use crate::plans::{canonical_id, insert_plan, Plan};
use nvm_x402::api::plans::AccessLimit;
use nvm_x402::protocol::Uint256;
use nvm_x402_types::agents::{RegisterAgentAndPlanRequest, RegisterAgentRequest};
use nvm_x402_types::plans::RegisterPlanRequest;
use rusqlite::OptionalExtension;
use serde_json::{json, Value};
use std::sync::Arc;

impl Backend {
    /// The agent with this id (cached: agents never change).
    pub fn agent(&self, id: &str) -> ApiResult<Option<Arc<Agent>>> {
        let id = canonical_id(id);
        if let Some(agent) = self.agents.get(&id) {
            return Ok(Some(agent));
        }
        let conn = self.store.lock();
        let row: Option<(String, String, i64)> = conn
            .prepare_cached("SELECT owner, registration, created_at FROM agents WHERE id = ?1")?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((owner, registration, created_at)) = row else {
            return Ok(None);
        };
        let plan_ids: Vec<String> = conn
            .prepare_cached(
                "SELECT plan_id FROM agent_plans WHERE agent_id = ?1 ORDER BY position",
            )?
            .query_map([&id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        drop(conn);
        let stored: StoredAgent = serde_json::from_str(&registration)
            .map_err(|e| INTERNAL.with(format!("stored agent {id} is unreadable: {e}")))?;
        let agent = Arc::new(Agent::new(
            id.clone(),
            &owner,
            stored,
            plan_ids,
            created_at,
        )?);
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
        let agent = Agent::new(
            random_u256_id(),
            caller.address(),
            stored,
            plan_ids,
            self.now_ms(),
        )?;
        {
            let mut conn = self.store.lock();
            let tx = conn.transaction()?;
            insert_agent(&tx, &agent)?;
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
        let size = query
            .page_size
            .or(query.offset)
            .filter(|s| *s > 0)
            .map_or(total.max(1), |s| s as usize);
        let page = query.page.filter(|p| *p > 0).unwrap_or(1) as usize;
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
}
