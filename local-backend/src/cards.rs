//! The embed app's card setup, played by nvm-local for the local environment
//! (the hosted contract: the official `markdown/cli-card-setup.md`):
//!
//! - `POST api/v1/widgets/session/self` `{orgId?, returnUrl?}` mints a session
//!   token bound to the caller's account (and to the `returnUrl` it names), for
//!   two hours, good for one card setup. Only its SHA-256 is stored.
//! - `GET /cards/setup?sessionToken&returnUrl&state&provider&network` is the
//!   page: which origin asks, a test card to enroll, the delegation's spending
//!   limit and lifetime. Its button posts the form to `POST /cards/setup`,
//!   which (only from the page itself) enrolls the card, creates the delegation
//!   and spends the session in one transaction, then returns (303) to
//!   `returnUrl?paymentMethodId&delegationId&state`.
//!
//! A session that is unknown, expired, spent, or asked to return elsewhere
//! than it was minted for is an error page, and nothing is created.

use crate::accounts::{insert_card, new_card_id, Account};
use crate::backend::{Backend, Caller};
use crate::checkout::escape;
use crate::error::*;
use crate::ids::{alphanumeric_id, hex, iso8601, sha256};
use crate::organizations::user_id;
use crate::signin::{hidden_inputs, page, return_origin, Flow};
use nvm_x402_types::delegation::CreateDelegation;
use nvm_x402_types::widgets::{SelfSessionRequest, SelfSessionResponse};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::sync::Arc;

/// How long a session token works (as the hosted backend's: two hours).
pub const SESSION_TTL_MS: i64 = 2 * 3600 * 1000;

/// The card processors a card can be enrolled with (`provider`).
pub const CARD_PROVIDERS: [&str; 3] = ["stripe", "braintree", "visa"];

/// The test cards the page offers: `(form value, brand, last 4, label)`.
pub const TEST_CARDS: [(&str, &str, &str, &str); 2] = [
    ("visa", "visa", "4242", "Visa 4242 4242 4242 4242 (test)"),
    (
        "mastercard",
        "mastercard",
        "4444",
        "Mastercard 5555 5555 5555 4444 (test)",
    ),
];

/// The largest spending limit the page takes: $10,000.00.
pub const MAX_LIMIT_CENTS: u64 = 1_000_000;

/// The longest delegation the page makes: a year.
pub const MAX_DAYS: u64 = 365;

/// A minted session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    owner: String,
    key_id: String,
    return_url: Option<String>,
    expires_at: i64,
    used_at: Option<i64>,
}

/// What is stored for a token: its SHA-256 (hex), never the token.
fn token_hash(token: &str) -> String {
    hex(&sha256(token.as_bytes()))
}

/// A dollar amount as the page's field has it (`12`, `12.5`, `12.50`), in cents.
pub fn parse_cents(text: &str) -> ApiResult<u64> {
    let bad = || {
        INVALID_FIELD.with(format!(
            "The spending limit must be an amount in dollars between 0.01 and {} (got {:?})",
            MAX_LIMIT_CENTS / 100,
            shorten(text)
        ))
    };
    let text = text.trim();
    let (dollars, cents) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if dollars.is_empty()
        || dollars.len() > 7
        || cents.len() > 2
        || !digits(dollars)
        || !digits(cents)
    {
        return Err(bad());
    }
    let cents = format!("{cents:0<2}");
    let total = dollars.parse::<u64>().map_err(|_| bad())? * 100
        + cents.parse::<u64>().map_err(|_| bad())?;
    if total == 0 || total > MAX_LIMIT_CENTS {
        return Err(bad());
    }
    Ok(total)
}

/// What the page's form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupForm {
    /// `(brand, last4)` of the test card.
    pub card: (&'static str, &'static str),
    /// The card processor (`stripe`, `braintree`, `visa`).
    pub provider: &'static str,
    /// The delegation's spending limit.
    pub limit_cents: u64,
    /// The delegation's lifetime.
    pub days: u64,
}

/// The card processor a page was opened with (default `stripe`).
pub fn provider(asked: Option<&str>) -> ApiResult<&'static str> {
    let asked = asked.unwrap_or("stripe");
    CARD_PROVIDERS
        .iter()
        .find(|p| **p == asked)
        .copied()
        .ok_or_else(|| {
            INVALID_FIELD.with(format!(
                "provider must be stripe, braintree or visa (got {:?})",
                shorten(asked)
            ))
        })
}

impl SetupForm {
    /// Reads the posted fields (`card`, `provider`, `limit`, `days`).
    pub fn read(get: impl Fn(&str) -> Option<String>) -> ApiResult<Self> {
        let card = get("card").unwrap_or_default();
        let card = TEST_CARDS
            .iter()
            .find(|c| c.0 == card)
            .map(|c| (c.1, c.2))
            .ok_or_else(|| INVALID_FIELD.with("card must be one of the page's test cards"))?;
        let days = get("days")
            .and_then(|d| d.trim().parse::<u64>().ok())
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                INVALID_FIELD.with(format!("days must be a whole number from 1 to {MAX_DAYS}"))
            })?;
        Ok(SetupForm {
            card,
            provider: provider(get("provider").as_deref())?,
            limit_cents: parse_cents(&get("limit").unwrap_or_default())?,
            days,
        })
    }
}

