//! Every spend is authorized by ownership (issue #9, item 9), with three
//! accounts: the plan's owner (the seeded builder), a subscriber of the plan,
//! and a stranger. An outside audit had a stranger settle a victim's token
//! (10 credits -> 3) and a subscriber settle its own token through an agent it
//! registered listing the owner's plan.

mod common;
use common::*;
use serde_json::json;

/// Registers an agent for `key` that lists `plans` at `url`; returns the answer.
fn register_agent(
    local: &Local,
    key: &str,
    plans: &[String],
    url: &str,
) -> (u16, serde_json::Value) {
    local.call(
        "POST",
        "api/v1/protocol/agents",
        Some(key),
        Some(&json!({"metadataAttributes": {"name": "an agent"}, "agentApiAttributes": {"endpoints": [{"POST": url}]}, "plans": plans})),
    )
}

/// Registers a free credits plan for `key`; returns its id.
fn register_plan(local: &Local, key: &str, name: &str) -> String {
    let (status, plan) = local.call(
        "POST",
        "api/v1/protocol/plans",
        Some(key),
        Some(&json!({"metadataAttributes": {"name": name}, "priceConfig": nvm_x402::api::plans::free_price_config(), "creditsConfig": nvm_x402::api::plans::fixed_credits_config(10u64.into(), 1u64.into()), "nonce": "1", "isTrialPlan": false, "accessLimit": "credits"})),
    );
    assert_eq!(status, 201, "{plan}");
    plan["planId"].as_str().unwrap().to_owned()
}

#[test]
fn only_a_plans_owner_can_attach_it_to_an_agent() {
    let local = Local::start();
    let plan = local.free_plan();
    let (_, stranger) = local.new_account("stranger");
    for key in [stranger.clone(), local.key("subscriber")] {
        let body = local.expect_error(
            register_agent(
                &local,
                &key,
                std::slice::from_ref(&plan),
                "http://127.0.0.1:9/steal",
            ),
            "BCK.PROTOCOL.0908",
        );
        assert!(body["message"].as_str().unwrap().contains(&plan), "{body}");
    }
    // One foreign plan among the caller's own is refused too, and nothing is stored.
    let own = register_plan(&local, &stranger, "mine");
    local.expect_error(
        register_agent(
            &local,
            &stranger,
            &[own.clone(), plan.clone()],
            "http://127.0.0.1:9/x",
        ),
        "BCK.PROTOCOL.0908",
    );
    let (status, agent) = register_agent(
        &local,
        &stranger,
        std::slice::from_ref(&own),
        "http://127.0.0.1:9/x",
    );
    assert_eq!(status, 201, "{agent}");
    // The owner can.
    assert_eq!(
        register_agent(
            &local,
            &local.key("builder"),
            &[plan],
            "http://127.0.0.1:9/mine"
        )
        .0,
        201
    );
}

