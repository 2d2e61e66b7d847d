//! The paying loop end to end against a scripted agent (a [`Courier`] that
//! answers from a list and records every hop) and a scripted backend: which
//! hops are sent, with which token, where redirects lead, and what the call
//! answers.

use super::super::tests::{backend, payment_required, payments, run, with_plan, AGENT_URL};
use super::*;
use crate::error::Error;
use crate::json;
use crate::protocol::{decode_access_token, encode_payment_header};
use crate::transport::mock::MockTransport;
use std::cell::RefCell;
use std::collections::VecDeque;

/// An agent that answers hops from a script; `Err` entries are unreachable agents.
#[derive(Default)]
struct Agent {
    replies: RefCell<VecDeque<Result<Reply>>>,
    hops: RefCell<Vec<Hop>>,
    /// The last reply's body, until it is read.
    held: RefCell<Option<String>>,
    /// How many bodies were read, and how many answers discarded.
    reads: std::cell::Cell<u32>,
    discards: std::cell::Cell<u32>,
    /// The pieces of a body read as it comes (an A2A stream's), and how many were read.
    pieces: RefCell<VecDeque<String>>,
    pieces_read: std::cell::Cell<u32>,
    /// Reading a body as it comes fails once its pieces ran out (it broke off, or its caller stopped).
    breaks_off: std::cell::Cell<bool>,
    /// The events handed over as they came, each with how many pieces had been read then.
    emitted: RefCell<Vec<(u32, Value)>>,
}

impl Agent {
    fn new(replies: Vec<Result<Reply>>) -> Self {
        Agent {
            replies: RefCell::new(replies.into()),
            ..Agent::default()
        }
    }

    fn hops(&self) -> Vec<Hop> {
        self.hops.borrow().clone()
    }
}

impl Courier for Agent {
    async fn send(&self, hop: &Hop) -> Result<Reply> {
        self.hops.borrow_mut().push(hop.clone());
        let mut reply = self
            .replies
            .borrow_mut()
            .pop_front()
            .expect("the loop sent more hops than the agent was scripted for")?;
        // The body is the courier's until the loop reads it.
        *self.held.borrow_mut() = Some(reply.text.take().unwrap_or_default());
        Ok(reply)
    }

    #[cfg(not(feature = "a2a-client"))]
    async fn text(&self) -> Result<String> {
        self.reads.set(self.reads.get() + 1);
        Ok(self.held.borrow_mut().take().expect("a body to read"))
    }

    /// `text`: the held body; an A2A stream's ask (the events handed over): its next piece
    /// of 16 bytes (lines and events split across them).
    #[cfg(feature = "a2a-client")]
    async fn read(&self, ask: &str) -> Result<Option<String>> {
        if ask == "text" {
            self.reads.set(self.reads.get() + 1);
            return Ok(Some(self.held.borrow_mut().take().expect("a body to read")));
        }
        let read = self.pieces_read.get();
        let events = crate::protocol::json::parse(ask).unwrap();
        let handed = events.as_array().unwrap().iter().map(|e| (read, e.clone()));
        self.emitted.borrow_mut().extend(handed);
        if let Some(text) = self.held.borrow_mut().take() {
            let bytes = text.into_bytes();
            let pieces = bytes
                .chunks(16)
                .map(|c| String::from_utf8(c.to_vec()).unwrap());
            *self.pieces.borrow_mut() = pieces.collect();
        }
        let piece = self.pieces.borrow_mut().pop_front();
        if piece.is_none() && self.breaks_off.get() {
            return Err(Error::Network(
                "the caller stopped reading the stream".into(),
            ));
        }
        self.pieces_read
            .set(self.pieces_read.get() + u32::from(piece.is_some()));
        Ok(piece)
    }

    fn discard(&self) {
        self.discards.set(self.discards.get() + 1);
        self.held.borrow_mut().take();
    }
}

fn status(status: u16) -> Result<Reply> {
    Ok(Reply {
        status,
        ..Reply::default()
    })
}

fn asks(plans: &[&str]) -> Result<Reply> {
    Ok(Reply {
        status: 402,
        payment_required: Some(payment_required(plans, None)),
        ..Reply::default()
    })
}

fn redirect(code: u16, to: &str) -> Result<Reply> {
    Ok(Reply {
        status: code,
        location: Some(to.into()),
        ..Reply::default()
    })
}

fn receipt(burned: &str) -> String {
    encode_payment_header(
        &json!({"success": true, "transaction": "0xtx", "network": "eip155:84532", "payer": "0xsub", "creditsRedeemed": burned}),
    )
    .unwrap()
}

fn paid(text: &str, burned: &str) -> Result<Reply> {
    Ok(Reply {
        status: 200,
        payment_response: Some(receipt(burned)),
        text: Some(text.into()),
        ..Reply::default()
    })
}

fn request(method: &str, redirect: &str) -> Outgoing {
    Outgoing {
        url: AGENT_URL.into(),
        method: method.into(),
        has_token: false,
        redirect: redirect.into(),
        mcp_session: None,
        authorization: None,
    }
}

/// A client that already knows the agent's MCP server as a stateless 2025 one (no negotiation).
fn known_legacy(p: &Payments<MockTransport>) {
    p.client_state().keep_mcp_era(
        (AGENT_URL.into(), Pin::Auto),
        Era::Legacy {
            version: Some(mcp::LEGACY.into()),
            session: None,
        },
    );
}

fn pay_with(
    p: &Payments<MockTransport>,
    call: &Call,
    req: &Outgoing,
    options: Value,
    agent: &Agent,
) -> Result<Value> {
    run(super::pay(p, call, req, &options, agent))
}

/// A fetch that may pay plan 10 (probing first).
fn fetch_plan_10(p: &Payments<MockTransport>, req: &Outgoing, agent: &Agent) -> Result<Value> {
    pay_with(
        p,
        &Call::Fetch,
        req,
        json!({"planIds": ["10"], "eager": false}),
        agent,
    )
}

#[test]
fn a_402_is_paid_once_and_the_receipt_is_the_answer() {
    let p = payments();
    let minted = backend(&p);
    let agent = Agent::new(vec![asks(&["10"]), paid("ok", "1")]);
    let out = fetch_plan_10(&p, &request("POST", "follow"), &agent).unwrap();
    assert_eq!(out["paymentResponse"]["creditsRedeemed"], "1");
    assert_eq!(minted.get(), 1);
    let hops = agent.hops();
    assert_eq!(hops.len(), 2);
    // The probe goes as the caller sent it; the paid attempt with the token, its redirects by hand.
    assert_eq!(
        (hops[0].token.as_deref(), hops[0].redirect.as_str()),
        (None, "follow")
    );
    assert!(hops[0].attempt && hops[1].attempt);
    let token = hops[1]
        .token
        .as_deref()
        .expect("the paid attempt carries a token");
    assert_eq!(
        decode_access_token(token).unwrap()["accepted"]["planId"],
        "10"
    );
    assert_eq!(hops[1].redirect, "manual");
    assert_eq!(
        agent.reads.get(),
        0,
        "fetchWithPayment leaves the body to the caller"
    );
}

#[test]
fn a_same_origin_redirect_keeps_the_token_and_its_receipt_counts() {
    let p = payments();
    backend(&p);
    let moved = "http://127.0.0.1:8787/v2/tasks";
    let agent = Agent::new(vec![
        asks(&["10"]),
        Ok(Reply {
            status: 307,
            location: Some(moved.into()),
            payment_response: Some(receipt("2")),
            ..Reply::default()
        }),
        status(200),
    ]);
    let out = fetch_plan_10(&p, &request("POST", "follow"), &agent).unwrap();
    // The final answer had no receipt: the redirect's is the payment's.
    assert_eq!(out["paymentResponse"]["creditsRedeemed"], "2");
    let hop = &agent.hops()[2];
    assert_eq!(
        (
            hop.attempt,
            hop.url.as_str(),
            hop.method.as_str(),
            hop.keep_body,
            hop.drop
        ),
        (false, moved, "POST", true, &[][..])
    );
    assert_eq!(hop.redirect, "manual", "still followed by hand");
}

