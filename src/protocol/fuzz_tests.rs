//! Property-based fuzzing of what the core reads from strangers: access
//! tokens, x402 headers, request paths against route tables, the gate's
//! steps before the handler, the A2A paywall's JSON-RPC, and MPP challenges,
//! credentials and receipts (fixed seed, see [`crate::fuzz`]). Nothing may panic —
//! in the .wasm a panic is a trap that breaks every later call — and the
//! round trips and bypass protections must hold on every case.

use super::json::{to_text, Map, Value};
use super::routes::RouteTable;
use super::url::normalize_path;
use super::{
    decode_payment_header, encode_access_token, encode_payment_header, try_decode_access_token,
};
use crate::fuzz;
use proptest::prelude::*;

/// Arbitrary JSON values (depth 4), keys and strings with any Unicode.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("\\PC{0,8}", inner), 0..6).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k, v);
                }
                Value::Object(m)
            }),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map> {
    prop::collection::vec(("\\PC{0,8}", json_value()), 0..8).prop_map(|kv| {
        let mut m = Map::new();
        for (k, v) in kv {
            m.insert(k, v);
        }
        m
    })
}

/// Texts a token or header decoder may be handed: arbitrary, base64-looking, and base64 of almost-JSON.
fn token_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9+/=_-]{0,200}",
        "\\PC{0,60}".prop_map(|t| super::base64::encode_url(t.as_bytes())),
        (json_object(), 0usize..200).prop_map(|(o, cut)| {
            // Whole (valid) or cut short (invalid) JSON, in either base64 alphabet.
            let text = to_text(&Value::Object(o));
            let bytes = text.as_bytes();
            let kept = if cut % 2 == 0 {
                bytes
            } else {
                bytes.get(..cut.min(bytes.len())).unwrap_or(b"")
            };
            if cut % 3 == 0 {
                super::base64::encode_url(kept)
            } else {
                super::base64::encode_standard(kept)
            }
        }),
    ]
}

#[test]
fn token_and_header_decoders_never_panic() {
    let decoded = fuzz::run(6000, token_text(), |text| {
        let token = try_decode_access_token(&text);
        let header = decode_payment_header(&text);
        token.is_ok() || header.is_ok()
    });
    assert!(decoded > 50, "only {decoded} texts decoded at all");
}

#[test]
fn tokens_and_headers_round_trip_any_object() {
    fuzz::run(3000, json_object(), |object| {
        let token = encode_access_token(&object);
        assert_eq!(try_decode_access_token(&token).unwrap(), object);
        let header = encode_payment_header(&Value::Object(object.clone())).unwrap();
        assert_eq!(decode_payment_header(&header).unwrap(), object);
        true
    });
}

/// Ways to write the path `/tasks` that an application would still route to `/tasks`.
fn spelling_of_tasks() -> impl Strategy<Value = String> {
    let letter = |c: char| {
        prop_oneof![
            Just(c.to_string()),
            Just(c.to_ascii_uppercase().to_string()),
            Just(format!("%{:02X}", c as u8)),
            Just(format!("%{:02x}", c as u8)),
        ]
    };
    let sep = prop_oneof![
        Just("/".to_owned()),
        Just("//".to_owned()),
        Just("\\".to_owned()),
        Just("/./".to_owned()),
        Just("/x/../".to_owned()),
        Just("/%2e/".to_owned()),
        Just("%2F".to_owned()),
    ];
    let tail = prop_oneof![Just(""), Just("/"), Just("//"), Just("/."), Just("%2f")];
    (sep, ['t', 'a', 's', 'k', 's'].map(letter), tail)
        .prop_map(|(s, l, t)| format!("{s}{}{t}", l.concat()))
}

#[test]
fn no_spelling_of_a_paid_path_bypasses_the_route_table() {
    let table = RouteTable::new(
        vec![("POST /tasks", 1), ("GET /items/:id", 2), ("/files/*", 3)],
        false,
    )
    .unwrap();
    let matched = fuzz::run(5000, spelling_of_tasks(), |path| {
        assert_eq!(
            table.find("POST", &path).map(|(_, v)| *v),
            Some(1),
            "{path:?} bypassed POST /tasks"
        );
        assert_eq!(
            normalize_path(&normalize_path(&path)),
            normalize_path(&path)
        );
        true
    });
    assert_eq!(matched, 5000);
}

