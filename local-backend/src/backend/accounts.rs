//! The [`Backend`] operations of [`crate::accounts`]: the endpoints' behaviour over
//! the state; the accounts types and their rules live in that module.

use crate::access_token::address_of;
use crate::accounts::*;
use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::ids::random_bytes;
use ed25519_dalek::SigningKey;
use nvm_x402_types::delegation::{PaymentMethodsQuery, UpdatePaymentMethodDto};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use std::sync::Arc;

impl Backend {
    /// The account with this address (cached; addresses compare case-insensitively).
    pub fn account(&self, address: &str) -> ApiResult<Option<Arc<Account>>> {
        let address = address.to_ascii_lowercase();
        if let Some(account) = self.accounts.get(&address) {
            return Ok(Some(account));
        }
        let conn = self.store.lock();
        let row = conn
            .prepare_cached("SELECT address, name, secret_key FROM accounts WHERE address = ?1")?
            .query_row([&address], |r| {
                account_from_row(r.get(0)?, r.get(1)?, r.get(2)?)
            })
            .optional()?;
        drop(conn);
        Ok(row.map(|account| {
            let account = Arc::new(account);
            self.accounts.insert(address, account.clone());
            account
        }))
    }

    /// The accounts with a name (the sign-in page's list): `(name, address)`, oldest first.
    pub fn local_accounts(&self) -> ApiResult<Vec<(String, String)>> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT name, address FROM accounts ORDER BY created_at, name LIMIT 100",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The account with this name, if any.
    pub fn account_by_name(&self, name: &str) -> ApiResult<Option<Arc<Account>>> {
        let address: Option<String> = self
            .store
            .lock()
            .prepare_cached("SELECT address FROM accounts WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        match address {
            Some(a) => self.account(&a),
            None => Ok(None),
        }
    }

    /// Creates an account with a test card and a wallet — or, when the name is
    /// taken, issues a new key for that account.
    pub fn create_account(&self, name: &str) -> ApiResult<IssuedAccount> {
        let name = check_name(name)?;
        if let Some(account) = self.account_by_name(name)? {
            return Ok(IssuedAccount {
                api_key: self.mint_api_key(&account.address),
                account,
                created: false,
            });
        }
        let account = {
            let mut conn = self.store.lock();
            let tx = conn.transaction()?;
            let account = insert_account(&tx, name, self.now_ms())?;
            tx.commit()?;
            account
        };
        Ok(IssuedAccount {
            api_key: self.mint_api_key(&account.address),
            account: self.cache_account(account),
            created: true,
        })
    }

    /// Keeps a new account (its row committed) in the cache.
    pub(crate) fn cache_account(&self, account: Account) -> Arc<Account> {
        let account = Arc::new(account);
        self.accounts
            .insert(account.address.clone(), account.clone());
        account
    }