#[test]
fn a_stranger_cannot_settle_a_subscribers_token() {
    let local = Local::start();
    let (token, _, required) = local.subscribed(2);
    let plan = local.free_plan();
    let victim = local.address("subscriber");
    let before = local.balance(&plan, &victim);
    let (_, stranger) = local.new_account("stranger");
    // Through the owner's agent, as named in the PaymentRequired.
    let body = json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "7"});
    local.expect_error(
        local.call("POST", "api/v1/x402/settle", Some(&stranger), Some(&body)),
        "BCK.X402.0909",
    );
    // Through an agent of the stranger's own (with its own plan): the token was minted for another agent.
    let own = register_plan(&local, &stranger, "bait");
    let (_, agent) = register_agent(&local, &stranger, &[own], "http://127.0.0.1:9/x");
    let theirs = agent["data"]["agentId"].as_str().unwrap();
    let mut redirected = required.clone();
    redirected["accepts"][0]["extra"]["agentId"] = json!(theirs);
    let body = json!({"paymentRequired": redirected, "x402AccessToken": token, "maxAmount": "7"});
    local.expect_error(
        local.call("POST", "api/v1/x402/settle", Some(&stranger), Some(&body)),
        "BCK.X402.0903",
    );
    // A PaymentRequired that names no agent at all can't spend an agent's token either.
    let mut anonymous = required.clone();
    anonymous["accepts"][0]["extra"]
        .as_object_mut()
        .unwrap()
        .remove("agentId");
    let body = json!({"paymentRequired": anonymous, "x402AccessToken": token, "maxAmount": "7"});
    for key in [&stranger, &local.key("builder")] {
        local.expect_error(
            local.call("POST", "api/v1/x402/settle", Some(key), Some(&body)),
            "BCK.X402.0903",
        );
    }
    // Verify compares the agent too (it says no, as a 200).
    let (status, verified) = local.call(
        "POST",
        "api/v1/x402/verify",
        Some(&stranger),
        Some(&json!({"paymentRequired": redirected, "x402AccessToken": token, "maxAmount": "1"})),
    );
    assert_eq!(
        (status, &verified["isValid"]),
        (200, &json!(false)),
        "{verified}"
    );
    assert_eq!(verified["invalidCode"], "BCK.X402.0903");
    assert_eq!(local.balance(&plan, &victim), before, "nothing was burned");
    // The owner settles through its agent, as intended.
    // Asking 3 of the demo plan, whose terms are 1 credit per request, burns 1 (issue #20).
    let (status, settled) = local.facilitate("settle", &required, &token, "3");
    assert_eq!(
        (status, &settled["success"]),
        (200, &json!(true)),
        "{settled}"
    );
    assert_eq!(local.balance(&plan, &victim), before - 1);
}

#[test]
fn a_subscriber_cannot_settle_its_own_token_to_fake_a_payment() {
    let local = Local::start();
    let (token, _, required) = local.subscribed(2);
    let subscriber = local.key("subscriber");
    let body = json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "1"});
    local.expect_error(
        local.call("POST", "api/v1/x402/settle", Some(&subscriber), Some(&body)),
        "BCK.X402.0909",
    );
    // Nor through an agent it registers listing the owner's plan: that registration is refused.
    local.expect_error(
        register_agent(
            &local,
            &subscriber,
            &[local.free_plan()],
            &local.agent_url(),
        ),
        "BCK.PROTOCOL.0908",
    );
}

#[test]
fn v2_tokens_minted_without_an_agent_still_pay_any_agent_of_the_plan() {
    let local = Local::start();
    let (subscriber, plan) = (local.key("subscriber"), local.free_plan());
    local.order(&subscriber, &plan);
    let delegation = local.crypto_delegation(&subscriber);
    let token = local.mint(
        &subscriber,
        json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {}}, "delegationConfig": {"delegationId": delegation}}),
    );
    let required = local.payment_required(
        &plan,
        "nvm:erc4337",
        "eip155:84532",
        &local.agent_url(),
        "POST",
    );
    let (status, settled) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(
        (status, &settled["success"]),
        (200, &json!(true)),
        "{settled}"
    );
}

