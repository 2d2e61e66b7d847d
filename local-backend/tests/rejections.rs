//! Every refusal: forged and edited tokens, wrong plan/endpoint/verb/scheme,
//! expired and exhausted delegations, budgets, insufficient credits, auth,
//! ownership, trial reorders, registration rules.

mod common;

use common::Local;
use nvm_x402::protocol::base64;
use serde_json::{json, Map, Value};

/// The token's JSON, as serde_json values (what these tests edit).
fn decode_access_token(raw: &str) -> Option<Map<String, Value>> {
    nvm_x402::protocol::decode_access_token(raw).map(Map::from)
}

fn encode_access_token(token: &Map<String, Value>) -> String {
    nvm_x402::protocol::encode_access_token(&token.clone().into())
}

const ERC: (&str, &str) = ("nvm:erc4337", "eip155:84532");

/// An edit of a decoded token.
type Edit = fn(&mut serde_json::Map<String, Value>);

/// Verify says no with `code`, settle refuses with the envelope `code`, nothing is burned.
fn refused_everywhere(local: &Local, required: &Value, token: &str, code: &str) {
    let (status, verified) = local.facilitate("verify", required, token, "1");
    assert_eq!(status, 200, "{verified}");
    assert_eq!(
        (
            verified["isValid"].as_bool(),
            verified["invalidCode"].as_str()
        ),
        (Some(false), Some(code)),
        "{verified}"
    );
    assert!(verified["invalidReason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    let before = local.balance(&local.free_plan(), &local.address("subscriber"));
    local.expect_error(local.facilitate("settle", required, token, "1"), code);
    assert_eq!(
        local.balance(&local.free_plan(), &local.address("subscriber")),
        before
    );
}

#[test]
fn forged_and_edited_tokens_are_invalid() {
    let local = Local::start();
    let (token, _, required) = local.subscribed(2);
    let decoded = decode_access_token(&token).unwrap();
    let edits: Vec<(&str, Edit)> = vec![
        ("maxed plan id", |t| t["accepted"]["planId"] = json!("1")),
        ("other verb", |t| {
            t["accepted"]["extra"]["httpVerb"] = json!("GET")
        }),
        ("other payer", |t| {
            t["payload"]["authorization"]["from"] =
                json!("0x0000000000000000000000000000000000000001")
        }),
        ("new signature", |t| {
            t["payload"]["signature"] = json!(format!("0x{}", "ab".repeat(64)))
        }),
        ("no signature", |t| {
            t["payload"].as_object_mut().unwrap().remove("signature");
        }),
        ("extra payload field", |t| {
            t["payload"]["note"] = json!("hi")
        }),
    ];
    for (what, edit) in edits {
        let mut t = decoded.clone();
        edit(&mut t);
        let forged = encode_access_token(&t);
        let (_, verified) = local.facilitate("verify", &required, &forged, "1");
        assert_eq!(
            verified["invalidCode"], "BCK.X402.0005",
            "{what}: {verified}"
        );
        local.expect_error(
            local.facilitate("settle", &required, &forged, "1"),
            "BCK.X402.0005",
        );
    }
    for junk in ["not a token", "e30", "MTIz"] {
        let (_, verified) = local.facilitate("verify", &required, junk, "1");
        assert_eq!(verified["invalidCode"], "BCK.X402.0005", "{junk}");
    }
    // Padded standard base64 of the same JSON, or of the same object with its keys
    // in another order, is the same token.
    let padded = base64::encode_standard(&base64::decode(&token).unwrap());
    let reordered = base64::encode_standard(
        nvm_local::access_token::canonical_json(&Value::Object(decoded.clone())).as_bytes(),
    );
    assert_ne!(reordered, token);
    for variant in [padded, reordered] {
        let (_, verified) = local.facilitate("verify", &required, &variant, "1");
        assert_eq!(verified["isValid"], true, "{verified}");
    }
    assert_eq!(
        local.balance(&local.free_plan(), &local.address("subscriber")),
        10
    );
}

#[test]
fn a_token_signed_by_another_account_for_the_subscriber_is_invalid() {
    let local = Local::start();
    let (token, _, required) = local.subscribed(2);
    // The builder mints its own token, then claims to be the subscriber in it.
    let builder = local.key("builder");
    local.call(
        "POST",
        &format!("api/v1/protocol/plans/{}/order", local.free_plan()),
        Some(&builder),
        None,
    );
    let builder_delegation = local.crypto_delegation(&builder);
    let builder_token = local.mint_for(
        &builder,
        &local.free_plan(),
        ERC.0,
        ERC.1,
        &builder_delegation,
        2,
    );
    let mut t = decode_access_token(&builder_token).unwrap();
    t["payload"]["authorization"]["from"] =
        decode_access_token(&token).unwrap()["payload"]["authorization"]["from"].clone();
    refused_everywhere(&local, &required, &encode_access_token(&t), "BCK.X402.0005");
}

#[test]
fn wrong_plan_scheme_endpoint_and_verb_are_refused() {
    let local = Local::start();
    let (token, _, _) = local.subscribed(2);
    let plan = local.free_plan();
    let url = local.agent_url();
    refused_everywhere(
        &local,
        &local.payment_required(&local.fiat_plan(), ERC.0, ERC.1, &url, "POST"),
        &token,
        "BCK.X402.0901",
    );
    refused_everywhere(
        &local,
        &local.payment_required(&plan, "nvm:card-delegation", "stripe", &url, "POST"),
        &token,
        "BCK.X402.0902",
    );
    refused_everywhere(
        &local,
        &local.payment_required(&plan, ERC.0, "eip155:8453", &url, "POST"),
        &token,
        "BCK.X402.0902",
    );
    for wrong_url in [
        "http://127.0.0.1:8787/other",
        "http://127.0.0.1:9999/tasks",
        "https://127.0.0.1:8787/tasks",
        "http://evil.example:8787/tasks",
    ] {
        refused_everywhere(
            &local,
            &local.payment_required(&plan, ERC.0, ERC.1, wrong_url, "POST"),
            &token,
            "BCK.X402.0904",
        );
    }
    refused_everywhere(
        &local,
        &local.payment_required(&plan, ERC.0, ERC.1, &url, "GET"),
        &token,
        "BCK.X402.0905",
    );
    // Same endpoint spelled differently still matches.
    let (_, ok) = local.facilitate(
        "verify",
        &local.payment_required(
            &plan,
            ERC.0,
            ERC.1,
            "http://localhost:8787//tasks/?q=1",
            "post",
        ),
        &token,
        "1",
    );
    assert_eq!(ok["isValid"], true, "{ok}");
    // An agent that doesn't accept the plan.
    let (_, other_agent) = local.call(
        "POST",
        "api/v1/protocol/agents",
        Some(&local.key("builder")),
        Some(&json!({"metadataAttributes": {"name": "Other"}, "agentApiAttributes": {"endpoints": []}, "plans": [local.fiat_plan()]})),
    );
    let mut required = local.payment_required(&plan, ERC.0, ERC.1, &url, "POST");
    required["accepts"][0]["extra"]["agentId"] = other_agent["data"]["agentId"].clone();
    refused_everywhere(&local, &required, &token, "BCK.X402.0903");
}

#[test]
fn v3_tokens_refuse_another_url_verb_or_agent() {
    let local = Local::start();
    let (_, delegation, _) = local.subscribed(2);
    let subscriber = local.key("subscriber");
    let plan = local.free_plan();
    // An agent without endpoints accepts any URL, so only the token's binding can refuse.
    let (_, open_agent) = local.call(
        "POST",
        "api/v1/protocol/agents",
        Some(&local.key("builder")),
        Some(&json!({"metadataAttributes": {"name": "Open"}, "agentApiAttributes": {"endpoints": []}, "plans": [plan]})),
    );
    let open_agent = open_agent["data"]["agentId"].as_str().unwrap().to_owned();
    let body = json!({"accepted": {"scheme": ERC.0, "network": ERC.1, "planId": plan, "extra": {"agentId": open_agent, "httpVerb": "POST"}}, "delegationConfig": {"delegationId": delegation}, "resource": {"url": "https://open.example/a"}, "tokenVersion": 3});
    let token = local.mint(&subscriber, body);
    let required = |url: &str, verb: &str, agent: &str| json!({"x402Version": 2, "resource": {"url": url}, "accepts": [{"scheme": ERC.0, "network": ERC.1, "planId": plan, "extra": {"version": "1", "agentId": agent, "httpVerb": verb}}], "extensions": {}});
    refused_everywhere(
        &local,
        &required("https://open.example/b", "POST", &open_agent),
        &token,
        "BCK.X402.0904",
    );
    refused_everywhere(
        &local,
        &required("https://open.example/a", "PUT", &open_agent),
        &token,
        "BCK.X402.0905",
    );
    refused_everywhere(
        &local,
        &required("https://open.example/a", "POST", &local.agent_id()),
        &token,
        "BCK.X402.0903",
    );
    let (_, ok) = local.facilitate(
        "verify",
        &required("https://open.example/a", "POST", &open_agent),
        &token,
        "1",
    );
    assert_eq!(ok["isValid"], true, "{ok}");
}

#[test]
fn expired_and_exhausted_delegations_are_refused() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let plan = local.free_plan();
    local.order(&subscriber, &plan);
    let capped = local.delegation(&subscriber, json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 60, "maxTransactions": 2}));
    let token = local.mint_for(&subscriber, &plan, ERC.0, ERC.1, &capped, 2);
    let required = local.payment_required(&plan, ERC.0, ERC.1, &local.agent_url(), "POST");
    for _ in 0..2 {
        assert_eq!(
            local.facilitate("settle", &required, &token, "1").1["success"],
            true
        );
    }
    refused_everywhere(&local, &required, &token, "BCK.X402.0900");
    let (_, listed) = local.call("GET", "api/v1/delegation", Some(&subscriber), None);
    assert_eq!(listed[0]["status"], "exhausted");

    let short = local.delegation(
        &subscriber,
        json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 60}),
    );
    let token = local.mint_for(&subscriber, &plan, ERC.0, ERC.1, &short, 2);
    assert_eq!(
        local.facilitate("verify", &required, &token, "1").1["isValid"],
        true
    );
    let (status, now) = local.call(
        "POST",
        "local/v1/clock/advance",
        None,
        Some(&json!({"seconds": 61})),
    );
    assert_eq!(status, 200, "{now}");
    refused_everywhere(&local, &required, &token, "BCK.X402.0013");
    // Minting with an expired delegation is refused too.
    let mint = json!({"accepted": {"scheme": ERC.0, "network": ERC.1, "planId": plan}, "delegationConfig": {"delegationId": short}});
    local.expect_error(
        local.call(
            "POST",
            "api/v1/x402/permissions",
            Some(&subscriber),
            Some(&mint),
        ),
        "BCK.X402.0013",
    );
    let (_, listed) = local.call("GET", "api/v1/delegation", Some(&subscriber), None);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["delegationId"] == short.as_str() && d["status"] == "expired"));
}

