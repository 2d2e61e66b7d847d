//! A paid function's lifecycle against a scripted backend: each decision, what
//! the function is told, and the backend calls made.

use super::ToolGate;
use crate::gate::tests::{
    backend_calls, finish_request, good_token, hooks_called, payments, settle_ok, start, token,
    verify_ok, with_plans, Began,
};
use crate::json;
use crate::payments::Payments;
use crate::protocol::gate::Hook;
use crate::protocol::json::Value;
use crate::transport::mock::MockTransport;
use crate::transport::HttpResponse;
use crate::Error;

/// A wrapped function (leaked: calls in flight borrow it for the rest of the test).
fn gate(options: Value) -> &'static ToolGate {
    Box::leak(Box::new(ToolGate::new(&options).unwrap()))
}

fn search() -> &'static ToolGate {
    gate(json!({"planId": "10", "credits": 2, "agentId": "agent-1", "endpoint": "search"}))
}

fn called<'a>(p: &'a Payments<MockTransport>, g: &'a ToolGate, token: Option<String>) -> Began<'a> {
    let call = json!({ "token": token });
    start(move |x| Box::pin(async move { g.handle(p, &call, &x).await }))
}

#[test]
fn no_token_is_the_official_payment_required_error_and_costs_only_the_plan_lookup() {
    let p = payments();
    with_plans(&p);
    let answer = called(&p, search(), None);
    assert_eq!(answer["action"], json!("refuse"));
    assert_eq!(
        p.transport().count("/api/v1/x402/verify"),
        0,
        "refused before verify"
    );
    assert_eq!(
        answer["message"],
        json!("Payment required: missing payment_token in config.configurable")
    );
    let pr = &answer["paymentRequired"];
    assert_eq!(pr["resource"]["url"], json!("search"));
    assert_eq!(pr["accepts"][0]["planId"], json!("10"));
    assert_eq!(pr["accepts"][0]["scheme"], json!("nvm:erc4337"));
    assert_eq!(pr["accepts"][0]["extra"]["agentId"], json!("agent-1"));
    assert_eq!(
        pr["accepts"][0]["extra"].get("httpVerb"),
        None,
        "a tool is no HTTP route"
    );
    assert!(!answer.exchange.ran.get());
    assert_eq!(
        hooks_called(&answer.exchange),
        ["onBeforeVerify"],
        "the verify span opens for a probe too"
    );
    assert_eq!(backend_calls(&p), 1, "only the plan's scheme");
}

#[test]
fn a_good_token_verifies_runs_the_function_then_settles_its_credits() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let begin = called(&p, search(), Some(good_token()));
    assert_eq!(begin["action"], json!("proceed"), "{begin}");
    let verify = p.transport().last_body("/api/v1/x402/verify");
    assert_eq!(
        verify["paymentRequired"]["resource"]["url"],
        json!("search")
    );
    assert_eq!(verify["maxAmount"], json!("2"));
    assert_eq!(verify["x402AccessToken"], json!(good_token()));
    let context = &begin["context"]["paymentContext"];
    assert_eq!(context["verified"], json!(true));
    assert_eq!(context["creditsToSettle"], json!("2"));
    assert_eq!(context["agentRequestId"], json!("req-1"));
    assert_eq!(context["planId"], json!("10"));
    assert_eq!(context["subscriberAddress"], json!("0xsubscriber"));
    assert_eq!(context["paymentRequired"], verify["paymentRequired"]);
    // Never the whole token: its first 6 and last 4 characters.
    let shown = context["token"].as_str().unwrap();
    assert_eq!(shown, crate::protocol::redact::redact(&good_token()));
    assert_ne!(shown, good_token());
    assert_eq!(
        begin["context"]["verification"]["payer"],
        json!("0xsubscriber")
    );
    assert_eq!(
        hooks_called(&begin.exchange),
        ["onBeforeVerify", "onAfterVerify"]
    );
    let exchange = std::rc::Rc::clone(&begin.exchange);
    let done = finish_request(begin, 200, None);
    assert_eq!(done["action"], json!("deliver"));
    assert_eq!(done["settlement"]["creditsRedeemed"], json!("2"));
    let settle = p.transport().last_body("/api/v1/x402/settle");
    assert_eq!(settle["maxAmount"], json!("2"));
    assert_eq!(settle["agentRequestId"], json!("req-1"));
    assert_eq!(settle["paymentRequired"], verify["paymentRequired"]);
    let told: Vec<Hook> = exchange.hooks.borrow().iter().map(|(h, _)| *h).collect();
    assert_eq!(told.last(), Some(&Hook::AfterSettle));
    assert_eq!(backend_calls(&p), 3, "plan, verify, settle");
}