#[test]
fn only_an_agents_owner_changes_it_and_only_a_plans_owner_moves_the_plan() {
    let local = Local::start();
    let (builder, agent, plan) = (local.key("builder"), local.agent_id(), local.free_plan());
    let (_, stranger) = local.new_account("stranger");
    let update = json!({"metadataAttributes": {"name": "hijacked"}, "agentApiAttributes": {"endpoints": [{"POST": "http://127.0.0.1:9/steal"}]}});
    let path = format!("api/v1/protocol/agents/{agent}");
    for key in [&stranger, &local.key("subscriber")] {
        local.expect_error(
            local.call("PUT", &path, Some(key), Some(&update)),
            "BCK.PROTOCOL.0910",
        );
        // Moving the owner's plan, onto or off the owner's agent.
        for method in ["POST", "DELETE"] {
            local.expect_error(
                local.call(method, &format!("{path}/plan/{plan}"), Some(key), None),
                "BCK.PROTOCOL.0908",
            );
        }
    }
    // A stranger's own plan can't go onto the owner's agent either.
    let own = register_plan(&local, &stranger, "bait");
    local.expect_error(
        local.call("POST", &format!("{path}/plan/{own}"), Some(&stranger), None),
        "BCK.PROTOCOL.0910",
    );
    // Nor the owner's plan onto a stranger's agent (so it could settle the plan's credits).
    let (_, theirs) = register_agent(&local, &stranger, &[own], "http://127.0.0.1:9/x");
    let theirs = theirs["data"]["agentId"].as_str().unwrap().to_owned();
    local.expect_error(
        local.call(
            "POST",
            &format!("api/v1/protocol/agents/{theirs}/plan/{plan}"),
            Some(&builder),
            None,
        ),
        "BCK.PROTOCOL.0910",
    );
    local.expect_error(
        local.call(
            "PUT",
            "api/v1/protocol/agents/404",
            Some(&builder),
            Some(&update),
        ),
        "BCK.PROTOCOL.0901",
    );
    let (_, unchanged) = local.call("GET", &path, None, None);
    assert_eq!(unchanged["name"], "Demo agent", "{unchanged}");
}

