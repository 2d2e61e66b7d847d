//! The [`Backend`] operations of [`crate::plans`]: the endpoints' behaviour over
//! the state; the plans types and their rules live in that module.

use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::ids::tx_hash;
use crate::plans::*;
use nvm_x402::api::plans::check_address;
use nvm_x402_types::plans::{PlansQuery, RegisterPlanRequest};
use rusqlite::OptionalExtension;
use serde_json::{json, Value};
use std::sync::Arc;

impl Backend {
    /// The plan with this id (cached: plans never change).
    pub fn plan(&self, id: &str) -> ApiResult<Option<Arc<Plan>>> {
        let id = canonical_id(id);
        if let Some(plan) = self.plans.get(&id) {
            return Ok(Some(plan));
        }
        let row: Option<(String, String, i64)> = self
            .store
            .lock()
            .prepare_cached("SELECT owner, registration, created_at FROM plans WHERE id = ?1")?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((owner, registration, created_at)) = row else {
            return Ok(None);
        };
        let registration: RegisterPlanRequest = serde_json::from_str(&registration)
            .map_err(|e| INTERNAL.with(format!("stored plan {id} is unreadable: {e}")))?;
        let mut plan = Plan::from_registration(&owner, registration, created_at)?;
        plan.id.clone_from(&id);
        let plan = Arc::new(plan);
        self.plans.insert(id, plan.clone());
        Ok(Some(plan))
    }

    /// The plan with this id, or `BCK.PROTOCOL.0900`.
    pub fn require_plan(&self, id: &str) -> ApiResult<Arc<Plan>> {
        self.plan(id)?.ok_or_else(|| {
            PLAN_NOT_FOUND.with(format!("Plan {} not found", crate::error::shorten(id)))
        })
    }

    /// `POST api/v1/protocol/plans`.
    pub fn register_plan(
        &self,
        caller: &Caller,
        registration: RegisterPlanRequest,
    ) -> ApiResult<Value> {
        let now = self.now_ms();
        let org = self.publishing_org(caller)?;
        let plan = Plan::from_registration(caller.address(), registration, now)?;
        {
            let mut conn = self.store.lock();
            let tx = conn.transaction()?;
            insert_plan(&tx, &plan)?;
            self.publish(&tx, org.as_ref(), "plan", &plan.id, plan.name(), now)?;
            tx.commit()?;
        }
        let id = plan.id.clone();
        self.plans.insert(id.clone(), Arc::new(plan));
        Ok(json!({"planId": id, "txHash": tx_hash()}))
    }

    /// `GET api/v1/protocol/plans?page&offset&sortBy&sortOrder[&orgId]`: the
    /// caller's plans, or with `orgId` every plan published into that
    /// organization (the caller must be an active Admin or Member there).
    pub fn list_plans(&self, caller: &Caller, query: &PlansQuery) -> ApiResult<Value> {
        let ids = self.own_or_org(caller, query, "plans", "plan")?;
        let mut plans = Vec::with_capacity(ids.len());
        for id in ids {
            plans.extend(self.plan(&id)?);
        }
        let rows = plans
            .iter()
            .map(|p| (p.name(), p.created_at, p.id.as_str(), p.as_ref()))
            .collect();
        page_of(query, rows, "plans", |p| p.to_json())
    }