#[test]
fn insufficient_credits_and_not_subscribed_are_success_false() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let plan = local.free_plan();
    let delegation = local.crypto_delegation(&subscriber);
    let token = local.mint_for(&subscriber, &plan, ERC.0, ERC.1, &delegation, 2);
    let required = local.payment_required(&plan, ERC.0, ERC.1, &local.agent_url(), "POST");
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(
        verified["invalidCode"], "BCK.X402.0906",
        "not ordered yet: {verified}"
    );
    assert!(verified["invalidReason"]
        .as_str()
        .unwrap()
        .contains("not a subscriber"));
    local.order(&subscriber, &plan);
    // Asking any amount of the demo plan costs its terms, 1 credit, which the balance covers.
    let huge = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    let (_, verified) = local.facilitate("verify", &required, &token, huge);
    assert_eq!(verified["isValid"], true, "{verified}");
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 10);
    // The demo plan's 10 credits at 1 per request: spend them all.
    for _ in 0..10 {
        assert_eq!(
            local.facilitate("settle", &required, &token, "1").1["success"],
            true
        );
    }
    let (_, too_much) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(
        (
            too_much["success"].as_bool(),
            too_much["errorCode"].as_str(),
            too_much["remainingBalance"].as_str(),
            too_much["creditsRedeemed"].as_str()
        ),
        (Some(false), Some("BCK.X402.0906"), Some("0"), Some("0"))
    );
    let (_, verified) = local.facilitate("verify", &required, &token, "1");
    assert_eq!(verified["invalidCode"], "BCK.X402.0906");
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 0);
}

