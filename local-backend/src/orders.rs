//! Card orders (`/api/v1/orders`): a merchant's charge for any amount, off
//! any plan (payments-py 1.18 `orders_api.py`). An Admin or Member of an
//! organization creates one (`POST api/v1/orders`, idempotent per
//! organization and `idempotencyKey`); anyone with its id reads the buyer's
//! view (`GET api/v1/orders/:id`, rate-limited per IP); the buyer confirms its
//! client secret on nvm-local's confirmation page (`/orders/confirm`), which
//! stands in for the card processor (pay with test card 4242, decline with
//! 0002, dispute a payment); the merchant refunds (`POST
//! /local/v1/orders/:id/refund`). Every change is one SQLite statement (or one
//! transaction), so a refused request changes nothing.

use crate::backend::{Backend, Caller};
use crate::checkout::escape;
use crate::error::*;
use crate::ids::{alphanumeric_id, uuid_v4};
use crate::organizations::membership;
use nvm_x402_types::orders::{CreateOrderRequest, CreateOrderResult, Order};
use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// The smallest charge, in cents ($1.00).
pub const MIN_AMOUNT_MINOR: u64 = 100;
/// The largest charge, in cents ($999,999.99).
pub const MAX_AMOUNT_MINOR: u64 = 99_999_999;
/// How many order reads one IP may make per minute (the hosted API's throttle).
pub const READS_PER_MINUTE: u32 = 60;

/// Where an order is. The transitions: `requires_payment` to `paid` (the
/// confirmation page's pay) or `failed` (its decline); `paid` or
/// `partially_refunded` to `partially_refunded` or `refunded` (the merchant's
/// refunds) or `disputed` (the page's dispute). `failed`, `refunded` and
/// `disputed` are final.
pub mod status {
    /// Created, not paid yet: the only payable status.
    pub const REQUIRES_PAYMENT: &str = "requires_payment";
    /// Paid.
    pub const PAID: &str = "paid";
    /// Refunded in full.
    pub const REFUNDED: &str = "refunded";
    /// Refunded in part.
    pub const PARTIALLY_REFUNDED: &str = "partially_refunded";
    /// The buyer's bank disputes the payment.
    pub const DISPUTED: &str = "disputed";
    /// The card was declined; the order can't be paid any more.
    pub const FAILED: &str = "failed";
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// `ord_<uuid>`: the buyer's access.
    pub id: String,
    /// The merchant organization.
    pub org_id: String,
    /// The charge, in cents.
    pub amount_minor: u64,
    /// `usd`.
    pub currency: String,
    /// See [`status`].
    pub status: String,
    /// Refunded so far, in cents.
    pub amount_refunded_minor: u64,
    /// The merchant's description.
    pub description: Option<String>,
    /// The merchant's reference.
    pub buyer_ref: Option<String>,
    /// The merchant's idempotency key.
    pub idempotency_key: Option<String>,
    /// The local stand-in for the card processor's payment (`pi_...`).
    pub payment_intent_id: String,
    /// What the buyer's page confirms (`pi_..._secret_...`).
    pub client_secret: String,
}

const COLUMNS: &str = "id, org_id, amount_minor, currency, status, amount_refunded_minor, description, buyer_ref, idempotency_key, payment_intent_id, client_secret";

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredOrder> {
    Ok(StoredOrder {
        id: r.get(0)?,
        org_id: r.get(1)?,
        amount_minor: r.get(2)?,
        currency: r.get(3)?,
        status: r.get(4)?,
        amount_refunded_minor: r.get(5)?,
        description: r.get(6)?,
        buyer_ref: r.get(7)?,
        idempotency_key: r.get(8)?,
        payment_intent_id: r.get(9)?,
        client_secret: r.get(10)?,
    })
}

impl StoredOrder {
    /// Whether the buyer can still pay it (and so may see its client secret).
    pub fn is_payable(&self) -> bool {
        self.status == status::REQUIRES_PAYMENT
    }

    /// The secret, while payable.
    fn payable_secret(&self) -> Option<String> {
        self.is_payable().then(|| self.client_secret.clone())
    }

    /// What `createOrder` answers.
    pub fn created(&self) -> CreateOrderResult {
        CreateOrderResult {
            order_id: self.id.clone(),
            status: self.status.clone(),
            client_secret: self.payable_secret(),
        }
    }

    /// The buyer's view (`getOrder`): no merchant, no fee, no metadata.
    pub fn view(&self) -> Order {
        Order {
            id: self.id.clone(),
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
            status: self.status.clone(),
            amount_refunded_minor: self.amount_refunded_minor,
            description: Some(self.description.clone()),
            buyer_ref: Some(self.buyer_ref.clone()),
            payment_intent_id: Some(Some(self.payment_intent_id.clone())),
            expires_at: Some(None),
            client_secret: self.payable_secret(),
        }
    }
}

