//! The MCP paywall's lifecycle against a scripted backend: each decision, the
//! PaymentRequired it shows, and the backend calls it makes.

use super::McpGate;
use crate::gate::tests::{
    backend_calls, finish_request, good_token, payments, settle_ok, start, token, verify_ok,
    with_plans, Began,
};
use crate::json;
use crate::payments::Payments;
use crate::protocol::decode_access_token;
use crate::protocol::gate::mcp::McpTool;
use crate::protocol::json::Value;
use crate::transport::mock::MockTransport;
use crate::Error;

/// A configured paywall (leaked: calls in flight borrow it for the rest of the test).
fn gate() -> &'static McpGate {
    Box::leak(Box::new(
        McpGate::new(&json!({"agentId": "agent-1", "serverName": "weather", "planId": "10"}))
            .unwrap(),
    ))
}

fn call(extra: Value) -> Value {
    let mut c = json!({"kind": "tool", "name": "echo", "args": {"text": "hi"}, "credits": 2});
    for (k, v) in extra.as_object().unwrap() {
        c[k.as_str()] = v.clone();
    }
    c
}

/// The in-band payment: the decoded token in `params._meta["x402/payment"]`.
fn in_band(token: &str) -> Value {
    json!({"x402/payment": Value::Object(decode_access_token(token).unwrap())})
}

/// Runs a call through the paywall up to the handler (see `crate::gate::tests::begin_request`).
fn paid<'a>(p: &'a Payments<MockTransport>, g: &'a McpGate, extra: Value) -> Began<'a> {
    let call = call(extra);
    start(move |x| {
        Box::pin(async move {
            let tool = McpTool::from_json(&call)?;
            g.handle(p, &tool, &call, &x).await
        })
    })
}

#[test]
fn no_payment_is_an_error_tool_result_with_the_payment_required_and_costs_only_the_plan_lookup() {
    let p = payments();
    with_plans(&p);
    let answer = paid(&p, gate(), json!({}));
    assert_eq!(answer["action"], json!("refuse"));
    let result = &answer["result"];
    assert_eq!(result["isError"], json!(true));
    let pr = &result["structuredContent"];
    assert_eq!(
        pr["resource"]["url"],
        json!("mcp://weather/tools/echo?text=hi")
    );
    assert_eq!(pr["accepts"][0]["planId"], json!("10"));
    assert_eq!(pr["accepts"][0]["extra"]["agentId"], json!("agent-1"));
    assert_eq!(pr["accepts"][0]["extra"]["httpVerb"], json!("POST"));
    assert!(pr["error"]
        .as_str()
        .unwrap()
        .contains("_meta[\"x402/payment\"]"));
    assert_eq!(result["content"][0]["text"], json!(pr.to_string()));
    assert_eq!(backend_calls(&p), 1, "only the plan's scheme");
    // Resources and prompts: a JSON-RPC error -32003 carrying it.
    let resource = paid(&p, gate(), json!({"kind": "resource", "name": "city"}));
    assert_eq!(resource["error"]["code"], json!(-32003));
    assert_eq!(
        resource["error"]["data"]["resource"]["url"],
        json!("mcp://weather/resources/city?text=hi")
    );
    assert_eq!(backend_calls(&p), 1, "the plan's scheme is cached");
}

