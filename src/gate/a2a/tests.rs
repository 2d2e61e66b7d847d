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
    /// The expiry each task was saved with (`{at, task}`), if any.
    expiries: RefCell<HashMap<String, Value>>,
    reply: RefCell<Option<Value>>,
    ran: Cell<u32>,
    context: RefCell<Value>,
    /// The claim loses (another isolate claimed first).
    lose_claim: Cell<bool>,
    /// Before the next claim, another request writes this task (and the claim then loses).
    racing_write: RefCell<Option<Value>>,
    /// The executor runs here and stops when told (`cancel`): the task is then stored canceled.
    cancel_here: Cell<bool>,
    /// The hooks called: (name, detail).
    hooks: RefCell<Vec<(String, Value)>>,
    /// Every save and claim, as the store was asked: (op, arg). The store
    /// ignores `removeAt` (as a custom store may): the paywall must not.
    writes: RefCell<Vec<(String, Value)>>,
}

impl A2aExchange for Side {
    async fn store(&self, op: &str, arg: &Value) -> Option<Value> {
        let mut tasks = self.tasks.borrow_mut();
        if op != "load" {
            self.writes.borrow_mut().push((op.to_owned(), arg.clone()));
        }
        match op {
            "load" => Some(
                tasks
                    .get(arg["id"].as_str().unwrap())
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
            "save" => {
                let id = arg["task"]["id"].as_str().unwrap().to_owned();
                match arg.get("expiry") {
                    Some(e) => self.expiries.borrow_mut().insert(id.clone(), e.clone()),
                    None => self.expiries.borrow_mut().remove(&id),
                };
                tasks.insert(id, arg["task"].clone());
                Some(Value::Bool(true))
            }
            "claim" => {
                let id = arg["id"].as_str().unwrap();
                if let Some(other) = self.racing_write.borrow_mut().take() {
                    tasks.insert(id.to_owned(), other);
                    return Some(Value::Bool(false));
                }
                let ok = !self.lose_claim.get()
                    && tasks
                        .get(id)
                        .is_some_and(|t| t["status"]["state"] == arg["expect"]);
                if ok {
                    tasks.insert(id.to_owned(), arg["task"].clone());
                    self.expiries.borrow_mut().remove(id);
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

    async fn cancel(&self, task_id: &str) -> bool {
        if !self.cancel_here.get() {
            return false;
        }
        let mut tasks = self.tasks.borrow_mut();
        let task = tasks.get_mut(task_id).unwrap();
        task["status"] = json!({"state": "canceled"});
        true
    }

    async fn hook(&self, name: &str, detail: &Value) {
        self.hooks
            .borrow_mut()
            .push((name.to_owned(), detail.clone()));
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
    send_as(p, g, side, "message/send", message, header)
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
    call_with(p, g, side, method, json!({ "message": message }), header)
}

/// One JSON-RPC call (`params` as given): the gate's `{status, body, stream?}`.
fn call_with(
    p: &Payments<MockTransport>,
    g: &A2aGate,
    side: &Side,
    method: &str,
    params: Value,
    header: Option<&str>,
) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
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

/// A JSON-RPC call answered with one JSON body: the response.
fn rpc(
    p: &Payments<MockTransport>,
    g: &A2aGate,
    side: &Side,
    method: &str,
    params: Value,
) -> Value {
    let out = call_with(p, g, side, method, params, None);
    assert_eq!(out["stream"], Value::Null);
    crate::protocol::json::parse(out["body"].as_str().unwrap()).unwrap()
}

/// A paying `message/send` (the in-band payload of a good token): the follow-up
/// on `task_id`, or a new task.
fn pay(p: &Payments<MockTransport>, g: &A2aGate, side: &Side, task_id: Option<&str>) -> Value {
    send(
        p,
        g,
        side,
        message(task_id, Some(payload(&good_token()))),
        None,
    )
}

/// A client whose backend knows the plan, says yes to verify and settles.
fn paying() -> Payments<MockTransport> {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    p
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
    let p = paying();
    let (g, side) = (gate(3), Side::default());
    send(&p, &g, &side, message(None, None), None);
    *side.reply.borrow_mut() = Some(echo("hello", Some(2)));
    let answer = pay(&p, &g, &side, Some("t-1"));
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
    let again = pay(&p, &g, &side, Some("t-1"));
    assert_eq!(again["error"]["code"], json!(-32600));
    assert_eq!(backend_calls(&p), calls);
    assert_eq!(side.ran.get(), 1);
}

#[test]
fn reported_credits_above_the_verified_amount_are_capped_and_none_reported_charges_the_cards() {
    for (reported, charged) in [(Some(9), "3"), (None, "3")] {
        let p = paying();
        let (g, side) = (gate(3), Side::default());
        *side.reply.borrow_mut() = Some(echo("hi", reported));
        let answer = pay(&p, &g, &side, None);
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
    let answer = pay(&p, &g, &side, None);
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
    let p = paying();
    let (g, side) = (gate(1), Side::default());
    send(&p, &g, &side, message(None, None), None);
    side.lose_claim.set(true);
    let answer = pay(&p, &g, &side, Some("t-1"));
    assert_eq!(answer["error"]["code"], json!(-32600));
    assert_eq!(side.ran.get(), 0);
    assert!(p.transport().count("/api/v1/x402/settle") == 0);
}

#[test]
fn the_legacy_header_pays_a_new_task_and_a_throwing_executor_is_charged_nothing() {
    let p = paying();
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
    let p = paying();
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

/// A gate with these options besides the card (`pendingTaskTtlSeconds`, `hooks`).
fn gate_with(options: Value) -> A2aGate {
    let card = build_payment_agent_card(
        &json!({"name": "echo", "url": URL, "capabilities": {"streaming": true}}),
        &json!({"agentId": "agent-1", "planId": "10", "credits": 1, "paymentType": "fixed"}),
    )
    .unwrap();
    let mut all = options;
    all["agentCard"] = card;
    A2aGate::new(&all).unwrap()
}

/// What a task's status message says (`x402.payment.status`, `x402.payment.error`).
fn says(task: &Value) -> (Value, Value) {
    (
        meta(task)["x402.payment.status"].clone(),
        meta(task)["x402.payment.error"].clone(),
    )
}

#[test]
fn a_task_asking_for_payment_is_kept_with_its_expiry_by_default_15_minutes() {
    let p = payments();
    with_plans(&p);
    p.transport().now.set(1_000_000);
    let (g, side) = (gate(1), Side::default());
    let task = send(&p, &g, &side, message(None, None), None)["result"].clone();
    let at = 1_000_000 + 900_000;
    assert_eq!(task["metadata"]["paymentExpiresAt"], json!(at));
    let expiry = side.expiries.borrow()["t-1"].clone();
    assert_eq!(expiry["at"], json!(at));
    // What the store makes of it then: failed, EXPIRED_PAYMENT, the client's message only.
    let gone = &expiry["task"];
    assert_eq!(gone["id"], json!("t-1"));
    assert_eq!(gone["status"]["state"], json!("failed"));
    assert_eq!(
        says(gone),
        (json!("payment-failed"), json!("EXPIRED_PAYMENT"))
    );
    assert_eq!(gone["history"], task["history"]);
    assert_eq!(gone.get("artifacts"), None);
    // The option; mistakes are refused when the paywall is made.
    let g = gate_with(json!({"pendingTaskTtlSeconds": 2}));
    let task = send(&p, &g, &Side::default(), message(None, None), None)["result"].clone();
    assert_eq!(task["metadata"]["paymentExpiresAt"], json!(1_002_000));
    for bad in [json!(0), json!(-1), json!(1.5), json!("60"), json!(604_801)] {
        let card = g.config.card.clone();
        let err = A2aGate::new(&json!({"agentCard": card, "pendingTaskTtlSeconds": bad}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("pendingTaskTtlSeconds"), "{bad}: {err}");
    }
}

#[test]
fn a_payment_after_the_expiry_is_refused_before_verify_nothing_charged_and_the_task_is_failed() {
    let p = paying();
    p.transport().now.set(5_000);
    let (g, side) = (
        gate_with(json!({"pendingTaskTtlSeconds": 1})),
        Side::default(),
    );
    send(&p, &g, &side, message(None, None), None);
    *side.reply.borrow_mut() = Some(echo("late", Some(1)));
    let planned = side.expiries.borrow()["t-1"]["task"].clone();
    p.transport().now.set(6_000);
    let calls = backend_calls(&p);
    let late = pay(&p, &g, &side, Some("t-1"));
    assert_eq!(late["error"]["code"], json!(-32600), "{late}");
    let why = late["error"]["message"].as_str().unwrap();
    assert!(why.starts_with("The task expired"), "{why}");
    assert!(why.contains("nothing was charged"), "{why}");
    assert_eq!(backend_calls(&p), calls, "no verify, no settle");
    assert_eq!(side.ran.get(), 0);
    // The store now holds it failed: tasks/get says so, and it stays refused.
    let stored = side.tasks.borrow()["t-1"].clone();
    assert_eq!(
        says(&stored),
        (json!("payment-failed"), json!("EXPIRED_PAYMENT"))
    );
    assert_eq!(
        stored["status"]["message"]["messageId"],
        json!("t-1-expired")
    );
    assert_eq!(stored, planned, "what the store would have made of it");
    let got = rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}));
    assert_eq!(got["result"], stored);
    let again = pay(&p, &g, &side, Some("t-1"));
    assert!(again["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The task expired"));
    assert_eq!(backend_calls(&p), calls);
}

#[test]
fn tasks_get_of_a_task_whose_wait_ran_out_shows_it_expired_and_one_paid_in_time_completes() {
    let p = paying();
    let (g, side) = (
        gate_with(json!({"pendingTaskTtlSeconds": 10})),
        Side::default(),
    );
    send(&p, &g, &side, message(None, None), None);
    // Just before its expiry the payment is taken.
    p.transport().now.set(9_999);
    *side.reply.borrow_mut() = Some(echo("in time", Some(1)));
    let paid = pay(&p, &g, &side, Some("t-1"));
    assert_eq!(paid["result"]["status"]["state"], json!("completed"));
    assert!(
        side.expiries.borrow().get("t-1").is_none(),
        "written again: no expiry"
    );
    // Long after, the paid task is as it was (only a waiting task expires).
    p.transport().now.set(99_999_999);
    let got = rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}));
    assert_eq!(got["result"]["status"]["state"], json!("completed"));
    // The store's expiry written in: a waiting task past it reads as expired.
    side.tasks.borrow_mut().clear();
    send(&p, &g, &side, message(None, None), None);
    p.transport().now.set(99_999_999 + 10_000);
    let got = rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}));
    assert_eq!(
        says(&got["result"]),
        (json!("payment-failed"), json!("EXPIRED_PAYMENT"))
    );
}

