//! Pay-as-you-go plans (issue #23): registered under the deployment's
//! `PayAsYouGoTemplate` with our client's helpers, paid without an order, each
//! settle one charge of the price to the token's delegation (an erc4337
//! allowance or a card's budget), answered `billingModel: "pay-as-you-go"`,
//! `creditsRedeemed: "0"` and the charge's `orderTx`.

mod common;

use common::{block_on, Local};
use nvm_x402::api::plans::{fiat_price_config, non_expirable_duration_config, payg_price_config};
use nvm_x402::protocol::Uint256;
use serde_json::{json, Value};

const USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

/// Registers a plan with the builder's client and lets the seeded agent take it.
fn publish(local: &Local, name: &str, price: &nvm_x402::protocol::json::Value) -> String {
    let builder = local.client(&local.key("builder"));
    let credits = non_expirable_duration_config();
    let metadata = nvm_x402::json!({ "name": name });
    let answer = block_on(
        builder
            .register_plan(&metadata, price, &credits, None, false, None)
            .send(),
    )
    .unwrap();
    let plan = answer["planId"].as_str().unwrap().to_owned();
    block_on(builder.plan_on_agent(&plan, &local.agent_id(), true).send()).unwrap();
    plan
}

/// The subscriber's v2 token for `plan` through `delegation` (`card`: a card
/// delegation's, else erc4337), and the seeded agent's PaymentRequired for it.
fn paying(local: &Local, plan: &str, delegation: &str, card: bool) -> (String, Value) {
    let (scheme, network) = if card {
        ("nvm:card-delegation", "stripe")
    } else {
        ("nvm:erc4337", "eip155:84532")
    };
    let subscriber = local.key("subscriber");
    let token = local.mint_for(&subscriber, plan, scheme, network, delegation, 2);
    let url = local.agent_url();
    (
        token,
        local.payment_required(plan, scheme, network, &url, "POST"),
    )
}

fn template(local: &Local) -> String {
    let builder = local.client(&local.key("builder"));
    block_on(builder.contract_address("PayAsYouGoTemplate")).unwrap()
}

/// The delegation's `(amountSpentCents, remainingBudgetCents, transactionCount)`.
fn spent(local: &Local, key: &str, delegation: &str) -> (i64, i64, i64) {
    let (_, listed) = local.call("GET", "api/v1/delegation", Some(key), None);
    let d = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["delegationId"] == delegation)
        .unwrap();
    (
        d["amountSpentCents"].as_i64().unwrap(),
        d["remainingBudgetCents"].as_i64().unwrap(),
        d["transactionCount"].as_i64().unwrap(),
    )
}

fn assert_charged(settled: &Value) {
    assert_eq!(settled["success"], true, "{settled}");
    assert_eq!(settled["billingModel"], "pay-as-you-go", "{settled}");
    assert_eq!(settled["creditsRedeemed"], "0", "{settled}");
    assert_eq!(settled["remainingBalance"], "0", "{settled}");
    let (order, tx) = (settled["orderTx"].as_str(), settled["transaction"].as_str());
    assert!(order.is_some_and(|t| t.starts_with("0x")), "{settled}");
    assert!(
        tx.is_some_and(|t| t.starts_with("0x")) && order != tx,
        "{settled}"
    );
}

