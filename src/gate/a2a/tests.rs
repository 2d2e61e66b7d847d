//! The A2A paywall's lifecycle against a scripted backend, task store and
//! executor: each decision, and the backend calls it makes.

use super::{A2aExchange, A2aGate};
use crate::gate::tests::{
    backend_calls, good_token, payments, run, settle_ok, token, verify_ok, with_plans,
};
use crate::json;
use crate::payments::Payments;
use crate::protocol::decode_access_token;
use crate::protocol::gate::a2a::build_payment_agent_card;
use crate::protocol::json::Value;
use crate::transport::mock::MockTransport;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

const URL: &str = "https://agent.example/a2a";

fn gate(credits: u64) -> A2aGate {
    let card = build_payment_agent_card(
        &json!({"name": "echo", "url": URL, "capabilities": {}}),
        &json!({"agentId": "agent-1", "planId": "10", "credits": credits, "paymentType": "fixed"}),
    )
    .unwrap();
    A2aGate::new(&json!({ "agentCard": card })).unwrap()
}

/// An in-memory store and an executor answering `reply` (None: it throws).
#[derive(Default)]
struct Side {
    tasks: RefCell<HashMap<String, Value>>,
    reply: RefCell<Option<Value>>,
    ran: Cell<u32>,
    context: RefCell<Value>,
    /// The claim loses (another isolate claimed first).
    lose_claim: Cell<bool>,
}