#[test]
fn a_payment_in_band_verifies_then_settles_the_credits_and_returns_the_receipt() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate();
    let begin = paid(&p, g, json!({"meta": in_band(&good_token())}));
    assert_eq!(begin["action"], json!("proceed"), "{begin}");
    let verify = p.transport().last_body("/api/v1/x402/verify");
    assert_eq!(
        verify["paymentRequired"]["resource"]["url"],
        json!("mcp://weather/tools/echo?text=hi")
    );
    assert_eq!(verify["maxAmount"], json!("2"));
    assert_eq!(verify["x402AccessToken"], json!(good_token()));
    assert_eq!(begin["context"]["subscriberAddress"], json!("0xsubscriber"));
    assert_eq!(begin["context"]["credits"], json!("2"));
    let finish = finish_request(begin, 200, None);
    assert_eq!(finish["action"], json!("deliver"));
    let settle = p.transport().last_body("/api/v1/x402/settle");
    assert_eq!(settle["maxAmount"], json!("2"));
    assert_eq!(settle["agentRequestId"], json!("req-1"));
    assert_eq!(settle["paymentRequired"], verify["paymentRequired"]);
    assert_eq!(
        finish["meta"]["x402/payment-response"]["transaction"],
        json!("0xtx")
    );
    assert_eq!(
        finish["meta"]["nevermined/credits"]["creditsRedeemed"],
        json!("2")
    );
    assert_eq!(
        finish["meta"]["nevermined/credits"]["remainingBalance"],
        json!("8")
    );
    assert_eq!(backend_calls(&p), 3, "plan, verify, settle");
}

#[test]
fn the_bearer_and_payment_signature_headers_pay_too() {
    for header in ["authorization", "payment-signature"] {
        let p = payments();
        with_plans(&p);
        verify_ok(&p);
        let value = if header == "authorization" {
            format!("Bearer {}", good_token())
        } else {
            good_token()
        };
        let begin = paid(&p, gate(), json!({"headers": {header: value}}));
        assert_eq!(begin["action"], json!("proceed"), "{header}");
    }
}

#[test]
fn tokens_for_other_plans_agents_or_schemes_are_refused_without_asking_the_backend() {
    for (why, t) in [
        ("plan", token("99", "nvm:erc4337", "eip155:84532", None)),
        ("scheme", token("10", "nvm:card-delegation", "stripe", None)),
        (
            "v3 agent",
            token(
                "10",
                "nvm:erc4337",
                "eip155:84532",
                Some(("agent-2", "mcp://weather/tools/echo", "POST")),
            ),
        ),
        (
            "v3 url",
            token(
                "10",
                "nvm:erc4337",
                "eip155:84532",
                Some(("agent-1", "mcp://weather/tools/other", "POST")),
            ),
        ),
        ("garbage", "not a token".to_owned()),
    ] {
        let p = payments();
        with_plans(&p);
        let answer = paid(
            &p,
            gate(),
            json!({"meta": {}, "headers": {"payment-signature": t}}),
        );
        assert_eq!(answer["action"], json!("refuse"), "{why}");
        assert_eq!(backend_calls(&p), 1, "{why}: the plan lookup only");
    }
}

