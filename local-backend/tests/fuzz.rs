//! Property-based fuzzing of nvm-local's request parsing over real HTTP
//! (fixed seed): any body to any endpoint, any path and query, any header
//! value. Every answer is an error envelope or a success — never a 5xx, never
//! a dropped connection — and the server keeps serving afterwards.

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::Value;

/// Bodies a client may send: bytes, text, and JSON near what endpoints take.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let field = prop::sample::select(vec![
        "paymentRequired",
        "x402AccessToken",
        "maxAmount",
        "accepted",
        "delegationConfig",
        "provider",
        "spendingLimitCents",
        "durationSecs",
        "metadataAttributes",
        "priceConfig",
        "creditsConfig",
        "nonce",
        "plans",
        "agentApiAttributes",
        "plan",
        "agent",
        "name",
        "seconds",
        "planId",
        "tokenVersion",
    ]);
    let value = prop_oneof![
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
        Just("\"\"".to_owned()),
        Just("1e400".to_owned()),
        Just("-1".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("{\"x402Version\":2,\"accepts\":[{}]}".to_owned()),
        "\\PC{0,12}".prop_map(|s| Value::from(s).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        "\\PC{0,64}".prop_map(String::into_bytes),
        prop::collection::vec((field, value), 0..5).prop_map(|kv| {
            let inner: Vec<String> = kv
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::from(k)))
                .collect();
            format!("{{{}}}", inner.join(",")).into_bytes()
        }),
    ]
}

const POSTS: &[&str] = &[
    "api/v1/x402/permissions",
    "api/v1/x402/verify",
    "api/v1/x402/settle",
    "api/v1/delegation/create",
    "api/v1/protocol/plans",
    "api/v1/protocol/agents",
    "api/v1/protocol/agents/plans",
    "api/v1/fiat/stripe/payment",
    "api/v1/orders",
    "local/v1/accounts",
    "local/v1/clock/advance",
];

#[test]
fn any_body_to_any_endpoint_is_an_envelope_never_a_5xx() {
    let local = Local::start();
    let key = local.key("subscriber");
    let strategy = (prop::sample::select(POSTS), body(), any::<bool>());
    let refused = nvm_x402::fuzz::run(1500, strategy, |(path, bytes, authed)| {
        let auth = format!("Bearer {key}");
        let mut headers = vec![("Content-Type", "application/json")];
        if authed {
            headers.push(("Authorization", auth.as_str()));
        }
        let (status, _, text) = send(
            &local.agent,
            "POST",
            &local.url(path),
            &headers,
            Some(&bytes),
        );
        assert!(
            status < 500,
            "POST {path} {:?}: {status} {text}",
            String::from_utf8_lossy(&bytes)
        );
        if status >= 400 {
            let envelope: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("POST {path}: not JSON: {text}"));
            assert!(
                envelope["code"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("BCK.")),
                "{envelope}"
            );
        }
        status >= 400
    });
    assert!(refused > 1000, "only {refused} bodies were refused");
    assert_eq!(
        send(&local.agent, "GET", &local.url("health"), &[], None).0,
        200
    );
}

#[test]
fn any_path_query_and_header_is_answered() {
    let local = Local::start();
    let segment = prop_oneof![
        "[a-zA-Z0-9:._~-]{0,12}",
        Just("%00".to_owned()),
        Just("%ff".to_owned()),
        Just("..".to_owned()),
        Just("%2F".to_owned()),
        any::<u64>().prop_map(|n| n.to_string()),
    ];
    let path = prop::collection::vec(segment, 0..6);
    let query = "[a-zA-Z0-9=&%+.-]{0,20}";
    let prefix = prop::sample::select(vec![
        "api/v1/protocol/plans",
        "api/v1/protocol/agents",
        "api/v1/delegation",
        "api/v1/payment-methods",
        "checkout",
        "api/v1/orders",
        "orders",
        "local/v1",
        "",
    ]);
    let header = "[ -~]{0,40}";
    let strategy = (
        prefix,
        path,
        query,
        header,
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "OPTIONS"]),
    );
    // One connection per request. A POST or PUT to a path with no handler is
    // answered without its body being read, and hyper then closes the
    // connection (as HTTP allows); a pooled client that reuses it in that
    // instant sees a reset (seen under CPU load). Each case must get its own
    // answer on its own connection.
    let fresh: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into();
    nvm_x402::fuzz::run(
        1500,
        strategy,
        |(prefix, segments, query, header, method)| {
            let url = format!(
                "{}/{}?{query}",
                local.url(prefix).trim_end_matches('/'),
                segments.join("/")
            );
            let auth = format!("Bearer {header}");
            let (status, _, text) = send(
                &fresh,
                method,
                &url,
                &[("Authorization", &auth), ("Origin", &header)],
                None,
            );
            assert!(status < 500, "{method} {url}: {status} {text}");
            true
        },
    );
    assert_eq!(
        send(&local.agent, "GET", &local.url("health"), &[], None).0,
        200
    );
}
