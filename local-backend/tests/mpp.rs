//! MPP (`api/v1/mpp/*`): mint, challenge, verify and settle against a real
//! nvm-local, with credentials built as the official SDK's `buildCredentialHeader`
//! builds them (the challenge header parsed, `request` and `opaque` passed through).

mod common;
use common::*;
use nvm_local::{Config, Server};
use nvm_x402::protocol::base64;
use serde_json::{json, Value};

const REJECTED: &str = "BCK.MPP.0003";
const EXPIRED: &str = "BCK.MPP.0004";
const DIGEST: &str = "BCK.MPP.0005";

/// The auth-params of a `Payment k="v", ...` challenge, unescaped (mppx's `\\` and `\"`).
fn parse_challenge(header: &str) -> Vec<(String, String)> {
    let rest = header
        .strip_prefix("Payment ")
        .expect("a Payment challenge");
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || *c == ' ') {
            chars.next();
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            return params;
        }
        assert_eq!(chars.next(), Some('"'), "{header}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().unwrap()),
                '"' => break,
                c => value.push(c),
            }
        }
        params.push((name, value));
    }
}

fn decode_json(b64url: &str) -> Value {
    serde_json::from_slice(&base64::decode(b64url).unwrap()).unwrap()
}

/// The credential for a challenge header and a token, as the official SDK builds it.
fn credential(challenge: &str, token: &str) -> String {
    let fields: serde_json::Map<String, Value> = parse_challenge(challenge)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    credential_of(&json!({"challenge": fields, "payload": {"accessToken": token}}))
}

fn credential_of(wire: &Value) -> String {
    format!(
        "Payment {}",
        base64::encode_url(wire.to_string().as_bytes())
    )
}

/// What the tests share: a server, the subscriber's MPP and x402 tokens for the demo agent.
struct Mpp {
    local: Local,
    plan: String,
    subscriber: String,
    mpp_token: String,
    x402_token: String,
    required: Value,
}

impl Mpp {
    fn start() -> Mpp {
        Mpp::on(Local::start())
    }

    fn on(local: Local) -> Mpp {
        let (x402_token, delegation, required) = local.subscribed(2);
        let plan = local.free_plan();
        let mpp_token = mint_mpp(&local, &local.key("subscriber"), &plan, &delegation);
        Mpp {
            subscriber: local.address("subscriber"),
            local,
            plan,
            mpp_token,
            x402_token,
            required,
        }
    }

    fn builder(&self) -> String {
        self.local.key("builder")
    }

    fn balance(&self) -> u64 {
        self.local.balance(&self.plan, &self.subscriber)
    }

    /// The challenge body for the demo agent's endpoint.
    fn challenge_body(&self, credits: &str) -> Value {
        json!({"planId": self.plan, "credits": credits, "resource": self.local.agent_url(), "httpVerb": "POST", "agentId": self.local.agent_id()})
    }

    fn challenge_with(&self, key: &str, body: &Value) -> (u16, Value) {
        self.local
            .call("POST", "api/v1/mpp/challenge", Some(key), Some(body))
    }

    /// A challenge for 1 credit; returns the header value.
    fn challenge(&self) -> String {
        let (status, answer) = self.challenge_with(&self.builder(), &self.challenge_body("1"));
        assert_eq!(status, 201, "{answer}");
        text(&answer["challenge"])
    }

    fn redeem_with(&self, what: &str, key: &str, body: &Value) -> (u16, Value) {
        self.local
            .call("POST", &format!("api/v1/mpp/{what}"), Some(key), Some(body))
    }

    /// Verify or settle a credential for the demo agent's endpoint, with the builder's key.
    fn redeem(&self, what: &str, credential: &str) -> (u16, Value) {
        let body = json!({"credential": credential, "resource": self.local.agent_url(), "httpVerb": "POST"});
        self.redeem_with(what, &self.builder(), &body)
    }