#[test]
fn another_origin_gets_no_token_and_fetch_follows_from_there() {
    let p = payments();
    backend(&p);
    let elsewhere = "https://cdn.example/answer";
    let agent = Agent::new(vec![
        asks(&["10"]),
        redirect(302, elsewhere),
        // What fetch answers from the other origin, whatever it is, is the answer.
        redirect(302, "http://127.0.0.1:8787/back"),
    ]);
    fetch_plan_10(&p, &request("POST", "follow"), &agent).unwrap();
    let hop = &agent.hops()[2];
    assert_eq!((hop.url.as_str(), hop.method.as_str()), (elsewhere, "GET"));
    for secret in ["payment-signature", "authorization", "content-type"] {
        assert!(hop.drop.contains(&secret), "{secret} is left out");
    }
    assert!(!hop.keep_body);
    assert_eq!(
        hop.redirect, "follow",
        "the caller's mode, past the checked origin"
    );
    assert_eq!(
        agent.hops().len(),
        3,
        "nothing followed by hand after another origin"
    );
}

#[test]
fn a_token_the_caller_set_is_kept_to_its_origin_too() {
    let p = payments();
    let minted = backend(&p);
    let agent = Agent::new(vec![
        redirect(307, "https://elsewhere.example/x"),
        status(200),
    ]);
    let mut req = request("POST", "follow");
    req.has_token = true;
    fetch_plan_10(&p, &req, &agent).unwrap();
    let hops = agent.hops();
    assert_eq!(hops[0].redirect, "manual", "followed by hand, not by fetch");
    assert_eq!(
        hops[1].drop, SECRET_HEADERS,
        "no payment-signature to another origin"
    );
    assert_eq!(minted.get(), 0, "the caller's own token: nothing minted");
}

#[test]
fn a_minted_token_that_is_not_a_header_value_is_refused_and_never_shown_whole() {
    let p = payments();
    backend(&p);
    let bad = format!("eyJ4NDAy{}\nSECRET-TAIL-OF-THE-TOKEN", "A".repeat(40));
    let minted = bad.clone();
    p.transport()
        .on("POST", "/api/v1/x402/permissions", move |_| {
            Ok(crate::transport::HttpResponse {
                status: 201,
                body: json!({"accessToken": minted.clone()}).to_string(),
            })
        });
    let agent = Agent::new(vec![asks(&["10"])]);
    let err = fetch_plan_10(&p, &request("POST", "follow"), &agent).unwrap_err();
    assert_eq!(err.code(), "invalid_response");
    assert!(!err.to_string().contains("SECRET-TAIL"), "{err}");
    assert_eq!(agent.hops().len(), 1, "never sent");
}

#[test]
fn a_303_turns_the_paid_post_into_a_get_without_its_body() {
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![
        asks(&["10"]),
        redirect(303, "http://127.0.0.1:8787/result"),
        status(200),
    ]);
    fetch_plan_10(&p, &request("POST", "follow"), &agent).unwrap();
    let hop = &agent.hops()[2];
    assert_eq!((hop.method.as_str(), hop.keep_body), ("GET", false));
    assert_eq!(hop.drop, BODY_HEADERS);
}

#[test]
fn redirects_the_caller_asked_not_to_follow_or_that_hide_their_target() {
    let p = payments();
    backend(&p);
    // 'manual': the 3xx is the answer.
    let agent = Agent::new(vec![
        asks(&["10"]),
        redirect(302, "http://127.0.0.1:8787/x"),
    ]);
    fetch_plan_10(&p, &request("POST", "manual"), &agent).unwrap();
    assert_eq!(agent.hops().len(), 2);
    // 'error', an opaque redirect, too many, and a location that is not a URL: errors, nothing followed.
    let cases: Vec<(&str, Vec<Result<Reply>>, &str)> = vec![
        (
            "error",
            vec![redirect(302, "http://127.0.0.1:8787/x")],
            "network_error",
        ),
        (
            "follow",
            vec![Ok(Reply {
                opaque: true,
                ..Reply::default()
            })],
            "redirect_not_followed",
        ),
        ("follow", vec![redirect(302, "")], "network_error"),
        (
            "follow",
            (0..=MAX_REDIRECTS)
                .map(|i| redirect(307, &format!("http://127.0.0.1:8787/{i}")))
                .collect(),
            "network_error",
        ),
    ];
    for (mode, replies, code) in cases {
        let p = payments();
        backend(&p);
        let n = replies.len();
        let agent = Agent::new([vec![asks(&["10"])], replies].concat());
        let err = fetch_plan_10(&p, &request("POST", mode), &agent).unwrap_err();
        assert_eq!(err.code(), code, "{mode}: {err}");
        assert_eq!(
            agent.hops().len(),
            n + 1,
            "{mode}: no hop after the refusal"
        );
    }
}

#[test]
fn the_mcp_token_in_the_body_never_goes_to_another_origin() {
    let tool = Call::Tool {
        id: json!(3),
        name: "weather".into(),
        arguments: json!({"city": "Lisbon"}),
        pin: Pin::Auto,
    };
    let options = json!({"planId": "10", "paymentType": "crypto"});
    // A 307 would resend the body (with the token) elsewhere: refused.
    let p = payments();
    backend(&p);
    known_legacy(&p);
    let agent = Agent::new(vec![redirect(307, "https://evil.example/mcp")]);
    let err = pay_with(
        &p,
        &tool,
        &request("POST", "follow"),
        options.clone(),
        &agent,
    )
    .unwrap_err();
    assert_eq!(err.code(), "redirect_not_followed");
    let hops = agent.hops();
    // Paid up front (one planId): the token is in _meta, not in a header.
    let body: Value = json::parse(hops[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["params"]["name"], "weather");
    assert_eq!(
        body["params"]["_meta"]["x402/payment"]["accepted"]["planId"],
        "10"
    );
    assert_eq!(hops[0].token, None);
    assert_eq!(agent.reads.get(), 0, "a redirect's body is never read");
    assert_eq!(agent.discards.get(), 1, "no answer for the caller");
    // A 303 to another origin drops the body: followed, as a GET, without secrets.
    let p = payments();
    backend(&p);
    known_legacy(&p);
    let agent = Agent::new(vec![
        redirect(303, "https://other.example/done"),
        Ok(Reply {
            status: 200,
            text: Some(r#"{"jsonrpc":"2.0","id":3,"result":{"content":[]}}"#.into()),
            ..Reply::default()
        }),
    ]);
    pay_with(&p, &tool, &request("POST", "follow"), options, &agent).unwrap();
    let hop = &agent.hops()[1];
    assert_eq!(
        (hop.method.as_str(), hop.keep_body, hop.drop),
        ("GET", false, BODY_AND_SECRET_HEADERS)
    );
}

#[test]
fn a_tool_that_asks_for_payment_is_paid_and_its_result_and_receipt_are_the_answer() {
    let p = payments();
    let minted = backend(&p);
    known_legacy(&p);
    let tool = Call::Tool {
        id: json!(1),
        name: "weather".into(),
        arguments: Value::Null,
        pin: Pin::Auto,
    };
    let pr = crate::protocol::decode_payment_header(&payment_required(&["10"], None)).unwrap();
    let asks =
        json!({"jsonrpc": "2.0", "id": 1, "result": {"isError": true, "structuredContent": pr}});
    let done = json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "sunny"}], "_meta": {"x402/payment-response": {"success": true, "creditsRedeemed": "1"}}}});
    let text = |v: &Value| {
        Ok(Reply {
            status: 200,
            text: Some(v.to_string()),
            ..Reply::default()
        })
    };
    let agent = Agent::new(vec![text(&asks), text(&done)]);
    let out = pay_with(
        &p,
        &tool,
        &request("POST", "follow"),
        json!({"planIds": ["10"], "eager": false}),
        &agent,
    )
    .unwrap();
    assert_eq!(out["result"]["content"][0]["text"], "sunny");
    assert_eq!(out["paymentResponse"]["creditsRedeemed"], "1");
    assert_eq!(minted.get(), 1);
    // Still asking after paying: the agent's PaymentRequired and its reason come back in the error.
    let p = payments();
    backend(&p);
    known_legacy(&p);
    let mut refused = asks.clone();
    refused["result"]["structuredContent"]["error"] = json!("Insufficient credits for plan 10");
    let agent = Agent::new(vec![text(&asks), text(&refused)]);
    let err = pay_with(
        &p,
        &tool,
        &request("POST", "follow"),
        json!({"planIds": ["10"], "eager": false}),
        &agent,
    )
    .unwrap_err();
    assert_eq!(err.code(), "payment_required");
    assert_eq!(err.details().unwrap()["accepts"][0]["planId"], "10");
    assert!(
        err.to_string().contains("Insufficient credits for plan 10"),
        "{err}"
    );
}