/// `path` answers `yes` to a PaymentRequired for the HTTP URL `https://agent.example/mcp`, `no` to any other.
fn by_url(
    p: &Payments<MockTransport>,
    path: &str,
    yes: (u16, &'static str),
    no: (u16, &'static str),
) {
    p.transport().on("POST", path, move |r| {
        let http = r
            .body
            .as_deref()
            .unwrap()
            .contains("\"url\":\"https://agent.example/mcp\"");
        let (status, body) = if http { yes } else { no };
        Ok(crate::transport::HttpResponse {
            status,
            body: body.into(),
        })
    });
}

#[test]
fn a_refused_verify_retries_with_the_http_url_then_refuses_with_the_reason() {
    let p = payments();
    with_plans(&p);
    by_url(
        &p,
        "/api/v1/x402/verify",
        (200, r#"{"isValid":true,"agentRequestId":"r"}"#),
        (
            200,
            r#"{"isValid":false,"invalidReason":"endpoint not registered"}"#,
        ),
    );
    let begin = paid(
        &p,
        gate(),
        json!({"meta": in_band(&good_token()), "httpUrl": "https://agent.example/mcp"}),
    );
    assert_eq!(begin["action"], json!("proceed"));
    assert_eq!(
        p.transport().last_body("/api/v1/x402/verify")["paymentRequired"]["resource"]["url"],
        json!("https://agent.example/mcp"),
        "the HTTP URL verified, and settled later with it"
    );
    assert_eq!(backend_calls(&p), 3);
    // And it is settled with the PaymentRequired it was verified with.
    settle_ok(&p);
    assert_eq!(finish_request(begin, 200, None)["action"], json!("deliver"));
    assert_eq!(
        p.transport().last_body("/api/v1/x402/settle")["paymentRequired"]["resource"]["url"],
        json!("https://agent.example/mcp")
    );
    let without = paid(&p, gate(), json!({"meta": in_band(&good_token())}));
    assert_eq!(without["action"], json!("refuse"));
    assert_eq!(
        without["result"]["structuredContent"]["error"],
        json!("endpoint not registered")
    );
}

#[test]
fn a_backend_outage_is_an_error_never_content_and_plans_unavailable_is_told_apart() {
    let p = payments();
    with_plans(&p);
    p.transport().on("POST", "/api/v1/x402/verify", |_| {
        Err(Error::Network("connection refused".into()))
    });
    let answer = paid(&p, gate(), json!({"meta": in_band(&good_token())}));
    assert_eq!(answer["action"], json!("fail"));
    assert_eq!(answer["error"]["code"], json!(-32603));
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Payment verification is unavailable"));
    assert!(p.transport().warnings.borrow()[0].contains("connection refused"));

    // No plan configured: the agent's plans are offered; when they can't be listed, "plans unavailable".
    let p = payments();
    p.transport()
        .on("GET", "/api/v1/protocol/agents/agent-1/plans", |_| {
            Err(Error::Network("down".into()))
        });
    let g = McpGate::new(&json!({"agentId": "agent-1", "serverName": "weather"})).unwrap();
    let answer = paid(&p, &g, json!({"meta": in_band(&good_token())}));
    assert_eq!(answer["action"], json!("refuse"));
    // The official SDK's shape: one entry with an empty plan id (never an empty `accepts`),
    // in its default scheme, on the environment's network.
    assert_eq!(
        answer["result"]["structuredContent"],
        json!({"x402Version": 2, "error": "plans unavailable", "resource": {"url": "mcp://weather/tools/echo?text=hi"},
               "accepts": [{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": "",
                            "extra": {"version": "1", "agentId": "agent-1", "httpVerb": "POST"}}],
               "extensions": {}})
    );
    assert_eq!(answer["result"]["isError"], json!(true));
    assert_eq!(p.transport().count("/verify"), 0, "nothing else is asked");

    // Configured plans whose lookup fails: offered as the official SDK offers them, still a refusal.
    let p = payments();
    p.transport().on("GET", "/api/v1/protocol/plans/10", |_| {
        Err(Error::Network("down".into()))
    });
    let resource = paid(
        &p,
        gate(),
        json!({"kind": "resource", "name": "city", "meta": in_band(&good_token())}),
    );
    assert_eq!(resource["action"], json!("refuse"));
    assert_eq!(resource["error"]["code"], json!(-32003));
    let pr = &resource["error"]["data"];
    assert_eq!(pr["error"], json!("plans unavailable"));
    assert_eq!(
        (
            pr["accepts"][0]["planId"].clone(),
            pr["accepts"][0]["scheme"].clone()
        ),
        (json!("10"), json!("nvm:erc4337"))
    );
    assert_eq!(p.transport().count("/verify"), 0);
}

#[test]
fn without_a_configured_plan_the_agents_plans_are_offered() {
    let p = payments();
    with_plans(&p);
    p.transport().json(
        "GET",
        "/api/v1/protocol/agents/agent-1/plans",
        200,
        json!({"plans": [{"planId": "20"}, {"id": "10"}], "total": 2}),
    );
    let g = McpGate::new(&json!({"agentId": "agent-1", "serverName": "weather"})).unwrap();
    let answer = paid(&p, &g, json!({}));
    let accepts = &answer["result"]["structuredContent"]["accepts"];
    assert_eq!(
        (accepts[0]["planId"].clone(), accepts[1]["planId"].clone()),
        (json!("20"), json!("10"))
    );
    assert_eq!(accepts[0]["scheme"], json!("nvm:card-delegation"));
    // A resource's -32003 names the first three listed plans, as the official SDK's message.
    let p = payments();
    with_plans(&p);
    for plan in ["30", "40"] {
        let mut path = "/api/v1/protocol/plans/".to_owned();
        path.push_str(plan);
        p.transport().json(
            "GET",
            &path,
            200,
            json!({"id": plan, "registry": {"price": {"isCrypto": true}}}),
        );
    }
    p.transport().json(
        "GET",
        "/api/v1/protocol/agents/agent-1/plans",
        200,
        json!({"plans": [{"planId": "20", "name": "Gold"}, {"id": "10"}, {"planId": "30", "name": "Silver"}, {"planId": "40", "name": "Bronze"}]}),
    );
    let resource = paid(&p, &g, json!({"kind": "resource", "name": "city"}));
    assert_eq!(resource["error"]["code"], json!(-32003));
    let mut expected = crate::protocol::gate::mcp::MISSING_PAYMENT.to_owned();
    expected.push_str(" Available plans: 20 (Gold), 10, 30 (Silver)...");
    assert_eq!(resource["error"]["message"], json!(expected));
    assert_eq!(
        resource["error"]["data"]["error"],
        json!(crate::protocol::gate::mcp::MISSING_PAYMENT),
        "the PaymentRequired's reason is the reason"
    );
    assert_eq!(
        p.transport().count("/agents/agent-1/plans"),
        1,
        "the one listing the offer made"
    );
    // Configured plans: no lookup for the message (the official SDK lists the agent's plans on every refusal).
    let p = payments();
    with_plans(&p);
    let resource = paid(&p, gate(), json!({"kind": "resource", "name": "city"}));
    assert_eq!(
        resource["error"]["message"],
        json!(crate::protocol::gate::mcp::MISSING_PAYMENT)
    );
    assert_eq!(p.transport().count("/agents/"), 0);
    // An agent with no plans is a misconfiguration (-32002), not a free call.
    let p = payments();
    p.transport().json(
        "GET",
        "/api/v1/protocol/agents/agent-1/plans",
        200,
        json!({"plans": []}),
    );
    let answer = paid(&p, &g, json!({"meta": in_band(&good_token())}));
    assert_eq!(
        (answer["action"].clone(), answer["error"]["code"].clone()),
        (json!("fail"), json!(-32002))
    );
}

#[test]
fn a_failed_settle_withholds_the_result() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    p.transport().json("POST", "/api/v1/x402/settle", 200, json!({"success": false, "errorReason": "insufficient balance", "transaction": "", "network": ""}));
    let g = gate();
    let begin = paid(
        &p,
        g,
        json!({"kind": "prompt", "name": "summary", "meta": in_band(&good_token())}),
    );
    let finish = finish_request(begin, 200, None);
    assert_eq!(finish["action"], json!("refuse"));
    assert_eq!(finish["error"]["code"], json!(-32003));
    assert_eq!(finish["error"]["data"]["error"], json!("settlement failed"));
    assert!(finish["error"]["message"]
        .as_str()
        .unwrap()
        .contains("insufficient balance"));
    // A settle the backend can't answer: an error, no content.
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    p.transport().on("POST", "/api/v1/x402/settle", |_| {
        Err(Error::Network("reset".into()))
    });
    let begin = paid(&p, g, json!({"meta": in_band(&good_token())}));
    let finish = finish_request(begin, 200, None);
    assert_eq!(
        (finish["action"].clone(), finish["error"]["code"].clone()),
        (json!("fail"), json!(-32603))
    );
}

#[test]
fn a_settle_refused_for_the_logical_url_is_asked_again_with_the_http_url() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    // The backend refuses the logical URL with an error (the official SDK's settle that throws).
    by_url(
        &p,
        "/api/v1/x402/settle",
        (
            200,
            r#"{"success":true,"transaction":"0xtx","network":"eip155:84532","creditsRedeemed":"2"}"#,
        ),
        (
            400,
            r#"{"code":"BCK.X402.0020","message":"Endpoint not registered","httpStatus":400}"#,
        ),
    );
    let with_http = json!({"meta": in_band(&good_token()), "httpUrl": "https://agent.example/mcp"});
    let begin = paid(&p, gate(), with_http.clone());
    assert_eq!(
        p.transport().last_body("/api/v1/x402/verify")["paymentRequired"]["resource"]["url"],
        json!("mcp://weather/tools/echo?text=hi"),
        "verified with the logical URL"
    );
    let done = finish_request(begin, 200, None);
    assert_eq!(done["action"], json!("deliver"), "{done}");
    assert_eq!(
        done["meta"]["x402/payment-response"]["transaction"],
        json!("0xtx")
    );
    assert_eq!(p.transport().count("/settle"), 2);
    let retry = p.transport().last_body("/api/v1/x402/settle");
    assert_eq!(
        retry["paymentRequired"]["resource"]["url"],
        json!("https://agent.example/mcp")
    );
    assert_eq!(
        (retry["maxAmount"].clone(), retry["agentRequestId"].clone()),
        (json!("2"), json!("req-1"))
    );

    // Without an HTTP URL there is nothing to try: withheld, the backend's reason told.
    let begin = paid(&p, gate(), json!({"meta": in_band(&good_token())}));
    let refused = finish_request(begin, 200, None);
    assert_eq!(refused["action"], json!("refuse"));
    assert_eq!(
        refused["result"]["structuredContent"]["error"],
        json!("settlement failed")
    );
    assert_eq!(
        refused["result"]["_meta"]["nevermined/credits"]["errorReason"],
        json!("Endpoint not registered")
    );
    assert_eq!(p.transport().count("/settle"), 3);

    // A "no" with a receipt (success: false) is about the payment, not the URL: not asked again.
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    p.transport().json("POST", "/api/v1/x402/settle", 200, json!({"success": false, "errorReason": "insufficient balance", "transaction": "", "network": "eip155:84532", "remainingBalance": "1"}));
    let begin = paid(&p, gate(), with_http.clone());
    let refused = finish_request(begin, 200, None);
    assert_eq!(refused["action"], json!("refuse"));
    assert_eq!(p.transport().count("/settle"), 1);
    assert_eq!(
        refused["result"]["_meta"]["nevermined/credits"],
        json!({"creditsRedeemed": "0", "remainingBalance": "1", "planId": "10", "subscriberAddress": "0xsubscriber", "success": false, "errorReason": "insufficient balance"})
    );
    assert_eq!(
        refused["result"]["_meta"].get("x402/payment-response"),
        None
    );

    // An outage is not retried: that settle may have burned, a second could burn again.
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    p.transport().on("POST", "/api/v1/x402/settle", |_| {
        Err(Error::Network("reset".into()))
    });
    let begin = paid(&p, gate(), with_http);
    let failed = finish_request(begin, 200, None);
    assert_eq!(
        (failed["action"].clone(), failed["error"]["code"].clone()),
        (json!("fail"), json!(-32603))
    );
    assert_eq!(p.transport().count("/settle"), 1);
}

#[test]
fn on_redeem_error_propagate_makes_a_settle_that_errs_the_official_misconfiguration_error() {
    let run_with = |settle: fn(&Payments<MockTransport>), options: Value| {
        let p: &'static Payments<MockTransport> = Box::leak(Box::new(payments()));
        with_plans(p);
        verify_ok(p);
        settle(p);
        let mut extra = options;
        extra["meta"] = in_band(&good_token());
        let begin = paid(p, gate(), extra);
        finish_request(begin, 200, None)
    };
    let refused: fn(&Payments<MockTransport>) = |p| {
        p.transport().json(
            "POST",
            "/api/v1/x402/settle",
            400,
            json!({"code": "BCK.X402.0059", "message": "Token already used", "httpStatus": 400}),
        );
    };
    let down: fn(&Payments<MockTransport>) = |p| {
        p.transport().on("POST", "/api/v1/x402/settle", |_| {
            Err(Error::Network("reset".into()))
        });
    };
    let propagate = json!({"onRedeemError": "propagate"});
    let answer = run_with(refused, propagate.clone());
    assert_eq!(
        (answer["action"].clone(), answer["error"]["code"].clone()),
        (json!("fail"), json!(-32002))
    );
    assert_eq!(
        answer["error"]["message"],
        json!("Failed to redeem credits: Token already used")
    );
    let answer = run_with(down, propagate.clone());
    assert_eq!(answer["error"]["code"], json!(-32002));
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Failed to redeem credits: Payment settlement is unavailable"));
    // "ignore" (the default): the payment-required result; a "no" with a receipt is that too.
    let answer = run_with(refused, json!({"onRedeemError": "ignore"}));
    assert_eq!(
        answer["result"]["structuredContent"]["error"],
        json!("settlement failed")
    );
    let no: fn(&Payments<MockTransport>) = |p| {
        p.transport().json(
            "POST",
            "/api/v1/x402/settle",
            200,
            json!({"success": false, "errorReason": "no funds", "transaction": "", "network": ""}),
        );
    };
    assert_eq!(run_with(no, propagate)["action"], json!("refuse"));
    assert!(
        McpTool::from_json(&json!({"name": "t", "onRedeemError": "throw"}))
            .unwrap_err()
            .to_string()
            .contains("onRedeemError must be")
    );
}

#[test]
fn credits_default_to_one_and_max_amount_is_what_verify_checks() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate();
    // (null: as the JS adapter sends a `credits` left out)
    let begin = paid(
        &p,
        g,
        json!({"credits": null, "maxAmount": 5, "meta": in_band(&good_token())}),
    );
    assert_eq!(
        p.transport().last_body("/api/v1/x402/verify")["maxAmount"],
        json!("5")
    );
    assert_eq!(begin["context"]["credits"], json!("1"));
    let done = finish_request(begin, 200, None);
    assert_eq!(
        done["meta"]["nevermined/credits"]["creditsRedeemed"],
        json!("1")
    );
    assert_eq!(
        p.transport().last_body("/api/v1/x402/settle")["maxAmount"],
        json!("1"),
        "one credit, as the official SDK, not maxAmount"
    );
    // Fixed credits and a maxAmount: verify checks maxAmount, settle asks the credits.
    let begin = paid(
        &p,
        g,
        json!({"maxAmount": 7, "meta": in_band(&good_token())}),
    );
    assert_eq!(
        p.transport().last_body("/api/v1/x402/verify")["maxAmount"],
        json!("7")
    );
    finish_request(begin, 200, None);
    assert_eq!(
        p.transport().last_body("/api/v1/x402/settle")["maxAmount"],
        json!("2")
    );
}