    fn advance(&self, seconds: u64) {
        let (status, body) = self.local.call(
            "POST",
            "local/v1/clock/advance",
            None,
            Some(&json!({ "seconds": seconds })),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// Asserts an MPP refusal, and that every 0003 says the same thing.
    fn refused(&self, answer: (u16, Value), code: &str) {
        let body = self.local.expect_error(answer, code);
        assert_eq!(
            body["httpStatus"],
            json!(if code == "BCK.MPP.0002" { 503 } else { 400 })
        );
        if code == REJECTED {
            assert_eq!(body["message"], "MPP credential rejected", "{body}");
        }
    }
}

fn mint_mpp(local: &Local, key: &str, plan: &str, delegation: &str) -> String {
    let body = json!({
        "accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": plan, "extra": {"agentId": local.agent_id(), "httpVerb": "POST"}},
        "delegationConfig": {"delegationId": delegation},
    });
    let (status, answer) = local.call("POST", "api/v1/mpp/permissions", Some(key), Some(&body));
    assert_eq!(status, 201, "{answer}");
    text(&answer["accessToken"])
}

#[test]
fn mint_challenge_verify_settle_burns_the_challenges_credits() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let (status, answer) = mpp.challenge_with(
        &mpp.builder(),
        &json!({"planId": mpp.plan, "credits": "1", "resource": mpp.local.agent_url(), "httpVerb": "post", "agentId": mpp.local.agent_id(), "description": "One \"quoted\", answer"}),
    );
    assert_eq!(status, 201, "{answer}");
    let header = text(&answer["challenge"]);
    let params = parse_challenge(&header);
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "realm",
            "method",
            "intent",
            "request",
            "expires",
            "description",
            "opaque"
        ]
    );
    let get = |name: &str| params.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(get("id"), text(&answer["id"]));
    assert_eq!(get("realm"), mpp.local.server.addr().to_string());
    assert_eq!(
        (get("method").as_str(), get("intent").as_str()),
        ("nevermined", "charge")
    );
    assert_eq!(get("description"), "One \"quoted\", answer");
    assert!(
        header.contains(r#"description="One \"quoted\", answer""#),
        "{header}"
    );
    // request: JCS (sorted keys, no spaces), unpadded base64url.
    let request = String::from_utf8(base64::decode(&get("request")).unwrap()).unwrap();
    assert_eq!(
        request,
        format!(
            r#"{{"agentId":"{}","credits":"1","planId":"{}"}}"#,
            mpp.local.agent_id(),
            mpp.plan
        )
    );
    let opaque = decode_json(&get("opaque"));
    assert_eq!(
        opaque["_mppx_scope"],
        json!(format!("POST {}", mpp.local.agent_url()))
    );
    assert_eq!(opaque["nonce"].as_str().unwrap().len(), 36);
    let expires = get("expires");
    assert!(expires.ends_with('Z') && expires.len() == 24, "{expires}");
    for b64 in [get("id"), get("request"), get("opaque")] {
        assert!(!b64.contains(['=', '+', '/']), "{b64}");
    }

    let credential = credential(&header, &mpp.mpp_token);
    let (status, verified) = mpp.redeem("verify", &credential);
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["isValid"], true);
    assert_eq!(verified["payer"], json!(mpp.subscriber));
    assert!(verified["agentRequestId"].is_string());
    assert_eq!(mpp.balance(), before, "verify burns nothing");

    let (status, settled) = mpp.redeem("settle", &credential);
    assert_eq!(status, 200, "{settled}");
    assert_eq!(settled["success"], true);
    assert_eq!(settled["creditsRedeemed"], "1");
    assert_eq!(settled["remainingBalance"], json!((before - 1).to_string()));
    assert_eq!(settled["payer"], json!(mpp.subscriber));
    assert!(text(&settled["transaction"]).starts_with("0x"));
    assert_eq!(mpp.balance(), before - 1);
    let receipt = decode_json(&text(&settled["paymentReceipt"]));
    let keys: Vec<&String> = receipt.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["method", "reference", "status", "timestamp"]);
    assert_eq!(
        (
            &receipt["method"],
            &receipt["reference"],
            &receipt["status"]
        ),
        (&json!("nevermined"), &answer["id"], &json!("success"))
    );
    assert!(text(&receipt["timestamp"]).ends_with('Z'));
}

