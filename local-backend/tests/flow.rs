//! End-to-end flows over real HTTP, driven by our own `nvm_x402::Payments`
//! client: register plan -> register agent -> order -> delegation -> mint ->
//! verify -> settle -> balance; fiat checkout; card top-ups; v3 tokens.

mod common;

use common::{block_on, send, Local};
use nvm_x402::api::plans::{
    crypto_price_config, fiat_price_config, fixed_credits_config, free_price_config,
};
use nvm_x402::protocol::{decode_access_token, Uint256};
use serde_json::{json, Value};

#[test]
fn full_flow_with_the_payments_client() {
    let local = Local::start();
    let (builder_address, builder_key) = local.new_account("acme");
    let (subscriber_address, subscriber_key) = local.new_account("alice");
    let builder = local.client(&builder_key);
    let subscriber = local.client(&subscriber_key);

    let price = crypto_price_config(Uint256::from(5_000), &builder_address, None).unwrap();
    let plan = block_on(
        builder
            .register_plan(
                &nvm_x402::json!({"name": "Pro", "description": "5 credits"}),
                &price,
                &fixed_credits_config(Uint256::from(5), Uint256::from(2)),
                None,
                false,
                None,
            )
            .send(),
    )
    .unwrap();
    let plan_id = plan["planId"].as_str().unwrap().to_owned();
    let endpoints = nvm_x402::json!({"endpoints": [{"POST": "https://agent.example/tasks/:id"}]});
    let agent = block_on(
        builder
            .register_agent(
                &nvm_x402::json!({"name": "Task agent"}),
                &endpoints,
                std::slice::from_ref(&plan_id),
            )
            .send(),
    )
    .unwrap();
    let agent_id = agent["agentId"].as_str().unwrap().to_owned();

    let fetched = block_on(subscriber.get_plan(&plan_id).send()).unwrap();
    assert_eq!(fetched["id"], plan_id.as_str());
    assert_eq!(fetched["metadata"]["main"]["name"], "Pro");
    assert_eq!(fetched["registry"]["price"]["amounts"], json!(["5000"]));
    let scheme = block_on(subscriber.resolve_scheme(&plan_id)).unwrap();
    assert_eq!(
        (scheme.scheme.as_str(), scheme.network.as_str()),
        ("nvm:erc4337", "eip155:84532")
    );
    let agent_view = block_on(subscriber.get_agent(&agent_id).send()).unwrap();
    assert_eq!(agent_view["metadata"]["main"]["name"], "Task agent");
    let agent_plans = block_on(
        subscriber
            .get_agent_plans(&agent_id, &nvm_x402::protocol::json::Value::Null)
            .send(),
    )
    .unwrap();
    assert_eq!(agent_plans["plans"][0]["planId"], plan_id.as_str());

    let before = block_on(subscriber.get_plan_balance(&plan_id, None).send()).unwrap();
    assert_eq!(
        (before["balance"].as_str(), before["isSubscriber"].as_bool()),
        (Some("0"), Some(false))
    );
    let order = block_on(subscriber.order_plan(&plan_id)).unwrap();
    assert_eq!(
        (&order["alreadySubscribed"], &order["balanceBefore"]),
        (&nvm_x402::json!(false), &nvm_x402::json!("0"))
    );
    assert_eq!(order["success"], true);
    assert!(order["txHash"].as_str().unwrap().starts_with("0x"));
    let after_order = block_on(subscriber.get_plan_balance(&plan_id, None).send()).unwrap();
    assert_eq!(
        (
            after_order["balance"].as_str(),
            after_order["isSubscriber"].as_bool()
        ),
        (Some("5"), Some(true))
    );
    assert_eq!(after_order["holderAddress"], subscriber_address.as_str());

    let delegation = block_on(subscriber.create_delegation(
        &nvm_x402::json!({"provider": "erc4337", "spendingLimitCents": 1000, "durationSecs": 3600}),
    ).send())
    .unwrap();
    let delegation_id = delegation["delegationId"].as_str().unwrap().to_owned();
    let listed = block_on(
        subscriber
            .list_delegations(&nvm_x402::protocol::json::Value::Null)
            .send(),
    )
    .unwrap();
    assert_eq!(
        listed["delegations"][0]["delegationId"],
        delegation_id.as_str()
    );
    assert_eq!(listed["delegations"][0]["status"], "active");

    let minted = block_on(
        subscriber
            .get_x402_access_token(
                &plan_id,
                Some(&agent_id),
                &nvm_x402::json!({"delegationConfig": {"delegationId": delegation_id}}),
            )
            .send(),
    )
    .unwrap();
    let token = minted["accessToken"].as_str().unwrap().to_owned();
    let decoded = decode_access_token(&token).unwrap();
    assert_eq!(
        decoded["payload"]["authorization"]["from"],
        subscriber_address.as_str()
    );
    assert_eq!(
        decoded["payload"]["authorization"]["sessionKeys"][0]["id"],
        delegation_id.as_str()
    );

    // The agent's gate: verify through startProcessingRequest, then settle what it verified.
    let started = block_on(builder.start_processing_request(
        &agent_id,
        &token,
        "https://agent.example/tasks/42",
        "POST",
        &nvm_x402::json!({"credits": 2}),
    ))
    .unwrap();
    assert_eq!(started["isValid"], true, "{started}");
    assert_eq!(started["balance"]["balance"], "5");
    let settle = nvm_x402::json!({"paymentRequired": started["paymentRequired"], "x402AccessToken": token, "maxAmount": "2", "agentRequestId": started["agentRequestId"]});
    let settled = block_on(builder.settle_permissions(&settle).send()).unwrap();
    assert_eq!(settled["success"], true, "{settled}");
    assert_eq!(
        (
            settled["creditsRedeemed"].as_str(),
            settled["remainingBalance"].as_str()
        ),
        (Some("2"), Some("3"))
    );
    assert_eq!(settled["payer"], subscriber_address.as_str());
    assert!(settled["transaction"].as_str().unwrap().starts_with("0x"));
    let final_balance = block_on(subscriber.get_plan_balance(&plan_id, None).send()).unwrap();
    assert_eq!(final_balance["balance"], "3");

    // A v2 token settles again; the delegation counts both settles.
    let again = block_on(builder.settle_permissions(&settle).send()).unwrap();
    assert_eq!(again["remainingBalance"], "1");
    let listed = block_on(
        subscriber
            .list_delegations(&nvm_x402::protocol::json::Value::Null)
            .send(),
    )
    .unwrap();
    assert_eq!(listed["delegations"][0]["transactionCount"], 2);

    // The builder's plan list has the plan; the subscriber's doesn't.
    let mine = block_on(builder.get_plans(&nvm_x402::json!({})).send()).unwrap();
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["plans"][0]["id"], plan_id.as_str());
    assert_eq!(
        block_on(subscriber.get_plans(&nvm_x402::json!({})).send()).unwrap()["total"],
        0
    );
}