#[test]
fn route_tables_and_paths_never_panic() {
    let pattern = "(GET |POST |HEAD |)(/[a-z:*%./\\\\]{0,6}){1,4}";
    let strategy = (
        prop::collection::vec(pattern, 1..5),
        any::<String>(),
        "[A-Z]{0,7}",
    );
    fuzz::run(4000, strategy, |(patterns, path, method)| {
        let entries: Vec<(String, usize)> = patterns
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, i))
            .collect();
        if let Ok(table) = RouteTable::new(entries, false) {
            let _ = table.find(&method, &path);
        }
        let n = normalize_path(&path);
        assert!(n.starts_with('/'), "{n:?}");
        assert_eq!(normalize_path(&n), n, "normalising twice changes {path:?}");
        true
    });
}

/// The gate's first step on hostile requests: any method, URL and token (with
/// a backend that refuses everything) ends in an answer, never a panic and
/// never "proceed" to the paid handler.
#[test]
fn the_gate_never_lets_a_hostile_request_through() {
    use crate::gate::{Exchange, Gate};
    use crate::json;
    use crate::protocol::gate::Hook;
    use crate::transport::mock::MockTransport;
    /// The handler's side: it must never be asked for anything.
    struct NeverRun;
    impl Exchange for NeverRun {
        async fn run(&self, _: &Value) -> Option<u16> {
            panic!("a hostile request reached the paid handler")
        }
        async fn price(&self, _: &str) -> Value {
            panic!("a hostile request was priced")
        }
        async fn hook(&self, _: Hook, _: Value) {}
    }
    let p = MockTransport::client("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFnZW50In0.c2ln");
    p.transport().json(
        "POST",
        "/api/v1/x402/verify",
        200,
        json!({"isValid": false, "invalidReason": "no"}),
    );
    let gate = Gate::new(&json!({"agentId": "1", "routes": {"POST /tasks": {"planId": "10", "scheme": "nvm:erc4337"}, "/files/*": {"planId": "10", "scheme": "nvm:erc4337"}}})).unwrap();
    let url = prop_oneof![
        any::<String>(),
        spelling_of_tasks().prop_map(|p| format!("http://127.0.0.1:8787{p}")),
        "\\PC{0,30}".prop_map(|p| format!("http://127.0.0.1/files/{p}")),
    ];
    let method = prop_oneof![
        Just("POST".to_owned()),
        Just("GET".to_owned()),
        "[a-zA-Z]{0,8}"
    ];
    let token = prop_oneof![Just(None), token_text().prop_map(Some)];
    let verified = fuzz::run(3000, (method, url, token), |(method, url, token)| {
        let mut headers = Map::new();
        if let Some(t) = &token {
            headers.insert("payment-signature".into(), Value::from(t.as_str()));
        }
        let request = json!({"method": method, "url": url, "headers": Value::Object(headers)});
        let out = pollster::block_on(gate.handle(&p, &request, &NeverRun)).expect("handle answers");
        let out = crate::protocol::json::parse(&out).expect("an answer in JSON");
        let action = out["action"].as_str().unwrap_or("");
        assert!(
            action == "respond" || action == "pass",
            "{method} {url:?}: {action}"
        );
        action == "respond"
    });
    assert!(verified > 1000, "only {verified} requests were gated");
}