#[test]
fn settling_a_challenge_twice_burns_once_and_answers_the_same_marked_replayed() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let credential = credential(&mpp.challenge(), &mpp.mpp_token);
    let (status, first) = mpp.redeem("settle", &credential);
    assert_eq!(status, 200, "{first}");
    let (status, second) = mpp.redeem("settle", &credential);
    assert_eq!(first.get("replayed"), None);
    // The same answer, said to be a replay: the seller must not deliver again for it.
    let mut replayed = first.clone();
    replayed["replayed"] = json!(true);
    assert_eq!((status, &second), (200, &replayed));
    assert_eq!(mpp.balance(), before - 1);
    // The same challenge in another spelling (keys reordered, scheme in lower case) is the same settlement.
    let token68 = credential.strip_prefix("Payment ").unwrap();
    let mut wire = decode_json(token68);
    wire["challenge"]["description"] = json!("ignored");
    let respelled = credential_of(&wire).replace("Payment ", "payment ");
    assert_eq!(mpp.redeem("settle", &respelled), (200, replayed.clone()));
    // A padded id is not another id (it would be another idempotency key): refused.
    let mut padded = wire.clone();
    padded["challenge"]["id"] = json!(format!("{}=", text(&wire["challenge"]["id"])));
    mpp.refused(mpp.redeem("settle", &credential_of(&padded)), REJECTED);
    // A settled challenge no longer verifies: it bought its response, whichever seller asks.
    mpp.refused(mpp.redeem("verify", &credential), REJECTED);
    // Expired, a settled challenge still answers its settlement (idempotency wins), burning nothing.
    mpp.advance(301);
    assert_eq!(mpp.redeem("settle", &credential), (200, replayed));
    mpp.refused(mpp.redeem("verify", &credential), REJECTED);
    assert_eq!(mpp.balance(), before - 1);
}

#[test]
fn identical_challenges_get_distinct_ids_and_each_settles() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let (a, b) = (mpp.challenge(), mpp.challenge());
    let id = |h: &str| parse_challenge(h)[0].1.clone();
    assert_ne!(id(&a), id(&b));
    for header in [&a, &b] {
        let (status, settled) = mpp.redeem("settle", &credential(header, &mpp.mpp_token));
        assert_eq!(status, 200, "{settled}");
    }
    assert_eq!(mpp.balance(), before - 2);
}

#[test]
fn forged_or_misdirected_credentials_are_refused_with_one_code() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let header = mpp.challenge();
    let good = credential(&header, &mpp.mpp_token);
    let wire = decode_json(good.strip_prefix("Payment ").unwrap());
    // More credits in the sealed request, the id kept: forged.
    let mut forged = wire.clone();
    let mut request = decode_json(&text(&wire["challenge"]["request"]));
    request["credits"] = json!("2");
    forged["challenge"]["request"] = json!(base64::encode_url(request.to_string().as_bytes()));
    // Another scope (resource), a later expiry, another realm: each breaks the HMAC.
    let mut rescoped = wire.clone();
    let scope =
        json!({"_mppx_scope": "POST /other", "nonce": "11111111-2222-3333-4444-555555555555"});
    rescoped["challenge"]["opaque"] = json!(base64::encode_url(scope.to_string().as_bytes()));
    let mut later = wire.clone();
    later["challenge"]["expires"] = json!("2999-01-01T00:00:00.000Z");
    let mut realm = wire.clone();
    realm["challenge"]["realm"] = json!("api.nevermined.app");
    let mut moved = wire.clone(); // a field boundary moved: expires + "|" and no digest
    moved["challenge"]["expires"] = json!(format!("{}|", text(&wire["challenge"]["expires"])));
    for bad in [&forged, &rescoped, &later, &realm, &moved] {
        for what in ["verify", "settle"] {
            mpp.refused(mpp.redeem(what, &credential_of(bad)), REJECTED);
        }
    }
    for garbage in [
        "Payment",
        "Payment !!",
        "Bearer abc",
        &format!("Payment {}", base64::encode_url(b"{}")),
    ] {
        mpp.refused(mpp.redeem("settle", garbage), REJECTED);
    }
    // The real credential for another resource or verb.
    let other_resource = json!({"credential": good, "resource": format!("{}/other", mpp.local.agent_url()), "httpVerb": "POST"});
    let other_verb =
        json!({"credential": good, "resource": mpp.local.agent_url(), "httpVerb": "GET"});
    for body in [&other_resource, &other_verb] {
        for what in ["verify", "settle"] {
            mpp.refused(mpp.redeem_with(what, &mpp.builder(), body), REJECTED);
        }
    }
    assert_eq!(mpp.balance(), before, "nothing was burned");
    // The real one still works.
    assert_eq!(mpp.redeem("settle", &good).0, 200);
}

