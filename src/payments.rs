//! [`Payments`]: the client, and the only door the JS method table (the
//! bridge) goes through. It resolves its configuration once, turns each
//! method into an [`api`](crate::api) call (a [`Pending`]: `.send().await`
//! sends it through its [`Transport`] and parses the answer). State is per instance (no globals): the plans' terms and what
//! the paying client remembers.

use crate::api::agents::{self, AgentAndPlan};
use crate::api::plans::{self, AccessLimit};
use crate::api::x402::{self, normalize_balance};
use crate::api::{delegation, organizations, Call};
use crate::cache::Bounded;
use crate::client_state::ClientState;
use crate::error::{Error, Result};
use crate::protocol::json::Value;
use crate::protocol::json::{self, ObjectBuilder};
use crate::protocol::{
    self, build_payment_required, BuildOptions, ClientConfig, PaymentsOptions, ResolvedScheme,
    TokenClaims, Uint256,
};
use crate::transport::Transport;
#[cfg(feature = "browser")]
use std::cell::Cell;
use std::future::Future;

/// How long a resolved plan scheme is reused (as the official SDK: 5 minutes).
pub const SCHEME_CACHE_MS: u64 = 5 * 60 * 1000;

/// At most this many plans' terms are kept (the oldest, which is also the
/// first expired, is forgotten first). A paywall's routes and a client's
/// calls name a handful of plans; past this many, each lookup only costs
/// one `getPlan` more.
const PLANS_KEPT: usize = 64;

/// One backend call, built and ready (or the reason it can't be):
/// `.send().await` sends it and parses the answer. Every single-call method
/// returns this one type, so the JS method table (the bridge) calls
/// `Payments` alone and the WebAssembly holds one future for all of them.
#[must_use = "a backend call is sent by `.send().await`"]
pub struct Pending<'a, T: Transport> {
    payments: &'a Payments<T>,
    call: Result<Call<Value>>,
    /// A call that sends no key (the buyer's `getOrder`): sent even signed out.
    anonymous: bool,
}

impl<'a, T: Transport> Pending<'a, T> {
    /// Sends the call and parses the answer. Every single-call method's
    /// future is this one type (no boxing, one copy in the .wasm).
    pub fn send(self) -> impl Future<Output = Result<Value>> + 'a {
        self.payments.dispatch(self.call, self.anonymous)
    }

    /// The official `publicationOptions` of a registration (`{organizationId?}`):
    /// this call goes to that organization (`X-Current-Org-Id`), the
    /// instance's pin (`setOrganizationId`) untouched. Absent, `null` or an
    /// empty id: the pin, as the official SDK's.
    #[cfg(feature = "builder")]
    pub fn publication(mut self, options: &Value) -> Self {
        if let Ok(call) = &mut self.call {
            if let Err(e) = crate::api::publish_in(&mut call.request, options) {
                self.call = Err(e);
            }
        }
        self
    }
}

/// `orderPlan` of a plan paid with `scheme`: a fiat (card) plan is ordered
/// with `orderFiatPlan` (a checkout link), so ordering it is refused here,
/// before anything is sent to buy it.
pub(crate) fn refuse_fiat_order(plan_id: &str, scheme: &ResolvedScheme) -> Result<()> {
    if scheme.scheme == protocol::SCHEME_CARD_DELEGATION {
        return Err(Error::misuse(
            String::from("Plan ") + plan_id.trim() + " is a fiat plan",
            "Order it with plans.orderFiatPlan(planId).",
        ));
    }
    Ok(())
}

/// What a plan is paid with and what one request may cost (`registry.credits.maxAmount`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTerms {
    /// Scheme and network.
    pub scheme: ResolvedScheme,
    /// The most credits one request may burn, when the plan says: the larger
    /// of its `minAmount` and `maxAmount`, and at least 1 (a backend reads a
    /// `maxAmount` of 0 as "the plan's default", which nvm-local makes 1:
    /// never read it as "free").
    pub max_credits_per_request: Option<Uint256>,
    /// How a request is charged (the paying client's money cap reads it; read
    /// from the plan only in cores with the paying client, `Unknown` elsewhere).
    pub billing: crate::api::plans::Billing,
}

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
    /// Plans' terms, keyed by the plan id (compared whole) for
    /// [`SCHEME_CACHE_MS`]. The id comes from the paywall's own routes, from
    /// the JS caller (`resolveScheme`), or from an agent's 402 but only for a
    /// plan the paying caller allowed (`planIds`, or any with `anyPlan`). An
    /// entry is this client's `getPlan` answer for that very id, so whoever
    /// names ids can only evict others' (one `getPlan` more for them), never
    /// make one plan answer with another's scheme or price.
    plans: Bounded<String, PlanTerms, PLANS_KEPT>,
    client: ClientState,
    /// The deployment (`getDeploymentInfo`'s answer) once one was read, for
    /// the instance's life, as the official SDKs keep it; a failed read keeps
    /// nothing (the next call asks again). One value, no key (so not a
    /// `cache::Bounded`, whose one-entry form was 0.19 KB gzipped more): the
    /// public answer of this instance's own backend (`GET /`), read only for
    /// the builder's contract addresses (the pay-as-you-go template); it
    /// never decides who pays or what is charged.
    #[cfg(feature = "builder")]
    deployment: std::cell::OnceCell<Value>,
    /// No key (a browser client before sign-in) or `logout()` was called:
    /// every call fails with `not_logged_in` before anything is sent.
    #[cfg(feature = "browser")]
    signed_out: Cell<bool>,
}

