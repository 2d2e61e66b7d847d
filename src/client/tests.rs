//! The paying client's decisions against a scripted backend: which token goes
//! on which attempt, how many mints happen, and when it stops.

use super::*;
use crate::json;
use crate::protocol::{
    build_payment_required_for_plans, encode_access_token, encode_payment_header, BuildOptions,
};
use crate::transport::mock::MockTransport;
use crate::transport::HttpResponse;
use std::cell::Cell;
use std::rc::Rc;

const KEY: &str = "local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweHN1YiJ9.c2ln";
pub(super) const AGENT_URL: &str = "http://127.0.0.1:8787/tasks";

pub(super) fn payments() -> Payments<MockTransport> {
    MockTransport::client(KEY)
}

/// A backend that mints numbered tokens and has no delegations yet.
pub(super) fn backend(p: &Payments<MockTransport>) -> Rc<Cell<u32>> {
    let minted = Rc::new(Cell::new(0));
    let counter = Rc::clone(&minted);
    p.transport().on("POST", "/api/v1/x402/permissions", move |r| {
        counter.set(counter.get() + 1);
        let body: Value = crate::protocol::json::parse(r.body.as_deref().unwrap()).unwrap();
        let mut token = json!({"x402Version": 2, "accepted": body["accepted"].clone(), "payload": {"authorization": {"from": "0xsub", "seq": counter.get()}}});
        if body["tokenVersion"] == 3 {
            token["payload"]["authorization"]["nonce"] = json!(format!("n{}", counter.get()));
            token["resource"] = body["resource"].clone();
        }
        Ok(HttpResponse { status: 201, body: json!({"accessToken": encode_access_token(token.as_object().unwrap())}).to_string() })
    });
    p.transport().json(
        "GET",
        "/api/v1/delegation",
        200,
        json!({"delegations": [], "totalResults": 0, "page": 1, "offset": 0}),
    );
    p.transport().json(
        "POST",
        "/api/v1/delegation/create",
        201,
        json!({"delegationId": "del-new"}),
    );
    minted
}

pub(super) fn payment_required(plans: &[&str], agent: Option<&str>) -> String {
    let pr = build_payment_required_for_plans(
        plans,
        &BuildOptions {
            endpoint: Some(AGENT_URL.into()),
            agent_id: agent.map(Into::into),
            http_verb: Some("POST".into()),
            ..Default::default()
        },
    )
    .unwrap();
    encode_payment_header(&pr).unwrap()
}

/// Options that let the agent pick any of its plans (`anyPlan`: the caller's explicit opt-in).
fn any() -> Value {
    json!({"anyPlan": true})
}

fn req(url: &str) -> Value {
    json!({"url": url, "method": "POST", "hasToken": false})
}

fn after(status: u16, pr: Option<&str>, source: Option<&str>) -> Value {
    json!({"status": status, "paymentRequired": pr, "source": source})
}

/// The decision as these tests script it, in JSON: `request` `{url, method,
/// hasToken}`, `last` `null` or `{status, paymentRequired, paymentResponse
/// (headers), source}`; answers `{action: "send", token?, source?}` or `{action: "stop"}`.
async fn next_step(
    p: &Payments<MockTransport>,
    request: &Value,
    options: &Value,
    last: &Value,
) -> Result<Value> {
    let req = Outgoing::from_json(request)?;
    let opts = PayOptions::from_json(options)?;
    let header = |k: &str| {
        last.get(k)
            .and_then(Value::as_str)
            .and_then(|h| crate::protocol::decode_payment_header(h).ok())
    };
    let outcome = (!last.is_null()).then(|| Outcome {
        status: last["status"].as_u64().unwrap() as u16,
        payment_required: header("paymentRequired"),
        payment_response: header("paymentResponse"),
        source: match last.get("source").and_then(Value::as_str) {
            Some("cache") => Some(Source::Cache),
            Some("fresh") => Some(Source::Fresh),
            Some("ahead") => Some(Source::Ahead),
            _ => None,
        },
    });
    Ok(
        match super::next_step(p, &req, &opts, outcome.as_ref()).await? {
            Step::Stop => json!({"action": "stop"}),
            Step::Send(None) => json!({"action": "send"}),
            Step::Send(Some((token, source))) => {
                json!({"action": "send", "token": token, "source": match source {
                    Source::Cache => "cache",
                    Source::Fresh => "fresh",
                    Source::Ahead => "ahead",
                }})
            }
        },
    )
}

pub(super) fn run<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

fn step(p: &Payments<MockTransport>, request: &Value, options: &Value, last: &Value) -> Value {
    run(next_step(p, request, options, last)).unwrap()
}

fn seq_of(token: &str) -> u64 {
    crate::protocol::decode_access_token(token).unwrap()["payload"]["authorization"]["seq"]
        .as_u64()
        .unwrap()
}

#[test]
fn pays_on_402_then_reuses_the_token_up_front() {
    let p = payments();
    let minted = backend(&p);
    let pr = payment_required(&["10"], Some("agent-1"));
    // First call: unpaid attempt, 402, one mint, paid attempt, done.
    assert_eq!(
        step(&p, &req(AGENT_URL), &any(), &Value::Null),
        json!({"action": "send"})
    );
    let paid = step(&p, &req(AGENT_URL), &any(), &after(402, Some(&pr), None));
    assert_eq!(
        (paid["action"].as_str(), paid["source"].as_str()),
        (Some("send"), Some("fresh"))
    );
    assert_eq!(
        step(
            &p,
            &req(AGENT_URL),
            &any(),
            &after(200, None, Some("fresh"))
        ),
        json!({"action": "stop"})
    );
    // The mint asked for the entry's plan, agent, scheme and network, with a delegation made for it.
    let body = p.transport().last_body("/permissions");
    assert_eq!(
        body["accepted"],
        json!({"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": "10", "extra": {"agentId": "agent-1"}})
    );
    assert_eq!(body["delegationConfig"], json!({"delegationId": "del-new"}));
    // Second call to the same URL: the cached token goes out on the first attempt; no new mint.
    let again = step(
        &p,
        &req(&format!("{AGENT_URL}?page=2")),
        &any(),
        &Value::Null,
    );
    // A later call that does not allow that plan gets no token up front.
    assert_eq!(
        step(&p, &req(AGENT_URL), &Value::Null, &Value::Null),
        json!({"action": "send"})
    );
    assert_eq!(
        (again["source"].as_str(), again["token"].as_str()),
        (Some("cache"), paid["token"].as_str())
    );
    assert_eq!(minted.get(), 1);
    assert_eq!(p.transport().count("/delegation/create"), 1);
}

