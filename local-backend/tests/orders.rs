//! Card orders: an organization's staff creates them (idempotently per key),
//! anyone with the id reads them (throttled per IP), the confirmation page
//! pays, declines or disputes them on a click posted from itself, the merchant
//! refunds them; every bad input is a code and changes nothing.

mod common;
use common::*;
use serde_json::{json, Value};

/// `POST api/v1/orders` with `key`: `(status, replayed, body)`.
fn create(local: &Local, key: &str, body: &Value) -> (u16, bool, Value) {
    let auth = format!("Bearer {key}");
    let (status, headers, text) = send(
        &local.agent,
        "POST",
        &local.url("api/v1/orders"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", auth.as_str()),
        ],
        Some(body.to_string().as_bytes()),
    );
    let replayed = headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    (status, replayed, serde_json::from_str(&text).unwrap())
}

/// A new order of the builder (the demo organization's Admin): `(id, clientSecret)`.
fn new_order(local: &Local, amount: u64) -> (String, String) {
    let (status, _, body) = create(
        local,
        &local.key("builder"),
        &json!({"amountMinor": amount}),
    );
    assert_eq!(status, 201, "{body}");
    (text(&body["orderId"]), text(&body["clientSecret"]))
}

fn read(local: &Local, id: &str) -> (u16, Value) {
    local.call("GET", &format!("api/v1/orders/{id}"), None, None)
}

/// An HTTP agent that hands redirects back instead of following them.
fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into()
}

/// The confirmation form posted as the page posts it (`origin`: its `Origin` header).
fn post_form(
    local: &Local,
    origin: Option<&str>,
    form: &str,
    json: bool,
) -> (u16, ureq::http::HeaderMap, String) {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(origin) = origin {
        headers.push(("Origin", origin));
    }
    if json {
        headers.push(("Accept", "application/json"));
    }
    send(
        &no_redirects(),
        "POST",
        &local.url("orders/confirm"),
        &headers,
        Some(form.as_bytes()),
    )
}

/// Presses a button of the page (`action`) as a click on the page itself: the answer as JSON.
fn press(local: &Local, secret: &str, action: &str) -> (u16, Value) {
    let origin = local.server.url();
    let (status, _, text) = post_form(
        local,
        Some(&origin),
        &format!("clientSecret={secret}&action={action}"),
        true,
    );
    (status, serde_json::from_str(&text).unwrap())
}

fn refund(local: &Local, key: &str, id: &str, body: Option<Value>) -> (u16, Value) {
    local.call(
        "POST",
        &format!("local/v1/orders/{id}/refund"),
        Some(key),
        body.as_ref(),
    )
}

