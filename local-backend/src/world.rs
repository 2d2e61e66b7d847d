//! The demo world seeded into a new database: a builder and a subscriber
//! account, a free credits plan (10 credits, 1 per request), a fiat plan
//! ($1.00 for 10 credits), a pay-as-you-go plan (0.01 USDC a request, no
//! credits: each settle charges the payer's erc4337 delegation) and an agent
//! that accepts the three, whose endpoint is
//! the Cloudflare Worker example's `POST <agent-url>/tasks`, and an MCP agent
//! (the MCP Worker example, `examples/mcp-worker`, at `POST <mcp-url>/mcp`)
//! that takes the free plan, and an organization whose Admin is the builder
//! (the plans and agents are published into it). It is stored in the database, so a restart shows
//! the same world (and the same keys).

use crate::backend::{Backend, Caller};
use crate::error::{ApiResult, INTERNAL};
use crate::store::{meta_get, meta_set};
use nvm_x402::api::plans::{
    fiat_price_config, fixed_credits_config, free_price_config, non_expirable_duration_config,
    payg_price_config, AccessLimit,
};
use nvm_x402::protocol::Uint256;
use nvm_x402_types::agents::{AgentApiAttributes, AgentMetadata};
use nvm_x402_types::plans::{PlanMetadata, RegisterPlanRequest};
use serde_json::{json, Map, Value};

/// The agent base URL seeded by default (the Cloudflare Worker example under `wrangler dev`).
pub const DEFAULT_AGENT_URL: &str = "http://127.0.0.1:8787";
/// The MCP server base URL seeded by default (`examples/mcp-worker` under `wrangler dev`).
pub const DEFAULT_MCP_URL: &str = "http://127.0.0.1:8788";
/// The A2A server base URL seeded by default (`examples/a2a-worker` under `wrangler dev`).
pub const DEFAULT_A2A_URL: &str = "http://127.0.0.1:8789";
/// The seeded MCP server's name (the host of its logical URLs, `mcp://nvm-demo/tools/...`).
pub const DEMO_MCP_SERVER: &str = "nvm-demo";
/// The seeded organization's name (the builder is its Admin).
pub const DEMO_ORGANIZATION: &str = "Demo organization";
/// Credits each demo plan grants per order.
const DEMO_CREDITS: u64 = 10;
/// The fiat demo plan's price: $1.00.
const DEMO_FIAT_PRICE: u64 = 1_000_000;
/// The pay-as-you-go demo plan's price: 0.01 USDC (6 decimals) a request.
const DEMO_PAYG_PRICE: u64 = 10_000;
/// The pay-as-you-go demo plan's token: USDC on Base Sepolia (one whose
/// decimals the paying client knows, so `maxPriceCents` can cap it).
const DEMO_PAYG_TOKEN: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> ApiResult<T> {
    serde_json::from_value(v).map_err(|e| INTERNAL.with(format!("demo plan config: {e}")))
}

/// A demo plan of 10 credits, 1 per request, at `price`.
fn plan_registration(
    name: &str,
    description: &str,
    price: nvm_x402::protocol::json::Value,
) -> ApiResult<RegisterPlanRequest> {
    let credits = fixed_credits_config(Uint256::from(DEMO_CREDITS), Uint256::from(1));
    registration(name, description, price, credits)
}

fn registration(
    name: &str,
    description: &str,
    price: nvm_x402::protocol::json::Value,
    credits: nvm_x402::protocol::json::Value,
) -> ApiResult<RegisterPlanRequest> {
    Ok(RegisterPlanRequest {
        metadata_attributes: PlanMetadata {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            ..Default::default()
        },
        price_config: typed(price.into())?,
        credits_config: typed(credits.into())?,
        nonce: Uint256::from(0),
        is_trial_plan: false,
        access_limit: AccessLimit::Credits,
        currency: None,
    })
}