#[test]
fn a_cached_token_refused_is_dropped_and_one_fresh_mint_tried() {
    let p = payments();
    let minted = backend(&p);
    let pr = payment_required(&["10"], None);
    let first = step(&p, &req(AGENT_URL), &any(), &after(402, Some(&pr), None));
    let cached = step(&p, &req(AGENT_URL), &any(), &Value::Null);
    assert_eq!(cached["token"], first["token"]);
    let fresh = step(
        &p,
        &req(AGENT_URL),
        &any(),
        &after(402, Some(&pr), Some("cache")),
    );
    assert_eq!(fresh["source"], "fresh");
    assert_eq!(seq_of(fresh["token"].as_str().unwrap()), 2, "a new token");
    // A fresh token answered with 402: stop, no loop.
    assert_eq!(
        step(
            &p,
            &req(AGENT_URL),
            &any(),
            &after(402, Some(&pr), Some("fresh"))
        ),
        json!({"action": "stop"})
    );
    assert_eq!(minted.get(), 2);
}

#[test]
fn v3_tokens_are_minted_for_every_paid_attempt_and_bound_to_the_request() {
    let p = payments();
    let minted = backend(&p);
    let options = json!({"planIds": ["10"], "tokenOptions": {"tokenVersion": 3}});
    let pr = payment_required(&["10"], Some("agent-1"));
    for round in 1..=3u64 {
        let s = step(&p, &req(AGENT_URL), &options, &after(402, Some(&pr), None));
        assert_eq!(seq_of(s["token"].as_str().unwrap()), round);
    }
    assert_eq!(minted.get(), 3);
    let body = p.transport().last_body("/permissions");
    assert_eq!(
        (
            body["tokenVersion"].as_u64(),
            body["resource"]["url"].as_str(),
            body["accepted"]["extra"]["httpVerb"].as_str()
        ),
        (Some(3), Some(AGENT_URL), Some("POST"))
    );
    // Even a URL known to want payment gets no cached v3 token up front: it mints.
    let eager = step(&p, &req(AGENT_URL), &options, &Value::Null);
    assert_eq!(eager["source"], "fresh");
}

#[test]
fn one_allowed_plan_pays_on_the_first_request_without_probing_for_the_402() {
    let p = payments();
    let minted = backend(&p);
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/10",
        200,
        json!({"id": "10", "registry": {"price": {"isCrypto": true}}}),
    );
    // A URL never seen: one plan allowed, so the first attempt already carries a fresh token.
    let first = step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["10"], "agentId": "agent-1"}),
        &Value::Null,
    );
    assert_eq!(
        (first["action"].as_str(), first["source"].as_str()),
        (Some("send"), Some("ahead"))
    );
    let body = p.transport().last_body("/permissions");
    assert_eq!(
        (
            body["accepted"]["planId"].as_str(),
            body["accepted"]["scheme"].as_str()
        ),
        (Some("10"), Some("nvm:erc4337"))
    );
    // Refused with a 402 for exactly what it was minted for: refused on its merits, no second mint.
    let options = json!({"planIds": ["10"], "agentId": "agent-1"});
    let pr = payment_required(&["10"], Some("agent-1"));
    let refused = after(402, Some(&pr), Some("ahead"));
    assert_eq!(
        step(&p, &req(AGENT_URL), &options, &refused),
        json!({"action": "stop"})
    );
    assert_eq!(minted.get(), 1);
    // The 402 asks for something else (another network): it informs, once — a fresh mint, then no more.
    let mainnet = encode_payment_header(
        &build_payment_required_for_plans(
            &["10"],
            &BuildOptions {
                endpoint: Some(AGENT_URL.into()),
                agent_id: Some("agent-1".into()),
                network: Some("eip155:8453".into()),
                ..Default::default()
            },
        )
        .unwrap(),
    )
    .unwrap();
    let informed = step(
        &p,
        &req(AGENT_URL),
        &options,
        &after(402, Some(&mainnet), Some("ahead")),
    );
    assert_eq!(informed["source"], "fresh");
    assert_eq!(minted.get(), 2);
    assert_eq!(
        p.transport().last_body("/permissions")["accepted"]["network"],
        "eip155:8453"
    );
    assert_eq!(
        step(
            &p,
            &req(AGENT_URL),
            &options,
            &after(402, Some(&mainnet), Some("fresh"))
        ),
        json!({"action": "stop"})
    );
    assert_eq!(minted.get(), 2);
    // A single-use token needs an agent to be bound to: without agentId, probe for the 402 first.
    let v3 = json!({"planIds": ["10"], "tokenOptions": {"tokenVersion": 3}});
    assert_eq!(
        step(&p, &req("http://127.0.0.1:8789/v3"), &v3, &Value::Null),
        json!({"action": "send"})
    );
    assert_eq!(minted.get(), 2);
    // Two plans (the agent's 402 decides), anyPlan, or eager: false: probe first, mint nothing.
    let other = "http://127.0.0.1:8788/other";
    for options in [
        json!({"planIds": ["10", "20"]}),
        json!({"planIds": ["10"], "anyPlan": true}),
        json!({"planIds": ["10"], "eager": false}),
    ] {
        assert_eq!(
            step(&p, &req(other), &options, &Value::Null),
            json!({"action": "send"}),
            "{options}"
        );
    }
    assert_eq!(minted.get(), 2);
}

#[test]
fn a_request_carrying_its_own_token_is_never_retried() {
    let p = payments();
    backend(&p);
    let mine = json!({"url": AGENT_URL, "method": "POST", "hasToken": true});
    assert_eq!(
        step(&p, &mine, &any(), &Value::Null),
        json!({"action": "send"})
    );
    assert_eq!(
        step(
            &p,
            &mine,
            &any(),
            &after(402, Some(&payment_required(&["10"], None)), None)
        ),
        json!({"action": "stop"})
    );
    assert_eq!(p.transport().sent.borrow().len(), 0);
}

