//! The gate's lifecycle against a scripted backend: every decision of the
//! spec's per-request table, counting the backend calls each one makes. A
//! request runs through [`Gate::handle`] with a scripted [`Exchange`]; the
//! tests split it where the handler runs ([`begin_request`] up to there, [`finish_request`]
//! with the handler's status and price), so what was decided before the
//! handler can be checked, and several requests can be in flight at once.

use super::{Exchange, Gate};
use crate::json;
use crate::payments::Payments;
use crate::protocol::decode_payment_header;
use crate::protocol::gate::Hook;
use crate::protocol::json::{parse, Value};
use crate::protocol::token::encode_access_token;
use crate::transport::mock::MockTransport;
use crate::transport::HttpResponse;
use crate::Error;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub(super) const KEY: &str = "local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFnZW50In0.c2ln";
const AGENT: &str = "agent-1";
const URL: &str = "http://127.0.0.1:8787/tasks";

pub(super) fn payments() -> Payments<MockTransport> {
    MockTransport::client(KEY)
}

fn gate(extra: Value) -> Gate {
    let mut options = json!({
        "agentId": AGENT,
        "routes": {
            "POST /tasks": {"planId": "10", "credits": 2, "description": "Run a task", "mimeType": "application/json"},
            "GET /items/:id": {"planIds": ["10", "20"], "credits": {"$function": true}},
        }
    });
    for (k, v) in extra.as_object().unwrap() {
        options[k.as_str()] = v.clone();
    }
    Gate::new(&options).unwrap()
}

pub(super) fn token(
    plan: &str,
    scheme: &str,
    network: &str,
    v3: Option<(&str, &str, &str)>,
) -> String {
    let mut t = json!({
        "x402Version": 2,
        "accepted": {"scheme": scheme, "network": network, "planId": plan, "extra": {"version": "1"}},
        "payload": {"signature": "0xsig", "authorization": {"from": "0xsubscriber", "sessionKeys": []}},
        "extensions": {}
    });
    if let Some((agent, url, verb)) = v3 {
        t["accepted"]["extra"]["agentId"] = json!(agent);
        t["accepted"]["extra"]["httpVerb"] = json!(verb);
        t["resource"] = json!({"url": url});
        t["payload"]["authorization"]["nonce"] = json!("n-1");
    }
    encode_access_token(t.as_object().unwrap())
}

pub(super) fn good_token() -> String {
    token("10", "nvm:erc4337", "eip155:84532", None)
}

pub(super) fn request(method: &str, url: &str, headers: Value) -> Value {
    json!({"method": method, "url": url, "headers": headers})
}

/// The handler's side of one request: `run` waits until [`finish_request`] says how the
/// handler answered; `price` answers the credits given there; hooks are recorded.
#[derive(Debug, Default)]
pub(super) struct Scripted {
    pub(super) ran: Cell<bool>,
    /// The handler's status (0: it threw) and the price of its response.
    answered: RefCell<Option<(u16, Value)>>,
    pub(super) priced: Cell<u32>,
    pub(super) hooks: RefCell<Vec<(Hook, Value)>>,
    /// What the handler was told (the MCP paywall's context).
    pub(super) context: RefCell<Value>,
    /// The request body's digest the adapter answers (an MPP route's `bindBody`).
    pub(super) digest: RefCell<Option<String>>,
}

impl Exchange for Rc<Scripted> {
    async fn run(&self, context: &Value) -> Option<u16> {
        self.ran.set(true);
        *self.context.borrow_mut() = context.clone();
        let status = std::future::poll_fn(|_| match self.answered.borrow().as_ref() {
            Some((status, _)) => Poll::Ready(*status),
            None => Poll::Pending,
        })
        .await;
        (status != 0).then_some(status)
    }

    async fn price(&self, _route: &str) -> Value {
        self.priced.set(self.priced.get() + 1);
        self.answered
            .borrow()
            .as_ref()
            .map_or(Value::Null, |(_, credits)| credits.clone())
    }

    async fn hook(&self, hook: Hook, detail: Value) {
        self.hooks.borrow_mut().push((hook, detail));
    }

    async fn digest(&self) -> Option<String> {
        self.digest.borrow().clone()
    }
}

/// A request in flight: what the gate answered before the handler (`action`
/// "proceed" when it asked to run it), and the rest of its flow.
pub(super) struct Began<'a> {
    answer: Value,
    flow: Option<Pin<Box<dyn Future<Output = crate::Result<String>> + 'a>>>,
    pub(super) exchange: Rc<Scripted>,
}

impl Began<'_> {
    /// What the gate answered before the handler.
    pub(super) fn answer_value(&self) -> Value {
        self.answer.clone()
    }
}

impl std::fmt::Display for Began<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.answer.fmt(f)
    }
}

impl std::ops::Index<&str> for Began<'_> {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.answer[key]
    }
}

fn poll<'a>(
    flow: &mut Pin<Box<dyn Future<Output = crate::Result<String>> + 'a>>,
) -> Poll<crate::Result<String>> {
    // (`Waker::noop` is Rust 1.85; the crate builds with 1.82.)
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let waker = Waker::from(std::sync::Arc::new(Noop));
    flow.as_mut().poll(&mut Context::from_waker(&waker))
}

/// Runs `request` through the gate up to the handler (the scripted backend
/// answers at once, so only the handler is waited for).
pub(super) fn begin_request<'a>(
    g: &'a Gate,
    p: &'a Payments<MockTransport>,
    request: &Value,
) -> Began<'a> {
    let request = request.clone();
    start(move |x| Box::pin(async move { g.handle(p, &request, &x).await }))
}

/// [`begin_request`] of a paid `POST /tasks` with a good token.
pub(super) fn begin_paid<'a>(g: &'a Gate, p: &'a Payments<MockTransport>) -> Began<'a> {
    begin_request(
        g,
        p,
        &request("POST", URL, json!({"payment-signature": good_token()})),
    )
}

/// Starts a flow with a scripted exchange and runs it up to the handler.
pub(super) fn start<'a>(
    flow: impl FnOnce(Rc<Scripted>) -> Pin<Box<dyn Future<Output = crate::Result<String>> + 'a>>,
) -> Began<'a> {
    let exchange = Rc::new(Scripted::default());
    let mut flow = flow(Rc::clone(&exchange));
    match poll(&mut flow) {
        Poll::Ready(out) => Began {
            answer: parse(&out.unwrap()).unwrap(),
            flow: None,
            exchange,
        },
        Poll::Pending => {
            assert!(
                exchange.ran.get(),
                "the gate waits only for the handler here"
            );
            Began {
                answer: json!({"action": "proceed", "context": exchange.context.borrow().clone()}),
                flow: Some(flow),
                exchange,
            }
        }
    }
}

/// The rest of a request [`begin_request`] left at the handler: it answered `status`
/// (0: it threw) and, for a dynamic route, cost `credits`.
pub(super) fn finish_request(mut began: Began<'_>, status: u16, credits: Option<&Value>) -> Value {
    let mut flow = began.flow.take().expect("the handler was run");
    *began.exchange.answered.borrow_mut() = Some((status, credits.cloned().unwrap_or(Value::Null)));
    match poll(&mut flow) {
        Poll::Ready(out) => parse(&out.unwrap()).unwrap(),
        Poll::Pending => panic!("the gate still waits after the handler"),
    }
}