#[test]
fn a_settle_that_fails_withholds_the_result_where_the_official_sdk_delivers_it() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    p.transport().json(
        "POST",
        "/api/v1/x402/settle",
        200,
        json!({"success": false, "errorReason": "Insufficient balance"}),
    );
    let begin = called(&p, search(), Some(good_token()));
    let done = finish_request(begin, 200, None);
    assert_eq!(done["action"], json!("refuse"));
    assert_eq!(
        p.transport().count("/api/v1/x402/settle"),
        1,
        "refused by settle"
    );
    assert_eq!(
        done["message"],
        json!("Payment settlement failed: Insufficient balance; the result was withheld")
    );
    assert_eq!(done["paymentRequired"]["error"], json!("settlement failed"));
    // Unreachable at settle: an error with the transport's code, never the result.
    p.transport().on("POST", "/api/v1/x402/settle", |_| {
        Err(Error::Network("connection refused".into()))
    });
    let done = finish_request(called(&p, search(), Some(good_token())), 200, None);
    assert_eq!(done["action"], json!("fail"));
    assert_eq!(done["code"], json!("network_error"));
    assert!(done["message"]
        .as_str()
        .unwrap()
        .ends_with("nothing was delivered"));
}

#[test]
fn refusals_before_the_function_never_run_it() {
    let p = payments();
    with_plans(&p);
    // Another plan's token: refused before the backend is asked.
    let other = token("99", "nvm:erc4337", "eip155:84532", None);
    let answer = called(&p, search(), Some(other));
    assert_eq!(answer["action"], json!("refuse"));
    assert_eq!(
        answer["message"],
        json!("Payment verification failed: The access token is for a plan this route does not accept")
    );
    assert_eq!(backend_calls(&p), 1);
    // A v3 token bound to another endpoint.
    let v3 = token(
        "10",
        "nvm:erc4337",
        "eip155:84532",
        Some(("agent-1", "other", "POST")),
    );
    let answer = called(&p, search(), Some(v3));
    assert_eq!(
        answer["paymentRequired"]["error"],
        json!("The single-use access token is bound to another URL")
    );
    // Verify refused.
    p.transport().json(
        "POST",
        "/api/v1/x402/verify",
        200,
        json!({"isValid": false, "invalidReason": "Insufficient credits"}),
    );
    let answer = called(&p, search(), Some(good_token()));
    assert_eq!(
        answer["message"],
        json!("Payment verification failed: Insufficient credits")
    );
    assert!(!answer.exchange.ran.get());
    // The adapter is told the refused verification too (its span's metadata).
    assert_eq!(
        hooks_called(&answer.exchange),
        ["onBeforeVerify", "onAfterVerify"]
    );
    assert_eq!(answer.exchange.hooks.borrow()[1].1["isValid"], json!(false));
    // The backend down at verify: an error, and the function is not run.
    p.transport().on("POST", "/api/v1/x402/verify", |_| {
        Err(Error::Network("connection refused".into()))
    });
    let answer = called(&p, search(), Some(good_token()));
    assert_eq!(answer["action"], json!("fail"));
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .starts_with("Payment verification is unavailable: "));
    assert!(!answer.exchange.ran.get());
    assert_eq!(p.transport().count("/api/v1/x402/settle"), 0);
}