#[test]
fn tokens_only_travel_over_https_or_to_loopback() {
    let p = payments();
    backend(&p);
    let pr = payment_required(&["10"], None);
    let err = run(next_step(
        &p,
        &req("http://agent.example/tasks"),
        &any(),
        &after(402, Some(&pr), None),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "insecure_transport");
    assert_eq!(
        p.transport().count("/permissions"),
        0,
        "refused before minting"
    );
    for ok in [
        "https://agent.example/tasks",
        "http://localhost:8787/tasks",
        "http://[::1]:8787/tasks",
    ] {
        assert_eq!(
            step(&p, &req(ok), &any(), &after(402, Some(&pr), None))["action"],
            "send",
            "{ok}"
        );
    }
}

#[test]
fn only_allowed_plans_and_the_callers_agent_are_paid() {
    let p = payments();
    backend(&p);
    let pr = payment_required(&["10", "20"], Some("agent-1"));
    let s = step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["20"]}),
        &after(402, Some(&pr), None),
    );
    assert_eq!(
        crate::protocol::decode_access_token(s["token"].as_str().unwrap()).unwrap()["accepted"]
            ["planId"],
        "20"
    );
    // Audit #9.6: the agent never picks the plan. Another plan, no planIds at
    // all, or another agent than the caller's: a plan_not_allowed error, no mint.
    let mints = p.transport().count("/permissions");
    for options in [
        json!({"planIds": ["30"]}),
        json!(null),
        json!({}),
        json!({"anyPlan": false}),
        json!({"anyPlan": true, "agentId": "agent-2"}),
        json!({"planIds": ["10"], "agentId": "agent-2"}),
    ] {
        let err = run(next_step(
            &p,
            &req(AGENT_URL),
            &options,
            &after(402, Some(&pr), None),
        ))
        .unwrap_err();
        assert_eq!(err.code(), "plan_not_allowed", "{options}");
        assert!(err.to_string().contains("plan 10 or 20"), "{err}");
        assert_eq!(err.details().unwrap()["accepts"][0]["planId"], "10");
        assert!(err.hint().contains("planIds"));
    }
    assert_eq!(p.transport().count("/permissions"), mints);
    // anyPlan is the explicit opt-in to the agent's first offer.
    let s = step(&p, &req(AGENT_URL), &any(), &after(402, Some(&pr), None));
    assert_eq!(
        crate::protocol::decode_access_token(s["token"].as_str().unwrap()).unwrap()["accepted"]
            ["planId"],
        "10"
    ); // A 402 without a usable payment-required: nothing to pay.
    assert_eq!(
        step(&p, &req(AGENT_URL), &any(), &after(402, None, None)),
        json!({"action": "stop"})
    );
    assert_eq!(
        step(
            &p,
            &req(AGENT_URL),
            &any(),
            &after(402, Some("garbage"), None)
        ),
        json!({"action": "stop"})
    );
    // Standard (non-Nevermined) entries are not ours to pay.
    let standard = encode_payment_header(&json!({"x402Version": 2, "resource": {"url": AGENT_URL}, "accepts": [{"scheme": "exact", "network": "eip155:84532", "amount": "1"}]})).unwrap();
    assert_eq!(
        step(
            &p,
            &req(AGENT_URL),
            &any(),
            &after(402, Some(&standard), None)
        ),
        json!({"action": "stop"})
    );
}

