//! The x402 facilitator: mint (`api/v1/x402/permissions`), verify and settle.
//!
//! Verify and settle run the same checks. The static ones (signature, plan,
//! scheme and network, agent, endpoint and verb, v3 bindings) need no lock:
//! plans, agents and signatures never change. The ones that read changing
//! state (delegation budget and expiry, v3 nonce, balance) run under the
//! database lock; settle then burns in the same SQLite transaction, so two
//! settles can never spend the same credit. A pay-as-you-go plan's settle
//! burns none: it charges the plan's price to the delegation's budget, in the
//! same transaction (`billingModel: "pay-as-you-go"`, its order as `orderTx`).
//!
//! Answers: verify says "no" as a 2xx `{isValid: false, invalidReason,
//! invalidCode}`. Settle says "not enough credits" (and "time plan expired")
//! as a 2xx `{success: false, errorReason, errorCode, transaction: ""}`; every
//! other refusal is an error envelope with its code (`BCK.X402.0005` forged
//! token, `0013` expired delegation, `0023` budget, `0059` v3 reuse, ...).
//!
//! MPP (`crate::mpp`) pays through the same chokepoint: its verify and settle
//! call [`Backend::check_claims`] (what the token may pay), [`is_payee`] (who
//! may burn), [`Backend::check_funding`] and [`Backend::redeem`] (the burn and
//! its ledger row), so a request costs the same credits on both protocols.

use crate::access_token::{self, Domain, TokenContent, VerifiedToken};
use crate::agents::{Agent, UrlTarget};
use crate::backend::{Backend, Caller};
use crate::delegations::{load_delegation, record_use, Delegation};
use crate::error::*;
use crate::ids::{hex, random_bytes, tx_hash, uuid_v4};
use crate::plans::{canonical_id, grant, load_balance, store_balance, Balance, OrderKind, Plan};
use nvm_x402::api::agents::HTTP_VERBS;
use nvm_x402::protocol::{Uint256, SCHEME_CARD_DELEGATION, SCHEME_ERC4337};
use nvm_x402_types::delegation::CreateDelegation;
use nvm_x402_types::x402::{MintRequest, SettleRequest, VerifyRequest};
use nvm_x402_types::PaymentRequired;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};
use std::sync::Arc;

/// What the lock-free checks established about a request.
pub(crate) struct Checked {
    pub(crate) token: Arc<VerifiedToken>,
    pub(crate) plan: Arc<Plan>,
    pub(crate) agent: Option<Arc<Agent>>,
    url_matching: String,
    verb_matching: Option<String>,
    /// Credits the request costs.
    pub(crate) amount: i64,
    pub(crate) payer: String,
    network: String,
}

/// What a request asks a token to pay, whichever protocol framed it (x402's
/// PaymentRequired entry, or MPP's sealed challenge).
pub(crate) struct Asked<'a> {
    /// The plan (canonical id).
    pub(crate) plan_id: String,
    /// The agent named by the request, if any.
    pub(crate) agent_id: Option<&'a str>,
    /// The resource URL (or path).
    pub(crate) url: &'a str,
    /// The HTTP verb, if any.
    pub(crate) verb: Option<&'a str>,
    /// The credits asked (clamped to the plan's terms; `None`/0: its default).
    pub(crate) max_amount: Option<&'a Uint256>,
}

/// What the locked checks found: the delegation, the balance, and how many
/// orders a card delegation must buy before the burn.
pub(crate) struct Funding {
    delegation: Delegation,
    balance: Option<Balance>,
    top_ups: i64,
}

impl Backend {
    /// Decodes a token and checks its signature for `domain` (cached per domain and token string).
    pub(crate) fn open_token(&self, raw: &str, domain: Domain) -> ApiResult<Arc<VerifiedToken>> {
        let cache_key = (domain, raw.to_owned());
        if let Some(token) = self.tokens.get(&cache_key) {
            return Ok(token);
        }
        let public_key_of = |address: &str| {
            self.account(address)
                .ok()
                .flatten()
                .map(|a| a.signing_key.verifying_key())
        };
        let token = Arc::new(
            access_token::verify(raw, public_key_of, &self.secret, domain)
                .map_err(|reason| INVALID_TOKEN.with(reason))?,
        );
        self.tokens.insert(cache_key, token.clone());
        Ok(token)
    }

