//! Bad input never crashes the server or changes state: each kind gets a 4xx
//! envelope with a code, and the server answers normally afterwards. Also CORS,
//! unknown routes and methods.

mod common;

use common::{send, Local};
use serde_json::json;

#[test]
fn every_kind_of_bad_body_gets_an_envelope_and_the_server_keeps_working() {
    let local = Local::start();
    let builder = local.key("builder");
    let subscriber = local.key("subscriber");
    let plan = local.free_plan();
    let (token, _, required) = local.subscribed(2);
    let over_limit = vec![b' '; 1024 * 1024 + 1];
    let mut huge_valid_json = b"{\"name\":\"".to_vec();
    huge_valid_json.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    huge_valid_json.extend_from_slice(b"\"}");
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("api/v1/x402/settle", "empty", b"".to_vec(), "BCK.COMMON.0900"),
        ("api/v1/x402/settle", "not JSON", b"hello".to_vec(), "BCK.COMMON.0900"),
        ("api/v1/x402/settle", "truncated JSON", b"{\"paymentRequired\":".to_vec(), "BCK.COMMON.0900"),
        ("api/v1/x402/settle", "an array", b"[1,2]".to_vec(), "BCK.COMMON.0900"),
        ("api/v1/x402/settle", "not UTF-8", vec![0xff, 0xfe, b'{'], "BCK.COMMON.0900"),
        ("api/v1/x402/settle", "nested too deep", format!("{}1{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(), "BCK.COMMON.0900"),
        ("api/v1/x402/settle", "unknown field", json!({"paymentRequired": required, "x402AccessToken": token, "credits": 1}).to_string().into_bytes(), "BCK.COMMON.0902"),
        ("api/v1/x402/settle", "missing field", json!({"paymentRequired": required}).to_string().into_bytes(), "BCK.COMMON.0903"),
        ("api/v1/x402/settle", "wrong type", json!({"paymentRequired": required, "x402AccessToken": 5}).to_string().into_bytes(), "BCK.COMMON.0901"),
        ("api/v1/x402/settle", "wrong nested type", json!({"paymentRequired": {"x402Version": 2, "resource": "x", "accepts": []}, "x402AccessToken": token}).to_string().into_bytes(), "BCK.COMMON.0901"),
        ("api/v1/x402/settle", "wrong x402 version", json!({"paymentRequired": {"x402Version": 1, "resource": {"url": "/x"}, "accepts": []}, "x402AccessToken": token}).to_string().into_bytes(), "BCK.COMMON.0901"),
        ("api/v1/x402/settle", "blank token", json!({"paymentRequired": required, "x402AccessToken": " "}).to_string().into_bytes(), "BCK.COMMON.0903"),
        ("api/v1/x402/settle", "negative amount", json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": -1}).to_string().into_bytes(), "BCK.COMMON.0901"),
        ("api/v1/x402/settle", "uint256 as a number beyond 2^53", format!("{{\"paymentRequired\":{required},\"x402AccessToken\":\"{token}\",\"maxAmount\":9007199254740993}}").into_bytes(), "BCK.COMMON.0026"),
        ("api/v1/x402/settle", "number beyond f64", format!("{{\"paymentRequired\":{required},\"x402AccessToken\":\"{token}\",\"maxAmount\":1e400}}").into_bytes(), "BCK.COMMON.0026"),
        ("api/v1/x402/settle", "body over 1 MiB", over_limit, "BCK.COMMON.0904"),
        ("local/v1/accounts", "valid JSON over 1 MiB", huge_valid_json, "BCK.COMMON.0904"),
        ("api/v1/x402/verify", "huge nested number", json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "1"}).to_string().replace("\"x402Version\":2", "\"x402Version\":2,\"n\":[18446744073709551615]").into_bytes(), "BCK.COMMON.0026"),
        ("api/v1/protocol/plans", "plan id number", json!({"metadataAttributes": {"name": "P"}, "priceConfig": {}, "creditsConfig": {"amount": "1"}, "nonce": 12345678901234567890u64, "isTrialPlan": false, "accessLimit": "credits"}).to_string().into_bytes(), "BCK.COMMON.0026"),
        ("api/v1/protocol/plans", "bad access limit", json!({"metadataAttributes": {"name": "P"}, "priceConfig": {}, "creditsConfig": {"amount": "1"}, "nonce": "1", "isTrialPlan": false, "accessLimit": "forever"}).to_string().into_bytes(), "BCK.COMMON.0901"),
        ("api/v1/protocol/agents/plans", "unknown nested field", json!({"plan": {"metadataAttributes": {"name": "P"}, "priceConfig": {}, "creditsConfig": {"amount": "1"}, "bogus": 1}, "agent": {"metadataAttributes": {"name": "A"}, "agentApiAttributes": {}}}).to_string().into_bytes(), "BCK.COMMON.0902"),
        ("api/v1/delegation/create", "count as a float", json!({"provider": "erc4337", "spendingLimitCents": 1.5, "durationSecs": 60}).to_string().into_bytes(), "BCK.COMMON.0901"),
        ("api/v1/x402/permissions", "mint with a string version", json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan}, "delegationConfig": {"delegationId": "x"}, "tokenVersion": "3"}).to_string().into_bytes(), "BCK.COMMON.0901"),
        ("local/v1/accounts", "bad account name", json!({"name": "<script>"}).to_string().into_bytes(), "BCK.COMMON.0901"),
    ];
    for (path, what, body, code) in cases {
        let key = if path.starts_with("api/v1/x402/permissions")
            || path.starts_with("api/v1/delegation")
        {
            &subscriber
        } else {
            &builder
        };
        let (status, answer) = local.call_raw("POST", path, Some(key), Some(&body));
        assert!((400..500).contains(&status), "{what}: {status} {answer}");
        assert_eq!(answer["code"], code, "{what}: {answer}");
        assert_eq!(
            answer["httpStatus"].as_u64(),
            Some(u64::from(status)),
            "{what}"
        );
        // The server still answers, and the state is what it was.
        assert_eq!(
            local.balance(&plan, &local.address("subscriber")),
            10,
            "{what}"
        );
    }
    let (_, settled) = local.facilitate("settle", &required, &token, "1");
    assert_eq!(
        (
            settled["success"].as_bool(),
            settled["remainingBalance"].as_str()
        ),
        (Some(true), Some("9")),
        "{settled}"
    );
    let (status, health) = local.call("GET", "health", None, None);
    assert_eq!((status, health), (200, json!({"ok": true})));
}