#[test]
fn a_function_that_throws_is_charged_nothing() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let done = finish_request(called(&p, search(), Some(good_token())), 0, None);
    assert_eq!(done["action"], json!("threw"));
    assert_eq!(p.transport().count("/api/v1/x402/settle"), 0);
}

#[test]
fn a_credits_function_prices_the_call_after_it_ran() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let priced = gate(json!({"planId": "10", "credits": {"$function": true}}));
    let begin = called(&p, priced, Some(good_token()));
    assert_eq!(
        p.transport().last_body("/api/v1/x402/verify")["maxAmount"],
        json!("1")
    );
    let done = finish_request(begin, 200, Some(&json!(5)));
    assert_eq!(done["settlement"]["creditsRedeemed"], json!("5"));
    assert_eq!(
        p.transport().last_body("/api/v1/x402/settle")["maxAmount"],
        json!("5")
    );
    // Zero: delivered, nothing settled.
    let settles = p.transport().count("/api/v1/x402/settle");
    let done = finish_request(called(&p, priced, Some(good_token())), 200, Some(&json!(0)));
    assert_eq!(done, json!({"action": "deliver"}));
    assert_eq!(p.transport().count("/api/v1/x402/settle"), settles);
    // A price that is not an amount (or a function that threw): nothing delivered or charged.
    for bad in [
        json!(2.5),
        json!({"invalid": "threw"}),
        json!({"invalid": "undefined"}),
    ] {
        let done = finish_request(called(&p, priced, Some(good_token())), 200, Some(&bad));
        assert_eq!(done["action"], json!("fail"), "{bad}");
        assert_eq!(done["code"], json!("internal"));
        assert_eq!(p.transport().count("/api/v1/x402/settle"), settles, "{bad}");
    }
}

#[test]
fn a_fiat_plan_is_offered_in_its_own_scheme_and_a_network_alone_is_the_official_default_scheme() {
    let p = payments();
    with_plans(&p);
    let fiat = called(&p, gate(json!({"planId": "20"})), None);
    assert_eq!(
        fiat["paymentRequired"]["accepts"][0]["scheme"],
        json!("nvm:card-delegation")
    );
    let calls = backend_calls(&p);
    let fixed = called(
        &p,
        gate(json!({"planId": "20", "network": "eip155:8453"})),
        None,
    );
    let accepted = &fixed["paymentRequired"]["accepts"][0];
    assert_eq!(accepted["scheme"], json!("nvm:erc4337"));
    assert_eq!(accepted["network"], json!("eip155:8453"));
    assert_eq!(
        backend_calls(&p),
        calls,
        "a fixed scheme needs no plan lookup"
    );
    // Plans that can't be looked up: an error, not a refusal.
    let p = payments();
    p.transport().on("GET", "/api/v1/protocol/plans/10", |_| {
        Ok(HttpResponse {
            status: 503,
            body: String::new(),
        })
    });
    let down = called(&p, search(), Some(good_token()));
    assert_eq!(down["action"], json!("fail"));
    assert_eq!(p.transport().count("/api/v1/x402/verify"), 0);
}

#[test]
fn a_backend_reason_that_quotes_the_token_is_shown_redacted() {
    let p = payments();
    with_plans(&p);
    let quoted = format!("bad token {}", good_token());
    p.transport().json(
        "POST",
        "/api/v1/x402/verify",
        200,
        json!({"isValid": false, "invalidReason": quoted}),
    );
    let answer = called(&p, search(), Some(good_token()));
    let shown = crate::protocol::redact::redact(&good_token());
    assert_eq!(
        answer["message"],
        json!(format!("Payment verification failed: bad token {shown}"))
    );
    assert_eq!(
        answer["paymentRequired"]["error"],
        json!(format!("bad token {shown}"))
    );
}