    /// `POST api/v1/x402/permissions` (and `api/v1/mpp/permissions`, with
    /// [`Domain::Mpp`]): mints a v2 (reusable) or v3 (single-use) token that
    /// verifies only in `domain`.
    pub fn mint(&self, caller: &Caller, request: MintRequest, domain: Domain) -> ApiResult<Value> {
        let version = request.token_version.unwrap_or(2);
        if version != 2 && version != 3 {
            return Err(INVALID_FIELD.with(format!("tokenVersion must be 2 or 3, got {version}")));
        }
        let accepted = &request.accepted;
        let plan = self.require_plan(&accepted.plan_id)?;
        if accepted.scheme != SCHEME_ERC4337 && accepted.scheme != SCHEME_CARD_DELEGATION {
            return Err(SCHEME_MISMATCH.with(format!(
                "scheme must be nvm:erc4337 or nvm:card-delegation (got {:?})",
                accepted.scheme
            )));
        }
        if accepted.scheme != plan.scheme.scheme || accepted.network != plan.scheme.network {
            return Err(SCHEME_MISMATCH.with(format!(
                "Plan {} is paid with {} on {}, not {} on {}",
                plan.id, plan.scheme.scheme, plan.scheme.network, accepted.scheme, accepted.network
            )));
        }
        let agent_id = self
            .agent_taking(accepted.extra.agent_id.as_deref(), &plan)?
            .map(|a| a.id.clone());
        let http_verb = match accepted
            .extra
            .http_verb
            .as_deref()
            .filter(|v| !v.is_empty())
        {
            Some(v) if HTTP_VERBS.contains(&v.to_ascii_uppercase().as_str()) => {
                Some(v.to_ascii_uppercase())
            }
            Some(v) => {
                return Err(INVALID_FIELD.with(format!(
                    "accepted.extra.httpVerb {v:?} is not an HTTP method"
                )))
            }
            None => None,
        };
        if let Some(resource) = &request.resource {
            if UrlTarget::parse(&resource.url).is_none() {
                return Err(INVALID_FIELD.with(
                    "resource.url must be an absolute http(s) URL or a path starting with '/'",
                ));
            }
        }
        let delegation = self.delegation_for_mint(caller, &request)?;
        if delegation.scheme() != accepted.scheme {
            return Err(SCHEME_MISMATCH.with(format!(
                "Delegation {} ({}) can't back {} tokens",
                delegation.id, delegation.provider, accepted.scheme
            )));
        }
        let now = self.now_ms();
        delegation.check_usable(&plan.id, now)?;
        if delegation
            .api_key_id
            .as_ref()
            .is_some_and(|k| *k != caller.key_id)
        {
            return Err(DELEGATION_NOT_USABLE.with(format!(
                "Delegation {} is restricted to another API key",
                delegation.id
            )));
        }
        let content = TokenContent {
            scheme: accepted.scheme.clone(),
            network: accepted.network.clone(),
            plan_id: plan.id.clone(),
            agent_id,
            http_verb,
            resource: request
                .resource
                .as_ref()
                .map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
            from: caller.address().to_owned(),
            delegation_id: delegation.id.clone(),
            nonce: (version == 3).then(|| hex(&random_bytes::<16>())),
        };
        let token = access_token::mint(
            &content,
            &caller.account.signing_key,
            &self.secret,
            now / 1000,
            domain,
        );
        Ok(json!({"accessToken": token, "delegationId": delegation.id, "tokenVersion": version}))
    }

    /// The agent a request names (blank: none), which must exist
    /// (`BCK.PROTOCOL.0901`) and take `plan` (`BCK.X402.0903`): x402's mint
    /// and MPP's challenge.
    pub(crate) fn agent_taking(
        &self,
        agent_id: Option<&str>,
        plan: &Plan,
    ) -> ApiResult<Option<Arc<Agent>>> {
        let Some(id) = agent_id.map(str::trim).filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        let agent = self.require_agent(id)?;
        if !agent.accepts_plan(plan) {
            return Err(AGENT_MISMATCH.with(format!(
                "Agent {} does not accept plan {}",
                agent.id, plan.id
            )));
        }
        Ok(Some(agent))
    }

