//! MPP on the HTTP paywall against a scripted backend: the 402 with both
//! offers, a credential's verify, handler, settle and receipt, single use
//! (sequential and concurrent, keyed on the challenge id), and every failure
//! failing closed.

use super::super::tests::{
    backend_calls, begin_request, finish_request, good_token, header, payments, request, settle_ok,
    verify_ok, with_plans,
};
use super::super::Gate;
use crate::json;
use crate::payments::Payments;
use crate::protocol::gate::Hook;
use crate::protocol::json::{parse, Value};
use crate::protocol::mpp::{credential, parse_challenge};
use crate::transport::mock::MockTransport;
use crate::transport::HttpResponse;
use std::cell::Cell;
use std::rc::Rc;

const URL: &str = "http://127.0.0.1:8787/ask?q=1";

fn gate(mpp: Value) -> Gate {
    Gate::new(&json!({
        "agentId": "agent-1",
        "routes": {"POST /ask": {"planId": "10", "credits": 2, "mpp": mpp}},
        "onPaymentError": {"$function": true},
        "onAfterSettle": {"$function": true},
    }))
    .unwrap()
}

/// The backend issues challenge `c<n>` (a real header: its request names plan 10, 2 credits).
fn challenges(p: &Payments<MockTransport>) -> Rc<Cell<u32>> {
    let issued = Rc::new(Cell::new(0));
    let n = Rc::clone(&issued);
    p.transport().on("POST", "/api/v1/mpp/challenge", move |_| {
        n.set(n.get() + 1);
        Ok(HttpResponse {
            status: 201,
            body: json!({"challenge": challenge_header(&format!("c{}", n.get())), "id": format!("c{}", n.get())}).to_string(),
        })
    });
    issued
}

/// A seller's backend: the plans' schemes known, challenges issued (how many: the counter).
fn seller() -> (Payments<MockTransport>, Rc<Cell<u32>>) {
    let p = payments();
    with_plans(&p);
    let issued = challenges(&p);
    (p, issued)
}

fn challenge_header(id: &str) -> String {
    // {"credits":"2","planId":"10"}
    format!(
        r#"Payment id="{id}", realm="127.0.0.1", method="nevermined", intent="charge", request="eyJjcmVkaXRzIjoiMiIsInBsYW5JZCI6IjEwIn0", expires="2026-12-06T10:05:00.000Z""#
    )
}

fn credential_for(id: &str) -> String {
    let challenge = parse_challenge(&challenge_header(id)).unwrap().unwrap();
    credential(&challenge, "mpp-token")
}

fn mpp_verify_ok(p: &Payments<MockTransport>) {
    p.transport().json(
        "POST",
        "/api/v1/mpp/verify",
        200,
        json!({"isValid": true, "payer": "0xsubscriber"}),
    );
}

fn mpp_settle_ok(p: &Payments<MockTransport>) {
    p.transport().json("POST", "/api/v1/mpp/settle", 200, json!({"success": true, "transaction": "0xtx", "network": "eip155:84532", "creditsRedeemed": "2", "paymentReceipt": "cmVjZWlwdA"}));
}

fn paid(credential: &str) -> Value {
    request("POST", URL, json!({"authorization": credential}))
}

fn response(out: &Value) -> (u64, Value, Value) {
    let r = &out["response"];
    (
        r["status"].as_u64().unwrap(),
        r["headers"].clone(),
        parse(r["body"].as_str().unwrap()).unwrap(),
    )
}

fn hooks(began: &super::super::tests::Began<'_>, hook: Hook) -> Vec<Value> {
    began
        .exchange
        .hooks
        .borrow()
        .iter()
        .filter(|(h, _)| *h == hook)
        .map(|(_, d)| d.clone())
        .collect()
}

