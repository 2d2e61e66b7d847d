//! Accounts (an address, a name, an Ed25519 key that signs its access tokens)
//! and their payment methods: every account gets a test card and a crypto
//! wallet when it is created.

use crate::error::{ApiResult, INVALID_FIELD};
use crate::ids::{alphanumeric_id, year_of};
use ed25519_dalek::SigningKey;
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::fmt;
use std::sync::Arc;

/// An account.
pub struct Account {
    /// `0x` + 40 hex, derived from the public key.
    pub address: String,
    /// A unique human name (`builder`, `subscriber`, ...).
    pub name: String,
    /// Signs the account's access tokens.
    pub signing_key: SigningKey,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("address", &self.address)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An account with a fresh API key: what `account create` and `POST /local/v1/accounts` answer.
#[derive(Debug, Clone)]
pub struct IssuedAccount {
    /// The account.
    pub account: Arc<Account>,
    /// A new `local:<JWT>` key.
    pub api_key: String,
    /// `false` when the name already existed (the key is a new key for it).
    pub created: bool,
}

impl IssuedAccount {
    /// `{name, address, apiKey, created}`.
    pub fn to_json(&self) -> Value {
        json!({"name": self.account.name, "address": self.account.address, "apiKey": self.api_key, "created": self.created})
    }
}

/// Checks an account name: 1 to 64 letters, digits, `-`, `_`, `.` or spaces.
pub fn check_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if ok {
        Ok(name)
    } else {
        Err(INVALID_FIELD
            .with("name must be 1 to 64 characters: letters, digits, '-', '_', '.' or spaces"))
    }
}

pub(crate) fn account_from_row(
    address: String,
    name: String,
    secret: Vec<u8>,
) -> rusqlite::Result<Account> {
    let seed: [u8; 32] = secret.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(2, "secret_key".into(), rusqlite::types::Type::Blob)
    })?;
    Ok(Account {
        address,
        name,
        signing_key: SigningKey::from_bytes(&seed),
    })
}

const METHOD_INSERT: &str = "INSERT INTO payment_methods (id, owner, type, brand, last4, exp_month, exp_year, provider, alias, status, created_at)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'active', ?10)";

/// A new payment method's id (`pm_...`).
pub(crate) fn new_card_id() -> String {
    alphanumeric_id("pm_", 24)
}

/// A test card `id` of `owner`, expiring in December three years on.
pub(crate) fn insert_card(
    conn: &Connection,
    (id, owner): (&str, &str),
    (brand, last4): (&str, &str),
    provider: &str,
    alias: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        METHOD_INSERT,
        params![
            id,
            owner,
            "card",
            brand,
            last4,
            12,
            year_of(now) + 3,
            provider,
            alias,
            now
        ],
    )?;
    Ok(())
}

/// The test card (Stripe's `4242` Visa) and the crypto wallet every account starts with.
pub(crate) fn insert_payment_methods(
    conn: &Connection,
    owner: &str,
    now: i64,
) -> rusqlite::Result<()> {
    let card = (new_card_id(), owner);
    insert_card(
        conn,
        (&card.0, card.1),
        ("visa", "4242"),
        "stripe",
        "Test card",
        now,
    )?;
    let wallet_last4 = &owner[owner.len() - 4..];
    conn.execute(
        METHOD_INSERT,
        params![
            owner,
            owner,
            "crypto_wallet",
            "ethereum",
            wallet_last4,
            0,
            0,
            "erc4337",
            "Account wallet",
            now
        ],
    )?;
    Ok(())
}