#[test]
fn a_crypto_plan_charges_its_price_to_the_erc4337_allowance_on_every_settle() {
    let local = Local::start();
    let builder = local.client(&local.key("builder"));
    // 250000 USDC units (6 decimals) = 25 cents a request.
    let price = block_on(builder.payg_price_config(
        Uint256::from(250_000),
        &local.address("builder"),
        Some(USDC),
    ))
    .unwrap();
    assert_eq!(price["templateAddress"], template(&local).as_str());
    let plan = publish(&local, "PAYG crypto", &price);
    let view = block_on(builder.get_plan(&plan).send()).unwrap();
    assert_eq!(
        view["registry"]["price"]["templateAddress"],
        price["templateAddress"]
    );

    let subscriber = local.key("subscriber");
    let delegation = local.delegation(
        &subscriber,
        json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 86_400}),
    );
    // No order: the first request pays.
    let (token, required) = paying(&local, &plan, &delegation, false);
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(verified["isValid"], true, "{verified}");
    assert_eq!(
        spent(&local, &subscriber, &delegation),
        (0, 100, 0),
        "verify charges nothing"
    );
    let mut orders = Vec::new();
    for n in 1..=4 {
        // Whatever credits the agent asks for, a request is one charge of the price.
        let (status, settled) = local.facilitate("settle", &required, &token, &(n * 7).to_string());
        assert_eq!(status, 200, "{settled}");
        assert_charged(&settled);
        orders.push(settled["orderTx"].clone());
        assert_eq!(
            spent(&local, &subscriber, &delegation),
            (25 * n, 100 - 25 * n, n)
        );
    }
    orders.dedup();
    assert_eq!(orders.len(), 4, "each charge is its own order");
    // The allowance is spent: refused at verify and settle, nothing charged.
    local.expect_error(
        local.facilitate("settle", &required, &token, "1"),
        "BCK.X402.0023",
    );
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(verified["invalidCode"], "BCK.X402.0023", "{verified}");
    assert_eq!(spent(&local, &subscriber, &delegation), (100, 0, 4));
    assert_eq!(
        local.balance(&plan, &local.address("subscriber")),
        0,
        "no credits, ever"
    );
}

#[test]
fn a_card_plan_charges_the_card_delegations_budget_and_needs_no_checkout() {
    let local = Local::start();
    let mut price =
        fiat_price_config(Uint256::from(1_000_000), &local.address("builder"), None).unwrap();
    price["templateAddress"] = template(&local).as_str().into();
    let plan = publish(&local, "PAYG card", &price);
    let subscriber = local.key("subscriber");
    let delegation = local.card_delegation(&subscriber, 250);
    let (token, required) = paying(&local, &plan, &delegation, true);
    for n in 1..=2 {
        let (_, settled) = local.facilitate("settle", &required, &token, "1");
        assert_charged(&settled);
        assert_eq!(settled["network"], "stripe");
        assert_eq!(
            spent(&local, &subscriber, &delegation),
            (100 * n, 250 - 100 * n, n)
        );
    }
    // $1.00 more than the 50 cents left: refused, nothing charged.
    local.expect_error(
        local.facilitate("settle", &required, &token, "1"),
        "BCK.X402.0023",
    );
    assert_eq!(spent(&local, &subscriber, &delegation), (200, 50, 2));
}

#[test]
fn credits_plans_say_so_and_pay_as_you_go_plans_are_checked_at_registration() {
    let local = Local::start();
    let (token, _, required) = local.subscribed(2);
    let (_, settled) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(settled["billingModel"], "credits", "{settled}");
    assert_eq!(settled["creditsRedeemed"], "1", "{settled}");

    let builder = local.client(&local.key("builder"));
    let template = template(&local);
    let receiver = local.address("builder");
    let register = |price: &nvm_x402::protocol::json::Value, limit, trial| {
        let credits = non_expirable_duration_config();
        block_on(
            builder
                .register_plan(
                    &nvm_x402::json!({"name": "p"}),
                    price,
                    &credits,
                    limit,
                    trial,
                    None,
                )
                .send(),
        )
    };
    let mut free = nvm_x402::api::plans::free_price_config();
    free["templateAddress"] = template.as_str().into();
    let priced = payg_price_config(Uint256::from(5), &receiver, None, Some(&template)).unwrap();
    let time = Some(nvm_x402::api::plans::AccessLimit::Time);
    for (price, limit, trial, why) in [
        (&free, None, false, "must add up to more than 0"),
        (&priced, time, false, "accessLimit"),
        (&priced, None, true, "trial"),
    ] {
        let e = register(price, limit, trial).unwrap_err();
        assert_eq!(e.code(), "BCK.COMMON.0901", "{e}");
        assert!(e.to_string().contains(why), "{e}");
    }
    // Ordering one succeeds, as on the hosted backend, and grants nothing.
    let plan = register(&priced, None, false).unwrap()["planId"]
        .as_str()
        .unwrap()
        .to_owned();
    let subscriber = local.key("subscriber");
    let (status, ordered) = local.call(
        "POST",
        &format!("api/v1/protocol/plans/{plan}/order"),
        Some(&subscriber),
        None,
    );
    assert_eq!(status, 201, "{ordered}");
    assert_eq!(ordered["success"], true);
    assert!(
        ordered["message"]
            .as_str()
            .unwrap()
            .contains("pay-as-you-go"),
        "{ordered}"
    );
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 0);
}