#[test]
fn an_order_goes_from_requires_payment_to_paid_and_a_retry_answers_the_same_order() {
    let local = Local::start();
    let builder = local.key("builder");
    let body = json!({"amountMinor": 3437, "description": "Cart <3 items>", "buyerRef": "cart-9", "idempotencyKey": "idem-1", "lineItems": [{"sku": "A"}], "metadata": {"channel": "web"}});
    let (status, replayed, created) = create(&local, &builder, &body);
    assert_eq!((status, replayed), (201, false), "{created}");
    assert_eq!(created["status"], "requires_payment");
    let (id, secret) = (text(&created["orderId"]), text(&created["clientSecret"]));
    assert!(
        id.starts_with("ord_") && secret.contains("_secret_"),
        "{created}"
    );
    // The same key: the same order, whatever else the retry says.
    let retry = json!({"amountMinor": 3437, "idempotencyKey": "idem-1", "description": "ignored"});
    let (status, replayed, again) = create(&local, &builder, &retry);
    assert_eq!((status, replayed, &again), (201, true, &created));
    // Another amount under it: the conflict code, and nothing new.
    let (status, _, conflict) = create(
        &local,
        &builder,
        &json!({"amountMinor": 5000, "idempotencyKey": "idem-1"}),
    );
    local.expect_error((status, conflict), "BCK.ORDER.0007");

    // Anyone with the id reads the buyer's view, without a key.
    let (status, order) = read(&local, &id);
    assert_eq!(status, 200, "{order}");
    assert_eq!(
        order,
        json!({"id": id, "amountMinor": 3437, "currency": "usd", "status": "requires_payment", "amountRefundedMinor": 0, "description": "Cart <3 items>", "buyerRef": "cart-9", "paymentIntentId": order["paymentIntentId"], "expiresAt": null, "clientSecret": secret})
    );
    assert!(text(&order["paymentIntentId"]).starts_with("pi_local_"));

    // The page shows the amount, who asks, and its buttons; the description is escaped.
    let (status, headers, page) = send(
        &local.agent,
        "GET",
        &local.url(&format!("orders/confirm?clientSecret={secret}")),
        &[],
        None,
    );
    assert_eq!(status, 200, "{page}");
    for needle in [
        "data-status=\"requires_payment\"",
        "$34.37",
        "Demo organization",
        "Cart &lt;3 items&gt;",
        "value=\"pay\"",
        "value=\"decline\"",
    ] {
        assert!(page.contains(needle), "{needle}: {page}");
    }
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));

    // A click posted from the page: paid, and the buyer goes back with the outcome.
    let back = "http://localhost:5173/shop?cart=9";
    let (status, headers, _) = post_form(
        &local,
        Some(&local.server.url()),
        &format!("clientSecret={secret}&action=pay&returnUrl=http%3A%2F%2Flocalhost%3A5173%2Fshop%3Fcart%3D9"),
        false,
    );
    assert_eq!(status, 303);
    let location = headers["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!(
            "{back}&payment_intent={}&redirect_status=succeeded",
            text(&order["paymentIntentId"])
        )
    );
    let (_, paid) = read(&local, &id);
    assert_eq!(paid["status"], "paid");
    assert!(
        paid.get("clientSecret").is_none(),
        "no secret once paid: {paid}"
    );
    // Paying again changes nothing; declining a paid order is refused.
    assert_eq!(
        press(&local, &secret, "pay"),
        (200, json!({"orderId": id, "status": "paid"}))
    );
    local.expect_error(press(&local, &secret, "decline"), "BCK.ORDER.0900");
    // The retry now answers the paid order, without its secret.
    let (_, replayed, again) = create(&local, &builder, &retry);
    assert_eq!(
        (replayed, again),
        (true, json!({"orderId": id, "status": "paid"}))
    );
}

#[test]
fn refunds_are_the_merchants_and_disputes_and_declines_the_pages() {
    let local = Local::start();
    let (builder, subscriber) = (local.key("builder"), local.key("subscriber"));
    let (id, secret) = new_order(&local, 3000);
    // Nothing to refund before it is paid; a dispute needs a payment too.
    local.expect_error(refund(&local, &builder, &id, None), "BCK.ORDER.0900");
    local.expect_error(press(&local, &secret, "dispute"), "BCK.ORDER.0900");
    press(&local, &secret, "pay");
    // Only the merchant's staff refunds.
    local.expect_error(refund(&local, &subscriber, &id, None), "BCK.ORDER.0901");
    let (status, partly) = refund(&local, &builder, &id, Some(json!({"amountMinor": 1000})));
    assert_eq!(status, 200, "{partly}");
    assert_eq!(
        (&partly["status"], &partly["amountRefundedMinor"]),
        (&json!("partially_refunded"), &json!(1000))
    );
    for too_much in [json!({"amountMinor": 2001}), json!({"amountMinor": 0})] {
        local.expect_error(
            refund(&local, &builder, &id, Some(too_much)),
            "BCK.ORDER.0001",
        );
    }
    local.expect_error(
        refund(&local, &builder, &id, Some(json!({"amount": 1}))),
        "BCK.ORDER.0001",
    );
    // The rest: refunded, and final.
    let (status, full) = refund(&local, &builder, &id, None);
    assert_eq!(status, 200, "{full}");
    assert_eq!(
        (&full["status"], &full["amountRefundedMinor"]),
        (&json!("refunded"), &json!(3000))
    );
    assert_eq!(read(&local, &id).1, full);
    local.expect_error(refund(&local, &builder, &id, None), "BCK.ORDER.0900");
    local.expect_error(press(&local, &secret, "dispute"), "BCK.ORDER.0900");

    // Declined: failed, and never payable again.
    let (declined, secret) = new_order(&local, 500);
    let (status, headers, _) = post_form(
        &local,
        Some(&local.server.url()),
        &format!("clientSecret={secret}&action=decline&returnUrl=http://127.0.0.1:9/back"),
        false,
    );
    assert_eq!(status, 303);
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .ends_with("&redirect_status=failed"));
    assert_eq!(read(&local, &declined).1["status"], "failed");
    local.expect_error(press(&local, &secret, "pay"), "BCK.ORDER.0900");

    // Disputed after a payment (by the card's bank, on the page).
    let (disputed, secret) = new_order(&local, 700);
    press(&local, &secret, "pay");
    assert_eq!(
        press(&local, &secret, "dispute"),
        (200, json!({"orderId": disputed, "status": "disputed"}))
    );
    local.expect_error(refund(&local, &builder, &disputed, None), "BCK.ORDER.0900");
    // A dispute going back to the shop is not reported as a success.
    let (_, secret) = new_order(&local, 800);
    press(&local, &secret, "pay");
    let (status, headers, _) = post_form(
        &local,
        Some(&local.server.url()),
        &format!("clientSecret={secret}&action=dispute&returnUrl=http://127.0.0.1:9/back"),
        false,
    );
    assert_eq!(status, 303);
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .ends_with("&redirect_status=failed"));
}

