//! The paying client's decisions: what to send next when calling a paid
//! agent. [`pay`] runs a call end to end (`paying.rs`): it asks
//! [`next_step`] "send (with this token)" or "stop", has the adapter send
//! each attempt and follows redirects by its rules.
//!
//! Rules (x402-http.md, "The client"):
//! - on a 402, decode `payment-required`, pick the first entry whose plan the
//!   caller allows (`planIds`, or `anyPlan: true`; an agent never picks the
//!   plan), check its price against `maxCredits` (the plan's credits per
//!   request, read from the plan), get a token (cached per plan, agent,
//!   scheme, network and token options; v3 tokens are never reused) and send again
//!   with `payment-signature`;
//! - a receipt that burned more than `maxCredits` is an error, and that
//!   agent's cached token is dropped;
//! - a cached token answered with 402 is dropped and one fresh mint is tried;
//!   a fresh token answered with 402 ends it (no loops);
//! - a request that already carried a token is never retried;
//! - a token is only sent over `https:`, or `http:` to loopback;
//! - a URL that asked for payment before gets the cached token up front, as the
//!   call's own options allow (its plans, agent and payment type win).
//!
//! Delegations: without `tokenOptions.delegationConfig`, the account's active
//! delegation for the scheme's provider (and card) is reused, across
//! instances; only when it has none is one created, of at most
//! [`DEFAULT_SPENDING_LIMIT_CENTS`] for [`DEFAULT_DELEGATION_SECS`] unless the
//! caller says otherwise. A delegation whose budget is spent is not replaced
//! (the agent's settle is refused); an expired one is. So automatic card
//! top-ups spend at most one budget per delegation period. The card of a fiat
//! plan is `paymentMethodId`, else the account's first enrolled card.

pub use crate::api::plans::Billing;
use crate::client_state::Requirement;
use crate::error::{Error, Result, MAX_CREDITS_EXCEEDED, MAX_PRICE_EXCEEDED, PLAN_NOT_ALLOWED};
use crate::payments::Payments;
use crate::protocol::json::{self, parse, Object, ObjectBuilder, Value};
use crate::protocol::mcp;
use crate::protocol::url::may_carry_secrets;
use crate::protocol::{
    decode_access_token, ResolvedScheme, Uint256, SCHEME_CARD_DELEGATION, SCHEME_ERC4337,
};
use crate::transport::Transport;

/// The budget of a delegation the client creates on its own: $1.00.
pub const DEFAULT_SPENDING_LIMIT_CENTS: u64 = 100;
/// How long a delegation the client creates on its own lasts: one hour.
pub const DEFAULT_DELEGATION_SECS: u64 = 3600;

/// Options of `fetchWithPayment` / `queryAgent` (JS names).
#[derive(Debug, Clone, Default)]
pub struct PayOptions {
    /// `planIds`: plans the caller is willing to pay with.
    pub plan_ids: Vec<String>,
    /// `anyPlan`: pay with any plan the agent offers (off unless asked for).
    pub any_plan: bool,
    /// `agentId`: the agent to mint for.
    pub agent_id: Option<String>,
    /// `tokenOptions`: passed to the mint (`delegationConfig`, `tokenVersion`, ...).
    pub token_options: Value,
    /// `maxCredits`: the most credits one request may cost (checked against the plan, the entry and the receipt).
    pub max_credits: Option<Uint256>,
    /// `maxPriceCents`: the most money one request to a pay-as-you-go plan may charge, in cents of the plan's currency.
    pub max_price_cents: Option<u64>,
    /// `paymentType` (`crypto`/`fiat`): the scheme, when paying before any 402.
    pub payment_type: Option<String>,
    /// Pay on the first attempt (needs exactly one plan): the default when `planIds` names one plan (and `anyPlan` is off); `eager: false` probes for the 402 first.
    pub eager: bool,
    /// `spendingLimitCents` and `delegationDurationSecs` for delegations created on the fly.
    pub spending_limit_cents: Option<u64>,
    /// See `spending_limit_cents`.
    pub delegation_duration_secs: Option<u64>,
    /// `paymentMethodId`: the card to delegate (default: the first enrolled card).
    pub payment_method_id: Option<String>,
}

