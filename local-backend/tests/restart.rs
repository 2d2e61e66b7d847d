//! The real binary: first line of output, state kept across restarts of the
//! same `--db`, clean shutdown on SIGTERM, and `account create`.

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_nvm-local");

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "nvm-local-test-{name}-{}",
            nvm_local::ids::hex(&nvm_local::ids::random_bytes::<8>())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `nvm-local` process; killed if the test fails before stopping it.
struct Running {
    child: Child,
    url: String,
    rest: String,
}

impl Running {
    fn start(db: &Path) -> Running {
        let mut child = Command::new(BIN)
            .args(["--port", "0", "--db"])
            .arg(db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let url = first
            .trim_end()
            .strip_prefix("nvm-local listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
            "{url}"
        );
        let mut rest = String::new();
        // The world description follows; read up to the agent line.
        while !rest.contains("agent ") {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            rest.push_str(&line);
        }
        Running { child, url, rest }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let body = body.map(Value::to_string);
        common::call_json(
            &common::http_agent(),
            method,
            &format!("{}/{path}", self.url),
            key,
            body.as_deref().map(str::as_bytes),
        )
    }

    /// SIGTERM, then the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        let mut tail = String::new();
        let _ = self
            .child
            .stdout
            .take()
            .map(|mut s| s.read_to_string(&mut tail));
        status
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn state_survives_a_restart_on_the_same_db() {
    let dir = TempDir::new("restart");
    let db = dir.0.join("state.sqlite");
    let first = Running::start(&db);
    assert!(
        first.rest.contains("account builder")
            && first.rest.contains("free plan")
            && first.rest.contains("agent "),
        "{}",
        first.rest
    );
    let (_, world) = first.call("GET", "local/v1/demo", None, None);
    let subscriber = common::text(&world["accounts"]["subscriber"]["apiKey"]);
    let holder = common::text(&world["accounts"]["subscriber"]["address"]);
    let plan = common::text(&world["plans"]["free"]["planId"]);
    assert_eq!(
        first
            .call(
                "POST",
                &format!("api/v1/protocol/plans/{plan}/order"),
                Some(&subscriber),
                None
            )
            .0,
        201
    );
    let (_, delegation) = first.call(
        "POST",
        "api/v1/delegation/create",
        Some(&subscriber),
        Some(&json!({"provider": "erc4337", "spendingLimitCents": 100, "durationSecs": 600})),
    );
    let (_, carol) = first.call(
        "POST",
        "local/v1/accounts",
        None,
        Some(&json!({"name": "carol"})),
    );
    let status = first.stop();
    assert!(status.success(), "SIGTERM is a clean exit: {status:?}");

    let second = Running::start(&db);
    let (_, world_again) = second.call("GET", "local/v1/demo", None, None);
    assert_eq!(
        world_again["accounts"], world["accounts"],
        "same accounts and keys"
    );
    assert_eq!(world_again["plans"], world["plans"]);
    let (_, balance) = second.call(
        "GET",
        &format!("api/v1/protocol/plans/{plan}/balance/{holder}"),
        None,
        None,
    );
    assert_eq!(balance["balance"], "10");
    let (_, listed) = second.call("GET", "api/v1/delegation", Some(&subscriber), None);
    assert_eq!(listed[0]["delegationId"], delegation["delegationId"]);
    assert_eq!(
        second
            .call(
                "GET",
                "api/v1/payment-methods",
                carol["apiKey"].as_str(),
                None
            )
            .0,
        200,
        "keys issued before the restart still work"
    );
    // A token minted after the restart settles; the account keys were kept too.
    let mint = json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan}, "delegationConfig": {"delegationId": delegation["delegationId"]}});
    let (status, minted) = second.call(
        "POST",
        "api/v1/x402/permissions",
        Some(&subscriber),
        Some(&mint),
    );
    assert_eq!(status, 201, "{minted}");
    assert!(second.stop().success());
}

#[test]
fn account_create_prints_a_key_the_server_accepts() {
    let dir = TempDir::new("account");
    let db = dir.0.join("state.sqlite");
    let output = Command::new(BIN)
        .args(["account", "create", "dave", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let parsed = nvm_x402::protocol::ApiKey::parse(&key).unwrap();
    assert_eq!(parsed.prefix(), Some("local"));
    let running = Running::start(&db);
    let (status, methods) = running.call("GET", "api/v1/payment-methods", Some(&key), None);
    assert_eq!(status, 200, "{methods}");
    assert_eq!(
        methods[1]["id"],
        parsed.subject().unwrap(),
        "the wallet is the account address"
    );
    // A second create while the server runs: same account, new key, accepted at once.
    let output = Command::new(BIN)
        .args(["account", "create", "dave", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let second_key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_ne!(second_key, key);
    assert_eq!(
        nvm_x402::protocol::ApiKey::parse(&second_key)
            .unwrap()
            .subject(),
        parsed.subject()
    );
    assert_eq!(
        running
            .call("GET", "api/v1/delegation", Some(&second_key), None)
            .0,
        200
    );
    assert!(running.stop().success());
    let bad = Command::new(BIN).args(["--port", "nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