#[test]
fn dynamic_credits_verify_the_max_and_settle_what_the_function_said() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate();
    let begin = paid(
        &p,
        g,
        json!({"credits": {"$function": true}, "maxAmount": 5, "meta": in_band(&good_token())}),
    );
    assert_eq!(
        p.transport().last_body("/api/v1/x402/verify")["maxAmount"],
        json!("5")
    );
    let exchange = std::rc::Rc::clone(&begin.exchange);
    let finish = finish_request(begin, 200, Some(&json!(3)));
    assert_eq!(exchange.priced.get(), 1, "priced once, after the handler");
    assert_eq!(
        finish["meta"]["nevermined/credits"]["creditsRedeemed"],
        json!("3")
    );
    assert_eq!(
        p.transport().last_body("/api/v1/x402/settle")["maxAmount"],
        json!("3")
    );
    // Zero: nothing to settle, no receipt.
    let calls = backend_calls(&p);
    let begin = paid(
        &p,
        g,
        json!({"credits": {"$function": true}, "meta": in_band(&good_token())}),
    );
    let free = finish_request(begin, 200, Some(&json!("0")));
    assert_eq!(free["action"], json!("deliver"));
    assert_eq!(free["meta"].get("x402/payment-response"), None);
    assert_eq!(backend_calls(&p), calls + 1, "the verify only");
    // Not a number of credits: an error, nothing charged.
    let begin = paid(
        &p,
        g,
        json!({"credits": {"$function": true}, "meta": in_band(&good_token())}),
    );
    let bad = finish_request(begin, 200, Some(&json!({"invalid": "undefined"})));
    assert_eq!(bad["action"], json!("fail"));
}

