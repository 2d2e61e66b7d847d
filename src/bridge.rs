//! The JS-facing method table, in plain Rust so it is tested natively: a
//! method name plus a JSON array of positional arguments in, JSON text out.
//! The wasm binding forwards `core.call(...)`/`callSync(...)` here; the names
//! are the JS API's (`"plans.getPlan"`, `"decodeAccessToken"`, ...).

use crate::api::plans;
use crate::error::{Error, Result};
use crate::gate::mcp::McpGate;
use crate::gate::Gate;
use crate::payments::{Payments, Pending};
use crate::protocol::gate::mcp::{oauth, McpTool};
use crate::protocol::json::{parse, to_text, ObjectBuilder, Value};
#[cfg(feature = "browser")]
use crate::protocol::signin;
use crate::protocol::{self, payment_required, BuildOptions, Uint256};
use crate::transport::Transport;

/// Positional arguments of one call.
#[derive(Clone)]
pub struct Args {
    method: String,
    values: Vec<Value>,
}

impl Args {
    /// Parses the JSON array of arguments.
    pub fn parse(method: &str, json: &str) -> Result<Self> {
        match parse(json) {
            Ok(Value::Array(values)) => Ok(Args {
                method: method.to_owned(),
                values,
            }),
            // The facade's JSON.stringify output fails to parse only for a lone
            // surrogate ('\ud800'), which it writes as an escape no Unicode text has.
            Err(_) if json.starts_with('[') => Err(Error::validation(format!(
                "{method}: a string argument is not well-formed Unicode (it has a lone surrogate)"
            ))),
            _ => Err(Error::validation(format!(
                "{method}: arguments must be a JSON array"
            ))),
        }
    }

    fn raw(&self, i: usize) -> Option<&Value> {
        self.values.get(i).filter(|v| !v.is_null())
    }

    /// Argument `i` as given (`null` when absent).
    fn arg(&self, i: usize) -> &Value {
        static NULL: Value = Value::Null;
        self.raw(i).unwrap_or(&NULL)
    }

    fn bad(&self, name: &str, e: impl std::fmt::Display) -> Error {
        Error::validation(format!("{}: {name}: {e}", self.method))
    }

    /// A required string argument.
    pub fn text(&self, i: usize, name: &str) -> Result<&str> {
        self.opt_text(i, name)?
            .ok_or_else(|| self.bad(name, "is required"))
    }

    /// An optional string argument (`undefined` and `null` are absent).
    pub fn opt_text(&self, i: usize, name: &str) -> Result<Option<&str>> {
        match self.raw(i) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad(name, "must be a string")),
        }
    }

    /// An id (a string, or an integer/bigint written as digits); required and not blank.
    pub fn id(&self, i: usize, name: &str) -> Result<String> {
        self.opt_id(i, name)?
            .ok_or_else(|| self.bad(name, "is required"))
    }

    /// An optional id; blank is absent.
    pub fn opt_id(&self, i: usize, name: &str) -> Result<Option<String>> {
        match self.raw(i) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(self.bad(name, "must be a string")),
        }
    }

    /// The options of a method the official SDK takes positionally and we
    /// also as one object: argument 0 when it is an object (or nothing is
    /// given), else the positional arguments under these names (absent ones
    /// left out).
    fn positional(&self, names: &[&str]) -> Value {
        if matches!(self.raw(0), Some(Value::Object(_))) || self.values.iter().all(Value::is_null) {
            return self.arg(0).clone();
        }
        let mut o = ObjectBuilder::new();
        for (i, name) in names.iter().enumerate() {
            o = o.put_opt(name, self.raw(i).cloned());
        }
        o.build()
    }

    /// `registerPlan`'s fourth and fifth arguments: the official `(nonce?,
    /// accessLimit?)`, or this package's earlier `(accessLimit)` alone (a
    /// fourth that is text but not a number).
    #[cfg(feature = "builder")]
    fn nonce_and_limit(&self) -> Result<(Option<Uint256>, Option<plans::AccessLimit>)> {
        let (nonce, limit) = match self.raw(3) {
            Some(v @ Value::String(s)) if Uint256::from_json(v).is_err() => {
                // The earlier form has nothing after the access limit: anything there was meant
                // for the official order (dropped, it would publish into the wrong organization).
                if self.raw(4).is_some() || self.raw(5).is_some() {
                    return Err(self.bad(
                        "accessLimit",
                        "is the fifth argument (planMetadata, priceConfig, creditsConfig, nonce?, accessLimit?, publicationOptions?)",
                    ));
                }
                (None, Some(s.as_str()))
            }
            nonce => (nonce, self.opt_text(4, "accessLimit")?),
        };
        Ok((
            nonce.map(Uint256::from_json).transpose()?,
            limit.map(plans::AccessLimit::parse).transpose()?,
        ))
    }

    /// A list of ids.
    pub fn ids(&self, i: usize, name: &str) -> Result<Vec<String>> {
        match self.raw(i) {
            None => Ok(vec![]),
            Some(Value::Array(items)) => {
                // A loop, not collect::<Result<_>>(): each of those is its own copy in the .wasm.
                let mut ids = Vec::with_capacity(items.len());
                for v in items {
                    ids.push(match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) if n.is_u64() => n.to_string(),
                        _ => return Err(self.bad(name, "must be a list of strings")),
                    });
                }
                Ok(ids)
            }
            Some(_) => Err(self.bad(name, "must be a list of strings")),
        }
    }
}

/// The JS method table, defined once: each single-call method (one backend
/// call: a [`Pending`] from a `Payments` method) by its JS name; the name
/// list and the dispatcher come from the same lines. The facade's namespaces
/// and index.d.ts are checked against [`methods`] and [`functions`]
/// (tests/js/node/api-table.test.mjs, through `cargo run --example api-table`).
/// At run time a method is found by its line in [`METHOD_NAMES`] (its index,
/// computed at build time for each arm), so each name is in the `.wasm` once.
macro_rules! single_call_methods {
    ($($(#[$m:meta])* $name:literal => |$p:ident, $a:ident| $body:expr;)*) => {
        /// The JS names of the single-call methods.
        pub const SINGLE_CALL_METHODS: &[&str] = &[$($name),*];

        /// Every async method's JS name, one per line: what the facade builds the
        /// `Payments` namespaces from (src/wasm `methodNames`), so the names live here only.
        pub const METHOD_NAMES: &str = concat!($($name, "\n",)* "requests.startProcessingRequest\nresolveScheme\nplans.orderPlan\nplans.getPayAsYouGoPriceConfig\ncontracts.getPayAsYouGoTemplateAddress\ndelegation.getPurchasingPower\ncontracts.getContractAddress");

        /// The `Payments` call behind a single-call method (`i`: its line in [`METHOD_NAMES`]).
        fn prepare<'a, T: Transport>(p: &'a Payments<T>, i: usize, method: &str, a: &Args) -> Result<Pending<'a, T>> {
            match i {
                $($(#[$m])* i if i == const { index_of($name) } => {
                    let ($p, $a) = (p, a);
                    Ok($body)
                })*
                _ => Err(not_in_entry(method)),
            }
        }
    };
}