fn load_session(conn: &Connection, token: &str) -> rusqlite::Result<Option<Session>> {
    conn.prepare_cached(
        "SELECT owner, key_id, return_url, expires_at, used_at FROM widget_sessions WHERE token_hash = ?1",
    )?
    .query_row([token_hash(token)], |r| {
        Ok(Session {
            owner: r.get(0)?,
            key_id: r.get(1)?,
            return_url: r.get(2)?,
            expires_at: r.get(3)?,
            used_at: r.get(4)?,
        })
    })
    .optional()
}

impl Backend {
    /// `POST api/v1/widgets/session/self`: a session of the card-setup page for
    /// the caller. `orgId`, when given, must be one of the caller's active
    /// memberships (`BCK.WIDGET_SESSION.0019`); `isReturnUrlAllowed` says
    /// whether the page will return to `returnUrl` (this machine, or an origin
    /// in `allowed`).
    pub fn create_widget_session(
        &self,
        caller: &Caller,
        body: &SelfSessionRequest,
        allowed: &[String],
    ) -> ApiResult<Value> {
        if let Some(org) = body.org_id.as_deref().filter(|o| !o.trim().is_empty()) {
            let asking = Caller {
                org_header: Some(org.trim().to_owned()),
                ..caller.clone()
            };
            self.active_org(&asking).map_err(|_| {
                WIDGET_NOT_ORG_MEMBER.with(format!(
                    "orgId {:?} is not an organization this account is an active member of",
                    shorten(org)
                ))
            })?;
        }
        let return_url = body.return_url.as_deref().filter(|u| !u.is_empty());
        let token = alphanumeric_id("nws_", 43);
        let now = self.now_ms();
        let expires_at = now + SESSION_TTL_MS;
        self.store.lock().execute(
            "INSERT INTO widget_sessions (token_hash, owner, key_id, return_url, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![token_hash(&token), caller.address(), caller.key_id, return_url, expires_at, now],
        )?;
        let answer = SelfSessionResponse {
            session_token: token,
            user_id: user_id(caller.address()),
            user_wallet: caller.address().to_owned(),
            api_key_hash: caller.key_id.clone(),
            expires_at: iso8601(expires_at),
            is_return_url_allowed: Some(
                return_url.map(|u| return_origin(u, Flow::Cards, allowed).is_ok()),
            ),
            other: Default::default(),
        };
        serde_json::to_value(answer).map_err(|e| INTERNAL.with(e.to_string()))
    }

    /// The session a card-setup page names, if it may still set up a card
    /// returning to `return_url`: known, not spent, not expired, and minted for
    /// that `returnUrl` (when it named one).
    fn usable_session(
        &self,
        conn: &Connection,
        token: &str,
        return_url: &str,
    ) -> ApiResult<Session> {
        let session = load_session(conn, token)?.ok_or_else(|| {
            WIDGET_SESSION_UNKNOWN
                .with("This card-setup link's sessionToken is not one nvm-local issued")
        })?;
        if session.used_at.is_some() {
            return Err(WIDGET_SESSION_USED.with(
                "This card-setup link was used already: each session sets up one card. Start again from the page that sent you here.",
            ));
        }
        if session.expires_at <= self.now_ms() {
            return Err(WIDGET_SESSION_EXPIRED.with(format!(
                "This card-setup link expired at {}. Start again from the page that sent you here.",
                iso8601(session.expires_at)
            )));
        }
        // A session minted without a returnUrl returns nowhere (never to whatever a link says).
        if session.return_url.as_deref() != Some(return_url) {
            return Err(WIDGET_RETURN_MISMATCH.with(format!(
                "returnUrl {} is not the one this session was minted for",
                shorten(return_url)
            )));
        }
        Ok(session)
    }

    /// `GET /cards/setup`: the account a usable session sets up a card for.
    pub fn card_setup_account(&self, token: &str, return_url: &str) -> ApiResult<Arc<Account>> {
        let owner = self
            .usable_session(&self.store.lock(), token, return_url)?
            .owner;
        self.account(&owner)?
            .ok_or_else(|| INTERNAL.with("the session's account is gone"))
    }

