//! Organizations: who may enrol members and customers, read the members and
//! the activity feed, and list an organization's plans and agents; the
//! seeded demo organization (the builder is its Admin); `GET /`.

mod common;
use common::*;
use serde_json::{json, Value};

fn demo_org(local: &Local) -> String {
    text(&local.world()["organization"]["orgId"])
}

/// `POST api/v1/organizations/account` with `key` (and `X-Current-Org-Id: org` when given).
fn create_user(local: &Local, key: &str, org: Option<&str>, body: Value) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    if let Some(org) = org {
        headers.push(("X-Current-Org-Id", org));
    }
    let (status, _, text) = send(
        &local.agent,
        "POST",
        &local.url("api/v1/organizations/account"),
        &headers,
        Some(body.to_string().as_bytes()),
    );
    (status, serde_json::from_str(&text).unwrap())
}

#[test]
fn the_deployment_names_every_contract_the_official_sdks_read() {
    let local = Local::start();
    let (status, info) = local.call("GET", "/", None, None);
    assert_eq!(status, 200, "{info}");
    let contracts = info["deployment"]["contracts"].as_object().unwrap();
    for name in nvm_local::deployment::CONTRACTS {
        let address = contracts[name].as_str().unwrap();
        assert!(
            address.starts_with("0x") && address.len() == 42,
            "{name}: {address}"
        );
    }
    assert_eq!(info["deployment"]["chainId"], 84532);
}

#[test]
fn the_builder_administers_the_demo_organization() {
    let local = Local::start();
    let (builder, org) = (local.key("builder"), demo_org(&local));
    let (status, mine) = local.call(
        "GET",
        "api/v1/organizations/my-memberships",
        Some(&builder),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        mine,
        json!([{"orgId": org, "orgName": "Demo organization", "role": "Admin", "orgType": "Premium", "isAdmin": true, "hasSubscriptionHistory": false}])
    );
    let (_, none) = local.call(
        "GET",
        "api/v1/organizations/my-memberships",
        Some(&local.key("subscriber")),
        None,
    );
    assert_eq!(none, json!([]));
    // The demo plans and agents were published into it.
    let (_, plans) = local.call(
        "GET",
        &format!("api/v1/protocol/plans?orgId={org}"),
        Some(&builder),
        None,
    );
    let demo_plans = local.world()["plans"].as_object().unwrap().len();
    assert_eq!(demo_plans, 3, "free, fiat and pay-as-you-go");
    assert_eq!(plans["total"], demo_plans, "{plans}");
    let (_, agents) = local.call(
        "GET",
        &format!("api/v1/protocol/agents?orgId={org}&sortBy=name&sortOrder=asc"),
        Some(&builder),
        None,
    );
    let names: Vec<&str> = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Demo A2A agent", "Demo MCP agent", "Demo agent"]);
    let (_, own) = local.call(
        "GET",
        "api/v1/protocol/agents?page=1&offset=1",
        Some(&builder),
        None,
    );
    assert_eq!(
        (&own["total"], own["agents"].as_array().map(Vec::len)),
        (&json!(3), Some(1)),
        "{own}"
    );
    let (_, feed) = local.call(
        "GET",
        &format!("api/v1/organizations/{org}/activity?eventType=agent.created,plan.created"),
        Some(&builder),
        None,
    );
    assert_eq!(
        feed["total"],
        demo_plans + 3,
        "{feed}: the plans and 3 agents"
    );
}