    /// The delegation a mint names — or, with the deprecated inline fields, a new one.
    fn delegation_for_mint(&self, caller: &Caller, request: &MintRequest) -> ApiResult<Delegation> {
        let config = &request.delegation_config;
        match config.delegation_id.as_deref().map(str::trim) {
            Some("") => {
                Err(INVALID_FIELD.with("delegationConfig.delegationId must not be an empty string"))
            }
            Some(id) => self.own_delegation(caller, id),
            None if config.uses_inline_fields() => {
                let card = request.accepted.scheme == SCHEME_CARD_DELEGATION;
                let body = CreateDelegation {
                    provider: if card {
                        request.accepted.network.clone()
                    } else {
                        "erc4337".to_owned()
                    },
                    provider_payment_method_id: config
                        .provider_payment_method_id
                        .clone()
                        .or_else(|| config.card_id.clone()),
                    spending_limit_cents: config.spending_limit_cents,
                    duration_secs: config.duration_secs,
                    currency: config.currency.clone(),
                    api_key_id: config.api_key_id.clone(),
                    ..Default::default()
                };
                self.insert_delegation(caller, &body)
            }
            // `{}`, `{ apiKeyId }`, `{ currency }`: nothing names a delegation or asks for one.
            None => Err(DELEGATION_REQUIRED.with(format!(
                "delegationConfig names no delegation for {} token generation: pass {{ delegationId }} (create one with POST api/v1/delegation/create)",
                request.accepted.scheme
            ))),
        }
    }

    /// The checks that read nothing that changes, for an x402 request: the
    /// token (x402 domain), the PaymentRequired entry for its plan, then
    /// [`Backend::check_claims`].
    fn check_request(
        &self,
        required: &PaymentRequired,
        raw_token: &str,
        max_amount: Option<&Uint256>,
    ) -> ApiResult<Checked> {
        let token = self.open_token(raw_token, Domain::X402)?;
        let claims = &token.claims;
        let plan_id = claims
            .plan_id
            .as_deref()
            .map(canonical_id)
            .ok_or_else(|| INVALID_TOKEN.with("The access token names no plan"))?;
        let entry = required
            .accepts
            .iter()
            .find(|a| a.plan_id.as_deref().map(canonical_id).as_ref() == Some(&plan_id))
            .ok_or_else(|| {
                PLAN_MISMATCH.with(format!(
                    "The token pays plan {plan_id}, which this PaymentRequired does not accept"
                ))
            })?;
        let plan = self.require_plan(&plan_id)?;
        let (scheme, network) = (
            claims.scheme.as_deref().unwrap_or_default(),
            claims.network.as_deref().unwrap_or_default(),
        );
        if entry.scheme != scheme || entry.network != network {
            return Err(SCHEME_MISMATCH.with(format!(
                "The token is {scheme} on {network}; the PaymentRequired asks for {} on {}",
                entry.scheme, entry.network
            )));
        }
        let extra = entry.extra.as_ref();
        let asked = Asked {
            plan_id: plan.id.clone(),
            agent_id: extra.and_then(|e| e.agent_id.as_deref()),
            url: required.resource.url.as_str(),
            verb: extra.and_then(|e| e.http_verb.as_deref()),
            max_amount,
        };
        self.check_claims(&token, &asked)
    }