    /// `POST /cards/setup`: enrolls the test card and creates its delegation
    /// for the session's account, and spends the session, all or nothing.
    /// Answers `(paymentMethodId, delegationId)`.
    pub fn complete_card_setup(
        &self,
        token: &str,
        return_url: &str,
        form: &SetupForm,
    ) -> ApiResult<(String, String)> {
        let session = self.usable_session(&self.store.lock(), token, return_url)?;
        let caller = Caller {
            account: self
                .account(&session.owner)?
                .ok_or_else(|| INTERNAL.with("the session's account is gone"))?,
            key_id: session.key_id,
            org_header: None,
        };
        let card = new_card_id();
        let request = CreateDelegation {
            provider: form.provider.to_owned(),
            provider_payment_method_id: Some(card.clone()),
            spending_limit_cents: Some(form.limit_cents),
            duration_secs: Some(form.days * 86_400),
            ..Default::default()
        };
        let mut delegation = self.new_delegation(&caller, &request)?;
        let now = self.now_ms();
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        // Again inside the transaction: of two clicks racing, one sets up a card.
        self.usable_session(&tx, token, return_url)?;
        insert_card(
            &tx,
            (&card, caller.address()),
            form.card,
            form.provider,
            "Test card (card setup)",
            now,
        )?;
        self.store_delegation(&tx, &caller, &mut delegation)?;
        tx.execute(
            "UPDATE widget_sessions SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL",
            params![token_hash(token), now],
        )?;
        tx.commit()?;
        Ok((card, delegation.id))
    }
}

/// The card-setup page: who asks, for which account, the test card, the
/// delegation's limit and lifetime; `hidden`: the session's fields, posted back.
pub fn setup_page(origin: &str, account: &Account, hidden: &[(&str, &str)]) -> String {
    let mut cards = String::new();
    for (i, (value, _, _, label)) in TEST_CARDS.iter().enumerate() {
        cards.push_str(&format!(
            "<li><label><input type=\"radio\" name=\"card\" value=\"{value}\"{}> {label}</label></li>",
            if i == 0 { " checked" } else { "" }
        ));
    }
    page(
        "Add a card (nvm-local)",
        "open",
        &format!(
            "<h1>Add a card (local)</h1><p class=\"asks\"><strong><code>{origin}</code></strong> asks you to add a card to \
             <strong>{name}</strong> (<code>{address}</code>) and to let it spend up to the limit you set.</p>\
             <form method=\"post\" action=\"/cards/setup\">{hidden}\
             <h2>Card</h2><ul>{cards}</ul>\
             <h2>Spending delegation</h2>\
             <p><label>Spending limit (USD) <input name=\"limit\" id=\"limit\" value=\"10.00\" required inputmode=\"decimal\" pattern=\"[0-9]{{1,7}}([.][0-9]{{1,2}})?\"></label></p>\
             <p><label>Lasts (days) <input name=\"days\" id=\"days\" value=\"30\" required inputmode=\"numeric\" pattern=\"[0-9]{{1,3}}\"></label></p>\
             <p><button type=\"submit\" class=\"primary\" id=\"add-card\">Add card and allow spending</button></p></form>\
             <p><small>Test cards only: no card number is asked for or stored. Not expecting this? Close the tab: nothing happens until you click.</small></p>",
            origin = escape(origin),
            name = escape(&account.name),
            address = escape(&account.address),
            hidden = hidden_inputs(hidden),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_cents_within_the_limits() {
        for (text, cents) in [
            ("10", 1000),
            ("10.5", 1050),
            ("0.01", 1),
            (" 12.34 ", 1234),
            ("10000", 1_000_000),
        ] {
            assert_eq!(parse_cents(text).unwrap(), cents, "{text}");
        }
        for bad in [
            "", "0", "0.00", "1.234", "-1", "1e3", "10000.01", ".5", "1,00", "99999999",
        ] {
            assert_eq!(parse_cents(bad).unwrap_err().code, INVALID_FIELD, "{bad:?}");
        }
    }

    #[test]
    fn the_form_takes_only_the_pages_choices() {
        let form = |pairs: &'static [(&'static str, &'static str)]| {
            SetupForm::read(|k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(
            form(&[
                ("card", "mastercard"),
                ("limit", "5"),
                ("days", "7"),
                ("provider", "visa")
            ])
            .unwrap(),
            SetupForm {
                card: ("mastercard", "4444"),
                provider: "visa",
                limit_cents: 500,
                days: 7
            }
        );
        assert_eq!(
            form(&[("card", "visa"), ("limit", "5"), ("days", "7")])
                .unwrap()
                .provider,
            "stripe"
        );
        for bad in [
            &[("card", "amex"), ("limit", "5"), ("days", "7")][..],
            &[("card", "visa"), ("limit", "5"), ("days", "0")],
            &[("card", "visa"), ("limit", "5"), ("days", "366")],
            &[("card", "visa"), ("limit", "x"), ("days", "7")],
            &[
                ("card", "visa"),
                ("limit", "5"),
                ("days", "7"),
                ("provider", "erc4337"),
            ],
        ] {
            let pairs: &'static [(&'static str, &'static str)] = bad;
            assert_eq!(form(pairs).unwrap_err().code, INVALID_FIELD, "{bad:?}");
        }
    }

    #[test]
    fn the_page_escapes_what_it_shows_and_loads_nothing() {
        let account = Account {
            address: "0xabc".into(),
            name: "<b>me</b>".into(),
            signing_key: ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        };
        let html = setup_page(
            "http://127.0.0.1:1/\"><script>",
            &account,
            &[("state", "\"><x>")],
        );
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<x>"));
        assert!(
            !html.contains("src=") && !html.contains("href="),
            "no external assets"
        );
        assert!(html.contains("id=\"add-card\""));
    }
}