#[test]
fn a_waiting_task_is_canceled_and_a_later_payment_for_it_is_refused_nothing_charged() {
    let p = paying();
    let (g, side) = (gate(1), Side::default());
    send(&p, &g, &side, message(None, None), None);
    let answer = rpc(&p, &g, &side, "tasks/cancel", json!({"id": "t-1"}));
    let task = &answer["result"];
    assert_eq!(task["status"]["state"], json!("canceled"), "{answer}");
    assert_eq!(says(task).0, json!("payment-rejected"));
    assert_eq!(side.tasks.borrow()["t-1"], *task);
    let calls = backend_calls(&p);
    *side.reply.borrow_mut() = Some(echo("paid too late", Some(1)));
    let late = pay(&p, &g, &side, Some("t-1"));
    assert_eq!(late["error"]["code"], json!(-32600));
    assert!(late["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The task was canceled"));
    assert_eq!(backend_calls(&p), calls, "no verify, no settle");
    assert_eq!(side.ran.get(), 0);
    // Canceled again: the task as it is (the A2A SDK's handler answers so).
    let again = rpc(&p, &g, &side, "tasks/cancel", json!({"id": "t-1"}));
    assert_eq!(again["result"], *task);
    // Unknown, or without an id.
    let unknown = rpc(&p, &g, &side, "tasks/cancel", json!({"id": "nope"}));
    assert_eq!(unknown["error"]["code"], json!(-32001));
    let no_id = rpc(&p, &g, &side, "tasks/cancel", json!({}));
    assert_eq!(no_id["error"]["code"], json!(-32602));
}

