//! The SQLite database: opening it (WAL, `synchronous=NORMAL`), the schema,
//! and the `meta` table. One connection, behind a mutex, serves every request:
//! SQLite has one writer anyway, and holding the lock for a whole settle makes
//! each settle's read-check-burn atomic without retries.

use rusqlite::{Connection, OptionalExtension};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// Where the state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A SQLite file (created when missing).
    File(PathBuf),
    /// A private in-memory database, gone when the server stops (tests, benchmarks).
    Memory,
}

/// The schema version this build writes. Tables added since version 1
/// (payment-method key restrictions, account emails, organizations, card orders,
/// card-setup sessions, MPP settlements) are
/// created in place (`CREATE TABLE IF NOT EXISTS`), so a version-1 database
/// opens as it is and an older nvm-local still reads a newer one.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    address TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, secret_key BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS payment_methods (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES accounts(address), type TEXT NOT NULL, brand TEXT NOT NULL,
    last4 TEXT NOT NULL, exp_month INTEGER NOT NULL, exp_year INTEGER NOT NULL, provider TEXT NOT NULL,
    alias TEXT, status TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS payment_methods_owner ON payment_methods(owner);
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, registration TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS plans_owner ON plans(owner);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, registration TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS agent_plans (
    agent_id TEXT NOT NULL REFERENCES agents(id), plan_id TEXT NOT NULL REFERENCES plans(id), position INTEGER NOT NULL,
    PRIMARY KEY (agent_id, plan_id));
CREATE INDEX IF NOT EXISTS agent_plans_plan ON agent_plans(plan_id);
CREATE TABLE IF NOT EXISTS balances (
    plan_id TEXT NOT NULL, holder TEXT NOT NULL, credits INTEGER NOT NULL CHECK (credits >= 0),
    expires_at INTEGER, orders INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (plan_id, holder));
CREATE TABLE IF NOT EXISTS orders (
    tx TEXT PRIMARY KEY, plan_id TEXT NOT NULL, subscriber TEXT NOT NULL, kind TEXT NOT NULL,
    credits INTEGER NOT NULL, price TEXT NOT NULL, delegation_id TEXT, checkout_id TEXT, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkout_sessions (
    id TEXT PRIMARY KEY, plan_id TEXT NOT NULL, subscriber TEXT NOT NULL, created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, order_tx TEXT);
CREATE TABLE IF NOT EXISTS delegations (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, provider TEXT NOT NULL, payment_method_id TEXT,
    spending_limit_cents INTEGER NOT NULL, amount_spent_cents INTEGER NOT NULL DEFAULT 0, currency TEXT NOT NULL,
    transaction_count INTEGER NOT NULL DEFAULT 0, max_transactions INTEGER, expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL, plan_id TEXT, merchant_account_id TEXT, api_key_id TEXT,
    CHECK (amount_spent_cents <= spending_limit_cents));
CREATE INDEX IF NOT EXISTS delegations_owner ON delegations(owner);
CREATE TABLE IF NOT EXISTS payment_method_keys (
    id TEXT PRIMARY KEY REFERENCES payment_methods(id), allowed_api_key_ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_emails (email TEXT PRIMARY KEY, address TEXT NOT NULL REFERENCES accounts(address));
CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS org_members (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), address TEXT NOT NULL REFERENCES accounts(address),
    role TEXT NOT NULL, is_active INTEGER NOT NULL, external_id TEXT, email TEXT, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, UNIQUE (org_id, address), UNIQUE (org_id, external_id));
CREATE INDEX IF NOT EXISTS org_members_address ON org_members(address);
CREATE TABLE IF NOT EXISTS org_customers (
    org_id TEXT NOT NULL REFERENCES organizations(id), address TEXT NOT NULL REFERENCES accounts(address),
    created_at INTEGER NOT NULL, PRIMARY KEY (org_id, address));
CREATE TABLE IF NOT EXISTS org_assets (kind TEXT NOT NULL, asset_id TEXT NOT NULL, org_id TEXT NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (kind, asset_id));
CREATE INDEX IF NOT EXISTS org_assets_org ON org_assets(org_id, kind);
CREATE TABLE IF NOT EXISTS org_activity (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), event_type TEXT NOT NULL, actor_user_id TEXT,
    subject TEXT NOT NULL, metadata TEXT, occurred_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS org_activity_org ON org_activity(org_id, occurred_at);
CREATE TABLE IF NOT EXISTS widget_sessions (
    token_hash TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES accounts(address), key_id TEXT NOT NULL,
    return_url TEXT, expires_at INTEGER NOT NULL, used_at INTEGER, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS card_orders (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), created_by TEXT NOT NULL,
    amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL,
    amount_refunded_minor INTEGER NOT NULL DEFAULT 0, description TEXT, buyer_ref TEXT, idempotency_key TEXT,
    line_items TEXT, metadata TEXT, payment_intent_id TEXT NOT NULL UNIQUE, client_secret TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (org_id, idempotency_key),
    CHECK (amount_refunded_minor <= amount_minor));
CREATE TABLE IF NOT EXISTS settlements (
    tx TEXT PRIMARY KEY, plan_id TEXT NOT NULL, agent_id TEXT, payer TEXT NOT NULL, delegation_id TEXT NOT NULL,
    credits INTEGER NOT NULL, nonce TEXT UNIQUE, order_tx TEXT, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mpp_settlements (
    challenge_id TEXT PRIMARY KEY, tx TEXT NOT NULL REFERENCES settlements(tx), settlement TEXT NOT NULL,
    created_at INTEGER NOT NULL);
";

/// The database: one connection behind a mutex.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database and its schema.
    pub fn open(location: &DbLocation) -> rusqlite::Result<Self> {
        let conn = match location {
            DbLocation::File(path) => Connection::open(path)?,
            DbLocation::Memory => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL: readers never block the writer; NORMAL: commits don't wait for fsync (a
        // power cut may lose the last commits, never corrupt the file).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA)?;
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match version {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )?;
            }
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(rusqlite::Error::InvalidParameterName(format!("the database has schema version {v}; this nvm-local writes version {SCHEMA_VERSION}")));
            }
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// The connection. Keep the guard for the whole unit of work, and never across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock can't leave a half-applied change
        // (transactions roll back on drop), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads a `meta` value.
pub fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// Writes a `meta` value.
pub fn meta_set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])?;
    Ok(())
}