#[test]
fn only_the_payee_may_settle() {
    let local = Local::start();
    let (token, _, required) = local.subscribed(2);
    let (_, stranger) = local.new_account("stranger");
    let body = json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "1"});
    local.expect_error(
        local.call("POST", "api/v1/x402/settle", Some(&stranger), Some(&body)),
        "BCK.X402.0909",
    );
    local.expect_error(
        local.call(
            "POST",
            "api/v1/x402/settle",
            Some(&local.key("subscriber")),
            Some(&body),
        ),
        "BCK.X402.0909",
    );
    // Verify consumes nothing, so any account may ask.
    assert_eq!(
        local
            .call("POST", "api/v1/x402/verify", Some(&stranger), Some(&body))
            .1["isValid"],
        true
    );
    assert_eq!(
        local.balance(&local.free_plan(), &local.address("subscriber")),
        10
    );
}

#[test]
fn api_keys_are_checked() {
    let local = Local::start();
    let path = "api/v1/delegation";
    local.expect_error(local.call("GET", path, None, None), "BCK.APIKEY.0004");
    let key = local.key("subscriber");
    // Without the local: prefix the key still works.
    assert_eq!(
        local
            .call("GET", path, Some(key.strip_prefix("local:").unwrap()), None)
            .0,
        200
    );
    // Another account's address with the subscriber's signature.
    let (head, sig) = key.rsplit_once('.').unwrap();
    let (header, _) = head.split_once('.').unwrap();
    let claims = json!({"sub": local.address("builder"), "o11y": "x", "iss": "nvm-local", "iat": 1, "jti": "j"});
    let forged = format!(
        "{header}.{}.{sig}",
        base64::encode_url(claims.to_string().as_bytes())
    );
    for bad in [
        forged.as_str(),
        "local:abc",
        "sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweDEyMyJ9.c2ln",
        "",
    ] {
        local.expect_error(local.call("GET", path, Some(bad), None), "BCK.APIKEY.0004");
    }
    // A key from another nvm-local database.
    let other = Local::start();
    local.expect_error(
        local.call("GET", path, Some(&other.key("subscriber")), None),
        "BCK.APIKEY.0004",
    );
    // Public endpoints need no key.
    assert_eq!(
        local
            .call(
                "GET",
                &format!("api/v1/protocol/plans/{}", local.free_plan()),
                None,
                None
            )
            .0,
        200
    );
    assert_eq!(
        local
            .call(
                "GET",
                &format!("api/v1/protocol/agents/{}", local.agent_id()),
                None,
                None
            )
            .0,
        200
    );
}