#[test]
fn an_unpaid_request_gets_both_offers_and_the_challenge_names_the_route() {
    let (p, issued) = seller();
    let g = gate(json!(true));
    let out = begin_request(&g, &p, &request("POST", URL, json!({})));
    let (status, headers, body) = response(&out.answer_value());
    assert_eq!(status, 402);
    assert_eq!(
        header(&headers, "www-authenticate"),
        Some(challenge_header("c1").as_str())
    );
    assert!(
        header(&headers, "payment-required").is_some(),
        "x402 buyers are still served"
    );
    assert_eq!(body["error"], "Payment Required");
    assert!(
        body.get("code").is_none() && body.get("retryable").is_none(),
        "{body}"
    );
    assert_eq!(issued.get(), 1);
    assert_eq!(
        p.transport().last_body("/api/v1/mpp/challenge"),
        json!({"planId": "10", "credits": "2", "resource": "/ask?q=1", "httpVerb": "POST", "agentId": "agent-1"})
    );
    assert!(!out.exchange.ran.get());
    assert!(
        hooks(&out, Hook::PaymentError).is_empty(),
        "the opening request is not an error"
    );
}

#[test]
fn a_credential_is_verified_the_handler_runs_then_it_is_settled_and_the_receipt_delivered() {
    let (p, _) = seller();
    mpp_verify_ok(&p);
    mpp_settle_ok(&p);
    let g = gate(json!(true));
    let cred = credential_for("c1");
    let began = begin_request(&g, &p, &paid(&cred));
    assert_eq!(began["action"], "proceed");
    assert_eq!(
        p.transport().count("/api/v1/mpp/settle"),
        0,
        "nothing burned before the handler"
    );
    let verified = p.transport().last_body("/api/v1/mpp/verify");
    assert_eq!(
        verified,
        json!({"credential": cred, "resource": "/ask?q=1", "httpVerb": "POST"})
    );
    assert_eq!(
        began.exchange.context.borrow()["mpp"],
        json!({"credential": cred, "resource": "/ask?q=1", "httpVerb": "POST"}),
        "the handler is told it was paid with MPP"
    );
    let exchange = Rc::clone(&began.exchange);
    let out = finish_request(began, 200, None);
    assert_eq!(out["action"], "deliver");
    assert_eq!(
        header(&out["headers"], "payment-receipt"),
        Some("cmVjZWlwdA")
    );
    assert_eq!(p.transport().last_body("/api/v1/mpp/settle"), verified);
    let settled: Vec<_> = exchange
        .hooks
        .borrow()
        .iter()
        .filter(|(h, _)| *h == Hook::AfterSettle)
        .map(|(_, d)| d.clone())
        .collect();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0]["credits"], "2");
}

#[test]
fn a_spent_credential_is_refused_with_a_fresh_challenge_however_its_bytes_are_written() {
    let (p, issued) = seller();
    mpp_verify_ok(&p);
    mpp_settle_ok(&p);
    let g = gate(json!(true));
    let cred = credential_for("c1");
    let began = begin_request(&g, &p, &paid(&cred));
    finish_request(began, 200, None);
    let verifies = p.transport().count("/api/v1/mpp/verify");
    // The same credential, and the same one with its scheme's case flipped and another scheme after it.
    let flipped = format!(
        "payment {}, Bearer own-key",
        cred.strip_prefix("Payment ").unwrap()
    );
    for replay in [cred.clone(), flipped] {
        let out = begin_request(&g, &p, &paid(&replay));
        let (status, headers, body) = response(&out.answer_value());
        assert_eq!(status, 402, "{replay}");
        assert_eq!(body["code"], "BCK.MPP.0003");
        assert_eq!(body["retryable"], false);
        assert!(header(&headers, "www-authenticate").is_some());
        assert!(!out.exchange.ran.get());
    }
    assert_eq!(
        p.transport().count("/api/v1/mpp/verify"),
        verifies,
        "a replay costs no verify"
    );
    assert_eq!(p.transport().count("/api/v1/mpp/settle"), 1);
    assert_eq!(issued.get(), 2);
}

#[test]
fn two_requests_with_one_credential_at_once_get_one_response_and_a_409() {
    let (p, _) = seller();
    mpp_verify_ok(&p);
    mpp_settle_ok(&p);
    let g = gate(json!(true));
    let cred = credential_for("c1");
    let first = begin_request(&g, &p, &paid(&cred));
    assert_eq!(first["action"], "proceed");
    let second = begin_request(&g, &p, &paid(&cred));
    let (status, _, body) = response(&second.answer_value());
    assert_eq!((status, body["error"].as_str()), (409, Some("Conflict")));
    assert!(!second.exchange.ran.get());
    assert_eq!(hooks(&second, Hook::PaymentError).len(), 1);
    assert_eq!(finish_request(first, 200, None)["action"], "deliver");
    assert_eq!(p.transport().count("/api/v1/mpp/settle"), 1);
}