#[test]
fn only_an_admin_enrols_and_lists_members() {
    let local = Local::start();
    let (builder, org) = (local.key("builder"), demo_org(&local));
    let (status, created) = create_user(
        &local,
        &builder,
        None,
        json!({"uniqueExternalId": "ext-1", "email": "Ann@Example.com", "role": "Member"}),
    );
    assert_eq!(status, 201, "{created}");
    let wallet = &created["walletResult"];
    assert_eq!(wallet["alreadyMember"], false);
    let member_key = text(&wallet["hash"]);
    // The key works, and is the new member's: an Admin of nothing, a Member of the org.
    let (_, mine) = local.call(
        "GET",
        "api/v1/organizations/my-memberships",
        Some(&member_key),
        None,
    );
    assert_eq!(
        (&mine[0]["orgId"], &mine[0]["role"]),
        (&json!(org), &json!("Member")),
        "{mine}"
    );
    local.expect_error(
        create_user(
            &local,
            &member_key,
            None,
            json!({"uniqueExternalId": "ext-2"}),
        ),
        "BCK.ORG.0900",
    );
    local.expect_error(
        local.call(
            "POST",
            "api/v1/organizations/members",
            Some(&member_key),
            Some(&json!({})),
        ),
        "BCK.ORG.0900",
    );
    let (_, stranger) = local.new_account("stranger");
    local.expect_error(
        create_user(&local, &stranger, None, json!({"uniqueExternalId": "x"})),
        "BCK.ORG.0900",
    );
    // Naming an organization one is not a member of.
    local.expect_error(
        create_user(
            &local,
            &stranger,
            Some(&org),
            json!({"uniqueExternalId": "x"}),
        ),
        "BCK.PROTOCOL.0909",
    );
    // The same external id: that member, with a new key.
    let (status, again) = create_user(
        &local,
        &builder,
        Some(&org),
        json!({"uniqueExternalId": "ext-1"}),
    );
    assert_eq!(
        (status, &again["walletResult"]["alreadyMember"]),
        (201, &json!(true)),
        "{again}"
    );
    assert_eq!(again["walletResult"]["userWallet"], wallet["userWallet"]);
    assert_ne!(again["walletResult"]["hash"], wallet["hash"]);
    // Another account's email: refused, no key for someone else's account.
    local.expect_error(
        create_user(
            &local,
            &builder,
            None,
            json!({"uniqueExternalId": "ext-3", "email": "ann@example.com"}),
        ),
        "BCK.ORG.0901",
    );
    local.expect_error(
        create_user(
            &local,
            &builder,
            None,
            json!({"uniqueExternalId": "ext-4", "role": "Owner"}),
        ),
        "BCK.COMMON.0901",
    );
    local.expect_error(
        create_user(&local, &builder, None, json!({"email": "b@example.com"})),
        "BCK.COMMON.0903",
    );
    local.expect_error(
        create_user(
            &local,
            &builder,
            None,
            json!({"uniqueExternalId": "e", "as": "admin"}),
        ),
        "BCK.COMMON.0901",
    );
    // The members, filtered and paged.
    let (status, members) = local.call(
        "POST",
        "api/v1/organizations/members",
        Some(&builder),
        Some(&json!({"page": 1, "offset": 10})),
    );
    assert_eq!(status, 200, "{members}");
    assert_eq!(members["totalResults"], 2);
    let (_, only) = local.call(
        "POST",
        "api/v1/organizations/members",
        Some(&builder),
        Some(&json!({"role": "Member", "isActive": true})),
    );
    assert_eq!(only["totalResults"], 1);
    let member = &only["members"][0];
    assert_eq!(
        (
            &member["userAddress"],
            &member["uniqueExternalId"],
            &member["email"],
            &member["orgId"]
        ),
        (
            &wallet["userWallet"],
            &json!("ext-1"),
            &json!("ann@example.com"),
            &json!(org)
        )
    );
    assert_eq!(member["userId"], wallet["userId"]);
    let (_, feed) = local.call(
        "GET",
        &format!("api/v1/organizations/{org}/activity?eventType=member.joined"),
        Some(&member_key),
        None,
    );
    assert_eq!(
        (&feed["total"], &feed["items"][0]["subject"]["id"]),
        (&json!(1), &wallet["userId"]),
        "{feed}"
    );
    assert_eq!(
        feed["items"][0]["actorUserId"],
        json!(nvm_local::organizations::user_id(&local.address("builder")))
    );
}