impl PayOptions {
    /// The scheme `paymentType` asks for, if it says.
    fn scheme_asked(&self) -> Option<&'static str> {
        match self.payment_type.as_deref()? {
            "fiat" => Some(SCHEME_CARD_DELEGATION),
            _ => Some(SCHEME_ERC4337),
        }
    }

    /// What the caller chose that changes what is minted beyond the requirement: its
    /// `tokenOptions` and its card (`paymentMethodId`), as text (JSON text holds no raw
    /// newline, so the two can't run into each other).
    fn mint_choices(&self) -> String {
        let mut out = json::to_text(&self.token_options);
        out.push('\n');
        out.push_str(self.payment_method_id.as_deref().unwrap_or(""));
        out
    }

    /// Reads the JS options object (`null` is "no options").
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "payment options";
        let Some(o) = json::opt_object(Some(v), WHAT)? else {
            return Ok(PayOptions::default());
        };
        let mut plan_ids = json::opt_ids(o, "planIds", WHAT)?;
        if let Some(one) = json::opt_id(o, "planId", WHAT)? {
            plan_ids.insert(0, one);
        }
        let any_plan = json::opt_bool(o, "anyPlan", WHAT)?.unwrap_or(false);
        let token_options = o.get("tokenOptions").cloned().unwrap_or(Value::Null);
        // One allowed plan: pay on the first request (one request and one mint, not 402 +
        // mint + retry) — unless the token is single-use (v3) and no agentId says whom to bind it to.
        let v3 = token_options.get("tokenVersion").and_then(Value::as_u64) == Some(3);
        let agent_id = json::opt_id(o, "agentId", WHAT)?;
        let eager = json::opt_bool(o, "eager", WHAT)?
            .unwrap_or(plan_ids.len() == 1 && !any_plan && (agent_id.is_some() || !v3));
        let payment_type = json::opt_str(o, "paymentType", WHAT)?.map(str::to_ascii_lowercase);
        if payment_type
            .as_deref()
            .is_some_and(|t| t != "crypto" && t != "fiat")
        {
            return Err(Error::validation(
                "paymentType must be \"crypto\" or \"fiat\"",
            ));
        }
        Ok(PayOptions {
            plan_ids,
            any_plan,
            agent_id,
            token_options,
            max_credits: crate::protocol::uint::opt_uint(o, "maxCredits", WHAT)?,
            max_price_cents: crate::protocol::uint::opt_count(o, "maxPriceCents", WHAT)?,
            payment_type,
            eager,
            spending_limit_cents: crate::protocol::uint::opt_count(o, "spendingLimitCents", WHAT)?,
            delegation_duration_secs: crate::protocol::uint::opt_count(
                o,
                "delegationDurationSecs",
                WHAT,
            )?,
            payment_method_id: json::opt_str(o, "paymentMethodId", WHAT)?.map(str::to_owned),
        })
    }
}

/// The request a paying call sends (the caller's, as the adapter describes it).
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Its URL (absolute).
    pub url: String,
    /// Its method, upper case.
    pub method: String,
    /// The caller put a token on it themselves: it is sent once, as it is.
    pub has_token: bool,
    /// The caller's `redirect` mode: `follow`, `manual` or `error`.
    pub redirect: String,
    /// MCP: the `mcp-session-id` the caller set (a 2025-era session of their own).
    pub mcp_session: Option<String>,
    /// MPP: the caller's own `Authorization` (the credential goes before it).
    pub authorization: Option<String>,
}

impl Outgoing {
    /// Reads `{url, method, hasToken, redirect, mcpSessionId}`.
    pub fn from_json(v: &Value) -> Result<Self> {
        let o = json::object(v, "request")?;
        Ok(Outgoing {
            url: json::opt_str(o, "url", "request")?
                .ok_or_else(|| Error::validation("request.url is required"))?
                .to_owned(),
            method: json::opt_str(o, "method", "request")?
                .unwrap_or("GET")
                .to_ascii_uppercase(),
            has_token: json::opt_bool(o, "hasToken", "request")?.unwrap_or(false),
            redirect: json::opt_str(o, "redirect", "request")?
                .unwrap_or("follow")
                .to_owned(),
            mcp_session: json::opt_str(o, "mcpSessionId", "request")?.map(str::to_owned),
            authorization: json::opt_str(o, "authorization", "request")?.map(str::to_owned),
        })
    }

    fn route_key(&self) -> String {
        format!(
            "{} {}",
            self.method,
            self.url.split(['?', '#']).next().unwrap_or("")
        )
    }
}