#[test]
fn max_credits_refuses_a_pricier_entry() {
    let p = payments();
    backend(&p);
    with_plan(&p, "10", 5);
    let pr = encode_payment_header(&json!({"x402Version": 2, "resource": {"url": AGENT_URL}, "accepts": [{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": "10", "amount": "5", "extra": {"version": "1"}}]})).unwrap();
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["10"], "maxCredits": 3}),
        &after(402, Some(&pr), None),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded");
    assert!(err.to_string().contains("maxCredits"), "{err}");
    assert_eq!(
        step(
            &p,
            &req(AGENT_URL),
            &json!({"planIds": ["10"], "maxCredits": "5"}),
            &after(402, Some(&pr), None)
        )["action"],
        "send"
    );
}

/// `GET plans/:id` answers a credits plan whose requests cost up to `max` credits.
pub(super) fn with_plan(p: &Payments<MockTransport>, plan: &str, max: u64) {
    p.transport().json(
        "GET",
        &format!("/api/v1/protocol/plans/{plan}"),
        200,
        json!({"id": plan, "registry": {"price": {"isCrypto": true}, "credits": {"amount": "100", "minAmount": "1", "maxAmount": max.to_string()}}}),
    );
}

#[test]
fn max_credits_holds_for_nevermined_plans_before_and_after_paying() {
    // Audit #9.6: Nevermined entries state no amount; the plan says what a request costs.
    let p = payments();
    let minted = backend(&p);
    with_plan(&p, "10", 10);
    with_plan(&p, "20", 2);
    let pricey = payment_required(&["10"], Some("agent-1"));
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["10"], "maxCredits": 3}),
        &after(402, Some(&pricey), None),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded");
    assert!(
        err.to_string()
            .contains("Plan 10 charges up to 10 credits per request, more than maxCredits (3)"),
        "{err}"
    );
    assert_eq!(minted.get(), 0, "refused before minting");
    // Within the cap: paid.
    let cheap = payment_required(&["20"], Some("agent-1"));
    // (Probing first, so the cache's part is seen on its own.)
    let options = json!({"planIds": ["20"], "maxCredits": 3, "eager": false});
    let paid = step(
        &p,
        &req(AGENT_URL),
        &options,
        &after(402, Some(&cheap), None),
    );
    assert_eq!(paid["source"], "fresh");
    // The agent burned 2: fine, the token stays cached.
    let receipt = |burned: &str| {
        encode_payment_header(&json!({"success": true, "transaction": "0xtx", "network": "eip155:84532", "creditsRedeemed": burned})).unwrap()
    };
    let ok = json!({"status": 200, "paymentRequired": null, "source": "fresh", "paymentResponse": receipt("2")});
    assert_eq!(
        step(&p, &req(AGENT_URL), &options, &ok),
        json!({"action": "stop"})
    );
    assert_eq!(
        step(&p, &req(AGENT_URL), &options, &Value::Null)["source"],
        "cache"
    );
    // It burned 9 on a plan that says 2: an error, and that token is not sent again.
    let over = json!({"status": 200, "paymentRequired": null, "source": "cache", "paymentResponse": receipt("9")});
    let err = run(next_step(&p, &req(AGENT_URL), &options, &over)).unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded");
    assert!(err.to_string().contains("burned 9 credits"), "{err}");
    assert_eq!(err.details().unwrap()["creditsRedeemed"], "9");
    assert_eq!(
        step(&p, &req(AGENT_URL), &options, &Value::Null),
        json!({"action": "send"}),
        "no cached token goes out up front any more"
    );
    // A plan that does not say its price can't be checked against a cap: refused.
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/30",
        200,
        json!({"id": "30", "registry": {"price": {"isCrypto": true}}}),
    );
    let silent = payment_required(&["30"], None);
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["30"], "maxCredits": 5}),
        &after(402, Some(&silent), None),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded");
    // Paying up front (queryAgent) checks the plan too.
    let err = run(next_step(
        &p,
        &req("http://127.0.0.1:8787/other"),
        &json!({"planIds": ["10"], "maxCredits": 3, "eager": true}),
        &Value::Null,
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded");
    assert_eq!(minted.get(), 1);
}

#[test]
fn delegations_are_reused_across_instances_and_never_renewed_while_active() {
    // Audit #9.6: a new Payments instance (a reload, a new process) must not
    // open a fresh budget each time; a spent budget is not replaced.
    let p = payments();
    backend(&p);
    p.transport().json(
        "GET",
        "/api/v1/delegation",
        200,
        json!([{"delegationId": "del-card", "provider": "stripe", "status": "Active", "remainingBudgetCents": "900"}, {"delegationId": "del-spent", "provider": "erc4337", "status": "active", "remainingBudgetCents": "0"}, {"delegationId": "del-ok", "provider": "erc4337", "status": "active", "remainingBudgetCents": 500}, {"delegationId": "del-old", "provider": "erc4337", "status": "expired", "remainingBudgetCents": 500}]),
    );
    let pr = payment_required(&["10"], None);
    step(&p, &req(AGENT_URL), &any(), &after(402, Some(&pr), None));
    assert_eq!(
        p.transport().last_body("/permissions")["delegationConfig"]["delegationId"],
        "del-ok",
        "the active one with budget left"
    );
    // Only a spent one: it is still the one used (the agent's settle will be refused).
    let p = payments();
    backend(&p);
    p.transport().json(
        "GET",
        "/api/v1/delegation",
        200,
        json!({"delegations": [{"delegationId": "del-spent", "provider": "erc4337", "status": "Active", "remainingBudgetCents": "0"}], "totalResults": 1, "page": 1, "offset": 0}),
    );
    step(&p, &req(AGENT_URL), &any(), &after(402, Some(&pr), None));
    assert_eq!(
        p.transport().last_body("/permissions")["delegationConfig"]["delegationId"],
        "del-spent"
    );
    // The backend says its budget is too low: an error, and no new delegation.
    p.transport().json(
        "POST",
        "/api/v1/x402/permissions",
        400,
        json!({"code": "BCK.X402.0023", "message": "Delegation budget too low", "httpStatus": 400}),
    );
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &any(),
        &after(402, Some(&pr), Some("cache")),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "BCK.X402.0023");
    assert_eq!(p.transport().count("/delegation/create"), 0);
    // An expired one is replaced once, with the small default budget.
    p.transport().on("POST", "/api/v1/x402/permissions", |r| {
        if r.body.as_deref().unwrap().contains("del-spent") {
            return Ok(HttpResponse { status: 400, body: json!({"code": "BCK.X402.0013", "message": "Delegation expired", "httpStatus": 400}).to_string() });
        }
        Ok(HttpResponse { status: 201, body: json!({"accessToken": "e30"}).to_string() })
    });
    let s = step(
        &p,
        &req(AGENT_URL),
        &any(),
        &after(402, Some(&pr), Some("cache")),
    );
    assert_eq!(s["token"], "e30");
    assert_eq!(p.transport().count("/delegation/create"), 1);
    let created = p.transport().last_body("/delegation/create");
    assert_eq!(
        (
            created["spendingLimitCents"].as_u64(),
            created["durationSecs"].as_u64()
        ),
        (
            Some(DEFAULT_SPENDING_LIMIT_CENTS),
            Some(DEFAULT_DELEGATION_SECS)
        )
    );
    assert_eq!(
        (DEFAULT_SPENDING_LIMIT_CENTS, DEFAULT_DELEGATION_SECS),
        (100, 3600)
    );
}

#[test]
fn fiat_plans_pay_up_front_with_the_first_enrolled_card() {
    let p = payments();
    backend(&p);
    p.transport().json("GET", "/api/v1/protocol/plans/77", 200, json!({"registry": {"price": {"isCrypto": false}}, "metadata": {"plan": {"fiatPaymentProvider": "stripe"}}}));
    p.transport().json("GET", "/api/v1/payment-methods", 200, json!([{"id": "wallet-1", "type": "crypto_wallet", "brand": "ethereum"}, {"id": "pm_card", "type": "card", "brand": "visa", "last4": "4242"}]));
    let options =
        json!({"planIds": ["77"], "agentId": "agent-1", "eager": true, "paymentType": "fiat"});
    let s = step(&p, &req(AGENT_URL), &options, &Value::Null);
    assert_eq!(s["source"], "ahead");
    let body = p.transport().last_body("/delegation/create");
    assert_eq!(
        (
            body["provider"].as_str(),
            body["providerPaymentMethodId"].as_str(),
            body["currency"].as_str()
        ),
        (Some("stripe"), Some("pm_card"), Some("usd"))
    );
    let token = crate::protocol::decode_access_token(s["token"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            token["accepted"]["scheme"].as_str(),
            token["accepted"]["network"].as_str()
        ),
        (Some("nvm:card-delegation"), Some("stripe"))
    );
    // Without an enrolled card there is nothing to pay with: a clear error.
    let p = payments();
    backend(&p);
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/77",
        200,
        json!({"registry": {"price": {"isCrypto": false}}}),
    );
    p.transport().json(
        "GET",
        "/api/v1/payment-methods",
        200,
        json!([{"id": "wallet-1", "type": "crypto_wallet"}]),
    );
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["77"], "eager": true, "paymentType": "fiat"}),
        &Value::Null,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("No enrolled card"), "{err}");
    assert_eq!(p.transport().count("/permissions"), 0);
}

