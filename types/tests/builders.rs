//! The core builds every request body with its own JSON builders (the .wasm
//! has no serde); this crate describes the same bodies as serde structs. These
//! tests hold the two together: each body the core sends reads into its
//! description and writes back byte for byte, and every top-level field it
//! sends is one the description (nvm-local's allow-list) takes.

use nvm_x402::api::agents::{self, AgentAndPlan};
use nvm_x402::api::plans::{self, AccessLimit};
use nvm_x402::api::{delegation, orders, organizations, x402, Call};
use nvm_x402::json;
use nvm_x402::protocol::json::Value;
use nvm_x402::protocol::{
    build_payment_required, build_payment_required_for_plans, BuildOptions, ClientConfig,
    PaymentsOptions, Uint256,
};
use nvm_x402::transport::HttpResponse;
use nvm_x402_types::agents::{
    AgentApiAttributes, RegisterAgentAndPlanRequest, RegisterAgentRequest, UpdateAgentRequest,
};
use nvm_x402_types::delegation::{
    CreateDelegation, DelegationsQuery, PaymentMethodsQuery, UpdatePaymentMethodDto,
};
use nvm_x402_types::orders::CreateOrderRequest;
use nvm_x402_types::organizations::{
    ActivityQuery, ConnectStripeAccountRequest, CreateUserRequest, MembersRequest,
};
use nvm_x402_types::plans::{CreditsConfig, PlansQuery, PriceConfig, RegisterPlanRequest};
use nvm_x402_types::x402::{MintRequest, SettleRequest, SettleResponse, VerifyRequest};
use nvm_x402_types::{fields, PaymentRequired};
use serde::de::DeserializeOwned;
use serde::Serialize;

const RECEIVER: &str = "0x1234567890abcdef1234567890ABCDEF12345678";

fn cfg() -> ClientConfig {
    ClientConfig::from_options(&PaymentsOptions {
        nvm_api_key: Some("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
        ..Default::default()
    })
    .unwrap()
}

fn body(call: &Call<Value>) -> String {
    call.request.body.clone().expect("the call has a body")
}

/// The body reads into `T` and `T` writes the same bytes; its top-level
/// fields are all in `T`'s field list (when `T` has one). Returns the typed value.
fn agrees<T: DeserializeOwned + Serialize>(body: &str) -> T {
    let typed: T = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{} does not read {body}: {e}", std::any::type_name::<T>()));
    assert_eq!(
        serde_json::to_string(&typed).unwrap(),
        body,
        "{}",
        std::any::type_name::<T>()
    );
    let sent: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).unwrap();
    let allowed = fields::<T>();
    // A description with a flattened field keeps unknown fields: no list to check.
    for key in sent.keys().filter(|_| !allowed.is_empty()) {
        assert!(
            allowed.contains(&key.as_str()),
            "the core sends {key}, which {} (nvm-local's allow-list) lacks: {allowed:?}",
            std::any::type_name::<T>()
        );
    }
    typed
}