/// Where the token of an attempt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A cached token.
    Cache,
    /// Minted for what the agent's 402 asked.
    Fresh,
    /// Minted before the agent said what it wants (eager): its 402, if any, still informs.
    Ahead,
}

/// How an attempt went, as the next decision needs it.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The answer's status (an MCP tool result asking for payment: 402).
    pub status: u16,
    /// The PaymentRequired the agent sent (decoded; `None` when absent or unreadable).
    pub payment_required: Option<Object>,
    /// The receipt of the payment (decoded; `None` when absent or unreadable).
    pub payment_response: Option<Object>,
    /// Where the attempt's token came from (`None`: it carried none of ours).
    pub source: Option<Source>,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send the request (again), with this token and where it came from, or none.
    Send(Option<(String, Source)>),
    /// The last attempt's answer is the call's.
    Stop,
}

/// Decides the next attempt: `last` is `None` before the first.
pub async fn next_step<T: Transport>(
    p: &Payments<T>,
    req: &Outgoing,
    opts: &PayOptions,
    last: Option<&Outcome>,
) -> Result<Step> {
    let state = p.client_state();
    let Some(last) = last else {
        if req.has_token {
            return Ok(Step::Send(None));
        }
        let known = state
            .route(&req.route_key())
            .and_then(|r| remembered_for(r, opts));
        let (eager, ahead) = match known {
            Some(r) => (Some(r), false),
            None if opts.eager => (Some(eager_requirement(p, opts, req).await?), true),
            None => (None, false),
        };
        let Some(r) = eager else {
            return Ok(Step::Send(None));
        };
        check_price(p, opts, &r).await?;
        let (token, source) = token_for(p, opts, req, &r, false).await?;
        if ahead {
            state.remember_route(req.route_key(), r);
        }
        let source = match source {
            Source::Fresh if ahead => Source::Ahead,
            other => other,
        };
        return Ok(Step::Send(Some((token, source))));
    };
    if req.has_token {
        return Ok(Step::Stop);
    }
    if last.status != 402 {
        if last.source.is_some() {
            check_receipt(p, opts, req, last.payment_response.as_ref())?;
        }
        return Ok(Step::Stop);
    }
    if last.source == Some(Source::Fresh) {
        return Ok(Step::Stop);
    }
    let Some(payment_required) = &last.payment_required else {
        return Ok(Step::Stop);
    };
    let Some(requirement) = choose(payment_required, opts)? else {
        return Ok(Step::Stop);
    };
    // A token minted ahead that already was what the agent asks for was refused
    // on its merits (credits, delegation): another mint would be refused too.
    if last.source == Some(Source::Ahead)
        && state
            .route(&req.route_key())
            .is_some_and(|ahead| ahead.covers(&requirement))
    {
        return Ok(Step::Stop);
    }
    check_price(p, opts, &requirement).await?;
    state.remember_route(req.route_key(), requirement.clone());
    // A token the agent refused without having asked for it (cached, or minted ahead): mint afresh.
    let from_cache = matches!(last.source, Some(Source::Cache | Source::Ahead));
    if from_cache {
        state.forget_tokens(&requirement);
    }
    Ok(Step::Send(Some(
        token_for(p, opts, req, &requirement, from_cache).await?,
    )))
}

fn allowed(opts: &PayOptions, plan_id: &str) -> bool {
    opts.any_plan || opts.plan_ids.iter().any(|p| p == plan_id)
}

/// What the client remembers a URL asked for, as this call may pay it: the
/// call's own options win over the memory. Only a plan the call allows; with
/// the call's `agentId` (a remembered requirement for another agent is not
/// used; one for no agent is paid with a token bound to the call's), and its
/// `paymentType` (a remembered scheme of the other kind is not used).
fn remembered_for(mut known: Requirement, opts: &PayOptions) -> Option<Requirement> {
    if !allowed(opts, &known.plan_id) {
        return None;
    }
    if let Some(mine) = &opts.agent_id {
        match &known.agent_id {
            Some(theirs) if theirs != mine => return None,
            _ => known.agent_id = Some(mine.clone()),
        }
    }
    if opts
        .scheme_asked()
        .is_some_and(|s| s != known.scheme.scheme)
    {
        return None;
    }
    Some(known)
}