/// The line of `name` in [`METHOD_NAMES`], at build time (a name that is not
/// there fails the build).
const fn index_of(name: &str) -> usize {
    let (all, name) = (METHOD_NAMES.as_bytes(), name.as_bytes());
    let (mut start, mut index) = (0, 0);
    while start < all.len() {
        let mut end = start;
        while end < all.len() && all[end] != b'\n' {
            end += 1;
        }
        if end - start == name.len() {
            let mut k = 0;
            while k < name.len() && all[start + k] == name[k] {
                k += 1;
            }
            if k == name.len() {
                return index;
            }
        }
        start = end + 1;
        index += 1;
    }
    panic!("a method name that is not in METHOD_NAMES")
}

single_call_methods! {
    #[cfg(feature = "subscriber")]
    "x402.getX402AccessToken" => |p, a| p.get_x402_access_token(&a.id(0, "planId")?, a.opt_id(1, "agentId")?.as_deref(), a.arg(2));
    "facilitator.verifyPermissions" => |p, a| p.verify_permissions(a.arg(0));
    "facilitator.settlePermissions" => |p, a| p.settle_permissions(a.arg(0));
    #[cfg(all(feature = "mpp", feature = "subscriber"))]
    "mpp.getMppAccessToken" => |p, a| p.get_mpp_access_token(&a.id(0, "planId")?, a.opt_id(1, "agentId")?.as_deref(), a.arg(2));
    #[cfg(all(feature = "mpp", feature = "agent"))]
    "mpp.issueChallenge" => |p, a| p.mpp_challenge(a.arg(0));
    #[cfg(all(feature = "mpp", feature = "agent"))]
    "mpp.verifyCredential" => |p, a| p.mpp_redeem(false, a.arg(0));
    #[cfg(all(feature = "mpp", feature = "agent"))]
    "mpp.settleCredential" => |p, a| p.mpp_redeem(true, a.arg(0));
    "plans.getPlan" => |p, a| p.get_plan(&a.id(0, "planId")?);
    "plans.getPlans" => |p, a| p.get_plans(&a.positional(&["page", "offset", "sortBy", "sortOrder", "orgId"]));
    "plans.getAgentsAssociatedToAPlan" => |p, a| p.get_agents_associated_to_a_plan(&a.id(0, "planId")?, a.arg(1));
    #[cfg(feature = "subscriber")]
    "plans.getPlanBalance" => |p, a| p.get_plan_balance(&a.id(0, "planId")?, a.opt_id(1, "holderAddress")?.as_deref());
    #[cfg(feature = "subscriber")]
    "plans.orderFiatPlan" => |p, a| p.order_fiat_plan(&a.id(0, "planId")?);
    #[cfg(feature = "builder")]
    "plans.registerPlan" => |p, a| {
        let (nonce, limit) = a.nonce_and_limit()?;
        p.register_plan(a.arg(0), a.arg(1), a.arg(2), limit, false, nonce)
    };
    #[cfg(feature = "builder")]
    "plans.registerCreditsPlan" => |p, a| p.register_plan(a.arg(0), a.arg(1), a.arg(2), Some(plans::AccessLimit::Credits), false, None);
    #[cfg(feature = "builder")]
    "plans.registerTimePlan" => |p, a| p.register_plan(a.arg(0), a.arg(1), a.arg(2), Some(plans::AccessLimit::Time), false, None);
    #[cfg(feature = "builder")]
    "plans.registerCreditsTrialPlan" => |p, a| p.register_plan(a.arg(0), a.arg(1), a.arg(2), Some(plans::AccessLimit::Credits), true, None);
    #[cfg(feature = "builder")]
    "plans.registerTimeTrialPlan" => |p, a| p.register_plan(a.arg(0), a.arg(1), a.arg(2), Some(plans::AccessLimit::Time), true, None);
    #[cfg(feature = "builder")]
    "agents.registerAgent" => |p, a| p.register_agent(a.arg(0), a.arg(1), &a.ids(2, "paymentPlans")?);
    #[cfg(feature = "builder")]
    "agents.registerAgentAndPlan" => |p, a| p.register_agent_and_plan(crate::api::agents::AgentAndPlan {
        agent: a.arg(0),
        api: a.arg(1),
        plan: a.arg(2),
        price: a.arg(3),
        credits: a.arg(4),
        access_limit: a.opt_text(5, "accessLimit")?.map(plans::AccessLimit::parse).transpose()?,
    });
    "agents.getAgent" => |p, a| p.get_agent(&a.id(0, "agentId")?);
    "agents.getAgentPlans" => |p, a| p.get_agent_plans(&a.id(0, "agentId")?, a.arg(1));
    "agents.getAgents" => |p, a| p.get_agents(&a.positional(&["page", "offset", "sortBy", "sortOrder", "orgId"]));
    #[cfg(feature = "builder")]
    "agents.updateAgentMetadata" => |p, a| p.update_agent_metadata(&a.id(0, "agentId")?, a.arg(1), a.arg(2));
    #[cfg(feature = "builder")]
    "agents.addPlanToAgent" => |p, a| p.plan_on_agent(&a.id(0, "planId")?, &a.id(1, "agentId")?, true);
    #[cfg(feature = "builder")]
    "agents.removePlanFromAgent" => |p, a| p.plan_on_agent(&a.id(0, "planId")?, &a.id(1, "agentId")?, false);
    #[cfg(feature = "subscriber")]
    "delegation.createDelegation" => |p, a| p.create_delegation(a.arg(0));
    #[cfg(feature = "subscriber")]
    "delegation.listDelegations" => |p, a| p.list_delegations(a.arg(0));
    #[cfg(feature = "subscriber")]
    "delegation.listPaymentMethods" => |p, a| p.list_payment_methods(a.arg(0));
    #[cfg(feature = "subscriber")]
    "delegation.updatePaymentMethod" => |p, a| p.update_payment_method(&a.id(0, "paymentMethodId")?, a.arg(1));
    #[cfg(feature = "builder")]
    "organizations.createMember" => |p, a| p.create_member(a.text(0, "userId")?, a.opt_text(1, "userEmail")?, a.opt_text(2, "userRole")?);
    #[cfg(feature = "builder")]
    "organizations.onboardCustomer" => |p, a| p.onboard_customer(a.text(0, "email")?);
    #[cfg(feature = "builder")]
    "organizations.getMembers" => |p, a| p.get_members(a.opt_text(0, "role")?, a.arg(1), a.arg(2), a.arg(3));
    #[cfg(feature = "builder")]
    "organizations.getMyMemberships" => |p, _a| p.get_my_memberships();
    #[cfg(feature = "builder")]
    "organizations.getOrganizationActivity" => |p, a| p.get_organization_activity(a.text(0, "orgId")?, a.arg(1));
    #[cfg(feature = "builder")]
    "organizations.connectStripeAccount" => |p, a| p.connect_stripe_account(a.text(0, "userEmail")?, a.text(1, "userCountryCode")?, a.text(2, "returnUrl")?);
    #[cfg(feature = "builder")]
    "contracts.getDeploymentInfo" => |p, _a| p.get_deployment_info();
    #[cfg(feature = "builder")]
    "orders.createOrder" => |p, a| p.create_order(a.arg(0));
    #[cfg(feature = "builder")]
    "orders.getOrder" => |p, a| p.get_order(a.text(0, "orderId")?);
    #[cfg(feature = "browser")]
    "widgets.createSelfSession" => |p, a| p.create_self_session(a.arg(0));
}

