//! The embed app's card setup as nvm-local plays it: the self-mint widget
//! session (bound to the caller, the returnUrl it names, two hours, one use)
//! and the `/cards/setup` page and its click (the card, its delegation and the
//! spent session in one transaction; every bad input an error page, nothing
//! created).

mod common;
use common::*;
use serde_json::{json, Value};

const BACK: &str = "http://127.0.0.1:8080/shop?tab=pay";

fn encode(s: &str) -> String {
    nvm_x402::protocol::signin::encode_component(s)
}

/// Mints a session for `key` returning to `back`: `(status, answer)`.
fn mint(local: &Local, key: &str, body: Value) -> (u16, Value) {
    local.call(
        "POST",
        "api/v1/widgets/session/self",
        Some(key),
        Some(&body),
    )
}

fn token(local: &Local, key: &str) -> String {
    let (status, answer) = mint(local, key, json!({"returnUrl": BACK}));
    assert_eq!(status, 201, "{answer}");
    text(&answer["sessionToken"])
}

/// `GET /cards/setup?...`: `(status, html)`.
fn page(local: &Local, query: &str) -> (u16, String) {
    let (status, _, html) = send(
        &local.agent,
        "GET",
        &local.url(&format!("cards/setup?{query}")),
        &[],
        None,
    );
    (status, html)
}

fn setup_query(token: &str, back: &str) -> String {
    format!(
        "sessionToken={}&returnUrl={}&state=s1&provider=stripe&network=sandbox",
        encode(token),
        encode(back)
    )
}

/// The click: `POST /cards/setup` with the form, from the page itself unless `headers` say otherwise.
fn click(
    local: &Local,
    token: &str,
    back: &str,
    limit: &str,
    headers: &[(&str, &str)],
) -> (u16, ureq::http::HeaderMap, String) {
    let form = format!(
        "sessionToken={}&returnUrl={}&state=s1&provider=stripe&card=mastercard&limit={limit}&days=7",
        encode(token),
        encode(back)
    );
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    // A browser's click on the page says where it comes from (Origin or Sec-Fetch-Site).
    let own = local.url("");
    let own = own.trim_end_matches('/');
    if headers.is_empty() {
        all.push(("Origin", own));
    }
    all.extend_from_slice(headers);
    // The 303 is the answer: it goes to the page's server, which is not running here.
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    send(
        &no_redirects,
        "POST",
        &local.url("cards/setup"),
        &all,
        Some(form.as_bytes()),
    )
}

/// `(payment methods, delegations)` of `key`'s account.
fn counts(local: &Local, key: &str) -> (usize, usize) {
    let (_, methods) = local.call("GET", "api/v1/payment-methods", Some(key), None);
    let (_, delegations) = local.call("GET", "api/v1/delegation", Some(key), None);
    (
        methods.as_array().unwrap().len(),
        delegations.as_array().unwrap().len(),
    )
}

#[test]
fn a_session_is_minted_for_the_caller_and_says_whether_it_may_return() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let (status, answer) = mint(&local, &subscriber, json!({"returnUrl": BACK}));
    assert_eq!(status, 201, "{answer}");
    let token = text(&answer["sessionToken"]);
    assert!(token.starts_with("nws_") && token.len() > 40, "{token}");
    let address = local.address("subscriber");
    assert_eq!(answer["userWallet"], address);
    assert_eq!(answer["isReturnUrlAllowed"], true);
    assert!(answer["expiresAt"].as_str().unwrap().ends_with('Z'));
    assert!(
        !answer.to_string().contains(&subscriber),
        "the key is never in the answer"
    );
    // Another origin: minted, and said not to be allowed; no returnUrl: null.
    let (_, elsewhere) = mint(
        &local,
        &subscriber,
        json!({"returnUrl": "https://evil.example/"}),
    );
    assert_eq!(elsewhere["isReturnUrlAllowed"], false);
    assert_eq!(
        mint(&local, &subscriber, json!({})).1["isReturnUrlAllowed"],
        Value::Null
    );
    // An organization: only one the caller is a member of.
    let org = text(&local.world()["organization"]["orgId"]);
    local.expect_error(
        mint(&local, &subscriber, json!({"orgId": org})),
        "BCK.WIDGET_SESSION.0019",
    );
    assert_eq!(
        mint(&local, &local.key("builder"), json!({"orgId": org})).0,
        201
    );
    // A key is required; unknown fields are refused.
    local.expect_error(
        local.call(
            "POST",
            "api/v1/widgets/session/self",
            None,
            Some(&json!({})),
        ),
        "BCK.APIKEY.0004",
    );
    local.expect_error(
        mint(&local, &subscriber, json!({"returnUrl": BACK, "amount": 1})),
        "BCK.COMMON.0902",
    );
}

#[test]
fn the_page_shows_who_asks_for_which_account_only_for_a_usable_session() {
    let local = Local::start();
    let token = token(&local, &local.key("subscriber"));
    let (status, html) = page(&local, &setup_query(&token, BACK));
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<code>http://127.0.0.1:8080</code>"),
        "{html}"
    );
    assert!(html.contains("subscriber") && html.contains("id=\"add-card\""));
    for (query, code, status) in [
        (
            setup_query("nws_forged", BACK),
            "BCK.WIDGET_SESSION.0900",
            401,
        ),
        (
            setup_query(&token, "http://127.0.0.1:8080/elsewhere"),
            "BCK.WIDGET_SESSION.0902",
            400,
        ),
        (
            setup_query(&token, "https://evil.example/shop"),
            "BCK.AUTH.0900",
            400,
        ),
        (
            format!("sessionToken={token}&returnUrl={}", encode(BACK)),
            "BCK.COMMON.0903",
            400,
        ),
        (
            setup_query(&token, BACK).replace("provider=stripe", "provider=erc4337"),
            "BCK.COMMON.0901",
            400,
        ),
    ] {
        let (got, html) = page(&local, &query);
        assert_eq!(got, status, "{query}: {html}");
        assert!(html.contains(code), "{query}: {html}");
        assert!(!html.contains("<button"), "no way on from an error page");
    }
}