impl A2aExchange for Side {
    async fn store(&self, op: &str, arg: &Value) -> Option<Value> {
        let mut tasks = self.tasks.borrow_mut();
        match op {
            "load" => Some(
                tasks
                    .get(arg["id"].as_str().unwrap())
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
            "save" => {
                tasks.insert(arg["id"].as_str().unwrap().to_owned(), arg.clone());
                Some(Value::Bool(true))
            }
            "claim" => {
                let id = arg["id"].as_str().unwrap();
                let ok = !self.lose_claim.get()
                    && tasks
                        .get(id)
                        .is_some_and(|t| t["status"]["state"] == arg["expect"]);
                if ok {
                    tasks.insert(id.to_owned(), arg["task"].clone());
                }
                Some(Value::Bool(ok))
            }
            _ => None,
        }
    }

    async fn run(&self, context: &Value) -> Option<Value> {
        self.ran.set(self.ran.get() + 1);
        *self.context.borrow_mut() = context.clone();
        self.reply.borrow().clone()
    }
}

fn echo(text: &str, credits: Option<u64>) -> Value {
    let mut task = json!({"kind": "task", "id": "x", "contextId": "y",
        "status": {"state": "completed", "message": {"kind": "message", "messageId": "m9", "role": "agent", "parts": [{"kind": "text", "text": text}]}},
        "artifacts": [{"artifactId": "a", "parts": [{"kind": "text", "text": text}]}]});
    if let Some(c) = credits {
        task["metadata"] = json!({"creditsUsed": c});
    }
    json!({ "task": task })
}

fn send(
    p: &Payments<MockTransport>,
    g: &A2aGate,
    side: &Side,
    message: Value,
    header: Option<&str>,
) -> Value {
    let out = call(p, g, side, "message/send", message, header);
    assert_eq!(out["stream"], Value::Null);
    crate::protocol::json::parse(out["body"].as_str().unwrap()).unwrap()
}

/// `message/stream`: the events of its Server-Sent Events body, each a JSON-RPC response.
fn stream(p: &Payments<MockTransport>, g: &A2aGate, side: &Side, message: Value) -> Vec<Value> {
    let out = call(p, g, side, "message/stream", message, None);
    assert_eq!(out["stream"], json!(true));
    let body = out["body"].as_str().unwrap();
    assert!(body.ends_with("\n\n"), "{body}");
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| crate::protocol::json::parse(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

fn call(
    p: &Payments<MockTransport>,
    g: &A2aGate,
    side: &Side,
    method: &str,
    message: Value,
    header: Option<&str>,
) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": {"message": message}});
    let headers = match header {
        Some(t) => json!({"payment-signature": t}),
        None => json!({}),
    };
    let request = json!({"method": "POST", "url": URL, "headers": headers, "body": body.to_string(),
        "ids": ["t-1", "c-1", "m-1"], "now": "2025-01-01T00:00:00Z"});
    let out: Value =
        crate::protocol::json::parse(&run(g.handle(p, &request, side)).unwrap()).unwrap();
    assert_eq!(out["status"], json!(200));
    out
}

fn message(task_id: Option<&str>, payment: Option<Value>) -> Value {
    let mut m = json!({"kind": "message", "messageId": "u-1", "role": "user", "parts": [{"kind": "text", "text": "hello"}]});
    if let Some(t) = task_id {
        m["taskId"] = json!(t);
    }
    if let Some(pay) = payment {
        m["metadata"] =
            json!({"x402.payment.status": "payment-submitted", "x402.payment.payload": pay});
    }
    m
}

/// The backend refuses every settle (the subscriber's credits ran out meanwhile).
fn refuse_settles(p: &Payments<MockTransport>) {
    p.transport().json(
        "POST",
        "/api/v1/x402/settle",
        200,
        json!({"success": false, "errorReason": "insufficient balance"}),
    );
}

fn payload(t: &str) -> Value {
    Value::Object(decode_access_token(t).unwrap())
}

fn meta(task: &Value) -> &Value {
    &task["status"]["message"]["metadata"]
}

#[test]
fn unpaid_send_is_an_input_required_task_asking_for_payment_kept_in_the_store_and_nothing_charged()
{
    let p = payments();
    with_plans(&p);
    let (g, side) = (gate(1), Side::default());
    let answer = send(&p, &g, &side, message(None, None), None);
    let task = &answer["result"];
    assert_eq!(answer["id"], json!(7));
    assert_eq!(task["status"]["state"], json!("input-required"));
    assert_eq!(meta(task)["x402.payment.status"], json!("payment-required"));
    let pr = &meta(task)["x402.payment.required"];
    assert_eq!(pr["accepts"][0]["planId"], json!("10"));
    assert_eq!(pr["accepts"][0]["extra"]["agentId"], json!("agent-1"));
    assert_eq!(pr["resource"]["url"], json!(URL));
    assert_eq!(side.tasks.borrow()["t-1"], *task);
    assert_eq!(side.ran.get(), 0);
    assert_eq!(backend_calls(&p), 1, "only the plan's scheme");
}

#[test]
fn the_paid_follow_up_verifies_the_cards_credits_runs_settles_and_completes_once() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let (g, side) = (gate(3), Side::default());
    send(&p, &g, &side, message(None, None), None);
    *side.reply.borrow_mut() = Some(echo("hello", Some(2)));
    let answer = send(
        &p,
        &g,
        &side,
        message(Some("t-1"), Some(payload(&good_token()))),
        None,
    );
    let task = &answer["result"];
    assert_eq!(task["id"], json!("t-1"));
    assert_eq!(task["status"]["state"], json!("completed"), "{answer}");
    assert_eq!(
        meta(task)["x402.payment.status"],
        json!("payment-completed")
    );
    assert_eq!(
        meta(task)["x402.payment.receipts"][0]["transaction"],
        json!("0xtx")
    );
    assert_eq!(task["artifacts"][0]["parts"][0]["text"], json!("hello"));
    assert_eq!(task["metadata"]["creditsCharged"], json!("2"));
    assert_eq!(
        p.transport().last_body("/api/v1/x402/verify")["maxAmount"],
        json!("3")
    );
    assert_eq!(
        p.transport().last_body("/api/v1/x402/settle")["maxAmount"],
        json!("2")
    );
    // The executor never sees the payload (a token), nor does the store keep it.
    let seen = side.context.borrow().clone();
    assert_eq!(
        seen["userMessage"]["metadata"].get("x402.payment.payload"),
        None
    );
    assert_eq!(seen["subscriberAddress"], json!("0xsubscriber"));
    assert!(!side.tasks.borrow()["t-1"].to_string().contains("0xsig"));
    // A second follow-up on the same task is not paid again.
    let calls = backend_calls(&p);
    let again = send(
        &p,
        &g,
        &side,
        message(Some("t-1"), Some(payload(&good_token()))),
        None,
    );
    assert_eq!(again["error"]["code"], json!(-32600));
    assert_eq!(backend_calls(&p), calls);
    assert_eq!(side.ran.get(), 1);
}

#[test]
fn reported_credits_above_the_verified_amount_are_capped_and_none_reported_charges_the_cards() {
    for (reported, charged) in [(Some(9), "3"), (None, "3")] {
        let p = payments();
        with_plans(&p);
        verify_ok(&p);
        settle_ok(&p);
        let (g, side) = (gate(3), Side::default());
        *side.reply.borrow_mut() = Some(echo("hi", reported));
        let answer = send(
            &p,
            &g,
            &side,
            message(None, Some(payload(&good_token()))),
            None,
        );
        assert_eq!(answer["result"]["status"]["state"], json!("completed"));
        assert_eq!(
            p.transport().last_body("/api/v1/x402/settle")["maxAmount"],
            json!(charged)
        );
    }
}

#[test]
fn a_settle_that_fails_is_payment_failed_with_no_content() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    refuse_settles(&p);
    let (g, side) = (gate(1), Side::default());
    *side.reply.borrow_mut() = Some(echo("secret answer", Some(1)));
    let answer = send(
        &p,
        &g,
        &side,
        message(None, Some(payload(&good_token()))),
        None,
    );
    let task = &answer["result"];
    assert_eq!(task["status"]["state"], json!("failed"));
    assert_eq!(meta(task)["x402.payment.status"], json!("payment-failed"));
    assert_eq!(meta(task)["x402.payment.error"], json!("SETTLEMENT_FAILED"));
    assert!(!answer.to_string().contains("secret answer"), "{answer}");
    assert!(!side.tasks.borrow()["t-1"]
        .to_string()
        .contains("secret answer"));
}