impl Backend {
    /// Seeds the demo world unless the database already has one; returns it.
    pub fn seed_demo_world(
        &self,
        agent_url: &str,
        mcp_url: &str,
        a2a_url: &str,
    ) -> ApiResult<Value> {
        if let Some(stored) = meta_get(&self.store.lock(), "demo_world")? {
            let mut world: Value = serde_json::from_str(&stored)
                .map_err(|e| INTERNAL.with(format!("stored demo world is unreadable: {e}")))?;
            // A database seeded before organizations existed gets the demo one now.
            if world.get("organization").is_none() {
                let builder = world["accounts"]["builder"]["name"]
                    .as_str()
                    .unwrap_or("builder")
                    .to_owned();
                world["organization"] = self.seed_organization(&builder)?;
                meta_set(&self.store.lock(), "demo_world", &world.to_string())?;
            }
            // A database seeded before the pay-as-you-go plan existed gets it now (on the demo agent).
            if world["plans"].get("payg").is_none() {
                let builder = self.demo_builder(&world)?;
                let agent = world["agent"]["agentId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let payg = self.seed_payg_plan(&builder)?;
                let id = payg["planId"].as_str().unwrap_or_default().to_owned();
                self.plan_on_agent(&builder, &agent, &id, true)?;
                world["plans"]["payg"] = payg;
                if let Some(ids) = world["agent"]["planIds"].as_array_mut() {
                    ids.push(json!(id));
                }
                meta_set(&self.store.lock(), "demo_world", &world.to_string())?;
            }
            // A database seeded before the MCP or A2A agent existed gets it now.
            if world.get("mcpAgent").is_none() || world.get("a2aAgent").is_none() {
                let builder = self.demo_builder(&world)?;
                let free = world["plans"]["free"]["planId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if world.get("mcpAgent").is_none() {
                    world["mcpAgent"] = self.seed_mcp_agent(&builder, &free, mcp_url)?;
                }
                if world.get("a2aAgent").is_none() {
                    world["a2aAgent"] = self.seed_a2a_agent(&builder, &free, a2a_url)?;
                }
                meta_set(&self.store.lock(), "demo_world", &world.to_string())?;
            }
            return Ok(world);
        }
        let builder = self.create_account("builder")?;
        let subscriber = self.create_account("subscriber")?;
        // First, so the demo plans and agents are published into it (the builder's organization).
        let organization = self.seed_organization(&builder.account.name)?;
        let as_builder = Caller {
            account: builder.account.clone(),
            key_id: String::new(),
            org_header: None,
        };
        let free = self.register_plan(
            &as_builder,
            plan_registration(
                "Free demo plan",
                "10 free credits, 1 per request",
                free_price_config(),
            )?,
        )?;
        let fiat_price = fiat_price_config(
            Uint256::from(DEMO_FIAT_PRICE),
            &builder.account.address,
            None,
        )
        .map_err(|e| INTERNAL.with(e.to_string()))?;
        let fiat = self.register_plan(
            &as_builder,
            plan_registration(
                "Fiat demo plan",
                "10 credits for $1.00, 1 per request",
                fiat_price,
            )?,
        )?;
        let payg = self.seed_payg_plan(&as_builder)?;
        let (free_id, fiat_id, payg_id) = (
            free["planId"].as_str().unwrap_or_default().to_owned(),
            fiat["planId"].as_str().unwrap_or_default().to_owned(),
            payg["planId"].as_str().unwrap_or_default().to_owned(),
        );
        let url = format!("{}/tasks", agent_url.trim_end_matches('/'));
        let mut endpoint = Map::new();
        endpoint.insert("POST".into(), json!(url));
        let agent_id = self.seed_agent(
            &as_builder,
            "Demo agent",
            "The Cloudflare Worker example (examples/cloudflare-worker)",
            std::slice::from_ref(&endpoint),
            &[&free_id, &fiat_id, &payg_id],
        )?;
        let mcp_agent = self.seed_mcp_agent(&as_builder, &free_id, mcp_url)?;
        let a2a_agent = self.seed_a2a_agent(&as_builder, &free_id, a2a_url)?;
        let mut accounts = Map::new();
        for issued in [&builder, &subscriber] {
            let mut entry = issued.to_json();
            entry.as_object_mut().map(|m| m.remove("created"));
            entry["cardPaymentMethodId"] = json!(self.first_card(&issued.account.address)?);
            accounts.insert(issued.account.name.clone(), entry);
        }
        let world = json!({
            "accounts": accounts,
            "plans": {
                "free": {"planId": free_id, "name": "Free demo plan", "price": "0", "credits": DEMO_CREDITS.to_string(), "creditsPerRequest": "1", "scheme": "nvm:erc4337"},
                "fiat": {"planId": fiat_id, "name": "Fiat demo plan", "price": DEMO_FIAT_PRICE.to_string(), "currency": "usd", "credits": DEMO_CREDITS.to_string(), "creditsPerRequest": "1", "scheme": "nvm:card-delegation"},
                "payg": payg,
            },
            "agent": {"agentId": agent_id, "name": "Demo agent", "method": "POST", "url": url, "endpoints": [endpoint], "planIds": [free_id, fiat_id, payg_id]},
            "mcpAgent": mcp_agent,
            "a2aAgent": a2a_agent,
            "organization": organization,
        });
        meta_set(&self.store.lock(), "demo_world", &world.to_string())?;
        Ok(world)
    }

    /// The pay-as-you-go demo plan (under the deployment's
    /// `PayAsYouGoTemplate`, priced as `getPayAsYouGoPriceConfig` prices it);
    /// returns its world entry.
    fn seed_payg_plan(&self, builder: &Caller) -> ApiResult<Value> {
        let template = crate::deployment::address("PayAsYouGoTemplate");
        let price = payg_price_config(
            Uint256::from(DEMO_PAYG_PRICE),
            &builder.account.address,
            Some(DEMO_PAYG_TOKEN),
            Some(&template),
        )
        .map_err(|e| INTERNAL.with(e.to_string()))?;
        let name = "Pay-as-you-go demo plan";
        let plan = self.register_plan(
            builder,
            registration(
                name,
                "0.01 USDC a request, no credits",
                price,
                non_expirable_duration_config(),
            )?,
        )?;
        Ok(
            json!({"planId": plan["planId"], "name": name, "price": DEMO_PAYG_PRICE.to_string(), "tokenAddress": DEMO_PAYG_TOKEN, "billing": "pay-as-you-go", "credits": "0", "scheme": "nvm:erc4337"}),
        )
    }

    /// The stored world's builder, as a caller.
    fn demo_builder(&self, world: &Value) -> ApiResult<Caller> {
        let address = world["accounts"]["builder"]["address"]
            .as_str()
            .unwrap_or_default();
        Ok(Caller {
            account: self
                .account(address)?
                .ok_or_else(|| INTERNAL.with("the demo world's builder account is missing"))?,
            key_id: String::new(),
            org_header: None,
        })
    }

    /// The demo organization, whose Admin is the builder: `{orgId, orgName}`.
    fn seed_organization(&self, builder: &str) -> ApiResult<Value> {
        let org = self.create_organization(DEMO_ORGANIZATION, builder)?;
        Ok(json!({"orgId": org["orgId"], "orgName": DEMO_ORGANIZATION}))
    }

    /// The demo MCP agent: endpoint `POST <mcp_url>/mcp` (the HTTP URL its
    /// paywall falls back to), the free plan. Returns its world entry.
    fn seed_mcp_agent(&self, builder: &Caller, free_id: &str, mcp_url: &str) -> ApiResult<Value> {
        let url = format!("{}/mcp", mcp_url.trim_end_matches('/'));
        // The paid tool by its logical URL (what the paywall verifies first), and the HTTP endpoint (its fallback).
        let endpoints: Vec<Map<String, Value>> =
            [format!("mcp://{DEMO_MCP_SERVER}/tools/echo"), url.clone()]
                .into_iter()
                .map(|u| Map::from_iter([("POST".to_owned(), json!(u))]))
                .collect();
        let agent_id = self.seed_agent(
            builder,
            "Demo MCP agent",
            "The MCP Worker example (examples/mcp-worker): a paid echo tool, a free ping",
            &endpoints,
            &[free_id],
        )?;
        Ok(
            json!({"agentId": agent_id, "name": "Demo MCP agent", "serverName": DEMO_MCP_SERVER, "url": url, "endpoints": endpoints, "planIds": [free_id]}),
        )
    }

    /// The demo A2A agent: endpoint `POST <a2a_url>/a2a` (the A2A Worker
    /// example's JSON-RPC URL, what its paywall verifies), the free plan.
    fn seed_a2a_agent(&self, builder: &Caller, free_id: &str, a2a_url: &str) -> ApiResult<Value> {
        let url = format!("{}/a2a", a2a_url.trim_end_matches('/'));
        let endpoint = Map::from_iter([("POST".to_owned(), json!(url))]);
        let agent_id = self.seed_agent(
            builder,
            "Demo A2A agent",
            "The A2A Worker example (examples/a2a-worker): a paid echo skill",
            std::slice::from_ref(&endpoint),
            &[free_id],
        )?;
        Ok(
            json!({"agentId": agent_id, "name": "Demo A2A agent", "url": url, "cardUrl": format!("{}/.well-known/agent-card.json", a2a_url.trim_end_matches('/')), "endpoints": [endpoint], "planIds": [free_id]}),
        )
    }

    /// Registers one of the demo agents; answers its id.
    fn seed_agent(
        &self,
        builder: &Caller,
        name: &str,
        description: &str,
        endpoints: &[Map<String, Value>],
        plan_ids: &[&str],
    ) -> ApiResult<Value> {
        let mut plans = Vec::with_capacity(plan_ids.len());
        for id in plan_ids {
            plans.push(Uint256::parse(id).map_err(|e| INTERNAL.with(e.to_string()))?);
        }
        let agent = self.register_agent(
            builder,
            nvm_x402_types::agents::RegisterAgentRequest {
                metadata_attributes: AgentMetadata {
                    name: name.into(),
                    description: Some(description.into()),
                    ..Default::default()
                },
                agent_api_attributes: AgentApiAttributes {
                    endpoints: endpoints.iter().map(|e| e.clone().into()).collect(),
                    ..Default::default()
                },
                plans,
            },
        )?;
        Ok(agent["data"]["agentId"].clone())
    }

    /// `GET /local/v1/demo`: the seeded world plus the URL this server answers on.
    pub fn demo_world(&self, backend_url: &str) -> ApiResult<Value> {
        let stored = meta_get(&self.store.lock(), "demo_world")?
            .ok_or_else(|| INTERNAL.with("this database has no demo world"))?;
        let mut world: Value = serde_json::from_str(&stored)
            .map_err(|e| INTERNAL.with(format!("stored demo world is unreadable: {e}")))?;
        world["backendUrl"] = json!(backend_url);
        Ok(world)
    }
}

/// The seeded world for a terminal.
pub fn describe(world: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut out = String::from("Demo world (GET /local/v1/demo has it as JSON):\n");
    if let Some(accounts) = world["accounts"].as_object() {
        for (name, a) in accounts {
            out.push_str(&format!(
                "  account {name:<11} {}\n    API key: {}\n",
                s(&a["address"]),
                s(&a["apiKey"])
            ));
        }
    }
    for kind in ["free", "fiat"] {
        let p = &world["plans"][kind];
        out.push_str(&format!(
            "  {kind} plan  {}  ({}: {} credits, {} per request, price {})\n",
            s(&p["planId"]),
            s(&p["name"]),
            s(&p["credits"]),
            s(&p["creditsPerRequest"]),
            s(&p["price"])
        ));
    }
    let payg = &world["plans"]["payg"];
    out.push_str(&format!(
        "  payg plan  {}  ({}: {} USDC units a request, no credits)\n",
        s(&payg["planId"]),
        s(&payg["name"]),
        s(&payg["price"])
    ));
    let agent = &world["agent"];
    out.push_str(&format!(
        "  agent      {}  ({}: {} {})\n",
        s(&agent["agentId"]),
        s(&agent["name"]),
        s(&agent["method"]),
        s(&agent["url"])
    ));
    let a2a = &world["a2aAgent"];
    out.push_str(&format!(
        "  A2A agent  {}  ({}: POST {})\n",
        s(&a2a["agentId"]),
        s(&a2a["name"]),
        s(&a2a["url"])
    ));
    let org = &world["organization"];
    out.push_str(&format!(
        "  organization {}  ({}: the builder is its Admin)\n",
        s(&org["orgId"]),
        s(&org["orgName"])
    ));
    let mcp = &world["mcpAgent"];
    out.push_str(&format!(
        "  MCP agent  {}  ({}: POST {}, server {})\n",
        s(&mcp["agentId"]),
        s(&mcp["name"]),
        s(&mcp["url"]),
        s(&mcp["serverName"])
    ));
    out
}