/// Refuses, before anything is minted, a plan that may charge more per
/// request than the caller allows: a credits plan's own `maxAmount` against
/// `maxCredits`; a pay-as-you-go plan's price against `maxPriceCents` (see
/// [`check_money`]). A plan that doesn't say is refused under the cap it can't meet.
async fn check_price<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    requirement: &Requirement,
) -> Result<()> {
    if opts.max_credits.is_none() && opts.max_price_cents.is_none() {
        return Ok(());
    }
    let plan = &requirement.plan_id;
    let terms = p.plan_terms(plan).await?;
    match terms.billing {
        Billing::PayAsYouGo(cents) => return check_money(opts, plan, cents),
        Billing::Unknown if opts.max_price_cents.is_some() => return check_money(opts, plan, None),
        _ => {}
    }
    let Some(cap) = &opts.max_credits else {
        return Ok(());
    };
    let refuse = |message: String| Error::PaymentRefused {
        code: MAX_CREDITS_EXCEEDED,
        message,
        details: None,
    };
    match terms.max_credits_per_request {
        Some(price) if &price <= cap => Ok(()),
        Some(price) => Err(refuse(format!(
            "Plan {plan} charges up to {price} credits per request, more than maxCredits ({cap})"
        ))),
        None => Err(refuse(format!(
            "Plan {plan} does not say how many credits a request costs, so maxCredits ({cap}) can't be checked"
        ))),
    }
}

/// [`money_refusal`] as the error `max_price_exceeded`.
fn check_money(opts: &PayOptions, plan: &str, cents: Option<u64>) -> Result<()> {
    match money_refusal(opts, plan, cents) {
        None => Ok(()),
        Some(message) => Err(Error::PaymentRefused {
            code: MAX_PRICE_EXCEEDED,
            message,
            details: None,
        }),
    }
}

/// Why a request to a pay-as-you-go plan (`cents`: its price, `None` when
/// it can't be read in cents) is refused under the caller's caps, if it is
/// (`max_price_exceeded`): over `maxPriceCents`, or unknown under it, or
/// under `maxCredits` alone, which says nothing about money.
fn money_refusal(opts: &PayOptions, plan: &str, cents: Option<u64>) -> Option<String> {
    Some(match (opts.max_price_cents, cents) {
        (Some(cap), Some(c)) if c <= cap => return None,
        (Some(cap), Some(c)) => {
            format!("Plan {plan} charges {c} cents per request, more than maxPriceCents ({cap})")
        }
        (Some(cap), None) => format!(
            "Plan {plan}'s price is not known in cents: maxPriceCents ({cap}) can't be checked"
        ),
        (None, _) => {
            format!("Plan {plan} is pay-as-you-go: pass maxPriceCents (maxCredits is no money cap)")
        }
    })
}

/// After a paid attempt, the receipt against the caps: one that burned more
/// than `maxCredits`, or a pay-as-you-go charge (`billingModel` other than
/// `credits`: `creditsRedeemed: "0"` is not free) that the plan's price and
/// `maxPriceCents` don't cover, is an error, and the token that paid is
/// dropped so this agent gets no more requests with it.
fn check_receipt<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    req: &Outgoing,
    receipt: Option<&Object>,
) -> Result<()> {
    let Some(receipt) = receipt else {
        return Ok(());
    };
    let state = p.client_state();
    let key = req.route_key();
    // The token that paid is the one this call's options made of the URL's memory.
    let paid = state.route(&key).and_then(|r| remembered_for(r, opts));
    let charged = receipt
        .get("billingModel")
        .is_some_and(|b| b.as_str() != Some("credits"));
    let (code, message) =
        if charged && (opts.max_credits.is_some() || opts.max_price_cents.is_some()) {
            // The plan's terms as this call's check before paying kept them (a cap
            // makes it look the plan up); no longer kept (evicted, expired), the
            // price is unknown: refused.
            let plan = paid.as_ref().map_or("", |r| r.plan_id.as_str());
            let cents = match p.kept_plan_terms(plan).map(|t| t.billing) {
                Some(Billing::PayAsYouGo(cents)) => cents,
                _ => None,
            };
            (MAX_PRICE_EXCEEDED, money_refusal(opts, plan, cents))
        } else {
            let burned = receipt
                .get("creditsRedeemed")
                .and_then(|c| Uint256::from_json(c).ok());
            let message = match (&opts.max_credits, burned) {
                (Some(cap), Some(burned)) if &burned > cap => Some(format!(
                "The agent burned {burned} credits for one request, more than maxCredits ({cap})"
            )),
                _ => None,
            };
            (MAX_CREDITS_EXCEEDED, message)
        };
    let Some(mut message) = message else {
        return Ok(());
    };
    if let Some(paid) = &paid {
        state.forget_tokens(paid);
    }
    state.forget_route(&key);
    message.push_str("; its token is no longer used");
    Err(Error::PaymentRefused {
        code,
        message,
        details: Some(Value::Object(receipt.clone())),
    })
}