#[test]
fn verify_answers_the_documented_shape_and_consumes_nothing() {
    let local = Local::start();
    let plan = local.free_plan();
    let (token, _, required) = local.subscribed(2);
    for _ in 0..3 {
        let (status, v) = local.facilitate("verify", &required, &token, "1");
        assert_eq!(status, 200);
        assert_eq!(v["isValid"], true, "{v}");
        assert_eq!(v["payer"], local.address("subscriber"));
        assert_eq!(v["network"], "eip155:84532");
        assert!(v["agentRequestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()));
        assert_eq!(v["urlMatching"], local.agent_url());
        let request = &v["agentRequest"];
        assert_eq!(request["agentRequestId"], v["agentRequestId"]);
        assert_eq!(request["agentId"], local.agent_id());
        assert_eq!(request["agentName"], "Demo agent");
        assert_eq!(request["verbMatching"], "POST");
        assert_eq!(request["batch"], false);
        let balance = &request["balance"];
        for field in [
            "planId",
            "planName",
            "planType",
            "holderAddress",
            "balance",
            "creditsContract",
            "isSubscriber",
            "pricePerCredit",
        ] {
            assert!(
                !balance[field].is_null(),
                "balance.{field} missing: {balance}"
            );
        }
        assert_eq!(balance["balance"], "10");
    }
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 10);
}

#[test]
fn max_amount_zero_burns_the_plans_default_credits() {
    let local = Local::start();
    let (builder_address, builder_key) = local.new_account("acme");
    let price = free_price_config();
    let credits = fixed_credits_config(Uint256::from(9), Uint256::from(3));
    let plan = register_plan(&local, &builder_key, "Threes", &price, &credits);
    let subscriber = local.key("subscriber");
    local.order(&subscriber, &plan);
    let delegation = local.crypto_delegation(&subscriber);
    let token = local.mint(&subscriber, json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan}, "delegationConfig": {"delegationId": delegation}}));
    let required = json!({"x402Version": 2, "resource": {"url": "https://anything.example/x"}, "accepts": [{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {"version": "1"}}], "extensions": {}});
    let body = json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "0"});
    let (status, settled) = local.call(
        "POST",
        "api/v1/x402/settle",
        Some(&builder_key),
        Some(&body),
    );
    assert_eq!(status, 200, "{settled}");
    assert_eq!(
        (
            settled["creditsRedeemed"].as_str(),
            settled["remainingBalance"].as_str()
        ),
        (Some("3"), Some("6"))
    );
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 6);
    assert_ne!(builder_address, local.address("subscriber"));
}

