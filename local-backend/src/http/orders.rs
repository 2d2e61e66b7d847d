//! The card orders' routes (the rules are in [`crate::orders`]): create and
//! read (`api/v1/orders`), the confirmation page that stands in for the card
//! processor (`/orders/confirm`), and the merchant's refunds
//! (`/local/v1/orders/:id/refund`).

use super::{parse_object, path_param, respond, App, IdPath, Shared};
use crate::checkout::escape;
use crate::error::*;
use crate::orders::{status, to_json};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use nvm_x402::protocol::signin::with_params;
use nvm_x402::protocol::url::encode_segment;
use nvm_x402_types::fields;
use nvm_x402_types::orders::CreateOrderRequest;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

/// The client's address, put on each request by the server loop (the order
/// reads are throttled per IP).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// A malformed create body is the order API's own invalid request (as the
/// hosted API's validation answers it), with the reader's message; a body
/// over the cap or a number beyond 2^53 keeps its code.
fn as_order_invalid(e: ApiError) -> ApiError {
    match e.code {
        NOT_JSON | INVALID_FIELD | UNKNOWN_FIELD | MISSING_FIELD => ORDER_INVALID.with(e.message),
        _ => e,
    }
}

/// `POST api/v1/orders`: 201 `{orderId, status, clientSecret?}`; a replay of
/// an idempotency key says so in `Idempotent-Replayed: true` (Stripe's header).
pub(super) async fn create(
    State(app): Shared,
    headers: HeaderMap,
    body: super::RequestBody,
) -> Response {
    let result = app.backend.authenticate(&headers).and_then(|caller| {
        let body = parse_object(body, fields::<CreateOrderRequest>())
            .and_then(super::decode::<CreateOrderRequest>)
            .map_err(as_order_invalid)?;
        app.backend.create_order(&caller, body)
    });
    match result {
        Ok((replayed, created)) => {
            let mut response = super::json_response(StatusCode::CREATED, &to_json(&created));
            if replayed {
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

/// `GET api/v1/orders/:id`: anonymous, [`crate::orders::READS_PER_MINUTE`]
/// per client IP; a throttled read is the hosted API's bare 429 (no catalogue code).
pub(super) async fn read(
    State(app): Shared,
    peer: Option<Extension<PeerAddr>>,
    path: IdPath,
) -> Response {
    let now = app.backend.now_ms();
    if !app
        .order_reads
        .allow(peer.map(|Extension(p)| p.0.ip()), now)
    {
        let mut response = super::json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}),
        );
        let wait = 60 - now.rem_euclid(60_000) / 1000;
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    respond(
        StatusCode::OK,
        path_param(path).and_then(|id| Ok(to_json(&app.backend.order(&id)?.view()))),
    )
}

/// `returnUrl`: an absolute http(s) URL on this machine (a loopback origin), without credentials.
fn checked_return(url: &str) -> ApiResult<String> {
    match crate::signin::return_url(url) {
        Ok(u) if super::is_loopback_origin(&u.origin()) => Ok(url.to_owned()),
        _ => Err(ORDER_INVALID.with(
            "returnUrl must be an http(s) URL on this machine (localhost, 127.0.0.1 or [::1])",
        )),
    }
}

/// A page of the card processor's stand-in: the hosted apps' page headers
/// (never framed, no scripts, a referrer only to itself).
fn page(status: StatusCode, html: String) -> Response {
    super::page_response(status, html)
}

fn error_page(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.code.status).unwrap_or(StatusCode::BAD_REQUEST);
    page(
        status,
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nvm-local card payment</title></head>\
             <body><main data-status=\"error\"><h1>Card payment</h1><p class=\"error\">{}</p><p><code>{}</code></p></main></body></html>\n",
            escape(&e.message),
            e.code.code
        ),
    )
}

/// The page's query, and its form's fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Confirm {
    client_secret: Option<String>,
    return_url: Option<String>,
    action: Option<String>,
}

impl Confirm {
    fn secret(&self) -> ApiResult<&str> {
        self.client_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ORDER_INVALID.with("clientSecret is required: the one createOrder answered")
            })
    }

    fn back(&self) -> ApiResult<Option<String>> {
        self.return_url.as_deref().map(checked_return).transpose()
    }
}

/// `GET /orders/confirm?clientSecret=...[&returnUrl=...]`: the page.
pub(super) async fn confirm_page(
    State(app): Shared,
    query: Result<Query<Confirm>, QueryRejection>,
) -> Response {
    let result = super::query_param(query)
        .map_err(as_order_invalid)
        .and_then(|q| app.backend.order_page(q.secret()?, q.back()?.as_deref()));
    match result {
        Ok(html) => page(StatusCode::OK, html),
        Err(e) => error_page(&e),
    }
}

