//! The A2A client's wire: where the card is, what its payment extension
//! allows, the message it sends and what it reads back.

use super::*;
use crate::json;
use crate::protocol::encode_access_token;

const BASE: &str = "http://127.0.0.1:8789/";

fn card(url: &str, params: Value) -> String {
    json!({"name": "echo", "url": url, "capabilities": {"extensions": [
        {"uri": "urn:nevermined:payment", "params": params},
        {"uri": "https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2"}
    ]}})
    .to_string()
}

/// Attempt `rpc_id` of a message (a stream's when `stream`), on the waiting task `task_id`.
fn attempt(rpc_id: u64, stream: bool, task_id: Option<&str>) -> A2aMessage {
    let params = json!({"message": {"messageId": "m1", "parts": []}});
    let mut m = A2aMessage::from_json(&json!({ "params": params }), stream).unwrap();
    m.rpc_id = rpc_id;
    m.task_id = task_id.map(str::to_owned);
    m
}

fn opts(v: Value) -> PayOptions {
    PayOptions::from_json(&v).unwrap()
}

#[test]
fn the_card_gives_the_endpoint_and_its_agent_becomes_the_calls() {
    let mut o = opts(json!({"planIds": ["p1"]}));
    let text = card(
        "http://127.0.0.1:8789/a2a",
        json!({"agentId": "a1", "planId": "p1", "credits": 1}),
    );
    assert_eq!(
        read_card(&text, BASE, &mut o).unwrap(),
        "http://127.0.0.1:8789/a2a"
    );
    assert_eq!(o.agent_id.as_deref(), Some("a1"));
    // A card without the payment extension: nothing to check (the agent's answers are).
    let mut o = opts(json!({"planIds": ["p1"]}));
    let free = json!({"url": "http://127.0.0.1:8789/rpc"}).to_string();
    assert_eq!(
        read_card(&free, BASE, &mut o).unwrap(),
        "http://127.0.0.1:8789/rpc"
    );
    assert_eq!(o.agent_id, None);
}

#[test]
fn a_card_is_refused_before_paying_for_another_plan_agent_price_or_origin() {
    let terms = json!({"agentId": "a1", "planId": "p1", "credits": 5});
    let text = card("http://127.0.0.1:8789/a2a", terms.clone());
    let refused = |o: Value| read_card(&text, BASE, &mut opts(o)).unwrap_err();
    let e = refused(json!({"planIds": ["p2"]}));
    assert_eq!(e.code(), "plan_not_allowed");
    assert_eq!(
        e.to_string(),
        "The agent card asks to be paid with a plan (or for an agent) this call does not allow: see planIds, anyPlan and agentId, and the card's terms in details"
    );
    assert_eq!(e.details(), Some(terms));
    assert_eq!(refused(json!({})).code(), "plan_not_allowed");
    assert_eq!(
        refused(json!({"planIds": ["p1"], "agentId": "a2"})).code(),
        "plan_not_allowed"
    );
    let e = refused(json!({"planIds": ["p1"], "maxCredits": 4}));
    assert_eq!(
        (e.code().as_ref(), e.to_string().as_str()),
        (
            "max_credits_exceeded",
            "The agent card asks more credits per message than maxCredits"
        )
    );
    assert!(read_card(
        &text,
        BASE,
        &mut opts(json!({"anyPlan": true, "maxCredits": 5}))
    )
    .is_ok());
    // planIds counts as planId does.
    let many = card(
        "http://127.0.0.1:8789/a2a",
        json!({"agentId": "a1", "planIds": ["p0", "p1"]}),
    );
    assert!(read_card(&many, BASE, &mut opts(json!({"planIds": ["p1"]}))).is_ok());
    assert!(read_card(&many, BASE, &mut opts(json!({"planIds": ["p2"]}))).is_err());
    // The messages (and the token) go only to agentBaseUrl's origin.
    let elsewhere = card(
        "https://evil.example/a2a",
        json!({"agentId": "a1", "planId": "p1"}),
    );
    let e = read_card(&elsewhere, BASE, &mut opts(json!({"anyPlan": true}))).unwrap_err();
    assert_eq!(e.code(), "redirect_not_followed");
    assert!(
        e.to_string().starts_with(
            "The agent card sends messages to https://evil.example/a2a, on another origin"
        ),
        "{e}"
    );
    for bad in ["[]", "not json", &json!({"url": "/a2a"}).to_string()] {
        let e = read_card(bad, BASE, &mut opts(json!({"anyPlan": true}))).unwrap_err();
        assert_eq!(e.code(), "invalid_response", "{bad}");
    }
}

