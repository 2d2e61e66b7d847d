//! Delegations: a spending allowance an access token draws on — provider
//! (`erc4337`, or a card provider with the account's card), spending limit,
//! expiry, optional transaction cap, plan and API-key restrictions — and its
//! accounting (`transactionCount`, `amountSpentCents`).

use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::ids::{iso8601, uuid_v4};
use nvm_x402::api::delegation::{CURRENCIES, PROVIDERS};
use nvm_x402::protocol::{SCHEME_CARD_DELEGATION, SCHEME_ERC4337};
use nvm_x402_types::delegation::CreateDelegation;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};

/// A delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// A UUID.
    pub id: String,
    /// The account whose money it spends.
    pub owner: String,
    /// `erc4337`, `stripe`, `braintree` or `visa`.
    pub provider: String,
    /// The card (card providers) or wallet.
    pub payment_method_id: Option<String>,
    /// The budget, in cents.
    pub spending_limit_cents: i64,
    /// Spent so far (card top-ups), in cents.
    pub amount_spent_cents: i64,
    /// `usd`, `eur`, `usdc` or `eurc`.
    pub currency: String,
    /// Successful settles so far.
    pub transaction_count: i64,
    /// At most this many settles.
    pub max_transactions: Option<i64>,
    /// When it stops working (ms).
    pub expires_at: i64,
    /// When it was created (ms).
    pub created_at: i64,
    /// Only this plan, when set.
    pub plan_id: Option<String>,
    /// The merchant account, as given.
    pub merchant_account_id: Option<String>,
    /// Only tokens minted with this API key (its `jti`), when set.
    pub api_key_id: Option<String>,
}

const COLUMNS: &str = "id, owner, provider, payment_method_id, spending_limit_cents, amount_spent_cents, currency, transaction_count, max_transactions, expires_at, created_at, plan_id, merchant_account_id, api_key_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Delegation> {
    Ok(Delegation {
        id: r.get(0)?,
        owner: r.get(1)?,
        provider: r.get(2)?,
        payment_method_id: r.get(3)?,
        spending_limit_cents: r.get(4)?,
        amount_spent_cents: r.get(5)?,
        currency: r.get(6)?,
        transaction_count: r.get(7)?,
        max_transactions: r.get(8)?,
        expires_at: r.get(9)?,
        created_at: r.get(10)?,
        plan_id: r.get(11)?,
        merchant_account_id: r.get(12)?,
        api_key_id: r.get(13)?,
    })
}

impl Delegation {
    /// Whether it pays with a card (`nvm:card-delegation` tokens).
    pub fn is_card(&self) -> bool {
        self.provider != "erc4337"
    }

    /// The token scheme it backs.
    pub fn scheme(&self) -> &'static str {
        if self.is_card() {
            SCHEME_CARD_DELEGATION
        } else {
            SCHEME_ERC4337
        }
    }

    /// Budget left, in cents.
    pub fn remaining_cents(&self) -> i64 {
        self.spending_limit_cents - self.amount_spent_cents
    }

    /// `active`, `expired` or `exhausted` (its transaction cap is reached).
    pub fn status(&self, now: i64) -> &'static str {
        if self.expires_at <= now {
            "expired"
        } else if self
            .max_transactions
            .is_some_and(|m| self.transaction_count >= m)
        {
            "exhausted"
        } else {
            "active"
        }
    }

    /// Checks the delegation can pay for `plan_id` now: not expired, under its
    /// transaction cap, and not restricted to another plan.
    pub fn check_usable(&self, plan_id: &str, now: i64) -> ApiResult<()> {
        if self.expires_at <= now {
            return Err(DELEGATION_EXPIRED.with(format!(
                "Delegation {} expired at {}",
                self.id,
                iso8601(self.expires_at)
            )));
        }
        if let Some(max) = self
            .max_transactions
            .filter(|m| self.transaction_count >= *m)
        {
            return Err(MAX_TRANSACTIONS.with(format!(
                "Delegation {} reached its maxTransactions ({max})",
                self.id
            )));
        }
        if let Some(only) = self.plan_id.as_deref().filter(|p| *p != plan_id) {
            return Err(DELEGATION_NOT_USABLE.with(format!(
                "Delegation {} is restricted to plan {only}",
                self.id
            )));
        }
        Ok(())
    }

    /// The `listDelegations` item, with the field names of both official SDKs
    /// (`delegationId`/`id`, `providerPaymentMethodId`/`cardId`, `amountSpentCents`/`spentCents`).
    pub fn to_json(&self, now: i64) -> Value {
        json!({
            "delegationId": self.id,
            "id": self.id,
            "provider": self.provider,
            "providerPaymentMethodId": self.payment_method_id,
            "cardId": self.payment_method_id,
            "status": self.status(now),
            "spendingLimitCents": self.spending_limit_cents,
            "amountSpentCents": self.amount_spent_cents,
            "spentCents": self.amount_spent_cents,
            "remainingBudgetCents": self.remaining_cents(),
            "currency": self.currency,
            "transactionCount": self.transaction_count,
            "maxTransactions": self.max_transactions,
            "durationSecs": (self.expires_at - self.created_at) / 1000,
            "expiresAt": iso8601(self.expires_at),
            "createdAt": iso8601(self.created_at),
            "planId": self.plan_id,
            "merchantAccountId": self.merchant_account_id,
            "apiKeyId": self.api_key_id,
        })
    }
}