#[test]
fn every_bad_input_is_a_code_and_creates_nothing() {
    let local = Local::start();
    let (builder, subscriber) = (local.key("builder"), local.key("subscriber"));
    for body in [
        json!({}),
        json!({"amountMinor": 99, "idempotencyKey": "k"}),
        json!({"amountMinor": 100_000_000, "idempotencyKey": "k"}),
        json!({"amountMinor": 34.37, "idempotencyKey": "k"}),
        json!({"amountMinor": "3437", "idempotencyKey": "k"}),
        json!({"amountMinor": 500, "currency": "eur", "idempotencyKey": "k"}),
        json!({"amountMinor": 500, "idempotencyKey": "k", "amount": 500}),
        json!({"amountMinor": 500, "idempotencyKey": "k", "lineItems": [1]}),
        json!({"amountMinor": 500, "idempotencyKey": "k".repeat(256)}),
        json!({"amountMinor": 500, "idempotencyKey": "k", "captureMode": "manual"}),
        json!([]),
    ] {
        let (status, _, answer) = create(&local, &builder, &body);
        local.expect_error((status, answer), "BCK.ORDER.0001");
    }
    let (status, answer) = local.call_raw("POST", "api/v1/orders", Some(&builder), Some(b"{"));
    local.expect_error((status, answer), "BCK.ORDER.0001");
    // A personal account, no key, a forged key.
    let (status, _, answer) = create(
        &local,
        &subscriber,
        &json!({"amountMinor": 500, "idempotencyKey": "k"}),
    );
    local.expect_error((status, answer), "BCK.ORDER.0003");
    let (status, answer) = local.call(
        "POST",
        "api/v1/orders",
        None,
        Some(&json!({"amountMinor": 500})),
    );
    local.expect_error((status, answer), "BCK.APIKEY.0004");
    // None of those left an order behind: the key is still free (a new order, no conflict).
    let (status, replayed, fresh) = create(
        &local,
        &builder,
        &json!({"amountMinor": 500, "idempotencyKey": "k"}),
    );
    assert_eq!((status, replayed), (201, false), "{fresh}");
    // Keys are the organization's: another organization's same key is another order.
    local.call(
        "POST",
        "local/v1/organizations",
        None,
        Some(&json!({"name": "Shop", "admin": "subscriber"})),
    );
    let (status, replayed, other) = create(
        &local,
        &subscriber,
        &json!({"amountMinor": 500, "idempotencyKey": "k"}),
    );
    assert_eq!((status, replayed), (201, false), "{other}");
    assert_ne!(other["orderId"], fresh["orderId"]);

    // Unknown orders and secrets.
    local.expect_error(read(&local, "ord_nope"), "BCK.ORDER.0002");
    local.expect_error(refund(&local, &builder, "ord_nope", None), "BCK.ORDER.0002");
    local.expect_error(press(&local, "pi_nope_secret_x", "pay"), "BCK.ORDER.0002");
    let secret = text(&fresh["clientSecret"]);
    local.expect_error(press(&local, &secret, "steal"), "BCK.ORDER.0001");
    local.expect_error(press(&local, "", "pay"), "BCK.ORDER.0001");
    for (query, code, status) in [
        ("clientSecret=pi_nope_secret_x", "BCK.ORDER.0002", 404),
        ("", "BCK.ORDER.0001", 400),
        (
            &*format!("clientSecret={secret}&returnUrl=https://evil.example/"),
            "BCK.ORDER.0001",
            400,
        ),
    ] {
        let (got, _, page) = send(
            &local.agent,
            "GET",
            &local.url(&format!("orders/confirm?{query}")),
            &[],
            None,
        );
        assert_eq!(got, status, "{query}: {page}");
        assert!(
            page.contains("data-status=\"error\"") && page.contains(code),
            "{query}: {page}"
        );
    }

    // A form posted from elsewhere (another origin, or no sign of where) is refused: still payable.
    for origin in [Some("http://evil.example"), Some("null"), None] {
        let (status, _, page) = post_form(
            &local,
            origin,
            &format!("clientSecret={secret}&action=pay"),
            false,
        );
        assert_eq!(status, 403, "{origin:?}");
        assert!(page.contains("BCK.ORDER.0902"), "{page}");
    }
    let (status, _, page) = send(
        &local.agent,
        "POST",
        &local.url("orders/confirm"),
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(format!("clientSecret={secret}&action=pay").as_bytes()),
    );
    assert_eq!(status, 403, "{page}");
    // A browser's same-origin post without an Origin header is the page's own.
    let (status, _, _) = send(
        &no_redirects(),
        "POST",
        &local.url("orders/confirm"),
        &[
            ("Sec-Fetch-Site", "same-origin"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(format!("clientSecret={secret}&action=decline").as_bytes()),
    );
    assert_eq!(status, 303);
    assert_eq!(read(&local, &text(&fresh["orderId"])).1["status"], "failed");
}

#[test]
fn reads_are_throttled_per_minute_without_a_catalogue_code() {
    let local = Local::start();
    let (id, _) = new_order(&local, 100);
    // The minute's allowance from its start (the clock is nvm-local's).
    let (_, now) = local.call(
        "POST",
        "local/v1/clock/advance",
        None,
        Some(&json!({"seconds": 0})),
    );
    let into_minute = now["nowMs"].as_u64().unwrap() % 60_000;
    local.call(
        "POST",
        "local/v1/clock/advance",
        None,
        Some(&json!({"seconds": (60_000 - into_minute) / 1000 + 1})),
    );
    for _ in 0..nvm_local::orders::READS_PER_MINUTE {
        assert_eq!(read(&local, &id).0, 200);
    }
    let (status, headers, body) = send(
        &local.agent,
        "GET",
        &local.url(&format!("api/v1/orders/{id}")),
        &[],
        None,
    );
    assert_eq!(status, 429, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"statusCode": 429, "message": "ThrottlerException: Too Many Requests"})
    );
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 60
    );
    // Unknown ids count too (guessing is throttled), and the next minute starts over.
    assert_eq!(read(&local, "ord_guess").0, 429);
    local.call(
        "POST",
        "local/v1/clock/advance",
        None,
        Some(&json!({"seconds": 60})),
    );
    assert_eq!(read(&local, &id).0, 200);
}