/// The plan lookup behind the scheme: plan 10 is crypto, plan 20 fiat on braintree.
pub(super) fn with_plans(p: &Payments<MockTransport>) {
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/10",
        200,
        json!({"id": "10", "registry": {"price": {"isCrypto": true}}}),
    );
    p.transport().json("GET", "/api/v1/protocol/plans/20", 200, json!({"id": "20", "registry": {"price": {"isCrypto": false}}, "metadata": {"plan": {"fiatPaymentProvider": "braintree"}}}));
}

pub(super) fn verify_ok(p: &Payments<MockTransport>) {
    p.transport().json(
        "POST",
        "/api/v1/x402/verify",
        200,
        json!({"isValid": true, "payer": "0xsubscriber", "agentRequestId": "req-1"}),
    );
}

pub(super) fn settle_ok(p: &Payments<MockTransport>) {
    p.transport().on("POST", "/api/v1/x402/settle", |r| {
        let body: Value = parse(r.body.as_deref().unwrap()).unwrap();
        let burned = body["maxAmount"].as_str().unwrap().to_owned();
        Ok(HttpResponse { status: 200, body: json!({"success": true, "transaction": "0xtx", "network": "eip155:84532", "payer": "0xsubscriber", "creditsRedeemed": burned, "remainingBalance": "8"}).to_string() })
    });
}

pub(super) fn run<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

pub(super) fn header<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))?[1]
        .as_str()
}

pub(super) fn backend_calls(p: &Payments<MockTransport>) -> usize {
    p.transport().sent.borrow().len()
}

#[test]
fn unprotected_routes_pass_without_backend_calls() {
    let p = payments();
    let g = gate(json!({}));
    for (method, url) in [
        ("GET", "http://127.0.0.1:8787/health"),
        ("GET", URL),
        ("POST", "http://127.0.0.1:8787/tasks/1"),
        ("POST", "http://127.0.0.1:8787/taskss"),
    ] {
        let out = begin_request(&g, &p, &request(method, url, json!({})));
        assert_eq!(out["action"], "pass", "{method} {url}");
        assert_eq!(
            out["headers"],
            json!([]),
            "no CORS headers unless CORS is on"
        );
    }
    assert_eq!(backend_calls(&p), 0);
}