#[test]
fn an_agents_changes_take_effect_at_once() {
    let local = Local::start();
    let (token, _, required) = local.subscribed(2);
    let (builder, agent, plan) = (local.key("builder"), local.agent_id(), local.free_plan());
    let path = format!("api/v1/protocol/agents/{agent}");
    // Off: the agent no longer takes the plan, so nothing is settled through it.
    let (status, removed) = local.call(
        "DELETE",
        &format!("{path}/plan/{plan}"),
        Some(&builder),
        None,
    );
    assert_eq!(
        (status, &removed["success"]),
        (200, &json!(true)),
        "{removed}"
    );
    let (_, settled) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(settled["code"], "BCK.X402.0903", "{settled}");
    let (_, listed) = local.call(
        "GET",
        &format!("api/v1/protocol/plans/{plan}/agents"),
        None,
        None,
    );
    assert!(
        listed["agents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != agent.as_str()),
        "{listed}"
    );
    local.expect_error(
        local.call(
            "DELETE",
            &format!("{path}/plan/{plan}"),
            Some(&builder),
            None,
        ),
        "BCK.PROTOCOL.0911",
    );
    // On again (twice: the second changes nothing), at the end of its list.
    for _ in 0..2 {
        let (status, added) =
            local.call("POST", &format!("{path}/plan/{plan}"), Some(&builder), None);
        assert_eq!((status, &added["success"]), (200, &json!(true)), "{added}");
    }
    let (_, view) = local.call("GET", &path, None, None);
    let payg = &local.world()["plans"]["payg"]["planId"];
    assert_eq!(
        view["plans"],
        json!([local.fiat_plan(), payg, plan]),
        "{view}"
    );
    let (status, settled) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(
        (status, &settled["success"]),
        (200, &json!(true)),
        "{settled}"
    );
    // New endpoints: the old URL no longer matches; the plans stay.
    let update = json!({"metadataAttributes": {"name": "Renamed agent", "description": "moved"}, "agentApiAttributes": {"endpoints": [{"POST": "http://127.0.0.1:9/moved"}]}});
    let (status, updated) = local.call("PUT", &path, Some(&builder), Some(&update));
    assert_eq!(
        (status, &updated["success"]),
        (200, &json!(true)),
        "{updated}"
    );
    let (_, view) = local.call("GET", &path, None, None);
    assert_eq!(
        (
            &view["name"],
            &view["endpoints"],
            view["plans"].as_array().map(Vec::len)
        ),
        (
            &json!("Renamed agent"),
            &json!([{"POST": "http://127.0.0.1:9/moved"}]),
            Some(3)
        ),
        "{view}"
    );
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(verified["invalidCode"], "BCK.X402.0904", "{verified}");
    // A bad registration is refused and changes nothing.
    local.expect_error(
        local.call(
            "PUT",
            &path,
            Some(&builder),
            Some(&json!({"metadataAttributes": {"name": " "}, "agentApiAttributes": {}})),
        ),
        "BCK.COMMON.0903",
    );
    local.expect_error(
        local.call("PUT", &path, Some(&builder), Some(&json!({"metadataAttributes": {"name": "A"}, "agentApiAttributes": {"endpoints": [{"POST": "/relative"}]}}))),
        "BCK.COMMON.0901",
    );
    let (_, view) = local.call("GET", &path, None, None);
    assert_eq!(view["name"], "Renamed agent");
}

#[test]
fn a_payment_method_is_its_owners_and_its_key_restriction_holds() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let (_, methods) = local.call(
        "GET",
        "api/v1/payment-methods?provider=stripe",
        Some(&subscriber),
        None,
    );
    let card = methods[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(methods[0]["allowedApiKeyIds"], json!(null));
    let path = format!("api/v1/payment-methods/{card}");
    let (_, stranger) = local.new_account("stranger");
    local.expect_error(
        local.call(
            "PATCH",
            &path,
            Some(&stranger),
            Some(&json!({"alias": "mine now"})),
        ),
        "BCK.DELEGATION.0901",
    );
    // Restricted to another key: not accessible to this one, and no new delegation on it.
    let (status, updated) = local.call(
        "PATCH",
        &path,
        Some(&subscriber),
        Some(&json!({"alias": "Work", "allowedApiKeyIds": ["some-other-key"]})),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (&updated["alias"], &updated["allowedApiKeyIds"]),
        (&json!("Work"), &json!(["some-other-key"]))
    );
    let (_, all) = local.call("GET", "api/v1/payment-methods", Some(&subscriber), None);
    let (_, accessible) = local.call(
        "GET",
        "api/v1/payment-methods?accessible=true",
        Some(&subscriber),
        None,
    );
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    assert_eq!(
        accessible.as_array().map(Vec::len),
        Some(1),
        "only the wallet: {accessible}"
    );
    local.expect_error(
        local.call("POST", "api/v1/delegation/create", Some(&subscriber), Some(&json!({"provider": "stripe", "providerPaymentMethodId": card, "spendingLimitCents": 100, "durationSecs": 60}))),
        "BCK.DELEGATION.0902",
    );
    // Lifted: usable again; the alias stays.
    let (status, lifted) = local.call(
        "PATCH",
        &path,
        Some(&subscriber),
        Some(&json!({"allowedApiKeyIds": null})),
    );
    assert_eq!(
        (status, &lifted["allowedApiKeyIds"], &lifted["alias"]),
        (200, &json!(null), &json!("Work")),
        "{lifted}"
    );
    local.card_delegation(&subscriber, 100);
    let (_, accessible) = local.call(
        "GET",
        "api/v1/payment-methods?accessible=true",
        Some(&subscriber),
        None,
    );
    assert_eq!(accessible.as_array().map(Vec::len), Some(2));
    local.expect_error(
        local.call(
            "PATCH",
            &path,
            Some(&subscriber),
            Some(&json!({"owner": "x"})),
        ),
        "BCK.COMMON.0902",
    );
}

#[test]
fn accessible_delegations_are_the_usable_ones() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let usable = local.crypto_delegation(&subscriber);
    local.delegation(&subscriber, json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 60, "apiKeyId": "another-key"}));
    let short = local.delegation(
        &subscriber,
        json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 60}),
    );
    local.call(
        "POST",
        "local/v1/clock/advance",
        None,
        Some(&json!({"seconds": 120})),
    );
    let (_, all) = local.call("GET", "api/v1/delegation", Some(&subscriber), None);
    let (_, accessible) = local.call(
        "GET",
        "api/v1/delegation?accessible=true",
        Some(&subscriber),
        None,
    );
    assert_eq!(all.as_array().map(Vec::len), Some(3));
    let ids: Vec<&str> = accessible
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["delegationId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [usable.as_str()],
        "not {short} (expired) nor the other key's"
    );
}