    /// `GET api/v1/payment-methods[?accessible=true][&provider=...]`: the caller's
    /// card and wallet; with `accessible=true`, only those the caller's API key may
    /// use (no `allowedApiKeyIds`, or the key's id among them).
    pub fn list_payment_methods(
        &self,
        caller: &Caller,
        query: &PaymentMethodsQuery,
    ) -> ApiResult<Value> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "{METHOD_SELECT} WHERE m.owner = ?1 ORDER BY m.created_at, m.type"
        ))?;
        let rows = stmt.query_map([caller.address()], method_json)?;
        let provider = query.provider.as_deref().filter(|p| !p.is_empty());
        let accessible = query.accessible == Some(true);
        let mut methods = Vec::new();
        for row in rows {
            let method = row?;
            if provider.is_none_or(|p| method["provider"] == p)
                && (!accessible || key_may_use(&method, &caller.key_id))
            {
                methods.push(method);
            }
        }
        Ok(Value::Array(methods))
    }

    /// `PATCH api/v1/payment-methods/:id` `{alias?, allowedApiKeyIds?}`: the
    /// caller's payment method, renamed or restricted to some API keys
    /// (`allowedApiKeyIds: null` lifts the restriction); another account's is
    /// "not found".
    pub fn update_payment_method(
        &self,
        caller: &Caller,
        id: &str,
        body: &UpdatePaymentMethodDto,
    ) -> ApiResult<Value> {
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        let owned: Option<String> = tx
            .prepare_cached("SELECT id FROM payment_methods WHERE id = ?1 AND owner = ?2")?
            .query_row([id, caller.address()], |r| r.get(0))
            .optional()?;
        let id = owned.ok_or_else(|| {
            PAYMENT_METHOD_NOT_FOUND.with(format!(
                "No payment method {:?} belongs to this account",
                shorten(id)
            ))
        })?;
        if let Some(alias) = &body.alias {
            tx.execute(
                "UPDATE payment_methods SET alias = ?2 WHERE id = ?1",
                params![id, alias],
            )?;
        }
        match &body.allowed_api_key_ids {
            None => {}
            Some(None) => {
                tx.execute("DELETE FROM payment_method_keys WHERE id = ?1", [&id])?;
            }
            Some(Some(keys)) => {
                if keys.iter().any(|k| k.trim().is_empty()) {
                    return Err(INVALID_FIELD.with("allowedApiKeyIds must not hold empty ids"));
                }
                let keys = serde_json::to_string(keys).map_err(|e| INTERNAL.with(e.to_string()))?;
                tx.execute(
                    "INSERT INTO payment_method_keys (id, allowed_api_key_ids) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET allowed_api_key_ids = excluded.allowed_api_key_ids",
                    params![id, keys],
                )?;
            }
        }
        let method = tx
            .prepare_cached(&format!("{METHOD_SELECT} WHERE m.id = ?1"))?
            .query_row([&id], method_json)?;
        tx.commit()?;
        Ok(method)
    }

    /// The card (`type: "card"`) of the caller with this id, if any: `(id,
    /// provider)`; a card restricted to other API keys is `BCK.DELEGATION.0902`.
    pub(crate) fn card_of(
        &self,
        conn: &Connection,
        caller: &Caller,
        id: &str,
    ) -> ApiResult<Option<(String, String)>> {
        let card = conn
            .prepare_cached(&format!(
                "{METHOD_SELECT} WHERE m.owner = ?1 AND m.id = ?2 AND m.type = 'card'"
            ))?
            .query_row([caller.address(), id], method_json)
            .optional()?;
        match card {
            None => Ok(None),
            Some(card) if !key_may_use(&card, &caller.key_id) => Err(PAYMENT_METHOD_RESTRICTED
                .with(format!(
                    "Card {:?} is restricted to other API keys (allowedApiKeyIds)",
                    shorten(id)
                ))),
            Some(card) => Ok(Some((
                card["id"].as_str().unwrap_or_default().to_owned(),
                card["provider"].as_str().unwrap_or_default().to_owned(),
            ))),
        }
    }

    /// The id of the account's first card.
    pub fn first_card(&self, owner: &str) -> ApiResult<Option<String>> {
        Ok(self
            .store
            .lock()
            .prepare_cached("SELECT id FROM payment_methods WHERE owner = ?1 AND type = 'card' ORDER BY created_at LIMIT 1")?
            .query_row([owner], |r| r.get(0))
            .optional()?)
    }
}

/// Adds an account named `name` (unique) with a new key, a test card and a wallet.
pub(crate) fn insert_account(conn: &Connection, name: &str, now: i64) -> ApiResult<Account> {
    let signing_key = SigningKey::from_bytes(&random_bytes::<32>());
    let address = address_of(&signing_key.verifying_key());
    conn.execute(
        "INSERT INTO accounts (address, name, secret_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![address, name, signing_key.to_bytes().to_vec(), now],
    )?;
    insert_payment_methods(conn, &address, now)?;
    Ok(Account {
        address,
        name: name.to_owned(),
        signing_key,
    })
}

/// A payment method's view, as listed: the row read by `METHOD_SELECT`.
const METHOD_SELECT: &str = "SELECT m.id, m.type, m.brand, m.last4, m.exp_month, m.exp_year, m.provider, m.alias, m.status, k.allowed_api_key_ids FROM payment_methods m LEFT JOIN payment_method_keys k ON k.id = m.id";

fn method_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let allowed: Option<String> = r.get(9)?;
    Ok(json!({
        "id": r.get::<_, String>(0)?, "type": r.get::<_, String>(1)?, "brand": r.get::<_, String>(2)?,
        "last4": r.get::<_, String>(3)?, "expMonth": r.get::<_, i64>(4)?, "expYear": r.get::<_, i64>(5)?,
        "provider": r.get::<_, String>(6)?, "alias": r.get::<_, Option<String>>(7)?, "status": r.get::<_, String>(8)?,
        "allowedApiKeyIds": allowed.and_then(|a| serde_json::from_str::<Value>(&a).ok()).unwrap_or(Value::Null),
    }))
}

/// Whether an API key (its `jti`) may use a payment method (its view).
fn key_may_use(method: &Value, key_id: &str) -> bool {
    match method["allowedApiKeyIds"].as_array() {
        None => true,
        Some(keys) => keys.iter().any(|k| k == key_id),
    }
}