impl<T: Transport> Payments<T> {
    /// Resolves the options (see [`ClientConfig::from_options`]) and binds a transport.
    pub fn new(options: &PaymentsOptions, transport: T) -> Result<Self> {
        let config = ClientConfig::from_options(options)?;
        Ok(Payments {
            #[cfg(feature = "browser")]
            signed_out: Cell::new(config.api_key.is_none()),
            config,
            transport,
            plans: Bounded::default(),
            client: ClientState::default(),
            #[cfg(feature = "builder")]
            deployment: Default::default(),
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

    /// What the paying client remembers (tokens, routes, delegations).
    pub fn client_state(&self) -> &ClientState {
        &self.client
    }

    /// Sends a call, when building it worked.
    async fn dispatch(&self, call: Result<Call<Value>>, anonymous: bool) -> Result<Value> {
        // Signed out is the answer whatever the arguments: nothing is built or sent.
        #[cfg(feature = "browser")]
        if !anonymous {
            self.check_signed_in()?;
        }
        let _ = anonymous;
        self.run(call?).await
    }

    fn pending(&self, call: Result<Call<Value>>) -> Pending<'_, T> {
        Pending {
            payments: self,
            call,
            anonymous: false,
        }
    }

    #[cfg(feature = "browser")]
    /// `logout()`: from now on every call fails with `not_logged_in` before
    /// anything is sent (the paying client's tokens are forgotten too).
    pub fn sign_out(&self) {
        self.signed_out.set(true);
        self.client.forget_all();
    }

    #[cfg(feature = "browser")]
    /// Whether calls may be sent: a key, and no `logout()` since.
    pub fn is_signed_in(&self) -> bool {
        !self.signed_out.get()
    }

    /// `Err(not_logged_in)` once signed out (only a browser client, in
    /// `nvm-x402`'s core, can be: the other cores always have their key).
    #[cfg(feature = "browser")]
    pub fn check_signed_in(&self) -> Result<()> {
        if self.signed_out.get() {
            return Err(crate::Error::NotLoggedIn);
        }
        Ok(())
    }

    /// Sends a call and parses its answer.
    pub async fn execute<R>(&self, call: Call<R>) -> Result<R> {
        #[cfg(feature = "browser")]
        self.check_signed_in()?;
        self.run(call).await
    }

    async fn run<R>(&self, call: Call<R>) -> Result<R> {
        let response = self.transport.send(call.request).await?;
        (call.parse)(response)
    }

    // ---- x402 ------------------------------------------------------------

    /// `x402.getX402AccessToken(planId, agentId?, tokenOptions?)` → `{accessToken, ...}`.
    pub fn get_x402_access_token(
        &self,
        plan_id: &str,
        agent_id: Option<&str>,
        token_options: &Value,
    ) -> Pending<'_, T> {
        self.pending(self.mint_call(plan_id, agent_id, token_options))
    }

    /// The mint call; a deprecated option is warned about on every call (as the official SDK).
    pub fn mint_call(
        &self,
        plan_id: &str,
        agent_id: Option<&str>,
        token_options: &Value,
    ) -> Result<Call<Value>> {
        self.mint_call_at(x402::PERMISSIONS, plan_id, agent_id, token_options)
    }

    /// [`Payments::mint_call`] at `path` (the MPP mint takes the same body).
    fn mint_call_at(
        &self,
        path: &str,
        plan_id: &str,
        agent_id: Option<&str>,
        token_options: &Value,
    ) -> Result<Call<Value>> {
        let (call, warning) = x402::mint_at(&self.config, path, plan_id, agent_id, token_options)?;
        if warning.is_some() {
            self.transport.warn(x402::INLINE_DELEGATION_WARNING);
        }
        Ok(call)
    }

    /// `facilitator.verifyPermissions({paymentRequired, x402AccessToken, maxAmount?})`.
    pub fn verify_permissions(&self, params: &Value) -> Pending<'_, T> {
        self.pending(x402::verify(&self.config, params))
    }