/// Where a registration takes the official `publicationOptions` (its
/// organization for this call): the argument's index, by method line.
#[cfg(feature = "builder")]
fn publication_arg(i: usize) -> Option<usize> {
    match i {
        i if i == const { index_of("plans.registerPlan") } => Some(5),
        i if i == const { index_of("agents.registerAgentAndPlan") } => Some(6),
        i if i == const { index_of("agents.registerAgent") }
            || i == const { index_of("plans.registerCreditsPlan") }
            || i == const { index_of("plans.registerTimePlan") }
            || i == const { index_of("plans.registerCreditsTrialPlan") }
            || i == const { index_of("plans.registerTimeTrialPlan") } =>
        {
            Some(3)
        }
        _ => None,
    }
}

/// The methods of several steps (their own async code), by JS name.
pub const MULTI_STEP_METHODS: &[&str] = &[
    "requests.startProcessingRequest",
    "resolveScheme",
    "plans.orderPlan",
    // `getDeploymentInfo`'s one call, then a pure step (`from_deployment`).
    "plans.getPayAsYouGoPriceConfig",
    "contracts.getPayAsYouGoTemplateAddress",
    // `listPaymentMethods` and `listDelegations`, then a pure step.
    "delegation.getPurchasingPower",
    // `getDeploymentInfo`'s (kept) answer, then a pure step.
    "contracts.getContractAddress",
];

/// The pure functions the facade itself calls but does not export: the redactor
/// (`redactToken` checks its argument first), and a browser instance's sign-in
/// and card-setup steps (pkg-template/signin.js), and the A2A in-band reads (a2a-utils.js).
pub const INTERNAL_FUNCTIONS: &[&str] =
    &["redact", "signInLanding", "cardSetup", "x402A2AMetadata"];

/// Every async method of the JS API, by JS name (`ns.name`, or `name` on `Payments` itself).
pub fn methods() -> impl Iterator<Item = &'static str> {
    SINGLE_CALL_METHODS
        .iter()
        .chain(MULTI_STEP_METHODS)
        .copied()
}

/// The pure functions the package exports, by JS name.
pub fn functions() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .copied()
        .filter(|f| !INTERNAL_FUNCTIONS.contains(f))
}

/// The package entry this core is built for (see Cargo.toml's features).
pub const ENTRY: &str = if cfg!(feature = "a2a-client") && !cfg!(feature = "builder") {
    "nvm-x402/a2a-client"
} else if cfg!(feature = "subscriber") {
    "nvm-x402"
} else if cfg!(feature = "agent") {
    "nvm-x402/agent"
} else if cfg!(feature = "a2a") {
    "nvm-x402/a2a"
} else {
    "nvm-x402/mcp"
};

/// A method that this core was built without (by its JS name): the
/// subscriber's and builder's API is in the default entry.
pub fn not_in_entry(what: &str) -> Error {
    // MPP's calls: the buyer's in nvm-x402/mpp, the seller's in nvm-x402/express.
    let home = match what {
        "mpp.issueChallenge" | "mpp.verifyCredential" | "mpp.settleCredential" => {
            "nvm-x402/express"
        }
        _ if what.as_bytes().starts_with(b"mpp.") => "nvm-x402/mpp",
        _ => "nvm-x402",
    };
    Error::NotInEntry {
        what: what.to_owned(),
        entry: ENTRY,
        home,
    }
}

/// `plans.orderPlan`'s line, in the cores that have it (the paying client's).
#[cfg(feature = "subscriber")]
const ORDER_PLAN: usize = index_of("plans.orderPlan");
#[cfg(not(feature = "subscriber"))]
const ORDER_PLAN: usize = usize::MAX;

/// Runs an asynchronous client method: a single-call one through its
/// [`Pending`] (one future type for all), a multi-step one through its own code.
// `'answer` is only broken out of with a kept deployment (builder cores).
#[cfg_attr(not(feature = "builder"), allow(unused_labels))]
pub async fn call<T: Transport>(p: &Payments<T>, method: &str, args_json: &str) -> Result<String> {
    let a = Args::parse(method, args_json)?;
    let i = METHOD_NAMES
        .split('\n')
        .position(|n| n == method)
        .ok_or_else(|| Error::validation(format!("unknown method \"{method}\"")))?;
    let result = match i {
        i if i == const { index_of("requests.startProcessingRequest") } => {
            let token = a.opt_text(1, "accessToken")?.unwrap_or_default();
            let agent = a.opt_id(0, "agentId")?.unwrap_or_default();
            p.start_processing_request(
                &agent,
                token,
                a.text(2, "url")?,
                a.text(3, "httpVerb")?,
                a.arg(4),
            )
            .await?
        }
        // orderPlan resolves the plan's scheme first, in this arm's await (one
        // state of this future less than an await of its own: 0.1 KB gzipped),
        // and refuses a fiat plan before ordering.
        i if i == const { index_of("resolveScheme") } || i == ORDER_PLAN => {
            let id = a.id(0, "planId")?;
            let scheme = p.resolve_scheme(&id).await?;
            match () {
                #[cfg(feature = "subscriber")]
                () if i == ORDER_PLAN => {
                    crate::payments::refuse_fiat_order(&id, &scheme)?;
                    p.order_known_plan(&id).await?
                }
                () => scheme.to_json(),
            }
        }
        #[cfg(feature = "subscriber")]
        i if i == const { index_of("delegation.getPurchasingPower") } => {
            p.get_purchasing_power().await?
        }
        _ => 'answer: {
            // The deployment's readers make `getDeploymentInfo`'s call (`from_deployment`).
            let single = if i == const { index_of("plans.getPayAsYouGoPriceConfig") }
                || i == const { index_of("contracts.getPayAsYouGoTemplateAddress") }
                || i == const { index_of("contracts.getContractAddress") }
            {
                const { index_of("contracts.getDeploymentInfo") }
            } else {
                i
            };
            // The deployment is read once per instance (`deployment_info`'s rule,
            // here without an await of its own in this future).
            #[cfg(feature = "builder")]
            let deployment = single == const { index_of("contracts.getDeploymentInfo") };
            #[cfg(feature = "builder")]
            if let Some(kept) = deployment.then(|| p.kept_deployment()).flatten() {
                break 'answer kept;
            }
            // Their own arguments are checked before the read: a mistake sends nothing.
            #[cfg(feature = "builder")]
            if single != i {
                deployment_reader(i, a.clone(), &Value::Null)?;
            }
            let pending = prepare(p, single, method, &a)?;
            #[cfg(feature = "builder")]
            let pending = match publication_arg(i) {
                Some(k) => pending.publication(a.arg(k)),
                None => pending,
            };
            let answer = pending.send().await;
            // The MPP calls fail as the MPP family (a settle that may have burned says so).
            #[cfg(feature = "mpp")]
            let answer = if (const { index_of("mpp.getMppAccessToken") }..=const {
                index_of("mpp.settleCredential")
            })
                .contains(&i)
            {
                answer.map_err(|e| e.into_mpp(i == const { index_of("mpp.settleCredential") }))?
            } else {
                answer?
            };
            #[cfg(not(feature = "mpp"))]
            let answer = answer?;
            #[cfg(feature = "builder")]
            if deployment {
                p.keep_deployment(&answer);
            }
            answer
        }
    };
    #[cfg(feature = "builder")]
    let result = from_deployment(i, a, result)?;
    Ok(to_text(&result))
}