/// Registers a plan with our client; returns its id.
fn register_plan(
    local: &Local,
    key: &str,
    name: &str,
    price: &nvm_x402::protocol::json::Value,
    credits: &nvm_x402::protocol::json::Value,
) -> String {
    let answer = block_on(
        local
            .client(key)
            .register_plan(
                &nvm_x402::json!({ "name": name }),
                price,
                credits,
                None,
                false,
                None,
            )
            .send(),
    )
    .unwrap();
    answer["planId"].as_str().unwrap().to_owned()
}

fn pay_page(local: &Local, link: &str) -> (u16, String) {
    let path = link
        .split_once("/checkout/")
        .map(|(_, id)| format!("checkout/{id}"))
        .unwrap();
    let (status, _, page) = send(&local.agent, "GET", &local.url(&path), &[], None);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("data-status=\"open\"") && page.contains("Pay $1.00"),
        "{page}"
    );
    let (status, _, paid) = send(
        &local.agent,
        "POST",
        &local.url(&format!("{path}/pay")),
        &[],
        Some(b""),
    );
    (status, paid)
}

#[test]
fn fiat_checkout_grants_credits_once() {
    let local = Local::start();
    let subscriber = local.client(&local.key("subscriber"));
    let plan = local.fiat_plan();
    let scheme = block_on(subscriber.resolve_scheme(&plan)).unwrap();
    assert_eq!(
        (scheme.scheme.as_str(), scheme.network.as_str()),
        ("nvm:card-delegation", "stripe")
    );
    let order = block_on(subscriber.order_fiat_plan(&plan).send()).unwrap();
    let result = &order["result"];
    for field in [
        "stripeCheckoutSessionId",
        "checkoutLink",
        "clientReferenceId",
        "linkCreatedAt",
        "linkExpiresAt",
    ] {
        assert!(
            result[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}: {order}"
        );
    }
    let link = result["checkoutLink"].as_str().unwrap();
    assert!(link.starts_with(&local.server.url()), "{link}");
    let holder = local.address("subscriber");
    assert_eq!(local.balance(&plan, &holder), 0);
    let (status, page) = pay_page(&local, link);
    assert_eq!(status, 200, "the pay button redirects back to the page");
    assert!(page.contains("data-status=\"paid\""), "{page}");
    assert_eq!(local.balance(&plan, &holder), 10);
    // Paying again (a double click, a replayed form) grants nothing more.
    let session = result["stripeCheckoutSessionId"].as_str().unwrap();
    let (status, _, again) = send(
        &local.agent,
        "POST",
        &local.url(&format!("checkout/{session}/pay")),
        &[("Accept", "application/json")],
        Some(b""),
    );
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&again).unwrap()["paid"], true);
    assert_eq!(local.balance(&plan, &holder), 10);
    // A crypto order of a fiat plan is refused, and so is a fiat order of a crypto plan.
    let (status, body) = local.call(
        "POST",
        &format!("api/v1/protocol/plans/{plan}/order"),
        Some(&local.key("subscriber")),
        None,
    );
    let refused = local.expect_error((status, body), "BCK.PROTOCOL.0903");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("orderFiatPlan"),
        "{refused}"
    );
    let crypto = json!({"sessionType": "embedded", "planId": local.free_plan()});
    local.expect_error(
        local.call(
            "POST",
            "api/v1/fiat/stripe/payment",
            Some(&local.key("subscriber")),
            Some(&crypto),
        ),
        "BCK.PROTOCOL.0903",
    );
    let (status, _, missing) = send(
        &local.agent,
        "GET",
        &local.url("checkout/cs_test_nope"),
        &[],
        None,
    );
    assert_eq!(status, 404);
    assert!(missing.contains("BCK.PROTOCOL.0906"));
}