#[test]
fn x402_bodies() {
    let delegation = json!({"delegationConfig": {"delegationId": "del-uuid"}});
    for agent in [Some("agent-1"), None] {
        let (call, _) = x402::mint(&cfg(), "123", agent, &delegation).unwrap();
        let typed: MintRequest = agrees(&body(&call));
        assert_eq!(typed.accepted.extra.agent_id.as_deref(), agent);
    }
    let v3 = json!({"delegationConfig": {"delegationId": "d"}, "tokenVersion": 3, "resource": {"url": "https://a.example/x"}, "httpVerb": "POST"});
    let (call, _) = x402::mint(&cfg(), "1", Some("a"), &v3).unwrap();
    let typed: MintRequest = agrees(&body(&call));
    assert_eq!(typed.token_version, Some(3));

    let pr = build_payment_required(
        "123",
        &BuildOptions {
            endpoint: Some("/x".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let verify = x402::verify(
        &cfg(),
        &json!({"paymentRequired": pr, "x402AccessToken": "tok", "maxAmount": 1}),
    )
    .unwrap();
    let typed: VerifyRequest = agrees(&body(&verify));
    assert_eq!(typed.max_amount.as_ref().map(Uint256::as_str), Some("1"));
    let settle = x402::settle(&cfg(), &json!({"paymentRequired": pr, "x402AccessToken": "t", "maxAmount": "2", "agentRequestId": "r", "batch": false, "marginPercent": 0.5})).unwrap();
    let typed: SettleRequest = agrees(&body(&settle));
    assert_eq!(typed.agent_request_id.as_deref(), Some("r"));

    // The settle answer the core hands to JS reads as the typed answer.
    let answer = (settle.parse)(HttpResponse {
        status: 200,
        body: r#"{"success":true,"transaction":"0x1","network":"n","creditsRedeemed":2,"remainingBalance":"8"}"#.into(),
    })
    .unwrap();
    let typed: SettleResponse = serde_json::from_value(answer.into()).unwrap();
    assert_eq!(typed.credits_redeemed.unwrap().as_str(), "2");
}

#[test]
fn delegation_body() {
    let call = delegation::create_delegation(&cfg(), &json!({"provider": "Stripe", "providerPaymentMethodId": "pm_1", "spendingLimitCents": "1000", "durationSecs": 3600, "maxTransactions": 5})).unwrap();
    let typed: CreateDelegation = agrees(&body(&call));
    assert_eq!(
        (typed.provider.as_str(), typed.currency.as_deref()),
        ("stripe", Some("usd"))
    );
    let crypto = delegation::create_delegation(&cfg(), &json!({"provider": "erc4337", "spendingLimitCents": 1, "durationSecs": 1, "planId": "7", "apiKeyId": "k"})).unwrap();
    agrees::<CreateDelegation>(&body(&crypto));
    for dto in [
        json!({"alias": "Work", "allowedApiKeyIds": ["k1"]}),
        json!({"allowedApiKeyIds": null}),
        json!({}),
    ] {
        let call = delegation::update_payment_method(&cfg(), "pm_1", &dto).unwrap();
        let typed: UpdatePaymentMethodDto = agrees(&body(&call));
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            serde_json::Value::from(dto)
        );
    }
}

#[test]
fn organization_bodies() {
    let member =
        organizations::create_member(&cfg(), "ext-1", Some("a@b.example"), Some("Admin")).unwrap();
    let typed: CreateUserRequest = agrees(&body(&member));
    assert_eq!(
        (typed.unique_external_id.as_deref(), typed.role.as_deref()),
        (Some("ext-1"), Some("Admin"))
    );
    agrees::<CreateUserRequest>(&body(
        &organizations::create_member(&cfg(), "ext-2", None, None).unwrap(),
    ));
    let customer = organizations::onboard_customer(&cfg(), "c@b.example").unwrap();
    let typed: CreateUserRequest = agrees(&body(&customer));
    assert_eq!(typed.as_.as_deref(), Some("customer"));
    let members = organizations::get_members(
        &cfg(),
        Some("Member"),
        &json!(true),
        &json!(2),
        &Value::Null,
    )
    .unwrap();
    let typed: MembersRequest = agrees(&body(&members));
    assert_eq!(
        (typed.page, typed.offset, typed.is_active),
        (Some(2), Some(100), Some(true))
    );
    let stripe = organizations::connect_stripe_account(
        &cfg(),
        "a@b.example",
        "ES",
        "https://app.example/back",
    )
    .unwrap();
    agrees::<ConnectStripeAccountRequest>(&body(&stripe));
}

#[test]
fn order_body() {
    let full = json!({"amountMinor": 3437, "description": "Cart", "buyerRef": "cart-9", "idempotencyKey": "idem-1", "lineItems": [{"sku": "A", "unit_price": 3437}], "metadata": {"channel": "web"}, "captureMode": "automatic", "paymentProvider": "stripe"});
    let typed: CreateOrderRequest = agrees(&body(&orders::create_order(&cfg(), &full).unwrap()));
    assert_eq!(
        (typed.amount_minor, typed.currency.as_deref()),
        (Some(3437), Some("usd"))
    );
    let bare = orders::create_order(&cfg(), &json!({"amountMinor": 100})).unwrap();
    agrees::<CreateOrderRequest>(&body(&bare));
    assert_eq!(fields::<CreateOrderRequest>().len(), 9);
}

#[test]
fn plan_and_agent_bodies() {
    let free = plans::free_price_config().to_string();
    agrees::<PriceConfig>(&free);
    let fiat = plans::fiat_price_config(Uint256::from(1_000_000), RECEIVER, Some("EUR")).unwrap();
    agrees::<PriceConfig>(&fiat.to_string());
    let crypto = plans::crypto_price_config(Uint256::from(5), RECEIVER, Some(RECEIVER)).unwrap();
    agrees::<PriceConfig>(&crypto.to_string());
    let fixed = plans::fixed_credits_config(Uint256::from(100), Uint256::from(2));
    agrees::<CreditsConfig>(&fixed.to_string());
    let dynamic =
        plans::dynamic_credits_config(Uint256::from(100), Uint256::from(1), Uint256::from(5));
    agrees::<CreditsConfig>(&dynamic.to_string());
    let time = plans::expirable_duration_config(Uint256::from(86_400));
    agrees::<CreditsConfig>(&time.to_string());

    let metadata = json!({"name": "Pro", "description": "d", "tags": ["a"]});
    for (limit, trial) in [(None, false), (Some(AccessLimit::Time), true)] {
        let call = plans::register_plan(
            &cfg(),
            &metadata,
            &fiat,
            &fixed,
            limit,
            trial,
            Uint256::from(42),
        )
        .unwrap();
        let typed: RegisterPlanRequest = agrees(&body(&call));
        assert_eq!(
            (typed.is_trial_plan, typed.currency.as_deref()),
            (trial, Some("EUR"))
        );
    }

    let api = json!({"endpoints": [{"POST": "https://a.example/tasks/:id"}], "agentDefinitionUrl": "https://a.example/def"});
    let normalized = agents::normalize_agent_api(&api).unwrap();
    agrees::<AgentApiAttributes>(&normalized.to_string());
    let call = agents::register_agent(
        &cfg(),
        &json!({"name": "A"}),
        &api,
        &["1".into(), "2".into()],
    )
    .unwrap();
    let typed: RegisterAgentRequest = agrees(&body(&call));
    assert_eq!(typed.plans.len(), 2);
    let both = agents::register_agent_and_plan(
        &cfg(),
        AgentAndPlan {
            agent: &json!({"name": "A"}),
            api: &api,
            plan: &metadata,
            price: &free.parse::<serde_json::Value>().unwrap().into(),
            credits: &fixed,
            access_limit: None,
        },
    )
    .unwrap();
    let typed: RegisterAgentAndPlanRequest = agrees(&body(&both));
    assert_eq!(typed.plan.access_limit, Some(AccessLimit::Credits));
    let update = agents::update_agent_metadata(&cfg(), "7", &json!({"name": "B"}), &api).unwrap();
    let typed: UpdateAgentRequest = agrees(&body(&update));
    assert_eq!(typed.metadata_attributes.name, "B");
}

/// The call's query string reads into `T` (as nvm-local's `Query<T>` reads
/// it), writes back the same, and names only fields `T` has.
fn query_agrees<T: DeserializeOwned + Serialize>(call: &Call<Value>) -> T {
    let url = &call.request.url;
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let typed: T = serde_urlencoded::from_str(query)
        .unwrap_or_else(|e| panic!("{} does not read {url}: {e}", std::any::type_name::<T>()));
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let mut written: Vec<(String, String)> =
        serde_urlencoded::from_str(&serde_urlencoded::to_string(&typed).unwrap()).unwrap();
    let mut sent = pairs.clone();
    sent.sort();
    written.sort();
    assert_eq!(written, sent, "{url}");
    for (key, _) in &pairs {
        assert!(
            fields::<T>().contains(&key.as_str()),
            "the core sends ?{key}, which {} lacks",
            std::any::type_name::<T>()
        );
    }
    typed
}

#[test]
fn query_strings() {
    let all = json!({"page": 2, "offset": 5, "sortBy": "name", "sortOrder": "asc"});
    let q: PlansQuery = query_agrees(&plans::get_plans(&cfg(), &all).unwrap());
    assert_eq!(
        (q.page, q.offset, q.sort_order.as_deref()),
        (Some(2), Some(5), Some("asc"))
    );
    query_agrees::<PlansQuery>(&plans::get_plans(&cfg(), &Value::Null).unwrap());
    // Every getPlans option (as the package's type describes them) is a query parameter nvm-local reads.
    let every = nvm_x402_types::plans::ListPlansOptions {
        pagination: nvm_x402_types::plans::PaginationOptions {
            sort_by: Some("name".into()),
            sort_order: Some("asc".into()),
            page: Some(2),
            offset: Some(5),
        },
        org_id: Some("org-1".into()),
    };
    let every = nvm_x402::protocol::json::parse(&serde_json::to_string(&every).unwrap()).unwrap();
    let q: PlansQuery = query_agrees(&plans::get_plans(&cfg(), &every).unwrap());
    assert_eq!(q.org_id.as_deref(), Some("org-1"));
    let mine =
        json!({"page": 2, "offset": 25, "sortBy": "created", "sortOrder": "asc", "orgId": "org-1"});
    let q: PlansQuery = query_agrees(&agents::get_agents(&cfg(), &mine).unwrap());
    assert_eq!((q.offset, q.org_id.as_deref()), (Some(25), Some("org-1")));
    let q: PlansQuery =
        query_agrees(&plans::get_agents_associated_to_a_plan(&cfg(), "7", &all).unwrap());
    assert_eq!(q.page_size, Some(5));
    let filters = json!({"eventType": ["plan.created", "agent.created"], "actorUserId": "us-1", "from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z", "page": 2, "limit": 25});
    let q: ActivityQuery =
        query_agrees(&organizations::get_organization_activity(&cfg(), "org-1", &filters).unwrap());
    assert_eq!(
        (q.event_type.as_deref(), q.limit),
        (Some("plan.created,agent.created"), Some(25))
    );
    let q: PlansQuery = query_agrees(&agents::get_agent_plans(&cfg(), "7", &all).unwrap());
    assert_eq!((q.page_size, q.sort_by.as_deref()), (Some(5), Some("name")));
    let q: DelegationsQuery =
        query_agrees(&delegation::list_delegations(&cfg(), &json!({"accessible": true})).unwrap());
    assert_eq!(q.accessible, Some(true));
    let q: PaymentMethodsQuery = query_agrees(
        &delegation::list_payment_methods(
            &cfg(),
            &json!({"accessible": true, "provider": "stripe"}),
        )
        .unwrap(),
    );
    assert_eq!(q.provider.as_deref(), Some("stripe"));
}

#[test]
fn payment_required_reads_and_writes_the_same_json() {
    let pr = build_payment_required_for_plans(
        &["1", "2"],
        &BuildOptions {
            endpoint: Some("https://agent.example/tasks".into()),
            agent_id: Some("agent-9".into()),
            http_verb: Some("post".into()),
            scheme: Some("nvm:card-delegation".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let typed = PaymentRequired::from_value(pr.clone()).unwrap();
    assert_eq!(typed.plan_ids().collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(Value::from(serde_json::to_value(&typed).unwrap()), pr);

    // Standard x402 entries decode too, and fields not modelled are kept.
    let v = json!({"x402Version":2,"resource":{"url":"u"},"accepts":[{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x1","payTo":"0x2","maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}}],"future":{"a":1}});
    let pr = PaymentRequired::from_value(v.clone()).unwrap();
    assert_eq!(pr.accepts[0].plan_id, None);
    assert_eq!(pr.accepts[0].max_timeout_seconds, Some(json!(60)));
    assert_eq!(pr.accepts[0].other["extra"], Value::Null);
    assert_eq!(pr.other["future"], json!({"a": 1}));
    assert_eq!(Value::from(serde_json::to_value(&pr).unwrap()), v);
    let mut wrong = v;
    wrong["x402Version"] = json!(1);
    assert!(PaymentRequired::from_value(wrong)
        .unwrap_err()
        .to_string()
        .contains("x402Version"));
}

#[test]
fn field_lists_come_from_the_descriptions() {
    assert_eq!(
        fields::<MintRequest>(),
        ["accepted", "delegationConfig", "resource", "tokenVersion"]
    );
    assert_eq!(
        fields::<SettleRequest>(),
        [
            "paymentRequired",
            "x402AccessToken",
            "maxAmount",
            "agentRequestId",
            "batch",
            "marginPercent"
        ]
    );
    assert_eq!(fields::<RegisterAgentAndPlanRequest>(), ["plan", "agent"]);
    // A flattened struct takes any field: no list.
    assert!(fields::<PaymentRequired>().is_empty());
}
