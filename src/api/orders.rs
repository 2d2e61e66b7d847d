//! Orders (`payments.orders`): a merchant's card charge for an arbitrary
//! amount, off any plan, that the buyer's page confirms with the card
//! processor (payments-py 1.18 `api/orders_api.py`; the official TS SDK's
//! `createOrder`/`getOrder`). `createOrder` is the merchant's (a key scoped
//! to an organization); `getOrder` is anonymous: the unguessable id is the
//! access, so no key is sent. The wire shapes are described in the
//! `nvm-x402-types` crate (`types/src/orders.rs`).

use super::{parse_any, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::json::{self, ObjectBuilder, Value};
use crate::protocol::url::encode_segment;
use crate::protocol::ClientConfig;
use crate::transport::HttpResponse;

const WHAT: &str = "createOrder";

/// The smallest charge, in cents ($1.00), as both official SDKs document it.
pub const MIN_AMOUNT_MINOR: u64 = 100;
/// The largest charge, in cents ($999,999.99), as the official TS SDK documents it.
pub const MAX_AMOUNT_MINOR: u64 = 99_999_999;

/// The options `createOrder` takes after `amountMinor` and `currency`, in the
/// order they are sent (payments-py's), each with the most UTF-16 units a
/// string may have (the backend's `MaxLength`, as JavaScript counts; all but
/// `description` not blank); 0: not a string (`lineItems`, a list of objects;
/// `metadata`, an object).
const OPTIONS: [(&str, usize); 7] = [
    ("description", 1024),
    ("buyerRef", 255),
    ("idempotencyKey", 255),
    ("lineItems", 0),
    ("metadata", 0),
    ("captureMode", 255),
    ("paymentProvider", 255),
];

/// `createOrder(options)`: checks the options and builds `POST api/v1/orders`
/// with the merchant's key. `currency` defaults to `usd`; an `idempotencyKey`
/// is sent only when given (neither official SDK makes one up).
pub fn create_order(cfg: &ClientConfig, options: &Value) -> Result<Call<Value>> {
    let o = json::object(options, WHAT)?;
    // A misspelt option would be dropped by the backend: refuse it here.
    if let Some(key) = o.keys().find(|k| {
        !(k.as_str() == "amountMinor"
            || k.as_str() == "currency"
            || OPTIONS.iter().any(|(name, _)| name == k))
    }) {
        return Err(Error::validation(format!(
            "{WHAT}: unknown option \"{key}\""
        )));
    }
    let amount = crate::protocol::uint::opt_count(o, "amountMinor", WHAT)
        .ok()
        .flatten()
        .filter(|n| (MIN_AMOUNT_MINOR..=MAX_AMOUNT_MINOR).contains(n))
        .ok_or_else(|| {
            Error::misuse(
                "createOrder.amountMinor is required: a whole number of cents from 100 to 99999999",
                "amountMinor is in cents: 3437 charges $34.37.",
            )
        })?;
    let currency = json::opt_str(o, "currency", WHAT)?
        .unwrap_or("usd")
        .to_ascii_lowercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(json::wrong(WHAT, "currency", "a three-letter ISO code such as usd").into());
    }
    let mut body = ObjectBuilder::new()
        .put("amountMinor", amount)
        .put("currency", currency);
    for (key, max) in OPTIONS {
        let Some(given) = json::present(o, key) else {
            continue;
        };
        let fits = match given {
            // A blank key, reference, mode or processor is a mistake; a blank description is not.
            Value::String(s) if max > 0 => {
                s.encode_utf16().count() <= max && (max > 255 || !s.trim().is_empty())
            }
            Value::Array(items) => key == "lineItems" && items.iter().all(Value::is_object),
            Value::Object(_) => key == "metadata",
            _ => false,
        };
        if !fits {
            let expected = match key {
                "lineItems" => "a list of objects",
                "metadata" => "an object",
                "description" => "a string of at most 1024 characters",
                _ => "a non-blank string of at most 255 characters",
            };
            return Err(json::wrong(WHAT, key, expected).into());
        }
        body = body.put(key, given.clone());
    }
    Ok(Call {
        request: super::build_request(
            cfg,
            "POST",
            "api/v1/orders",
            Auth::Bearer,
            Some(&body.build()),
        )?,
        parse: parse_order,
    })
}

/// `getOrder(orderId)`: `GET api/v1/orders/:orderId`, without the key. The id
/// is one encoded path segment (a `?`, `#` or `/` in it can't retarget the
/// call); `.` or `..`, which a URL parser would resolve, is refused by
/// [`super::build_request`] as for every call.
pub fn get_order(cfg: &ClientConfig, order_id: &str) -> Result<Call<Value>> {
    let id = order_id.trim();
    if id.is_empty() {
        return Err(Error::validation(
            "getOrder: orderId must be the id createOrder answered",
        ));
    }
    let path = format!("api/v1/orders/{}", encode_segment(id));
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Public, None)?,
        parse: parse_order,
    })
}

/// The answer, when it names an order: a non-empty `orderId` (`createOrder`) or `id` (`getOrder`).
fn parse_order(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    let answer = parse_any(response)?;
    match answer.get("orderId").or_else(|| answer.get("id")) {
        Some(Value::String(id)) if !id.is_empty() => Ok(answer),
        _ => Err(Error::InvalidResponse {
            status,
            message: "The backend's answer is not an order".into(),
        }),
    }
}

#[cfg(test)]
mod tests;