    /// `facilitator.settlePermissions({..., agentRequestId?, batch?, marginPercent?})`.
    pub fn settle_permissions(&self, params: &Value) -> Pending<'_, T> {
        self.pending(x402::settle(&self.config, params))
    }

    /// verify (`settle`: settle) with a body written by the gate.
    pub(crate) fn facilitator_prepared(&self, settle: bool, body: String) -> Pending<'_, T> {
        self.pending(x402::facilitator_text(&self.config, settle, body))
    }

    // ---- MPP --------------------------------------------------------------

    /// `mpp.getMppAccessToken(planId, agentId?, tokenOptions?)`: the x402 mint's
    /// body, at the MPP mint (an MPP-domain token: it verifies only on MPP).
    #[cfg(all(feature = "mpp", feature = "subscriber"))]
    pub fn get_mpp_access_token(
        &self,
        plan_id: &str,
        agent_id: Option<&str>,
        token_options: &Value,
    ) -> Pending<'_, T> {
        self.pending(self.mint_call_at(
            crate::api::mpp::PERMISSIONS,
            plan_id,
            agent_id,
            token_options,
        ))
    }

    #[cfg(all(feature = "mpp", feature = "agent"))]
    /// `mpp.issueChallenge({planId, credits, resource, httpVerb, agentId?, digest?, description?})`.
    pub fn mpp_challenge(&self, params: &Value) -> Pending<'_, T> {
        self.pending(crate::api::mpp::challenge(&self.config, params))
    }

    #[cfg(all(feature = "mpp", feature = "agent"))]
    /// `mpp.verifyCredential` (`settle`: `mpp.settleCredential`) of `{credential, resource, httpVerb, bodyDigest?}`.
    pub fn mpp_redeem(&self, settle: bool, params: &Value) -> Pending<'_, T> {
        self.pending(crate::api::mpp::redeem(&self.config, settle, params))
    }

    #[cfg(all(feature = "mpp", feature = "agent"))]
    /// The gate's verify (`settle`: settle) of a credential, its body built.
    pub(crate) fn mpp_redeem_body(&self, settle: bool, body: &Value) -> Pending<'_, T> {
        self.pending(crate::api::mpp::redeem_body(&self.config, settle, body))
    }

    /// `resolveScheme(planId)`: the plan's scheme and network, cached per plan for 5 minutes.
    pub async fn resolve_scheme(&self, plan_id: &str) -> Result<ResolvedScheme> {
        Ok(self.plan_terms(plan_id).await?.scheme)
    }

    /// The terms [`Payments::plan_terms`] keeps for a plan, if it still does
    /// (no lookup): the paying client's check of a receipt, right after the
    /// same call looked the plan up.
    pub fn kept_plan_terms(&self, plan_id: &str) -> Option<PlanTerms> {
        self.plans.get_at(plan_id, self.transport.now_ms())
    }

    /// What a plan is paid with and charges per request, from `getPlan`, cached per plan for 5 minutes.
    pub async fn plan_terms(&self, plan_id: &str) -> Result<PlanTerms> {
        if let Some(terms) = self.kept_plan_terms(plan_id) {
            return Ok(terms);
        }
        let now = self.transport.now_ms();
        let plan = self.get_plan(plan_id).send().await?;
        let terms = PlanTerms {
            scheme: protocol::scheme_of_plan(&plan, self.config.environment),
            max_credits_per_request: ["maxAmount", "minAmount"]
                .iter()
                .filter_map(|k| {
                    json::at(&plan, &["registry", "credits", k])
                        .and_then(|v| Uint256::from_json(v).ok())
                })
                .fold(None, |most: Option<Uint256>, n| {
                    let n = if n.is_zero() { Uint256::from(1) } else { n };
                    Some(match most {
                        Some(m) if m >= n => m,
                        _ => n,
                    })
                }),
            #[cfg(feature = "subscriber")]
            billing: crate::api::plans::Billing::of_plan(&plan),
            #[cfg(not(feature = "subscriber"))]
            billing: crate::api::plans::Billing::Unknown,
        };
        self.plans
            .insert_until(plan_id.to_owned(), terms.clone(), now + SCHEME_CACHE_MS);
        Ok(terms)
    }

    /// `requests.startProcessingRequest(agentId, accessToken, url, httpVerb, {planId?, credits?})`:
    /// builds the PaymentRequired for that URL and verb and verifies the token
    /// against it in one backend call. Answers `{isValid, invalidReason?,
    /// agentRequestId?, planId?, paymentRequired?, balance: {isSubscriber, balance, ...}}`;
    /// a missing or undecodable token is an `isValid: false` answer sent without any backend call.
    pub async fn start_processing_request(
        &self,
        agent_id: &str,
        token: &str,
        url: &str,
        http_verb: &str,
        options: &Value,
    ) -> Result<Value> {
        const WHAT: &str = "options";
        let empty = crate::protocol::json::Map::new();
        let o = json::opt_object(Some(options), WHAT)?.unwrap_or(&empty);
        let given_plan = json::opt_id(o, "planId", WHAT)?;
        let credits = crate::protocol::uint::opt_uint(o, "credits", WHAT)?
            .unwrap_or_else(|| Uint256::from(1));
        let invalid = |reason: &str, plan_id: Option<String>| {
            let balance = ObjectBuilder::new()
                .put("planId", plan_id.clone().unwrap_or_default())
                .put("balance", "0")
                .put("isSubscriber", false)
                .build();
            ObjectBuilder::new()
                .put("isValid", false)
                .put("invalidReason", reason)
                .put_opt("planId", plan_id)
                .put("balance", balance)
                .build()
        };
        if token.trim().is_empty() {
            return Ok(invalid("Missing x402 payment token", given_plan));
        }
        let decoded = match protocol::try_decode_access_token(token) {
            Ok(t) => t,
            Err(e) => return Ok(invalid(&e.to_string(), given_plan)),
        };
        let claims = TokenClaims::from_token(&decoded);
        let Some(plan_id) = given_plan.or(claims.plan_id.clone()) else {
            return Ok(invalid(
                "The access token names no plan and no planId was given",
                None,
            ));
        };
        let scheme = claims
            .scheme
            .clone()
            .unwrap_or_else(|| protocol::SCHEME_ERC4337.to_owned());
        let payment_required = build_payment_required(
            &plan_id,
            &BuildOptions {
                endpoint: Some(url.to_owned()),
                agent_id: Some(agent_id.to_owned()),
                http_verb: Some(http_verb.to_owned()),
                network: Some(
                    claims
                        .network
                        .clone()
                        .unwrap_or_else(|| self.config.default_network(&scheme).to_owned()),
                ),
                scheme: Some(scheme),
                ..Default::default()
            },
        )?;
        let params = ObjectBuilder::new()
            .put("paymentRequired", payment_required.clone())
            .put("x402AccessToken", token)
            .put("maxAmount", credits)
            .build();
        let verified = self.verify_permissions(&params).send().await?;
        let is_valid = verified
            .get("isValid")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut balance = match json::at(&verified, &["agentRequest", "balance"]) {
            Some(b) if b.is_object() => b.clone(),
            _ => match verified
                .get("payer")
                .and_then(Value::as_str)
                .or(claims.from.as_deref())
            {
                Some(holder) if is_valid => {
                    self.get_plan_balance(&plan_id, Some(holder)).send().await?
                }
                _ => ObjectBuilder::new().put("planId", plan_id.as_str()).build(),
            },
        };
        normalize_balance(&mut balance);
        let request_id = verified
            .get("agentRequestId")
            .or_else(|| json::at(&verified, &["agentRequest", "agentRequestId"]))
            .and_then(json::id_value);
        Ok(ObjectBuilder::new()
            .put("isValid", is_valid)
            .put_opt(
                "invalidReason",
                verified.get("invalidReason").and_then(Value::as_str),
            )
            .put_opt("agentRequestId", request_id)
            .put("planId", plan_id)
            .put("paymentRequired", payment_required)
            .put("balance", balance)
            .build())
    }

    // ---- plans -----------------------------------------------------------

    /// `plans.getPlan(planId)`.
    pub fn get_plan(&self, plan_id: &str) -> Pending<'_, T> {
        self.pending(plans::get_plan(&self.config, plan_id))
    }

    /// `plans.getPlans({page?, offset?, sortBy?, sortOrder?, orgId?})` (the bridge also reads
    /// the official SDK's positional form): the caller's plans, or an organization's.
    pub fn get_plans(&self, options: &Value) -> Pending<'_, T> {
        self.pending(plans::get_plans(&self.config, options))
    }

    /// `plans.getAgentsAssociatedToAPlan(planId, pagination?)` (public).
    pub fn get_agents_associated_to_a_plan(
        &self,
        plan_id: &str,
        pagination: &Value,
    ) -> Pending<'_, T> {
        self.pending(plans::get_agents_associated_to_a_plan(
            &self.config,
            plan_id,
            pagination,
        ))
    }

    /// `plans.getPlanBalance(planId, holder?)`; the holder defaults to the key's `sub`.
    pub fn get_plan_balance(&self, plan_id: &str, holder: Option<&str>) -> Pending<'_, T> {
        self.pending(self.balance_call(plan_id, holder))
    }

    /// The balance call, with the holder defaulting to the key's `sub`.
    pub fn balance_call(&self, plan_id: &str, holder: Option<&str>) -> Result<Call<Value>> {
        let holder = holder
            .filter(|h| !h.is_empty())
            .or(self.config.api_key.subject())
            .unwrap_or("");
        plans::get_plan_balance(&self.config, plan_id, holder)
    }

    /// `plans.orderPlan(planId)`: orders a crypto (or free) plan and says
    /// whether the caller already held it. First it reads how the plan is
    /// paid ([`Payments::resolve_scheme`], kept 5 minutes): a fiat plan is
    /// refused before anything is bought ([`refuse_fiat_order`]; the official
    /// SDKs send the order and pass the backend's refusal on). Then see
    /// [`Payments::order_known_plan`].
    pub async fn order_plan(&self, plan_id: &str) -> Result<Value> {
        refuse_fiat_order(plan_id, &self.resolve_scheme(plan_id.trim()).await?)?;
        self.order_known_plan(plan_id).await
    }

    /// [`Payments::order_plan`] of a plan known not to be fiat (the JS
    /// method's dispatcher has resolved its scheme, in the await `resolveScheme` has).
    /// Before ordering it reads the caller's balance (public; when it can't
    /// be read nothing is bought); the backend's answer comes back with
    /// `alreadySubscribed` and `balanceBefore` (a decimal string) from it.
    /// Ordering a plan one holds buys it again (more credits, as the official
    /// SDKs do): the answer says so, it is never silent.
    pub(crate) async fn order_known_plan(&self, plan_id: &str) -> Result<Value> {
        let call = plans::order_plan(&self.config, plan_id)?;
        // Both through `Pending::send`: one future type, one copy in the .wasm.
        let before = match self.config.api_key.subject() {
            Some(me) => Some(
                self.get_plan_balance(plan_id.trim(), Some(me))
                    .send()
                    .await?,
            ),
            None => None,
        };
        let mut answer = self.pending(Ok(call)).send().await?;
        if let (Some(before), Some(o)) = (before, answer.as_object_mut()) {
            // normalize_balance made both present: a boolean and a decimal string.
            o.insert("alreadySubscribed".into(), before["isSubscriber"].clone());
            o.insert("balanceBefore".into(), before["balance"].clone());
        }
        Ok(answer)
    }

    /// `plans.orderFiatPlan(planId)`: a checkout link.
    pub fn order_fiat_plan(&self, plan_id: &str) -> Pending<'_, T> {
        self.pending(plans::order_fiat_plan(&self.config, plan_id))
    }

    /// `plans.registerPlan(...)` and its credits/time/trial forms → `{planId}`.
    pub fn register_plan(
        &self,
        metadata: &Value,
        price: &Value,
        credits: &Value,
        access_limit: Option<AccessLimit>,
        trial: bool,
        nonce: Option<Uint256>,
    ) -> Pending<'_, T> {
        self.pending(self.register_plan_call(metadata, price, credits, access_limit, trial, nonce))
    }

    /// The registration call, with the caller's nonce or a random one.
    pub fn register_plan_call(
        &self,
        metadata: &Value,
        price: &Value,
        credits: &Value,
        access_limit: Option<AccessLimit>,
        trial: bool,
        nonce: Option<Uint256>,
    ) -> Result<Call<Value>> {
        // 128 random bits, as both official SDKs (getRandomBigInt / get_random_big_int).
        let t = &self.transport;
        let nonce = nonce.unwrap_or_else(|| {
            Uint256::from_u128(u128::from(t.random_u64()) << 64 | u128::from(t.random_u64()))
        });
        plans::register_plan(
            &self.config,
            metadata,
            price,
            credits,
            access_limit,
            trial,
            nonce,
        )
    }

    // ---- agents ----------------------------------------------------------

    /// `agents.registerAgent(agentMetadata, agentApi, paymentPlans)` → `{agentId}`.
    pub fn register_agent(
        &self,
        metadata: &Value,
        api: &Value,
        plan_ids: &[String],
    ) -> Pending<'_, T> {
        self.pending(agents::register_agent(
            &self.config,
            metadata,
            api,
            plan_ids,
        ))
    }

    /// `agents.registerAgentAndPlan(...)` → `{agentId, planId, txHash?}`.
    pub fn register_agent_and_plan(&self, parts: AgentAndPlan<'_>) -> Pending<'_, T> {
        self.pending(agents::register_agent_and_plan(&self.config, parts))
    }

    /// `agents.getAgent(agentId)`.
    pub fn get_agent(&self, agent_id: &str) -> Pending<'_, T> {
        self.pending(agents::get_agent(&self.config, agent_id))
    }

    /// `agents.getAgentPlans(agentId, pagination?)`.
    pub fn get_agent_plans(&self, agent_id: &str, pagination: &Value) -> Pending<'_, T> {
        self.pending(agents::get_agent_plans(&self.config, agent_id, pagination))
    }

    /// `agents.getAgents(...)`: the caller's agents (`{page?, offset?, sortBy?, sortOrder?, orgId?}`).
    pub fn get_agents(&self, options: &Value) -> Pending<'_, T> {
        self.pending(agents::get_agents(&self.config, options))
    }

    /// `agents.updateAgentMetadata(agentId, agentMetadata, agentApi)`.
    pub fn update_agent_metadata(
        &self,
        agent_id: &str,
        metadata: &Value,
        api: &Value,
    ) -> Pending<'_, T> {
        self.pending(agents::update_agent_metadata(
            &self.config,
            agent_id,
            metadata,
            api,
        ))
    }

    /// `agents.addPlanToAgent(planId, agentId)` (`add`) or `agents.removePlanFromAgent(planId, agentId)`.
    pub fn plan_on_agent(&self, plan_id: &str, agent_id: &str, add: bool) -> Pending<'_, T> {
        self.pending(agents::plan_on_agent(&self.config, plan_id, agent_id, add))
    }

    // ---- contracts -------------------------------------------------------

    /// `GET /`, the deployment (`{version?, chainId?, contracts}`), asked
    /// each time: `contracts.getDeploymentInfo()` is [`Payments::deployment_info`].
    pub fn get_deployment_info(&self) -> Pending<'_, T> {
        self.pending(crate::api::contracts::get_deployment_info(&self.config))
    }

    /// `contracts.getDeploymentInfo()`: the deployment, read once per
    /// instance (as the official SDKs: the first answer is kept; a failure is
    /// not, so the next call asks again). The JS method is the bridge's
    /// `getDeploymentInfo` call between [`Payments::kept_deployment`] and
    /// [`Payments::keep_deployment`] (no await of its own in its future).
    #[cfg(feature = "builder")]
    pub async fn deployment_info(&self) -> Result<Value> {
        if let Some(kept) = self.kept_deployment() {
            return Ok(kept);
        }
        let deployment = self.get_deployment_info().send().await?;
        self.keep_deployment(&deployment);
        Ok(deployment)
    }

    /// The deployment this instance has read, if it has.
    #[cfg(feature = "builder")]
    pub fn kept_deployment(&self) -> Option<Value> {
        self.deployment.get().cloned()
    }

    /// Keeps a deployment `GET /` answered (of concurrent first reads, the first to end).
    #[cfg(feature = "builder")]
    pub fn keep_deployment(&self, deployment: &Value) {
        let _ = self.deployment.set(deployment.clone());
    }

    /// `contracts.getContractAddress(name)`: the deployment's address of that
    /// contract (from [`Payments::deployment_info`], read once).
    #[cfg(feature = "builder")]
    pub async fn contract_address(&self, name: &str) -> Result<String> {
        let deployment = self.deployment_info().await?;
        crate::api::contracts::contract_address(&deployment, name)
    }

    /// `plans.getPayAsYouGoPriceConfig(amount, receiver, tokenAddress?)`: the
    /// price with the deployment's `PayAsYouGoTemplate` (the JS method is the
    /// bridge's `getDeploymentInfo` call and the same helper, in one await).
    #[cfg(feature = "builder")]
    pub async fn payg_price_config(
        &self,
        amount: Uint256,
        receiver: &str,
        token_address: Option<&str>,
    ) -> Result<Value> {
        let template = self.contract_address("PayAsYouGoTemplate").await?;
        plans::payg_price_config(amount, receiver, token_address, Some(&template))
    }

    // ---- organizations -----------------------------------------------------
    //
    // In the nvm-x402 core only (the JS table's lines are `builder`): an
    // organization admin's calls.

    /// `organizations.createMember(userId, userEmail?, userRole?)`.
    pub fn create_member(
        &self,
        user_id: &str,
        email: Option<&str>,
        role: Option<&str>,
    ) -> Pending<'_, T> {
        self.pending(organizations::create_member(
            &self.config,
            user_id,
            email,
            role,
        ))
    }

    /// `organizations.onboardCustomer(email)`.
    pub fn onboard_customer(&self, email: &str) -> Pending<'_, T> {
        self.pending(organizations::onboard_customer(&self.config, email))
    }

    /// `organizations.getMembers(role?, isActive?, page?, offset?)`.
    pub fn get_members(
        &self,
        role: Option<&str>,
        is_active: &Value,
        page: &Value,
        offset: &Value,
    ) -> Pending<'_, T> {
        self.pending(organizations::get_members(
            &self.config,
            role,
            is_active,
            page,
            offset,
        ))
    }

    /// `organizations.getMyMemberships()`.
    pub fn get_my_memberships(&self) -> Pending<'_, T> {
        self.pending(organizations::get_my_memberships(&self.config))
    }

    /// `organizations.getOrganizationActivity(orgId, filters?)`.
    pub fn get_organization_activity(&self, org_id: &str, filters: &Value) -> Pending<'_, T> {
        self.pending(organizations::get_organization_activity(
            &self.config,
            org_id,
            filters,
        ))
    }

    /// `organizations.connectStripeAccount(userEmail, userCountryCode, returnUrl)`.
    pub fn connect_stripe_account(
        &self,
        email: &str,
        country_code: &str,
        return_url: &str,
    ) -> Pending<'_, T> {
        self.pending(organizations::connect_stripe_account(
            &self.config,
            email,
            country_code,
            return_url,
        ))
    }

    // ---- orders ----------------------------------------------------------
    //
    // In the nvm-x402 core only (`builder`: the a2a-client entry, which
    // also pays, has no room in its budget): a web page's pay-once flow.

    /// `orders.createOrder(options)` → `{orderId, status, clientSecret?}`, with the merchant's key.
    #[cfg(feature = "builder")]
    pub fn create_order(&self, options: &Value) -> Pending<'_, T> {
        self.pending(crate::api::orders::create_order(&self.config, options))
    }

    /// `orders.getOrder(orderId)` → the buyer's view of the order; no key is
    /// sent, so a browser instance sends it signed out too (a buyer who pays
    /// once needs no account: the page polls its order without signing in).
    #[cfg(feature = "builder")]
    pub fn get_order(&self, order_id: &str) -> Pending<'_, T> {
        Pending {
            payments: self,
            call: crate::api::orders::get_order(&self.config, order_id),
            anonymous: true,
        }
    }

    // ---- widgets (a web page's card setup) ---------------------------------

    /// `widgets.createSelfSession({orgId?, returnUrl?})` → `{sessionToken, expiresAt, ...}`:
    /// a session of the embed app for the caller's own account.
    #[cfg(feature = "browser")]
    pub fn create_self_session(&self, options: &Value) -> Pending<'_, T> {
        self.pending(crate::api::widgets::create_self_session(
            &self.config,
            options,
        ))
    }

    // ---- delegation ------------------------------------------------------

    /// `delegation.createDelegation(payload)` → `{delegationId, ...}`.
    pub fn create_delegation(&self, payload: &Value) -> Pending<'_, T> {
        self.pending(delegation::create_delegation(&self.config, payload))
    }

    /// `delegation.listDelegations({accessible?})`.
    pub fn list_delegations(&self, options: &Value) -> Pending<'_, T> {
        self.pending(delegation::list_delegations(&self.config, options))
    }

    /// `delegation.listPaymentMethods({accessible?, provider?})`.
    pub fn list_payment_methods(&self, options: &Value) -> Pending<'_, T> {
        self.pending(delegation::list_payment_methods(&self.config, options))
    }

    /// `delegation.updatePaymentMethod(paymentMethodId, {alias?, allowedApiKeyIds?})`.
    pub fn update_payment_method(&self, payment_method_id: &str, dto: &Value) -> Pending<'_, T> {
        self.pending(delegation::update_payment_method(
            &self.config,
            payment_method_id,
            dto,
        ))
    }

    /// `delegation.getPurchasingPower()`: the cards and delegations this API
    /// key can use, and their budget left (see [`delegation::purchasing_power`]).
    #[cfg(feature = "subscriber")]
    pub async fn get_purchasing_power(&self) -> Result<Value> {
        let accessible = ObjectBuilder::new().put("accessible", true).build();
        let cards = self.list_payment_methods(&accessible).send().await?;
        let delegations = self.list_delegations(&accessible).send().await?;
        Ok(delegation::purchasing_power(cards, delegations))
    }
}