#[test]
fn the_rust_client_creates_and_reads_orders() {
    let local = Local::start();
    let merchant = local.client(&local.key("builder"));
    let run = |pending: nvm_x402::payments::Pending<'_, HttpTransport>| {
        pollster::block_on(pending.send()).map(serde_json::Value::from)
    };
    let options =
        nvm_x402::json!({"amountMinor": 1250, "idempotencyKey": "rust-1", "description": "Tea"});
    let created = run(merchant.create_order(&options)).unwrap();
    assert_eq!(run(merchant.create_order(&options)).unwrap(), created);
    let id = text(&created["orderId"]);
    // getOrder sends no key: a buyer's client of another account reads it the same.
    let buyer = local.client(&local.key("subscriber"));
    let order = run(buyer.get_order(&id)).unwrap();
    assert_eq!(
        (&order["amountMinor"], &order["status"]),
        (&json!(1250), &json!("requires_payment"))
    );
    assert_eq!(run(merchant.get_order(&id)).unwrap(), order);
    let e = run(buyer.get_order("ord_missing")).unwrap_err();
    assert_eq!(
        (e.code().as_ref(), e.http_status()),
        ("BCK.ORDER.0002", Some(404))
    );
    let e = run(buyer.create_order(&nvm_x402::json!({"amountMinor": 1250}))).unwrap_err();
    assert_eq!(e.code(), "BCK.ORDER.0003");
    let e =
        run(merchant
            .create_order(&nvm_x402::json!({"amountMinor": 9999, "idempotencyKey": "rust-1"})))
        .unwrap_err();
    assert_eq!(
        (e.code().as_ref(), e.http_status()),
        ("BCK.ORDER.0007", Some(409))
    );
}