/// Sends a POST over a raw connection, its body in chunks of `chunk` bytes
/// (`Transfer-Encoding: chunked`, no length), and reads the whole answer.
fn post_chunked(local: &Local, path: &str, key: &str, body: &[u8], chunk: usize) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(local.server.addr()).expect("connects");
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).unwrap();
    for part in body.chunks(chunk) {
        // The server may answer and close once it has seen too much: stop sending then.
        if tcp
            .write_all(format!("{:x}\r\n", part.len()).as_bytes())
            .is_err()
            || tcp.write_all(part).is_err()
            || tcp.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = tcp.write_all(b"0\r\n\r\n");
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    answer
}

#[test]
fn a_body_over_the_cap_is_a_413_envelope_with_or_without_a_length() {
    let local = Local::start();
    let builder = local.key("builder");
    // No Content-Length: the cap is found while reading (tower-http's limit on the body).
    for size in [1024 * 1024 + 1, 5 * 1024 * 1024] {
        let answer = post_chunked(
            &local,
            "local/v1/accounts",
            &builder,
            &vec![b' '; size],
            64 * 1024,
        );
        assert!(answer.starts_with("HTTP/1.1 413"), "{size}: {answer}");
        assert!(
            answer.contains(r#""code":"BCK.COMMON.0904""#),
            "{size}: {answer}"
        );
    }
    // Just under the cap, chunked, is read whole (and then judged as JSON).
    let mut fits = br#"{"name":"chunked"}"#.to_vec();
    fits.resize(1024 * 1024, b' ');
    let answer = post_chunked(&local, "local/v1/accounts", &builder, &fits, 1000);
    assert!(
        answer.starts_with("HTTP/1.1 201") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    // A declared length over the cap is refused before the body is read, even a large one.
    let (status, answer) = local.call_raw(
        "POST",
        "local/v1/accounts",
        Some(&builder),
        Some(&vec![b' '; 16 * 1024 * 1024]),
    );
    assert_eq!(
        (status, answer["code"].as_str()),
        (413, Some("BCK.COMMON.0904")),
        "{answer}"
    );
    let (status, _) = local.call("GET", "health", None, None);
    assert_eq!(status, 200);
}

#[test]
fn unknown_routes_methods_and_path_parameters() {
    let local = Local::start();
    local.expect_error(
        local.call("GET", "api/v1/nothing", None, None),
        "BCK.COMMON.0905",
    );
    local.expect_error(
        local.call("DELETE", "api/v1/x402/settle", None, None),
        "BCK.COMMON.0906",
    );
    local.expect_error(
        local.call("GET", "api/v1/x402/settle", None, None),
        "BCK.COMMON.0906",
    );
    local.expect_error(
        local.call("GET", "api/v1/protocol/plans/%FF%FE", None, None),
        "BCK.COMMON.0901",
    );
    local.expect_error(
        local.call(
            "GET",
            &format!("api/v1/protocol/plans/{}", "9".repeat(5000)),
            None,
            None,
        ),
        "BCK.PROTOCOL.0900",
    );
    local.expect_error(
        local.call(
            "GET",
            "api/v1/delegation?accessible=maybe",
            Some(&local.key("subscriber")),
            None,
        ),
        "BCK.COMMON.0901",
    );
}

#[test]
fn cors_reflects_loopback_origins_only() {
    let local = Local::start();
    let url = local.url("api/v1/x402/verify");
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:8080",
        "http://[::1]:3000",
        "http://localhost",
    ] {
        let (status, headers, _) = send(
            &local.agent,
            "OPTIONS",
            &url,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
            ],
            None,
        );
        // tower-http answers a preflight 200 (any 2xx passes a browser's preflight).
        assert!((200..300).contains(&status), "{origin}: {status}");
        assert_eq!(headers.get("access-control-allow-origin").unwrap(), origin);
        let allowed = headers
            .get("access-control-allow-headers")
            .unwrap()
            .to_str()
            .unwrap()
            .to_ascii_lowercase(); // header names are case-insensitive
        for h in [
            "authorization",
            "content-type",
            "accept",
            "nevermined-version",
            "x-current-org-id",
        ] {
            assert!(allowed.contains(h), "{allowed}");
        }
        assert!(headers
            .get("access-control-allow-methods")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("POST"));
        let (status, headers, _) = send(
            &local.agent,
            "GET",
            &local.url("local/v1/demo"),
            &[("Origin", origin)],
            None,
        );
        assert_eq!(status, 200);
        assert_eq!(headers.get("access-control-allow-origin").unwrap(), origin);
    }
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example:5173",
        "http://127.0.0.2:80",
        "null",
        "http://user@localhost:1",
    ] {
        let (status, headers, _) = send(
            &local.agent,
            "OPTIONS",
            &url,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
            ],
            None,
        );
        assert!((200..300).contains(&status), "{origin}: {status}");
        assert!(
            headers.get("access-control-allow-origin").is_none(),
            "{origin}"
        );
        let (_, headers, _) = send(
            &local.agent,
            "GET",
            &local.url("health"),
            &[("Origin", origin)],
            None,
        );
        assert!(
            headers.get("access-control-allow-origin").is_none(),
            "{origin}"
        );
    }
}

