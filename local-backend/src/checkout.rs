//! Fiat orders: `POST api/v1/fiat/stripe/payment` opens a checkout session
//! whose link is a page nvm-local serves itself (`GET /checkout/:id`); its pay
//! button (`POST /checkout/:id/pay`) charges the account's test card and grants
//! the credits, once — paying again changes nothing.

use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::ids::{alphanumeric_id, iso8601};
use crate::plans::{grant, load_balance, OrderKind};
use nvm_x402_types::plans::FiatPaymentRequest;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};

/// How long a checkout link stays payable (Stripe's default: 24 hours).
const SESSION_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// A checkout session as the page shows it.
#[derive(Debug, Clone)]
pub struct CheckoutSession {
    /// `cs_test_...`.
    pub id: String,
    /// The plan bought.
    pub plan_id: String,
    /// Who pays.
    pub subscriber: String,
    /// When the link stops working (ms).
    pub expires_at: i64,
    /// The order, once paid.
    pub order_tx: Option<String>,
}

impl Backend {
    /// `POST api/v1/fiat/stripe/payment`: a checkout link served by this nvm-local at `public_url`.
    pub fn order_fiat_plan(
        &self,
        caller: &Caller,
        body: &FiatPaymentRequest,
        public_url: &str,
    ) -> ApiResult<Value> {
        if let Some(kind) = body
            .session_type
            .as_deref()
            .filter(|k| *k != "embedded" && *k != "hosted")
        {
            return Err(INVALID_FIELD.with(format!(
                "sessionType must be embedded or hosted (got {kind:?})"
            )));
        }
        let plan = self.require_plan(body.plan_id.as_str())?;
        if !plan.is_fiat() {
            return Err(WRONG_ORDER_ENDPOINT.with(format!("Plan {} is not a fiat plan: order it with POST api/v1/protocol/plans/:planId/order", plan.id)));
        }
        let now = self.now_ms();
        let id = alphanumeric_id("cs_test_", 58);
        {
            let conn = self.store.lock();
            if plan.is_trial
                && load_balance(&conn, &plan.id, caller.address())?.is_some_and(|b| b.orders > 0)
            {
                return Err(TRIAL_ALREADY_ORDERED.with(format!(
                    "Trial plan {} was already ordered by this account",
                    plan.id
                )));
            }
            conn.execute(
                "INSERT INTO checkout_sessions (id, plan_id, subscriber, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, plan.id, caller.address(), now, now + SESSION_LIFETIME_MS],
            )?;
        }
        Ok(json!({"result": {
            "stripeCheckoutSessionId": id,
            "checkoutLink": format!("{}/checkout/{id}", public_url.trim_end_matches('/')),
            "clientReferenceId": caller.address(),
            "linkCreatedAt": iso8601(now),
            "linkExpiresAt": iso8601(now + SESSION_LIFETIME_MS),
        }}))
    }

    /// A checkout session, or `BCK.PROTOCOL.0906`.
    pub fn checkout_session(&self, id: &str) -> ApiResult<CheckoutSession> {
        self.store
            .lock()
            .prepare_cached("SELECT id, plan_id, subscriber, expires_at, order_tx FROM checkout_sessions WHERE id = ?1")?
            .query_row([id], |r| Ok(CheckoutSession { id: r.get(0)?, plan_id: r.get(1)?, subscriber: r.get(2)?, expires_at: r.get(3)?, order_tx: r.get(4)? }))
            .optional()?
            .ok_or_else(|| CHECKOUT_NOT_FOUND.with(format!("Checkout session {} not found", crate::error::shorten(id))))
    }

    /// Pays a checkout session with the subscriber's test card and grants the
    /// plan. Idempotent: a paid session answers its order again.
    pub fn pay_checkout(&self, id: &str) -> ApiResult<String> {
        let session = self.checkout_session(id)?;
        if let Some(tx) = session.order_tx {
            return Ok(tx);
        }
        let plan = self.require_plan(&session.plan_id)?;
        let now = self.now_ms();
        let mut conn = self.store.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Re-read under the write lock: a concurrent pay may have won.
        let paid: Option<String> = tx.query_row(
            "SELECT order_tx FROM checkout_sessions WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        if let Some(order_tx) = paid {
            return Ok(order_tx);
        }
        if session.expires_at <= now {
            return Err(CHECKOUT_EXPIRED.with(format!(
                "Checkout session {} expired at {}",
                crate::error::shorten(id),
                iso8601(session.expires_at)
            )));
        }
        let order_tx = grant(
            &tx,
            &plan,
            &session.subscriber,
            OrderKind::Checkout,
            Some(id),
            now,
        )?;
        tx.execute(
            "UPDATE checkout_sessions SET order_tx = ?2 WHERE id = ?1",
            params![id, order_tx],
        )?;
        tx.commit()?;
        Ok(order_tx)
    }

    /// The checkout page.
    pub fn checkout_page(&self, id: &str) -> ApiResult<String> {
        let session = self.checkout_session(id)?;
        let plan = self.require_plan(&session.plan_id)?;
        let price = format!(
            "${}.{:02}",
            plan.price_total / 1_000_000,
            plan.price_total % 1_000_000 / 10_000
        );
        let (status, body) = match (&session.order_tx, session.expires_at <= self.now_ms()) {
            (Some(tx), _) => ("paid", format!("<p class=\"done\">Payment complete: {} credits were added.</p><p>Order transaction: <code>{}</code></p>", plan.credits_granted, escape(tx))),
            (None, true) => ("expired", "<p class=\"error\">This checkout link has expired. Order the plan again for a new one.</p>".to_owned()),
            (None, false) => (
                "open",
                format!(
                    "<form method=\"post\" action=\"/checkout/{}/pay\"><button type=\"submit\" id=\"pay\">Pay {price} with test card •••• 4242</button></form>",
                    escape(&session.id)
                ),
            ),
        };
        Ok(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nvm-local checkout: {name}</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}\
             button{{font-size:1.1rem;padding:.6rem 1.2rem;cursor:pointer}}.done{{color:#0a7a2f}}.error{{color:#b00020}}\
             code{{word-break:break-all}}</style></head>\n<body><main data-status=\"{status}\">\
             <h1>Checkout</h1><p><strong>{name}</strong>: {credits} credits for {price}</p>\
             <p>Paid by <code>{subscriber}</code></p>{body}\
             <p><small>nvm-local test checkout: no real card is charged.</small></p></main></body></html>\n",
            name = escape(plan.name()),
            credits = plan.credits_granted,
            subscriber = escape(&session.subscriber),
        ))
    }
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