#[test]
fn expired_challenges_are_refused_with_0004() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let credential = credential(&mpp.challenge(), &mpp.mpp_token);
    mpp.advance(299);
    assert_eq!(mpp.redeem("verify", &credential).0, 200);
    mpp.advance(2);
    for what in ["verify", "settle"] {
        mpp.refused(mpp.redeem(what, &credential), EXPIRED);
    }
    assert_eq!(mpp.balance(), before);
}

#[test]
fn a_challenge_bound_to_a_body_needs_its_digest() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let digest = format!("sha-256={}", base64::encode_standard(&[1u8; 32]));
    let other = format!("sha-256={}", base64::encode_standard(&[2u8; 32]));
    let mut body = mpp.challenge_body("1");
    body["digest"] = json!(digest);
    let (status, answer) = mpp.challenge_with(&mpp.builder(), &body);
    assert_eq!(status, 201, "{answer}");
    let header = text(&answer["challenge"]);
    assert!(header.contains(&format!("digest=\"{digest}\"")), "{header}");
    let credential = credential(&header, &mpp.mpp_token);
    let with = |digest: Option<&str>| {
        let mut b = json!({"credential": credential, "resource": mpp.local.agent_url(), "httpVerb": "POST"});
        if let Some(d) = digest {
            b["bodyDigest"] = json!(d);
        }
        b
    };
    for what in ["verify", "settle"] {
        mpp.refused(
            mpp.redeem_with(what, &mpp.builder(), &with(Some(&other))),
            DIGEST,
        );
        mpp.refused(mpp.redeem_with(what, &mpp.builder(), &with(None)), DIGEST);
    }
    assert_eq!(mpp.balance(), before);
    // Dropping the digest from the credential breaks the HMAC instead.
    let mut wire = decode_json(credential.strip_prefix("Payment ").unwrap());
    wire["challenge"].as_object_mut().unwrap().remove("digest");
    let stripped = json!({"credential": credential_of(&wire), "resource": mpp.local.agent_url(), "httpVerb": "POST"});
    mpp.refused(
        mpp.redeem_with("settle", &mpp.builder(), &stripped),
        REJECTED,
    );
    let (status, settled) = mpp.redeem_with("settle", &mpp.builder(), &with(Some(&digest)));
    assert_eq!(status, 200, "{settled}");
    assert_eq!(mpp.balance(), before - 1);
    // A malformed digest is refused when the challenge is asked for.
    body["digest"] = json!("sha-256=abc");
    mpp.local
        .expect_error(mpp.challenge_with(&mpp.builder(), &body), "BCK.COMMON.0901");
}

#[test]
fn x402_and_mpp_tokens_work_only_on_their_own_protocol() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let header = mpp.challenge();
    for what in ["verify", "settle"] {
        mpp.refused(
            mpp.redeem(what, &credential(&header, &mpp.x402_token)),
            REJECTED,
        );
    }
    let (status, verified) = mpp
        .local
        .facilitate("verify", &mpp.required, &mpp.mpp_token, "1");
    assert_eq!(
        (status, &verified["isValid"]),
        (200, &json!(false)),
        "{verified}"
    );
    assert_eq!(verified["invalidCode"], "BCK.X402.0005");
    mpp.local.expect_error(
        mpp.local
            .facilitate("settle", &mpp.required, &mpp.mpp_token, "1"),
        "BCK.X402.0005",
    );
    assert_eq!(mpp.balance(), before, "nothing was burned");
    // Each token on its own protocol.
    assert_eq!(
        mpp.local
            .facilitate("settle", &mpp.required, &mpp.x402_token, "1")
            .1["success"],
        true
    );
    assert_eq!(
        mpp.redeem("settle", &credential(&header, &mpp.mpp_token)).0,
        200
    );
    assert_eq!(mpp.balance(), before - 2);
    // The MPP mint is x402's: the same body rules.
    let body = json!({"accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": mpp.plan}});
    let subscriber = mpp.local.key("subscriber");
    mpp.local.expect_error(
        mpp.local.call(
            "POST",
            "api/v1/mpp/permissions",
            Some(&subscriber),
            Some(&body),
        ),
        "BCK.X402.0030",
    );
}