/// The A2A paywall on hostile JSON-RPC: any method name (A2A 1.0's, case and
/// space variants, anything), any params, any payment (with a backend that
/// refuses every verify) ends in an answer, never a panic, never the executor,
/// never a settle.
#[test]
fn the_a2a_paywall_never_runs_the_executor_unpaid() {
    use crate::gate::a2a::{A2aExchange, A2aGate};
    use crate::json;
    use crate::protocol::gate::a2a::build_payment_agent_card;
    use crate::transport::mock::MockTransport;
    use std::cell::RefCell;
    use std::collections::HashMap;
    /// A task store in memory; the executor must never be asked to run.
    #[derive(Default)]
    struct NeverRun(RefCell<HashMap<String, Value>>);
    impl A2aExchange for NeverRun {
        async fn store(&self, op: &str, arg: &Value) -> Option<Value> {
            let mut tasks = self.0.borrow_mut();
            let id = |v: &Value| v.as_str().unwrap_or("").to_owned();
            match op {
                "load" => Some(tasks.get(&id(&arg["id"])).cloned().unwrap_or(Value::Null)),
                "save" => {
                    tasks.insert(id(&arg["task"]["id"]), arg["task"].clone());
                    Some(Value::Bool(true))
                }
                _ => {
                    let key = id(&arg["id"]);
                    let ok = tasks
                        .get(&key)
                        .is_some_and(|t| t["status"]["state"] == arg["expect"]);
                    if ok {
                        tasks.insert(key, arg["task"].clone());
                    }
                    Some(Value::Bool(ok))
                }
            }
        }
        async fn run(&self, _: &Value) -> Option<Value> {
            panic!("an unpaid call reached the executor")
        }
        async fn cancel(&self, _: &str) -> bool {
            false
        }
        async fn hook(&self, _: &str, _: &Value) {}
    }
    let p = MockTransport::client("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFnZW50In0.c2ln");
    p.transport().json(
        "GET",
        "/api/v1/protocol/plans/10",
        200,
        json!({"id": "10", "registry": {"price": {"isCrypto": true}}}),
    );
    p.transport().json(
        "POST",
        "/api/v1/x402/verify",
        200,
        json!({"isValid": false, "invalidReason": "no"}),
    );
    let card = build_payment_agent_card(
        &json!({"name": "fuzz", "url": "https://agent.example/a2a", "capabilities": {"streaming": true}}),
        &json!({"agentId": "1", "planId": "10", "credits": 1, "paymentType": "fixed"}),
    )
    .unwrap();
    let gate = A2aGate::new(&json!({ "agentCard": card })).unwrap();
    let side = NeverRun::default();
    let method = prop_oneof![
        Just("message/send".to_owned()),
        Just("message/stream".to_owned()),
        Just("SendMessage".to_owned()),
        Just("tasks/cancel".to_owned()),
        Just("tasks/get".to_owned()),
        Just("tasks/resubscribe".to_owned()),
        "(message|tasks|Message|MESSAGE)[/ ]?(send|stream|Send|get|cancel)[ \\x00]?",
        any::<String>(),
    ];
    let task_id = prop_oneof![
        Just(None),
        Just(Some("t-1".to_owned())),
        "\\PC{0,8}".prop_map(Some)
    ];
    // A payload that passes the pre-checks (the plan's scheme): only verify, which refuses, stops it.
    let good = json!({"x402Version": 2,
        "accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": "10", "extra": {"version": "1"}},
        "payload": {"signature": "0xsig", "authorization": {"from": "0xsubscriber", "sessionKeys": []}}, "extensions": {}});
    let payload = prop_oneof![
        Just(None),
        Just(Some(good)),
        json_value().prop_map(Some),
        token_text().prop_map(|t| try_decode_access_token(&t).ok().map(Value::Object)),
    ];
    let params = (task_id, payload, json_value()).prop_map(|(task_id, payload, other)| {
        let mut message = json!({"kind": "message", "messageId": "m", "role": "user", "parts": []});
        if let Some(t) = task_id {
            message["taskId"] = Value::from(t.as_str());
        }
        if let Some(pay) = payload {
            message["metadata"] =
                json!({"x402.payment.status": "payment-submitted", "x402.payment.payload": pay});
        }
        json!({"message": message, "id": "t-1", "historyLength": other})
    });
    let header = prop_oneof![Just(None), token_text().prop_map(Some)];
    let ids = Value::Array(vec![
        Value::from("t-1"),
        Value::from("c-1"),
        Value::from("m-1"),
    ]);
    let asked = fuzz::run(
        2000,
        (method, params, header),
        |(method, params, header)| {
            let body =
                json!({"jsonrpc": "2.0", "id": 1, "method": method.as_str(), "params": params});
            let mut headers = Map::new();
            if let Some(t) = &header {
                headers.insert("payment-signature".into(), Value::from(t.as_str()));
            }
            let request = json!({"method": "POST", "url": "https://agent.example/a2a", "headers": Value::Object(headers),
            "body": to_text(&body), "ids": ids.clone(), "now": "2025-01-01T00:00:00Z"});
            let out = pollster::block_on(gate.handle(&p, &request, &side)).expect("handle answers");
            assert!(out.starts_with("{\"status\":200"), "{method:?}: {out}");
            method == "message/send" || method == "message/stream"
        },
    );
    assert!(asked > 200, "only {asked} messages were sent");
    let verified = p.transport().count("/api/v1/x402/verify");
    assert!(verified > 20, "only {verified} payments reached verify");
    assert_eq!(
        p.transport().count("/api/v1/x402/settle"),
        0,
        "nothing settled"
    );
}