/// A deployment reader's arguments checked (`deployment`: `Null`) or its answer
/// made from the deployment: `contracts.getContractAddress(name)`'s address, or
/// `plans.getPayAsYouGoPriceConfig`'s config with the template (checked with the
/// zero address in its place).
#[cfg(feature = "builder")]
fn deployment_reader(i: usize, mut a: Args, deployment: &Value) -> Result<Value> {
    let checking = deployment.is_null();
    if i == const { index_of("contracts.getContractAddress") } {
        let name = a.text(0, "contractName")?;
        if checking {
            return Ok(Value::Null);
        }
        return crate::api::contracts::contract_address(deployment, name).map(Value::from);
    }
    let template = if checking {
        "0x0000000000000000000000000000000000000000".to_owned()
    } else {
        crate::api::contracts::contract_address(deployment, "PayAsYouGoTemplate")?
    };
    if i != const { index_of("plans.getPayAsYouGoPriceConfig") } {
        return Ok(Value::from(template));
    }
    // The fourth argument: (a loop, not resize: one more generic copy in the .wasm).
    a.values.truncate(3);
    while a.values.len() < 3 {
        a.values.push(Value::Null);
    }
    a.values.push(Value::from(template));
    sync_value(&a, "getPayAsYouGoPriceConfig")
}

/// The methods that read the deployment's pay-as-you-go template
/// (`contracts.getPayAsYouGoTemplateAddress()`, and
/// `plans.getPayAsYouGoPriceConfig(amount, receiver, tokenAddress?)`: the pure
/// `getPayAsYouGoPriceConfig` with that template): the answer of their one
/// call, `getDeploymentInfo`'s, made into theirs. Through the single-call
/// path, not a multi-step arm or a method line of their own: each of those
/// cost the .wasm more (measured for #23).
#[cfg(feature = "builder")]
fn from_deployment(i: usize, a: Args, result: Value) -> Result<Value> {
    if i == const { index_of("contracts.getContractAddress") }
        || i == const { index_of("plans.getPayAsYouGoPriceConfig") }
        || i == const { index_of("contracts.getPayAsYouGoTemplateAddress") }
    {
        return deployment_reader(i, a, &result);
    }
    Ok(result)
}

fn gate_request(request_json: &str) -> Result<Value> {
    parse(request_json).map_err(|_| Error::validation("gate: the request must be JSON"))
}

/// `core.pay(kind, requestJson, optionsJson, courier)`: one paying call, see
/// [`crate::client::pay`]. `kind`: `fetch` (fetchWithPayment), `query`
/// (queryAgent), `tool` (mcp.callTool); with the `a2a-client` feature,
/// `a2a-card` (the A2A client's card: `payments.a2a.getClient`), `a2a` and
/// `a2a-stream` (its `sendA2AMessage`, `sendA2AMessageStream`), `a2a-get` and
/// `a2a-resubscribe`, `a2a-push-set` and `a2a-push-get` (`getA2ATask`,
/// `resubscribeA2ATask`, `set`/`getA2ATaskPushNotificationConfig`: unpaid) and
/// `a2a-clear` (`clearToken`).
pub async fn pay<T: Transport, C: crate::client::Courier>(
    p: &Payments<T>,
    kind: &str,
    request_json: &str,
    options_json: &str,
    courier: &C,
) -> Result<String> {
    let what = match kind {
        "query" => "queryAgent",
        "tool" => "mcp.callTool",
        "mpp" => "mpp.fetch",
        #[cfg(feature = "a2a-client")]
        "a2a-card" | "a2a" | "a2a-stream" | "a2a-get" | "a2a-resubscribe" | "a2a-push-set"
        | "a2a-push-get" | "a2a-clear" => "a2a.getClient",
        _ => "fetchWithPayment",
    };
    #[cfg(not(feature = "subscriber"))]
    {
        let _ = (p, request_json, options_json, courier);
        Err(not_in_entry(what))
    }
    #[cfg(feature = "subscriber")]
    {
        #[cfg(feature = "browser")]
        p.check_signed_in()?;
        let request = parse(request_json)
            .map_err(|_| Error::validation(format!("{what}: the request must be JSON")))?;
        let options = parse(options_json)
            .map_err(|_| Error::validation(format!("{what}: the options must be JSON")))?;
        let request = crate::client::Outgoing::from_json(&request)?;
        // clearToken(): the next message of this client's agent mints a new token.
        #[cfg(feature = "a2a-client")]
        if kind == "a2a-clear" {
            let agent = options
                .get("agentId")
                .and_then(crate::protocol::json::id_value);
            p.client_state().forget_tokens_for(agent.as_deref());
            return Ok("null".into());
        }
        #[cfg(feature = "a2a-client")]
        if kind == "a2a-card" {
            return Ok(to_text(
                &crate::client::a2a_card(p, &request, &options).await?,
            ));
        }
        if kind == "mpp" {
            #[cfg(not(feature = "mpp"))]
            {
                return Err(not_in_entry(what));
            }
            #[cfg(feature = "mpp")]
            {
                return Ok(to_text(
                    &crate::client::mpp::fetch(p, &request, &options, courier).await?,
                ));
            }
        }
        let call = crate::client::Call::from_json(kind, &options)?;
        Ok(to_text(
            &crate::client::pay(p, &call, &request, &options, courier).await?,
        ))
    }
}