#[test]
fn card_delegation_settles_top_up_the_plan_by_charging_the_delegation() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let plan = local.fiat_plan();
    let delegation = local.card_delegation(&subscriber, 250);
    let token = local.mint_for(
        &subscriber,
        &plan,
        "nvm:card-delegation",
        "stripe",
        &delegation,
        2,
    );
    let decoded = decode_access_token(&token).unwrap();
    assert!(
        decoded["payload"]["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3),
        "card tokens carry a JWT"
    );
    let required = local.payment_required(
        &plan,
        "nvm:card-delegation",
        "stripe",
        &local.agent_url(),
        "POST",
    );
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(
        verified["isValid"], true,
        "a top-up the budget covers is valid: {verified}"
    );
    assert_eq!(
        local.balance(&plan, &local.address("subscriber")),
        0,
        "verify bought nothing"
    );

    // First settle: no credits, so it orders the plan ($1.00 = 100 cents) and burns 1 of the 10.
    let (status, first) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["success"], true);
    assert!(
        first["orderTx"]
            .as_str()
            .is_some_and(|t| t.starts_with("0x")),
        "{first}"
    );
    assert_eq!(first["remainingBalance"], "9");
    // 9 more settles use the credits bought, with no new order.
    for _ in 0..9 {
        let (_, next) = local.facilitate("settle", &required, &token, "1");
        assert_eq!(next["success"], true, "{next}");
        assert!(next.get("orderTx").is_none(), "{next}");
    }
    // The 11th orders again (200 of 250 cents spent), the 21st can't: 50 cents left.
    let (_, eleventh) = local.facilitate("settle", &required, &token, "1");
    assert!(eleventh["orderTx"].is_string(), "{eleventh}");
    for _ in 0..9 {
        local.facilitate("settle", &required, &token, "1");
    }
    local.expect_error(
        local.facilitate("settle", &required, &token, "1"),
        "BCK.X402.0023",
    );
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(
        (
            verified["isValid"].as_bool(),
            verified["invalidCode"].as_str()
        ),
        (Some(false), Some("BCK.X402.0023"))
    );
    let (_, listed) = local.call("GET", "api/v1/delegation", Some(&subscriber), None);
    let d = &listed[0];
    assert_eq!(
        (
            d["amountSpentCents"].as_i64(),
            d["remainingBudgetCents"].as_i64(),
            d["transactionCount"].as_i64()
        ),
        (Some(200), Some(50), Some(20))
    );
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 0);
}

#[test]
fn erc4337_plans_are_never_topped_up() {
    let local = Local::start();
    let plan = local.free_plan();
    let (token, _, required) = local.subscribed(2);
    for n in (0..10).rev() {
        let (_, settled) = local.facilitate("settle", &required, &token, "1");
        assert_eq!(settled["remainingBalance"], n.to_string(), "{settled}");
    }
    let (status, refused) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(
        status, 200,
        "insufficient credits is a success:false answer"
    );
    assert_eq!(
        (
            refused["success"].as_bool(),
            refused["errorCode"].as_str(),
            refused["transaction"].as_str()
        ),
        (Some(false), Some("BCK.X402.0906"), Some(""))
    );
    assert!(refused.get("orderTx").is_none());
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 0);
}

