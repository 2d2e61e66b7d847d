//! [`Payments`]: the client. It resolves its configuration once, turns each
//! method into an [`api`] call, sends it through its [`Transport`] and parses
//! the answer. State is per instance (no globals): the scheme cache and the
//! "deprecated option" warning flag.

use crate::api::agents::{self, AgentAndPlanAnswer, AgentApiAttributes, AgentIdAnswer, AgentMetadata};
use crate::api::delegation::{self, CreateDelegation, CreatedDelegation, PaymentMethodsQuery};
use crate::api::plans::{self, AccessLimit, CreditsConfig, PlanIdAnswer, PlanMetadata, PlansQuery, PriceConfig};
use crate::api::x402::{self, MintResponse, PlanBalance, SettleRequest, SettleResponse, TokenOptions, VerifyRequest, VerifyResponse};
use crate::api::Call;
use crate::error::{Error, Result};
use crate::protocol::{self, build_payment_required, BuildOptions, ClientConfig, PaymentsOptions, ResolvedScheme, TokenClaims, Uint256};
use crate::transport::Transport;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// How long a resolved plan scheme is reused (as the official SDK: 5 minutes).
pub const SCHEME_CACHE_MS: u64 = 5 * 60 * 1000;

/// A Nevermined client bound to one API key and one transport.
///
/// ```
/// # use nvm_x402::transport::{HttpRequest, HttpResponse, Transport};
/// # struct Offline;
/// # impl Transport for Offline {
/// #     async fn send(&self, _: HttpRequest) -> nvm_x402::Result<HttpResponse> { Err(nvm_x402::Error::Network("offline".into())) }
/// #     fn now_ms(&self) -> u64 { 0 }
/// # }
/// use nvm_x402::{Payments, protocol::PaymentsOptions};
/// let payments = Payments::new(&PaymentsOptions {
///     nvm_api_key: Some("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
///     ..Default::default()
/// }, Offline).unwrap();
/// assert_eq!(payments.config().backend_url, "http://127.0.0.1:3001/");
/// ```
pub struct Payments<T: Transport> {
    config: ClientConfig,
    transport: T,
    warned_inline_delegation: Cell<bool>,
    schemes: RefCell<HashMap<String, (ResolvedScheme, u64)>>,
}

/// Options of `startProcessingRequest`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartOptions {
    /// The plan (default: the token's `accepted.planId`).
    #[serde(default)]
    pub plan_id: Option<String>,
    /// Credits the request costs (default 1).
    #[serde(default)]
    pub credits: Option<Uint256>,
}

/// What `startProcessingRequest` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartProcessingResult {
    /// Whether the request may proceed.
    pub is_valid: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    /// Pass to `settlePermissions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    /// The plan the request was checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The PaymentRequired that was verified (settle with the same one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_required: Option<protocol::PaymentRequired>,
    /// The subscriber's balance (`isSubscriber: false, balance: "0"` when unknown).
    pub balance: PlanBalance,
}

impl<T: Transport> Payments<T> {
    /// Resolves the options (see [`ClientConfig::from_options`]) and binds a transport.
    pub fn new(options: &PaymentsOptions, transport: T) -> Result<Self> {
        Ok(Payments {
            config: ClientConfig::from_options(options)?,
            transport,
            warned_inline_delegation: Cell::new(false),
            schemes: RefCell::new(HashMap::new()),
        })
    }

    /// The resolved configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Sends a call and parses its answer.
    pub async fn execute<R>(&self, call: Call<R>) -> Result<R> {
        let response = self.transport.send(call.request).await?;
        (call.parse)(response)
    }

    // ---- x402 ------------------------------------------------------------

    /// `x402.getX402AccessToken(planId, agentId?, tokenOptions?)`.
    pub async fn get_x402_access_token(&self, plan_id: &str, agent_id: Option<&str>, options: &TokenOptions) -> Result<MintResponse> {
        let (call, warning) = x402::mint(&self.config, plan_id, agent_id, options)?;
        if warning.is_some() && !self.warned_inline_delegation.replace(true) {
            self.transport.warn(x402::INLINE_DELEGATION_WARNING);
        }
        self.execute(call).await
    }

