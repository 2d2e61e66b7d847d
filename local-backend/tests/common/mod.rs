//! Test helpers: an in-memory nvm-local on a free loopback port, a raw HTTP
//! caller, and an `nvm_x402::Payments` client whose transport is a blocking
//! HTTP client — so the flow tests cross-check our client against our server.
#![allow(dead_code)]

use nvm_local::{Config, Server, ServerHandle};
use nvm_x402::protocol::PaymentsOptions;
use nvm_x402::transport::{HttpRequest, HttpResponse, Transport};
use nvm_x402::Payments;
use serde_json::{json, Value};

/// A blocking HTTP agent that never turns a status into an error.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(64)
        .build()
        .into()
}

/// Sends one request; returns the status, the headers and the body text.
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, ureq::http::HeaderMap, String) {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = match body {
        Some(bytes) => agent.run(builder.body(bytes.to_vec()).expect("a valid request")),
        None => agent.run(builder.body(()).expect("a valid request")),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .expect("a text body");
    (status, headers, text)
}

/// A JSON string value as an owned `String`; anything else is a test failure.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

/// A JSON call: `(status, body)`; a body that isn't JSON is a test failure.
pub fn call_json(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&[u8]>,
) -> (u16, Value) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    ];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    let (status, _, text) = send(agent, method, url, &headers, body);
    let value = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!("{method} {url} answered {status} with a non-JSON body: {text}")
    });
    (status, value)
}

/// A running in-memory nvm-local and its demo world.
pub struct Local {
    pub server: ServerHandle,
    pub agent: ureq::Agent,
}

impl Local {
    pub fn start() -> Local {
        Local {
            server: Server::start(Config::in_memory()).expect("nvm-local starts"),
            agent: http_agent(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.server.url(), path.trim_start_matches('/'))
    }

    pub fn world(&self) -> &Value {
        self.server.demo_world()
    }

    pub fn key(&self, account: &str) -> String {
        text(&self.world()["accounts"][account]["apiKey"])
    }

    pub fn address(&self, account: &str) -> String {
        text(&self.world()["accounts"][account]["address"])
    }

    pub fn free_plan(&self) -> String {
        text(&self.world()["plans"]["free"]["planId"])
    }

    pub fn fiat_plan(&self) -> String {
        text(&self.world()["plans"]["fiat"]["planId"])
    }

    pub fn agent_id(&self) -> String {
        text(&self.world()["agent"]["agentId"])
    }

    pub fn agent_url(&self) -> String {
        text(&self.world()["agent"]["url"])
    }

    /// A JSON call: `(status, body)`; a body that isn't JSON is a test failure.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let text = body.map(Value::to_string);
        self.call_raw(method, path, key, text.as_deref().map(str::as_bytes))
    }

    /// Like [`Local::call`] with raw body bytes.
    pub fn call_raw(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&[u8]>,
    ) -> (u16, Value) {
        call_json(&self.agent, method, &self.url(path), key, body)
    }

    /// Orders a crypto or free plan for `key`'s account.
    pub fn order(&self, key: &str, plan: &str) {
        let (status, body) = self.call(
            "POST",
            &format!("api/v1/protocol/plans/{plan}/order"),
            Some(key),
            None,
        );
        assert_eq!(status, 201, "{body}");
    }

    /// The seeded subscriber, subscribed to the free plan, with a crypto delegation and a
    /// token of `version` for the demo agent; returns `(token, delegation, paymentRequired)`.
    pub fn subscribed(&self, version: u8) -> (String, String, Value) {
        let (subscriber, plan) = (self.key("subscriber"), self.free_plan());
        self.order(&subscriber, &plan);
        let delegation = self.crypto_delegation(&subscriber);
        let token = self.mint_for(
            &subscriber,
            &plan,
            "nvm:erc4337",
            "eip155:84532",
            &delegation,
            version,
        );
        let required = self.payment_required(
            &plan,
            "nvm:erc4337",
            "eip155:84532",
            &self.agent_url(),
            "POST",
        );
        (token, delegation, required)
    }