#[test]
fn v3_tokens_bind_agent_url_and_verb_and_settle_once() {
    let local = Local::start();
    let (token, delegation, required) = local.subscribed(3);
    let (subscriber, plan) = (local.key("subscriber"), local.free_plan());
    let decoded = decode_access_token(&token).unwrap();
    assert!(decoded["payload"]["authorization"]["nonce"]
        .as_str()
        .is_some_and(|n| !n.is_empty()));
    assert_eq!(decoded["resource"]["url"], local.agent_url());
    assert_eq!(decoded["accepted"]["extra"]["agentId"], local.agent_id());
    let (_, first) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(first["success"], true, "{first}");
    local.expect_error(
        local.facilitate("settle", &required, &token, "1"),
        "BCK.X402.0059",
    );
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(verified["invalidCode"], "BCK.X402.0059");
    assert_eq!(
        local.balance(&plan, &local.address("subscriber")),
        9,
        "the refused second settle burned nothing"
    );
    // A second v3 token is a different token with its own nonce.
    let other = local.mint_for(
        &subscriber,
        &plan,
        "nvm:erc4337",
        "eip155:84532",
        &delegation,
        3,
    );
    assert_ne!(other, token);
    let (_, second) = local.facilitate("settle", &required, &other, "1");
    assert_eq!(second["success"], true, "{second}");
}

#[test]
fn inline_delegation_config_still_works() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let plan = local.free_plan();
    local.order(&subscriber, &plan);
    let body = json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {}}, "delegationConfig": {"spendingLimitCents": 500, "durationSecs": 60}});
    let (status, minted) = local.call(
        "POST",
        "api/v1/x402/permissions",
        Some(&subscriber),
        Some(&body),
    );
    assert_eq!(status, 201, "{minted}");
    let delegation = minted["delegationId"].as_str().unwrap();
    let (_, listed) = local.call("GET", "api/v1/delegation", Some(&subscriber), None);
    let d = &listed[0];
    assert_eq!(
        (
            d["delegationId"].as_str(),
            d["provider"].as_str(),
            d["spendingLimitCents"].as_i64()
        ),
        (Some(delegation), Some("erc4337"), Some(500))
    );
    let required = json!({"x402Version": 2, "resource": {"url": "/x"}, "accepts": [{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {"version": "1"}}], "extensions": {}});
    let (_, verified) = local.facilitate(
        "verify",
        &required,
        minted["accessToken"].as_str().unwrap(),
        "1",
    );
    assert_eq!(verified["isValid"], true, "{verified}");
    // Card inline fields create a card delegation.
    let card = local
        .call("GET", "api/v1/payment-methods", Some(&subscriber), None)
        .1[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"accepted": {"scheme": "nvm:card-delegation", "network": "stripe", "planId": local.fiat_plan()}, "delegationConfig": {"spendingLimitCents": 500, "durationSecs": 60, "providerPaymentMethodId": card, "currency": "usd"}});
    let (status, minted) = local.call(
        "POST",
        "api/v1/x402/permissions",
        Some(&subscriber),
        Some(&body),
    );
    assert_eq!(status, 201, "{minted}");
}

#[test]
fn time_plans_give_access_until_they_expire() {
    let local = Local::start();
    let (_, builder_key) = local.new_account("acme");
    let credits = nvm_x402::api::plans::expirable_duration_config(Uint256::from(3600));
    let plan = register_plan(
        &local,
        &builder_key,
        "Hourly",
        &free_price_config(),
        &credits,
    );
    let (_, fetched) = local.call("GET", &format!("api/v1/protocol/plans/{plan}"), None, None);
    assert_eq!(fetched["accessLimit"], "time");
    let subscriber = local.key("subscriber");
    local.order(&subscriber, &plan);
    let delegation = local.delegation(
        &subscriber,
        json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 86_400 * 7}),
    );
    let token = local.mint(&subscriber, json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan}, "delegationConfig": {"delegationId": delegation}}));
    let required = json!({"x402Version": 2, "resource": {"url": "/x"}, "accepts": [{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {"version": "1"}}], "extensions": {}});
    let body = json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "1"});
    for _ in 0..3 {
        let (_, settled) = local.call(
            "POST",
            "api/v1/x402/settle",
            Some(&builder_key),
            Some(&body),
        );
        assert_eq!(
            (
                settled["success"].as_bool(),
                settled["creditsRedeemed"].as_str()
            ),
            (Some(true), Some("0")),
            "{settled}"
        );
    }
    local.call(
        "POST",
        "local/v1/clock/advance",
        None,
        Some(&json!({"seconds": 3601})),
    );
    let (_, expired) = local.call(
        "POST",
        "api/v1/x402/settle",
        Some(&builder_key),
        Some(&body),
    );
    assert_eq!(
        (expired["success"].as_bool(), expired["errorCode"].as_str()),
        (Some(false), Some("BCK.X402.0907")),
        "{expired}"
    );
    let (_, balance) = local.call(
        "GET",
        &format!(
            "api/v1/protocol/plans/{plan}/balance/{}",
            local.address("subscriber")
        ),
        None,
        None,
    );
    assert_eq!(
        (
            balance["isSubscriber"].as_bool(),
            balance["planType"].as_str()
        ),
        (Some(false), Some("time"))
    );
}