    /// The ids of the caller's plans or agents (`table`), or with `orgId`
    /// those published into that organization (`kind`), if the caller is its staff.
    pub(crate) fn own_or_org(
        &self,
        caller: &Caller,
        query: &PlansQuery,
        table: &str,
        kind: &str,
    ) -> ApiResult<Vec<String>> {
        match query.org_id.as_deref().filter(|o| !o.is_empty()) {
            Some(org_id) => {
                self.staff_of(caller, org_id)?;
                crate::organizations::assets_of(&self.store.lock(), org_id, kind)
            }
            None => {
                let conn = self.store.lock();
                let mut stmt =
                    conn.prepare_cached(&format!("SELECT id FROM {table} WHERE owner = ?1"))?;
                let ids = stmt
                    .query_map([caller.address()], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(ids)
            }
        }
    }

    /// `GET api/v1/protocol/plans/:planId/balance/:holderAddress`.
    pub fn plan_balance(&self, plan_id: &str, holder: &str) -> ApiResult<Value> {
        check_address("holderAddress", holder).map_err(|e| INVALID_FIELD.with(e.to_string()))?;
        let plan = self.require_plan(plan_id)?;
        let holder = holder.to_ascii_lowercase();
        let balance = load_balance(&self.store.lock(), &plan.id, &holder)?;
        Ok(plan.balance_json(&holder, balance.as_ref(), self.now_ms()))
    }

    /// `POST api/v1/protocol/plans/:planId/order`: crypto and free plans.
    pub fn order_plan(&self, caller: &Caller, plan_id: &str) -> ApiResult<Value> {
        let plan = self.require_plan(plan_id)?;
        if plan.is_fiat() {
            return Err(WRONG_ORDER_ENDPOINT.with(format!(
                "Plan {} is a fiat plan: order it with orderFiatPlan (POST api/v1/fiat/stripe/payment)",
                plan.id
            )));
        }
        let now = self.now_ms();
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        // Ordering a plan one holds (as `isSubscriber` says) buys it again (more credits, a
        // later end): the answer says so.
        let held =
            load_balance(&tx, &plan.id, caller.address())?.filter(|b| plan.is_usable(Some(b), now));
        let order_tx = grant(&tx, &plan, caller.address(), OrderKind::Crypto, None, now)?;
        tx.commit()?;
        let message = match held {
            _ if plan.pay_as_you_go => format!(
                "Plan {} is pay-as-you-go: ordered, no credits granted (each request is charged its price at settle; ordering is not needed to pay)",
                plan.id
            ),
            Some(b) => format!(
                "Plan {} ordered again: the caller already held it ({} credits); {} credits granted",
                plan.id, b.credits, plan.credits_granted
            ),
            None => format!(
                "Plan {} ordered: {} credits granted",
                plan.id, plan.credits_granted
            ),
        };
        Ok(json!({"success": true, "txHash": order_tx, "message": message}))
    }
}

/// One page of `rows` (`(name, created_at, id, item)`), sorted as `query`
/// says (`sortBy` `created` or `name`, `sortOrder`; ties by id), as
/// `{total, page, offset, <key>: [view(item)]}`.
pub(crate) fn page_of<T>(
    query: &PlansQuery,
    mut rows: Vec<(&str, i64, &str, &T)>,
    key: &str,
    view: impl Fn(&T) -> Value,
) -> ApiResult<Value> {
    let page = query.page.unwrap_or(1);
    let per_page = query.offset.unwrap_or(100);
    if page == 0 || per_page == 0 || per_page > 1000 {
        return Err(INVALID_FIELD
            .with("page must be at least 1 and offset (the page size) between 1 and 1000"));
    }
    let descending = match query.sort_order.as_deref().unwrap_or("desc") {
        "asc" => false,
        "desc" => true,
        other => {
            return Err(INVALID_FIELD.with(format!("sortOrder must be asc or desc (got {other:?})")))
        }
    };
    let by_name = match query.sort_by.as_deref().unwrap_or("created") {
        "created" | "createdAt" | "updated" | "updatedAt" => false,
        "name" => true,
        other => {
            return Err(
                INVALID_FIELD.with(format!("sortBy must be created or name (got {other:?})"))
            )
        }
    };
    rows.sort_by(|a, b| {
        if by_name { a.0.cmp(b.0) } else { a.1.cmp(&b.1) }.then_with(|| a.2.cmp(b.2))
    });
    if descending {
        rows.reverse();
    }
    let total = rows.len();
    let start = usize::try_from((page - 1).saturating_mul(per_page))
        .unwrap_or(usize::MAX)
        .min(total);
    let end = start
        .saturating_add(usize::try_from(per_page).unwrap_or(usize::MAX))
        .min(total);
    let items: Vec<Value> = rows[start..end].iter().map(|r| view(r.3)).collect();
    let mut answer = json!({"total": total, "page": page, "offset": per_page});
    answer[key] = Value::Array(items);
    Ok(answer)
}