#[test]
fn an_ended_task_is_not_cancelable_and_keeps_its_paid_content() {
    let p = paying();
    let (g, side) = (gate(1), Side::default());
    *side.reply.borrow_mut() = Some(echo("paid", Some(1)));
    pay(&p, &g, &side, None);
    let before = side.tasks.borrow()["t-1"].clone();
    let answer = rpc(&p, &g, &side, "tasks/cancel", json!({"id": "t-1"}));
    assert_eq!(answer["error"]["code"], json!(-32002), "{answer}");
    assert_eq!(side.tasks.borrow()["t-1"], before);
}

#[test]
fn a_cancel_that_loses_its_claim_to_a_payment_is_refused_and_the_paid_run_stops_only_where_it_runs()
{
    let p = payments();
    with_plans(&p);
    let (g, side) = (gate(1), Side::default());
    send(&p, &g, &side, message(None, None), None);
    // A payment claims the task between the cancel's load and its claim.
    let mut working = side.tasks.borrow()["t-1"].clone();
    working["status"] = json!({"state": "working"});
    *side.racing_write.borrow_mut() = Some(working.clone());
    let answer = rpc(&p, &g, &side, "tasks/cancel", json!({"id": "t-1"}));
    assert_eq!(answer["error"]["code"], json!(-32002), "{answer}");
    assert_eq!(side.tasks.borrow()["t-1"], working, "the paid run goes on");
    // Where the run is here and its executor stops when told: canceled.
    side.cancel_here.set(true);
    let answer = rpc(&p, &g, &side, "tasks/cancel", json!({"id": "t-1"}));
    assert_eq!(
        answer["result"]["status"]["state"],
        json!("canceled"),
        "{answer}"
    );
}