#[test]
fn the_message_carries_the_payment_in_band_on_the_waiting_task() {
    let params = json!({"message": {"kind": "message", "messageId": "m1", "role": "user", "parts": [{"kind": "text", "text": "hi"}], "metadata": {"mine": 1}}, "configuration": {"blocking": true}});
    let m = A2aMessage::from_json(&json!({ "params": params }), false).unwrap();
    let unpaid = message_send(&m, None).unwrap();
    assert_eq!(
        unpaid,
        json!({"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": params.clone()})
    );
    let payload =
        json!({"x402Version": 2, "accepted": {"planId": "p1"}, "payload": {"signature": "0xsig"}});
    let token = encode_access_token(payload.as_object().unwrap());
    let mut second = m.clone();
    second.rpc_id = 2;
    second.task_id = Some("t1".into());
    let paid = message_send(&second, Some(&token)).unwrap();
    let message = &paid["params"]["message"];
    assert_eq!(paid["id"], 2);
    assert_eq!(message["taskId"], "t1");
    assert_eq!(message["messageId"], "m1");
    assert_eq!(
        message["metadata"],
        json!({"mine": 1, "x402.payment.status": "payment-submitted", "x402.payment.payload": payload})
    );
    assert_eq!(paid["params"]["configuration"], json!({"blocking": true}));
    assert!(message_send(&m, Some("not a token")).is_err());
    let streamed = A2aMessage::from_json(&json!({ "params": params }), true).unwrap();
    assert_eq!(
        message_send(&streamed, None).unwrap()["method"],
        "message/stream"
    );
}

fn task(state: &str, meta: Value) -> Value {
    json!({"kind": "task", "id": "t1", "contextId": "c1", "status": {"state": state, "message": {"kind": "message", "role": "agent", "messageId": "x", "parts": [], "metadata": meta}}})
}

fn rpc(id: u64, result: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
}

#[test]
fn answers_are_read_for_payment_receipt_and_the_request_they_answer() {
    let pr = json!({"x402Version": 2, "accepts": [{"planId": "p1"}]});
    let asked = read_answer(
        &rpc(
            1,
            task(
                "input-required",
                json!({"x402.payment.status": "payment-required", "x402.payment.required": pr}),
            ),
        ),
        &attempt(1, false, None),
    )
    .unwrap();
    assert!(asked.asks_payment);
    assert_eq!(asked.waiting_task.as_deref(), Some("t1"));
    assert_eq!(asked.payment_required.map(Value::Object), Some(pr));
    let receipt = json!({"success": true, "creditsRedeemed": "1"});
    let done = read_answer(&rpc(2, task("completed", json!({"x402.payment.status": "payment-completed", "x402.payment.receipts": [receipt]}))), &attempt(2, false, None)).unwrap();
    assert!(!done.asks_payment);
    assert_eq!(
        (done.receipt.map(Value::Object), done.waiting_task),
        (Some(receipt.clone()), None)
    );
    // A failed settlement's answer is no receipt; an input-required task for something else asks no payment.
    let failed = read_answer(&rpc(2, task("failed", json!({"x402.payment.status": "payment-failed", "x402.payment.receipts": [receipt]}))), &attempt(2, false, None)).unwrap();
    assert_eq!((failed.asks_payment, failed.receipt), (false, None));
    let question = read_answer(
        &rpc(1, task("input-required", json!({}))),
        &attempt(1, false, None),
    )
    .unwrap();
    assert!(!question.asks_payment);
    let error =
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": "Task not found"}});
    let read = read_answer(&error.to_string(), &attempt(1, false, None)).unwrap();
    assert_eq!((read.response, read.asks_payment), (error, false));
    assert_eq!(
        read_answer(&rpc(7, json!({})), &attempt(1, false, None))
            .unwrap_err()
            .code(),
        "invalid_response"
    );
    assert_eq!(
        read_answer("<html>", &attempt(1, false, None))
            .unwrap_err()
            .code(),
        "invalid_response"
    );
}

#[test]
fn a_message_needs_its_id_as_a2a_says() {
    let m = A2aMessage::from_json(
        &json!({"params": {"message": {"messageId": "m1", "parts": []}}}),
        false,
    )
    .unwrap();
    assert_eq!(m.params["message"]["messageId"], "m1");
    for params in [
        json!({}),
        json!({"message": {"parts": []}}),
        json!({"message": {"messageId": 7}}),
    ] {
        let e = A2aMessage::from_json(&json!({"params": params}), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sendA2AMessage: params.message.messageId is required"
        );
    }
}