#[test]
fn customers_get_a_key_unless_the_email_is_someone_elses() {
    let local = Local::start();
    let builder = local.key("builder");
    let (status, onboarded) = create_user(
        &local,
        &builder,
        None,
        json!({"email": "carol@example.com", "as": "customer"}),
    );
    assert_eq!(status, 201, "{onboarded}");
    let wallet = &onboarded["walletResult"];
    assert_eq!(
        (&wallet["isCustomer"], &wallet["customerRecorded"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(wallet["hash"], wallet["nvmApiKey"]);
    let key = text(&wallet["hash"]);
    let (status, _) = local.call("GET", "api/v1/payment-methods", Some(&key), None);
    assert_eq!(status, 200, "the customer's key works");
    // A customer takes no seat: not a member.
    let (_, mine) = local.call(
        "GET",
        "api/v1/organizations/my-memberships",
        Some(&key),
        None,
    );
    assert_eq!(mine, json!([]));
    // Returning: the same account, a new key.
    let (status, again) = create_user(
        &local,
        &builder,
        None,
        json!({"email": "CAROL@example.com", "as": "customer"}),
    );
    assert_eq!(
        (status, &again["walletResult"]["userWallet"]),
        (201, &wallet["userWallet"])
    );
    // Another organization's customer (or member): consent, and nothing of the account.
    let (_, other_admin) = local.new_account("other-admin");
    let (status, org) = local.call(
        "POST",
        "local/v1/organizations",
        None,
        Some(&json!({"name": "Other", "admin": "other-admin"})),
    );
    assert_eq!(status, 201, "{org}");
    let (status, consent) = create_user(
        &local,
        &other_admin,
        None,
        json!({"email": "carol@example.com", "as": "customer"}),
    );
    assert_eq!(status, 202, "{consent}");
    assert_eq!(
        consent["walletResult"],
        json!({"alreadyMember": false, "consentRequired": true})
    );
    local.expect_error(
        create_user(
            &local,
            &builder,
            None,
            json!({"email": "not-an-email", "as": "customer"}),
        ),
        "BCK.COMMON.0901",
    );
}

#[test]
fn the_feed_is_for_its_admins_and_members_and_filters() {
    let local = Local::start();
    let (builder, org) = (local.key("builder"), demo_org(&local));
    let (_, stranger) = local.new_account("stranger");
    let feed_path = format!("api/v1/organizations/{org}/activity");
    local.expect_error(
        local.call("GET", &feed_path, Some(&stranger), None),
        "BCK.PROTOCOL.0909",
    );
    local.expect_error(
        local.call(
            "GET",
            "api/v1/organizations/org-unknown/activity",
            Some(&builder),
            None,
        ),
        "BCK.PROTOCOL.0909",
    );
    local.expect_error(
        local.call(
            "GET",
            &format!("api/v1/protocol/plans?orgId={org}"),
            Some(&stranger),
            None,
        ),
        "BCK.PROTOCOL.0909",
    );
    // A Client of the organization publishes nothing into it and can't read the feed.
    let (_, client) = create_user(
        &local,
        &builder,
        None,
        json!({"uniqueExternalId": "c-1", "role": "Client"}),
    );
    let client = text(&client["walletResult"]["hash"]);
    local.expect_error(
        local.call("GET", &feed_path, Some(&client), None),
        "BCK.PROTOCOL.0909",
    );
    // An order of the organization's plan is recorded, with who bought it.
    let subscriber = local.key("subscriber");
    local.order(&subscriber, &local.free_plan());
    let (_, bought) = local.call(
        "GET",
        &format!("{feed_path}?eventType=plan.purchased"),
        Some(&builder),
        None,
    );
    assert_eq!(bought["total"], 1, "{bought}");
    let event = &bought["items"][0];
    assert_eq!(
        (
            &event["subject"]["id"],
            &event["actorUserId"],
            &event["metadata"]["credits"]
        ),
        (
            &json!(local.free_plan()),
            &json!(nvm_local::organizations::user_id(
                &local.address("subscriber")
            )),
            &json!(10)
        )
    );
    let actor = text(&event["actorUserId"]);
    let (_, by) = local.call(
        "GET",
        &format!("{feed_path}?actorUserId={actor}"),
        Some(&builder),
        None,
    );
    assert_eq!(by["total"], 1);
    // Time bounds: from inclusive, to exclusive; newest first; paged.
    let (_, all) = local.call("GET", &feed_path, Some(&builder), None);
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 6, "{all}");
    let newest = text(&all["items"][0]["occurredAt"]);
    let (_, from) = local.call(
        "GET",
        &format!("{feed_path}?from={newest}"),
        Some(&builder),
        None,
    );
    assert!(from["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["occurredAt"].as_str().unwrap() >= newest.as_str()));
    let (_, before) = local.call(
        "GET",
        &format!("{feed_path}?to=2000-01-01T00:00:00Z"),
        Some(&builder),
        None,
    );
    assert_eq!(before["total"], 0);
    let (_, page) = local.call(
        "GET",
        &format!("{feed_path}?page=2&limit=2"),
        Some(&builder),
        None,
    );
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().map(Vec::len)
        ),
        (Some(total), Some(2))
    );
    local.expect_error(
        local.call(
            "GET",
            &format!("{feed_path}?from=yesterday"),
            Some(&builder),
            None,
        ),
        "BCK.COMMON.0901",
    );
    // A plan published with X-Current-Org-Id of another organization goes there.
    let (_, other) = local.call(
        "POST",
        "local/v1/organizations",
        None,
        Some(&json!({"name": "Second", "admin": "builder"})),
    );
    let second = text(&other["orgId"]);
    let auth = format!("Bearer {builder}");
    let body = json!({"metadataAttributes": {"name": "In second"}, "priceConfig": nvm_x402::api::plans::free_price_config(), "creditsConfig": nvm_x402::api::plans::fixed_credits_config(10u64.into(), 1u64.into()), "nonce": "5", "isTrialPlan": false, "accessLimit": "credits"});
    let (status, _, _) = send(
        &local.agent,
        "POST",
        &local.url("api/v1/protocol/plans"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &auth),
            ("X-Current-Org-Id", &second),
        ],
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(status, 201);
    let (_, in_second) = local.call(
        "GET",
        &format!("api/v1/protocol/plans?orgId={second}"),
        Some(&builder),
        None,
    );
    assert_eq!(in_second["plans"][0]["name"], "In second", "{in_second}");
    let (_, in_demo) = local.call(
        "GET",
        &format!("api/v1/protocol/plans?orgId={org}"),
        Some(&builder),
        None,
    );
    assert_eq!(
        in_demo["total"],
        local.world()["plans"].as_object().unwrap().len()
    );
}

#[test]
fn stripe_connect_links_go_back_to_the_caller() {
    let local = Local::start();
    let builder = local.key("builder");
    let body = json!({"userEmail": "b@example.com", "userCountryCode": "es", "returnUrl": "https://app.example/back?x=1#done"});
    let (status, link) = local.call(
        "POST",
        "api/v1/fiat/stripe/account",
        Some(&builder),
        Some(&body),
    );
    assert_eq!(status, 201, "{link}");
    let account = text(&link["stripeAccountId"]);
    assert_eq!(
        link["stripeAccountLink"],
        format!("https://app.example/back?x=1&stripeAccountId={account}#done")
    );
    assert_eq!(link["userCountryCode"], "ES");
    assert_eq!(
        link["linkExpiresAt"].as_i64().unwrap() - link["linkCreatedAt"].as_i64().unwrap(),
        300_000
    );
    // A Member (not an Admin) of the organization it acts in may not.
    let (_, member) = create_user(&local, &builder, None, json!({"uniqueExternalId": "m"}));
    let member = text(&member["walletResult"]["hash"]);
    local.expect_error(
        local.call(
            "POST",
            "api/v1/fiat/stripe/account",
            Some(&member),
            Some(&body),
        ),
        "BCK.ORG.0900",
    );
    // A personal account may.
    let (status, _) = local.call(
        "POST",
        "api/v1/fiat/stripe/account",
        Some(&local.key("subscriber")),
        Some(&body),
    );
    assert_eq!(status, 201);
    for bad in [
        json!({"userEmail": "b@example.com", "userCountryCode": "Spain", "returnUrl": "https://a.example/"}),
        json!({"userEmail": "b@example.com", "userCountryCode": "ES", "returnUrl": "javascript:alert(1)"}),
        json!({"userEmail": "nobody", "userCountryCode": "ES", "returnUrl": "https://a.example/"}),
    ] {
        local.expect_error(
            local.call(
                "POST",
                "api/v1/fiat/stripe/account",
                Some(&builder),
                Some(&bad),
            ),
            "BCK.COMMON.0901",
        );
    }
}

#[test]
fn the_rust_client_drives_the_organization_calls() {
    let local = Local::start();
    let builder = local.client(&local.key("builder"));
    let org = demo_org(&local);
    let run = |pending: nvm_x402::payments::Pending<'_, HttpTransport>| {
        pollster::block_on(pending.send()).map(serde_json::Value::from)
    };
    let mine = run(builder.get_my_memberships()).unwrap();
    assert_eq!(
        (&mine[0]["orgId"], &mine[0]["isAdmin"]),
        (&json!(org), &json!(true))
    );
    let member =
        run(builder.create_member("ext-9", Some("zed@example.com"), Some("Member"))).unwrap();
    let key = text(&member["nvmApiKey"]);
    assert_eq!(member["nvmApiKey"], member["hash"]);
    let as_member = local.client(&key);
    assert_eq!(
        as_member.config().api_key.subject(),
        member["userWallet"].as_str()
    );
    let err = run(as_member.create_member("x", None, None)).unwrap_err();
    assert_eq!(err.code(), "BCK.ORG.0900");
    let members = run(builder.get_members(
        Some("Member"),
        &nvm_x402::json!(true),
        &nvm_x402::json!(1),
        &nvm_x402::json!(10),
    ))
    .unwrap();
    assert_eq!(
        (&members["total"], &members["members"][0]["userAddress"]),
        (&json!(1), &member["userWallet"])
    );
    let customer = run(builder.onboard_customer("yan@example.com")).unwrap();
    assert_eq!(customer["consentRequired"], false);
    assert!(customer["nvmApiKey"]
        .as_str()
        .unwrap()
        .starts_with("local:"));
    // Someone else's email: consent alone.
    let (_, other) = local.new_account("other");
    local.call(
        "POST",
        "local/v1/organizations",
        None,
        Some(&json!({"name": "Other", "admin": "other"})),
    );
    let consent = run(local.client(&other).onboard_customer("yan@example.com")).unwrap();
    assert_eq!(consent, json!({"consentRequired": true}));
    let feed = run(as_member.get_organization_activity(
        &org,
        &nvm_x402::json!({"eventType": ["member.joined", "customer.added"]}),
    ))
    .unwrap();
    assert_eq!(feed["total"], 2, "{feed}");
    let link =
        run(builder.connect_stripe_account("b@example.com", "US", "https://app.example/back"))
            .unwrap();
    assert_eq!(link["userCountryCode"], "US");
}