#[test]
fn a_paid_run_canceled_by_its_executor_settles_only_what_the_executor_reports() {
    for (reported, settles) in [(None, 0), (Some(1), 1)] {
        let p = paying();
        let (g, side) = (gate(1), Side::default());
        let mut out = echo("stopped", reported);
        out["task"]["status"] = json!({"state": "canceled"});
        *side.reply.borrow_mut() = Some(out);
        let answer = pay(&p, &g, &side, None);
        assert_eq!(answer["result"]["status"]["state"], json!("canceled"));
        assert_eq!(p.transport().count("/api/v1/x402/settle"), settles);
    }
}

#[test]
fn tasks_get_honours_history_length_and_a_task_whose_settle_failed_shows_no_content() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    refuse_settles(&p);
    let (g, side) = (gate(1), Side::default());
    send(&p, &g, &side, message(None, None), None);
    *side.reply.borrow_mut() = Some(echo("secret answer", Some(1)));
    pay(&p, &g, &side, Some("t-1"));
    let got = rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}));
    let task = &got["result"];
    assert_eq!(task["status"]["state"], json!("failed"));
    assert_eq!(says(task).1, json!("SETTLEMENT_FAILED"));
    assert!(!got.to_string().contains("secret answer"), "{got}");
    assert_eq!(
        task["history"].as_array().unwrap().len(),
        2,
        "the two user messages"
    );
    for (length, kept) in [(json!(1), 1), (json!(0), 0), (json!(-3), 0), (json!(9), 2)] {
        let got = rpc(
            &p,
            &g,
            &side,
            "tasks/get",
            json!({"id": "t-1", "historyLength": length}),
        );
        assert_eq!(
            got["result"]["history"].as_array().unwrap().len(),
            kept,
            "{length}"
        );
    }
    let bad = rpc(
        &p,
        &g,
        &side,
        "tasks/get",
        json!({"id": "t-1", "historyLength": "2"}),
    );
    assert_eq!(bad["error"]["code"], json!(-32602));
    let half = rpc(
        &p,
        &g,
        &side,
        "tasks/get",
        json!({"id": "t-1", "historyLength": -1.5}),
    );
    assert_eq!(half["error"]["code"], json!(-32602));
    assert_eq!(
        rpc(&p, &g, &side, "tasks/get", json!({"id": "x"}))["error"]["code"],
        json!(-32001)
    );
}