#[test]
fn query_answers_the_agents_json_or_its_refusal() {
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![paid(r#"{"answer":42}"#, "1")]);
    let out = pay_with(
        &p,
        &Call::Query,
        &request("POST", "follow"),
        json!({"planId": "10", "paymentType": "crypto"}),
        &agent,
    )
    .unwrap();
    assert_eq!(out, json!({"answer": 42}));
    assert!(agent.hops()[0].token.is_some(), "queryAgent pays up front");
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![Ok(Reply {
        status: 500,
        text: Some(r#"{"error":"boom"}"#.into()),
        ..Reply::default()
    })]);
    let err = pay_with(
        &p,
        &Call::Query,
        &request("POST", "follow"),
        json!({"planId": "10", "paymentType": "crypto"}),
        &agent,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "The agent answered HTTP 500: boom");
}

#[test]
fn an_overcharge_and_an_unreachable_agent_are_errors() {
    let p = payments();
    backend(&p);
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/10",
        200,
        json!({"id": "10", "registry": {"credits": {"minAmount": "1", "maxAmount": "1"}}}),
    );
    let agent = Agent::new(vec![asks(&["10"]), paid("ok", "5")]);
    let err = pay_with(
        &p,
        &Call::Fetch,
        &request("POST", "follow"),
        json!({"planIds": ["10"], "eager": false, "maxCredits": 1}),
        &agent,
    )
    .unwrap_err();
    assert_eq!(err.code(), "max_credits_exceeded", "{err}");
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![Err(Error::Unreachable(
        "Could not reach http://127.0.0.1:8787/tasks: refused".into(),
    ))]);
    let err = fetch_plan_10(&p, &request("POST", "follow"), &agent).unwrap_err();
    assert_eq!(
        (err.code().as_ref(), err.is_retryable()),
        ("network_error", true)
    );
}

#[test]
fn hops_cross_as_json_and_replies_are_read_leniently() {
    let hop = Hop {
        attempt: false,
        url: "https://a.example/x".into(),
        method: "GET".into(),
        token: None,
        body: None,
        keep_body: false,
        drop: SECRET_HEADERS,
        headers: json!({"mcp-session-id": "s-1"})
            .as_object()
            .unwrap()
            .clone(),
        redirect: "follow".into(),
    };
    assert_eq!(
        hop.to_json(),
        json!({"attempt": false, "url": "https://a.example/x", "method": "GET", "keepBody": false, "drop": ["payment-signature", "authorization", "cookie", "proxy-authorization", "mcp-session-id"], "headers": {"mcp-session-id": "s-1"}, "redirect": "follow"})
    );
    let reply = Reply::from_json(&json!({"status": 302, "opaque": false, "location": "https://b.example/", "paymentRequired": null, "mcpSessionId": "s-2"})).unwrap();
    assert_eq!(
        (
            reply.status,
            reply.location.as_deref(),
            reply.payment_required,
            reply.session.as_deref()
        ),
        (302, Some("https://b.example/"), None, Some("s-2"))
    );
    assert!(Reply::from_json(&json!({"status": 200, "location": 7})).is_err());
}

/// An MCP server's answer: its status, JSON-RPC body and `mcp-session-id`.
fn rpc(status: u16, body: Value, session: Option<&str>) -> Result<Reply> {
    Ok(Reply {
        status,
        text: Some(body.to_string()),
        session: session.map(str::to_owned),
        ..Reply::default()
    })
}

/// What the 2026-07-28 server answers the probe.
fn discover() -> Result<Reply> {
    rpc(
        200,
        json!({"jsonrpc": "2.0", "id": "nvm-x402-discover", "result": {"supportedVersions": ["2026-07-28"], "capabilities": {}, "resultType": "complete"}}),
        None,
    )
}

/// What the v1 SDK's transports answer a request they can't serve (the probe, a stale call).
fn bad_request(message: &str) -> Result<Reply> {
    rpc(
        400,
        json!({"jsonrpc": "2.0", "error": {"code": -32000, "message": message}, "id": null}),
        None,
    )
}