/// The first `accepts` entry the caller can pay: a Nevermined scheme, an
/// allowed plan, the caller's agent (when both name one), within `maxCredits`.
/// Nevermined entries that are all for other plans or agents are a
/// `plan_not_allowed` error: the agent never picks what the caller pays for.
fn choose(payment_required: &Object, opts: &PayOptions) -> Result<Option<Requirement>> {
    let resource_url = payment_required
        .get("resource")
        .and_then(|r| r.get("url"))
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    let entries = payment_required
        .get("accepts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut offered: Vec<String> = Vec::new();
    for entry in entries {
        let text = |k: &str| entry.get(k).and_then(Value::as_str);
        // An entry without a plan (`planId: ""`, what a PaymentRequired built for no plan holds) offers nothing.
        let (Some(scheme), Some(network), Some(plan_id)) = (
            text("scheme"),
            text("network"),
            entry
                .get("planId")
                .and_then(json::id_value)
                .filter(|id| !id.is_empty()),
        ) else {
            continue;
        };
        if scheme != SCHEME_ERC4337 && scheme != SCHEME_CARD_DELEGATION {
            continue;
        }
        let entry_agent = json::at(entry, &["extra", "agentId"]).and_then(json::id_value);
        let other_agent =
            matches!((&opts.agent_id, &entry_agent), (Some(mine), Some(theirs)) if mine != theirs);
        if !allowed(opts, &plan_id) || other_agent {
            offered.push(plan_id);
            continue;
        }
        if let (Some(cap), Some(price)) = (
            &opts.max_credits,
            entry.get("amount").and_then(|a| Uint256::from_json(a).ok()),
        ) {
            if &price > cap {
                return Err(Error::PaymentRefused {
                    code: MAX_CREDITS_EXCEEDED,
                    message: format!(
                        "The agent asks {price} credits per request, more than maxCredits ({cap})"
                    ),
                    details: Some(Value::Object(payment_required.clone())),
                });
            }
        }
        return Ok(Some(Requirement {
            plan_id,
            agent_id: entry_agent.or_else(|| opts.agent_id.clone()),
            scheme: ResolvedScheme {
                scheme: scheme.to_owned(),
                network: network.to_owned(),
            },
            resource_url: resource_url.clone(),
        }));
    }
    if offered.is_empty() {
        return Ok(None);
    }
    let allowed_text = if opts.plan_ids.is_empty() {
        "no planIds were given".to_owned()
    } else {
        format!("planIds is {}", list(&opts.plan_ids, ", "))
    };
    let agent_text = opts
        .agent_id
        .as_deref()
        .map(|a| format!(" for agent {a}"))
        .unwrap_or_default();
    Err(Error::PaymentRefused {
        code: PLAN_NOT_ALLOWED,
        message: format!(
            "The agent asks to be paid with plan {}, which this call does not allow ({allowed_text}{agent_text})",
            list(&offered, " or ")
        ),
        details: Some(Value::Object(payment_required.clone())),
    })
}

/// `a, b, c` (a loop: `[String]::join` is one more generic copy in the .wasm).
fn list(items: &[String], separator: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(item);
    }
    out
}

/// Paying before any 402 (`queryAgent`): one plan, its scheme from
/// `paymentType` or the plan itself.
async fn eager_requirement<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    req: &Outgoing,
) -> Result<Requirement> {
    let [plan_id] = opts.plan_ids.as_slice() else {
        return Err(Error::misuse(
            "planId is required: the one plan to pay the agent with on the first request",
            "Pass planId, or eager: false with planIds (or anyPlan: true) to let the agent's 402 choose.",
        ));
    };
    let scheme = match opts.scheme_asked() {
        Some(SCHEME_CARD_DELEGATION) => {
            let provider = fiat_provider(p, plan_id).await?;
            ResolvedScheme {
                scheme: SCHEME_CARD_DELEGATION.to_owned(),
                network: provider,
            }
        }
        Some(_) => ResolvedScheme {
            scheme: SCHEME_ERC4337.to_owned(),
            network: p.config().default_network(SCHEME_ERC4337).to_owned(),
        },
        None => p.resolve_scheme(plan_id).await?,
    };
    Ok(Requirement {
        plan_id: plan_id.clone(),
        agent_id: opts.agent_id.clone(),
        scheme,
        resource_url: Some(req.url.clone()),
    })
}

