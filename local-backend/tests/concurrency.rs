//! Settles race: concurrent settles can never overspend or double-spend.

mod common;

use common::Local;
use std::sync::{Arc, Barrier};

#[test]
fn fifty_parallel_settles_against_ten_credits_burn_exactly_ten() {
    fifty_parallel_settles_asking("1");
}

#[test]
fn fifty_parallel_settles_asking_past_the_plans_terms_still_burn_exactly_ten() {
    // The demo plan charges 1 credit a request (issue #20): asking 50 burns 1 each time.
    fifty_parallel_settles_asking("50");
}

fn fifty_parallel_settles_asking(asked: &'static str) {
    let local = Arc::new(Local::start());
    let (token, _, required) = local.subscribed(2);
    let (subscriber, plan, holder) = (
        local.key("subscriber"),
        local.free_plan(),
        local.address("subscriber"),
    );
    assert_eq!(local.balance(&plan, &holder), 10);
    let barrier = Arc::new(Barrier::new(50));
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let (local, token, required, barrier) = (local.clone(), token.clone(), required.clone(), barrier.clone());
            std::thread::spawn(move || {
                let agent = common::http_agent();
                let body = serde_json::json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": asked}).to_string();
                let auth = format!("Bearer {}", local.key("builder"));
                barrier.wait();
                let (status, _, text) = common::send(&agent, "POST", &local.url("api/v1/x402/settle"), &[("Authorization", &auth), ("Content-Type", "application/json")], Some(body.as_bytes()));
                assert_eq!(status, 200, "{text}");
                serde_json::from_str::<serde_json::Value>(&text).unwrap()
            })
        })
        .collect();
    let answers: Vec<serde_json::Value> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let succeeded: Vec<&serde_json::Value> =
        answers.iter().filter(|a| a["success"] == true).collect();
    assert_eq!(succeeded.len(), 10, "{answers:?}");
    assert!(succeeded.iter().all(|a| a["creditsRedeemed"] == "1"));
    assert!(answers
        .iter()
        .filter(|a| a["success"] == false)
        .all(|a| a["errorCode"] == "BCK.X402.0906"));
    let mut remaining: Vec<u64> = succeeded
        .iter()
        .map(|a| a["remainingBalance"].as_str().unwrap().parse().unwrap())
        .collect();
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..10).collect::<Vec<u64>>(),
        "each success saw a distinct balance"
    );
    let mut transactions: Vec<&str> = succeeded
        .iter()
        .map(|a| a["transaction"].as_str().unwrap())
        .collect();
    transactions.sort_unstable();
    transactions.dedup();
    assert_eq!(transactions.len(), 10);
    assert_eq!(local.balance(&plan, &holder), 0);
    let (_, listed) = local.call("GET", "api/v1/delegation", Some(&subscriber), None);
    assert_eq!(listed[0]["transactionCount"], 10);
}

#[test]
fn parallel_settles_of_one_v3_token_succeed_once() {
    let local = Arc::new(Local::start());
    let plan = local.free_plan();
    let (token, _, required) = local.subscribed(3);
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let (local, token, required) = (local.clone(), token.clone(), required.clone());
            std::thread::spawn(move || local.facilitate("settle", &required, &token, "1"))
        })
        .collect();
    let answers: Vec<(u16, serde_json::Value)> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        answers
            .iter()
            .filter(|(s, a)| *s == 200 && a["success"] == true)
            .count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        answers
            .iter()
            .filter(|(s, a)| *s == 402 && a["code"] == "BCK.X402.0059")
            .count(),
        19,
        "{answers:?}"
    );
    assert_eq!(local.balance(&plan, &local.address("subscriber")), 9);
}