#[test]
fn no_token_is_a_402_with_the_payment_required_of_the_request() {
    let p = payments();
    with_plans(&p);
    let g = gate(json!({}));
    let out = begin_request(&g, &p, &request("POST", &format!("{URL}?x=1"), json!({})));
    assert_eq!(out["action"], "respond");
    let r = &out["response"];
    assert_eq!(r["status"], 402);
    assert_eq!(header(&r["headers"], "cache-control"), Some("no-store"));
    assert_eq!(
        header(&r["headers"], "content-type"),
        Some("application/json")
    );
    let body: Value = parse(r["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"error": "Payment Required", "message": crate::protocol::gate::MISSING_TOKEN})
    );
    let pr = Value::Object(
        decode_payment_header(header(&r["headers"], "payment-required").unwrap()).unwrap(),
    );
    assert_eq!(pr["x402Version"], 2);
    assert_eq!(pr["error"], crate::protocol::gate::MISSING_TOKEN);
    assert_eq!(
        pr["resource"],
        json!({"url": format!("{URL}?x=1"), "description": "Run a task", "mimeType": "application/json"})
    );
    assert_eq!(
        pr["accepts"],
        json!([{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": "10", "extra": {"version": "1", "agentId": AGENT, "httpVerb": "POST"}}])
    );
    // Only the plan lookup (for the scheme), no verify.
    assert_eq!(
        (
            p.transport().count("/plans/10"),
            p.transport().count("/verify")
        ),
        (1, 0)
    );
}

#[test]
fn each_plan_of_a_route_is_offered_with_its_own_scheme() {
    let p = payments();
    with_plans(&p);
    let g = gate(json!({}));
    let out = begin_request(
        &g,
        &p,
        &request("GET", "http://127.0.0.1:8787/items/7", json!({})),
    );
    let pr =
        decode_payment_header(header(&out["response"]["headers"], "payment-required").unwrap())
            .unwrap();
    let accepts: Vec<(String, String, String)> = pr["accepts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["planId"].as_str().unwrap().into(),
                a["scheme"].as_str().unwrap().into(),
                a["network"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        accepts,
        [
            ("10".into(), "nvm:erc4337".into(), "eip155:84532".into()),
            (
                "20".into(),
                "nvm:card-delegation".into(),
                "braintree".into()
            )
        ]
    );
    assert_eq!(pr["accepts"][1]["extra"]["httpVerb"], "GET");
}

#[test]
fn bad_tokens_are_refused_without_asking_the_backend() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    let g = gate(json!({}));
    // Warm the plan-scheme cache, as any running agent has.
    begin_request(&g, &p, &request("POST", URL, json!({})));
    let warm = backend_calls(&p);
    let cases = [
        ("garbage", "not-a-token!".to_owned(), "not base64"),
        (
            "not an object",
            crate::protocol::base64::encode_url(b"[1,2]"),
            "not an object",
        ),
        (
            "another plan",
            token("99", "nvm:erc4337", "eip155:84532", None),
            "plan this route does not accept",
        ),
        (
            "another scheme",
            token("10", "nvm:card-delegation", "stripe", None),
            "another payment scheme",
        ),
        (
            "another network",
            token("10", "nvm:erc4337", "eip155:8453", None),
            "another network",
        ),
        (
            "v3, another agent",
            token(
                "10",
                "nvm:erc4337",
                "eip155:84532",
                Some(("agent-2", URL, "POST")),
            ),
            "another agent",
        ),
        (
            "v3, another URL",
            token(
                "10",
                "nvm:erc4337",
                "eip155:84532",
                Some((AGENT, "http://127.0.0.1:8787/other", "POST")),
            ),
            "another URL",
        ),
        (
            "v3, another verb",
            token(
                "10",
                "nvm:erc4337",
                "eip155:84532",
                Some((AGENT, URL, "GET")),
            ),
            "another HTTP method",
        ),
    ];
    for (case, t, reason) in cases {
        let out = begin_request(
            &g,
            &p,
            &request("POST", URL, json!({"payment-signature": t})),
        );
        assert_eq!(out["response"]["status"], 402, "{case}");
        let body: Value = parse(out["response"]["body"].as_str().unwrap()).unwrap();
        assert!(
            body["message"].as_str().unwrap().contains(reason),
            "{case}: {body}"
        );
        assert!(
            header(&out["response"]["headers"], "payment-required").is_some(),
            "{case}"
        );
    }
    assert_eq!(
        backend_calls(&p),
        warm,
        "no backend call for any refused token"
    );
}

#[test]
fn a_route_with_a_fixed_scheme_needs_no_backend_call_at_all_to_refuse() {
    let p = payments();
    let g = Gate::new(&json!({"agentId": AGENT, "routes": {"POST /tasks": {"planId": "10", "scheme": "nvm:erc4337"}}})).unwrap();
    for headers in [
        json!({}),
        json!({"payment-signature": "garbage"}),
        json!({"payment-signature": token("10", "nvm:erc4337", "eip155:1", None)}),
    ] {
        let out = begin_request(&g, &p, &request("POST", URL, headers));
        assert_eq!(out["response"]["status"], 402);
    }
    assert_eq!(backend_calls(&p), 0);
}

#[test]
fn path_spellings_cannot_bypass_the_gate() {
    let p = payments();
    with_plans(&p);
    let g = gate(json!({}));
    for path in [
        "//tasks",
        "/tasks/",
        "/%74asks",
        "/TASKS",
        "/x/../tasks",
        "/%2Ftasks",
    ] {
        let out = begin_request(
            &g,
            &p,
            &request("POST", &format!("http://127.0.0.1:8787{path}"), json!({})),
        );
        assert_eq!(out["response"]["status"], 402, "{path}");
    }
    let strict = gate(json!({"caseSensitive": true}));
    assert_eq!(
        begin_request(
            &strict,
            &p,
            &request("POST", "http://127.0.0.1:8787/TASKS", json!({}))
        )["action"],
        "pass"
    );
    assert_eq!(
        begin_request(
            &strict,
            &p,
            &request("POST", "http://127.0.0.1:8787//tasks/", json!({}))
        )["response"]["status"],
        402
    );
}

#[test]
fn head_is_gated_like_get_and_options_only_where_named() {
    let p = payments();
    with_plans(&p);
    let g = gate(json!({}));
    let head = begin_request(
        &g,
        &p,
        &request("HEAD", "http://127.0.0.1:8787/items/1", json!({})),
    );
    assert_eq!(head["response"]["status"], 402);
    let pr =
        decode_payment_header(header(&head["response"]["headers"], "payment-required").unwrap())
            .unwrap();
    assert_eq!(
        pr["accepts"][0]["extra"]["httpVerb"], "GET",
        "HEAD runs the GET handler, so it pays as GET"
    );
    let options = begin_request(
        &g,
        &p,
        &request(
            "OPTIONS",
            "http://127.0.0.1:8787/items/1",
            json!({"access-control-request-method": "GET"}),
        ),
    );
    assert_eq!(
        options["action"], "pass",
        "without CORS, a preflight is the application's business"
    );
}

#[test]
fn a_valid_token_is_verified_then_settled_for_exactly_the_route_credits() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate(json!({}));
    let begin = begin_paid(&g, &p);
    assert_eq!(begin["action"], "proceed");
    let verify = p.transport().last_body("/verify");
    assert_eq!(
        (
            verify["maxAmount"].as_str(),
            verify["x402AccessToken"].as_str()
        ),
        (Some("2"), Some(good_token().as_str()))
    );
    assert_eq!(verify["paymentRequired"]["resource"]["url"], URL);
    let exchange = Rc::clone(&begin.exchange);
    let finish = finish_request(begin, 200, None);
    assert_eq!(
        (
            finish["action"].as_str(),
            finish["route"].as_str(),
            finish["planId"].as_str()
        ),
        (Some("deliver"), Some("POST /tasks"), Some("10"))
    );
    assert_eq!(exchange.priced.get(), 0, "a fixed price is not asked for");
    let settle = p.transport().last_body("/settle");
    assert_eq!(
        (
            settle["maxAmount"].as_str(),
            settle["agentRequestId"].as_str()
        ),
        (Some("2"), Some("req-1"))
    );
    assert_eq!(
        settle["paymentRequired"], verify["paymentRequired"],
        "settle names what verify checked"
    );
    let receipt =
        decode_payment_header(header(&finish["headers"], "payment-response").unwrap()).unwrap();
    assert_eq!(
        (
            receipt["success"].as_bool(),
            receipt["creditsRedeemed"].as_str()
        ),
        (Some(true), Some("2"))
    );
    assert_eq!(Value::Object(receipt), finish["settlement"]);
    assert_eq!(header(&finish["headers"], "cache-control"), Some("private"));
    assert_eq!(
        (
            p.transport().count("/verify"),
            p.transport().count("/settle")
        ),
        (1, 1)
    );
}

#[test]
fn the_authorization_bearer_carrier_works_too() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    let g = gate(json!({}));
    let begin = begin_request(
        &g,
        &p,
        &request(
            "POST",
            URL,
            json!({"authorization": format!("Bearer {}", good_token())}),
        ),
    );
    assert_eq!(begin["action"], "proceed");
    let other_auth = begin_request(
        &g,
        &p,
        &request("POST", URL, json!({"authorization": "Basic dXNlcjpwdw=="})),
    );
    assert_eq!(other_auth["response"]["status"], 402);
}

#[test]
fn failed_handlers_are_not_charged() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate(json!({}));
    for status in [400, 404, 500, 503] {
        let begin = begin_paid(&g, &p);
        let finish = finish_request(begin, status, None);
        assert_eq!(finish["action"], "deliver", "{status}");
        assert!(
            header(&finish["headers"], "payment-response").is_none(),
            "{status}"
        );
    }
    assert_eq!(p.transport().count("/settle"), 0);
}

#[test]
fn dynamic_credits_are_settled_after_the_handler() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate(json!({}));
    let item = "http://127.0.0.1:8787/items/5";
    let begin = begin_request(
        &g,
        &p,
        &request("GET", item, json!({"payment-signature": good_token()})),
    );
    assert_eq!(begin["action"], "proceed");
    let verify = p.transport().last_body("/verify");
    assert_eq!(
        verify["maxAmount"], "1",
        "verify checks the minimum before the cost is known"
    );
    let exchange = Rc::clone(&begin.exchange);
    let finish = finish_request(begin, 200, Some(&json!(7)));
    assert_eq!(exchange.priced.get(), 1, "priced once, after the handler");
    assert_eq!(
        decode_payment_header(header(&finish["headers"], "payment-response").unwrap()).unwrap()
            ["creditsRedeemed"],
        "7"
    );
    // Zero computed credits: free this time, nothing settled.
    let begin = begin_request(
        &g,
        &p,
        &request("GET", item, json!({"payment-signature": good_token()})),
    );
    let free = finish_request(begin, 200, Some(&json!(0)));
    assert!(header(&free["headers"], "payment-response").is_none());
    assert_eq!(p.transport().count("/settle"), 1);
}

#[test]
fn a_credits_function_that_gives_no_valid_amount_is_a_500_and_charges_nothing() {
    // Audit #9.2: undefined, null, NaN, negative, fractional and too large amounts
    // (the facade sends undefined/null/NaN/Infinity/other types as {invalid: kind}).
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate(json!({}));
    let item = "http://127.0.0.1:8787/items/5";
    for (credits, says) in [
        (json!({"invalid": "undefined"}), "returned undefined"),
        (json!({"invalid": "null"}), "returned null"),
        (json!({"invalid": "NaN"}), "returned NaN"),
        (json!({"invalid": "Infinity"}), "returned Infinity"),
        (json!({"invalid": "object"}), "returned object"),
        (json!({"invalid": "threw"}), "threw"),
        (json!(-1), "invalid amount"),
        (json!(1.5), "invalid amount"),
        (json!(9007199254740993u64), "invalid amount"),
        (json!("1e3"), "invalid amount"),
        (json!("-2"), "invalid amount"),
        (json!("1".repeat(80)), "invalid amount"),
        (json!(true), "invalid amount"),
    ] {
        let begin = begin_request(
            &g,
            &p,
            &request("GET", item, json!({"payment-signature": good_token()})),
        );
        let out = finish_request(begin, 200, Some(&credits));
        assert_eq!(out["action"], "respond", "{credits}");
        assert_eq!(out["response"]["status"], 500, "{credits}");
        let body: Value = parse(out["response"]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["code"], "invalid_credits", "{credits}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{credits}: {message}");
        assert!(message.contains("nothing was charged"), "{message}");
    }
    assert_eq!(p.transport().count("/settle"), 0);
    // A bigint beyond 2^53 (sent as a decimal string) is a valid amount.
    let begin = begin_request(
        &g,
        &p,
        &request("GET", item, json!({"payment-signature": good_token()})),
    );
    let out = finish_request(begin, 200, Some(&json!("9007199254740993")));
    assert_eq!(out["action"], "deliver");
    assert_eq!(
        p.transport().last_body("/settle")["maxAmount"],
        "9007199254740993"
    );
}