#[test]
fn a_refused_credential_gets_the_backend_code_and_a_fresh_challenge_and_the_handler_never_runs() {
    for (code, retryable) in [
        ("BCK.MPP.0004", true),
        ("BCK.MPP.0005", true),
        ("BCK.MPP.0003", false),
    ] {
        let (p, _) = seller();
        p.transport().json(
            "POST",
            "/api/v1/mpp/verify",
            400,
            json!({"code": code, "message": "refused with a detail for the seller"}),
        );
        let g = gate(json!(true));
        let out = begin_request(&g, &p, &paid(&credential_for("c1")));
        let (status, headers, body) = response(&out.answer_value());
        assert_eq!(status, 402);
        assert_eq!(
            (body["code"].as_str(), body["retryable"].as_bool()),
            (Some(code), Some(retryable))
        );
        assert_eq!(
            body["message"], "Credential rejected",
            "the buyer gets no detail to probe with"
        );
        assert!(header(&headers, "www-authenticate").is_some());
        assert!(!out.exchange.ran.get());
        assert_eq!(hooks(&out, Hook::PaymentError).len(), 1);
    }
    // isValid: false is the one rejection code.
    let (p, _) = seller();
    p.transport().json(
        "POST",
        "/api/v1/mpp/verify",
        200,
        json!({"isValid": false, "invalidReason": "no credits"}),
    );
    let g = gate(json!(true));
    let out = begin_request(&g, &p, &paid(&credential_for("c1")));
    assert_eq!(response(&out.answer_value()).2["code"], "BCK.MPP.0003");
}

#[test]
fn a_settle_that_fails_withholds_the_response_and_frees_the_credential() {
    let (p, _) = seller();
    mpp_verify_ok(&p);
    p.transport().json(
        "POST",
        "/api/v1/mpp/settle",
        200,
        json!({"success": false, "errorReason": "insufficient balance"}),
    );
    let g = gate(json!(true));
    let cred = credential_for("c1");
    let out = finish_request(begin_request(&g, &p, &paid(&cred)), 200, None);
    assert_eq!(out["action"], "respond", "the paid body is not delivered");
    let (status, headers, body) = response(&out);
    assert_eq!((status, body["code"].as_str()), (402, Some("BCK.MPP.0003")));
    assert!(header(&headers, "www-authenticate").is_some());
    // Not spent: the claim is released (the backend decides again).
    let again = begin_request(&g, &p, &paid(&cred));
    assert_eq!(again["action"], "proceed");
}

#[test]
fn a_backend_down_at_settle_is_a_503_and_the_credential_stays_the_buyers() {
    let (p, _) = seller();
    mpp_verify_ok(&p);
    p.transport().json(
        "POST",
        "/api/v1/mpp/settle",
        502,
        json!({"message": "bad gateway"}),
    );
    let g = gate(json!(true));
    let cred = credential_for("c1");
    let out = finish_request(begin_request(&g, &p, &paid(&cred)), 200, None);
    assert_eq!(out["action"], "respond");
    assert_eq!(response(&out).0, 503);
    mpp_settle_ok(&p);
    let retried = finish_request(begin_request(&g, &p, &paid(&cred)), 200, None);
    assert_eq!(
        retried["action"], "deliver",
        "the settle is idempotent per challenge: a retry is served once"
    );
}

#[test]
fn a_handler_that_fails_or_answers_an_error_is_not_settled() {
    let (p, _) = seller();
    mpp_verify_ok(&p);
    mpp_settle_ok(&p);
    let g = gate(json!(true));
    let cred = credential_for("c1");
    let out = finish_request(begin_request(&g, &p, &paid(&cred)), 0, None);
    assert_eq!(response(&out).0, 500);
    let out = finish_request(begin_request(&g, &p, &paid(&cred)), 404, None);
    assert_eq!(out["action"], "deliver");
    assert!(header(&out["headers"], "payment-receipt").is_none());
    assert_eq!(p.transport().count("/api/v1/mpp/settle"), 0);
}

