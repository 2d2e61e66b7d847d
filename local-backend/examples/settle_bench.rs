//! Settle throughput: starts an in-memory nvm-local, grants a subscriber
//! credits, and fires settles from N concurrent keep-alive clients for S
//! seconds (`--db PATH`: on a SQLite file instead). Prints settles/s, latency percentiles, and checks there was no
//! overspend (successes == credits burned == initial - final balance).
//!
//! `cargo run --release -p nvm-local --example settle_bench -- --clients 16 --seconds 10`

#[path = "../tests/common/mod.rs"]
mod common;

use nvm_local::{Config, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

struct Options {
    clients: usize,
    seconds: u64,
    /// A SQLite file instead of memory (WAL, synchronous=NORMAL, as `nvm-local --db`).
    db: Option<std::path::PathBuf>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        clients: 16,
        seconds: 10,
        db: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args
            .get(i + 1)
            .ok_or_else(|| format!("{} needs a value", args[i]))?;
        match args[i].as_str() {
            "--clients" => {
                options.clients = value.parse().map_err(|_| "--clients takes a number")?
            }
            "--seconds" => {
                options.seconds = value.parse().map_err(|_| "--seconds takes a number")?
            }
            "--db" => options.db = Some(value.into()),
            other => {
                return Err(format!(
                    "unknown option {other} (use --clients N --seconds S [--db PATH])"
                ))
            }
        }
        i += 2;
    }
    if options.clients == 0 || options.seconds == 0 {
        return Err("--clients and --seconds must be at least 1".into());
    }
    Ok(options)
}

fn call(
    http: &ureq::Agent,
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string);
    common::call_json(http, method, url, key, body.as_deref().map(str::as_bytes))
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[rank]) / 1000.0
}

fn main() {
    let options = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("settle_bench: {e}");
            std::process::exit(2);
        }
    };
    let mut config = Config::in_memory();
    if let Some(path) = &options.db {
        config.db = nvm_local::store::DbLocation::File(path.clone());
    }
    let storage = options
        .db
        .as_ref()
        .map_or("in memory".to_owned(), |p| format!("on {}", p.display()));
    let server = Server::start(config).expect("nvm-local starts");
    let base = server.url();
    let world = server.demo_world().clone();
    let builder = common::text(&world["accounts"]["builder"]["apiKey"]);
    let subscriber = common::text(&world["accounts"]["subscriber"]["apiKey"]);
    let holder = common::text(&world["accounts"]["subscriber"]["address"]);
    let http = common::http_agent();

    // A free plan with a billion credits, 1 per request, and an agent with one endpoint.
    let credits = nvm_x402::api::plans::fixed_credits_config(1_000_000_000u64.into(), 1u64.into());
    let registration = json!({"metadataAttributes": {"name": "Bench"}, "priceConfig": nvm_x402::api::plans::free_price_config(), "creditsConfig": credits, "nonce": "1", "isTrialPlan": false, "accessLimit": "credits"});
    let (_, plan) = call(
        &http,
        "POST",
        &format!("{base}/api/v1/protocol/plans"),
        Some(&builder),
        Some(&registration),
    );
    let plan = plan["planId"].as_str().expect("plan registered").to_owned();
    let url = "http://127.0.0.1:8787/bench/tasks";
    let agent_body = json!({"metadataAttributes": {"name": "Bench agent"}, "agentApiAttributes": {"endpoints": [{"POST": "http://127.0.0.1:8787/bench/:kind"}]}, "plans": [plan]});
    let (_, agent_answer) = call(
        &http,
        "POST",
        &format!("{base}/api/v1/protocol/agents"),
        Some(&builder),
        Some(&agent_body),
    );
    let agent_id = agent_answer["data"]["agentId"]
        .as_str()
        .expect("agent registered")
        .to_owned();
    let (status, _) = call(
        &http,
        "POST",
        &format!("{base}/api/v1/protocol/plans/{plan}/order"),
        Some(&subscriber),
        None,
    );
    assert_eq!(status, 201, "order");
    let (_, delegation) = call(
        &http,
        "POST",
        &format!("{base}/api/v1/delegation/create"),
        Some(&subscriber),
        Some(&json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 86_400})),
    );
    let mint = json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {"agentId": agent_id}}, "delegationConfig": {"delegationId": delegation["delegationId"]}});
    let (_, minted) = call(
        &http,
        "POST",
        &format!("{base}/api/v1/x402/permissions"),
        Some(&subscriber),
        Some(&mint),
    );
    let token = minted["accessToken"]
        .as_str()
        .expect("token minted")
        .to_owned();
    let required = json!({"x402Version": 2, "resource": {"url": url}, "accepts": [{"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {"version": "1", "agentId": agent_id, "httpVerb": "POST"}}], "extensions": {}});
    let settle_body =
        json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": "1"})
            .to_string();
    let balance_url = format!("{base}/api/v1/protocol/plans/{plan}/balance/{holder}");
    let balance = |http: &ureq::Agent| -> u64 {
        call(http, "GET", &balance_url, None, None).1["balance"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let initial = balance(&http);

    println!(
        "settle_bench: {} clients, {} s, nvm-local {storage} at {base}",
        options.clients, options.seconds
    );
    let settle_url = format!("{base}/api/v1/x402/settle");
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..options.clients)
        .map(|_| {
            let (settle_url, settle_body, auth) = (
                settle_url.clone(),
                settle_body.clone(),
                format!("Bearer {builder}"),
            );
            std::thread::spawn(move || {
                let http = common::http_agent();
                let (mut latencies, mut ok, mut failed, mut burned) =
                    (Vec::with_capacity(100_000), 0u64, 0u64, 0u64);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let request = ureq::http::Request::builder()
                        .method("POST")
                        .uri(&settle_url)
                        .header("Content-Type", "application/json")
                        .header("Authorization", &auth)
                        .body(settle_body.as_str())
                        .unwrap();
                    let mut response = http.run(request).expect("settle answered");
                    let text = response.body_mut().read_to_string().unwrap();
                    latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if answer["success"] == true {
                        ok += 1;
                        burned += answer["creditsRedeemed"]
                            .as_str()
                            .and_then(|c| c.parse::<u64>().ok())
                            .unwrap_or(0);
                    } else {
                        failed += 1;
                    }
                }
                (latencies, ok, failed, burned)
            })
        })
        .collect();
    let (mut latencies, mut ok, mut failed, mut burned) = (Vec::new(), 0, 0, 0);
    for worker in workers {
        let (l, o, f, b) = worker.join().unwrap();
        latencies.extend(l);
        ok += o;
        failed += f;
        burned += b;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let final_balance = balance(&http);
    latencies.sort_unstable();
    println!("settles:      {ok} succeeded, {failed} failed in {elapsed:.2} s");
    println!("throughput:   {:.0} settles/s", ok as f64 / elapsed);
    println!(
        "latency ms:   p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 99.9),
        percentile(&latencies, 100.0)
    );
    println!(
        "balance:      {initial} -> {final_balance} (burned {})",
        initial - final_balance
    );
    let consistent = ok == burned && burned == initial - final_balance && failed == 0;
    println!(
        "overspend:    {}",
        if consistent {
            "none (successes == credits burned == initial - final)"
        } else {
            "MISMATCH"
        }
    );
    server.shutdown();
    if !consistent {
        std::process::exit(1);
    }
}
