//! The paying client's decisions: what to send next when calling a paid
//! agent. JavaScript sends each attempt and reports its outcome to
//! [`next_step`], which answers "send (with this token)" or "stop".
//!
//! Rules (x402-http.md, "The client"):
//! - on a 402, decode `payment-required`, pick the first entry whose plan the
//!   caller allows, get a token (cached per plan+agent+scheme+network; v3
//!   tokens are never reused) and send again with `payment-signature`;
//! - a cached token answered with 402 is dropped and one fresh mint is tried;
//!   a fresh token answered with 402 ends it (no loops);
//! - a request that already carried a token is never retried;
//! - a token is only sent over `https:`, or `http:` to loopback;
//! - a URL that asked for payment before gets the cached token up front.
//!
//! Delegations: without `tokenOptions.delegationConfig`, a delegation is
//! reused (or created) for the scheme's provider; the card of a fiat plan is
//! the account's first enrolled card.

use crate::error::{Error, Result};
use crate::payments::Payments;
use crate::protocol::json::{self, parse, Object, ObjectBuilder, Value};
use crate::protocol::url::may_carry_secrets;
use crate::protocol::{
    decode_access_token, decode_payment_header, ResolvedScheme, Uint256, SCHEME_CARD_DELEGATION,
    SCHEME_ERC4337,
};
use crate::transport::Transport;
use std::cell::RefCell;

/// What a client remembers between calls (per `Payments` instance).
#[derive(Debug, Default)]
pub struct ClientState {
    /// v2 tokens by plan+agent+scheme+network.
    tokens: RefCell<Vec<(String, String)>>,
    /// Which requirement a `METHOD url` asked for last time.
    routes: RefCell<Vec<(String, Requirement)>>,
    /// Delegations this client uses, by provider.
    delegations: RefCell<Vec<(String, String)>>,
}

/// What an agent asked to be paid with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The plan.
    pub plan_id: String,
    /// The agent (from the entry's `extra.agentId`, or the caller's option).
    pub agent_id: Option<String>,
    /// Scheme and network.
    pub scheme: ResolvedScheme,
    /// `resource.url` of the PaymentRequired (v3 tokens bind it).
    pub resource_url: Option<String>,
}

impl Requirement {
    fn cache_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.plan_id,
            self.agent_id.as_deref().unwrap_or(""),
            self.scheme.scheme,
            self.scheme.network
        )
    }
}

/// Options of `fetchWithPayment` / `queryAgent` (JS names).
#[derive(Debug, Clone, Default)]
pub struct PayOptions {
    /// `planIds`: plans the caller is willing to pay with (default: any).
    pub plan_ids: Vec<String>,
    /// `agentId`: the agent to mint for.
    pub agent_id: Option<String>,
    /// `tokenOptions`: passed to the mint (`delegationConfig`, `tokenVersion`, ...).
    pub token_options: Value,
    /// `maxCredits`: refuse entries that state a higher price.
    pub max_credits: Option<Uint256>,
    /// `paymentType` (`crypto`/`fiat`): the scheme, when paying before any 402.
    pub payment_type: Option<String>,
    /// Pay on the first attempt (needs exactly one plan): `queryAgent`.
    pub eager: bool,
    /// `spendingLimitCents` and `delegationDurationSecs` for delegations created on the fly.
    pub spending_limit_cents: Option<u64>,
    /// See `spending_limit_cents`.
    pub delegation_duration_secs: Option<u64>,
    /// `paymentMethodId`: the card to delegate (default: the first enrolled card).
    pub payment_method_id: Option<String>,
}

impl PayOptions {
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
            agent_id: json::opt_id(o, "agentId", WHAT)?,
            token_options: o.get("tokenOptions").cloned().unwrap_or(Value::Null),
            max_credits: json::opt_uint(o, "maxCredits", WHAT)?,
            payment_type,
            eager: json::opt_bool(o, "eager", WHAT)?.unwrap_or(false),
            spending_limit_cents: json::opt_count(o, "spendingLimitCents", WHAT)?,
            delegation_duration_secs: json::opt_count(o, "delegationDurationSecs", WHAT)?,
            payment_method_id: json::opt_str(o, "paymentMethodId", WHAT)?.map(str::to_owned),
        })
    }
}

