use super::*;
use crate::json;
use crate::protocol::PaymentsOptions;

const KEY: &str = "local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln";

fn cfg() -> ClientConfig {
    ClientConfig::from_options(&PaymentsOptions {
        nvm_api_key: Some(KEY.into()),
        ..Default::default()
    })
    .unwrap()
}

fn answer(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        body: body.to_string(),
    }
}

#[test]
fn create_sends_the_merchant_key_and_payments_pys_body() {
    let call = create_order(
        &cfg(),
        &json!({"metadata": {"unit_price": 3437}, "idempotencyKey": "idem-1", "amountMinor": 3437, "description": "Cart", "lineItems": [{"sku": "A", "quantity": 1}], "buyerRef": "cart-9", "captureMode": "automatic", "paymentProvider": "stripe"}),
    )
    .unwrap();
    let r = &call.request;
    assert_eq!(
        (r.method, r.url.as_str()),
        ("POST", "http://127.0.0.1:3001/api/v1/orders")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.header("nevermined-version"), Some("1.1"));
    // payments-py's order, currency defaulted, opaque fields as given.
    assert_eq!(
        r.body.as_deref(),
        Some(
            r#"{"amountMinor":3437,"currency":"usd","description":"Cart","buyerRef":"cart-9","idempotencyKey":"idem-1","lineItems":[{"sku":"A","quantity":1}],"metadata":{"unit_price":3437},"captureMode":"automatic","paymentProvider":"stripe"}"#
        )
    );
    // Only what is given; a bigint (a string of digits) and an upper-case currency read as payments-py's int and "usd".
    let call = create_order(&cfg(), &json!({"amountMinor": "100", "currency": "USD"})).unwrap();
    assert_eq!(
        call.request.body.as_deref(),
        Some(r#"{"amountMinor":100,"currency":"usd"}"#)
    );
}

#[test]
fn every_bad_option_is_refused_before_anything_is_sent() {
    for (options, says) in [
        (json!(null), "createOrder must be an object"),
        (json!({}), "amountMinor is required"),
        (json!({"amountMinor": 34.37}), "whole number of cents"),
        (json!({"amountMinor": 99}), "from 100"),
        (json!({"amountMinor": 100_000_000}), "to 99999999"),
        (json!({"amountMinor": -500}), "amountMinor"),
        (json!({"amountMinor": "12abc"}), "amountMinor"),
        (
            json!({"amountMinor": 500, "currency": "us dollars"}),
            "three-letter",
        ),
        (
            json!({"amountMinor": 500, "currency": 840}),
            "currency must be a string",
        ),
        (
            json!({"amountMinor": 500, "buyerRef": 7}),
            "buyerRef must be a non-blank string",
        ),
        (
            json!({"amountMinor": 500, "buyerRef": " "}),
            "buyerRef must be a non-blank string",
        ),
        (
            json!({"amountMinor": 500, "idempotencyKey": "  "}),
            "non-blank",
        ),
        (
            json!({"amountMinor": 500, "idempotencyKey": "k".repeat(256)}),
            "at most 255",
        ),
        (
            json!({"amountMinor": 500, "buyerRef": "b".repeat(256)}),
            "at most 255",
        ),
        (
            json!({"amountMinor": 500, "description": "é".repeat(1025)}),
            "at most 1024",
        ),
        (
            json!({"amountMinor": 500, "lineItems": [1]}),
            "a list of objects",
        ),
        (
            json!({"amountMinor": 500, "lineItems": {"sku": "A"}}),
            "a list of objects",
        ),
        (
            json!({"amountMinor": 500, "metadata": "x"}),
            "metadata must be an object",
        ),
        (
            json!({"amountMinor": 500, "captureMode": 1}),
            "captureMode must be a non-blank string",
        ),
        (
            json!({"amountMinor": 500, "amount": 500}),
            "unknown option \"amount\"",
        ),
    ] {
        let e = create_order(&cfg(), &options).unwrap_err();
        assert_eq!(e.code(), "validation", "{options}");
        assert!(e.to_string().contains(says), "{options}: {e}");
        assert!(!e.hint().is_empty());
    }
    // The limits themselves pass, and 1024 characters of two UTF-8 bytes each are 1024.
    for options in [
        json!({"amountMinor": 100}),
        json!({"amountMinor": 99_999_999, "description": "é".repeat(1024), "idempotencyKey": "k".repeat(255)}),
        json!({"amountMinor": 500, "description": ""}),
    ] {
        create_order(&cfg(), &options).unwrap();
    }
}

#[test]
fn get_is_anonymous_and_the_id_one_path_segment() {
    let call = get_order(&cfg(), " ord_9f2c ").unwrap();
    let r = &call.request;
    assert_eq!(
        (r.method, r.url.as_str()),
        ("GET", "http://127.0.0.1:3001/api/v1/orders/ord_9f2c")
    );
    assert_eq!(
        r.header("authorization"),
        None,
        "the id is the access: no key"
    );
    assert_eq!(r.header("nevermined-version"), Some("1.1"));
    assert_eq!(r.body, None);
    // payments-py's quote(safe=""): nothing in the id can leave the segment.
    let call = get_order(&cfg(), "a/../b?x=1#f").unwrap();
    assert_eq!(
        call.request.url,
        "http://127.0.0.1:3001/api/v1/orders/a%2F..%2Fb%3Fx%3D1%23f"
    );
    for id in ["", "  ", ".", ".."] {
        let e = get_order(&cfg(), id).unwrap_err();
        assert_eq!(e.code(), "validation", "{id:?}");
    }
}

#[test]
fn answers_pass_through_with_their_ids_and_refusals_keep_the_backend_code() {
    let created =
        json!({"orderId": "ord_1", "status": "requires_payment", "clientSecret": "pi_1_secret_2"});
    assert_eq!(parse_order(answer(201, created.clone())).unwrap(), created);
    let order = json!({"id": "ord_1", "amountMinor": 3437, "currency": "usd", "status": "paid", "amountRefundedMinor": 0, "description": null, "buyerRef": null, "paymentIntentId": "pi_1", "expiresAt": null});
    assert_eq!(parse_order(answer(200, order.clone())).unwrap(), order);
    for body in [
        json!({"status": "requires_payment"}),
        json!({"orderId": ""}),
        json!({"id": 7}),
        json!([]),
    ] {
        let e = parse_order(answer(200, body.clone())).unwrap_err();
        assert_eq!(e.code(), "invalid_response", "{body}");
    }
    for (status, body, code) in [
        (
            404,
            json!({"code": "BCK.ORDER.0002", "message": "No order exists with this id", "httpStatus": 404}),
            "BCK.ORDER.0002",
        ),
        (
            409,
            json!({"code": "BCK.ORDER.0007", "message": "Idempotency key reused with another amount", "httpStatus": 409}),
            "BCK.ORDER.0007",
        ),
        (
            403,
            json!({"code": "BCK.ORDER.0003", "message": "Order not initiated by an active organization"}),
            "BCK.ORDER.0003",
        ),
        // The read's throttle has no catalogue code (payments-py: surfaces as http_429).
        (
            429,
            json!({"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}),
            "http_429",
        ),
    ] {
        let e = parse_order(answer(status, body)).unwrap_err();
        assert_eq!((e.code().as_ref(), e.http_status()), (code, Some(status)));
        assert_eq!(e.is_retryable(), status == 429, "{code}");
    }
}