#[test]
fn only_the_plans_owner_can_challenge_verify_or_settle() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    let (_, stranger) = mpp.local.new_account("stranger");
    for key in [&stranger, &mpp.local.key("subscriber")] {
        mpp.local.expect_error(
            mpp.challenge_with(key, &mpp.challenge_body("1")),
            "BCK.X402.0909",
        );
    }
    let credential = credential(&mpp.challenge(), &mpp.mpp_token);
    let body =
        json!({"credential": credential, "resource": mpp.local.agent_url(), "httpVerb": "POST"});
    for key in [&stranger, &mpp.local.key("subscriber")] {
        for what in ["verify", "settle"] {
            mpp.refused(mpp.redeem_with(what, key, &body), REJECTED);
        }
    }
    assert_eq!(mpp.balance(), before, "nothing was burned");
    // Credits outside the plan's terms (1 per request) can't be asked for.
    mpp.local.expect_error(
        mpp.challenge_with(&mpp.builder(), &mpp.challenge_body("5")),
        "BCK.COMMON.0901",
    );
}

#[test]
fn without_funds_settle_is_refused_and_burns_nothing() {
    let mpp = Mpp::start();
    let before = mpp.balance();
    for _ in 0..before {
        let (status, settled) = mpp.redeem("settle", &credential(&mpp.challenge(), &mpp.mpp_token));
        assert_eq!(status, 200, "{settled}");
    }
    assert_eq!(mpp.balance(), 0);
    let credential = credential(&mpp.challenge(), &mpp.mpp_token);
    for what in ["verify", "settle"] {
        mpp.refused(mpp.redeem(what, &credential), REJECTED);
    }
    assert_eq!(mpp.balance(), 0);
    // A refused settle stored nothing: once the subscriber pays again, the same challenge settles.
    mpp.local.order(&mpp.local.key("subscriber"), &mpp.plan);
    let (status, settled) = mpp.redeem("settle", &credential);
    assert_eq!(
        (status, &settled["creditsRedeemed"]),
        (200, &json!("1")),
        "{settled}"
    );
}

#[test]
fn switched_off_every_mpp_endpoint_answers_0002() {
    let config = Config {
        mpp: false,
        ..Config::in_memory()
    };
    let local = Local {
        server: Server::start(config).unwrap(),
        agent: http_agent(),
    };
    for path in ["permissions", "challenge", "verify", "settle"] {
        let answer = local.call(
            "POST",
            &format!("api/v1/mpp/{path}"),
            Some(&local.key("builder")),
            Some(&json!({})),
        );
        let body = local.expect_error(answer, "BCK.MPP.0002");
        assert_eq!(body["httpStatus"], 503);
    }
    // x402 still works.
    let (token, _, required) = local.subscribed(2);
    assert_eq!(
        local.facilitate("verify", &required, &token, "1").1["isValid"],
        true
    );
}

#[test]
fn mpp_endpoints_answer_only_to_this_machines_host() {
    let mpp = Mpp::start();
    // Its own client: a refused request's body is left unread and the server
    // closes that connection, which a pooled client could pick up next.
    let probe = http_agent();
    for path in ["permissions", "challenge", "verify", "settle"] {
        let (status, _, body) = send(
            &probe,
            "POST",
            &mpp.local.url(&format!("api/v1/mpp/{path}")),
            &[
                ("Host", "attacker.example"),
                ("Content-Type", "application/json"),
            ],
            Some(b"{}"),
        );
        assert_eq!(status, 421, "{body}");
        assert!(body.contains("BCK.COMMON.0908"), "{body}");
    }
    // Reached as localhost, the realm says so.
    let port = mpp.local.server.addr().port();
    let host = format!("localhost:{port}");
    let auth = format!("Bearer {}", mpp.builder());
    let body = mpp.challenge_body("1").to_string();
    let (status, _, answer) = send(
        &mpp.local.agent,
        "POST",
        &mpp.local.url("api/v1/mpp/challenge"),
        &[
            ("Host", host.as_str()),
            ("Content-Type", "application/json"),
            ("Authorization", auth.as_str()),
        ],
        Some(body.as_bytes()),
    );
    assert_eq!(status, 201, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        parse_challenge(&text(&answer["challenge"]))[1],
        ("realm".to_owned(), host)
    );
}