#[test]
fn query_answers_become_values_or_errors() {
    assert_eq!(
        conclude_query(200, r#"{"answer":42}"#, None).unwrap(),
        json!({"answer": 42})
    );
    assert_eq!(
        conclude_query(200, "plain text", None).unwrap(),
        json!("plain text")
    );
    let pr = payment_required(&["10"], None);
    let err = conclude_query(
        402,
        r#"{"error":"Payment Required","message":"Insufficient balance"}"#,
        crate::protocol::decode_payment_header(&pr).ok(),
    )
    .unwrap_err();
    assert_eq!(
        (err.code().as_ref(), err.http_status()),
        ("payment_required", Some(402))
    );
    assert!(err.to_string().contains("Insufficient balance"), "{err}");
    let hint = err.hint();
    assert!(hint.contains("orderPlan"), "{hint}");
    assert!(
        !err.to_string().contains(hint.as_ref()) && !hint.contains(&err.to_string()),
        "message and hint say different things"
    );
    assert_eq!(err.details().unwrap()["accepts"][0]["planId"], "10");
    // An agent whose URL is not registered: a misconfiguration, not a plan to order.
    let err = conclude_query(
        402,
        r#"{"message":"http://127.0.0.1:9/x is not an endpoint of agent a-1 (registered: POST http://127.0.0.1:8/x)"}"#,
        None,
    )
    .unwrap_err();
    let hint = err.hint();
    assert!(
        hint.contains("has not registered this URL") && !hint.contains("orderPlan"),
        "{hint}"
    );
    let err = conclude_query(500, r#"{"error":"boom"}"#, None).unwrap_err();
    assert_eq!(
        (err.code().as_ref(), err.to_string().as_str()),
        ("http_500", "The agent answered HTTP 500: boom")
    );
}

#[test]
fn mcp_calls_carry_the_decoded_token_and_receipts_come_back() {
    let token = encode_access_token(
        json!({"x402Version": 2, "accepted": {"planId": "10"}})
            .as_object()
            .unwrap(),
    );
    let call = mcp_tool_call(
        &json!(7),
        "weather",
        &json!({"city": "Barcelona"}),
        Some(&token),
        false,
    )
    .unwrap();
    assert_eq!(
        call,
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "weather", "arguments": {"city": "Barcelona"}, "_meta": {"x402/payment": {"x402Version": 2, "accepted": {"planId": "10"}}}}})
    );
    // 2026-07-28: the envelope next to the payment; unpaid 2025: no _meta at all.
    let modern = mcp_tool_call(&json!(7), "weather", &Value::Null, Some(&token), true).unwrap();
    let meta = &modern["params"]["_meta"];
    assert_eq!(
        meta["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    assert_eq!(meta["x402/payment"]["accepted"]["planId"], "10");
    let unpaid = mcp_tool_call(&json!(7), "weather", &Value::Null, None, false).unwrap();
    assert_eq!(
        unpaid["params"],
        json!({"name": "weather", "arguments": {}})
    );
    let ok = json!({"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": "sunny"}], "_meta": {"x402/payment-response": {"success": true, "creditsRedeemed": "1"}}}});
    let read = mcp_read_result(&ok.to_string()).unwrap();
    assert_eq!(
        read.payment_response.as_ref().unwrap()["creditsRedeemed"],
        "1"
    );
    let sse = format!("event: message\ndata: {ok}\n\n");
    assert_eq!(mcp_read_result(&sse).unwrap(), read);
    let pr = build_payment_required_for_plans(&["10"], &BuildOptions::default()).unwrap();
    let needs =
        json!({"jsonrpc": "2.0", "id": 7, "result": {"isError": true, "structuredContent": pr}});
    assert_eq!(
        mcp_read_result(&needs.to_string())
            .unwrap()
            .payment_required,
        pr.as_object().cloned()
    );
    assert_eq!(
        mcp_read_result(r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}"#)
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    assert!(mcp_tool_call(&json!(1), "t", &Value::Null, Some("garbage"), false).is_err());
}