#[test]
fn a_handler_that_throws_is_charged_nothing_and_its_error_goes_on() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let begin = paid(&p, gate(), json!({"meta": in_band(&good_token())}));
    assert_eq!(begin["action"], json!("proceed"));
    assert_eq!(
        begin["context"]["token"],
        json!(good_token()),
        "authResult.token, as the official SDK's"
    );
    let threw = finish_request(begin, 0, None);
    assert_eq!(threw, json!({"action": "threw"}));
    assert_eq!(p.transport().count("/settle"), 0);
}

#[test]
fn the_mcp_paywall_calls_the_hooks_it_was_given() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let mark = json!({"$function": true});
    let g: &'static McpGate = Box::leak(Box::new(
        McpGate::new(&json!({"agentId": "agent-1", "serverName": "weather", "planId": "10", "onBeforeVerify": mark, "onAfterVerify": mark, "onAfterSettle": mark, "onPaymentError": mark})).unwrap(),
    ));
    let begin = paid(&p, g, json!({"meta": in_band(&good_token())}));
    let exchange = std::rc::Rc::clone(&begin.exchange);
    let done = finish_request(begin, 200, None);
    assert_eq!(done["action"], json!("deliver"));
    let names: Vec<&str> = exchange
        .hooks
        .borrow()
        .iter()
        .map(|(h, _)| h.name())
        .collect();
    assert_eq!(names, ["onBeforeVerify", "onAfterVerify", "onAfterSettle"]);
    assert_eq!(
        exchange.hooks.borrow()[0].1["resource"]["url"],
        json!("mcp://weather/tools/echo?text=hi")
    );
    assert_eq!(exchange.hooks.borrow()[2].1["credits"], json!("2"));
    // Refused: onPaymentError with the reason the caller gets.
    let refused = paid(&p, g, json!({}));
    assert_eq!(refused["action"], json!("refuse"));
    let told = refused.exchange.hooks.borrow();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].1["code"], json!("payment_required"));
    assert!(told[0].1["message"]
        .as_str()
        .unwrap()
        .contains("x402/payment"));
    // None of them without the options.
    let plain = paid(&p, gate(), json!({}));
    assert!(plain.exchange.hooks.borrow().is_empty());
    // A hook option that is not a function is refused by configure.
    let err = McpGate::new(&json!({"planId": "10", "onAfterSettle": "log"})).unwrap_err();
    assert!(
        err.to_string()
            .contains("mcp.configure: onAfterSettle must be a function"),
        "{err}"
    );
}

#[test]
fn a_plans_outage_is_told_to_on_payment_error_as_internal_not_a_refusal() {
    let p = payments();
    p.transport().on("GET", "/api/v1/protocol/plans/10", |_| {
        Err(Error::Network("down".into()))
    });
    let mark = json!({"$function": true});
    let g: &'static McpGate = Box::leak(Box::new(
        McpGate::new(&json!({"planId": "10", "serverName": "weather", "onPaymentError": mark}))
            .unwrap(),
    ));
    let answer = paid(&p, g, json!({"meta": in_band(&good_token())}));
    assert_eq!(
        answer["action"],
        json!("refuse"),
        "the official plans-outage shape"
    );
    let told = answer.exchange.hooks.borrow();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].1["code"], json!("internal"));
}