#[test]
fn local_endpoints() {
    let local = Local::start();
    let (status, demo) = local.call("GET", "local/v1/demo", None, None);
    assert_eq!(status, 200);
    assert_eq!(demo["backendUrl"], format!("{}/", local.server.url()));
    for account in ["builder", "subscriber"] {
        let a = &demo["accounts"][account];
        assert_eq!(a["name"], account);
        let address = a["address"].as_str().unwrap();
        assert!(
            address.len() == 42
                && address.starts_with("0x")
                && address[2..].chars().all(|c| c.is_ascii_hexdigit()),
            "{address}"
        );
        let key = nvm_x402::protocol::ApiKey::parse(a["apiKey"].as_str().unwrap()).unwrap();
        assert_eq!(
            (key.prefix(), key.subject()),
            (Some("local"), Some(address))
        );
        assert!(key.claims()["o11y"].is_string());
    }
    let (_, free) = local.call(
        "GET",
        &format!(
            "api/v1/protocol/plans/{}",
            demo["plans"]["free"]["planId"].as_str().unwrap()
        ),
        None,
        None,
    );
    assert_eq!(
        (
            free["registry"]["price"]["amounts"]
                .as_array()
                .map(Vec::len),
            free["registry"]["credits"]["amount"].as_str()
        ),
        (Some(0), Some("10"))
    );
    let (_, fiat) = local.call(
        "GET",
        &format!(
            "api/v1/protocol/plans/{}",
            demo["plans"]["fiat"]["planId"].as_str().unwrap()
        ),
        None,
        None,
    );
    assert_eq!(
        (
            fiat["registry"]["price"]["amounts"][0].as_str(),
            fiat["registry"]["price"]["isCrypto"].as_bool()
        ),
        (Some("1000000"), Some(false))
    );
    let (_, agent) = local.call(
        "GET",
        &format!(
            "api/v1/protocol/agents/{}",
            demo["agent"]["agentId"].as_str().unwrap()
        ),
        None,
        None,
    );
    assert_eq!(
        agent["endpoints"],
        json!([{"POST": "http://127.0.0.1:8787/tasks"}])
    );
    assert_eq!(
        agent["plans"],
        json!([
            demo["plans"]["free"]["planId"],
            demo["plans"]["fiat"]["planId"],
            demo["plans"]["payg"]["planId"]
        ])
    );

    let (status, created) = local.call(
        "POST",
        "local/v1/accounts",
        None,
        Some(&json!({"name": "carol"})),
    );
    assert_eq!(
        (
            status,
            created["name"].as_str(),
            created["created"].as_bool()
        ),
        (201, Some("carol"), Some(true))
    );
    let (status, again) = local.call(
        "POST",
        "local/v1/accounts",
        None,
        Some(&json!({"name": "carol"})),
    );
    assert_eq!((status, again["created"].as_bool()), (200, Some(false)));
    assert_eq!(again["address"], created["address"]);
    assert_ne!(again["apiKey"], created["apiKey"]);
    for key in [&created["apiKey"], &again["apiKey"]] {
        assert_eq!(
            local
                .call("GET", "api/v1/payment-methods", key.as_str(), None)
                .0,
            200
        );
    }
}