/// A JSON value of a wire struct (they always serialise).
pub fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `$34.37`: an amount in cents, for people.
///
/// ```
/// assert_eq!(nvm_local::orders::dollars(3437), "$34.37");
/// assert_eq!(nvm_local::orders::dollars(100), "$1.00");
/// ```
pub fn dollars(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Checks a create body; answers it normalised (currency lower-case, the defaults filled in).
fn check(body: CreateOrderRequest) -> ApiResult<CreateOrderRequest> {
    let invalid = |m: String| ORDER_INVALID.with(m);
    let amount = body.amount_minor.ok_or_else(|| {
        invalid("amountMinor is required: the charge in cents (3437 is $34.37)".into())
    })?;
    if !(MIN_AMOUNT_MINOR..=MAX_AMOUNT_MINOR).contains(&amount) {
        return Err(invalid(format!(
            "amountMinor must be {MIN_AMOUNT_MINOR} ($1.00) to {MAX_AMOUNT_MINOR} ($999,999.99) cents, got {amount}"
        )));
    }
    let currency = body
        .currency
        .as_deref()
        .unwrap_or("usd")
        .to_ascii_lowercase();
    if currency != "usd" {
        return Err(invalid(format!(
            "currency must be usd (the only one today), got {:?}",
            shorten(&currency)
        )));
    }
    for (name, value, max) in [
        ("description", &body.description, 1024),
        ("buyerRef", &body.buyer_ref, 255),
        ("idempotencyKey", &body.idempotency_key, 255),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.encode_utf16().count() > max)
        {
            return Err(invalid(format!("{name} must be at most {max} characters")));
        }
    }
    if body
        .idempotency_key
        .as_ref()
        .is_some_and(|k| k.trim().is_empty())
    {
        return Err(invalid("idempotencyKey must not be blank".into()));
    }
    for (name, value, only) in [
        ("captureMode", &body.capture_mode, "automatic"),
        ("paymentProvider", &body.payment_provider, "stripe"),
    ] {
        if value.as_deref().is_some_and(|v| v != only) {
            return Err(invalid(format!(
                "{name} must be {only} (the only one today)"
            )));
        }
    }
    Ok(CreateOrderRequest {
        amount_minor: Some(amount),
        currency: Some(currency),
        capture_mode: Some("automatic".into()),
        payment_provider: Some("stripe".into()),
        ..body
    })
}