#[test]
fn redirects_are_delivered_content_and_settled_first() {
    // Audit #9.1: a paid route that redirects (to a signed download URL, say) is not free.
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate(json!({}));
    for status in [300, 301, 302, 303, 304, 307, 308] {
        let begin = begin_paid(&g, &p);
        let out = finish_request(begin, status, None);
        assert_eq!(out["action"], "deliver", "{status}");
        assert!(
            header(&out["headers"], "payment-response").is_some(),
            "{status}"
        );
    }
    assert_eq!(p.transport().count("/settle"), 7);
    // A refused settle withholds the redirect like any paid body.
    p.transport().json("POST", "/api/v1/x402/settle", 200, json!({"success": false, "errorReason": "insufficient_credits", "transaction": "", "network": "eip155:84532"}));
    let begin = begin_paid(&g, &p);
    let out = finish_request(begin, 302, None);
    assert_eq!(
        (out["action"].as_str(), out["response"]["status"].as_u64()),
        (Some("respond"), Some(402))
    );
}

#[test]
fn a_request_url_that_is_not_absolute_is_a_500_never_unprotected() {
    // Audit #9.3: an adapter passing a bare path must not make every route free.
    let p = payments();
    with_plans(&p);
    let g = gate(json!({}));
    for url in [
        "/tasks",
        "tasks",
        "http:/tasks",
        "http:tasks",
        "//127.0.0.1/tasks",
        "",
        "127.0.0.1:8787/tasks",
        "file:///tasks",
    ] {
        let out = begin_request(&g, &p, &request("POST", url, json!({})));
        assert_eq!(out["action"], "respond", "{url:?}");
        assert_eq!(out["response"]["status"], 500, "{url:?}");
        let body: Value = parse(out["response"]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["code"], "invalid_request", "{url:?}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("not an absolute http(s) URL"),
            "{body}"
        );
    }
    assert_eq!(backend_calls(&p), 0);
    // What runtimes hand over (and what WHATWG reads the same way) still routes.
    for url in [
        URL,
        "HTTP://127.0.0.1:8787/tasks",
        " http://127.0.0.1:8787/ta\tsks",
    ] {
        let out = begin_request(&g, &p, &request("POST", url, json!({})));
        assert_eq!(out["response"]["status"], 402, "{url:?}");
    }
}

#[test]
fn a_failed_settle_withholds_the_paid_body() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    let g = gate(json!({}));
    p.transport().json("POST", "/api/v1/x402/settle", 200, json!({"success": false, "errorReason": "insufficient_credits", "transaction": "", "network": "eip155:84532"}));
    let begin = begin_paid(&g, &p);
    let out = finish_request(begin, 200, None);
    assert_eq!(
        (out["action"].as_str(), out["response"]["status"].as_u64()),
        (Some("respond"), Some(402))
    );
    let failed =
        decode_payment_header(header(&out["response"]["headers"], "payment-response").unwrap())
            .unwrap();
    assert_eq!(
        (failed["success"].as_bool(), failed["errorReason"].as_str()),
        (Some(false), Some("insufficient_credits"))
    );
    let required =
        decode_payment_header(header(&out["response"]["headers"], "payment-required").unwrap())
            .unwrap();
    assert_eq!(
        required["error"], "insufficient_credits",
        "the PaymentRequired says why, like every other 402"
    );
    // A settle refused with an envelope (single-use token reused) fails closed the same way.
    p.transport().json(
        "POST",
        "/api/v1/x402/settle",
        400,
        json!({"code": "BCK.X402.0059", "message": "Token already used", "httpStatus": 400}),
    );
    let begin = begin_paid(&g, &p);
    let out = finish_request(begin, 200, None);
    assert_eq!(out["response"]["status"], 402);
    let failed =
        decode_payment_header(header(&out["response"]["headers"], "payment-response").unwrap())
            .unwrap();
    assert_eq!(
        (failed["success"].as_bool(), failed["errorReason"].as_str()),
        (Some(false), Some("Token already used"))
    );
}