#[test]
fn mint_rules() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let plan = local.free_plan();
    let accepted = json!({"scheme": ERC.0, "network": ERC.1, "planId": plan, "extra": {}});
    let mint = |body: Value| {
        local.call(
            "POST",
            "api/v1/x402/permissions",
            Some(&subscriber),
            Some(&body),
        )
    };
    local.expect_error(mint(json!({"accepted": accepted})), "BCK.X402.0030");
    local.expect_error(
        mint(json!({"accepted": accepted, "delegationConfig": null})),
        "BCK.X402.0030",
    );
    // What the SDKs send on for the backend to judge: nothing names a delegation or asks for one.
    for config in [
        json!({}),
        json!({"apiKeyId": "key-1"}),
        json!({"currency": "usd"}),
    ] {
        let error = local.expect_error(
            mint(json!({"accepted": accepted, "delegationConfig": config})),
            "BCK.X402.0030",
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("names no delegation"),
            "{error}"
        );
    }
    local.expect_error(
        mint(json!({"accepted": accepted, "delegationConfig": {"delegationId": "  "}})),
        "BCK.COMMON.0901",
    );
    local.expect_error(
        mint(json!({"accepted": accepted, "delegationConfig": {"delegationId": "no-such"}})),
        "BCK.DELEGATION.0900",
    );
    let builders = local.crypto_delegation(&local.key("builder"));
    local.expect_error(
        mint(json!({"accepted": accepted, "delegationConfig": {"delegationId": builders}})),
        "BCK.DELEGATION.0900",
    );
    let mine = local.crypto_delegation(&subscriber);
    let mut unknown_plan = accepted.clone();
    unknown_plan["planId"] = json!("123");
    local.expect_error(
        mint(json!({"accepted": unknown_plan, "delegationConfig": {"delegationId": mine}})),
        "BCK.PROTOCOL.0900",
    );
    let card_scheme = json!({"scheme": "nvm:card-delegation", "network": "stripe", "planId": plan});
    local.expect_error(
        mint(json!({"accepted": card_scheme, "delegationConfig": {"delegationId": mine}})),
        "BCK.X402.0902",
    );
    let fiat_with_crypto =
        json!({"scheme": "nvm:card-delegation", "network": "stripe", "planId": local.fiat_plan()});
    local.expect_error(
        mint(json!({"accepted": fiat_with_crypto, "delegationConfig": {"delegationId": mine}})),
        "BCK.X402.0902",
    );
    local.expect_error(mint(json!({"accepted": accepted, "delegationConfig": {"delegationId": mine}, "tokenVersion": 4})), "BCK.COMMON.0901");
    let mut no_agent = accepted.clone();
    no_agent["extra"]["agentId"] = json!("42");
    local.expect_error(
        mint(json!({"accepted": no_agent, "delegationConfig": {"delegationId": mine}})),
        "BCK.PROTOCOL.0901",
    );
    let fiat_only = local.delegation(&subscriber, json!({"provider": "erc4337", "spendingLimitCents": 1, "durationSecs": 60, "planId": local.fiat_plan()}));
    local.expect_error(
        mint(json!({"accepted": accepted, "delegationConfig": {"delegationId": fiat_only}})),
        "BCK.X402.0908",
    );
    assert_eq!(
        mint(json!({"accepted": accepted, "delegationConfig": {"delegationId": mine}})).0,
        201
    );
}