    /// The checks of what a token may pay that read nothing that changes:
    /// the plan and its scheme, the agent (the token's binding, the plan),
    /// the endpoint and verb, a v3 token's bindings, and the credits.
    pub(crate) fn check_claims(
        &self,
        token: &Arc<VerifiedToken>,
        asked: &Asked,
    ) -> ApiResult<Checked> {
        let claims = &token.claims;
        let plan = self.require_plan(&asked.plan_id)?;
        let (scheme, network) = (
            claims.scheme.clone().unwrap_or_default(),
            claims.network.clone().unwrap_or_default(),
        );
        if scheme != plan.scheme.scheme || network != plan.scheme.network {
            return Err(SCHEME_MISMATCH.with(format!(
                "Plan {} is paid with {} on {}",
                plan.id, plan.scheme.scheme, plan.scheme.network
            )));
        }
        let asked_agent = asked.agent_id.filter(|a| !a.is_empty());
        // A token minted for an agent (v2 or v3) pays that agent only.
        let bound_agent = claims.agent_id.as_deref().filter(|a| !a.is_empty());
        if let Some(bound) = bound_agent {
            if asked_agent.map(canonical_id) != Some(canonical_id(bound)) {
                return Err(AGENT_MISMATCH.with(format!(
                    "The token was minted for agent {bound}, not {}",
                    asked_agent.unwrap_or("(no agent)")
                )));
            }
        }
        let agent = match asked_agent.or(bound_agent) {
            Some(id) => {
                let agent = self.agent(id)?.ok_or_else(|| {
                    AGENT_MISMATCH.with(format!("Agent {} not found", crate::error::shorten(id)))
                })?;
                if !agent.accepts_plan(&plan) {
                    return Err(AGENT_MISMATCH.with(format!(
                        "Agent {} does not accept plan {}",
                        agent.id, plan.id
                    )));
                }
                Some(agent)
            }
            None => None,
        };
        let url = asked.url;
        let verb = asked.verb.filter(|v| !v.is_empty());
        let (url_matching, verb_matching) = match &agent {
            Some(agent) => agent.match_request(url, verb)?,
            None => (url.to_owned(), verb.map(str::to_ascii_uppercase)),
        };
        if token.version() == 3 {
            if let Some(bound_url) = &claims.resource_url {
                let same = matches!((UrlTarget::parse(bound_url), UrlTarget::parse(url)), (Some(a), Some(b)) if a.same_resource(&b));
                if !same {
                    return Err(ENDPOINT_MISMATCH
                        .with("The single-use token is bound to another resource URL"));
                }
            }
            if let Some(bound_verb) = &claims.http_verb {
                if !verb.is_some_and(|v| v.eq_ignore_ascii_case(bound_verb)) {
                    return Err(VERB_MISMATCH.with(format!(
                        "The single-use token is bound to {bound_verb}, not {}",
                        verb.unwrap_or("(no verb)")
                    )));
                }
            }
        }
        let amount = plan.credits_for_request(asked.max_amount);
        let payer = claims.from.clone().unwrap_or_default();
        Ok(Checked {
            token: token.clone(),
            plan,
            agent,
            url_matching,
            verb_matching,
            amount,
            payer,
            network,
        })
    }

    /// The checks that read changing state; run under the lock (inside settle's transaction).
    pub(crate) fn check_funding(conn: &Connection, c: &Checked, now: i64) -> ApiResult<Funding> {
        let delegation = load_delegation(conn, &c.token.delegation_id)?
            .filter(|d| d.owner == c.payer)
            .ok_or_else(|| {
                DELEGATION_NOT_USABLE
                    .with("The token's delegation does not exist or belongs to another account")
            })?;
        if delegation.scheme() != c.token.claims.scheme.as_deref().unwrap_or_default() {
            return Err(SCHEME_MISMATCH.with(format!(
                "Delegation {} ({}) can't back this token's scheme",
                delegation.id, delegation.provider
            )));
        }
        delegation.check_usable(&c.plan.id, now)?;
        if let Some(nonce) = &c.token.claims.nonce {
            let used: Option<String> = conn
                .prepare_cached("SELECT tx FROM settlements WHERE nonce = ?1")?
                .query_row([nonce], |r| r.get(0))
                .optional()?;
            if let Some(tx) = used {
                return Err(TOKEN_ALREADY_USED.with(format!(
                    "This single-use (v3) token was already settled in {tx}"
                )));
            }
        }
        let plan = &c.plan;
        let balance = load_balance(conn, &plan.id, &c.payer)?;
        if plan.pay_as_you_go {
            // One charge of the price, to the delegation's budget (a card's, or an
            // erc4337 session key's allowance): no credits, no order needed first.
            let what = format!("a request to pay-as-you-go plan {}", plan.id);
            within_budget(&delegation, plan.price_cents(), &what)?;
            return Ok(Funding {
                delegation,
                balance,
                top_ups: 0,
            });
        }
        let orders = balance.map_or(0, |b| b.orders);
        let top_ups = if plan.is_time_plan() {
            i64::from(!plan.is_usable(balance.as_ref(), now))
        } else {
            let missing = c.amount.saturating_sub(balance.map_or(0, |b| b.credits));
            if missing <= 0 {
                0
            } else {
                (missing + plan.credits_granted - 1) / plan.credits_granted
            }
        };
        if top_ups == 0 {
            return Ok(Funding {
                delegation,
                balance,
                top_ups,
            });
        }
        let refusal = if plan.is_time_plan() && orders > 0 {
            PLAN_EXPIRED.with(format!(
                "The subscription to time plan {} has expired",
                plan.id
            ))
        } else if orders == 0 && !delegation.is_card() {
            INSUFFICIENT_CREDITS.with(format!(
                "{} is not a subscriber of plan {}: order it first",
                c.payer, plan.id
            ))
        } else {
            let have = balance.map_or(0, |b| b.credits);
            INSUFFICIENT_CREDITS.with(format!(
                "Insufficient credits: the balance is {have}, the request costs {}",
                c.amount
            ))
        };
        let can_top_up = delegation.is_card() && !(plan.is_trial && (orders > 0 || top_ups > 1));
        if !can_top_up {
            return Err(refusal);
        }
        let cost = top_ups.checked_mul(plan.price_cents()).unwrap_or(i64::MAX);
        let what = format!("buying {top_ups} order(s) of plan {}", plan.id);
        within_budget(&delegation, cost, &what)?;
        Ok(Funding {
            delegation,
            balance,
            top_ups,
        })
    }