#[test]
fn the_click_adds_the_card_and_its_delegation_and_returns_with_both_once() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let token = token(&local, &subscriber);
    let before = counts(&local, &subscriber);

    let (status, headers, body) = click(
        &local,
        &token,
        BACK,
        "12.50",
        &[("Sec-Fetch-Site", "same-origin")],
    );
    assert_eq!(status, 303, "{body}");
    let location = headers["location"].to_str().unwrap();
    let back = url_query(location, BACK);
    let (card, delegation) = (&back["paymentMethodId"], &back["delegationId"]);
    assert_eq!(back["state"], "s1");
    assert_eq!(counts(&local, &subscriber), (before.0 + 1, before.1 + 1));

    let (_, methods) = local.call("GET", "api/v1/payment-methods", Some(&subscriber), None);
    let method = methods
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == card.as_str())
        .expect("the new card is listed");
    assert_eq!(
        (method["brand"].as_str(), method["last4"].as_str()),
        (Some("mastercard"), Some("4444"))
    );
    let (_, delegations) = local.call("GET", "api/v1/delegation", Some(&subscriber), None);
    let made = delegations
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["delegationId"] == delegation.as_str())
        .expect("the new delegation is listed");
    assert_eq!(
        made["spendingLimitCents"].to_string().trim_matches('"'),
        "1250"
    );
    assert_eq!(made["providerPaymentMethodId"], card.as_str());
    assert_eq!(made["status"], "active");

    // Used once: the link again is an error page, and nothing more is made.
    let (status, _, html) = click(&local, &token, BACK, "5", &[]);
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("BCK.WIDGET_SESSION.0901"));
    assert_eq!(page(&local, &setup_query(&token, BACK)).0, 409);
    assert_eq!(counts(&local, &subscriber), (before.0 + 1, before.1 + 1));
}

/// The query of `location`, which must be `base` with parameters appended.
fn url_query(location: &str, base: &str) -> std::collections::HashMap<String, String> {
    let rest = location
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("{location} is not {base}?..."));
    nvm_x402::protocol::signin::form_pairs(rest.trim_start_matches(['&', '?']))
        .into_iter()
        .collect()
}

#[test]
fn bad_clicks_create_nothing_and_leave_the_session_as_it_was() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let token = token(&local, &subscriber);
    let before = counts(&local, &subscriber);
    for (limit, headers, code, status) in [
        ("abc", &[][..], "BCK.COMMON.0901", 400),
        (
            "5",
            &[("Sec-Fetch-Site", "cross-site")][..],
            "BCK.AUTH.0901",
            403,
        ),
        (
            "5",
            &[("Origin", "http://evil.example")][..],
            "BCK.AUTH.0901",
            403,
        ),
        // Neither header: a script's request, not a click on the page.
        ("5", &[("X-Nothing", "1")][..], "BCK.AUTH.0901", 403),
    ] {
        let (got, headers, html) = click(&local, &token, BACK, limit, headers);
        assert_eq!(got, status, "{html}");
        assert!(html.contains(code), "{html}");
        assert!(headers.get("location").is_none());
    }
    let (got, _, html) = click(&local, &token, "http://127.0.0.1:8080/elsewhere", "5", &[]);
    assert_eq!(got, 400);
    assert!(html.contains("BCK.WIDGET_SESSION.0902"));
    assert_eq!(counts(&local, &subscriber), before, "nothing half-created");
    // A session minted without a returnUrl returns nowhere, not to whatever the link says.
    let (status, unbound) = mint(&local, &subscriber, json!({}));
    assert_eq!(status, 201, "{unbound}");
    let (got, _, html) = click(&local, &text(&unbound["sessionToken"]), BACK, "5", &[]);
    assert_eq!(got, 400);
    assert!(html.contains("BCK.WIDGET_SESSION.0902"));
    assert_eq!(counts(&local, &subscriber), before, "nothing half-created");
    // The session is still good for the real click.
    assert_eq!(click(&local, &token, BACK, "5", &[]).0, 303);
}

#[test]
fn an_expired_session_is_refused_with_its_own_page() {
    let local = Local::start();
    let subscriber = local.key("subscriber");
    let token = token(&local, &subscriber);
    let before = counts(&local, &subscriber);
    let (status, _) = local.call(
        "POST",
        "local/v1/clock/advance",
        None,
        Some(&json!({"seconds": 2 * 3600})),
    );
    assert_eq!(status, 200);
    let (got, html) = page(&local, &setup_query(&token, BACK));
    assert_eq!(got, 410, "{html}");
    assert!(html.contains("BCK.WIDGET_SESSION.0903") && html.contains("expired"));
    let (got, _, html) = click(&local, &token, BACK, "5", &[]);
    assert_eq!(got, 410, "{html}");
    assert_eq!(counts(&local, &subscriber), before);
}