/// `gate.handle(requestJson, exchange)`: see [`Gate::handle`].
pub async fn gate_handle<T: Transport, X: crate::gate::Exchange>(
    p: &Payments<T>,
    gate: &Gate,
    request_json: &str,
    exchange: &X,
) -> Result<String> {
    gate.handle(p, &gate_request(request_json)?, exchange).await
}

/// `gate.handlerFailed(requestJson)`: see [`Gate::handler_failed`].
pub fn gate_handler_failed(gate: &Gate, request_json: &str) -> Result<String> {
    Ok(to_text(&gate.handler_failed(&gate_request(request_json)?)))
}

/// `mcpGate.tool(optionsJson)`: a paid handler's options, checked (see [`McpTool::from_json`]).
pub fn mcp_tool(options_json: &str) -> Result<McpTool> {
    McpTool::from_json(
        &parse(options_json)
            .map_err(|_| Error::validation("mcp.withPaywall: the options must be JSON"))?,
    )
}

/// `mcpTool.handle(callJson, exchange)`: see [`McpGate::handle`].
pub async fn mcp_handle<T: Transport, X: crate::gate::Exchange>(
    p: &Payments<T>,
    gate: &McpGate,
    tool: &McpTool,
    call_json: &str,
    exchange: &X,
) -> Result<String> {
    let call = parse(call_json).map_err(|_| Error::validation("mcp: the call must be JSON"))?;
    gate.handle(p, tool, &call, exchange).await
}

/// `nvm-x402/mcp`'s OAuth builders by their official names (`getOAuthUrls`,
/// `buildProtectedResourceMetadata`, ...; see [`oauth::build`]).
pub fn oauth_builder(name: &str, args_json: &str) -> Result<String> {
    let a = Args::parse(name, args_json)?;
    let null = Value::Null;
    oauth::build(name, a.raw(0).unwrap_or(&null), a.raw(1).unwrap_or(&null))
        .map(|doc| to_text(&doc))
}

fn amount(a: &Args, i: usize, name: &str, default: Option<u64>) -> Result<Uint256> {
    match (a.raw(i), default) {
        (None, Some(d)) => Ok(Uint256::from(d)),
        (None, None) => Err(a.bad(name, "is required")),
        (Some(v), _) => Uint256::from_json(v).map_err(|e| a.bad(name, e)),
    }
}