#[test]
fn delegation_and_payment_method_rules() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let (status, methods) = local.call("GET", "api/v1/payment-methods", Some(&subscriber), None);
    assert_eq!(status, 200);
    let card = &methods[0];
    assert_eq!(
        (
            card["type"].as_str(),
            card["brand"].as_str(),
            card["last4"].as_str(),
            card["provider"].as_str()
        ),
        (Some("card"), Some("visa"), Some("4242"), Some("stripe"))
    );
    assert!(
        card["id"].as_str().unwrap().starts_with("pm_")
            && card["expYear"].as_i64().unwrap() > 2000
            && card["expMonth"].is_i64()
    );
    let wallet = &methods[1];
    assert_eq!(
        (wallet["type"].as_str(), wallet["brand"].as_str()),
        (Some("crypto_wallet"), Some("ethereum"))
    );
    assert_eq!(
        local
            .call(
                "GET",
                "api/v1/payment-methods?provider=erc4337",
                Some(&subscriber),
                None
            )
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let builder_card = local
        .call(
            "GET",
            "api/v1/payment-methods",
            Some(&local.key("builder")),
            None,
        )
        .1[0]["id"]
        .clone();
    let create = |body: Value| {
        local.call(
            "POST",
            "api/v1/delegation/create",
            Some(&subscriber),
            Some(&body),
        )
    };
    local.expect_error(
        create(json!({"provider": "stripe", "spendingLimitCents": 100, "durationSecs": 60})),
        "BCK.COMMON.0903",
    );
    local.expect_error(create(json!({"provider": "stripe", "providerPaymentMethodId": builder_card, "spendingLimitCents": 100, "durationSecs": 60})), "BCK.DELEGATION.0901");
    local.expect_error(
        create(json!({"provider": "paypal", "spendingLimitCents": 100, "durationSecs": 60})),
        "BCK.COMMON.0901",
    );
    local.expect_error(
        create(json!({"provider": "erc4337", "spendingLimitCents": 0, "durationSecs": 60})),
        "BCK.COMMON.0901",
    );
    local.expect_error(create(json!({"provider": "erc4337", "spendingLimitCents": 10, "durationSecs": 60, "currency": "btc"})), "BCK.COMMON.0901");
    local.expect_error(create(json!({"provider": "erc4337", "spendingLimitCents": 10, "durationSecs": 60, "maxTransactions": 0})), "BCK.COMMON.0901");
    local.expect_error(
        create(json!({"provider": "erc4337", "spendingLimitCents": 10})),
        "BCK.COMMON.0903",
    );
    local.expect_error(create(json!({"provider": "erc4337", "spendingLimitCents": 10, "durationSecs": 60, "planId": "77"})), "BCK.PROTOCOL.0900");
    // A card delegation for a card-delegation token; an erc4337 one can't back it.
    let card_delegation = local.card_delegation(&subscriber, 500);
    let (_, listed) = local.call(
        "GET",
        "api/v1/delegation?accessible=true",
        Some(&subscriber),
        None,
    );
    assert_eq!(
        (
            listed.as_array().map(Vec::len),
            listed[0]["currency"].as_str()
        ),
        (Some(1), Some("usd"))
    );
    assert_eq!(listed[0]["delegationId"], card_delegation.as_str());
}