async fn fiat_provider<T: Transport>(p: &Payments<T>, plan_id: &str) -> Result<String> {
    let resolved = p.resolve_scheme(plan_id).await?;
    Ok(if resolved.scheme == SCHEME_CARD_DELEGATION {
        resolved.network
    } else {
        "stripe".to_owned()
    })
}

/// A token for `requirement`: the cached one unless `fresh`, else a new mint
/// (v2 tokens are cached; v3 never). Refuses insecure URLs before minting.
async fn token_for<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    req: &Outgoing,
    requirement: &Requirement,
    fresh: bool,
) -> Result<(String, Source)> {
    if !may_carry_secrets(&req.url) {
        return Err(Error::InsecureTransport(format!(
            "Refusing to send a payment token over plain http to {}; use https (http is allowed to localhost only)",
            crate::protocol::url::Url::parse(&req.url).map(|u| u.host.serialize()).unwrap_or_else(|| "a non-URL".into())
        )));
    }
    let v3 = opts
        .token_options
        .get("tokenVersion")
        .and_then(Value::as_u64)
        == Some(3);
    // Keyed by everything that changes what is minted, the caller's token options
    // (delegation, version, ...) and card included: a call's options always win over the cache.
    let key = requirement.token_key(opts.mint_choices());
    let state = p.client_state();
    if !fresh && !v3 {
        if let Some(token) = state.token(&key) {
            return Ok((token, Source::Cache));
        }
    }
    let token = mint(p, opts, req, requirement).await?;
    if !v3 {
        state.keep_token(key, token.clone());
    }
    Ok((token, Source::Fresh))
}