impl Backend {
    /// `POST api/v1/orders`: a new order of the caller's organization (they
    /// must be an Admin or Member of it: `BCK.ORDER.0003`), or, for an
    /// `idempotencyKey` the organization used before, that order as it is now
    /// (the other fields of the retry are ignored; another `amountMinor` or
    /// `currency` is `BCK.ORDER.0007`). Answers whether it is a replay, and
    /// the answer.
    pub fn create_order(
        &self,
        caller: &Caller,
        body: CreateOrderRequest,
    ) -> ApiResult<(bool, CreateOrderResult)> {
        let body = check(body)?;
        let org = self
            .active_org(caller)
            .ok()
            .flatten()
            .filter(|m| m.is_staff())
            .ok_or_else(|| {
                ORDER_NOT_ORGANIZATION.with(
                    "Order not initiated by an active organization: the key's account must be an Admin or Member of one",
                )
            })?;
        let (amount, currency) = (
            body.amount_minor.unwrap_or(0),
            body.currency.clone().unwrap_or_default(),
        );
        let now = self.now_ms();
        let mut conn = self.store.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(key) = &body.idempotency_key {
            let earlier = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM card_orders WHERE org_id = ?1 AND idempotency_key = ?2"
                ))?
                .query_row(params![org.org_id, key], from_row)
                .optional()?;
            if let Some(order) = earlier {
                if order.amount_minor != amount || order.currency != currency {
                    return Err(ORDER_IDEMPOTENCY_CONFLICT.with(format!(
                        "idempotencyKey {:?} was used for an order of {} {}; this request asks {} {}",
                        shorten(key),
                        order.amount_minor,
                        order.currency,
                        amount,
                        currency
                    )));
                }
                return Ok((true, order.created()));
            }
        }
        let intent = alphanumeric_id("pi_local_", 24);
        let order = StoredOrder {
            id: format!("ord_{}", uuid_v4()),
            org_id: org.org_id.clone(),
            amount_minor: amount,
            currency,
            status: status::REQUIRES_PAYMENT.into(),
            amount_refunded_minor: 0,
            description: body.description.clone(),
            buyer_ref: body.buyer_ref.clone(),
            idempotency_key: body.idempotency_key.clone(),
            client_secret: alphanumeric_id(&format!("{intent}_secret_"), 24),
            payment_intent_id: intent,
        };
        tx.execute(
            "INSERT INTO card_orders (id, org_id, created_by, amount_minor, currency, status, amount_refunded_minor, description, buyer_ref, idempotency_key, line_items, metadata, payment_intent_id, client_secret, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
            params![
                order.id,
                order.org_id,
                caller.address(),
                order.amount_minor,
                order.currency,
                order.status,
                order.description,
                order.buyer_ref,
                order.idempotency_key,
                body.line_items.as_ref().map(|l| to_json(l).to_string()),
                body.metadata.as_ref().map(|m| to_json(m).to_string()),
                order.payment_intent_id,
                order.client_secret,
                now,
            ],
        )?;
        tx.commit()?;
        Ok((false, order.created()))
    }

    /// An order by its id, or `BCK.ORDER.0002`.
    pub fn order(&self, id: &str) -> ApiResult<StoredOrder> {
        self.order_where("id", id)?.ok_or_else(|| {
            ORDER_NOT_FOUND.with(format!("No order exists with the id {:?}", shorten(id)))
        })
    }

    /// An order by its client secret, or `BCK.ORDER.0002` (the secret is not echoed).
    pub fn order_by_secret(&self, secret: &str) -> ApiResult<StoredOrder> {
        self.order_where("client_secret", secret)?
            .ok_or_else(|| ORDER_NOT_FOUND.with("No order has this client secret"))
    }

    fn order_where(&self, column: &str, value: &str) -> ApiResult<Option<StoredOrder>> {
        Ok(self
            .store
            .lock()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM card_orders WHERE {column} = ?1"
            ))?
            .query_row([value], from_row)
            .optional()?)
    }

    /// The confirmation page's buttons, with the order's client secret:
    /// `pay` (`requires_payment` to `paid`), `decline` (to `failed`) or
    /// `dispute` (`paid` or `partially_refunded` to `disputed`). Paying a paid
    /// order again changes nothing; anything else out of turn is `BCK.ORDER.0900`.
    pub fn confirm_order(&self, secret: &str, action: &str) -> ApiResult<StoredOrder> {
        let (from, to, verb): (&[&str], &str, &str) = match action {
            "pay" => (&[status::REQUIRES_PAYMENT], status::PAID, "paid"),
            "decline" => (&[status::REQUIRES_PAYMENT], status::FAILED, "declined"),
            "dispute" => (
                &[status::PAID, status::PARTIALLY_REFUNDED],
                status::DISPUTED,
                "disputed (only a payment can be)",
            ),
            other => {
                return Err(ORDER_INVALID.with(format!(
                    "action must be pay, decline or dispute, got {:?}",
                    shorten(other)
                )))
            }
        };
        let id = self.order_by_secret(secret)?.id;
        self.transition(&id, |order| {
            if action == "pay" && order.status == status::PAID {
                return Ok(None);
            }
            if !from.contains(&order.status.as_str()) {
                return Err(ORDER_NOT_PAYABLE.with(format!(
                    "This order is {}: it can't be {verb}",
                    order.status
                )));
            }
            Ok(Some((to, 0)))
        })
    }

    /// `POST /local/v1/orders/:id/refund {amountMinor?}`: the merchant (an
    /// Admin or Member of the order's organization: `BCK.ORDER.0902`) refunds
    /// `amount` cents of a paid order (absent: all that is left). The whole
    /// amount refunded makes it `refunded`, less `partially_refunded`.
    pub fn refund_order(
        &self,
        caller: &Caller,
        id: &str,
        amount: Option<u64>,
    ) -> ApiResult<StoredOrder> {
        let org = self.order(id)?.org_id;
        let staff =
            membership(&self.store.lock(), &org, caller.address())?.is_some_and(|m| m.is_staff());
        if !staff {
            return Err(ORDER_NOT_MERCHANT.with(
                "Only an Admin or Member of the organization that created the order can refund it",
            ));
        }
        self.transition(id, |order| {
            if order.status != status::PAID && order.status != status::PARTIALLY_REFUNDED {
                return Err(ORDER_NOT_PAYABLE.with(format!(
                    "This order is {}: only a paid order can be refunded",
                    order.status
                )));
            }
            let left = order.amount_minor - order.amount_refunded_minor;
            let amount = amount.unwrap_or(left);
            if amount == 0 || amount > left {
                return Err(ORDER_INVALID.with(format!(
                    "amountMinor must be 1 to {left}: what is left to refund of {}",
                    dollars(order.amount_minor)
                )));
            }
            let to = if amount == left {
                status::REFUNDED
            } else {
                status::PARTIALLY_REFUNDED
            };
            Ok(Some((to, amount)))
        })
    }

    /// Changes an order under the database's write lock: `decide` sees it as
    /// it is now and answers its new status and the cents it refunds (or
    /// nothing to change, or a refusal, which changes nothing).
    fn transition(
        &self,
        id: &str,
        decide: impl FnOnce(&StoredOrder) -> ApiResult<Option<(&'static str, u64)>>,
    ) -> ApiResult<StoredOrder> {
        let now = self.now_ms();
        let mut conn = self.store.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut order = tx
            .prepare_cached(&format!("SELECT {COLUMNS} FROM card_orders WHERE id = ?1"))?
            .query_row([id], from_row)?;
        if let Some((to, refund)) = decide(&order)? {
            order.status = to.to_owned();
            order.amount_refunded_minor += refund;
            tx.execute(
                "UPDATE card_orders SET status = ?2, amount_refunded_minor = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, order.status, order.amount_refunded_minor, now],
            )?;
            tx.commit()?;
        }
        Ok(order)
    }

    /// The confirmation page for the order whose client secret this is;
    /// `back`: a checked return URL, carried through the form.
    pub fn order_page(&self, secret: &str, back: Option<&str>) -> ApiResult<String> {
        let order = self.order_by_secret(secret)?;
        let merchant: Option<String> = self
            .store
            .lock()
            .prepare_cached("SELECT name FROM organizations WHERE id = ?1")?
            .query_row([&order.org_id], |r| r.get(0))
            .optional()?;
        let price = dollars(order.amount_minor);
        let form = |action: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"/orders/confirm\"><input type=\"hidden\" name=\"clientSecret\" value=\"{}\">{}\
                 <button type=\"submit\" name=\"action\" value=\"{action}\" id=\"{action}\">{label}</button></form>",
                escape(secret),
                back.map(|b| format!("<input type=\"hidden\" name=\"returnUrl\" value=\"{}\">", escape(b)))
                    .unwrap_or_default()
            )
        };
        let body = match order.status.as_str() {
            status::REQUIRES_PAYMENT => format!(
                "{}{}",
                form("pay", &format!("Pay {price} with test card •••• 4242")),
                form("decline", "Decline (test card •••• 0002)")
            ),
            status::PAID => format!(
                "<p class=\"done\">Paid.</p>{}",
                form("dispute", "Dispute this payment (as the card's bank)")
            ),
            status::FAILED => {
                "<p class=\"error\">The card was declined: this order can't be paid any more.</p>"
                    .into()
            }
            status::DISPUTED => "<p class=\"error\">The payment is disputed.</p>".into(),
            _ => format!(
                "<p>Refunded {} of {price}.</p>{}",
                dollars(order.amount_refunded_minor),
                if order.status == status::PARTIALLY_REFUNDED {
                    form("dispute", "Dispute this payment (as the card's bank)")
                } else {
                    String::new()
                }
            ),
        };
        let back_link = back
            .map(|b| {
                format!(
                    "<p><a href=\"{}\" id=\"back\">Back to the merchant</a></p>",
                    escape(b)
                )
            })
            .unwrap_or_default();
        Ok(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>nvm-local card payment: {price}</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}\
             button{{font-size:1.05rem;padding:.6rem 1.2rem;margin:.3rem 0;cursor:pointer}}.done{{color:#0a7a2f}}.error{{color:#b00020}}\
             code{{word-break:break-all}}</style></head>\n<body><main data-status=\"{status}\">\
             <h1>Card payment</h1><p><strong>{merchant}</strong> asks <strong id=\"amount\">{price}</strong> ({currency}){description}</p>\
             {body}{back_link}<p><small>nvm-local stands in for the card processor: no real card is charged. Order <code>{id}</code></small></p>\
             </main></body></html>\n",
            status = escape(&order.status),
            merchant = escape(merchant.as_deref().unwrap_or("A merchant")),
            currency = escape(&order.currency.to_ascii_uppercase()),
            description = order
                .description
                .as_deref()
                .map(|d| format!(" for {}", escape(d)))
                .unwrap_or_default(),
            id = escape(&order.id),
        ))
    }
}