/// The agent the token of a `send` step was minted for.
fn agent_of(step: &Value) -> Option<String> {
    let token = step["token"].as_str().expect("a token was sent");
    crate::protocol::decode_access_token(token).unwrap()["accepted"]["extra"]["agentId"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn a_calls_agent_id_wins_over_what_the_url_remembers() {
    // Issue #20, item 3: a URL paid once without agentId, then called with agentId, v2 and v3.
    for version in [2, 3] {
        let p = payments();
        let minted = backend(&p);
        let token_options = json!({"tokenVersion": version});
        // The agent's 402 names no agent; the first call names none either.
        let first = json!({"planIds": ["10"], "eager": false, "tokenOptions": token_options});
        assert_eq!(
            step(&p, &req(AGENT_URL), &first, &Value::Null),
            json!({"action": "send"})
        );
        let unbound = step(
            &p,
            &req(AGENT_URL),
            &first,
            &after(402, Some(&payment_required(&["10"], None)), None),
        );
        assert_eq!(agent_of(&unbound), None, "v{version}");
        // The next call names the agent: its token is bound to it, not the remembered unbound one.
        let mine = json!({"planIds": ["10"], "agentId": "agent-7", "tokenOptions": token_options});
        let bound = step(&p, &req(AGENT_URL), &mine, &Value::Null);
        assert_eq!(agent_of(&bound).as_deref(), Some("agent-7"), "v{version}");
        assert_ne!(bound["token"], unbound["token"]);
        assert_eq!(
            p.transport().last_body("/permissions")["accepted"]["extra"]["agentId"],
            "agent-7"
        );
        assert_eq!(minted.get(), 2, "v{version}");
        // And a call without agentId after it still may use what the URL asked (no agent).
        let again = step(&p, &req(AGENT_URL), &first, &Value::Null);
        if version == 2 {
            assert_eq!(
                again["token"], unbound["token"],
                "the unbound v2 token, cached"
            );
        } else {
            assert_eq!(agent_of(&again), None);
        }
    }
}

/// Plan 10 as the backend answers it: `registry` (what paying ahead looks up for its scheme and terms).
fn plan_10(p: &Payments<MockTransport>, registry: Value) {
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/10",
        200,
        json!({"id": "10", "registry": registry, "metadata": {"plan": {"fiatPaymentProvider": "stripe"}}}),
    );
}

/// Plan 10 as a crypto plan.
fn crypto_plan_10(p: &Payments<MockTransport>) {
    plan_10(p, json!({"price": {"isCrypto": true}}));
}

/// Plan 10 as a card plan, and the account's `cards`.
fn fiat_plan_10(p: &Payments<MockTransport>, cards: &[&str]) {
    plan_10(p, json!({"price": {"isCrypto": false}}));
    let cards: Vec<Value> = cards
        .iter()
        .map(|id| json!({"id": *id, "type": "card", "provider": "stripe"}))
        .collect();
    p.transport()
        .json("GET", "/api/v1/payment-methods", 200, Value::Array(cards));
}

#[test]
fn a_remembered_agent_other_than_the_calls_is_not_paid() {
    let p = payments();
    backend(&p);
    crypto_plan_10(&p);
    let any_agent = json!({"planIds": ["10"], "eager": false});
    step(
        &p,
        &req(AGENT_URL),
        &any_agent,
        &after(402, Some(&payment_required(&["10"], Some("agent-1"))), None),
    );
    // The URL asked for agent-1: a call for agent-2 that probes sends nothing up front, not agent-1's token.
    let probing = json!({"planIds": ["10"], "agentId": "agent-2", "eager": false});
    assert_eq!(
        step(&p, &req(AGENT_URL), &probing, &Value::Null),
        json!({"action": "send"})
    );
    // One that pays ahead pays for agent-2 (the agent may then refuse it).
    let other = json!({"planIds": ["10"], "agentId": "agent-2"});
    let sent = step(&p, &req(AGENT_URL), &other, &Value::Null);
    assert_eq!(sent["source"], "ahead");
    assert_eq!(agent_of(&sent).as_deref(), Some("agent-2"));
}

#[test]
fn a_cached_token_is_reused_only_for_the_same_token_options() {
    let p = payments();
    let minted = backend(&p);
    crypto_plan_10(&p);
    let with = |delegation: &str| json!({"planIds": ["10"], "agentId": "agent-1", "tokenOptions": {"delegationConfig": {"delegationId": delegation}}});
    let first = step(&p, &req(AGENT_URL), &with("del-a"), &Value::Null);
    assert_eq!(
        p.transport().last_body("/permissions")["delegationConfig"]["delegationId"],
        "del-a"
    );
    assert_eq!(
        step(&p, &req(AGENT_URL), &with("del-a"), &Value::Null)["token"],
        first["token"],
        "the same options: the cached token"
    );
    let second = step(&p, &req(AGENT_URL), &with("del-b"), &Value::Null);
    assert_ne!(second["token"], first["token"]);
    assert_eq!(
        p.transport().last_body("/permissions")["delegationConfig"]["delegationId"],
        "del-b",
        "another delegation asked for: minted with it"
    );
    assert_eq!(minted.get(), 2);
}

#[test]
fn a_calls_payment_type_wins_over_the_remembered_scheme() {
    let p = payments();
    backend(&p);
    fiat_plan_10(&p, &["pm_1"]);
    // The URL asked for plan 10 in crypto; a call that says paymentType fiat mints a card token.
    let crypto = json!({"planIds": ["10"], "eager": false});
    step(
        &p,
        &req(AGENT_URL),
        &crypto,
        &after(402, Some(&payment_required(&["10"], None)), None),
    );
    let fiat = json!({"planIds": ["10"], "paymentType": "fiat"});
    let sent = step(&p, &req(AGENT_URL), &fiat, &Value::Null);
    assert_eq!(sent["source"], "ahead");
    assert_eq!(
        p.transport().last_body("/permissions")["accepted"]["scheme"],
        "nvm:card-delegation"
    );
}

/// What the agent answered a paid attempt with: 200 and a receipt that burned `burned`.
fn receipt_after(burned: &str, source: &str) -> Value {
    let receipt = json!({"success": true, "transaction": "0xtx", "network": "eip155:84532", "payer": "0xsub", "creditsRedeemed": burned, "remainingBalance": "5"});
    json!({"status": 200, "paymentRequired": null, "paymentResponse": encode_payment_header(&receipt).unwrap(), "source": source})
}

#[test]
fn the_token_an_agent_overcharged_with_is_dropped_when_the_call_named_the_agent() {
    let p = payments();
    backend(&p);
    plan_10(
        &p,
        json!({"price": {"isCrypto": true}, "credits": {"minAmount": "1", "maxAmount": "1"}}),
    );
    // The URL asks for plan 10, no agent; a call naming agent-7 pays it with a token bound to agent-7.
    let first = json!({"planIds": ["10"], "eager": false, "maxCredits": "1"});
    step(
        &p,
        &req(AGENT_URL),
        &first,
        &after(402, Some(&payment_required(&["10"], None)), None),
    );
    let mine = json!({"planIds": ["10"], "agentId": "agent-7", "maxCredits": "1"});
    let paid = step(&p, &req(AGENT_URL), &mine, &Value::Null);
    assert_eq!(agent_of(&paid).as_deref(), Some("agent-7"));
    // Its receipt burned 50: an error, and that token is never sent again.
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &mine,
        &receipt_after("50", "cache"),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded");
    let next = step(&p, &req(AGENT_URL), &mine, &Value::Null);
    assert_ne!(
        next["token"], paid["token"],
        "the overcharged token was dropped"
    );
    assert_eq!(next["source"], "ahead");
}

#[test]
fn the_calls_card_is_part_of_what_a_token_is_cached_by() {
    let p = payments();
    let minted = backend(&p);
    fiat_plan_10(&p, &["pm_1", "pm_2"]);
    let with = |pm: &str| json!({"planIds": ["10"], "paymentType": "fiat", "paymentMethodId": pm});
    let first = step(&p, &req(AGENT_URL), &with("pm_1"), &Value::Null);
    let second = step(&p, &req(AGENT_URL), &with("pm_2"), &Value::Null);
    assert_ne!(first["token"], second["token"]);
    assert_eq!(minted.get(), 2);
    // Each card got its own delegation, and each token its card's.
    let created: Vec<String> = p
        .transport()
        .sent
        .borrow()
        .iter()
        .filter(|r| r.url.ends_with("/delegation/create"))
        .map(|r| {
            crate::protocol::json::parse(r.body.as_deref().unwrap()).unwrap()
                ["providerPaymentMethodId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(created, ["pm_1", "pm_2"]);
    assert_eq!(
        step(&p, &req(AGENT_URL), &with("pm_1"), &Value::Null)["token"],
        first["token"],
        "the same card again: the cached token"
    );
}

#[test]
fn a_plan_whose_terms_say_max_amount_zero_is_not_read_as_free() {
    // nvm-local reads maxAmount 0 as the plan's default (1 credit): maxCredits 0 can't cover it.
    let p = payments();
    let minted = backend(&p);
    plan_10(
        &p,
        json!({"price": {"isCrypto": true}, "credits": {"minAmount": "0", "maxAmount": "0"}}),
    );
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["10"], "maxCredits": 0}),
        &Value::Null,
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded");
    assert!(err.to_string().contains("up to 1 credits"), "{err}");
    assert_eq!(minted.get(), 0, "refused before minting");
    assert_eq!(
        step(
            &p,
            &req(AGENT_URL),
            &json!({"planIds": ["10"], "maxCredits": 1}),
            &Value::Null
        )["action"],
        "send"
    );
}

#[test]
fn an_entry_without_a_plan_offers_nothing_even_to_any_plan() {
    // What buildPaymentRequiredForPlans([]) makes (the official SDK's): planId "".
    let p = payments();
    backend(&p);
    let pr = payment_required(&[], None);
    for options in [any(), json!(null)] {
        let s = step(&p, &req(AGENT_URL), &options, &after(402, Some(&pr), None));
        assert_eq!(s, json!({"action": "stop"}), "{options}");
    }
    assert_eq!(p.transport().count("/permissions"), 0, "nothing minted");
}

#[test]
fn paying_up_front_without_a_plan_names_the_missing_parameter() {
    let p = payments();
    backend(&p);
    for options in [
        json!({"eager": true}),
        json!({"eager": true, "anyPlan": true}),
    ] {
        let err = run(next_step(&p, &req(AGENT_URL), &options, &Value::Null)).unwrap_err();
        assert_eq!(err.code(), "validation");
        assert!(err.to_string().starts_with("planId is required"), "{err}");
        assert!(err.hint().contains("Pass planId"), "{}", err.hint());
    }
    let two = json!({"eager": true, "planIds": ["1", "2"]});
    let err = run(next_step(&p, &req(AGENT_URL), &two, &Value::Null)).unwrap_err();
    assert!(err.to_string().contains("the one plan"), "{err}");
    assert!(err.hint().contains("eager: false"), "{}", err.hint());
    assert_eq!(p.transport().count(""), 0, "nothing sent");
}

const USDC_SEPOLIA: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
const TEMPLATE: &str = "0x5e852077b30099106Aa65B4d329FFF9b5C9a8e7C";

/// A plan's `getPlan` view with this price.
fn priced(price: Value) -> Value {
    json!({"id": "p", "registry": {"price": price, "credits": {"amount": "1", "minAmount": "1", "maxAmount": "1"}}})
}

#[test]
fn a_plan_is_pay_as_you_go_when_it_names_a_template_and_its_price_is_read_in_cents() {
    let payg = |token: &str, amounts: Value, crypto: bool| {
        Billing::of_plan(&priced(
            json!({"templateAddress": TEMPLATE, "tokenAddress": token, "amounts": amounts, "isCrypto": crypto}),
        ))
    };
    let zero = crate::api::plans::ZERO_ADDRESS;
    // USDC and EURC, and fiat plans, are 6-decimal units: 10 000 a cent, rounded up.
    assert_eq!(
        payg(USDC_SEPOLIA, json!(["1500000"]), true),
        Billing::PayAsYouGo(Some(150))
    );
    assert_eq!(
        payg(&USDC_SEPOLIA.to_lowercase(), json!(["10001", "5"]), true),
        Billing::PayAsYouGo(Some(2))
    );
    assert_eq!(
        payg(crate::api::plans::EURC_TOKEN_ADDRESS, json!([]), true),
        Billing::PayAsYouGo(Some(0))
    );
    assert_eq!(
        payg(zero, json!(["2000000"]), false),
        Billing::PayAsYouGo(Some(200))
    );
    // The native token, another ERC20: decimals unknown, so no price in cents.
    assert_eq!(payg(zero, json!(["100"]), true), Billing::PayAsYouGo(None));
    assert_eq!(
        payg(
            "0x00000000000000000000000000000000000000aa",
            json!(["1"]),
            true
        ),
        Billing::PayAsYouGo(None)
    );
    assert_eq!(
        payg(USDC_SEPOLIA, json!([20000, "1"]), true),
        Billing::PayAsYouGo(Some(3))
    );
    // Amounts that aren't integers within 2^64 (in all): unknown too.
    for amounts in [
        json!(["x"]),
        json!([1.5]),
        json!(["18446744073709551615", "1"]),
        json!(["340282366920938463463374607431768211456"]),
    ] {
        let billing = payg(USDC_SEPOLIA, amounts.clone(), true);
        assert_eq!(billing, Billing::PayAsYouGo(None), "{amounts}");
    }
    assert_eq!(
        Billing::of_plan(&priced(json!({"templateAddress": zero, "isCrypto": true}))),
        Billing::Credits
    );
    assert_eq!(
        Billing::of_plan(&priced(json!({"isCrypto": true}))),
        Billing::Unknown
    );
    assert_eq!(Billing::of_plan(&json!({"id": "p"})), Billing::Unknown);
}

/// Plan `plan` as a pay-as-you-go plan charging `units` of USDC (6 decimals) per request.
fn payg_plan(p: &Payments<MockTransport>, plan: &str, units: u64) {
    let price = json!({"templateAddress": TEMPLATE, "tokenAddress": USDC_SEPOLIA, "amounts": [units.to_string()], "receivers": ["0x00000000000000000000000000000000000000bb"], "isCrypto": true});
    let mut view = priced(price);
    view["id"] = json!(plan);
    p.transport()
        .json("GET", &format!("/api/v1/protocol/plans/{plan}"), 200, view);
}

fn payg_receipt(source: &str) -> Value {
    let receipt = json!({"success": true, "transaction": "0xtx", "network": "eip155:84532", "billingModel": "pay-as-you-go", "creditsRedeemed": "0", "remainingBalance": "0", "orderTx": "0xorder"});
    json!({"status": 200, "paymentRequired": null, "paymentResponse": encode_payment_header(&receipt).unwrap(), "source": source})
}

#[test]
fn max_price_cents_holds_for_pay_as_you_go_plans_before_paying() {
    let p = payments();
    let minted = backend(&p);
    payg_plan(&p, "40", 1_500_000); // 150 cents
    let asks = payment_required(&["40"], Some("agent-1"));
    let refused = |options: Value| {
        run(next_step(
            &p,
            &req(AGENT_URL),
            &options,
            &after(402, Some(&asks), None),
        ))
        .unwrap_err()
    };
    let err = refused(json!({"planIds": ["40"], "maxPriceCents": 149}));
    assert_eq!(err.code(), "max_price_exceeded");
    assert!(
        err.to_string()
            .contains("Plan 40 charges 150 cents per request, more than maxPriceCents (149)"),
        "{err}"
    );
    // maxCredits says nothing about money: alone it does not let a pay-as-you-go plan be paid.
    let err = refused(json!({"planIds": ["40"], "maxCredits": 1}));
    assert_eq!(err.code(), "max_price_exceeded");
    assert!(
        err.to_string()
            .contains("pass maxPriceCents (maxCredits is no money cap)"),
        "{err}"
    );
    assert!(err.hint().contains("maxPriceCents"), "{}", err.hint());
    // Paying up front checks it too.
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["40"], "maxPriceCents": 100, "eager": true}),
        &Value::Null,
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_price_exceeded");
    assert_eq!(minted.get(), 0, "refused before any mint");
    // A price in a token of unknown decimals can't be held to a cap in cents.
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/41",
        200,
        priced(json!({"templateAddress": TEMPLATE, "tokenAddress": crate::api::plans::ZERO_ADDRESS, "amounts": ["1"], "isCrypto": true})),
    );
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["41"], "maxPriceCents": 1000}),
        &after(402, Some(&payment_required(&["41"], None)), None),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_price_exceeded");
    assert!(err.to_string().contains("not known in cents"), "{err}");
    // A plan whose view names no template can't be told apart: refused under a money cap.
    with_plan(&p, "42", 1);
    let err = run(next_step(
        &p,
        &req(AGENT_URL),
        &json!({"planIds": ["42"], "maxPriceCents": 1000}),
        &after(402, Some(&payment_required(&["42"], None)), None),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "max_price_exceeded");
    assert_eq!(minted.get(), 0);
    // Within the cap: paid; its receipt (0 credits, one charge) is within the cap too.
    let options = json!({"planIds": ["40"], "maxPriceCents": 150, "maxCredits": 1, "eager": false});
    let paid = step(
        &p,
        &req(AGENT_URL),
        &options,
        &after(402, Some(&asks), None),
    );
    assert_eq!(paid["source"], "fresh");
    assert_eq!(
        step(&p, &req(AGENT_URL), &options, &payg_receipt("fresh")),
        json!({"action": "stop"})
    );
    assert_eq!(
        step(&p, &req(AGENT_URL), &options, &Value::Null)["source"],
        "cache"
    );
    // Without any cap the plan is paid as the official SDK pays it.
    let paid = step(
        &p,
        &req("http://127.0.0.1:8787/free"),
        &json!({"planIds": ["40"]}),
        &Value::Null,
    );
    assert_eq!(paid["source"], "ahead");
    assert_eq!(minted.get(), 2);
}