#[test]
fn an_unreachable_or_broken_backend_is_a_503_never_a_free_200() {
    type Script = Box<dyn Fn(&MockTransport)>;
    let failures: [(&str, Script); 4] = [
        (
            "refused",
            Box::new(|t: &MockTransport| {
                t.on("POST", "/verify", |_| {
                    Err(Error::Network("connection refused".into()))
                });
            }),
        ),
        (
            "timeout",
            Box::new(|t: &MockTransport| {
                t.on("POST", "/verify", |_| Err(Error::Timeout { after_ms: 10 }));
            }),
        ),
        (
            "html 502",
            Box::new(|t: &MockTransport| {
                t.on("POST", "/verify", |_| {
                    Ok(HttpResponse {
                        status: 502,
                        body: "<html>Bad gateway</html>".into(),
                    })
                });
            }),
        ),
        (
            "agent key refused",
            Box::new(|t: &MockTransport| {
                t.json("POST", "/verify", 401, json!({"code": "BCK.APIKEY.0004", "message": "Invalid API key", "httpStatus": 401}));
            }),
        ),
    ];
    for (case, script) in failures {
        let p = payments();
        with_plans(&p);
        script(p.transport());
        let g = gate(json!({}));
        let out = begin_paid(&g, &p);
        assert_eq!(out["response"]["status"], 503, "{case}");
        assert_eq!(
            header(&out["response"]["headers"], "cache-control"),
            Some("no-store"),
            "{case}"
        );
        let body: Value = parse(out["response"]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["error"], "Service Unavailable", "{case}");
        let message = body["message"].as_str().unwrap();
        assert!(
            !message.contains(&good_token()),
            "{case}: never echo the token"
        );
        // Audit #9.4: say which call failed, not where the backend is.
        assert!(
            message.starts_with("Payment verification is unavailable: the payment backend"),
            "{case}: {message}"
        );
        for leak in [
            "127.0.0.1",
            "3001",
            "http",
            "/api/",
            "Bad gateway",
            "Invalid API key",
        ] {
            assert!(!message.contains(leak), "{case}: {message}");
        }
        let logged = p.transport().warnings.borrow().join("\n");
        assert!(
            logged.contains("Payment verification is unavailable"),
            "{case}: {logged}"
        );
    }
    // A network failure's message names the backend's URL: kept out of the answer.
    let p = payments();
    with_plans(&p);
    p.transport().on("POST", "/verify", |r| {
        Err(Error::Network(format!(
            "Could not reach {}: connection refused",
            r.url
        )))
    });
    let unreachable = gate(json!({}));
    let out = begin_paid(&unreachable, &p);
    let body: Value = parse(out["response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (body["message"].as_str(), body["code"].as_str()),
        (
            Some("Payment verification is unavailable: the payment backend could not be reached"),
            Some("network_error")
        )
    );
    assert!(p
        .transport()
        .warnings
        .borrow()
        .join("")
        .contains("Could not reach http://127.0.0.1:3001/api/v1/x402/verify"));
    // Plans unavailable (the lookup fails) is a 503 too, distinct from "payment required".
    let p = payments();
    let g = gate(json!({}));
    let out = begin_request(&g, &p, &request("POST", URL, json!({})));
    assert_eq!(out["response"]["status"], 503);
    assert!(out["response"]["body"]
        .as_str()
        .unwrap()
        .contains("Payment plans are unavailable"));
    // Settle unreachable after the handler ran: 503, the paid body withheld.
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    p.transport().on("POST", "/settle", |_| {
        Ok(HttpResponse {
            status: 500,
            body: "oops".into(),
        })
    });
    let begin = begin_paid(&g, &p);
    let out = finish_request(begin, 200, None);
    assert_eq!(
        (out["action"].as_str(), out["response"]["status"].as_u64()),
        (Some("respond"), Some(503))
    );
}

#[test]
fn a_no_from_verify_is_a_402_with_its_reason() {
    let p = payments();
    with_plans(&p);
    p.transport().json(
        "POST",
        "/verify",
        200,
        json!({"isValid": false, "invalidReason": "Insufficient balance"}),
    );
    let g = gate(json!({}));
    let out = begin_paid(&g, &p);
    assert_eq!(out["response"]["status"], 402);
    assert!(out["response"]["body"]
        .as_str()
        .unwrap()
        .contains("Insufficient balance"));
    p.transport().json(
        "POST",
        "/verify",
        400,
        json!({"code": "BCK.X402.0013", "message": "Delegation expired", "httpStatus": 400}),
    );
    let out = begin_paid(&g, &p);
    assert_eq!(out["response"]["status"], 402);
    assert!(out["response"]["body"]
        .as_str()
        .unwrap()
        .contains("Delegation expired"));
}

#[test]
fn a_backend_reason_or_message_quoting_the_token_is_answered_redacted() {
    let p = payments();
    with_plans(&p);
    let g = gate(json!({}));
    let shown = crate::protocol::redact::redact(&good_token());
    let middle = good_token()[6..good_token().len() - 4].to_owned();
    for (status, body) in [
        (
            200,
            json!({"isValid": false, "invalidReason": format!("bad {}", good_token())}),
        ),
        (
            400,
            json!({"code": "BCK.X402.0005", "message": format!("bad {}", good_token()), "httpStatus": 400}),
        ),
    ] {
        p.transport().json("POST", "/verify", status, body);
        let out = begin_paid(&g, &p);
        assert_eq!(out["response"]["status"], 402);
        let text = out["response"].to_string();
        assert!(text.contains(&format!("bad {shown}")), "{text}");
        assert!(!text.contains(&middle), "{text}");
    }
}

#[test]
fn upfront_mode_settles_before_the_handler_in_one_round_trip() {
    let p = payments();
    with_plans(&p);
    settle_ok(&p);
    let g =
        gate(json!({"upfront": true, "routes": {"POST /tasks": {"planId": "10", "credits": 2}}}));
    begin_request(&g, &p, &request("POST", URL, json!({})));
    let before = backend_calls(&p);
    let begin = begin_paid(&g, &p);
    assert_eq!(begin["action"], "proceed");
    assert_eq!(backend_calls(&p) - before, 1, "one round trip");
    assert_eq!(
        (
            p.transport().count("/verify"),
            p.transport().count("/settle")
        ),
        (0, 1)
    );
    let finish = finish_request(begin, 500, None);
    assert!(
        header(&finish["headers"], "payment-response").is_some(),
        "already paid: the receipt travels even with an error"
    );
    assert_eq!(p.transport().count("/settle"), 1);
    // Audit #9.2: a handler that throws after an upfront settle is a 500 that says the credits are spent.
    let begin = begin_paid(&g, &p);
    let threw = finish_request(begin, 0, None);
    assert_eq!(
        (
            threw["action"].as_str(),
            threw["response"]["status"].as_u64()
        ),
        (Some("respond"), Some(500))
    );
    let body: Value = parse(threw["response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["code"], "handler_failed_after_payment");
    assert!(body["message"].as_str().unwrap().contains("already spent"));
    assert!(header(&threw["response"]["headers"], "payment-response").is_some());
    assert!(
        threw["settlement"].is_object(),
        "onSettled still hears of it"
    );
    assert_eq!(
        p.transport().count("/settle"),
        2,
        "and nothing more is charged"
    );
    p.transport().json("POST", "/settle", 200, json!({"success": false, "errorReason": "insufficient_credits", "transaction": "", "network": "eip155:84532"}));
    let refused = begin_paid(&g, &p);
    assert_eq!(refused["response"]["status"], 402);
    assert!(Gate::new(&json!({"agentId": AGENT, "upfront": true, "routes": {"/x": {"planId": "1", "credits": {"$function": true}}}})).is_err());
}

#[test]
fn cors_answers_preflights_and_exposes_the_payment_headers() {
    let p = payments();
    with_plans(&p);
    let g = gate(json!({"cors": {"origin": ["https://app.example"], "allowHeaders": ["X-Trace"]}}));
    let pre = begin_request(
        &g,
        &p,
        &request(
            "OPTIONS",
            URL,
            json!({"origin": "https://app.example", "access-control-request-method": "POST"}),
        ),
    );
    let h = &pre["response"]["headers"];
    assert_eq!(pre["response"]["status"], 204);
    assert_eq!(
        header(h, "access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(header(h, "access-control-allow-headers")
        .unwrap()
        .contains("payment-signature"));
    assert!(header(h, "access-control-allow-headers")
        .unwrap()
        .contains("x-trace"));
    assert_eq!(
        header(h, "access-control-expose-headers"),
        Some("payment-required, payment-response, www-authenticate, payment-receipt")
    );
    let denied = begin_request(
        &g,
        &p,
        &request(
            "OPTIONS",
            URL,
            json!({"origin": "https://evil.example", "access-control-request-method": "POST"}),
        ),
    );
    assert!(header(
        &denied["response"]["headers"],
        "access-control-allow-origin"
    )
    .is_none());
    let paid = begin_request(
        &g,
        &p,
        &request("POST", URL, json!({"origin": "https://app.example"})),
    );
    assert_eq!(
        header(
            &paid["response"]["headers"],
            "access-control-expose-headers"
        ),
        Some("payment-required, payment-response, www-authenticate, payment-receipt")
    );
    let cors = gate(json!({"cors": true}));
    let open = begin_request(
        &cors,
        &p,
        &request(
            "GET",
            "http://127.0.0.1:8787/health",
            json!({"origin": "https://x.example"}),
        ),
    );
    assert_eq!(
        header(&open["headers"], "access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(backend_calls(&p), 1, "only the 402's plan lookup");
}

/// A backend that keeps the subscriber's balance: `(credits, orders)`, the
/// credits held and how many more orders of 10 credits its (card) delegation
/// can buy. Verify says yes while the credits or a top-up cover the price;
/// settle tops up as needed, then burns what it asks.
fn balance_backend(p: &Payments<MockTransport>, credits: u64, orders: u64) -> Rc<Cell<(u64, u64)>> {
    let state = Rc::new(Cell::new((credits, orders)));
    let price = |r: &crate::transport::HttpRequest| -> u64 {
        let body: Value = parse(r.body.as_deref().unwrap()).unwrap();
        body["maxAmount"].as_str().unwrap().parse().unwrap()
    };
    let seen = Rc::clone(&state);
    p.transport().on("POST", "/api/v1/x402/verify", move |r| {
        let (credits, orders) = seen.get();
        let answer = if credits >= price(r) || orders > 0 {
            json!({"isValid": true, "payer": "0xsubscriber", "agentRequestId": "req-1"})
        } else {
            json!({"isValid": false, "invalidReason": "Insufficient credits"})
        };
        Ok(HttpResponse {
            status: 200,
            body: answer.to_string(),
        })
    });
    let burned = Rc::clone(&state);
    p.transport().on("POST", "/api/v1/x402/settle", move |r| {
        let price = price(r);
        let (mut credits, mut orders) = burned.get();
        if credits < price && orders > 0 {
            credits += 10;
            orders -= 1;
        }
        let answer = if credits >= price {
            credits -= price;
            json!({"success": true, "transaction": "0xtx", "network": "eip155:84532", "creditsRedeemed": price.to_string(), "remainingBalance": credits.to_string()})
        } else {
            json!({"success": false, "errorReason": "Insufficient credits", "transaction": "", "network": "eip155:84532"})
        };
        burned.set((credits, orders));
        Ok(HttpResponse {
            status: 200,
            body: answer.to_string(),
        })
    });
    state
}

#[test]
fn repeat_payers_settle_only_within_the_window_and_while_the_receipts_balance_covers_the_price() {
    let p = payments();
    with_plans(&p);
    // The subscriber holds 5 credits and can't top up.
    let left = balance_backend(&p, 5, 0);
    let g = gate(json!({"repeatPayers": {"windowMs": 1000}}));
    let paid = |token: &str| {
        let begin = begin_request(
            &g,
            &p,
            &request("POST", URL, json!({"payment-signature": token})),
        );
        if begin["action"] != "proceed" {
            return (
                begin["action"].as_str().unwrap().to_owned(),
                begin["response"]["status"].as_u64(),
            );
        }
        let finish = finish_request(begin, 200, None);
        (
            finish["action"].as_str().unwrap().to_owned(),
            finish["response"]["status"].as_u64(),
        )
    };
    let calls = |p: &Payments<MockTransport>| {
        (
            p.transport().count("/verify"),
            p.transport().count("/settle"),
        )
    };
    let token = good_token();
    assert_eq!(paid(&token), ("deliver".to_owned(), None));
    assert_eq!(calls(&p), (1, 1), "the first request verifies");
    assert_eq!(paid(&token), ("deliver".to_owned(), None));
    assert_eq!(
        calls(&p),
        (1, 2),
        "the repeat payer: settle only, one round trip"
    );
    // The last receipt left 1 credit; the route costs 2: it verifies (the backend may top up), and
    // here the backend says no: 402 before the handler.
    assert_eq!(paid(&token), ("respond".to_owned(), Some(402)));
    assert_eq!(calls(&p), (2, 2));
    // After the window it verifies again; a verify that says yes and a settle that then finds
    // too little (spent elsewhere meanwhile) withholds the body.
    p.transport().now.set(5_000);
    verify_ok(&p);
    assert_eq!(paid(&token), ("respond".to_owned(), Some(402)));
    assert_eq!(calls(&p), (3, 3));
    // Off by default: every request verifies; single-use (v3) tokens always verify.
    let plain = gate(json!({}));
    left.set((100, 0));
    for _ in 0..2 {
        let before = p.transport().count("/verify");
        let began = begin_request(
            &plain,
            &p,
            &request("POST", URL, json!({"payment-signature": token})),
        );
        assert_eq!(finish_request(began, 200, None)["action"], "deliver");
        assert_eq!(p.transport().count("/verify"), before + 1, "verified again");
    }
    let v3 = token_for_v3();
    left.set((100, 0));
    for _ in 0..2 {
        let before = p.transport().count("/verify");
        let begin = begin_request(
            &g,
            &p,
            &request("POST", URL, json!({"payment-signature": v3})),
        );
        assert_eq!(begin["action"], "proceed");
        finish_request(begin, 200, None);
        assert_eq!(
            p.transport().count("/verify"),
            before + 1,
            "a v3 token verifies every time"
        );
    }
    assert!(Gate::new(&json!({"agentId": "a", "routes": {"POST /x": {"planId": "1"}}, "upfront": true, "repeatPayers": true})).is_err());
    assert!(Gate::new(&json!({"agentId": "a", "routes": {"POST /x": {"planId": "1"}}, "repeatPayers": {"windowMs": 0}})).is_err());
}

#[test]
fn a_repeat_payer_whose_receipt_is_exhausted_verifies_so_a_card_delegation_can_top_up() {
    // Issue #20, item 4: a card plan of 10 credits per order, the route's 2 a request, and a
    // delegation that can buy 9 more orders; the backend tops up at settle when the balance is
    // short. The 6th request (the first receipt showing too little) and the rest of the window
    // must be served, as they are without repeatPayers.
    const PRICE: u64 = 2;
    const REQUESTS: u64 = 12;
    let top_ups = (REQUESTS * PRICE - 10).div_ceil(10);
    for repeat in [true, false] {
        let p = payments();
        with_plans(&p);
        let state = balance_backend(&p, 10, 9);
        let g = gate(json!({"repeatPayers": repeat}));
        let token = good_token();
        let mut answers = Vec::new();
        for _ in 0..REQUESTS {
            let begin = begin_request(
                &g,
                &p,
                &request("POST", URL, json!({"payment-signature": token})),
            );
            let action = if begin["action"] == "proceed" {
                finish_request(begin, 200, None)["action"].clone()
            } else {
                begin["action"].clone()
            };
            answers.push(action);
        }
        assert!(
            answers.iter().all(|a| a == "deliver"),
            "repeatPayers {repeat}: {answers:?}"
        );
        assert_eq!(
            state.get(),
            (10 + 10 * top_ups - REQUESTS * PRICE, 9 - top_ups),
            "repeatPayers {repeat}: topped up as needed, every request paid"
        );
        if repeat {
            assert!(
                p.transport().count("/verify") < REQUESTS as usize,
                "repeat payers still skip verify while the receipt covers the price"
            );
        }
    }
}

fn token_for_v3() -> String {
    token(
        "10",
        "nvm:erc4337",
        "eip155:84532",
        Some((AGENT, URL, "POST")),
    )
}

#[test]
fn concurrent_repeat_payers_skip_verify_only_while_the_balance_in_flight_allows() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p); // remainingBalance "8"
    let g = gate(json!({"repeatPayers": true}));
    let token = good_token();
    let begin = begin_request(
        &g,
        &p,
        &request("POST", URL, json!({"payment-signature": token})),
    );
    finish_request(begin, 200, None);
    // 8 credits left, 2 a request: four may be in flight without verify, the fifth verifies.
    let mut tickets: Vec<Began> = (0..5)
        .map(|_| {
            begin_request(
                &g,
                &p,
                &request("POST", URL, json!({"payment-signature": token})),
            )
        })
        .collect();
    assert!(tickets.iter().all(|b| b["action"] == "proceed"));
    assert_eq!(
        p.transport().count("/verify"),
        2,
        "the first and the fifth verify"
    );
    // A handler that fails gives its reservation back.
    finish_request(tickets.remove(0), 0, None);
    let again = begin_request(
        &g,
        &p,
        &request("POST", URL, json!({"payment-signature": token})),
    );
    assert_eq!(again["action"], "proceed");
    assert_eq!(
        p.transport().count("/verify"),
        2,
        "the reservation came back: no verify"
    );
}

/// The raw body of the last request sent to a path ending with `path`.
fn last_raw(p: &Payments<MockTransport>, path: &str) -> crate::transport::HttpRequest {
    p.transport()
        .sent
        .borrow()
        .iter()
        .rev()
        .find(|r| r.url.ends_with(path))
        .cloned()
        .unwrap_or_else(|| panic!("nothing was sent to {path}"))
}

#[test]
fn the_gate_sends_byte_for_byte_what_verify_and_settle_permissions_send() {
    // The gate writes its bodies from a PaymentRequired it keeps per resource;
    // the public facilitator calls build them from parameters. Same bytes, same headers.
    for (url, token, extra) in [
        (URL.to_owned(), good_token(), json!({})),
        (format!("{URL}?q=\"quoted\"\\n"), good_token(), json!({})),
        (
            URL.to_owned(),
            good_token(),
            json!({"upfront": true, "routes": {"POST /tasks": {"planId": "10", "credits": 2}}}),
        ),
    ] {
        let p = payments();
        with_plans(&p);
        verify_ok(&p);
        settle_ok(&p);
        let g = gate(extra.clone());
        let begin = begin_request(
            &g,
            &p,
            &request("POST", &url, json!({"payment-signature": token})),
        );
        assert_eq!(begin["action"], "proceed", "{url}");
        if extra["upfront"] != true {
            let sent = last_raw(&p, "/verify");
            let params = json!({"paymentRequired": p.transport().last_body("/verify")["paymentRequired"].clone(), "x402AccessToken": token, "maxAmount": "2"});
            let call = crate::api::x402::verify(p.config(), &params).unwrap();
            assert_eq!(
                (&sent.body, &sent.headers),
                (&call.request.body, &call.request.headers),
                "verify {url}"
            );
            finish_request(begin, 200, None);
        }
        let sent = last_raw(&p, "/settle");
        let mut params = json!({"paymentRequired": p.transport().last_body("/settle")["paymentRequired"].clone(), "x402AccessToken": token, "maxAmount": "2"});
        if extra["upfront"] != true {
            params["agentRequestId"] = p.transport().last_body("/settle")["agentRequestId"].clone();
            assert!(
                params["agentRequestId"].is_string(),
                "settle names verify's request"
            );
        }
        let call = crate::api::x402::settle(p.config(), &params).unwrap();
        assert_eq!(
            (&sent.body, &sent.headers),
            (&call.request.body, &call.request.headers),
            "settle {url}"
        );
        assert_eq!(
            p.transport().last_body("/settle")["paymentRequired"]["resource"]["url"],
            url.as_str()
        );
    }
}

#[test]
fn payment_requireds_are_kept_per_resource_and_the_oldest_forgotten() {
    let p = payments();
    with_plans(&p);
    let g = gate(json!({}));
    let refusal = |url: &str| {
        let out = begin_request(&g, &p, &request("POST", url, json!({})));
        assert_eq!(out["response"]["status"], 402);
        decode_payment_header(header(&out["response"]["headers"], "payment-required").unwrap())
            .unwrap()
    };
    let first = refusal(URL);
    assert_eq!(first["resource"]["url"], URL);
    assert_eq!(
        refusal(URL),
        first,
        "the same resource, the same PaymentRequired"
    );
    assert_eq!(g.prepared.len(), 1);
    // Every resource gets its own, whatever was kept; no more than 32 are.
    for n in 0..40 {
        let url = format!("{URL}?n={n}");
        assert_eq!(refusal(&url)["resource"]["url"], url.as_str());
    }
    assert_eq!(g.prepared.len(), 32);
    let urls = |from: usize| (from..40).map(|n| format!("{URL}?n={n}"));
    assert!(
        g.prepared.urls().into_iter().eq(urls(8)),
        "the oldest (the first URL, then n=0..7) forgotten first"
    );
    refusal(&format!("{URL}?n=8"));
    assert!(
        g.prepared.urls().into_iter().eq(urls(8)),
        "a hit does not move the resource"
    );
    assert_eq!(refusal(URL), first, "built again once forgotten");
    assert!(
        g.prepared
            .urls()
            .into_iter()
            .eq(urls(9).chain([URL.to_owned()])),
        "so n=8 went next"
    );
    // The same resource refused for another reason says that reason.
    let wrong = begin_request(
        &g,
        &p,
        &request("POST", URL, json!({"payment-signature": "not-a-token"})),
    );
    let pr =
        decode_payment_header(header(&wrong["response"]["headers"], "payment-required").unwrap())
            .unwrap();
    assert_ne!(pr["error"], first["error"]);
    assert_eq!(refusal(URL)["error"], first["error"]);
}

#[test]
fn a_kept_refusal_is_the_answer_a_fresh_gate_gives() {
    // Refusals are kept per resource as text; each must be what a gate that
    // has kept nothing answers to the same request: CORS headers, reason and all.
    let p = payments();
    with_plans(&p);
    let options = json!({"cors": {"origin": ["https://app.example"], "allowHeaders": ["X-Trace"]}});
    let kept = gate(options.clone());
    let wrong_plan = token("99", "nvm:erc4337", "eip155:84532", None);
    let requests = [
        json!({}),
        json!({}),
        json!({"origin": "https://app.example"}),
        json!({"origin": "https://app.example"}),
        json!({"origin": "https://elsewhere.example"}),
        json!({"payment-signature": wrong_plan.clone()}),
        json!({"payment-signature": wrong_plan, "origin": "https://app.example"}),
        json!({"payment-signature": "not-a-token"}),
        json!({}),
    ];
    for headers in requests {
        let req = request("POST", URL, headers.clone());
        let none = Rc::new(Scripted::default());
        let answer = run(kept.handle(&p, &req, &none)).unwrap();
        let fresh = run(gate(options.clone()).handle(&p, &req, &none)).unwrap();
        assert_eq!(answer, fresh, "{headers}");
        assert_eq!(
            parse(&answer).unwrap()["response"]["status"],
            402,
            "{headers}"
        );
        assert!(!none.ran.get(), "a refusal never runs the handler");
    }
}

/// The adapter's mark of a function in the options.
fn function() -> Value {
    json!({"$function": true})
}

/// The hooks a request called, by name.
pub(super) fn hooks_called(exchange: &Scripted) -> Vec<&'static str> {
    exchange
        .hooks
        .borrow()
        .iter()
        .map(|(h, _)| h.name())
        .collect()
}

#[test]
fn hooks_are_called_in_the_official_order_with_what_they_are_told() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let all = json!({"onBeforeVerify": function(), "onAfterVerify": function(), "onAfterSettle": function(), "onPaymentError": function()});
    let g = gate(all.clone());
    let began = begin_paid(&g, &p);
    let exchange = Rc::clone(&began.exchange);
    assert_eq!(
        hooks_called(&exchange),
        ["onBeforeVerify", "onAfterVerify"],
        "both before the handler"
    );
    let answer = finish_request(began, 200, None);
    assert_eq!(answer["action"], "deliver");
    assert_eq!(
        hooks_called(&exchange),
        ["onBeforeVerify", "onAfterVerify", "onAfterSettle"]
    );
    let told = exchange.hooks.borrow();
    assert_eq!(
        told[0].1["accepts"][0]["planId"], "10",
        "the PaymentRequired"
    );
    assert_eq!(told[0].1["resource"]["url"], URL);
    assert_eq!(told[1].1["isValid"], true, "the verification");
    assert_eq!(told[2].1["credits"], "2");
    assert_eq!(told[2].1["settlement"], answer["settlement"]);
    drop(told);
    // Refused before the backend (no token): only onPaymentError, with a 402.
    let refused = begin_request(&g, &p, &request("POST", URL, json!({})));
    assert_eq!(refused["response"]["status"], 402);
    assert_eq!(hooks_called(&refused.exchange), ["onPaymentError"]);
    assert_eq!(
        refused.exchange.hooks.borrow()[0].1,
        json!({"code": "payment_required", "message": crate::protocol::gate::MISSING_TOKEN, "httpStatus": 402, "hint": "The caller must pay: order the plan and send a valid token."})
    );
    // A settle that fails: onPaymentError after the handler, the body withheld.
    p.transport().json(
        "POST",
        "/api/v1/x402/settle",
        200,
        json!({"success": false, "errorReason": "Insufficient credits", "transaction": "", "network": "eip155:84532"}),
    );
    let began = begin_paid(&g, &p);
    let exchange = Rc::clone(&began.exchange);
    assert_eq!(finish_request(began, 200, None)["response"]["status"], 402);
    assert_eq!(
        hooks_called(&exchange),
        ["onBeforeVerify", "onAfterVerify", "onPaymentError"]
    );
    assert_eq!(
        exchange.hooks.borrow()[2].1["message"],
        "Insufficient credits"
    );
    // The backend down: onPaymentError with a 503 and the transport's code.
    p.transport().on("POST", "/api/v1/x402/verify", |_| {
        Err(Error::Network("connection refused".into()))
    });
    let down = begin_paid(&g, &p);
    assert_eq!(down["response"]["status"], 503);
    assert_eq!(
        hooks_called(&down.exchange),
        ["onBeforeVerify", "onPaymentError"]
    );
    assert_eq!(down.exchange.hooks.borrow()[1].1["httpStatus"], 503);
    assert_eq!(down.exchange.hooks.borrow()[1].1["code"], "network_error");
}

#[test]
fn only_the_hooks_given_are_called_and_none_by_default() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    for (extra, expected) in [
        (json!({}), vec![]),
        (json!({"onAfterSettle": function()}), vec!["onAfterSettle"]),
        (json!({"onPaymentError": function()}), vec![]),
    ] {
        let g = gate(extra.clone());
        let began = begin_paid(&g, &p);
        let exchange = Rc::clone(&began.exchange);
        assert_eq!(finish_request(began, 200, None)["action"], "deliver");
        assert_eq!(hooks_called(&exchange), expected, "{extra}");
    }
    // Upfront mode settles before the handler: onAfterSettle then, no verify hooks.
    let g = gate(
        json!({"upfront": true, "routes": {"POST /tasks": {"planId": "10", "credits": 2}}, "onBeforeVerify": function(), "onAfterSettle": function()}),
    );

    let began = begin_paid(&g, &p);
    assert_eq!(hooks_called(&began.exchange), ["onAfterSettle"]);
    // A hook option that is not a function is refused when the paywall is made.
    for bad in [json!("log"), json!(1), json!({})] {
        let mut options = json!({"agentId": AGENT, "routes": {"POST /tasks": {"planId": "10"}}});
        options["onAfterVerify"] = bad.clone();
        let err = Gate::new(&options).unwrap_err();
        assert!(
            err.to_string().contains("onAfterVerify must be a function"),
            "{bad}: {err}"
        );
    }
    let mut options = json!({"agentId": AGENT, "routes": {"POST /tasks": {"planId": "10"}}});
    options["onSettled"] = json!(true);
    assert!(Gate::new(&options).is_err(), "onSettled too");
}

#[test]
fn a_credits_function_marked_by_the_adapter_is_priced_after_the_handler() {
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = Gate::new(&json!({"agentId": AGENT, "routes": {"POST /tasks": {"planId": "10", "credits": function(), "minCredits": 3}}})).unwrap();
    let began = begin_paid(&g, &p);
    assert_eq!(p.transport().last_body("/verify")["maxAmount"], "3");
    let exchange = Rc::clone(&began.exchange);
    let answer = finish_request(began, 200, Some(&json!(5)));
    assert_eq!(exchange.priced.get(), 1);
    assert_eq!(p.transport().last_body("/settle")["maxAmount"], "5");
    assert_eq!(answer["action"], "deliver");
    // A handler answering 400 or more is not priced (nor charged).
    let began = begin_paid(&g, &p);
    let exchange = Rc::clone(&began.exchange);
    assert_eq!(
        finish_request(began, 404, Some(&json!(5)))["action"],
        "deliver"
    );
    assert_eq!(exchange.priced.get(), 0);
    assert_eq!(p.transport().count("/settle"), 1);
}

#[test]
fn a_dynamic_route_with_no_price_charges_nothing() {
    // The adapter always answers a price; should it answer nothing, the route's
    // minCredits is not charged in its place.
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    settle_ok(&p);
    let g = gate(json!({}));
    let began = begin_request(
        &g,
        &p,
        &request(
            "GET",
            "http://127.0.0.1:8787/items/5",
            json!({"payment-signature": good_token()}),
        ),
    );
    let answer = finish_request(began, 200, None);
    assert_eq!(answer["response"]["status"], 500);
    assert_eq!(p.transport().count("/settle"), 0);
}

#[test]
fn a_withheld_answer_with_a_settlement_names_its_route_and_plan() {
    // onSettled's event: a refused settle, and an upfront handler that threw, as a delivered one.
    let p = payments();
    with_plans(&p);
    verify_ok(&p);
    p.transport().json(
        "POST",
        "/api/v1/x402/settle",
        200,
        json!({"success": false, "errorReason": "no", "transaction": "", "network": "eip155:84532"}),
    );
    let g = gate(json!({}));
    let began = begin_paid(&g, &p);
    let refused = finish_request(began, 200, None);
    assert_eq!(
        (
            refused["action"].as_str(),
            refused["route"].as_str(),
            refused["planId"].as_str(),
            refused["settlement"]["success"].as_bool()
        ),
        (
            Some("respond"),
            Some("POST /tasks"),
            Some("10"),
            Some(false)
        )
    );
    settle_ok(&p);
    let upfront =
        gate(json!({"upfront": true, "routes": {"POST /tasks": {"planId": "10", "credits": 2}}}));
    let began = begin_paid(&upfront, &p);
    let threw = finish_request(began, 0, None);
    assert_eq!(
        (
            threw["action"].as_str(),
            threw["route"].as_str(),
            threw["planId"].as_str(),
            threw["settlement"]["success"].as_bool()
        ),
        (Some("respond"), Some("POST /tasks"), Some("10"), Some(true))
    );
}