#[test]
fn bind_body_seals_the_digest_into_the_challenge_and_the_verify() {
    let (p, _) = seller();
    mpp_verify_ok(&p);
    let g = gate(json!({"bindBody": true}));
    let began = super::super::tests::start(|x| {
        *x.digest.borrow_mut() = Some("sha-256=abc".into());
        let request = request("POST", URL, json!({}));
        let (g, p) = (&g, &p);
        Box::pin(async move { g.handle(p, &request, &x).await })
    });
    assert_eq!(response(&began.answer_value()).0, 402);
    assert_eq!(
        p.transport().last_body("/api/v1/mpp/challenge")["digest"],
        "sha-256=abc"
    );
    // A body that can't be read binds nothing: refused, nothing asked of the backend.
    let calls = backend_calls(&p);
    let out = begin_request(&g, &p, &request("POST", URL, json!({})));
    assert_eq!(response(&out.answer_value()).0, 500);
    assert_eq!(backend_calls(&p), calls);
}

#[test]
fn an_x402_token_on_an_mpp_route_still_pays_with_x402() {
    let (p, _) = seller();
    verify_ok(&p);
    settle_ok(&p);
    let g = gate(json!(true));
    let began = begin_request(
        &g,
        &p,
        &request("POST", URL, json!({"payment-signature": good_token()})),
    );
    assert_eq!(began["action"], "proceed");
    finish_request(began, 200, None);
    assert_eq!(
        (
            p.transport().count("/api/v1/x402/settle"),
            p.transport().count("/api/v1/mpp/challenge")
        ),
        (1, 0)
    );
}

#[test]
fn a_challenge_that_cannot_be_issued_leaves_the_x402_offer_and_says_so() {
    let p = payments();
    with_plans(&p);
    p.transport().json(
        "POST",
        "/api/v1/mpp/challenge",
        503,
        json!({"code": "BCK.MPP.0002", "message": "MPP is not configured"}),
    );
    let g = gate(json!(true));
    let out = begin_request(&g, &p, &request("POST", URL, json!({})));
    let (status, headers, _) = response(&out.answer_value());
    assert_eq!(status, 402);
    assert!(header(&headers, "www-authenticate").is_none());
    assert!(header(&headers, "payment-required").is_some());
    assert_eq!(hooks(&out, Hook::PaymentError).len(), 1);
}

#[test]
fn an_authorization_without_a_payment_scheme_is_told_to_on_payment_error() {
    let (p, _) = seller();
    let g = gate(json!(true));
    let out = begin_request(
        &g,
        &p,
        &request("POST", URL, json!({"authorization": "Basic dXNlcjpwYXNz"})),
    );
    assert_eq!(response(&out.answer_value()).0, 402);
    let told = hooks(&out, Hook::PaymentError);
    assert_eq!(told.len(), 1);
    assert!(told[0]["message"]
        .as_str()
        .unwrap()
        .contains("no MPP Payment scheme"));
}

#[test]
fn mpp_needs_fixed_credits_and_a_known_shape() {
    let e = Gate::new(&json!({"agentId": "a", "routes": {"POST /ask": {"planId": "1", "credits": {"$function": true}, "mpp": true}}})).unwrap_err();
    assert!(e.to_string().contains("mpp needs fixed credits"), "{e}");
    let e =
        Gate::new(&json!({"agentId": "a", "routes": {"POST /ask": {"planId": "1", "mpp": "yes"}}}))
            .unwrap_err();
    assert!(
        e.to_string()
            .contains("mpp must be true, false or {bindBody}"),
        "{e}"
    );
}

#[test]
fn a_settle_the_backend_calls_a_replay_delivers_nothing() {
    // Another instance (or one that forgot) already sold this credential's response.
    let (p, _) = seller();
    mpp_verify_ok(&p);
    p.transport().json("POST", "/api/v1/mpp/settle", 200, json!({"success": true, "replayed": true, "creditsRedeemed": "2", "paymentReceipt": "cmVjZWlwdA"}));
    let g = gate(json!(true));
    let out = finish_request(
        begin_request(&g, &p, &paid(&credential_for("c1"))),
        200,
        None,
    );
    assert_eq!(out["action"], "respond", "the handler's answer is withheld");
    let (status, headers, body) = response(&out);
    assert_eq!(
        (status, body["code"].as_str(), body["retryable"].as_bool()),
        (402, Some("BCK.MPP.0003"), Some(false))
    );
    assert!(header(&headers, "payment-receipt").is_none());
}
