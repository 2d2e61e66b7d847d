use super::*;
use crate::json;

#[test]
fn mistakes_in_the_options_are_reported_at_construction() {
    let cases = [
        (
            json!({"routes": {"/x": {"planId": "1"}}}),
            "agentId is required",
        ),
        (json!({"agentId": "a"}), "at least one paid route"),
        (
            json!({"agentId": "a", "routes": {}}),
            "at least one paid route",
        ),
        (
            json!({"agentId": "a", "routes": {"FETCH /x": {"planId": "1"}}}),
            "not an HTTP method",
        ),
        (
            json!({"agentId": "a", "routes": {"POST x": {"planId": "1"}}}),
            "must start with '/'",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": {}}}),
            "planId or planIds is required",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": {"planIds": ["1", ""]}}}),
            "non-empty strings",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": {"planId": "1", "credits": 0}}}),
            "at least 1",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": {"planId": "1", "credits": 1.5}}}),
            "credits",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": {"planId": "1", "network": "stripe"}}}),
            "network needs scheme",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": {"planId": "1"}, "/x/": {"planId": "2"}}}),
            "declared twice",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": {"planId": "1"}}, "cors": "yes"}),
            "cors must be",
        ),
        (
            json!({"agentId": "a", "routes": {"/x": "1"}}),
            "must be an object",
        ),
    ];
    for (options, expected) in cases {
        let err = GateConfig::from_json(&options).unwrap_err();
        assert_eq!(err.code(), "validation");
        assert!(err.to_string().contains(expected), "{options}: {err}");
    }
    let ok = GateConfig::from_json(
        &json!({"agentId": 7, "routes": {"POST /tasks": {"planIds": [1, "2"], "credits": "3"}}}),
    )
    .unwrap();
    let (_, route) = ok.routes.find("POST", "/tasks").unwrap();
    assert_eq!(
        (
            ok.agent_id.as_str(),
            route.plan_ids.clone(),
            route.credits.clone()
        ),
        (
            "7",
            vec!["1".to_owned(), "2".to_owned()],
            Credits::Fixed(Uint256::from(3))
        )
    );
}

#[test]
fn v3_urls_compare_by_host_and_normalised_path() {
    assert!(same_resource(
        "http://127.0.0.1:8787/tasks",
        "http://127.0.0.1:8787/tasks?x=1"
    ));
    assert!(same_resource(
        "http://127.0.0.1:8787/tasks/",
        "http://127.0.0.1:8787//tasks"
    ));
    assert!(same_resource("/tasks", "https://agent.example/tasks"));
    assert!(!same_resource(
        "http://127.0.0.1:8788/tasks",
        "http://127.0.0.1:8787/tasks"
    ));
    assert!(!same_resource(
        "http://other.example/tasks",
        "http://127.0.0.1:8787/tasks"
    ));
    assert!(!same_resource(
        "http://127.0.0.1:8787/tasks/2",
        "http://127.0.0.1:8787/tasks"
    ));
}

#[test]
fn the_refusal_reason_goes_into_the_payment_required_after_the_version() {
    let cfg =
        GateConfig::from_json(&json!({"agentId": "a", "routes": {"POST /t": {"planId": "1"}}}))
            .unwrap();
    let req =
        GateRequest::from_json(&json!({"method": "post", "url": "https://a.example/t"})).unwrap();
    let (_, route) = cfg.routes.find("POST", "/t").unwrap();
    let scheme = ResolvedScheme {
        scheme: "nvm:erc4337".into(),
        network: "eip155:84532".into(),
    };
    let pr = cfg
        .payment_required(route, &req, &[scheme], Some("why"))
        .unwrap();
    let keys: Vec<&String> = pr.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["x402Version", "error", "resource", "accepts", "extensions"]
    );
}

#[test]
fn requests_are_read_from_json_with_either_token_carrier() {
    let r = GateRequest::from_json(&json!({"method": "get", "url": "http://h/p?q", "headers": {"authorization": "bearer abc", "payment-signature": " "}})).unwrap();
    assert_eq!(
        (r.method.as_str(), r.token.as_deref(), r.path()),
        ("GET", Some("abc"), "/p")
    );
    let r = GateRequest::from_json(&json!({"url": "http://h/p", "headers": {"authorization": "Bearer abc", "payment-signature": "xyz"}})).unwrap();
    assert_eq!(r.token.as_deref(), Some("xyz"), "payment-signature wins");
    assert!(GateRequest::from_json(&json!({"method": "GET"})).is_err());
}

#[test]
fn a_402_for_an_unregistered_url_says_how_to_fix_it_and_others_dont() {
    let body = |message: &str| {
        let answer = GateConfig::payment_required_answer_encoded(Vec::new(), "e30".into(), message);
        crate::protocol::json::parse(answer.to_json()["body"].as_str().unwrap()).unwrap()
    };
    let unregistered = body("http://127.0.0.1:9/x is not an endpoint of agent a-1 (registered: POST http://127.0.0.1:8/x)");
    assert!(unregistered["hint"]
        .as_str()
        .unwrap()
        .contains("has not registered this URL"));
    assert!(body("Insufficient credits").get("hint").is_none());
}