#[test]
fn a_stream_is_read_event_by_event_and_its_last_says_how_the_payment_went() {
    let pr = json!({"x402Version": 2, "accepts": [{"planId": "p1"}]});
    let working = json!({"jsonrpc": "2.0", "id": 3, "result": {"kind": "status-update", "status": {"state": "working"}}});
    let receipt = json!({"success": true, "creditsRedeemed": "1"});
    let done = json!({"jsonrpc": "2.0", "id": 3, "result": {"kind": "status-update", "taskId": "t1", "final": true, "status": {"state": "completed", "message": {"metadata": {"x402.payment.status": "payment-completed", "x402.payment.receipts": [receipt]}}}}});
    let body = format!(": a comment\r\ndata: {working}\r\n\r\ndata:{done}\n\n");
    let read = read_answer(&body, &attempt(3, true, None)).unwrap();
    assert_eq!(read.response, json!([working, done]));
    assert_eq!(
        (read.asks_payment, read.receipt.map(Value::Object)),
        (false, Some(receipt))
    );
    let asked = format!(
        "data: {}\n\n",
        rpc(
            3,
            task(
                "input-required",
                json!({"x402.payment.status": "payment-required", "x402.payment.required": pr})
            )
        )
    );
    let read = read_answer(&asked, &attempt(3, true, None)).unwrap();
    assert_eq!(
        (read.asks_payment, read.waiting_task.as_deref()),
        (true, Some("t1"))
    );
    // A JSON answer to a stream (an error before it started) is its one event; another id or nothing is refused.
    let error = json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "Method not found"}});
    assert_eq!(
        read_answer(&error.to_string(), &attempt(3, true, None))
            .unwrap()
            .response,
        json!([error])
    );
    let other = format!("data: {working}\n\ndata: {}\n\n", rpc(4, json!({})));
    assert!(read_answer(&other, &attempt(3, true, None)).is_err());
    assert!(read_answer(": nothing\n\n", &attempt(3, true, None)).is_err());
}

#[test]
fn a_stream_read_as_it_comes_hands_over_each_complete_event_a_messages_one_late() {
    let event = |id: u64, state: &str| json!({"jsonrpc": "2.0", "id": id, "result": {"kind": "status-update", "status": {"state": state}}});
    let (working, done) = (event(2, "working"), event(2, "completed"));
    let body = format!(": ping\r\n\r\ndata: {working}\r\n\r\ndata:{done}\n\n");
    let ready = |ask: String| json::parse(&ask).unwrap();
    // A message's (attempt 2): an event is handed over once the next one is complete;
    // the last never (it says how the payment went: the answer's).
    let m = attempt(2, true, None);
    let mut read = StreamRead::default();
    let cut = body.find("data:{").unwrap() + 3;
    assert_eq!(ready(read.feed(body.get(..cut).unwrap(), &m)), json!([]));
    assert_eq!(
        ready(read.feed(body.get(cut..).unwrap(), &m)),
        json!([working])
    );
    assert_eq!((read.emitted, read.text.as_str()), (1, body.as_str()));
    let answer = read_answer(&read.text, &m).unwrap();
    assert_eq!(
        answer.response,
        json!([working, done]),
        "the whole, the first of it handed over"
    );
    // A task call's: each as soon as its line is complete, a byte at a time too.
    let mut task = A2aMessage::task_call("a2a-resubscribe", &json!({"params": {"id": "t"}}))
        .unwrap()
        .unwrap();
    task.rpc_id = 2;
    let mut read = StreamRead::default();
    let mut handed = Vec::new();
    for byte in body.bytes() {
        let piece = String::from_utf8(vec![byte]).unwrap();
        handed.extend(ready(read.feed(&piece, &task)).as_array().unwrap().clone());
        if byte == b'\n' && handed.len() == 1 {
            assert_eq!(handed, vec![working.clone()], "handed at its line's end");
        }
    }
    assert_eq!(
        (handed, read.emitted),
        (vec![working.clone(), done.clone()], 2)
    );
    // After a line that is not the attempt's (another id, or not JSON), nothing more.
    for bad in [event(9, "completed").to_string(), "{not json".to_owned()] {
        let mut read = StreamRead::default();
        let text = format!("data: {working}\n\ndata: {bad}\n\ndata: {done}\n\ndata: {done}\n\n");
        let handed = ready(read.feed(&text, &task));
        assert_eq!((handed, read.emitted), (json!([working]), 1));
        assert_eq!(
            read_answer(&read.text, &task).unwrap_err().code(),
            "invalid_response"
        );
    }
}