#[test]
fn plan_rules_and_trials() {
    let local = Local::start();
    let (builder_address, builder_key) = local.new_account("acme");
    let register = |body: Value| {
        local.call(
            "POST",
            "api/v1/protocol/plans",
            Some(&builder_key),
            Some(&body),
        )
    };
    let plan = |price: Value, credits: Value, trial: bool| json!({"metadataAttributes": {"name": "P"}, "priceConfig": price, "creditsConfig": credits, "nonce": "7", "isTrialPlan": trial, "accessLimit": "credits"});
    let free_price_config = || Value::from(nvm_x402::api::plans::free_price_config());
    let credits = Value::from(nvm_x402::api::plans::fixed_credits_config(
        1u64.into(),
        1u64.into(),
    ));
    let cheap_fiat = Value::from(
        nvm_x402::api::plans::fiat_price_config(999_999u64.into(), &builder_address, None).unwrap(),
    );
    local.expect_error(
        register(plan(cheap_fiat, credits.clone(), false)),
        "BCK.PROTOCOL.0047",
    );
    let mut bad_receiver = free_price_config();
    bad_receiver["amounts"] = json!(["1"]);
    bad_receiver["receivers"] = json!(["0x123"]);
    local.expect_error(
        register(plan(bad_receiver, credits.clone(), false)),
        "BCK.COMMON.0901",
    );
    let mut zero_credits = credits.clone();
    zero_credits["amount"] = json!("0");
    local.expect_error(
        register(plan(free_price_config(), zero_credits, false)),
        "BCK.COMMON.0901",
    );
    let mut too_many = credits.clone();
    too_many["amount"] = json!("9223372036854775808");
    local.expect_error(
        register(plan(free_price_config(), too_many, false)),
        "BCK.PROTOCOL.0904",
    );
    let trial = plan(free_price_config(), credits, true);
    let (status, created) = register(trial.clone());
    assert_eq!(status, 201, "{created}");
    local.expect_error(register(trial), "BCK.PROTOCOL.0905");
    let trial_id = created["planId"].as_str().unwrap();
    let subscriber = local.key("subscriber");
    assert_eq!(
        local
            .call(
                "POST",
                &format!("api/v1/protocol/plans/{trial_id}/order"),
                Some(&subscriber),
                None
            )
            .0,
        201
    );
    local.expect_error(
        local.call(
            "POST",
            &format!("api/v1/protocol/plans/{trial_id}/order"),
            Some(&subscriber),
            None,
        ),
        "BCK.PROTOCOL.0902",
    );
    assert_eq!(local.balance(trial_id, &local.address("subscriber")), 1);
    local.expect_error(
        local.call("GET", "api/v1/protocol/plans/999", None, None),
        "BCK.PROTOCOL.0900",
    );
    local.expect_error(
        local.call("GET", "api/v1/protocol/agents/999", None, None),
        "BCK.PROTOCOL.0901",
    );
    local.expect_error(
        local.call(
            "GET",
            &format!("api/v1/protocol/plans/{trial_id}/balance/not-an-address"),
            None,
            None,
        ),
        "BCK.COMMON.0901",
    );
    let agent = json!({"metadataAttributes": {"name": "A"}, "agentApiAttributes": {"endpoints": [{"POST": "/relative"}]}, "plans": [trial_id]});
    local.expect_error(
        local.call(
            "POST",
            "api/v1/protocol/agents",
            Some(&builder_key),
            Some(&agent),
        ),
        "BCK.COMMON.0901",
    );
    let agent = json!({"metadataAttributes": {"name": "A"}, "agentApiAttributes": {"endpoints": []}, "plans": ["31337"]});
    local.expect_error(
        local.call(
            "POST",
            "api/v1/protocol/agents",
            Some(&builder_key),
            Some(&agent),
        ),
        "BCK.PROTOCOL.0900",
    );
    local.expect_error(
        local.call(
            "GET",
            "api/v1/protocol/plans?sortOrder=up",
            Some(&builder_key),
            None,
        ),
        "BCK.COMMON.0901",
    );
    local.expect_error(
        local.call(
            "GET",
            "api/v1/protocol/plans?page=x",
            Some(&builder_key),
            None,
        ),
        "BCK.COMMON.0901",
    );
    let (_, page) = local.call(
        "GET",
        "api/v1/protocol/plans?page=1&offset=1&sortBy=name&sortOrder=asc",
        Some(&builder_key),
        None,
    );
    assert_eq!(
        (
            page["total"].as_u64(),
            page["plans"].as_array().map(Vec::len)
        ),
        (Some(1), Some(1))
    );
}