async fn mint<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    req: &Outgoing,
    requirement: &Requirement,
) -> Result<String> {
    let mut token_options = match &opts.token_options {
        Value::Object(o) => o.clone(),
        Value::Null => Object::new(),
        _ => return Err(Error::validation("tokenOptions must be an object")),
    };
    token_options.insert(
        "scheme".into(),
        Value::from(requirement.scheme.scheme.as_str()),
    );
    token_options.insert(
        "network".into(),
        Value::from(requirement.scheme.network.as_str()),
    );
    if token_options.get("tokenVersion").and_then(Value::as_u64) == Some(3) {
        let url = requirement
            .resource_url
            .clone()
            .unwrap_or_else(|| req.url.clone());
        // contains_key + insert, not entry(): the Entry API is one more copy of map code in the .wasm.
        if !token_options.contains_key("resource") {
            let resource = ObjectBuilder::new().put("url", url).build();
            token_options.insert("resource".into(), resource);
        }
        let verb = if req.method == "HEAD" {
            "GET"
        } else {
            req.method.as_str()
        };
        if !token_options.contains_key("httpVerb") {
            token_options.insert("httpVerb".into(), Value::from(verb));
        }
    }
    let automatic = !token_options.contains_key("delegationConfig");
    for attempt in 0..2 {
        if automatic {
            let id = delegation_for(p, opts, requirement, attempt > 0).await?;
            token_options.insert(
                "delegationConfig".into(),
                ObjectBuilder::new().put("delegationId", id).build(),
            );
        }
        let minted = p
            .get_x402_access_token(
                &requirement.plan_id,
                requirement.agent_id.as_deref(),
                &Value::Object(token_options.clone()),
            )
            .send()
            .await;
        match minted {
            Ok(v) => {
                let token = v.get("accessToken").and_then(Value::as_str);
                // It goes in a header (and must never be echoed whole in an error).
                return match token {
                    Some(t) if !t.is_empty() && t.bytes().all(|b| (0x21..=0x7e).contains(&b)) => {
                        Ok(t.to_owned())
                    }
                    Some(t) => Err(Error::InvalidResponse {
                        status: 200,
                        message: format!(
                            "The mint answer's accessToken ({}) is not a header value: it has characters outside visible ASCII",
                            crate::protocol::redact::redact(t)
                        ),
                    }),
                    None => Err(Error::InvalidResponse {
                        status: 200,
                        message: "The mint answer has no accessToken".into(),
                    }),
                };
            }
            // A delegation we picked expired: replace it once. One whose budget is
            // spent is not replaced: its budget is what the caller agreed to spend.
            Err(Error::Backend(b)) if automatic && attempt == 0 && b.code == "BCK.X402.0013" => {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::validation("could not find a usable delegation"))
}

/// A delegation for the requirement's provider (and the caller's card, when it
/// names one): remembered, else the account's active one (with budget left if
/// there are several), else a new one with the small default budget. `replace`
/// (the last one expired) skips the remembered and listed ones.
async fn delegation_for<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    requirement: &Requirement,
    replace: bool,
) -> Result<String> {
    let provider = if requirement.scheme.scheme == SCHEME_CARD_DELEGATION {
        requirement.scheme.network.clone()
    } else {
        "erc4337".to_owned()
    };
    let state = p.client_state();
    // Remembered per provider and the card the caller asked for (none: the default card).
    let chosen = (provider.clone(), opts.payment_method_id.clone());
    if replace {
        state.forget_delegation(&chosen);
    } else if let Some(id) = state.delegation(&chosen) {
        return Ok(id);
    }
    let card = if provider == "erc4337" {
        None
    } else {
        Some(card_for(p, opts, &provider).await?)
    };
    let reusable = if replace {
        None
    } else {
        reusable_delegation(p, &provider, card.as_deref()).await?
    };
    let id = match reusable {
        Some(id) => id,
        None => {
            let payload = ObjectBuilder::new()
                .put("provider", provider.as_str())
                .put_opt("providerPaymentMethodId", card)
                .put(
                    "spendingLimitCents",
                    opts.spending_limit_cents
                        .unwrap_or(DEFAULT_SPENDING_LIMIT_CENTS),
                )
                .put(
                    "durationSecs",
                    opts.delegation_duration_secs
                        .unwrap_or(DEFAULT_DELEGATION_SECS),
                )
                .build();
            let created = p.create_delegation(&payload).send().await?;
            created
                .get("delegationId")
                .and_then(json::id_value)
                .ok_or_else(|| Error::InvalidResponse {
                    status: 200,
                    message: "The backend's answer has no delegationId".into(),
                })?
        }
    };
    state.keep_delegation(chosen, id.clone());
    Ok(id)
}

async fn reusable_delegation<T: Transport>(
    p: &Payments<T>,
    provider: &str,
    card: Option<&str>,
) -> Result<Option<String>> {
    let list = p.list_delegations(&Value::Null).send().await?;
    let active: Vec<&Value> = json::items(list.get("delegations"))
        .iter()
        .filter(|d| {
            let text = |k: &str| d.get(k).and_then(Value::as_str);
            text("provider") == Some(provider)
                && text("status").is_none_or(|s| s.eq_ignore_ascii_case("active"))
                && card.is_none_or(|c| text("providerPaymentMethodId") == Some(c))
        })
        .collect();
    let has_budget = |d: &&Value| match d.get("remainingBudgetCents") {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => !n.is_negative() && !n.is_zero(),
        Some(Value::String(b)) => {
            !b.starts_with('-') && b.bytes().any(|c| (b'1'..=b'9').contains(&c))
        }
        Some(_) => false,
    };
    // An active delegation with its budget spent is still the one to use: a new
    // one would be a new budget nobody agreed to.
    let found = active
        .iter()
        .find(|d| has_budget(d))
        .or_else(|| active.first());
    Ok(found
        .and_then(|d| d.get("delegationId"))
        .and_then(json::id_value))
}

async fn card_for<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    provider: &str,
) -> Result<String> {
    if let Some(id) = &opts.payment_method_id {
        return Ok(id.clone());
    }
    let methods = p.list_payment_methods(&Value::Null).send().await?;
    let card = json::items(Some(&methods)).iter().find(|m| {
        let text = |k: &str| m.get(k).and_then(Value::as_str);
        text("type") != Some("crypto_wallet") && text("provider").is_none_or(|pr| pr == provider)
    });
    card.and_then(|c| c.get("id")).and_then(json::id_value).ok_or_else(|| Error::validation("No enrolled card to pay this fiat plan with: add a payment method first (see listPaymentMethods)"))
}