/// `tasks/resubscribe`'s events.
fn resubscribe(p: &Payments<MockTransport>, g: &A2aGate, side: &Side, id: &str) -> Vec<Value> {
    let out = call_with(p, g, side, "tasks/resubscribe", json!({ "id": id }), None);
    assert_eq!(out["stream"], json!(true));
    out["body"]
        .as_str()
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| crate::protocol::json::parse(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn tasks_resubscribe_streams_the_task_as_stored_one_event_and_nothing_unpaid() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    refuse_settles(&p);
    let (g, side) = (gate_with(json!({})), Side::default());
    send(&p, &g, &side, message(None, None), None);
    let events = resubscribe(&p, &g, &side, "t-1");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["result"], side.tasks.borrow()["t-1"]);
    *side.reply.borrow_mut() = Some(echo_events("secret answer"));
    pay(&p, &g, &side, Some("t-1"));
    let events = resubscribe(&p, &g, &side, "t-1");
    assert_eq!(says(&events[0]["result"]).0, json!("payment-failed"));
    assert!(!format!("{events:?}").contains("secret answer"));
    assert_eq!(
        resubscribe(&p, &g, &side, "x")[0]["error"]["code"],
        json!(-32001)
    );
    // A card without streaming: not supported.
    let events = resubscribe(&p, &gate(1), &side, "t-1");
    assert_eq!(events[0]["error"]["code"], json!(-32004));
}

#[test]
fn no_other_method_name_runs_the_executor_or_asks_the_backend_a2a_1_0_names_included() {
    let p = paying();
    let (g, side) = (gate(1), Side::default());
    *side.reply.borrow_mut() = Some(echo("free?", Some(1)));
    let names = [
        "SendMessage",
        "SendStreamingMessage",
        "GetTask",
        "CancelTask",
        "SubscribeToTask",
        "ListTasks",
        "GetExtendedAgentCard",
        "Message/Send",
        "MESSAGE/SEND",
        "message/send ",
        " message/send",
        "message/send\u{0}",
        "message//send",
        "message/sendStream",
        "tasks/list",
        "tasks/pushNotificationConfig/setx",
        "tasks/pushNotificationConfig",
        "Tasks/pushNotificationConfig/set",
        "tasks/pushnotificationconfig/get",
        "CreateTaskPushNotificationConfig",
        "GetTaskPushNotificationConfig",
        "agent/getAuthenticatedExtendedCard",
        "",
    ];
    for name in names {
        for (message, header) in [
            (message(None, Some(payload(&good_token()))), None),
            (message(None, None), Some(good_token())),
            (message(None, None), None),
        ] {
            let answer = send_as(&p, &g, &side, name, message, header.as_deref());
            assert_eq!(answer["error"]["code"], json!(-32601), "{name:?}: {answer}");
        }
    }
    assert_eq!(side.ran.get(), 0);
    assert_eq!(backend_calls(&p), 0);
    assert!(side.tasks.borrow().is_empty());
}

#[test]
fn push_notification_configs_are_not_supported_whatever_the_card_says_nothing_runs_or_is_stored() {
    let p = paying();
    let before = backend_calls(&p);
    let config = json!({"url": "http://127.0.0.1:1/hook", "token": "t"});
    for capabilities in [
        json!({}),
        json!({"pushNotifications": true, "streaming": true}),
    ] {
        let card = build_payment_agent_card(
            &json!({"name": "echo", "url": URL, "capabilities": capabilities}),
            &json!({"agentId": "agent-1", "planId": "10", "credits": 1, "paymentType": "fixed"}),
        )
        .unwrap();
        let g = A2aGate::new(&json!({ "agentCard": card })).unwrap();
        let side = Side::default();
        *side.reply.borrow_mut() = Some(echo("paid content", Some(1)));
        let calls = [
            (
                "tasks/pushNotificationConfig/set",
                json!({"taskId": "t-1", "pushNotificationConfig": config}),
            ),
            ("tasks/pushNotificationConfig/get", json!({"id": "t-1"})),
            ("tasks/pushNotificationConfig/list", json!({"id": "t-1"})),
            (
                "tasks/pushNotificationConfig/delete",
                json!({"id": "t-1", "pushNotificationConfigId": "c"}),
            ),
        ];
        for (method, params) in calls {
            for header in [None, Some(good_token())] {
                let out = call_with(&p, &g, &side, method, params.clone(), header.as_deref());
                assert_eq!(out["stream"], Value::Null, "{method}");
                let answer = crate::protocol::json::parse(out["body"].as_str().unwrap()).unwrap();
                assert_eq!(
                    answer["error"],
                    json!({"code": -32003, "message": "Push Notification is not supported"}),
                    "{method}"
                );
                assert!(answer.get("result").is_none());
            }
        }
        assert_eq!(side.ran.get(), 0);
        assert!(side.tasks.borrow().is_empty());
    }
    assert_eq!(backend_calls(&p), before, "nothing asked of the backend");
}

