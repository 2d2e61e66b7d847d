//! The [`Backend`] operations of [`crate::accounts`]: the endpoints' behaviour over
//! the state; the accounts types and their rules live in that module.

use crate::access_token::address_of;
use crate::accounts::*;
use crate::backend::{Backend, Caller};
use crate::error::ApiResult;
use crate::ids::random_bytes;
use ed25519_dalek::SigningKey;
use nvm_x402_types::delegation::PaymentMethodsQuery;
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
        let signing_key = SigningKey::from_bytes(&random_bytes::<32>());
        let address = address_of(&signing_key.verifying_key());
        let now = self.now_ms();
        {
            let mut conn = self.store.lock();
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO accounts (address, name, secret_key, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![address, name, signing_key.to_bytes().to_vec(), now],
            )?;
            insert_payment_methods(&tx, &address, now)?;
            tx.commit()?;
        }
        let account = Arc::new(Account {
            address: address.clone(),
            name: name.to_owned(),
            signing_key,
        });
        self.accounts.insert(address.clone(), account.clone());
        Ok(IssuedAccount {
            api_key: self.mint_api_key(&address),
            account,
            created: true,
        })
    }

    /// `GET api/v1/payment-methods[?accessible=true][&provider=...]`: the caller's
    /// card and wallet (nothing is shared between accounts, so `accessible` adds nothing).
    pub fn list_payment_methods(
        &self,
        caller: &Caller,
        query: &PaymentMethodsQuery,
    ) -> ApiResult<Value> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, type, brand, last4, exp_month, exp_year, provider, alias, status FROM payment_methods WHERE owner = ?1 ORDER BY created_at, type",
        )?;
        let rows = stmt.query_map([caller.address()], |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?, "type": r.get::<_, String>(1)?, "brand": r.get::<_, String>(2)?,
                "last4": r.get::<_, String>(3)?, "expMonth": r.get::<_, i64>(4)?, "expYear": r.get::<_, i64>(5)?,
                "provider": r.get::<_, String>(6)?, "alias": r.get::<_, Option<String>>(7)?, "status": r.get::<_, String>(8)?,
            }))
        })?;
        let provider = query.provider.as_deref().filter(|p| !p.is_empty());
        let mut methods = Vec::new();
        for row in rows {
            let method = row?;
            if provider.is_none_or(|p| method["provider"] == p) {
                methods.push(method);
            }
        }
        Ok(Value::Array(methods))
    }

    /// The card (`type: "card"`) of `owner` with this id, if any: `(id, provider)`.
    pub(crate) fn card_of(
        &self,
        conn: &Connection,
        owner: &str,
        id: &str,
    ) -> ApiResult<Option<(String, String)>> {
        Ok(conn
            .prepare_cached("SELECT id, provider FROM payment_methods WHERE owner = ?1 AND id = ?2 AND type = 'card'")?
            .query_row([owner, id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
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