/// The order reads' throttle: [`READS_PER_MINUTE`] per client IP and clock
/// minute (nvm-local's clock, so tests move past it without sleeping). At
/// most [`ReadLimiter::IPS`] IPs are tracked; past that, earlier minutes' are
/// forgotten, and with the table full of this minute's a new IP waits for the next.
#[derive(Debug, Default)]
pub struct ReadLimiter {
    seen: Mutex<HashMap<Option<IpAddr>, (i64, u32)>>,
}

impl ReadLimiter {
    /// How many client IPs are tracked at once.
    pub const IPS: usize = 4096;

    /// Counts a read from `ip` (`None`: unknown, one shared bucket) at
    /// `now_ms`; `false` once it is over the minute's allowance.
    pub fn allow(&self, ip: Option<IpAddr>, now_ms: i64) -> bool {
        let minute = now_ms.div_euclid(60_000);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= Self::IPS && !seen.contains_key(&ip) {
            seen.retain(|_, (m, _)| *m == minute);
            if seen.len() >= Self::IPS {
                // Full of this minute's clients: a new one waits for the next minute
                // (clearing would reset the throttled ones too).
                return false;
            }
        }
        let entry = seen.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= READS_PER_MINUTE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_limited_per_ip_and_minute() {
        let limiter = ReadLimiter::default();
        let (a, b) = (
            Some("127.0.0.1".parse().unwrap()),
            Some("127.0.0.2".parse().unwrap()),
        );
        for _ in 0..READS_PER_MINUTE {
            assert!(limiter.allow(a, 60_000));
        }
        assert!(!limiter.allow(a, 119_999), "the 61st read of the minute");
        assert!(limiter.allow(b, 119_999), "another IP has its own");
        assert!(limiter.allow(a, 120_000), "the next minute starts over");
        // Full of IPs of an earlier minute: they are forgotten, not the new one refused.
        let many = ReadLimiter::default();
        for i in 0..ReadLimiter::IPS as u32 {
            assert!(many.allow(Some(IpAddr::from(i.to_be_bytes())), 0));
        }
        assert!(many.allow(a, 60_000));
        assert_eq!(many.seen.lock().unwrap().len(), 1);
        // Full of this minute's IPs: a new one is refused; a throttled one stays throttled.
        let full = ReadLimiter::default();
        for _ in 0..=READS_PER_MINUTE {
            full.allow(a, 0);
        }
        assert!(!full.allow(a, 0));
        for i in 1..ReadLimiter::IPS as u32 {
            assert!(full.allow(Some(IpAddr::from(((i + 1) << 8).to_be_bytes())), 0));
        }
        assert!(!full.allow(b, 0), "no room this minute");
        assert!(!full.allow(a, 0), "the throttled IP was not reset");
        assert!(full.allow(b, 60_000), "the next minute has room");
    }

    #[test]
    fn bodies_are_checked_and_completed() {
        let ok = check(CreateOrderRequest {
            amount_minor: Some(100),
            currency: Some("USD".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (
                ok.currency.as_deref(),
                ok.capture_mode.as_deref(),
                ok.payment_provider.as_deref()
            ),
            (Some("usd"), Some("automatic"), Some("stripe"))
        );
        for (body, says) in [
            (CreateOrderRequest::default(), "amountMinor is required"),
            (
                CreateOrderRequest {
                    amount_minor: Some(99),
                    ..Default::default()
                },
                "100 ($1.00)",
            ),
            (
                CreateOrderRequest {
                    amount_minor: Some(MAX_AMOUNT_MINOR + 1),
                    ..Default::default()
                },
                "got 100000000",
            ),
            (
                CreateOrderRequest {
                    amount_minor: Some(500),
                    currency: Some("eur".into()),
                    ..Default::default()
                },
                "currency must be usd",
            ),
            (
                CreateOrderRequest {
                    amount_minor: Some(500),
                    idempotency_key: Some(" ".into()),
                    ..Default::default()
                },
                "blank",
            ),
            (
                CreateOrderRequest {
                    amount_minor: Some(500),
                    buyer_ref: Some("x".repeat(256)),
                    ..Default::default()
                },
                "buyerRef must be at most 255",
            ),
            (
                CreateOrderRequest {
                    amount_minor: Some(500),
                    capture_mode: Some("manual".into()),
                    ..Default::default()
                },
                "captureMode must be automatic",
            ),
            (
                CreateOrderRequest {
                    amount_minor: Some(500),
                    payment_provider: Some("braintree".into()),
                    ..Default::default()
                },
                "paymentProvider must be stripe",
            ),
        ] {
            let e = check(body).unwrap_err();
            assert_eq!(e.code, ORDER_INVALID);
            assert!(e.message.contains(says), "{}", e.message);
        }
    }
}