/// `method` with `{message}` params: the JSON-RPC response (one body).
fn send_as(
    p: &Payments<MockTransport>,
    g: &A2aGate,
    side: &Side,
    method: &str,
    message: Value,
    header: Option<&str>,
) -> Value {
    let out = call(p, g, side, method, message, header);
    assert_eq!(out["stream"], Value::Null);
    crate::protocol::json::parse(out["body"].as_str().unwrap()).unwrap()
}

#[test]
fn the_hooks_are_told_each_call_without_the_payment_and_change_nothing() {
    let p = paying();
    let mark = json!({"$function": true});
    let hooks = json!({"hooks": {"beforeRequest": mark, "afterRequest": mark, "onError": mark}});
    let (g, side) = (gate_with(hooks), Side::default());
    let asked = send(&p, &g, &side, message(None, None), None);
    *side.reply.borrow_mut() = Some(echo("hi", Some(1)));
    let paid_message = message(Some("t-1"), Some(payload(&good_token())));
    let paid = send(&p, &g, &side, paid_message.clone(), None);
    let missing = rpc(&p, &g, &side, "SendMessage", json!({}));
    let told = side.hooks.borrow().clone();
    let names: Vec<_> = told.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "beforeRequest",
            "afterRequest",
            "beforeRequest",
            "afterRequest",
            "beforeRequest",
            "afterRequest",
            "onError"
        ]
    );
    assert_eq!(told[0].1["method"], json!("message/send"));
    assert_eq!(told[1].1["response"], asked);
    // The paying message's params, its payload (a token) left out.
    let params = &told[2].1["params"];
    assert_eq!(
        params["message"]["metadata"],
        json!({"x402.payment.status": "payment-submitted"})
    );
    assert!(!told.iter().any(|(_, d)| d.to_string().contains("0xsig")));
    assert_eq!(told[3].1["response"], paid);
    assert_eq!(told[6].1["method"], json!("SendMessage"));
    assert_eq!(told[6].1["error"], missing["error"]);
    // Without hooks, none is asked for; a hook option that isn't a function is refused.
    let (plain, quiet) = (gate(1), Side::default());
    send(&p, &plain, &quiet, message(None, None), None);
    assert!(quiet.hooks.borrow().is_empty());
    let card = plain.config.card.clone();
    let err = A2aGate::new(&json!({"agentCard": card, "hooks": {"onError": 1}})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a2a.paywall: hooks.onError must be a function"
    );
}

#[test]
fn a_card_declaring_an_a2a_1_0_interface_is_refused_when_the_paywall_is_made() {
    let meta = json!({"agentId": "agent-1", "planId": "10", "credits": 1, "paymentType": "fixed"});
    let with = |interfaces: Value| {
        let card = json!({"name": "n", "url": URL, "supportedInterfaces": interfaces});
        A2aGate::new(&json!({"agentCard": build_payment_agent_card(&card, &meta).unwrap()}))
    };
    let v1 = json!([{"url": URL, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}]);
    let err = with(v1).unwrap_err().to_string();
    assert!(err.contains("A2A 1.0 interface"), "{err}");
    let unversioned = json!([{"url": URL, "protocolBinding": "JSONRPC"}]);
    assert!(with(unversioned).is_err());
    let v03 = json!([{"url": URL, "protocolBinding": "JSONRPC", "protocolVersion": "0.3.0"}]);
    assert!(with(v03).is_ok());
    assert!(with(json!([])).is_ok());
}

/// A day in ms.
const DAY: u64 = 24 * 3600 * 1000;

/// The writes of task `id` so far: (op, the task written, `removeAt`).
fn writes_of(side: &Side, id: &str) -> Vec<(String, Value, Value)> {
    side.writes
        .borrow()
        .iter()
        .filter(|(_, arg)| arg["id"] == json!(id) || arg["task"]["id"] == json!(id))
        .map(|(op, arg)| (op.clone(), arg["task"].clone(), arg["removeAt"].clone()))
        .collect()
}