/// Reads a delegation.
pub(crate) fn load_delegation(conn: &Connection, id: &str) -> rusqlite::Result<Option<Delegation>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM delegations WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Records one settle paid by the delegation, and what it spent on top-ups.
pub(crate) fn record_use(conn: &Connection, id: &str, spent_cents: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE delegations SET transaction_count = transaction_count + 1, amount_spent_cents = amount_spent_cents + ?2 WHERE id = ?1")?
        .execute(params![id, spent_cents])?;
    Ok(())
}

fn positive(name: &str, value: Option<u64>, max: i64) -> ApiResult<i64> {
    match value {
        None => Err(MISSING_FIELD.with(format!("{name} is required"))),
        Some(0) => Err(INVALID_FIELD.with(format!("{name} must be a positive integer"))),
        Some(n) => i64::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| INVALID_FIELD.with(format!("{name} is too large"))),
    }
}

impl Backend {
    /// Checks a `createDelegation` body and stores the delegation.
    pub(crate) fn insert_delegation(
        &self,
        caller: &Caller,
        body: &CreateDelegation,
    ) -> ApiResult<Delegation> {
        let mut delegation = self.new_delegation(caller, body)?;
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        self.store_delegation(&tx, caller, &mut delegation)?;
        tx.commit()?;
        Ok(delegation)
    }

