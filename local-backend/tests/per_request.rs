//! A plan's per-request terms (issue #20, item 2): verify and settle hold what
//! one request may burn to the plan's `[minAmount, maxAmount]`, whatever
//! `maxAmount` the agent asks, as the hosted backend does (both official SDKs
//! document it: a fixed plan always burns its amount, a range plan clamps). An
//! agent that charges 50 on a plan whose terms say 1 per request burns 1.

mod common;
use common::*;
use nvm_x402::api::plans::{dynamic_credits_config, fixed_credits_config, free_price_config};
use nvm_x402::protocol::Uint256;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};

/// A builder's plan with these credits terms (granted per order, least and most per
/// request), the builder's key, and a subscriber who ordered it once, with a token and
/// a PaymentRequired naming no agent.
struct Subscribed {
    builder: String,
    plan: String,
    holder: String,
    token: String,
    required: Value,
}

static ACCOUNTS: AtomicU32 = AtomicU32::new(0);

fn subscribe(local: &Local, granted: u64, least: u64, most: u64) -> Subscribed {
    let n = ACCOUNTS.fetch_add(1, Ordering::Relaxed);
    let (_, builder) = local.new_account(&format!("builder-of-terms-{n}"));
    let credits = if least == most {
        fixed_credits_config(Uint256::from(granted), Uint256::from(most))
    } else {
        dynamic_credits_config(
            Uint256::from(granted),
            Uint256::from(least),
            Uint256::from(most),
        )
    };
    let answer = block_on(
        local
            .client(&builder)
            .register_plan(
                &nvm_x402::json!({"name": "terms"}),
                &free_price_config(),
                &credits,
                None,
                false,
                None,
            )
            .send(),
    )
    .unwrap();
    let plan = answer["planId"].as_str().unwrap().to_owned();
    let (holder, subscriber) = local.new_account(&format!("subscriber-of-terms-{n}"));
    local.order(&subscriber, &plan);
    let delegation = local.crypto_delegation(&subscriber);
    let token = local.mint(&subscriber, json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan}, "delegationConfig": {"delegationId": delegation}}));
    let required = json!({"x402Version": 2, "resource": {"url": "https://agent.example/x"}, "accepts": [{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {"version": "1"}}], "extensions": {}});
    Subscribed {
        builder,
        plan,
        holder,
        token,
        required,
    }
}

impl Subscribed {
    fn facilitate(&self, local: &Local, what: &str, asked: &str) -> Value {
        let body = json!({"paymentRequired": self.required, "x402AccessToken": self.token, "maxAmount": asked});
        let (status, answer) = local.call(
            "POST",
            &format!("api/v1/x402/{what}"),
            Some(&self.builder),
            Some(&body),
        );
        assert_eq!(status, 200, "{what} {asked}: {answer}");
        answer
    }
}

#[test]
fn an_agent_asking_more_than_a_fixed_plans_terms_burns_the_terms() {
    let local = Local::start();
    let s = subscribe(&local, 100, 1, 1);
    for asked in [
        "50",
        "2",
        "115792089237316195423570985008687907853269984665640564039457584007913129639935",
    ] {
        let before = local.balance(&s.plan, &s.holder);
        let verified = s.facilitate(&local, "verify", asked);
        assert_eq!(verified["isValid"], true, "{verified}");
        let settled = s.facilitate(&local, "settle", asked);
        assert_eq!(settled["success"], true, "{settled}");
        assert_eq!(settled["creditsRedeemed"], "1", "asked {asked}");
        assert_eq!(local.balance(&s.plan, &s.holder), before - 1);
    }
}

#[test]
fn verify_reads_the_balance_against_what_the_request_may_burn() {
    let local = Local::start();
    // 3 credits per order, at most 2 per request: after one request of 2, 1 is left.
    let s = subscribe(&local, 3, 1, 2);
    assert_eq!(s.facilitate(&local, "settle", "9")["creditsRedeemed"], "2");
    assert_eq!(local.balance(&s.plan, &s.holder), 1);
    // Asking 9 would burn 2 (the terms' most), which the balance can't cover.
    let verified = s.facilitate(&local, "verify", "9");
    assert_eq!(verified["isValid"], false, "{verified}");
    assert_eq!(verified["invalidCode"], "BCK.X402.0906");
    let refused = s.facilitate(&local, "settle", "9");
    assert_eq!(refused["success"], false, "{refused}");
    assert_eq!(refused["creditsRedeemed"], "0");
    assert_eq!(local.balance(&s.plan, &s.holder), 1, "nothing burned");
    // Asking 1 fits.
    assert_eq!(s.facilitate(&local, "verify", "1")["isValid"], true);
    assert_eq!(s.facilitate(&local, "settle", "1")["creditsRedeemed"], "1");
    assert_eq!(local.balance(&s.plan, &s.holder), 0);
}

#[test]
fn any_amount_asked_burns_within_the_plans_range() {
    let local = Local::start();
    // Terms from [0, 0] up (a minAmount or maxAmount of 0 included).
    let strategy = (0u64..6, 0u64..6, 0u64..40);
    let clamped = nvm_x402::fuzz::run(32, strategy, |(least, spread, asked)| {
        let most = least + spread;
        let s = subscribe(&local, 1000, least, most);
        let settled = s.facilitate(&local, "settle", &asked.to_string());
        assert_eq!(settled["success"], true, "{settled}");
        let burned: u64 = settled["creditsRedeemed"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        // A maxAmount of 0 means "the default", 1: never free, and never more than the
        // client reads as the plan's most (the larger of min and max, at least 1).
        let (low, high) = if most == 0 { (1, 1) } else { (least, most) };
        assert!(
            (low..=high).contains(&burned),
            "plan [{least}, {most}], asked {asked}: burned {burned}"
        );
        // What was asked, when the terms allow it; the plan's default when nothing was (0).
        if asked > 0 && (least..=most).contains(&asked) {
            assert_eq!(burned, asked);
        }
        if asked == 0 {
            assert_eq!(
                burned,
                [least, most, 1].into_iter().find(|n| *n > 0).unwrap()
            );
        }
        assert_eq!(local.balance(&s.plan, &s.holder), 1000 - burned);
        asked != 0 && !(least..=most).contains(&asked)
    });
    assert!(clamped > 4, "only {clamped} cases asked outside the range");
}