/// The pure functions of the JS API, defined once: the table [`FUNCTIONS`]
/// and the dispatcher [`call_sync`] come from the same list.
macro_rules! pure_functions {
    (|$a:ident, $null:ident| $($(#[$m:meta])* $name:literal => $body:expr,)*) => {
        /// The JS names of the pure (synchronous) functions.
        pub const FUNCTIONS: &[&str] = &[$($name),*];

        /// Runs a synchronous, pure function.
        pub fn call_sync(method: &str, args_json: &str) -> Result<String> {
            let a = match sync_args(method, args_json) {
                Ok(a) => a,
                Err(done) => return done,
            };
            Ok(to_text(&sync_value(&a, method)?))
        }

        /// The pure function `method` of arguments `a` (whose own name is in
        /// its errors: one function may be another's first step).
        fn sync_value($a: &Args, method: &str) -> Result<Value> {
            let $null = Value::Null;
            Ok(match method {
                $($(#[$m])* $name => $body,)*
                _ if FUNCTIONS.contains(&method) => return Err(not_in_entry(method)),
                _ => return Err(Error::validation(format!("unknown function \"{method}\""))),
            })
        }
    };
}

/// An MPP codec error (the official `MppError`, code `mpp_error`).
#[cfg(all(feature = "mpp", feature = "subscriber"))]
fn mpp_error(message: String) -> Error {
    Error::Mpp {
        code: crate::client::mpp::MPP_ERROR.to_owned(),
        message,
    }
}

/// Whether `method` reads a token (or an error's code): those never throw.
fn reads_a_token(method: &str) -> bool {
    #[cfg(feature = "builder")]
    if matches!(
        method,
        "detectAccessTokenVersion" | "isSingleUseAccessToken" | "isAccessTokenAlreadyUsed"
    ) {
        return true;
    }
    method == "decodeAccessToken"
}

/// The arguments of a pure function; `Err` carries the call's whole answer
/// when they can't be read (the decoders answer instead of throwing).
fn sync_args(method: &str, args_json: &str) -> std::result::Result<Args, Result<String>> {
    match Args::parse(method, args_json) {
        Ok(a) => Ok(a),
        // The token readers never throw. The facade hands them a string or null, so
        // unreadable arguments are a JS string with a lone surrogate ('\ud800'):
        // not well-formed Unicode, so not base64 either (nor a backend code): as null.
        Err(_) if reads_a_token(method) && args_json.starts_with('[') => Ok(Args {
            method: method.to_owned(),
            values: vec![Value::Null],
        }),
        Err(_) if method == "tryDecodeAccessToken" && args_json.starts_with('[') => {
            let why = protocol::TokenError::NotBase64;
            Err(Ok(to_text(
                &ObjectBuilder::new()
                    .put("ok", false)
                    .put("reason", why.reason())
                    .put("message", why.to_string())
                    .build(),
            )))
        }
        Err(e) => Err(Err(e)),
    }
}

pure_functions! { |a, null|
        "decodeAccessToken" => a
            .raw(0)
            .and_then(Value::as_str)
            .and_then(protocol::decode_access_token)
            .map_or(Value::Null, Value::Object),
        "tryDecodeAccessToken" => match a.raw(0).and_then(Value::as_str) {
            None => ObjectBuilder::new()
                .put("ok", false)
                .put("reason", "token_not_string")
                .put("message", "The access token must be a string")
                .build(),
            Some(token) => match protocol::try_decode_access_token(token) {
                Ok(t) => ObjectBuilder::new()
                    .put("ok", true)
                    .put("token", Value::Object(t))
                    .build(),
                Err(e) => ObjectBuilder::new()
                    .put("ok", false)
                    .put("reason", e.reason())
                    .put("message", e.to_string())
                    .build(),
            },
        },
        // payments-py's v3 helpers, in the core of nvm-x402 (the entry that exports them):
        // the version read from the token itself (2 when it can't be read).
        #[cfg(feature = "builder")]
        "detectAccessTokenVersion" => Value::from(u64::from(a.raw(0).and_then(Value::as_str).map_or(2, protocol::token_version))),
        #[cfg(feature = "builder")]
        "isSingleUseAccessToken" => Value::from(a.raw(0).and_then(Value::as_str).is_some_and(|t| protocol::token_version(t) == 3)),
        // The error's `code` (the facade hands it, or null) is the backend's "already settled".
        #[cfg(feature = "builder")]
        "isAccessTokenAlreadyUsed" => Value::from(a.raw(0).and_then(Value::as_str) == Some(crate::error::TOKEN_ALREADY_USED)),
        // The official MPP codec (src/protocol/mpp.rs), where the package root exports it.
        #[cfg(all(feature = "mpp", feature = "subscriber"))]
        "parseChallengeHeader" => match protocol::mpp::parse_challenge(a.text(0, "headerValue")?) {
            Ok(c) => c.map_or(Value::Null, |c| c.to_json()),
            Err(message) => return Err(mpp_error(message)),
        },
        #[cfg(all(feature = "mpp", feature = "subscriber"))]
        "buildCredentialHeader" => {
            let challenge = protocol::mpp::Challenge::from_json(a.arg(0)).map_err(mpp_error)?;
            let token = crate::protocol::json::at(a.arg(1), &["accessToken"]).and_then(Value::as_str);
            Value::from(protocol::mpp::credential(&challenge, token.ok_or_else(|| a.bad("payload.accessToken", "is required"))?))
        },
        #[cfg(all(feature = "mpp", feature = "subscriber"))]
        "parseReceiptHeader" => protocol::mpp::parse_receipt(a.text(0, "headerValue")?).map_err(mpp_error)?.to_json(),
        #[cfg(all(feature = "mpp", feature = "subscriber"))]
        "extractPaymentScheme" => a.raw(0).and_then(Value::as_str).and_then(protocol::mpp::payment_scheme).map_or(Value::Null, Value::from),
        #[cfg(all(feature = "mpp", feature = "subscriber"))]
        "extractCredentialChallengeId" => a.raw(0).and_then(Value::as_str).and_then(protocol::mpp::credential_challenge_id).map_or(Value::Null, Value::from),
        #[cfg(all(feature = "mpp", feature = "subscriber"))]
        "normalizeCredits" => match a.raw(0) {
            Some(Value::String(s)) => Value::from(protocol::mpp::decimal_credits(s).map_err(mpp_error)?),
            v => Value::from(Uint256::from_json(v.unwrap_or(&null)).map_err(|e| mpp_error(format!("credits must be a non-negative integer, got {}: {e}", to_text(v.unwrap_or(&null)))))?.as_str()),
        },
        #[cfg(all(feature = "mpp", feature = "subscriber"))]
        "isRetryableMppCode" => Value::from(a.raw(0).and_then(Value::as_str).is_some_and(protocol::mpp::retryable_code)),
        // The official X402A2AUtils' reads (pkg-template/a2a-utils.js), where it is exported.
        #[cfg(any(feature = "builder", feature = "a2a", feature = "a2a-client"))]
        "x402A2AMetadata" => crate::protocol::gate::a2a::inband_metadata(a.arg(0)),
        "encodeAccessToken" => match a.raw(0) {
            Some(Value::Object(map)) => Value::from(protocol::encode_access_token(map)),
            _ => {
                return Err(Error::validation(
                    "encodeAccessToken: the token must be an object",
                ))
            }
        },
        "buildPaymentRequired" => protocol::build_payment_required(
            &a.id(0, "planId")?,
            &BuildOptions::from_json(a.raw(1).unwrap_or(&null))?,
        )?,
        "buildPaymentRequiredForPlans" => payment_required::build_payment_required_for_plans(
            &a.ids(0, "planIds")?,
            &BuildOptions::from_json(a.raw(1).unwrap_or(&null))?,
        )?,
        "encodePaymentHeader" => Value::from(protocol::encode_payment_header(
            a.raw(0).ok_or_else(|| a.bad("value", "is required"))?,
        )?),
        "decodePaymentHeader" => match a.raw(0) {
            Some(Value::String(h)) => Value::Object(protocol::decode_payment_header(h)?),
            _ => {
                return Err(Error::validation(
                    "Invalid payment header: it must be a string",
                ))
            }
        },
        "redact" => Value::from(protocol::redact::redact(
            a.raw(0).and_then(Value::as_str).unwrap_or(""),
        )),
        "getFreePriceConfig" => plans::free_price_config(),
        "getCryptoPriceConfig" => plans::crypto_price_config(
            amount(a, 0, "amount", None)?,
            a.text(1, "receiver")?,
            a.opt_text(2, "tokenAddress")?,
        )?,
        "getNativeTokenPriceConfig" => plans::crypto_price_config(
            amount(a, 0, "amount", None)?,
            a.text(1, "receiver")?,
            None,
        )?,
        "getERC20PriceConfig" => plans::crypto_price_config(
            amount(a, 0, "amount", None)?,
            a.text(2, "receiver")?,
            Some(a.text(1, "tokenAddress")?),
        )?,
        "getFiatPriceConfig" => plans::fiat_price_config(
            amount(a, 0, "amount", None)?,
            a.text(1, "receiver")?,
            a.opt_text(2, "currency")?,
        )?,
        "getEURCPriceConfig" => plans::eurc_price_config(
            amount(a, 0, "amount", None)?,
            a.text(1, "receiver")?,
            a.opt_text(2, "eurcAddress")?,
        )?,
        #[cfg(feature = "builder")]
        // The crypto price (receiver checked first), then the template (required).
        "getPayAsYouGoPriceConfig" => plans::with_payg_template(
            sync_value(a, "getCryptoPriceConfig")?,
            a.opt_text(3, "templateAddress")?,
        )?,
        // The official's pay-as-you-go credits are the non-expiring duration config's values.
        "getPayAsYouGoCreditsConfig" => plans::non_expirable_duration_config(),
        "getFixedCreditsConfig" => plans::fixed_credits_config(
            amount(a, 0, "creditsGranted", None)?,
            amount(a, 1, "creditsPerRequest", Some(1))?,
        ),
        "getDynamicCreditsConfig" => plans::dynamic_credits_config(
            amount(a, 0, "creditsGranted", None)?,
            amount(a, 1, "minCreditsPerRequest", Some(1))?,
            amount(a, 2, "maxCreditsPerRequest", Some(1))?,
        ),
        "getExpirableDurationConfig" => {
            plans::expirable_duration_config(amount(a, 0, "durationOfPlan", None)?)
        },
        "getNonExpirableDurationConfig" => plans::non_expirable_duration_config(),
        // The environment a key's prefix names (null: none; the local environment's `local:` too).
        "getEnvironmentFromApiKey" => a
            .raw(0)
            .and_then(Value::as_str)
            .and_then(|key| key.split_once(':'))
            .and_then(|(prefix, _)| protocol::Environment::from_key_prefix(prefix))
            .map_or(Value::Null, |env| Value::from(env.name())),
        "isEthereumAddress" => Value::from(a.raw(0).and_then(Value::as_str).is_some_and(plans::is_ethereum_address)),
        // Sign-in and card setup for web pages (pkg-template/signin.js; src/protocol/signin.rs decides).
        #[cfg(feature = "browser")]
        "signInLanding" => signin::landing(
            &signin::BrowserOptions::from_json(a.arg(0))?,
            a.text(1, "href")?,
            a.opt_text(2, "signInState")?,
            a.arg(3),
            a.text(4, "nextState")?,
            a.opt_text(5, "cardState")?,
        )?
        .to_json(),
        #[cfg(feature = "browser")]
        "cardSetup" => signin::card_setup(
            &signin::BrowserOptions::from_json(a.arg(0))?,
            a.arg(1),
            a.raw(2),
            a.text(3, "state")?,
        )?,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn decode_never_throws() {
        for args in [
            "[]",
            "[null]",
            "[123]",
            "[\"garbage\"]",
            "[\"MTIz\"]",
            "[{\"a\":1}]",
        ] {
            assert_eq!(
                call_sync("decodeAccessToken", args).unwrap(),
                "null",
                "{args}"
            );
        }
        assert_eq!(call_sync("decodeAccessToken", "[\"e30\"]").unwrap(), "{}");
        let why: Value = parse(&call_sync("tryDecodeAccessToken", "[\"MTIz\"]").unwrap()).unwrap();
        assert_eq!(
            why,
            json!({"ok": false, "reason": "token_not_object", "message": "The access token decodes to JSON that is not an object"})
        );
        let why: Value = parse(&call_sync("tryDecodeAccessToken", "[5]").unwrap()).unwrap();
        assert_eq!(why["reason"], "token_not_string");
        // Audit #9.8: JSON.stringify('\ud800') is "\ud800", which is no Unicode text.
        assert_eq!(
            call_sync("decodeAccessToken", r#"["\ud800"]"#).unwrap(),
            "null"
        );
        let why: Value =
            parse(&call_sync("tryDecodeAccessToken", r#"["e30\udfff"]"#).unwrap()).unwrap();
        assert_eq!(
            (why["ok"].as_bool(), why["reason"].as_str()),
            (Some(false), Some("token_not_base64"))
        );
        for (helper, answer) in [
            ("detectAccessTokenVersion", "2"),
            ("isSingleUseAccessToken", "false"),
            ("isAccessTokenAlreadyUsed", "false"),
        ] {
            for args in ["[]", "[null]", "[5]", r#"["\ud800"]"#, r#"["garbage"]"#] {
                assert_eq!(call_sync(helper, args).unwrap(), answer, "{helper}({args})");
            }
        }
        assert_eq!(
            call_sync("encodeAccessToken", r#"["\ud800"]"#)
                .unwrap_err()
                .code(),
            "validation"
        );
    }

    #[test]
    fn amounts_accept_bigint_strings_numbers_and_defaults() {
        let fixed: Value =
            parse(&call_sync("getFixedCreditsConfig", "[\"100\"]").unwrap()).unwrap();
        assert_eq!(
            (fixed["amount"].as_str(), fixed["minAmount"].as_str()),
            (Some("100"), Some("1"))
        );
        let dynamic: Value =
            parse(&call_sync("getDynamicCreditsConfig", "[10, 2, 5]").unwrap()).unwrap();
        assert_eq!(
            (dynamic["minAmount"].as_str(), dynamic["maxAmount"].as_str()),
            (Some("2"), Some("5"))
        );
        let err = call_sync("getFixedCreditsConfig", "[]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "getFixedCreditsConfig: creditsGranted: is required"
        );
        let err = call_sync("getFixedCreditsConfig", "[1e300]").unwrap_err();
        assert!(err.to_string().contains("creditsGranted"), "{err}");
    }

    fn payments() -> Payments<crate::transport::mock::MockTransport> {
        Payments::new(
            &crate::protocol::PaymentsOptions {
                nvm_api_key: Some("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
                ..Default::default()
            },
            crate::transport::mock::MockTransport::new(),
        )
        .unwrap()
    }

    /// What a call with no arguments says, if it says the name is unknown.
    fn unknown(result: Result<String>) -> bool {
        result.is_err_and(|e| e.to_string().contains("unknown"))
    }

    #[test]
    fn every_name_in_the_table_dispatches_and_no_other() {
        let p = payments();
        for name in methods() {
            assert!(
                !unknown(pollster::block_on(call(&p, name, "[]"))),
                "{name} is in the table but call() doesn't know it"
            );
        }
        for name in FUNCTIONS {
            assert!(
                !unknown(call_sync(name, "[]")),
                "{name} is in the table but call_sync() doesn't know it"
            );
        }
        for name in ["plans.nope", "getPlan", "x402", ""] {
            assert!(unknown(pollster::block_on(call(&p, name, "[]"))), "{name}");
            assert!(unknown(call_sync(name, "[]")), "{name}");
        }
        // A pure function is not a method, and the other way round.
        assert!(unknown(pollster::block_on(call(
            &p,
            "getFreePriceConfig",
            "[]"
        ))));
        assert!(unknown(call_sync("plans.getPlan", "[]")));
    }

    #[test]
    fn the_pay_as_you_go_helpers_as_javascript_calls_them() {
        let template = "0x5e852077b30099106Aa65B4d329FFF9b5C9a8e7C";
        let receiver = "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d";
        let sync = |args: &str| call_sync("getPayAsYouGoPriceConfig", args);
        // The official's order: the receiver, then the template.
        let e = sync(r#"["100", "0x12"]"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("Receiver address \"0x12\" is not a valid"),
            "{e}"
        );
        let e = sync(&format!(r#"["100", "{receiver}"]"#)).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "templateAddress is required. Use ContractsAPI.getPayAsYouGoTemplateAddress()"
            ),
            "{e}"
        );
        let price: Value =
            parse(&sync(&format!(r#"["100", "{receiver}", null, "{template}"]"#)).unwrap())
                .unwrap();
        let mut crypto: Value = parse(
            &call_sync("getCryptoPriceConfig", &format!(r#"["100", "{receiver}"]"#)).unwrap(),
        )
        .unwrap();
        crypto["templateAddress"] = Value::from(template);
        assert_eq!(price, crypto);
        let credits: Value =
            parse(&call_sync("getPayAsYouGoCreditsConfig", "[]").unwrap()).unwrap();
        assert_eq!(
            credits,
            json!({"isRedemptionAmountFixed": false, "redemptionType": 4, "onchainMirror": false, "durationSecs": "0", "amount": "1", "minAmount": "1", "maxAmount": "1"})
        );

        // The methods read the deployment's template, the deployment read
        // once per instance (a failed read is not kept).
        let p = payments();
        let method = |name: &str, args: &str| pollster::block_on(call(&p, name, args));
        p.transport()
            .json("GET", "/", 503, json!({"message": "down"}));
        let e = method("contracts.getPayAsYouGoTemplateAddress", "[]").unwrap_err();
        assert_eq!(e.code(), "http_503");
        p.transport().json(
            "GET",
            "/",
            200,
            json!({"deployment": {"contracts": {"PayAsYouGoTemplate": template}}}),
        );
        assert_eq!(
            method("contracts.getPayAsYouGoTemplateAddress", "[]").unwrap(),
            format!("\"{template}\"")
        );
        let answer = method(
            "plans.getPayAsYouGoPriceConfig",
            &format!(r#"["100", "{receiver}", "{template}"]"#),
        )
        .unwrap();
        let price: Value = parse(&answer).unwrap();
        assert_eq!(
            (
                price["templateAddress"].as_str(),
                price["tokenAddress"].as_str()
            ),
            (Some(template), Some(template))
        );
        // A fourth argument is not the method's: the deployment's template stands.
        let other = "0x00000000000000000000000000000000000000aa";
        let answer = method(
            "plans.getPayAsYouGoPriceConfig",
            &format!(r#"["100", "{receiver}", null, "{other}"]"#),
        )
        .unwrap();
        assert_eq!(parse(&answer).unwrap()["templateAddress"], template);
        let e = method("plans.getPayAsYouGoPriceConfig", r#"["100", "0x12"]"#).unwrap_err();
        assert!(e.to_string().starts_with("Receiver address"), "{e}");
        let deployment = method("contracts.getDeploymentInfo", "[]").unwrap();
        assert_eq!(
            parse(&deployment).unwrap()["contracts"]["PayAsYouGoTemplate"],
            template
        );
        assert_eq!(p.transport().count("/"), 2, "the failed read, then one");
        let p = payments();
        let method = |name: &str, args: &str| pollster::block_on(call(&p, name, args));
        p.transport()
            .json("GET", "/", 200, json!({"deployment": {"contracts": {}}}));
        let e = method(
            "plans.getPayAsYouGoPriceConfig",
            &format!(r#"["100", "{receiver}"]"#),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Contract address not found for PayAsYouGoTemplate"
        );
    }

    #[test]
    fn a_browser_client_without_a_key_and_a_logged_out_one_send_nothing() {
        use crate::transport::mock::MockTransport;
        let signed_out = Payments::new(
            &crate::protocol::PaymentsOptions {
                environment: Some("local".into()),
                browser: true,
                ..Default::default()
            },
            MockTransport::new(),
        )
        .unwrap();
        let p = payments();
        p.transport()
            .json("GET", "/api/v1/protocol/plans/7", 200, json!({"id": "7"}));
        assert!(pollster::block_on(call(&p, "plans.getPlan", "[\"7\"]")).is_ok());
        assert!(p.is_signed_in() && !signed_out.is_signed_in());
        p.sign_out();
        for client in [&signed_out, &p] {
            for (method, args) in [
                ("plans.getPlan", "[\"7\"]"),
                ("plans.orderPlan", "[\"7\"]"),
                ("x402.getX402AccessToken", "[\"7\"]"),
            ] {
                let err = pollster::block_on(call(client, method, args)).unwrap_err();
                assert_eq!(err.code(), "not_logged_in", "{method}");
            }
            let err = pollster::block_on(pay(client, "fetch", "{}", "{}", &NoHops)).unwrap_err();
            assert_eq!(err.code(), "not_logged_in");
        }
        assert_eq!(
            p.transport().sent.borrow().len(),
            1,
            "only the call before logout was sent"
        );
        assert!(signed_out.transport().sent.borrow().is_empty());
        // The buyer's getOrder sends no key: it is sent signed out, before sign-in and after logout.
        for client in [&signed_out, &p] {
            client.transport().json(
                "GET",
                "/api/v1/orders/o-1",
                200,
                json!({"id": "o-1", "status": "paid"}),
            );
            let order = pollster::block_on(call(client, "orders.getOrder", "[\"o-1\"]")).unwrap();
            assert!(order.contains("\"paid\""), "{order}");
            let sent = client.transport().sent.borrow();
            let last = sent.last().unwrap();
            assert!(last
                .headers
                .iter()
                .all(|(name, _)| *name != "Authorization"));
        }
        // Without isBrowserInstance a missing key is still the official error.
        let err = Payments::new(
            &crate::protocol::PaymentsOptions::default(),
            MockTransport::new(),
        )
        .err()
        .unwrap();
        assert_eq!(err.to_string(), "Nevermined API Key is required");
    }

    struct NoHops;
    impl crate::client::Courier for NoHops {
        async fn send(&self, _: &crate::client::Hop) -> Result<crate::client::Reply> {
            panic!("nothing may be sent")
        }
        #[cfg(not(feature = "a2a-client"))]
        async fn text(&self) -> Result<String> {
            panic!("nothing may be read")
        }
        #[cfg(feature = "a2a-client")]
        async fn read(&self, _: &str) -> Result<Option<String>> {
            panic!("nothing may be read")
        }
        fn discard(&self) {}
    }

    #[test]
    fn the_names_the_facade_builds_its_namespaces_from_are_the_tables() {
        let names: Vec<&str> = METHOD_NAMES.split('\n').collect();
        assert_eq!(names, methods().collect::<Vec<_>>());
    }

    #[test]
    fn the_table_has_each_name_once_and_every_internal_name_exists() {
        let mut all: Vec<&str> = methods().chain(FUNCTIONS.iter().copied()).collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "a JS name is defined twice");
        for name in INTERNAL_FUNCTIONS {
            assert!(
                FUNCTIONS.contains(name),
                "{name} is internal but not a function"
            );
        }
        assert_eq!(
            functions().count() + INTERNAL_FUNCTIONS.len(),
            FUNCTIONS.len()
        );
        assert!(
            functions().all(|f| !f.contains('.')),
            "exported functions are top-level names"
        );
    }

    #[test]
    fn arguments_must_be_an_array_and_methods_known() {
        assert_eq!(
            call_sync("decodeAccessToken", "{}").unwrap_err().code(),
            "validation"
        );
        assert!(call_sync("nope", "[]")
            .unwrap_err()
            .to_string()
            .contains("unknown function"));
        let pr: Value = parse(
            &call_sync(
                "buildPaymentRequiredForPlans",
                r#"[["1", 2], {"endpoint": "/x"}]"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(pr["accepts"][1]["planId"], "2");
    }
}