/// The request being sent, as JS describes it.
#[derive(Debug, Clone)]
struct Outgoing {
    url: String,
    method: String,
    /// The caller put a token on it themselves.
    has_token: bool,
}

impl Outgoing {
    fn from_json(v: &Value) -> Result<Self> {
        let o = json::object(v, "request")?;
        Ok(Outgoing {
            url: json::opt_str(o, "url", "request")?
                .ok_or_else(|| Error::validation("request.url is required"))?
                .to_owned(),
            method: json::opt_str(o, "method", "request")?
                .unwrap_or("GET")
                .to_ascii_uppercase(),
            has_token: json::opt_bool(o, "hasToken", "request")?.unwrap_or(false),
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
enum Source {
    Cache,
    Fresh,
}

fn send(token: Option<(String, Source)>) -> Value {
    match token {
        None => ObjectBuilder::new().put("action", "send").build(),
        Some((t, s)) => ObjectBuilder::new()
            .put("action", "send")
            .put("token", t)
            .put("source", if s == Source::Cache { "cache" } else { "fresh" })
            .build(),
    }
}

fn stop() -> Value {
    ObjectBuilder::new().put("action", "stop").build()
}

/// Decides the next attempt. `request`: `{url, method, hasToken}`; `last`:
/// `null` before the first attempt, else `{status, paymentRequired (header or
/// null), source ("cache" | "fresh" | null)}`. Answers `{action: "send",
/// token?, source?}` or `{action: "stop"}`.
pub async fn next_step<T: Transport>(
    p: &Payments<T>,
    request: &Value,
    options: &Value,
    last: &Value,
) -> Result<Value> {
    let req = Outgoing::from_json(request)?;
    let opts = PayOptions::from_json(options)?;
    let state = p.client_state();
    let Some(last) = json::opt_object(Some(last), "last attempt")? else {
        if req.has_token {
            return Ok(send(None));
        }
        let known = state
            .routes
            .borrow()
            .iter()
            .find(|(k, _)| *k == req.route_key())
            .map(|(_, r)| r.clone());
        let eager = match known {
            Some(r) if allowed(&opts, &r.plan_id) => Some(r),
            _ if opts.eager => Some(eager_requirement(p, &opts, &req).await?),
            _ => None,
        };
        return Ok(match eager {
            Some(r) => send(Some(token_for(p, &opts, &req, &r, false).await?)),
            None => send(None),
        });
    };
    if last.get("status").and_then(Value::as_u64) != Some(402) || req.has_token {
        return Ok(stop());
    }
    let source = match json::opt_str(last, "source", "last attempt")? {
        Some("cache") => Some(Source::Cache),
        Some("fresh") => Some(Source::Fresh),
        _ => None,
    };
    if source == Some(Source::Fresh) {
        return Ok(stop());
    }
    let Some(header) = json::opt_str(last, "paymentRequired", "last attempt")? else {
        return Ok(stop());
    };
    let Ok(payment_required) = decode_payment_header(header) else {
        return Ok(stop());
    };
    let Some(requirement) = choose(&payment_required, &opts)? else {
        return Ok(stop());
    };
    state.remember_route(req.route_key(), requirement.clone());
    let from_cache = source == Some(Source::Cache);
    if from_cache {
        state.forget_token(&requirement.cache_key());
    }
    Ok(send(Some(
        token_for(p, &opts, &req, &requirement, from_cache).await?,
    )))
}

fn allowed(opts: &PayOptions, plan_id: &str) -> bool {
    opts.plan_ids.is_empty() || opts.plan_ids.iter().any(|p| p == plan_id)
}

/// The first `accepts` entry the caller can pay: a Nevermined scheme, an
/// allowed plan, the caller's agent (when both name one), within `maxCredits`.
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
    for entry in entries {
        let text = |k: &str| entry.get(k).and_then(Value::as_str);
        let (Some(scheme), Some(network), Some(plan_id)) = (
            text("scheme"),
            text("network"),
            entry.get("planId").and_then(json::id_value),
        ) else {
            continue;
        };
        if (scheme != SCHEME_ERC4337 && scheme != SCHEME_CARD_DELEGATION)
            || !allowed(opts, &plan_id)
        {
            continue;
        }
        let entry_agent = json::at(entry, &["extra", "agentId"]).and_then(json::id_value);
        if let (Some(mine), Some(theirs)) = (&opts.agent_id, &entry_agent) {
            if mine != theirs {
                continue;
            }
        }
        if let (Some(cap), Some(price)) = (
            &opts.max_credits,
            entry.get("amount").and_then(|a| Uint256::from_json(a).ok()),
        ) {
            if &price > cap {
                return Err(Error::PaymentRequired {
                    message: format!(
                        "The agent asks {price} credits per request, more than maxCredits ({cap})"
                    ),
                    payment_required: Some(Value::Object(payment_required.clone())),
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
    Ok(None)
}

/// Paying before any 402 (`queryAgent`): one plan, its scheme from
/// `paymentType` or the plan itself.
async fn eager_requirement<T: Transport>(
    p: &Payments<T>,
    opts: &PayOptions,
    req: &Outgoing,
) -> Result<Requirement> {
    let [plan_id] = opts.plan_ids.as_slice() else {
        return Err(Error::validation(
            "paying up front needs exactly one planId",
        ));
    };
    let scheme = match opts.payment_type.as_deref() {
        Some("fiat") => {
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
    let key = requirement.cache_key();
    if !fresh && !v3 {
        if let Some(token) = p
            .client_state()
            .tokens
            .borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| t.clone())
        {
            return Ok((token, Source::Cache));
        }
    }
    let token = mint(p, opts, req, requirement).await?;
    if !v3 {
        let state = p.client_state();
        let mut tokens = state.tokens.borrow_mut();
        tokens.retain(|(k, _)| *k != key);
        tokens.push((key, token.clone()));
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
            .await;
        match minted {
            Ok(v) => {
                return v
                    .get("accessToken")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| Error::InvalidResponse {
                        status: 200,
                        message: "The mint answer has no accessToken".into(),
                    })
            }
            // A delegation we picked ran out or expired: replace it once.
            Err(Error::Backend(b))
                if automatic
                    && attempt == 0
                    && (b.code == "BCK.X402.0013" || b.code == "BCK.X402.0023") =>
            {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::validation("could not find a usable delegation"))
}

/// A delegation for the requirement's provider: remembered, else an active one
/// with budget left, else a new one. `replace` forgets the remembered one.
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
    if replace {
        state
            .delegations
            .borrow_mut()
            .retain(|(prov, _)| *prov != provider);
    } else if let Some(id) = state
        .delegations
        .borrow()
        .iter()
        .find(|(prov, _)| *prov == provider)
        .map(|(_, id)| id.clone())
    {
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
                    opts.spending_limit_cents.unwrap_or(1000),
                )
                .put(
                    "durationSecs",
                    opts.delegation_duration_secs.unwrap_or(3600),
                )
                .build();
            let created = p.create_delegation(&payload).await?;
            created
                .get("delegationId")
                .and_then(json::id_value)
                .ok_or_else(|| Error::InvalidResponse {
                    status: 200,
                    message: "The backend's answer has no delegationId".into(),
                })?
        }
    };
    state.delegations.borrow_mut().push((provider, id.clone()));
    Ok(id)
}

async fn reusable_delegation<T: Transport>(
    p: &Payments<T>,
    provider: &str,
    card: Option<&str>,
) -> Result<Option<String>> {
    let list = p.list_delegations(&Value::Null).await?;
    let found = json::items(list.get("delegations")).iter().find(|d| {
        let text = |k: &str| d.get(k).and_then(Value::as_str);
        text("provider") == Some(provider)
            && text("status").is_none_or(|s| s.eq_ignore_ascii_case("active"))
            && d.get("remainingBudgetCents")
                .and_then(Value::as_number)
                .is_none_or(|b| !b.is_negative() && !b.is_zero())
            && card.is_none_or(|c| text("providerPaymentMethodId") == Some(c))
    });
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
    let methods = p.list_payment_methods(&Value::Null).await?;
    let card = json::items(Some(&methods)).iter().find(|m| {
        let text = |k: &str| m.get(k).and_then(Value::as_str);
        text("type") != Some("crypto_wallet") && text("provider").is_none_or(|pr| pr == provider)
    });
    card.and_then(|c| c.get("id")).and_then(json::id_value).ok_or_else(|| Error::validation("No enrolled card to pay this fiat plan with: add a payment method first (see listPaymentMethods)"))
}

impl ClientState {
    fn remember_route(&self, key: String, requirement: Requirement) {
        let mut routes = self.routes.borrow_mut();
        routes.retain(|(k, _)| *k != key);
        routes.push((key, requirement));
    }

    fn forget_token(&self, key: &str) {
        self.tokens.borrow_mut().retain(|(k, _)| k != key);
    }
}

/// How `queryAgent` reads the agent's answer: its JSON on success; a 402 is a
/// `payment_required` error that says to order the plan; another failure is
/// `http_<status>` with the agent's message.
pub fn conclude_query(status: u16, body: &str, payment_required: Option<&str>) -> Result<Value> {
    let parsed: Option<Value> = parse(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message").or_else(|| v.get("error")))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match status {
        200..=299 => Ok(parsed.unwrap_or_else(|| Value::from(body))),
        402 => Err(Error::PaymentRequired {
            message: format!(
                "The agent asked for payment ({}): the plan needs credits.",
                message.as_deref().unwrap_or("no reason given")
            ),
            payment_required: payment_required
                .and_then(|h| decode_payment_header(h).ok())
                .map(Value::Object),
        }),
        _ => Err(Error::Http {
            status,
            message: format!(
                "The agent answered HTTP {status}{}",
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        }),
    }
}

/// MCP: a JSON-RPC `tools/call` carrying the (decoded) token in
/// `params._meta["x402/payment"]`.
pub fn mcp_tool_call(
    id: &Value,
    name: &str,
    arguments: &Value,
    token: Option<&str>,
) -> Result<Value> {
    let mut params = ObjectBuilder::new().put("name", name).put(
        "arguments",
        if arguments.is_null() {
            Value::Object(Object::new())
        } else {
            arguments.clone()
        },
    );
    if let Some(token) = token {
        let decoded = decode_access_token(token)
            .ok_or_else(|| Error::validation("the access token is not decodable"))?;
        params = params.put(
            "_meta",
            ObjectBuilder::new()
                .put("x402/payment", Value::Object(decoded))
                .build(),
        );
    }
    Ok(ObjectBuilder::new()
        .put("jsonrpc", "2.0")
        .put("id", id.clone())
        .put("method", "tools/call")
        .put("params", params.build())
        .build())
}

/// MCP: reads a JSON-RPC answer (JSON, or the first `data:` event of a
/// `text/event-stream` body) into `{result, paymentResponse?, paymentRequired?}`.
pub fn mcp_read_result(body: &str) -> Result<Value> {
    let text = if body.trim_start().starts_with('{') {
        body.to_owned()
    } else {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .find(|d| d.starts_with('{'))
            .unwrap_or("")
            .to_owned()
    };
    let message: Value = parse(&text).map_err(|_| Error::InvalidResponse {
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
    let receipt = json::at(&result, &["_meta", "x402/payment-response"]).cloned();
    let required = (result.get("isError").and_then(Value::as_bool) == Some(true))
        .then(|| {
            result
                .get("structuredContent")
                .filter(|s| s.get("x402Version").is_some() && s.get("accepts").is_some())
                .cloned()
        })
        .flatten();
    Ok(ObjectBuilder::new()
        .put("result", result)
        .put_opt("paymentResponse", receipt)
        .put_opt("paymentRequired", required)
        .build())
}

#[cfg(test)]
mod tests;