fn initialized_as(session: Option<&str>) -> Result<Reply> {
    rpc(
        200,
        json!({"jsonrpc": "2.0", "id": "nvm-x402-initialize", "result": {"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "v1", "version": "1"}}}),
        session,
    )
}

fn tool_result(text: &str) -> Result<Reply> {
    rpc(
        200,
        json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": text}], "_meta": {"x402/payment-response": {"success": true, "creditsRedeemed": "1"}}}}),
        None,
    )
}

fn weather(pin: Pin) -> Call {
    Call::Tool {
        id: json!(1),
        name: "weather".into(),
        arguments: json!({"city": "Porto"}),
        pin,
    }
}

/// Pays the weather tool with plan 10, up front.
fn call_tool(p: &Payments<MockTransport>, pin: Pin, agent: &Agent) -> Result<Value> {
    pay_with(
        p,
        &weather(pin),
        &request("POST", "follow"),
        json!({"planId": "10", "paymentType": "crypto"}),
        agent,
    )
}

fn body_of(hop: &Hop) -> Value {
    json::parse(hop.body.as_deref().expect("an MCP hop has a body")).unwrap()
}

fn header<'a>(hop: &'a Hop, name: &str) -> Option<&'a str> {
    hop.headers.get(name).and_then(Value::as_str)
}

fn headers(hop: &Hop) -> Value {
    Value::Object(hop.headers.clone())
}

/// The negotiation's requests carry no token (none of ours in the body, none of the caller's header).
fn assert_unpaid(hop: &Hop) {
    assert_eq!(hop.token, None);
    assert!(
        json::at(&body_of(hop), &["params", "_meta", "x402/payment"]).is_none(),
        "{:?}",
        hop.body
    );
    assert_eq!(hop.drop, &["payment-signature"][..]);
    assert_eq!(hop.redirect, "manual", "followed only within the origin");
}

#[test]
fn a_2026_server_is_probed_once_then_called_with_the_envelope_and_its_headers() {
    let p = payments();
    let minted = backend(&p);
    let agent = Agent::new(vec![discover(), tool_result("sunny")]);
    let out = call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(out["result"]["content"][0]["text"], "sunny");
    assert_eq!(out["paymentResponse"]["creditsRedeemed"], "1");
    let hops = agent.hops();
    assert_eq!(hops.len(), 2, "probe + tools/call");
    let probe = body_of(&hops[0]);
    assert_eq!(probe["method"], "server/discover");
    assert_eq!(
        probe["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    assert_eq!(header(&hops[0], "mcp-method"), Some("server/discover"));
    assert_unpaid(&hops[0]);
    let call = body_of(&hops[1]);
    let meta = &call["params"]["_meta"];
    assert_eq!(
        meta["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    assert_eq!(
        meta["io.modelcontextprotocol/clientCapabilities"],
        json!({})
    );
    assert_eq!(meta["x402/payment"]["accepted"]["planId"], "10");
    assert_eq!(
        (call["id"].clone(), call["method"].clone()),
        (json!(1), json!("tools/call"))
    );
    assert_eq!(
        headers(&hops[1]),
        json!({"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "weather"})
    );
    // The revision is remembered: the next call is one round trip.
    let agent = Agent::new(vec![tool_result("still sunny")]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(agent.hops().len(), 1);
    assert_eq!(header(&agent.hops()[0], "mcp-method"), Some("tools/call"));
    assert_eq!(minted.get(), 1, "the cached token paid the second call");
}

#[test]
fn a_stateless_2025_server_is_initialized_without_a_session_and_called_in_2025_11_25() {
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![
        bad_request("Bad Request: Unsupported protocol version: 2026-07-28"),
        initialized_as(None),
        tool_result("sunny"),
    ]);
    let out = call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(out["result"]["content"][0]["text"], "sunny");
    let hops = agent.hops();
    assert_eq!(hops.len(), 3, "probe + initialize + tools/call");
    assert_eq!(body_of(&hops[1])["method"], "initialize");
    assert_eq!(body_of(&hops[1])["params"]["protocolVersion"], "2025-11-25");
    assert!(
        hops[1].headers.is_empty(),
        "no protocol header before it is agreed"
    );
    assert_unpaid(&hops[1]);
    let call = body_of(&hops[2]);
    assert_eq!(
        call["params"]["_meta"],
        json!({"x402/payment": call["params"]["_meta"]["x402/payment"].clone()}),
        "no 2026 envelope"
    );
    assert_eq!(
        headers(&hops[2]),
        json!({"mcp-protocol-version": "2025-11-25"})
    );
    let agent = Agent::new(vec![tool_result("again")]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(agent.hops().len(), 1, "remembered");
}

#[test]
fn a_sessionful_2025_server_gets_initialized_and_its_session_on_every_call() {
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![
        bad_request("Bad Request: Server not initialized"),
        initialized_as(Some("s-1")),
        status(202),
        tool_result("sunny"),
    ]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    let hops = agent.hops();
    assert_eq!(
        hops.len(),
        4,
        "probe + initialize + initialized + tools/call"
    );
    assert_eq!(body_of(&hops[2])["method"], "notifications/initialized");
    assert_unpaid(&hops[2]);
    let session = json!({"mcp-protocol-version": "2025-11-25", "mcp-session-id": "s-1"});
    assert_eq!(headers(&hops[2]), session);
    assert_eq!(headers(&hops[3]), session);
    let agent = Agent::new(vec![tool_result("again")]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(agent.hops().len(), 1);
    assert_eq!(headers(&agent.hops()[0]), session, "the session is kept");
}

#[test]
fn a_remembered_revision_the_server_refuses_is_negotiated_again_once() {
    // Remembered as 2026-07-28; the server was redeployed as a sessionful 2025 one.
    let p = payments();
    let minted = backend(&p);
    let agent = Agent::new(vec![discover(), tool_result("first")]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    let agent = Agent::new(vec![
        bad_request("Bad Request: Server not initialized"),
        bad_request("Bad Request: Server not initialized"),
        initialized_as(Some("s-9")),
        status(202),
        tool_result("recovered"),
    ]);
    let out = call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(out["result"]["content"][0]["text"], "recovered");
    let hops = agent.hops();
    let methods: Vec<Value> = hops.iter().map(|h| body_of(h)["method"].clone()).collect();
    assert_eq!(
        methods,
        vec![
            json!("tools/call"),
            json!("server/discover"),
            json!("initialize"),
            json!("notifications/initialized"),
            json!("tools/call")
        ]
    );
    let token = |h: &Hop| body_of(h)["params"]["_meta"]["x402/payment"].clone();
    assert_eq!(
        token(&hops[0]),
        token(&hops[4]),
        "the refused call's token goes again"
    );
    assert_unpaid(&hops[1]);
    assert_eq!(minted.get(), 1);
    // Its session is what is remembered now.
    let agent = Agent::new(vec![tool_result("third")]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(header(&agent.hops()[0], "mcp-session-id"), Some("s-9"));

    // The session expired (404): negotiated again, a new session.
    let agent = Agent::new(vec![
        rpc(
            404,
            json!({"jsonrpc": "2.0", "error": {"code": -32001, "message": "Session not found"}, "id": null}),
            None,
        ),
        bad_request("Bad Request: Server not initialized"),
        initialized_as(Some("s-10")),
        status(202),
        tool_result("fourth"),
    ]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(header(&agent.hops()[4], "mcp-session-id"), Some("s-10"));

    // A freshly negotiated revision that is refused too: the answer stands, no loop, nothing remembered.
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![
        bad_request("Bad Request: Server not initialized"),
        initialized_as(None),
        bad_request("Bad Request: Mcp-Session-Id header is required"),
    ]);
    let err = call_tool(&p, Pin::Auto, &agent).unwrap_err();
    assert_eq!(err.code(), "http_400", "{err}");
    assert!(
        err.to_string()
            .contains("Mcp-Session-Id header is required"),
        "{err}"
    );
    assert_eq!(agent.hops().len(), 3);
    assert_eq!(
        p.client_state().mcp_era(&(AGENT_URL.into(), Pin::Auto)),
        None
    );
}

#[test]
fn a_pinned_revision_skips_the_probe_or_has_no_fallback() {
    // 2025-11-25: no probe.
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![initialized_as(None), tool_result("sunny")]);
    call_tool(&p, Pin::Legacy, &agent).unwrap();
    assert_eq!(body_of(&agent.hops()[0])["method"], "initialize");
    assert_eq!(agent.hops().len(), 2);
    // What a pinned call found is not what an unpinned one uses: it probes.
    let agent = Agent::new(vec![discover(), tool_result("modern")]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
    assert_eq!(body_of(&agent.hops()[0])["method"], "server/discover");
    // 2026-07-28 to a 2025 server: an error, and nothing paid is sent.
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![bad_request("Bad Request: Server not initialized")]);
    let err = call_tool(&p, Pin::Modern, &agent).unwrap_err();
    assert_eq!(err.code(), "mcp_negotiation_failed");
    assert!(err.to_string().contains("2026-07-28"), "{err}");
    assert!(err.hint().contains("protocolVersion"));
    assert_eq!(agent.hops().len(), 1);
    assert_eq!(agent.discards.get(), 1, "no answer for the caller");
    assert!(matches!(
        Call::from_json(
            "tool",
            &json!({"name": "t", "protocolVersion": "2025-06-18"})
        ),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn negotiation_failures_are_errors_before_anything_paid_is_sent() {
    let cases: Vec<(Vec<Result<Reply>>, &str)> = vec![
        (vec![status(401)], "http_401"),
        (vec![rpc(503, json!({"message": "down"}), None)], "http_503"),
        (
            vec![Ok(Reply {
                status: 200,
                text: Some("<html>".into()),
                ..Reply::default()
            })],
            "invalid_response",
        ),
        (
            vec![
                bad_request("nope"),
                rpc(
                    200,
                    json!({"jsonrpc": "2.0", "id": "i", "error": {"code": -32602, "message": "Unsupported protocol version"}}),
                    None,
                ),
            ],
            "mcp_negotiation_failed",
        ),
        (
            vec![bad_request("nope"), initialized_as(Some("s")), status(400)],
            "http_400",
        ),
        // The probe redirected to another origin: not followed (its body, then the session, stay).
        (
            vec![redirect(307, "https://elsewhere.example/mcp")],
            "redirect_not_followed",
        ),
    ];
    for (replies, code) in cases {
        let p = payments();
        backend(&p);
        let n = replies.len();
        let agent = Agent::new(replies);
        let err = call_tool(&p, Pin::Auto, &agent).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        let hops = agent.hops();
        assert_eq!(hops.len(), n, "{code}: nothing after the failure");
        for hop in &hops {
            assert_unpaid(hop);
        }
    }
    // An unreachable probe (a browser's refused CORS preflight looks the same) falls back to 2025.
    let p = payments();
    backend(&p);
    let agent = Agent::new(vec![
        Err(Error::Unreachable(
            "Could not reach it: Failed to fetch".into(),
        )),
        initialized_as(None),
        tool_result("sunny"),
    ]);
    call_tool(&p, Pin::Auto, &agent).unwrap();
}

#[test]
fn a_caller_with_their_own_session_is_not_negotiated_for() {
    let p = payments();
    backend(&p);
    let mut req = request("POST", "follow");
    req.mcp_session = Some("theirs".into());
    let agent = Agent::new(vec![tool_result("sunny")]);
    pay_with(
        &p,
        &weather(Pin::Auto),
        &req,
        json!({"planId": "10", "paymentType": "crypto"}),
        &agent,
    )
    .unwrap();
    let hops = agent.hops();
    assert_eq!(hops.len(), 1);
    assert!(
        hops[0].headers.is_empty(),
        "their headers, as they set them"
    );
    assert!(body_of(&hops[0])["params"]["_meta"]["x402/payment"].is_object());
    assert_eq!(
        p.client_state().mcp_era(&(AGENT_URL.into(), Pin::Auto)),
        None
    );
}

// ---- A2A: the card, then message/send paid in band on the task that asked ----

const A2A_BASE: &str = "http://127.0.0.1:8789/";
const A2A_URL: &str = "http://127.0.0.1:8789/a2a";

/// The agent card at `path` (a plain GET through the transport).
fn a2a_card_at(p: &Payments<MockTransport>, path: &str, plan: &str, credits: u64) {
    let card = json!({"name": "echo", "url": A2A_URL, "capabilities": {"extensions": [
        {"uri": "urn:nevermined:payment", "params": {"agentId": "agent-1", "planId": plan, "credits": credits, "paymentType": "fixed"}}
    ]}});
    p.transport().json("GET", path, 200, card);
}

fn a2a_card(p: &Payments<MockTransport>, plan: &str, credits: u64) {
    a2a_card_at(p, "/.well-known/agent-card.json", plan, credits);
}

fn a2a_reply(id: u64, task: Value) -> Result<Reply> {
    Ok(Reply {
        status: 200,
        text: Some(json!({"jsonrpc": "2.0", "id": id, "result": task}).to_string()),
        ..Reply::default()
    })
}

fn a2a_asks(id: u64, plans: &[&str]) -> Result<Reply> {
    let pr =
        crate::protocol::decode_payment_header(&payment_required(plans, Some("agent-1"))).unwrap();
    a2a_reply(
        id,
        json!({"kind": "task", "id": "task-1", "contextId": "ctx", "status": {"state": "input-required", "message": {"kind": "message", "role": "agent", "messageId": "m", "parts": [], "metadata": {"x402.payment.status": "payment-required", "x402.payment.required": pr}}}}),
    )
}

fn a2a_done(id: u64, burned: &str) -> Result<Reply> {
    a2a_reply(
        id,
        json!({"kind": "task", "id": "task-1", "contextId": "ctx", "status": {"state": "completed", "message": {"kind": "message", "role": "agent", "messageId": "r", "parts": [{"kind": "text", "text": "hello"}], "metadata": {"x402.payment.status": "payment-completed", "x402.payment.receipts": [{"success": true, "creditsRedeemed": burned}]}}}}),
    )
}

/// What `getClient` then `sendA2AMessage` do: the card (its url and agent), then the message.
fn a2a_send(p: &Payments<MockTransport>, options: Value, agent: &Agent) -> Result<Value> {
    let (call, endpoint, options) = a2a_call(p, options, "a2a")?;
    pay_with(p, &call, &endpoint, options, agent)
}

/// `getClient`'s card read with `options`, then the message's call (`kind`), its request and options.
fn a2a_call(
    p: &Payments<MockTransport>,
    mut options: Value,
    kind: &str,
) -> Result<(Call, Outgoing, Value)> {
    let card = run(super::a2a_card(p, &request_to(A2A_BASE, "GET"), &options))?;
    options["agentId"] = card["agentId"].clone();
    options["params"] = json!({"message": {"kind": "message", "messageId": "m1", "role": "user", "parts": [{"kind": "text", "text": "hello"}]}});
    let endpoint = request_to(card["url"].as_str().unwrap(), "POST");
    Ok((Call::from_json(kind, &options)?, endpoint, options))
}

fn request_to(url: &str, method: &str) -> Outgoing {
    Outgoing {
        url: url.into(),
        method: method.into(),
        has_token: false,
        redirect: "follow".into(),
        mcp_session: None,
        authorization: None,
    }
}

#[test]
fn a2a_reads_the_card_then_pays_the_task_that_asked_on_its_task_id() {
    let p = payments();
    let minted = backend(&p);
    a2a_card(&p, "10", 1);
    let agent = Agent::new(vec![a2a_asks(1, &["10"]), a2a_done(2, "1")]);
    let out = a2a_send(&p, json!({"planIds": ["10"], "eager": false}), &agent).unwrap();
    assert_eq!(out["result"]["status"]["state"], "completed");
    assert_eq!(out["paymentResponse"]["creditsRedeemed"], "1");
    assert_eq!(out["id"], 2);
    assert_eq!(minted.get(), 1);
    // The card: a plain GET, nothing of the caller's on it.
    let card = p.transport().sent.borrow()[0].clone();
    assert_eq!(
        (card.method, card.url.as_str(), card.headers.len()),
        (
            "GET",
            "http://127.0.0.1:8789/.well-known/agent-card.json",
            0
        )
    );
    // The unpaid message, then the paid one on the same task, both to the card's url.
    let hops = agent.hops();
    assert_eq!(hops.len(), 2);
    let (probe, paid) = (body_of(&hops[0]), body_of(&hops[1]));
    assert_eq!(
        (hops[0].url.as_str(), hops[1].url.as_str()),
        (A2A_URL, A2A_URL)
    );
    assert_eq!(probe["method"], "message/send");
    assert_eq!(probe["params"]["message"].get("taskId"), None);
    assert_eq!(probe["params"]["message"].get("metadata"), None);
    let meta = &paid["params"]["message"]["metadata"];
    assert_eq!(paid["params"]["message"]["taskId"], "task-1");
    assert_eq!(meta["x402.payment.status"], "payment-submitted");
    assert_eq!(meta["x402.payment.payload"]["accepted"]["planId"], "10");
    // In band only, and the paid request's redirects are followed by hand.
    assert_eq!(
        (hops[1].token.as_deref(), hops[1].redirect.as_str()),
        (None, "manual")
    );
    assert!(hops.iter().all(|h| h.method == "POST" && h.attempt));
    // A second message to the same agent pays up front with the same (cached) token.
    let agent = Agent::new(vec![a2a_done(1, "1")]);
    a2a_send(&p, json!({"planIds": ["10"], "eager": false}), &agent).unwrap();
    assert_eq!(minted.get(), 1);
    let up_front = body_of(&agent.hops()[0]);
    assert_eq!(up_front["params"]["message"]["metadata"], meta.clone());
}

#[test]
fn a2a_refuses_a_card_it_may_not_pay_before_sending_a_message() {
    let p = payments();
    let minted = backend(&p);
    a2a_card(&p, "10", 2);
    for (options, code) in [
        (json!({"planIds": ["20"]}), "plan_not_allowed"),
        (
            json!({"anyPlan": true, "maxCredits": 1}),
            "max_credits_exceeded",
        ),
        (
            json!({"planIds": ["10"], "agentId": "agent-2"}),
            "plan_not_allowed",
        ),
    ] {
        let agent = Agent::new(vec![]);
        let err = a2a_send(&p, options.clone(), &agent).unwrap_err();
        assert_eq!(err.code(), code, "{options}: {err}");
        assert!(agent.hops().is_empty(), "no message was sent");
    }
    assert_eq!(minted.get(), 0);
}

/// A message, `maxCredits: 1`, to an agent that asks for `plan` (whose requests cost up to
/// `plan_max`) and answers `replies`: the error, how many tokens were minted, how many messages sent.
fn capped_at_one(plan: &str, plan_max: u64, replies: Vec<Result<Reply>>) -> (Error, u32, usize) {
    let p = payments();
    let minted = backend(&p);
    a2a_card(&p, plan, 1);
    with_plan(&p, plan, plan_max);
    let agent = Agent::new(replies);
    let options = json!({"planIds": [plan], "eager": false, "maxCredits": 1});
    let err = a2a_send(&p, options, &agent).unwrap_err();
    (err, minted.get(), agent.hops().len())
}

#[test]
fn a2a_holds_max_credits_against_what_the_agent_asks_and_burns() {
    // The card says 1 credit; the agent burns 5: an error (and its token is not used again).
    let (err, minted, sent) = capped_at_one("10", 1, vec![a2a_asks(1, &["10"]), a2a_done(2, "5")]);
    assert_eq!(
        (err.code().as_ref(), minted, sent),
        ("max_credits_exceeded", 1, 2),
        "{err}"
    );
    // The agent asks for a plan whose requests cost more than maxCredits: refused before minting.
    let (err, minted, sent) = capped_at_one("30", 9, vec![a2a_asks(1, &["30"])]);
    assert_eq!(
        (err.code().as_ref(), minted, sent),
        ("max_credits_exceeded", 0, 1),
        "{err}"
    );
}

#[test]
fn a2a_card_not_fetched_names_the_legacy_path_and_its_failure_then_the_legacy_card_pays() {
    let p = payments();
    let minted = backend(&p);
    p.transport()
        .json("GET", "/.well-known/agent-card.json", 404, json!({}));
    a2a_card_at(&p, "/.well-known/agent.json", "10", 1);
    // The canonical card is not there: its failure, the path tried and the legacy path to ask.
    let options = json!({"planIds": ["10"], "eager": false});
    let fallback = run(super::a2a_card(&p, &request_to(A2A_BASE, "GET"), &options)).unwrap();
    assert_eq!(fallback["cause"]["code"], "http_404");
    assert_eq!(fallback["from"], ".well-known/agent-card.json");
    assert_eq!(fallback["to"], ".well-known/agent.json");
    assert_eq!(fallback.get("url"), None);
    // The legacy card (a2a-client.js asks it next) is read and paid like the canonical one.
    let agent = Agent::new(vec![a2a_asks(1, &["10"]), a2a_asks(2, &["10"])]);
    let legacy =
        json!({"planIds": ["10"], "eager": false, "agentCardPath": ".well-known/agent.json"});
    let err = a2a_send(&p, legacy, &agent).unwrap_err();
    // A fresh token refused: no loop, the agent's reason.
    assert_eq!(err.code(), "payment_required", "{err}");
    assert_eq!((minted.get(), agent.hops().len()), (1, 2));
    assert_eq!(
        p.transport().sent.borrow()[1].url,
        "http://127.0.0.1:8789/.well-known/agent.json"
    );
    // The legacy path's own failure is the error; no message is sent.
    let p = payments();
    p.transport()
        .json("GET", "/.well-known/agent.json", 500, json!({}));
    let agent = Agent::new(vec![]);
    let err = a2a_send(
        &p,
        json!({"planIds": ["10"], "agentCardPath": ".well-known/agent.json"}),
        &agent,
    )
    .unwrap_err();
    assert_eq!(err.code(), "http_500", "{err}");
    assert!(agent.hops().is_empty());
    // A card that was read and refused is the error at once (no fallback).
    let p = payments();
    a2a_card(&p, "99", 1);
    let err = run(super::a2a_card(
        &p,
        &request_to(A2A_BASE, "GET"),
        &json!({"planIds": ["10"]}),
    ))
    .unwrap_err();
    assert_eq!(err.code(), "plan_not_allowed", "{err}");
    assert_eq!(p.transport().sent.borrow().len(), 1);
}

/// The card (plan 10, one credit) read by `getClient` allowing plan 10, and its `url` to POST to.
fn a2a_task_endpoint(p: &Payments<MockTransport>) -> (Value, Outgoing) {
    a2a_card(p, "10", 1);
    let card = run(super::a2a_card(
        p,
        &request_to(A2A_BASE, "GET"),
        &json!({"planIds": ["10"]}),
    ))
    .unwrap();
    let endpoint = request_to(card["url"].as_str().unwrap(), "POST");
    (card, endpoint)
}

#[test]
fn a2a_task_calls_are_sent_once_without_a_token_and_never_paid_on() {
    let p = payments();
    let minted = backend(&p);
    let (card, endpoint) = a2a_task_endpoint(&p);
    // tasks/get of a task waiting for its payment: shown as it is, nothing minted or paid.
    let options = json!({"planIds": ["10"], "agentId": card["agentId"], "params": {"id": "task-1", "historyLength": 2}});
    let agent = Agent::new(vec![a2a_asks(1, &["10"])]);
    let answer = pay_with(
        &p,
        &Call::from_json("a2a-get", &options).unwrap(),
        &endpoint,
        options.clone(),
        &agent,
    )
    .unwrap();
    assert_eq!(answer["result"]["status"]["state"], "input-required");
    let hops = agent.hops();
    assert_eq!((minted.get(), hops.len()), (0, 1));
    let body = crate::protocol::json::parse(hops[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "task-1", "historyLength": 2}})
    );
    assert_eq!(hops[0].token, None);
    // tasks/resubscribe: the same; each event handed over as soon as its line is read,
    // before the stream ends (pieces of 16 bytes), so none is left for the answer.
    let call = Call::from_json("a2a-resubscribe", &options).unwrap();
    let event = |state: &str| json!({"jsonrpc": "2.0", "id": 1, "result": {"kind": "status-update", "taskId": "task-1", "status": {"state": state}}});
    let (working, done) = (event("working"), event("completed"));
    let stream = format!(
        ": keep-alive\r\n\ndata: {working}\n\ndata:{done}\n\n: the agent keeps the stream open\n\n"
    );
    let agent = Agent::new(vec![Ok(Reply {
        status: 200,
        text: Some(stream.clone()),
        ..Reply::default()
    })]);
    let events = pay_with(&p, &call, &endpoint, options.clone(), &agent).unwrap();
    assert_eq!(events, json!([]));
    let emitted = agent.emitted.borrow().clone();
    let pieces = u32::try_from(stream.len().div_ceil(16)).unwrap();
    assert_eq!(agent.pieces_read.get(), pieces);
    assert_eq!((&emitted[0].1, &emitted[1].1), (&working, &done));
    let line_end = |e: &Value| stream.find(&e.to_string()).unwrap() + e.to_string().len() + 1;
    assert_eq!(emitted[0].0 as usize, line_end(&working).div_ceil(16));
    assert_eq!(emitted[1].0 as usize, line_end(&done).div_ceil(16));
    assert!(emitted[0].0 < emitted[1].0 && emitted[1].0 < pieces);
    // A line that is not this call's: what came before it was handed over, nothing after; the call fails.
    let other = json!({"jsonrpc": "2.0", "id": 99, "result": {}});
    let agent = Agent::new(vec![Ok(Reply {
        status: 200,
        text: Some(format!(
            "data: {working}\n\ndata: {other}\n\ndata: {done}\n\n"
        )),
        ..Reply::default()
    })]);
    let err = pay_with(&p, &call, &endpoint, options.clone(), &agent).unwrap_err();
    assert_eq!(err.code(), "invalid_response");
    let emitted: Vec<_> = agent.emitted.borrow().iter().map(|e| e.1.clone()).collect();
    assert_eq!(emitted, vec![working]);
    let sent = agent.hops()[0].body.clone().unwrap();
    let sent = crate::protocol::json::parse(&sent).unwrap();
    assert_eq!(
        (sent["method"].as_str(), sent["id"].as_u64()),
        (Some("tasks/resubscribe"), Some(1))
    );
    assert_eq!(agent.hops()[0].token, None);
    assert_eq!(minted.get(), 0);
    // A task call needs params.id.
    let err = Call::from_json("a2a-get", &json!({"params": {}})).unwrap_err();
    assert_eq!(err.code(), "validation");
}

#[test]
fn a2a_push_notification_configs_are_task_calls_unpaid_their_errors_answered_and_never_sent_elsewhere(
) {
    let p = payments();
    let minted = backend(&p);
    let (card, endpoint) = a2a_task_endpoint(&p);
    let config = json!({"taskId": "task-1", "pushNotificationConfig": {"url": "https://hooks.example/n", "token": "hook-secret"}});
    let options = json!({"planIds": ["10"], "agentId": card["agentId"], "params": config});
    let set = Call::from_json("a2a-push-set", &options).unwrap();
    // The agent's answer, the JSON-RPC response as it came (its result the config).
    let agent = Agent::new(vec![a2a_reply(1, config.clone())]);
    let answer = pay_with(&p, &set, &endpoint, options.clone(), &agent).unwrap();
    assert_eq!(answer["result"], config);
    let hops = agent.hops();
    assert_eq!((hops.len(), hops[0].token.as_deref()), (1, None));
    assert_eq!(hops[0].url, A2A_URL);
    assert_eq!(
        body_of(&hops[0]),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tasks/pushNotificationConfig/set", "params": config})
    );
    // get: {id, pushNotificationConfigId?}; an agent without push notifications answers -32003, handed back as it came.
    let get_options =
        json!({"planIds": ["10"], "params": {"id": "task-1", "pushNotificationConfigId": "c1"}});
    let get = Call::from_json("a2a-push-get", &get_options).unwrap();
    let error = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32003, "message": "Push Notification is not supported"}});
    let agent = Agent::new(vec![Ok(Reply {
        status: 200,
        text: Some(error.to_string()),
        ..Reply::default()
    })]);
    let answer = pay_with(&p, &get, &endpoint, get_options, &agent).unwrap();
    assert_eq!(answer["error"], error["error"]);
    let sent = body_of(&agent.hops()[0]);
    assert_eq!(sent["method"], "tasks/pushNotificationConfig/get");
    assert_eq!(sent["params"]["pushNotificationConfigId"], "c1");
    assert_eq!(agent.hops()[0].token, None);
    // A 307 to another origin would carry the config (its token) there: not followed.
    let agent = Agent::new(vec![redirect(307, "http://elsewhere.example/a2a")]);
    let err = pay_with(&p, &set, &endpoint, options.clone(), &agent).unwrap_err();
    assert_eq!(err.code(), "redirect_not_followed");
    assert_eq!(agent.hops().len(), 1);
    assert_eq!(minted.get(), 0, "nothing minted for a task call");
    // Their keys are required before anything is sent.
    for (kind, params, key) in [
        ("a2a-push-set", json!({"id": "task-1"}), "taskId"),
        ("a2a-push-get", json!({"taskId": "task-1"}), "id"),
    ] {
        let err = Call::from_json(kind, &json!({ "params": params })).unwrap_err();
        assert_eq!(err.code(), "validation");
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn a2a_a_stream_that_breaks_off_is_not_paid_on_even_after_a_task_asking_for_payment() {
    let p = payments();
    let minted = backend(&p);
    a2a_card(&p, "10", 1);
    let mut asks = a2a_asks(1, &["10"]).unwrap();
    let working = json!({"jsonrpc": "2.0", "id": 1, "result": {"kind": "task", "id": "task-1", "status": {"state": "working"}}});
    asks.text = Some(format!(
        "data: {working}\n\ndata: {}\n\n",
        asks.text.unwrap()
    ));
    let agent = Agent::new(vec![Ok(asks)]);
    agent.breaks_off.set(true);
    let (call, endpoint, options) =
        a2a_call(&p, json!({"planIds": ["10"], "eager": false}), "a2a-stream").unwrap();
    let err = pay_with(&p, &call, &endpoint, options, &agent).unwrap_err();
    assert_eq!(err.code(), "invalid_response");
    assert!(err.to_string().contains("broke off"), "{err}");
    // What came was handed over; no follow-up was sent, nothing minted.
    let emitted: Vec<_> = agent.emitted.borrow().iter().map(|e| e.1.clone()).collect();
    assert_eq!(emitted, vec![working]);
    assert_eq!((agent.hops().len(), minted.get()), (1, 0));
    assert_eq!(agent.discards.get(), 1);
}

#[test]
fn a2a_pays_up_front_with_one_allowed_plan_and_answers_json_rpc_errors_as_they_are() {
    let p = payments();
    let minted = backend(&p);
    a2a_card(&p, "10", 1);
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/10",
        200,
        json!({"id": "10", "registry": {"price": {"isCrypto": true}}}),
    );
    let agent = Agent::new(vec![a2a_done(1, "1")]);
    let out = a2a_send(&p, json!({"planIds": ["10"]}), &agent).unwrap();
    assert_eq!(out["paymentResponse"]["creditsRedeemed"], "1");
    assert_eq!(minted.get(), 1);
    let first = body_of(&agent.hops()[0]);
    let payload = &first["params"]["message"]["metadata"]["x402.payment.payload"];
    assert_eq!(payload["accepted"]["planId"], "10");
    // Minted for the card's agent (the call named none).
    let mint = p.transport().last_body("/permissions");
    assert_eq!(mint["accepted"]["extra"]["agentId"], "agent-1", "{mint}");
    let error =
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": "Task not found"}});
    let agent = Agent::new(vec![Ok(Reply {
        status: 200,
        text: Some(error.to_string()),
        ..Reply::default()
    })]);
    let out = a2a_send(&p, json!({"planIds": ["10"]}), &agent).unwrap();
    assert_eq!(out["error"], error["error"]);
    assert_eq!(out["paymentResponse"], Value::Null);
}

#[test]
fn a2a_streams_pay_the_same_way_and_answer_every_event_with_the_receipt_on_the_last() {
    let p = payments();
    let minted = backend(&p);
    a2a_card(&p, "10", 1);
    let sse = |reply: Result<Reply>| {
        let mut reply = reply.unwrap();
        let text = reply.text.take().unwrap();
        reply.text = Some(format!("data: {text}\n\n"));
        Ok(reply)
    };
    let working = json!({"jsonrpc": "2.0", "id": 2, "result": {"kind": "task", "id": "task-1", "status": {"state": "working"}}});
    let mut done = sse(a2a_done(2, "1")).unwrap();
    done.text = Some(format!("data: {working}\n\n{}", done.text.unwrap()));
    let agent = Agent::new(vec![sse(a2a_asks(1, &["10"])), Ok(done)]);
    let (call, endpoint, options) =
        a2a_call(&p, json!({"planIds": ["10"], "eager": false}), "a2a-stream").unwrap();
    let out = pay_with(&p, &call, &endpoint, options, &agent).unwrap();
    // `working` was handed over as it came (the task asking for payment never was: its
    // attempt's last event); the last, which carries the receipt, is the answer.
    let emitted = agent.emitted.borrow().clone();
    assert_eq!(emitted.len(), 1);
    assert_eq!(emitted[0].1, working);
    let events = out.as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["result"]["status"]["state"], "completed");
    assert_eq!(events[0]["paymentResponse"]["creditsRedeemed"], "1");
    assert_eq!(minted.get(), 1);
    let hops = agent.hops();
    assert_eq!(body_of(&hops[0])["method"], "message/stream");
    assert_eq!(body_of(&hops[1])["params"]["message"]["taskId"], "task-1");
    // A stream answered with JSON (a JSON-RPC error): read as it comes all the same, that one response.
    let error = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}});
    let agent = Agent::new(vec![Ok(Reply {
        status: 200,
        text: Some(error.to_string()),
        ..Reply::default()
    })]);
    let (call, endpoint, options) =
        a2a_call(&p, json!({"planIds": ["10"], "eager": false}), "a2a-stream").unwrap();
    let out = pay_with(&p, &call, &endpoint, options, &agent).unwrap();
    assert_eq!(out[0]["error"], error["error"]);
    assert_eq!(out.as_array().unwrap().len(), 1);
    assert!(agent.emitted.borrow().is_empty() && agent.pieces_read.get() > 1);
}

/// `payments.mpp.fetch` against a scripted agent and a scripted MPP mint.
#[cfg(all(feature = "mpp", feature = "subscriber"))]
mod mpp_fetch {
    use super::*;
    use crate::protocol::mpp::credential_challenge_id;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A challenge `id` for `credits` of plan 10 (the request as the backend encodes it).
    fn challenge(id: &str, credits: &str) -> Result<Reply> {
        let request = crate::protocol::base64::encode_url(
            format!(r#"{{"credits":"{credits}","planId":"10"}}"#).as_bytes(),
        );
        Ok(Reply {
            status: 402,
            www_authenticate: Some(format!(
                r#"Payment id="{id}", realm="r", method="nevermined", intent="charge", request="{request}""#
            )),
            text: Some(String::new()),
            ..Reply::default()
        })
    }

    fn refused(id: &str, body: &str) -> Result<Reply> {
        let mut r = challenge(id, "2")?;
        r.text = Some(body.into());
        Ok(r)
    }

    fn served() -> Result<Reply> {
        let receipt = crate::protocol::base64::encode_url(
            br#"{"method":"nevermined","reference":"c1","status":"success","timestamp":"t"}"#,
        );
        Ok(Reply {
            status: 200,
            payment_receipt: Some(receipt),
            ..Reply::default()
        })
    }

    fn mint(p: &Payments<MockTransport>) -> Rc<Cell<u32>> {
        let minted = Rc::new(Cell::new(0));
        let n = Rc::clone(&minted);
        p.transport()
            .on("POST", "/api/v1/mpp/permissions", move |_| {
                n.set(n.get() + 1);
                Ok(crate::transport::HttpResponse {
                    status: 201,
                    body: format!(r#"{{"accessToken":"mpp-token-{}"}}"#, n.get()),
                })
            });
        minted
    }

    fn request(authorization: Option<&str>) -> Outgoing {
        Outgoing {
            url: AGENT_URL.into(),
            method: "POST".into(),
            has_token: false,
            redirect: "follow".into(),
            mcp_session: None,
            authorization: authorization.map(str::to_owned),
        }
    }

    fn options(extra: Value) -> Value {
        let mut o = json!({"delegationConfig": {"delegationId": "del-1"}});
        for (k, v) in extra.as_object().unwrap() {
            o[k.as_str()] = v.clone();
        }
        o
    }

    fn fetch(
        p: &Payments<MockTransport>,
        agent: &Agent,
        req: &Outgoing,
        o: &Value,
    ) -> Result<Value> {
        run(mpp::fetch(p, req, o, agent))
    }

    #[test]
    fn a_challenge_is_paid_once_with_the_credential_before_the_callers_own_authorization() {
        let p = payments();
        let minted = mint(&p);
        let agent = Agent::new(vec![challenge("c1", "2"), served()]);
        let out = fetch(
            &p,
            &agent,
            &request(Some("Bearer own-key")),
            &options(json!({})),
        )
        .unwrap();
        assert_eq!(out["settled"], true);
        assert_eq!(out["paid"], true);
        assert_eq!(out["credentialsPresented"], 1);
        assert_eq!(out["creditsPresented"], "2");
        assert_eq!(out["receipt"]["reference"], "c1");
        assert_eq!(minted.get(), 1);
        assert_eq!(
            p.transport().last_body("/api/v1/mpp/permissions")["delegationConfig"],
            json!({"delegationId": "del-1"})
        );
        let hops = agent.hops();
        assert_eq!(hops.len(), 2);
        assert!(
            hops[0].headers.is_empty(),
            "the first request goes as the caller made it"
        );
        let auth = hops[1].headers["authorization"].as_str().unwrap();
        let (credential, own) = auth.split_once(", ").unwrap();
        assert_eq!(own, "Bearer own-key");
        assert_eq!(credential_challenge_id(credential).as_deref(), Some("c1"));
        assert_eq!(
            hops[1].redirect, "manual",
            "the credential's redirects are followed by hand"
        );
    }

    #[test]
    fn the_plan_pin_and_the_cap_refuse_before_anything_is_minted() {
        for (extra, code) in [
            (json!({"planId": "99"}), crate::error::PLAN_NOT_ALLOWED),
            (json!({"maxCredits": 1}), crate::error::MAX_CREDITS_EXCEEDED),
        ] {
            let p = payments();
            let minted = mint(&p);
            let agent = Agent::new(vec![challenge("c1", "2")]);
            let e = fetch(&p, &agent, &request(None), &options(extra)).unwrap_err();
            assert_eq!(e.code(), code);
            assert!(e.spend().is_none(), "nothing was spent");
            assert_eq!(minted.get(), 0);
        }
        let p = payments();
        let e = fetch(
            &p,
            &Agent::new(vec![]),
            &request(None),
            &json!({"delegationConfig": {"spendingLimitCents": 100}}),
        )
        .unwrap_err();
        assert_eq!(e.code(), "validation");
        assert!(p.transport().sent.borrow().is_empty());
    }

    #[test]
    fn a_coded_rejection_is_terminal_and_carries_the_spend() {
        let p = payments();
        let minted = mint(&p);
        let agent = Agent::new(vec![
            challenge("c1", "2"),
            refused(
                "c2",
                r#"{"code":"BCK.MPP.0003","message":"Credential rejected"}"#,
            ),
        ]);
        let e = fetch(&p, &agent, &request(None), &options(json!({}))).unwrap_err();
        assert_eq!(e.code(), "BCK.MPP.0003");
        assert_eq!(e.mpp_class(), Some("MppCredentialRejectedError"));
        assert_eq!(
            e.spend(),
            Some(&json!({"credentialsPresented": 1, "creditsPresented": "2", "challengeId": "c1"}))
        );
        assert_eq!(minted.get(), 1);
    }

    #[test]
    fn a_fresh_challenge_is_paid_once_more_within_the_whole_call_cap() {
        // No code and a new id: paid again, the two turns summed.
        let p = payments();
        let minted = mint(&p);
        let agent = Agent::new(vec![challenge("c1", "2"), refused("c2", ""), served()]);
        let out = fetch(
            &p,
            &agent,
            &request(None),
            &options(json!({"maxCredits": "4"})),
        )
        .unwrap();
        assert_eq!(
            (
                out["credentialsPresented"].as_u64(),
                out["creditsPresented"].as_str()
            ),
            (Some(2), Some("4"))
        );
        assert_eq!(minted.get(), 2);
        // The same id replayed with no code: terminal, not paid twice.
        let p = payments();
        let minted = mint(&p);
        let agent = Agent::new(vec![challenge("c1", "2"), refused("c1", "")]);
        let e = fetch(&p, &agent, &request(None), &options(json!({}))).unwrap_err();
        assert_eq!(e.code(), "mpp_error");
        assert_eq!(minted.get(), 1);
        // A second turn over the cap: refused with the first turn's spend.
        let p = payments();
        mint(&p);
        let agent = Agent::new(vec![challenge("c1", "2"), refused("c2", "")]);
        let e = fetch(
            &p,
            &agent,
            &request(None),
            &options(json!({"maxCredits": 3})),
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::error::MAX_CREDITS_EXCEEDED);
        assert_eq!(e.spend().unwrap()["credentialsPresented"], 1);
    }

    #[test]
    fn a_redirect_to_another_origin_drops_the_credential_and_a_lost_answer_is_an_unknown_spend() {
        let p = payments();
        mint(&p);
        let agent = Agent::new(vec![
            challenge("c1", "2"),
            redirect(307, "https://elsewhere.example/ask"),
            status(200),
        ]);
        let out = fetch(&p, &agent, &request(None), &options(json!({}))).unwrap();
        assert_eq!(
            (out["paid"].as_bool(), out["settled"].as_bool()),
            (Some(false), Some(false))
        );
        let hops = agent.hops();
        assert!(hops[2].drop.contains(&"authorization"), "{:?}", hops[2]);
        let p = payments();
        mint(&p);
        let agent = Agent::new(vec![
            challenge("c1", "2"),
            Err(Error::Unreachable("reset".into())),
        ]);
        let e = fetch(&p, &agent, &request(None), &options(json!({}))).unwrap_err();
        assert_eq!(e.code(), "spend_outcome_unknown");
        assert_eq!(e.spend().unwrap()["creditsPresented"], "2");
    }
}