#[test]
fn register_agent_and_plan_in_one_call_and_fiat_plans_by_client() {
    let local = Local::start();
    let (builder_address, builder_key) = local.new_account("acme");
    let client = local.client(&builder_key);
    let price = fiat_price_config(Uint256::from(2_500_000), &builder_address, None).unwrap();
    let credits = fixed_credits_config(Uint256::from(100), Uint256::from(1));
    let api = nvm_x402::json!({"endpoints": [{"GET": "http://localhost:9999/items/:id"}]});
    let both = block_on(
        client
            .register_agent_and_plan(nvm_x402::api::agents::AgentAndPlan {
                agent: &nvm_x402::json!({"name": "Shop"}),
                api: &api,
                plan: &nvm_x402::json!({"name": "Shop credits"}),
                price: &price,
                credits: &credits,
                access_limit: None,
            })
            .send(),
    )
    .unwrap();
    let (plan, agent) = (
        both["planId"].as_str().unwrap(),
        both["agentId"].as_str().unwrap(),
    );
    let plans = block_on(
        client
            .get_agent_plans(agent, &nvm_x402::protocol::json::Value::Null)
            .send(),
    )
    .unwrap();
    assert_eq!(plans["plans"][0]["planId"], plan);
    let fetched = block_on(client.get_plan(plan).send()).unwrap();
    assert_eq!(
        (
            fetched["registry"]["price"]["isCrypto"].as_bool(),
            fetched["metadata"]["plan"]["fiatPaymentProvider"].as_str()
        ),
        (Some(false), Some("stripe"))
    );
    let (status, body) = local.call(
        "GET",
        &format!("api/v1/protocol/plans/{plan}/balance/{builder_address}"),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(body["pricePerCredit"].as_f64(), Some(25_000.0));
}

#[test]
fn ordering_a_held_plan_buys_it_again_and_says_so() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let holder = local.address("subscriber");
    let plan = local.free_plan();
    let order = || {
        local.call(
            "POST",
            &format!("api/v1/protocol/plans/{plan}/order"),
            Some(&subscriber),
            None,
        )
    };
    let (status, first) = order();
    assert_eq!(status, 201, "{first}");
    let granted = local.balance(&plan, &holder);
    assert!(granted > 0);
    assert!(
        !first["message"].as_str().unwrap().contains("again"),
        "{first}"
    );
    let (status, second) = order();
    assert_eq!(status, 201, "{second}");
    assert_eq!(local.balance(&plan, &holder), 2 * granted);
    assert_eq!(
        second["message"].as_str().unwrap(),
        format!("Plan {plan} ordered again: the caller already held it ({granted} credits); {granted} credits granted")
    );
    // The client reads the balance first and says so in the answer too.
    let client = local.client(&subscriber);
    let third = block_on(client.order_plan(&plan)).unwrap();
    assert_eq!(third["alreadySubscribed"], true);
    assert_eq!(third["balanceBefore"], (2 * granted).to_string().as_str());
    // A fiat plan is not ordered through orderPlan: nothing is bought, and the hint names orderFiatPlan.
    let fiat = local.fiat_plan();
    let refused = block_on(client.order_plan(&fiat)).unwrap_err();
    assert!(refused.hint().contains("orderFiatPlan"));
    assert_eq!(local.balance(&fiat, &holder), 0);
}

#[test]
fn plans_of_an_organization_the_caller_is_not_in_are_refused() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    local.expect_error(
        local.call(
            "GET",
            "api/v1/protocol/plans?orgId=org-1",
            Some(&subscriber),
            None,
        ),
        "BCK.PROTOCOL.0909",
    );
    let (status, mine) = local.call(
        "GET",
        "api/v1/protocol/plans?orgId=",
        Some(&subscriber),
        None,
    );
    assert_eq!(status, 200, "{mine}");
}