#[test]
fn a_pay_as_you_go_charge_stays_within_the_delegations_terms() {
    let local = Local::start();
    let price = payg_price_config(
        Uint256::from(10_000),
        &local.address("builder"),
        Some(USDC),
        Some(&template(&local)),
    )
    .unwrap();
    let plan = publish(&local, "PAYG terms", &price);
    let other = publish(
        &local,
        "PAYG other",
        &payg_price_config(
            Uint256::from(20_000),
            &local.address("builder"),
            Some(USDC),
            Some(&template(&local)),
        )
        .unwrap(),
    );
    let subscriber = local.key("subscriber");
    // Restricted to the other plan: no token for this one.
    let only_other = local.delegation(
        &subscriber,
        json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 86_400, "planId": other}),
    );
    let (status, refused) = local.call(
        "POST",
        "api/v1/x402/permissions",
        Some(&subscriber),
        Some(&json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan}, "delegationConfig": {"delegationId": only_other}})),
    );
    local.expect_error((status, refused), "BCK.X402.0908");
    // At most two settles.
    let twice = local.delegation(
        &subscriber,
        json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 86_400, "maxTransactions": 2}),
    );
    let (token, required) = paying(&local, &plan, &twice, false);
    for _ in 0..2 {
        assert_charged(&local.facilitate("settle", &required, &token, "1").1);
    }
    local.expect_error(
        local.facilitate("settle", &required, &token, "1"),
        "BCK.X402.0900",
    );
    assert_eq!(spent(&local, &subscriber, &twice), (2, 98, 2));
    // Only the plan's owner (or its agent's) settles: the subscriber can't charge themselves to someone.
    let (status, body) = local.call(
        "POST",
        "api/v1/x402/settle",
        Some(&subscriber),
        Some(&json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "1"})),
    );
    local.expect_error((status, body), "BCK.X402.0909");
}

#[test]
fn the_demo_world_has_a_pay_as_you_go_plan_its_agent_takes_and_each_settle_charges_once() {
    let local = Local::start();
    let world = local.world().clone();
    let payg = &world["plans"]["payg"];
    let plan = payg["planId"].as_str().unwrap().to_owned();
    assert_eq!(payg["billing"], "pay-as-you-go", "{payg}");
    // The backend's view: under the deployment's template, at the world's price, in USDC.
    let builder = local.client(&local.key("builder"));
    let view = block_on(builder.get_plan(&plan).send()).unwrap();
    let price = &view["registry"]["price"];
    assert_eq!(
        price["templateAddress"],
        template(&local).as_str(),
        "{view}"
    );
    assert_eq!(
        price["tokenAddress"],
        payg["tokenAddress"].as_str().unwrap()
    );
    assert_eq!(price["tokenAddress"], USDC);
    assert_eq!(
        price["amounts"],
        nvm_x402::json!([payg["price"].as_str().unwrap()])
    );
    // The demo agent takes it, as it takes the free and fiat plans.
    assert!(
        world["agent"]["planIds"]
            .as_array()
            .unwrap()
            .contains(&json!(plan)),
        "{}",
        world["agent"]
    );
    let agent_plans = block_on(
        builder
            .get_agent_plans(&local.agent_id(), &nvm_x402::json!({}))
            .send(),
    )
    .unwrap()
    .to_string();
    assert!(agent_plans.contains(&plan), "{agent_plans}");

    // The subscriber pays it with no order: each settle one charge of 1 cent.
    let subscriber = local.key("subscriber");
    let delegation = local.delegation(
        &subscriber,
        json!({"provider": "erc4337", "spendingLimitCents": 2, "durationSecs": 86_400}),
    );
    let (token, required) = paying(&local, &plan, &delegation, false);
    for n in 1..=2 {
        let (status, settled) = local.facilitate("settle", &required, &token, "3");
        assert_eq!(status, 200, "{settled}");
        assert_charged(&settled);
        assert_eq!(spent(&local, &subscriber, &delegation), (n, 2 - n, n));
    }
    local.expect_error(
        local.facilitate("settle", &required, &token, "1"),
        "BCK.X402.0023",
    );
    assert_eq!(spent(&local, &subscriber, &delegation), (2, 0, 2));
    assert_eq!(
        local.balance(&plan, &local.address("subscriber")),
        0,
        "no credits"
    );
}