    /// `POST api/v1/x402/verify`. Consumes nothing.
    pub fn verify(&self, request: &VerifyRequest) -> ApiResult<Value> {
        check_payment_required(&request.payment_required, &request.x402_access_token)?;
        let checked = match self.check_request(
            &request.payment_required,
            &request.x402_access_token,
            request.max_amount.as_ref(),
        ) {
            Ok(c) => c,
            Err(e) => return Ok(invalid(&e, None)),
        };
        let now = self.now_ms();
        let funding = Self::check_funding(&self.store.lock(), &checked, now);
        match funding {
            Ok(f) => Ok(verified(&checked, &f, now)),
            Err(e) if e.code == INTERNAL => Err(e),
            Err(e) => Ok(invalid(&e, Some(&checked))),
        }
    }

    /// `POST api/v1/x402/settle`: re-checks, then burns atomically. Only the
    /// plan's owner may settle: directly, or through an agent of theirs that
    /// carries the plan (an agent only takes its own owner's plans).
    pub fn settle(&self, caller: &Caller, request: &SettleRequest) -> ApiResult<Value> {
        check_payment_required(&request.payment_required, &request.x402_access_token)?;
        if request
            .margin_percent
            .is_some_and(|m| !m.is_finite() || m < 0.0)
        {
            return Err(INVALID_FIELD.with("marginPercent must be a non-negative number"));
        }
        let c = self.check_request(
            &request.payment_required,
            &request.x402_access_token,
            request.max_amount.as_ref(),
        )?;
        if !is_payee(caller, &c) {
            return Err(NOT_PAYEE.with(format!(
                "{} owns neither plan {} nor the agent; only they may settle its credits",
                caller.address(),
                c.plan.id
            )));
        }
        let now = self.now_ms();
        let mut conn = self.store.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match Self::redeem(&tx, &c, now) {
            Ok(answer) => {
                tx.commit()?;
                Ok(answer)
            }
            Err(e) if e.code == INSUFFICIENT_CREDITS || e.code == PLAN_EXPIRED => {
                let remaining = load_balance(&tx, &c.plan.id, &c.payer)?.map_or(0, |b| b.credits);
                Ok(json!({
                    "success": false,
                    "errorReason": e.message,
                    "errorCode": e.code.code,
                    "payer": c.payer,
                    "transaction": "",
                    "network": c.network,
                    "billingModel": c.plan.billing_model(),
                    "creditsRedeemed": "0",
                    "remainingBalance": remaining.to_string(),
                }))
            }
            Err(e) => Err(e),
        }
    }