impl<T: Transport> std::fmt::Debug for Payments<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::mock::MockTransport;
    use crate::transport::HttpResponse;

    const KEY: &str = "local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln";

    /// A backend whose plan `n` is a card plan with provider `p<n>`.
    fn client() -> Payments<MockTransport> {
        let p = MockTransport::client(KEY);
        p.transport().on("GET", "", |r| {
            let id = r.url.rsplit('/').next().unwrap_or("").to_owned();
            let plan = format!(
                r#"{{"id":"{id}","registry":{{"price":{{"isCrypto":false}}}},"metadata":{{"plan":{{"fiatPaymentProvider":"p{id}"}}}}}}"#
            );
            Ok(HttpResponse {
                status: 200,
                body: plan,
            })
        });
        p
    }

    fn network(p: &Payments<MockTransport>, plan: u32) -> String {
        pollster::block_on(p.resolve_scheme(&plan.to_string()))
            .unwrap()
            .network
    }

    #[test]
    fn plan_terms_are_kept_five_minutes_per_plan_and_at_most_plans_kept() {
        let p = client();
        let lookups = || p.transport().count("");
        assert_eq!(network(&p, 1), "p1");
        assert_eq!(network(&p, 1), "p1");
        assert_eq!(lookups(), 1, "kept");
        p.transport().now.set(SCHEME_CACHE_MS - 1);
        assert_eq!(network(&p, 1), "p1");
        assert_eq!(lookups(), 1, "still kept just before five minutes");
        p.transport().now.set(SCHEME_CACHE_MS);
        assert_eq!(network(&p, 1), "p1");
        assert_eq!(lookups(), 2, "looked up again at five minutes");

        // Plans 1..=PLANS_KEPT fill it (1 is the oldest); one more evicts plan 1 only.
        for plan in 2..=PLANS_KEPT as u32 {
            assert_eq!(network(&p, plan), format!("p{plan}"));
        }
        assert_eq!(lookups(), 1 + PLANS_KEPT);
        assert_eq!(network(&p, 1), "p1");
        assert_eq!(
            lookups(),
            1 + PLANS_KEPT,
            "all kept, each answering its own"
        );
        network(&p, 1_000);
        assert_eq!(lookups(), 2 + PLANS_KEPT);
        assert_eq!(network(&p, 2), "p2");
        assert_eq!(lookups(), 2 + PLANS_KEPT, "plan 2 is still kept");
        assert_eq!(network(&p, 1), "p1");
        assert_eq!(lookups(), 3 + PLANS_KEPT, "plan 1, the oldest, was evicted");
    }
    #[test]
    fn the_pay_as_you_go_price_takes_the_deployments_template() {
        let p = MockTransport::client(KEY);
        let template = "0x5e852077b30099106Aa65B4d329FFF9b5C9a8e7C";
        let receiver = "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d";
        p.transport().json(
            "GET",
            "/",
            200,
            crate::json!({"deployment": {"contracts": {"PayAsYouGoTemplate": template}}}),
        );
        let price = |receiver: &str| {
            pollster::block_on(p.payg_price_config(Uint256::from(200), receiver, None))
        };
        let config = price(receiver).unwrap();
        assert_eq!(config["templateAddress"], template);
        assert_eq!(config["amounts"], crate::json!(["200"]));
        assert_eq!(config["tokenAddress"], plans::ZERO_ADDRESS);
        assert_eq!(p.transport().sent.borrow().len(), 1);
        // A deployment without the template: the official SDK's error, and no price.
        let p = MockTransport::client(KEY);
        p.transport().json(
            "GET",
            "/",
            200,
            crate::json!({"deployment": {"contracts": {}}}),
        );
        let e = pollster::block_on(p.payg_price_config(Uint256::from(200), receiver, None))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Contract address not found for PayAsYouGoTemplate"
        );
    }

    #[test]
    fn the_deployment_is_read_once_per_instance_and_a_failed_read_is_not_kept() {
        let p = MockTransport::client(KEY);
        let reads = || p.transport().count("3001/");
        p.transport()
            .json("GET", "/", 503, crate::json!({"message": "down"}));
        let template = || pollster::block_on(p.contract_address("PayAsYouGoTemplate"));
        assert_eq!(template().unwrap_err().code(), "http_503");
        // A deployment that names no contracts is refused, and not kept either.
        p.transport()
            .json("GET", "/", 200, crate::json!({"deployment": {}}));
        assert_eq!(template().unwrap_err().code(), "invalid_response");
        assert_eq!(p.kept_deployment(), None);
        let deployment = crate::json!({"contracts": {"PayAsYouGoTemplate": "0x1"}});
        p.transport()
            .json("GET", "/", 200, crate::json!({ "deployment": deployment }));
        assert_eq!(template().unwrap(), "0x1");
        assert_eq!(reads(), 3, "each failure was read again");
        // Kept: what the backend answers next is not asked.
        p.transport().json(
            "GET",
            "/",
            200,
            crate::json!({"deployment": {"contracts": {}}}),
        );
        assert_eq!(template().unwrap(), "0x1");
        assert_eq!(pollster::block_on(p.deployment_info()).unwrap(), deployment);
        assert_eq!(reads(), 3);
        // Another instance reads its own.
        let other = MockTransport::client(KEY);
        other.transport().json(
            "GET",
            "/",
            200,
            crate::json!({"deployment": {"contracts": {}}}),
        );
        assert!(pollster::block_on(other.contract_address("PayAsYouGoTemplate")).is_err());
    }

    #[test]
    fn the_inline_delegation_warning_is_the_official_text_on_every_call_that_earns_it() {
        let p = MockTransport::client(KEY);
        p.transport().json(
            "POST",
            "/api/v1/x402/permissions",
            201,
            crate::json!({"accessToken": "t"}),
        );
        let mint = |config: Value| {
            let options = crate::json!({ "delegationConfig": config });
            pollster::block_on(p.get_x402_access_token("1", None, &options).send()).unwrap();
        };
        mint(crate::json!({"spendingLimitCents": 1000, "durationSecs": 3600}));
        mint(crate::json!({"cardId": "card-1"}));
        mint(crate::json!({"delegationId": "d", "spendingLimitCents": 5}));
        mint(crate::json!({"currency": "usd"}));
        mint(crate::json!({}));
        let warnings = p.transport().warnings.borrow().clone();
        assert_eq!(warnings, [x402::INLINE_DELEGATION_WARNING; 2]);
        assert_eq!(p.transport().count("/api/v1/x402/permissions"), 5);
    }

    /// A backend with plan `1` (a crypto plan), this balance of the caller
    /// (the key's `sub` is 0xabc) and an order answer.
    fn order_backend(balance: Value) -> Payments<MockTransport> {
        let p = MockTransport::client(KEY);
        let t = p.transport();
        t.json(
            "GET",
            "/api/v1/protocol/plans/1",
            200,
            crate::json!({"id": "1", "registry": {"price": {"isCrypto": true}}}),
        );
        t.json(
            "GET",
            "/api/v1/protocol/plans/1/balance/0xabc",
            200,
            balance,
        );
        t.json(
            "POST",
            "/api/v1/protocol/plans/1/order",
            200,
            crate::json!({"success": true, "txHash": "0x1"}),
        );
        p
    }

    #[test]
    fn ordering_a_plan_already_held_says_so() {
        let p = order_backend(crate::json!({"planId": "1", "balance": 7, "isSubscriber": true}));
        let answer = pollster::block_on(p.order_plan("1")).unwrap();
        assert_eq!(
            answer,
            crate::json!({"success": true, "txHash": "0x1", "alreadySubscribed": true, "balanceBefore": "7"})
        );
        let p = order_backend(crate::json!({"planId": "1", "balance": "0", "isSubscriber": false}));
        let answer = pollster::block_on(p.order_plan("1")).unwrap();
        assert_eq!(
            (&answer["alreadySubscribed"], &answer["balanceBefore"]),
            (&Value::Bool(false), &Value::from("0"))
        );
        assert_eq!(p.transport().count("/order"), 1);
        // The plan, the balance, then the order: nothing else.
        assert_eq!(p.transport().sent.borrow().len(), 3);
        // The plan is kept: a second order reads the balance and orders.
        pollster::block_on(p.order_plan("1")).unwrap();
        assert_eq!(p.transport().count("/plans/1"), 1);
        assert_eq!(p.transport().sent.borrow().len(), 5);
    }

    #[test]
    fn a_fiat_plan_is_refused_before_anything_is_bought_and_names_order_fiat_plan() {
        // `client()`'s plans are card plans (`isCrypto: false`).
        let p = client();
        let e = pollster::block_on(p.order_plan(" 7 ")).unwrap_err();
        assert_eq!(e.code(), "validation");
        assert_eq!(e.to_string(), "Plan 7 is a fiat plan");
        assert!(
            e.hint().contains("plans.orderFiatPlan(planId)"),
            "{}",
            e.hint()
        );
        let sent = p.transport().sent.borrow();
        let urls: Vec<_> = sent.iter().map(|r| (r.method, r.url.as_str())).collect();
        assert_eq!(
            urls,
            [("GET", "http://127.0.0.1:3001/api/v1/protocol/plans/7")]
        );
    }

    #[test]
    fn when_the_balance_cannot_be_read_nothing_is_bought() {
        let p = order_backend(crate::json!({}));
        p.transport().json(
            "GET",
            "/balance/0xabc",
            503,
            crate::json!({"message": "down"}),
        );
        assert_eq!(
            pollster::block_on(p.order_plan("1")).unwrap_err().code(),
            "http_503"
        );
        assert_eq!(p.transport().count("/order"), 0);
        // Nor when the plan cannot be read.
        let p = order_backend(crate::json!({"balance": "0", "isSubscriber": false}));
        p.transport()
            .json("GET", "/plans/1", 503, crate::json!({"message": "down"}));
        assert_eq!(
            pollster::block_on(p.order_plan("1")).unwrap_err().code(),
            "http_503"
        );
        assert_eq!(p.transport().count("/order"), 0);
    }
}