/// How `queryAgent` reads the agent's answer: its JSON on success; a 402 is a
/// `payment_required` error that says to order the plan; another failure is
/// `http_<status>` with the agent's message.
pub fn conclude_query(status: u16, body: &str, payment_required: Option<Object>) -> Result<Value> {
    let parsed: Option<Value> = parse(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            // An agent's `{message}` or `{error}`, or a JSON-RPC error's message (MCP).
            let m = v.get("message").or_else(|| v.get("error"));
            m.and_then(Value::as_str)
                .or_else(|| m.and_then(|e| e.get("message")).and_then(Value::as_str))
        })
        .map(str::to_owned);
    match status {
        200..=299 => Ok(parsed.unwrap_or_else(|| Value::from(body))),
        402 => Err(payment_required_error(message.as_deref(), payment_required)),
        _ => Err(Error::Http {
            status,
            message: format!(
                "The agent answered HTTP {status}{}",
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        }),
    }
}

/// The `payment_required` error of an agent that still asks for payment, with its reason.
pub(crate) fn payment_required_error(
    reason: Option<&str>,
    payment_required: Option<Object>,
) -> Error {
    Error::PaymentRequired {
        message: format!(
            "The agent asked for payment ({}): the plan needs credits.",
            reason.unwrap_or("no reason given")
        ),
        payment_required: payment_required.map(Value::Object),
    }
}

/// MCP: a JSON-RPC `tools/call` carrying the (decoded) token in
/// `params._meta["x402/payment"]`, next to the 2026-07-28 envelope when `modern`.
pub fn mcp_tool_call(
    id: &Value,
    name: &str,
    arguments: &Value,
    token: Option<&str>,
    modern: bool,
) -> Result<Value> {
    let mut params = ObjectBuilder::new().put("name", name).put(
        "arguments",
        if arguments.is_null() {
            Value::Object(Object::new())
        } else {
            arguments.clone()
        },
    );
    let mut meta = if modern {
        mcp::envelope()
    } else {
        Object::new()
    };
    if let Some(token) = token {
        let decoded = decode_access_token(token)
            .ok_or_else(|| Error::validation("the access token is not decodable"))?;
        meta.insert("x402/payment".into(), Value::Object(decoded));
    }
    if !meta.is_empty() {
        params = params.put("_meta", Value::Object(meta));
    }
    Ok(ObjectBuilder::new()
        .put("jsonrpc", "2.0")
        .put("id", id.clone())
        .put("method", "tools/call")
        .put("params", params.build())
        .build())
}

/// An MCP tool's answer: its result, with the receipt and the
/// PaymentRequired it carries (when it is a payment-required error).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolAnswer {
    /// The JSON-RPC result.
    pub result: Value,
    /// `_meta["x402/payment-response"]`.
    pub payment_response: Option<Object>,
    /// The `structuredContent` of an `isError` result that is a PaymentRequired.
    pub payment_required: Option<Object>,
}

/// MCP: reads a JSON-RPC answer (JSON, or the response event of a
/// `text/event-stream` body: [`mcp::response`]).
pub fn mcp_read_result(body: &str) -> Result<ToolAnswer> {
    let message = mcp::response(body).ok_or_else(|| Error::InvalidResponse {
        status: 200,
        message: "The MCP server's answer is not JSON-RPC".into(),
    })?;
    if let Some(error) = message.get("error") {
        let code = error.get("code").map(json::to_text).unwrap_or_default();
        let msg = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("JSON-RPC error");
        return Err(Error::InvalidResponse {
            status: 200,
            message: format!("The MCP server answered a JSON-RPC error {code}: {msg}"),
        });
    }
    let result = message
        .get("result")
        .cloned()
        .ok_or_else(|| Error::InvalidResponse {
            status: 200,
            message: "The MCP answer has no result".into(),
        })?;
    let payment_response = json::at(&result, &["_meta", "x402/payment-response"])
        .and_then(Value::as_object)
        .cloned();
    let payment_required = (result.get("isError").and_then(Value::as_bool) == Some(true))
        .then(|| {
            result
                .get("structuredContent")
                .filter(|s| s.get("x402Version").is_some() && s.get("accepts").is_some())
                .and_then(Value::as_object)
                .cloned()
        })
        .flatten();
    Ok(ToolAnswer {
        result,
        payment_response,
        payment_required,
    })
}

#[cfg(feature = "a2a-client")]
pub mod a2a;
mod paying;
#[cfg(feature = "a2a-client")]
pub use paying::a2a_card;
#[cfg(all(feature = "mpp", feature = "subscriber"))]
pub use paying::mpp;
pub use paying::{pay, Call, Courier, Hop, Reply};

#[cfg(test)]
mod tests;