    /// `facilitator.verifyPermissions(...)`.
    pub async fn verify_permissions(&self, body: &VerifyRequest) -> Result<VerifyResponse> {
        self.execute(x402::verify(&self.config, body)?).await
    }

    /// `facilitator.settlePermissions(...)`.
    pub async fn settle_permissions(&self, body: &SettleRequest) -> Result<SettleResponse> {
        self.execute(x402::settle(&self.config, body)?).await
    }

    /// `resolveScheme(planId)`: the plan's scheme and network, cached per plan for 5 minutes.
    pub async fn resolve_scheme(&self, plan_id: &str) -> Result<ResolvedScheme> {
        let now = self.transport.now_ms();
        if let Some((scheme, expires)) = self.schemes.borrow().get(plan_id) {
            if *expires > now {
                return Ok(scheme.clone());
            }
        }
        let plan = self.get_plan(plan_id).await?;
        let resolved = protocol::scheme_of_plan(&plan, self.config.environment);
        self.schemes.borrow_mut().insert(plan_id.to_owned(), (resolved.clone(), now + SCHEME_CACHE_MS));
        Ok(resolved)
    }

    /// `requests.startProcessingRequest(agentId, accessToken, url, httpVerb, options)`:
    /// builds the PaymentRequired for that URL and verb and verifies the token
    /// against it, in one backend call. A missing or undecodable token is a
    /// `isValid: false` answer with no backend call.
    pub async fn start_processing_request(&self, agent_id: &str, token: &str, url: &str, http_verb: &str, options: &StartOptions) -> Result<StartProcessingResult> {
        let invalid = |reason: &str, plan_id: Option<String>| StartProcessingResult {
            is_valid: false,
            invalid_reason: Some(reason.to_owned()),
            agent_request_id: None,
            payment_required: None,
            balance: PlanBalance { plan_id: plan_id.clone().unwrap_or_default(), ..Default::default() },
            plan_id,
        };
        if token.trim().is_empty() {
            return Ok(invalid("Missing x402 payment token", options.plan_id.clone()));
        }
        let decoded = match protocol::try_decode_access_token(token) {
            Ok(t) => t,
            Err(e) => return Ok(invalid(&e.to_string(), options.plan_id.clone())),
        };
        let claims = TokenClaims::from_token(&decoded);
        let Some(plan_id) = options.plan_id.clone().filter(|p| !p.is_empty()).or(claims.plan_id.clone()) else {
            return Ok(invalid("The access token names no plan and no planId was given", None));
        };
        let scheme = claims.scheme.clone().unwrap_or_else(|| protocol::SCHEME_ERC4337.to_owned());
        let payment_required = build_payment_required(
            &plan_id,
            &BuildOptions {
                endpoint: Some(url.to_owned()),
                agent_id: Some(agent_id.to_owned()).filter(|a| !a.is_empty()),
                http_verb: Some(http_verb.to_owned()),
                network: Some(claims.network.clone().unwrap_or_else(|| self.config.default_network(&scheme).to_owned())),
                scheme: Some(scheme),
                ..Default::default()
            },
        )?;
        let verified = self
            .verify_permissions(&VerifyRequest {
                payment_required: payment_required.clone(),
                x402_access_token: token.to_owned(),
                max_amount: Some(options.credits.clone().unwrap_or_else(|| Uint256::from(1))),
            })
            .await?;
        let balance = match verified.agent_request.as_ref().and_then(|r| r.balance.clone()) {
            Some(b) => b,
            None => match verified.payer.as_deref().or(claims.from.as_deref()) {
                Some(holder) if verified.is_valid => self.get_plan_balance(&plan_id, Some(holder)).await?,
                _ => PlanBalance { plan_id: plan_id.clone(), ..Default::default() },
            },
        };
        Ok(StartProcessingResult {
            is_valid: verified.is_valid,
            invalid_reason: verified.invalid_reason.clone(),
            agent_request_id: verified.agent_request_id.clone().or_else(|| verified.agent_request.as_ref().and_then(|r| r.agent_request_id.clone())),
            plan_id: Some(plan_id),
            payment_required: Some(payment_required),
            balance,
        })
    }

    // ---- plans -----------------------------------------------------------

    /// `plans.getPlan(planId)`.
    pub async fn get_plan(&self, plan_id: &str) -> Result<Value> {
        self.execute(plans::get_plan(&self.config, plan_id)?).await
    }