#[test]
fn a_pay_as_you_go_receipt_is_a_charge_not_zero_credits() {
    // The plan reads as a credits plan (its view changed, or it lied); the agent's
    // settle was one pay-as-you-go charge with creditsRedeemed "0".
    let p = payments();
    let minted = backend(&p);
    plan_10(
        &p,
        json!({"price": {"isCrypto": true, "templateAddress": crate::api::plans::ZERO_ADDRESS}, "credits": {"minAmount": "1", "maxAmount": "1"}}),
    );
    for (n, options) in [
        json!({"planIds": ["10"], "maxCredits": 1}),
        json!({"planIds": ["10"], "maxPriceCents": 1000}),
    ]
    .iter()
    .enumerate()
    {
        let url = format!("{AGENT_URL}/{n}");
        let paid = step(&p, &req(&url), options, &Value::Null);
        let err = run(next_step(&p, &req(&url), options, &payg_receipt("ahead"))).unwrap_err();
        assert_eq!(err.code(), "max_price_exceeded", "{options}");
        assert!(
            err.to_string().contains("its token is no longer used"),
            "{err}"
        );
        assert_eq!(err.details().unwrap()["billingModel"], "pay-as-you-go");
        // That token is not sent again: the next call mints afresh.
        let next = step(&p, &req(&url), options, &Value::Null);
        assert_eq!(next["source"], "ahead", "{options}");
        assert_ne!(next["token"], paid["token"], "{options}");
    }
    assert_eq!(minted.get(), 3);
    // A credits receipt with 0 credits under maxCredits is what it says.
    let options = json!({"planIds": ["10"], "maxCredits": 1});
    assert_eq!(
        step(&p, &req(AGENT_URL), &options, &receipt_after("0", "cache")),
        json!({"action": "stop"})
    );
}