/// `WWW-Authenticate` / `Authorization` values an MPP reader may be handed:
/// arbitrary, and challenges built from pieces (another scheme around it,
/// any params, quoted mppx-style with any text or not, any `request=`).
fn mpp_header() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        prop::sample::select(super::mpp::PARAMS.to_vec()).prop_map(str::to_owned),
        "[a-zA-Z_-]{0,4}",
    ];
    let value = prop_oneof![
        "\\PC{0,12}".prop_map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))),
        "[^,\"]{0,8}",
        "\\PC{0,12}",
    ];
    let agent = prop_oneof![
        Just(String::new()),
        "\\PC{0,6}".prop_map(|a| format!(",\"agentId\":{}", to_text(&Value::from(a)))),
        json_value().prop_map(|a| format!(",\"agentId\":{}", to_text(&a))),
    ];
    let request = prop_oneof![
        1 => token_text(),
        3 => (agent, "[0-9]{1,3}", any::<bool>()).prop_map(|(agent, credits, string)| {
            let credits = if string { format!("\"{credits}\"") } else { credits };
            let json = format!(r#"{{"planId":"1","credits":{credits}{agent}}}"#);
            super::base64::encode_url(json.as_bytes())
        }),
    ];
    let params = (prop::collection::vec((key, value), 0..6), request).prop_map(|(kv, request)| {
        let mut params: Vec<String> = ["id", "realm", "method", "intent"]
            .iter()
            .map(|k| format!("{k}=\"x\""))
            .collect();
        params.push(format!("request=\"{request}\""));
        params.extend(kv.into_iter().map(|(k, v)| format!("{k}={v}")));
        params.join(", ")
    });
    let structured = (
        "(|Bearer x, |Digest a=\"b, Payment c\", )",
        "(Payment|payment|PAYMENT|Payment )[ \t]{0,2}",
        params,
        "(|, Bearer y|,|\"|\\\\)",
    )
        .prop_map(|(pre, scheme, params, post)| format!("{pre}{scheme}{params}{post}"));
    prop_oneof![1 => any::<String>(), 1 => token_text(), 4 => structured]
}

#[test]
fn mpp_readers_never_panic_and_credentials_carry_the_challenge() {
    use super::mpp::*;
    let parsed = fuzz::run(6000, mpp_header(), |header| {
        if let Some(s) = payment_scheme(&header) {
            let at = s.as_ptr() as usize - header.as_ptr() as usize;
            assert_eq!(header.get(at..at + s.len()), Some(s));
            assert!(s.as_bytes()[..7].eq_ignore_ascii_case(b"payment"), "{s:?}");
        }
        let _ = credential_challenge_id(&header);
        let _ = parse_receipt(&header);
        let _ = decimal_credits(&header);
        match parse_challenge(&header) {
            Ok(Some(c)) => {
                assert!(!c.id.is_empty() && !c.plan_id.is_empty());
                let cred = credential(&c, "token");
                assert_eq!(credential_challenge_id(&cred), Some(c.id.clone()));
                assert_eq!(Challenge::from_json(&c.to_json()), Ok(c));
                true
            }
            _ => false,
        }
    });
    assert!(parsed > 500, "only {parsed} challenges parsed");
}