    /// The burn, inside the caller's transaction `tx` (the caller commits; an
    /// error leaves it to roll back): the locked checks ([`Backend::check_funding`]),
    /// a card delegation's top-up orders or a pay-as-you-go charge, the credits
    /// burned, the delegation's use and the `settlements` ledger row. Returns
    /// the settle answer `{success: true, payer, transaction, network,
    /// billingModel, creditsRedeemed, remainingBalance, orderTx?}`. x402's and
    /// MPP's settles both burn here.
    pub(crate) fn redeem(tx: &Connection, c: &Checked, now: i64) -> ApiResult<Value> {
        let funding = Self::check_funding(tx, c, now)?;
        let mut order_tx = None;
        let mut spent_cents = 0;
        for _ in 0..funding.top_ups {
            let tx_hash = grant(
                tx,
                &c.plan,
                &c.payer,
                OrderKind::DelegationTopUp,
                Some(&funding.delegation.id),
                now,
            )?;
            order_tx.get_or_insert(tx_hash);
            spent_cents += c.plan.price_cents();
        }
        if c.plan.pay_as_you_go {
            let charge = grant(
                tx,
                &c.plan,
                &c.payer,
                OrderKind::PayAsYouGo,
                Some(&funding.delegation.id),
                now,
            )?;
            order_tx = Some(charge);
            spent_cents = c.plan.price_cents();
        }
        let mut balance = load_balance(tx, &c.plan.id, &c.payer)?
            .ok_or_else(|| INTERNAL.with("balance vanished during settle"))?;
        let burned = if c.plan.is_time_plan() || c.plan.pay_as_you_go {
            0
        } else {
            c.amount
        };
        balance.credits -= burned;
        store_balance(tx, &c.plan.id, &c.payer, &balance)?;
        record_use(tx, &funding.delegation.id, spent_cents)?;
        let transaction = tx_hash();
        tx.prepare_cached(
            "INSERT INTO settlements (tx, plan_id, agent_id, payer, delegation_id, credits, nonce, order_tx, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![transaction, c.plan.id, c.agent.as_ref().map(|a| a.id.as_str()), c.payer, funding.delegation.id, burned, c.token.claims.nonce, order_tx, now])?;
        let mut answer = json!({
            "success": true,
            "payer": c.payer,
            "transaction": transaction,
            "network": c.network,
            "billingModel": c.plan.billing_model(),
            "creditsRedeemed": burned.to_string(),
            "remainingBalance": balance.credits.to_string(),
        });
        if let Some(order_tx) = order_tx {
            answer["orderTx"] = json!(order_tx);
        }
        Ok(answer)
    }
}

/// Who may burn a request's credits (settle; MPP's challenge, verify and
/// settle too): the plan's owner, directly or through an agent of theirs that
/// carries the plan (an agent only takes its own owner's plans).
pub(crate) fn is_payee(caller: &Caller, c: &Checked) -> bool {
    owns(caller, &c.plan, c.agent.as_deref())
}

/// [`is_payee`] on a plan and an agent.
pub(crate) fn owns(caller: &Caller, plan: &Plan, agent: Option<&Agent>) -> bool {
    plan.owner == caller.address()
        || agent.is_some_and(|a| a.owner == caller.address() && a.accepts_plan(plan))
}

/// A verify "yes" (x402's and MPP's).
pub(crate) fn verified(c: &Checked, funding: &Funding, now: i64) -> Value {
    let agent_request_id = uuid_v4();
    json!({
        "isValid": true,
        "payer": c.payer,
        "network": c.network,
        "agentRequestId": agent_request_id,
        "urlMatching": c.url_matching,
        "verbMatching": c.verb_matching,
        "agentRequest": {
            "agentRequestId": agent_request_id,
            "agentName": c.agent.as_ref().map(|a| a.metadata.name.clone()),
            "agentId": c.agent.as_ref().map(|a| a.id.clone()),
            "balance": c.plan.balance_json(&c.payer, funding.balance.as_ref(), now),
            "urlMatching": c.url_matching,
            "verbMatching": c.verb_matching,
            "batch": false,
        },
    })
}

/// `BCK.X402.0023` unless the delegation's budget covers `cost` cents (for `what`).
fn within_budget(delegation: &Delegation, cost: i64, what: &str) -> ApiResult<()> {
    if cost > delegation.remaining_cents() {
        return Err(BUDGET_TOO_LOW.with(format!(
            "Delegation {} has {} cents left; {what} costs {cost} cents",
            delegation.id,
            delegation.remaining_cents()
        )));
    }
    Ok(())
}

/// Malformed input (an envelope, not a "no"): the wrong x402 version or no token.
fn check_payment_required(required: &PaymentRequired, token: &str) -> ApiResult<()> {
    if required.x402_version != 2 {
        return Err(INVALID_FIELD.with(format!(
            "paymentRequired.x402Version must be 2 (got {})",
            required.x402_version
        )));
    }
    if token.trim().is_empty() {
        return Err(MISSING_FIELD.with("x402AccessToken is required"));
    }
    Ok(())
}

/// A verify "no".
fn invalid(e: &ApiError, checked: Option<&Checked>) -> Value {
    let mut answer =
        json!({"isValid": false, "invalidReason": e.message, "invalidCode": e.code.code});
    if let Some(c) = checked {
        answer["payer"] = json!(c.payer);
        answer["network"] = json!(c.network);
    }
    answer
}