    /// `plans.getPlans({page, offset, sortBy, sortOrder})`: the caller's plans.
    pub async fn get_plans(&self, query: &PlansQuery) -> Result<Value> {
        self.execute(plans::get_plans(&self.config, query)?).await
    }

    /// `plans.getPlanBalance(planId, holder?)`; the holder defaults to the key's `sub`.
    pub async fn get_plan_balance(&self, plan_id: &str, holder: Option<&str>) -> Result<PlanBalance> {
        let holder = holder.filter(|h| !h.is_empty()).or(self.config.api_key.subject()).unwrap_or("");
        self.execute(plans::get_plan_balance(&self.config, plan_id, holder)?).await
    }

    /// `plans.orderPlan(planId)`.
    pub async fn order_plan(&self, plan_id: &str) -> Result<Value> {
        self.execute(plans::order_plan(&self.config, plan_id)?).await
    }

    /// `plans.orderFiatPlan(planId)`: a checkout link.
    pub async fn order_fiat_plan(&self, plan_id: &str) -> Result<Value> {
        self.execute(plans::order_fiat_plan(&self.config, plan_id)?).await
    }

    /// `plans.registerPlan(...)` with an explicit (or implied) access limit.
    pub async fn register_plan(&self, metadata: PlanMetadata, price: PriceConfig, credits: CreditsConfig, access_limit: Option<AccessLimit>, trial: bool) -> Result<PlanIdAnswer> {
        let limit = access_limit.unwrap_or_else(|| AccessLimit::implied_by(&credits));
        let nonce = Uint256::from(self.transport.random_u64());
        self.execute(plans::register_plan(&self.config, metadata, price, credits, limit, trial, nonce)?).await
    }

    // ---- agents ----------------------------------------------------------

    /// `agents.registerAgent(metadata, api, planIds)`.
    pub async fn register_agent(&self, metadata: &AgentMetadata, api: &AgentApiAttributes, plan_ids: &[String]) -> Result<AgentIdAnswer> {
        self.execute(agents::register_agent(&self.config, metadata, api, plan_ids)?).await
    }

    /// `agents.registerAgentAndPlan(agentMetadata, agentApi, planMetadata, price, credits, accessLimit?)`.
    pub async fn register_agent_and_plan(
        &self,
        agent: &AgentMetadata,
        api: &AgentApiAttributes,
        plan: &PlanMetadata,
        price: &PriceConfig,
        credits: &CreditsConfig,
        access_limit: Option<AccessLimit>,
    ) -> Result<AgentAndPlanAnswer> {
        self.execute(agents::register_agent_and_plan(&self.config, agent, api, plan, price, credits, access_limit)?).await
    }

    /// `agents.getAgent(agentId)`.
    pub async fn get_agent(&self, agent_id: &str) -> Result<Value> {
        self.execute(agents::get_agent(&self.config, agent_id)?).await
    }

    /// `agents.getAgentPlans(agentId)`.
    pub async fn get_agent_plans(&self, agent_id: &str) -> Result<Value> {
        self.execute(agents::get_agent_plans(&self.config, agent_id)?).await
    }

    // ---- delegation ------------------------------------------------------

    /// `delegation.createDelegation(payload)`.
    pub async fn create_delegation(&self, body: &CreateDelegation) -> Result<CreatedDelegation> {
        self.execute(delegation::create_delegation(&self.config, body)?).await
    }

    /// `delegation.listDelegations({accessible?})`.
    pub async fn list_delegations(&self, accessible: bool) -> Result<Value> {
        self.execute(delegation::list_delegations(&self.config, accessible)?).await
    }

    /// `delegation.listPaymentMethods({accessible?, provider?})`.
    pub async fn list_payment_methods(&self, query: &PaymentMethodsQuery) -> Result<Value> {
        self.execute(delegation::list_payment_methods(&self.config, query)?).await
    }
}

impl<T: Transport> std::fmt::Debug for Payments<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Turns an error from a wrong-typed argument into a `validation` error that names the argument.
pub fn argument_error(name: &str, e: impl std::fmt::Display) -> Error {
    Error::validation(format!("{name}: {e}"))
}