/// Whether a form was posted by a page of this server: its `Origin` is this
/// server's, or (no `Origin`) the browser says `Sec-Fetch-Site: same-origin`.
/// Anything else, a request without either included, is refused.
fn posted_here(app: &App, headers: &HeaderMap) -> bool {
    let own = app.public_url(headers);
    crate::signin::posted_from(headers, own.trim_end_matches('/'))
}

/// `POST /orders/confirm` (the page's form: `clientSecret`, `action` =
/// `pay`, `decline` or `dispute`, `returnUrl?`): 303 to `returnUrl` with
/// `payment_intent` and `redirect_status` (`succeeded` or `failed`) added, as
/// the card processor returns, else back to the page; `{orderId, status}`
/// when `Accept: application/json`.
pub(super) async fn confirm(
    State(app): Shared,
    headers: HeaderMap,
    body: super::RequestBody,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let result = (|| {
        if !posted_here(&app, &headers) {
            return Err(ORDER_CROSS_SITE.with(
                "This form was posted from another site; pay on nvm-local's own confirmation page",
            ));
        }
        let form: Confirm = serde_urlencoded::from_bytes(&body.0?)
            .map_err(|e| ORDER_INVALID.with(format!("The form can't be read: {e}")))?;
        let back = form.back()?;
        let order = app
            .backend
            .confirm_order(form.secret()?, form.action.as_deref().unwrap_or(""))?;
        let location = match back {
            Some(back) => {
                // "succeeded" only for a paid order (a dispute is not a success).
                let outcome = if order.status == status::PAID {
                    "succeeded"
                } else {
                    "failed"
                };
                with_params(
                    &back,
                    &[
                        ("payment_intent", &order.payment_intent_id),
                        ("redirect_status", outcome),
                    ],
                )
            }
            None => format!(
                "/orders/confirm?clientSecret={}",
                encode_segment(&order.client_secret)
            ),
        };
        Ok((order, location))
    })();
    match (result, wants_json) {
        (Ok((order, _)), true) => super::json_response(
            StatusCode::OK,
            &json!({"orderId": order.id, "status": order.status}),
        ),
        (Ok((_, location)), false) => super::see_other_or(&location, || {
            error_page(&ORDER_INVALID.with("The return URL can't be a Location header"))
        }),
        (Err(e), true) => e.into_response(),
        (Err(e), false) => error_page(&e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Refund {
    amount_minor: Option<u64>,
}

/// `POST /local/v1/orders/:id/refund {amountMinor?}` (an empty body: all that
/// is left), the merchant's key: the buyer's view of the order after it.
pub(super) async fn refund(
    State(app): Shared,
    headers: HeaderMap,
    path: IdPath,
    body: super::RequestBody,
) -> Response {
    let result = app.backend.authenticate(&headers).and_then(|caller| {
        let id = path_param(path)?;
        let empty = body
            .0
            .as_ref()
            .is_ok_and(|b| b.iter().all(u8::is_ascii_whitespace));
        let amount = if empty {
            None
        } else {
            parse_object(body, &["amountMinor"])
                .and_then(super::decode::<Refund>)
                .map_err(as_order_invalid)?
                .amount_minor
        };
        Ok(to_json(
            &app.backend.refund_order(&caller, &id, amount)?.view(),
        ))
    });
    respond(StatusCode::OK, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_go_to_this_machine_only_with_the_outcome_added() {
        for ok in [
            "http://127.0.0.1:5173/shop",
            "http://localhost:8080/done?cart=1#top",
            "https://[::1]/",
        ] {
            assert_eq!(checked_return(ok).unwrap(), ok);
        }
        for bad in [
            "https://shop.example/done",
            "http://localhost.evil.example/",
            "http://user:pw@127.0.0.1/",
            "javascript:alert(1)",
            "/relative",
            "",
            "http://127.0.0.1:8080/\u{1}",
        ] {
            assert_eq!(
                checked_return(bad).unwrap_err().code,
                ORDER_INVALID,
                "{bad}"
            );
        }
        assert_eq!(
            with_params(
                "http://localhost:8080/done?cart=1#top",
                &[("payment_intent", "pi_1"), ("redirect_status", "succeeded")]
            ),
            "http://localhost:8080/done?cart=1&payment_intent=pi_1&redirect_status=succeeded#top"
        );
        assert_eq!(
            with_params("http://127.0.0.1/x", &[("a", "b c")]),
            "http://127.0.0.1/x?a=b%20c"
        );
    }

    #[test]
    fn malformed_bodies_are_the_order_apis_invalid_request() {
        assert_eq!(
            as_order_invalid(UNKNOWN_FIELD.with("x")).code,
            ORDER_INVALID
        );
        assert_eq!(
            as_order_invalid(BODY_TOO_LARGE.with("x")).code,
            BODY_TOO_LARGE
        );
        assert_eq!(as_order_invalid(PRECISION.with("x")).code, PRECISION);
    }
}