    /// Checks a `createDelegation` body (before the store is locked: the plan
    /// is looked up): the delegation it asks for, its card not checked yet
    /// ([`Backend::store_delegation`] does).
    pub(crate) fn new_delegation(
        &self,
        caller: &Caller,
        body: &CreateDelegation,
    ) -> ApiResult<Delegation> {
        let provider = body.provider.trim().to_ascii_lowercase();
        if !PROVIDERS.contains(&provider.as_str()) {
            return Err(INVALID_FIELD.with(format!(
                "provider must be one of stripe, braintree, visa, erc4337 (got {:?})",
                body.provider
            )));
        }
        let is_card = provider != "erc4337";
        let spending_limit_cents =
            positive("spendingLimitCents", body.spending_limit_cents, i64::MAX)?;
        let duration_secs = positive("durationSecs", body.duration_secs, i64::MAX / 1000 - 1)?;
        let max_transactions = match body.max_transactions {
            None => None,
            Some(n) => Some(positive("maxTransactions", Some(n), i64::MAX)?),
        };
        let currency = body
            .currency
            .as_deref()
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| if is_card { "usd" } else { "usdc" }.to_owned());
        if !CURRENCIES.contains(&currency.as_str()) {
            return Err(INVALID_FIELD.with(format!(
                "currency must be one of usd, eur, usdc, eurc (got {currency:?})"
            )));
        }
        let plan_id = match body
            .plan_id
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(p) => Some(self.require_plan(p)?.id.clone()),
            None => None,
        };
        let method = body
            .provider_payment_method_id
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        if is_card && method.is_none() {
            return Err(MISSING_FIELD.with("providerPaymentMethodId is required for card delegations (see GET api/v1/payment-methods)"));
        }
        let now = self.now_ms();
        Ok(Delegation {
            id: uuid_v4(),
            owner: caller.address().to_owned(),
            provider,
            payment_method_id: method.map(str::to_owned),
            spending_limit_cents,
            amount_spent_cents: 0,
            currency,
            transaction_count: 0,
            max_transactions,
            expires_at: now + duration_secs * 1000,
            created_at: now,
            plan_id,
            merchant_account_id: body.merchant_account_id.clone(),
            api_key_id: body.api_key_id.clone().filter(|k| !k.is_empty()),
        })
    }

    /// Stores a delegation from [`Backend::new_delegation`] in `conn` (a
    /// transaction of the caller's): a card delegation's card must be the
    /// caller's (its id as stored).
    pub(crate) fn store_delegation(
        &self,
        conn: &Connection,
        caller: &Caller,
        delegation: &mut Delegation,
    ) -> ApiResult<()> {
        if delegation.is_card() {
            let m = delegation.payment_method_id.as_deref().unwrap_or_default();
            let card = self.card_of(conn, caller, m)?.ok_or_else(|| {
                PAYMENT_METHOD_NOT_FOUND.with(format!("No card {m:?} belongs to this account"))
            })?;
            delegation.payment_method_id = Some(card.0);
        }
        conn.execute(
            &format!("INSERT INTO delegations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
            params![
                delegation.id,
                delegation.owner,
                delegation.provider,
                delegation.payment_method_id,
                delegation.spending_limit_cents,
                delegation.amount_spent_cents,
                delegation.currency,
                delegation.transaction_count,
                delegation.max_transactions,
                delegation.expires_at,
                delegation.created_at,
                delegation.plan_id,
                delegation.merchant_account_id,
                delegation.api_key_id
            ],
        )?;
        Ok(())
    }

    /// `POST api/v1/delegation/create`.
    pub fn create_delegation(&self, caller: &Caller, body: &CreateDelegation) -> ApiResult<Value> {
        let delegation = self.insert_delegation(caller, body)?;
        Ok(
            json!({"delegationId": delegation.id, "status": "active", "expiresAt": iso8601(delegation.expires_at)}),
        )
    }

    /// The caller's delegation with this id, or `BCK.DELEGATION.0900` (another account's is "not found" too).
    pub fn own_delegation(&self, caller: &Caller, id: &str) -> ApiResult<Delegation> {
        load_delegation(&self.store.lock(), id.trim())?
            .filter(|d| d.owner == caller.address())
            .ok_or_else(|| {
                DELEGATION_NOT_FOUND.with(format!(
                    "Delegation {} not found for this account",
                    crate::error::shorten(id)
                ))
            })
    }

    /// `GET api/v1/delegation[?accessible=true]`: the caller's delegations,
    /// newest first, as a bare list (the official Python SDK reads only that
    /// shape; our client and the TypeScript one accept it too). With
    /// `accessible`, only those the caller's API key can use now: active (not
    /// expired, under their transaction cap), with budget left, and not
    /// restricted to another API key.
    pub fn list_delegations(&self, caller: &Caller, accessible: bool) -> ApiResult<Value> {
        let now = self.now_ms();
        let conn = self.store.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM delegations WHERE owner = ?1 ORDER BY created_at DESC, id"
        ))?;
        let mut items = Vec::new();
        for d in stmt.query_map([caller.address()], from_row)? {
            let d = d?;
            let usable = d.status(now) == "active"
                && d.remaining_cents() > 0
                && d.api_key_id.as_ref().is_none_or(|k| *k == caller.key_id);
            if usable || !accessible {
                items.push(d.to_json(now));
            }
        }
        Ok(Value::Array(items))
    }
}