#[test]
fn refused_payments_leave_the_task_waiting_and_never_run_the_executor() {
    let other_plan = token("99", "nvm:erc4337", "eip155:84532", None);
    let big = json!({"x402Version": 2, "pad": "x".repeat(70 * 1024)});
    for (why, pay) in [
        ("plan", payload(&other_plan)),
        ("size", big),
        ("shape", json!("a string")),
    ] {
        let p = payments();
        with_plans(&p);
        let (g, side) = (gate(1), Side::default());
        send(&p, &g, &side, message(None, None), None);
        let answer = send(&p, &g, &side, message(Some("t-1"), Some(pay)), None);
        let task = &answer["result"];
        assert_eq!(task["status"]["state"], json!("input-required"), "{why}");
        assert_eq!(
            meta(task)["x402.payment.error"],
            json!("PAYMENT_REFUSED"),
            "{why}"
        );
        assert!(
            meta(task)["x402.payment.required"]["error"].is_string(),
            "{why}"
        );
        assert_eq!(side.ran.get(), 0, "{why}");
        assert_eq!(backend_calls(&p), 1, "{why}: no verify");
        assert!(
            crate::protocol::gate::a2a::is_pending(&side.tasks.borrow()["t-1"]),
            "{why}"
        );
    }
}

#[test]
fn a_lost_claim_charges_nothing_and_runs_nothing() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let (g, side) = (gate(1), Side::default());
    send(&p, &g, &side, message(None, None), None);
    side.lose_claim.set(true);
    let answer = send(
        &p,
        &g,
        &side,
        message(Some("t-1"), Some(payload(&good_token()))),
        None,
    );
    assert_eq!(answer["error"]["code"], json!(-32600));
    assert_eq!(side.ran.get(), 0);
    assert!(p.transport().count("/api/v1/x402/settle") == 0);
}

#[test]
fn the_legacy_header_pays_a_new_task_and_a_throwing_executor_is_charged_nothing() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let (g, side) = (gate(1), Side::default());
    *side.reply.borrow_mut() = Some(echo("hi", None));
    let answer = send(&p, &g, &side, message(None, None), Some(&good_token()));
    assert_eq!(answer["result"]["status"]["state"], json!("completed"));
    *side.reply.borrow_mut() = None;
    let before = p.transport().count("/api/v1/x402/settle");
    let answer = send(&p, &g, &side, message(None, None), Some(&good_token()));
    assert_eq!(answer["result"]["status"]["state"], json!("failed"));
    assert_eq!(
        meta(&answer["result"])["x402.payment.error"],
        json!("EXECUTION_FAILED")
    );
    let after = p.transport().count("/api/v1/x402/settle");
    assert_eq!(before, after);
}