/// What each way of asking about task `id` answers: tasks/get, tasks/cancel,
/// tasks/resubscribe (its one event) and a paying message/send, each its
/// error code (null: it answered a result).
fn asked_about(p: &Payments<MockTransport>, g: &A2aGate, side: &Side, id: &str) -> Vec<Value> {
    let code = |answer: &Value| answer["error"]["code"].clone();
    vec![
        code(&rpc(p, g, side, "tasks/get", json!({ "id": id }))),
        code(&rpc(p, g, side, "tasks/cancel", json!({ "id": id }))),
        code(&resubscribe(p, g, side, id)[0]),
        code(&pay(p, g, side, Some(id))),
    ]
}

#[test]
fn a_finished_task_is_kept_7_days_by_default_then_answered_unknown_even_by_a_store_that_keeps_it() {
    let p = paying();
    p.transport().now.set(1_000_000);
    let (g, side) = (gate_with(json!({})), Side::default());
    *side.reply.borrow_mut() = Some(echo("paid", Some(1)));
    let answer = pay(&p, &g, &side, None);
    let task = answer["result"].clone();
    assert_eq!(task["status"]["state"], json!("completed"), "{answer}");
    let at = 1_000_000 + 7 * DAY;
    // The store is told when it stops existing, and the client sees it in the task.
    assert_eq!(task["metadata"]["removeAt"], json!(at));
    let (op, saved, remove_at) = writes_of(&side, "t-1").pop().unwrap();
    assert_eq!(
        (op.as_str(), saved, remove_at),
        ("save", task.clone(), json!(at))
    );
    // Until then it is found; the paid content stays as it was.
    p.transport().now.set(at - 1);
    let got = rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}));
    assert_eq!(got["result"], task);
    assert_eq!(
        resubscribe(&p, &g, &side, "t-1")[0]["result"]["status"],
        task["status"]
    );
    // From then on it is unknown (-32001) to every method, though this store
    // still holds it; a payment for it is refused before verify, nothing runs.
    p.transport().now.set(at);
    let calls = backend_calls(&p);
    assert_eq!(asked_about(&p, &g, &side, "t-1"), vec![json!(-32001); 4]);
    assert_eq!(backend_calls(&p), calls, "no verify, no settle");
    assert_eq!(side.ran.get(), 1);
    assert_eq!(side.tasks.borrow()["t-1"], task, "the store kept it");
}

#[test]
fn finished_task_ttl_seconds_sets_the_removal_and_mistakes_are_refused() {
    let p = paying();
    p.transport().now.set(5_000);
    let (g, side) = (
        gate_with(json!({"finishedTaskTtlSeconds": 2})),
        Side::default(),
    );
    *side.reply.borrow_mut() = Some(echo("paid", Some(1)));
    let task = pay(&p, &g, &side, None)["result"].clone();
    assert_eq!(task["metadata"]["removeAt"], json!(7_000));
    p.transport().now.set(6_999);
    assert_eq!(
        rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}))["result"],
        task
    );
    p.transport().now.set(7_000);
    let gone = rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}));
    assert_eq!(gone["error"]["code"], json!(-32001), "{gone}");
    let card = g.config.card.clone();
    for bad in [
        json!(0),
        json!(-1),
        json!(1.5),
        json!("60"),
        json!(true),
        json!(31_536_001),
    ] {
        let err = A2aGate::new(&json!({"agentCard": card, "finishedTaskTtlSeconds": bad}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("finishedTaskTtlSeconds"), "{bad}: {err}");
    }
    let longest = json!({"agentCard": card, "finishedTaskTtlSeconds": 31_536_000});
    assert_eq!(
        A2aGate::new(&longest).unwrap().config.finished_ttl_ms,
        365 * DAY
    );
}