    /// Asserts an error envelope with this code and status.
    pub fn expect_error(&self, (status, body): (u16, Value), code: &str) -> Value {
        assert_eq!(body["code"], code, "expected {code}, got {status} {body}");
        assert_eq!(
            u64::from(status),
            body["httpStatus"].as_u64().unwrap(),
            "{body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert!((400..600).contains(&status), "{status}");
        body
    }

    /// An `nvm_x402::Payments` client for this server.
    pub fn client(&self, key: &str) -> Payments<HttpTransport> {
        let options = PaymentsOptions {
            nvm_api_key: Some(key.to_owned()),
            backend_url: Some(format!("{}/", self.server.url())),
            ..Default::default()
        };
        Payments::new(
            &options,
            HttpTransport {
                agent: self.agent.clone(),
            },
        )
        .expect("a valid client config")
    }

    /// Creates an account; returns `(address, apiKey)`.
    pub fn new_account(&self, name: &str) -> (String, String) {
        let (status, body) = self.call(
            "POST",
            "local/v1/accounts",
            None,
            Some(&json!({"name": name})),
        );
        assert_eq!(status, 201, "{body}");
        (
            body["address"].as_str().unwrap().to_owned(),
            body["apiKey"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a delegation; returns its id.
    pub fn delegation(&self, key: &str, body: Value) -> String {
        let (status, answer) =
            self.call("POST", "api/v1/delegation/create", Some(key), Some(&body));
        assert_eq!(status, 201, "{answer}");
        answer["delegationId"].as_str().unwrap().to_owned()
    }

    /// An erc4337 delegation for a day.
    pub fn crypto_delegation(&self, key: &str) -> String {
        self.delegation(
            key,
            json!({"provider": "erc4337", "spendingLimitCents": 10_000, "durationSecs": 86_400}),
        )
    }

    /// A card delegation with the account's test card.
    pub fn card_delegation(&self, key: &str, limit_cents: u64) -> String {
        let (_, methods) = self.call(
            "GET",
            "api/v1/payment-methods?provider=stripe",
            Some(key),
            None,
        );
        let card = methods[0]["id"].as_str().expect("a seeded card").to_owned();
        self.delegation(key, json!({"provider": "stripe", "providerPaymentMethodId": card, "spendingLimitCents": limit_cents, "durationSecs": 86_400}))
    }

    /// Mints a token; returns it.
    pub fn mint(&self, key: &str, body: Value) -> String {
        let (status, answer) = self.call("POST", "api/v1/x402/permissions", Some(key), Some(&body));
        assert_eq!(status, 201, "{answer}");
        answer["accessToken"].as_str().unwrap().to_owned()
    }

    /// Mints a token for the seeded agent's endpoint.
    pub fn mint_for(
        &self,
        key: &str,
        plan: &str,
        scheme: &str,
        network: &str,
        delegation: &str,
        version: u8,
    ) -> String {
        let mut body = json!({
            "accepted": {"scheme": scheme, "network": network, "planId": plan, "extra": {"agentId": self.agent_id(), "httpVerb": "POST"}},
            "delegationConfig": {"delegationId": delegation},
            "tokenVersion": version,
        });
        if version == 3 {
            body["resource"] = json!({"url": self.agent_url()});
        }
        self.mint(key, body)
    }

    /// The PaymentRequired the seeded agent's gate would send for `verb url`.
    pub fn payment_required(
        &self,
        plan: &str,
        scheme: &str,
        network: &str,
        url: &str,
        verb: &str,
    ) -> Value {
        json!({
            "x402Version": 2,
            "resource": {"url": url},
            "accepts": [{"scheme": scheme, "network": network, "planId": plan, "extra": {"version": "1", "agentId": self.agent_id(), "httpVerb": verb}}],
            "extensions": {},
        })
    }

    /// Verify or settle (`what`) with the builder's key.
    pub fn facilitate(
        &self,
        what: &str,
        required: &Value,
        token: &str,
        max_amount: &str,
    ) -> (u16, Value) {
        let body =
            json!({"paymentRequired": required, "x402AccessToken": token, "maxAmount": max_amount});
        self.call(
            "POST",
            &format!("api/v1/x402/{what}"),
            Some(&self.key("builder")),
            Some(&body),
        )
    }

    /// The balance of `holder` on `plan`, as a number.
    pub fn balance(&self, plan: &str, holder: &str) -> u64 {
        let (status, body) = self.call(
            "GET",
            &format!("api/v1/protocol/plans/{plan}/balance/{holder}"),
            None,
            None,
        );
        assert_eq!(status, 200, "{body}");
        body["balance"].as_str().unwrap().parse().unwrap()
    }
}

/// `nvm_x402`'s transport over a blocking HTTP client (for `Payments`).
pub struct HttpTransport {
    agent: ureq::Agent,
}

impl Transport for HttpTransport {
    async fn send(&self, request: HttpRequest) -> nvm_x402::Result<HttpResponse> {
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let (status, _, body) = send(
            &self.agent,
            request.method,
            &request.url,
            &headers,
            request.body.as_deref().map(str::as_bytes),
        );
        Ok(HttpResponse { status, body })
    }

    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    fn random_u64(&self) -> u64 {
        u64::from_le_bytes(nvm_local::ids::random_bytes::<8>())
    }
}

/// Runs a client future to completion (the transport is blocking, so nothing waits).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}