#[test]
fn the_card_is_served_at_both_paths_and_other_requests_are_not_the_servers() {
    let p = payments();
    let (g, side) = (gate(1), Side::default());
    for path in ["/.well-known/agent-card.json", "/.well-known/agent.json"] {
        let request = json!({"method": "GET", "url": format!("https://agent.example{path}")});
        let out: Value =
            crate::protocol::json::parse(&run(g.handle(&p, &request, &side)).unwrap()).unwrap();
        assert_eq!(out["status"], json!(200));
        let card: Value = crate::protocol::json::parse(out["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            card["capabilities"]["extensions"][0]["uri"],
            json!("urn:nevermined:payment")
        );
    }
    let out: Value = crate::protocol::json::parse(
        &run(g.handle(&p, &json!({"method": "GET", "url": URL}), &side)).unwrap(),
    )
    .unwrap();
    assert_eq!(out["status"], json!(404));
}

/// The echo executor's outcome with the events it published.
fn echo_events(text: &str) -> Value {
    let mut out = echo(text, Some(1));
    let artifact = json!({"kind": "artifact-update", "taskId": "x", "contextId": "y", "artifact": {"artifactId": "a", "parts": [{"kind": "text", "text": text}]}});
    let working = json!({"kind": "status-update", "taskId": "x", "contextId": "y", "status": {"state": "working"}, "final": false});
    let done = json!({"kind": "status-update", "taskId": "x", "contextId": "y", "status": out["task"]["status"].clone(), "final": true, "metadata": {"creditsUsed": 1}});
    let reply = json!({"kind": "message", "messageId": "m9", "role": "agent", "parts": [{"kind": "text", "text": text}]});
    out["events"] = json!([working, artifact, reply, done]);
    out
}

#[test]
fn message_stream_asks_for_payment_in_one_event_then_streams_the_paid_task_once_settled() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let (g, side) = (gate(1), Side::default());
    let asked = stream(&p, &g, &side, message(None, None));
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["id"], json!(7));
    let task = &asked[0]["result"];
    assert_eq!(task["status"]["state"], json!("input-required"));
    assert_eq!(meta(task)["x402.payment.status"], json!("payment-required"));
    assert_eq!(side.ran.get(), 0);
    *side.reply.borrow_mut() = Some(echo_events("hello"));
    let events = stream(
        &p,
        &g,
        &side,
        message(Some("t-1"), Some(payload(&good_token()))),
    );
    assert_eq!(
        side.context.borrow()["stream"],
        json!(true),
        "the executor is asked for its events"
    );
    let kinds: Vec<_> = events.iter().map(|e| e["result"]["kind"].clone()).collect();
    // The working task, the events on the way, then the final status stamped with the payment
    // (the executor's own final update and its message are in it).
    assert_eq!(
        kinds,
        [
            json!("task"),
            json!("status-update"),
            json!("artifact-update"),
            json!("status-update")
        ]
    );
    assert!(events.iter().all(|e| e["id"] == json!(7)));
    assert_eq!(events[0]["result"]["status"]["state"], json!("working"));
    assert_eq!(events[0]["result"]["id"], json!("t-1"));
    let last = &events[3]["result"];
    assert_eq!(
        (last["final"].clone(), last["taskId"].clone()),
        (json!(true), json!("t-1"))
    );
    assert_eq!(last["status"]["state"], json!("completed"));
    assert_eq!(
        last["status"]["message"]["parts"][0]["text"],
        json!("hello")
    );
    assert_eq!(
        meta(last)["x402.payment.status"],
        json!("payment-completed")
    );
    assert_eq!(
        meta(last)["x402.payment.receipts"][0]["transaction"],
        json!("0xtx")
    );
    assert_eq!(last["metadata"]["creditsCharged"], json!("1"));
    assert_eq!(backend_calls(&p), 3, "plans, verify, one settle");
}

#[test]
fn a_stream_whose_settle_fails_withholds_every_paid_event() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    refuse_settles(&p);
    let (g, side) = (gate(1), Side::default());
    *side.reply.borrow_mut() = Some(echo_events("secret answer"));
    let events = stream(&p, &g, &side, message(None, Some(payload(&good_token()))));
    assert_eq!(events.len(), 1, "{events:?}");
    let task = &events[0]["result"];
    assert_eq!(task["status"]["state"], json!("failed"));
    assert_eq!(meta(task)["x402.payment.status"], json!("payment-failed"));
    assert!(!format!("{events:?}").contains("secret answer"));
    // An executor that throws: one event too, charged nothing.
    *side.reply.borrow_mut() = None;
    let events = stream(&p, &g, &side, message(None, Some(payload(&good_token()))));
    assert_eq!(events.len(), 1);
    assert_eq!(
        meta(&events[0]["result"])["x402.payment.error"],
        json!("EXECUTION_FAILED")
    );
    // A JSON-RPC error is an event as well.
    let events = stream(&p, &g, &side, json!({"kind": "message"}));
    assert_eq!(events[0]["error"]["code"], json!(-32602));
}