#[test]
fn every_task_the_paywall_writes_is_removed_in_time_but_the_one_asking_for_payment_expires_first() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    refuse_settles(&p);
    p.transport().now.set(1_000);
    let ttl = 3_000;
    let g = gate_with(json!({"pendingTaskTtlSeconds": 1, "finishedTaskTtlSeconds": 3}));
    let side = Side::default();
    // Asked for payment: no removal, an expiry whose task is removed ttl after it.
    send(&p, &g, &side, message(None, None), None);
    let (op, _, remove_at) = writes_of(&side, "t-1").pop().unwrap();
    assert_eq!((op.as_str(), remove_at), ("save", Value::Null));
    let expiry = side.expiries.borrow()["t-1"].clone();
    assert_eq!(expiry["at"], json!(2_000));
    assert_eq!(expiry["removeAt"], json!(2_000 + ttl));
    assert_eq!(expiry["task"]["metadata"]["removeAt"], json!(2_000 + ttl));
    // Paid: the claim (working) and the final task (its settle failed) each removed ttl after their write.
    *side.reply.borrow_mut() = Some(echo("withheld", Some(1)));
    p.transport().now.set(1_500);
    let answer = pay(&p, &g, &side, Some("t-1"));
    assert_eq!(
        says(&answer["result"]).0,
        json!("payment-failed"),
        "{answer}"
    );
    let writes = writes_of(&side, "t-1");
    let [.., (claimed, working, a), (saved, failed, b)] = &writes[..] else {
        panic!("{writes:?}")
    };
    assert_eq!((claimed.as_str(), saved.as_str()), ("claim", "save"));
    assert_eq!(working["status"]["state"], json!("working"));
    assert_eq!(failed["status"]["state"], json!("failed"));
    for (task, remove_at) in [(working, a), (failed, b)] {
        assert_eq!(*remove_at, json!(1_500 + ttl));
        assert_eq!(task["metadata"]["removeAt"], json!(1_500 + ttl));
    }
    // A waiting task canceled: the claim removes it ttl after the cancel.
    side.tasks.borrow_mut().clear();
    send(&p, &g, &side, message(None, None), None);
    p.transport().now.set(1_700);
    let canceled = rpc(&p, &g, &side, "tasks/cancel", json!({"id": "t-1"}))["result"].clone();
    assert_eq!(canceled["status"]["state"], json!("canceled"));
    let (op, task, remove_at) = writes_of(&side, "t-1").pop().unwrap();
    assert_eq!(
        (op.as_str(), task, remove_at),
        ("claim", canceled, json!(1_700 + ttl))
    );
    // An executor that threw: the failed task too.
    side.tasks.borrow_mut().clear();
    *side.reply.borrow_mut() = None;
    let threw = pay(&p, &g, &side, None)["result"].clone();
    assert_eq!(
        says(&threw),
        (json!("payment-failed"), json!("EXECUTION_FAILED"))
    );
    assert_eq!(writes_of(&side, "t-1").pop().unwrap().2, json!(1_700 + ttl));
}

#[test]
fn a_task_left_waiting_expires_then_is_removed_its_expiry_plus_the_ttl_later_whichever_comes_first()
{
    let p = paying();
    p.transport().now.set(10_000);
    let g = gate_with(json!({"pendingTaskTtlSeconds": 1, "finishedTaskTtlSeconds": 5}));
    // Read after its expiry: the claim that makes it expired says when it is removed.
    let side = Side::default();
    send(&p, &g, &side, message(None, None), None);
    let planned = side.expiries.borrow()["t-1"]["task"].clone();
    p.transport().now.set(12_000);
    let got = rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}));
    assert_eq!(says(&got["result"]).1, json!("EXPIRED_PAYMENT"));
    assert_eq!(
        got["result"], planned,
        "what the store would have made of it"
    );
    let (op, _, remove_at) = writes_of(&side, "t-1").pop().unwrap();
    assert_eq!((op.as_str(), remove_at), ("claim", json!(16_000)));
    p.transport().now.set(15_999);
    assert_eq!(
        rpc(&p, &g, &side, "tasks/get", json!({"id": "t-1"}))["result"],
        planned
    );
    p.transport().now.set(16_000);
    let calls = backend_calls(&p);
    assert_eq!(asked_about(&p, &g, &side, "t-1"), vec![json!(-32001); 4]);
    assert_eq!(backend_calls(&p), calls);
    // First read past both (a store that applied nothing): unknown at once, nothing run or charged.
    let side = Side::default();
    p.transport().now.set(20_000);
    send(&p, &g, &side, message(None, None), None);
    p.transport().now.set(30_000);
    assert_eq!(asked_about(&p, &g, &side, "t-1"), vec![json!(-32001); 4]);
    assert_eq!(side.ran.get(), 0);
    assert_eq!(backend_calls(&p), calls, "no verify, no settle");
}
