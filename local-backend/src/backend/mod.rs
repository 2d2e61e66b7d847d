//! [`Backend`]: the state behind every endpoint — the database, the key that
//! signs API keys, the clock, and in-memory caches of things that never change
//! once written (accounts, plans, agents, checked tokens and API keys).
//! The operations on accounts, plans and agents are in this module's children
//! (`backend::accounts`, ...), so those domain modules (types and rules) don't
//! depend on the state that caches them; `delegations`, `x402` and `checkout`
//! add their own `impl Backend` blocks.

mod accounts;
mod agents;
mod organizations;
mod plans;

use crate::access_token::{Domain, VerifiedToken};
use crate::accounts::Account;
use crate::agents::Agent;
use crate::api_keys::{self, KeyClaims};
use crate::error::{ApiResult, INVALID_API_KEY};
use crate::ids::{hex, parse_hex, random_bytes};
use crate::plans::Plan;
use crate::store::{meta_get, meta_set, DbLocation, Store};
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// How many checked tokens and API keys each cache keeps before starting over.
const CACHE_LIMIT: usize = 50_000;

/// The clock: system time plus an offset tests can move forward
/// (`POST /local/v1/clock/advance`), so expiry is testable without sleeping.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Milliseconds since the Unix epoch, as nvm-local sees them.
    pub fn now_ms(&self) -> i64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        system + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock forward; returns the new time.
    pub fn advance(&self, ms: i64) -> i64 {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        self.now_ms()
    }
}

/// A bounded map: filled on a miss, emptied whole when full (entries are cheap to recompute).
pub(crate) struct Cache<K, V> {
    map: RwLock<HashMap<K, V>>,
    limit: usize,
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    pub(crate) fn new(limit: usize) -> Self {
        Cache {
            map: RwLock::new(HashMap::new()),
            limit,
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.limit {
            map.clear();
        }
        map.insert(key, value);
    }
}

/// The account behind a request's API key.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub account: Arc<Account>,
    /// The key's `jti` (what a delegation's `apiKeyId` restricts to).
    pub key_id: String,
    /// The organization the request names (`X-Current-Org-Id`), unchecked:
    /// [`Backend::active_org`] checks it.
    pub org_header: Option<String>,
}

impl Caller {
    /// The account address.
    pub fn address(&self) -> &str {
        &self.account.address
    }
}

/// The shared state of a running nvm-local.
pub struct Backend {
    pub(crate) store: Store,
    pub(crate) secret: Vec<u8>,
    /// The clock every rule reads.
    pub clock: Clock,
    pub(crate) accounts: Cache<String, Arc<Account>>,
    pub(crate) plans: Cache<String, Arc<Plan>>,
    pub(crate) agents: Cache<String, Arc<Agent>>,
    pub(crate) tokens: Cache<(Domain, String), Arc<VerifiedToken>>,
    api_keys: Cache<String, KeyClaims>,
}

impl Backend {
    /// Opens the database and loads (or creates) its signing secret.
    pub fn open(location: &DbLocation) -> rusqlite::Result<Self> {
        let store = Store::open(location)?;
        let secret = {
            let conn = store.lock();
            match meta_get(&conn, "api_key_secret")?.and_then(|h| parse_hex(&h)) {
                Some(secret) => secret,
                None => {
                    let secret = random_bytes::<32>().to_vec();
                    meta_set(&conn, "api_key_secret", &hex(&secret))?;
                    secret
                }
            }
        };
        Ok(Backend {
            store,
            secret,
            clock: Clock::default(),
            accounts: Cache::new(CACHE_LIMIT),
            plans: Cache::new(CACHE_LIMIT),
            agents: Cache::new(CACHE_LIMIT),
            tokens: Cache::new(CACHE_LIMIT),
            api_keys: Cache::new(CACHE_LIMIT),
        })
    }

    /// Current time in ms (see [`Clock`]).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Mints a new API key for an account of this database.
    pub fn mint_api_key(&self, address: &str) -> String {
        api_keys::mint(&self.secret, address, self.now_ms() / 1000)
    }

    /// The caller of an authenticated endpoint: `Authorization: Bearer <key>`
    /// with a key this database signed for one of its accounts.
    pub fn authenticate(&self, headers: &HeaderMap) -> ApiResult<Caller> {
        let header = headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                INVALID_API_KEY.with("Missing API key: send Authorization: Bearer <key>")
            })?;
        let value = header
            .to_str()
            .map_err(|_| INVALID_API_KEY.with("The Authorization header is not text"))?;
        let (scheme, key) = value.trim().split_once(' ').ok_or_else(|| {
            INVALID_API_KEY.with("The Authorization header must be 'Bearer <key>'")
        })?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(INVALID_API_KEY.with("The Authorization header must be 'Bearer <key>'"));
        }
        let key = key.trim();
        let claims = match self.api_keys.get(&key.to_owned()) {
            Some(claims) => claims,
            None => {
                let claims = api_keys::verify(&self.secret, key).ok_or_else(|| {
                    INVALID_API_KEY
                        .with("Invalid API key: it was not issued by this nvm-local database")
                })?;
                self.api_keys.insert(key.to_owned(), claims.clone());
                claims
            }
        };
        let account = self
            .account(&claims.sub)?
            .ok_or_else(|| INVALID_API_KEY.with("Invalid API key: its account does not exist"))?;
        let org_header = headers
            .get("x-current-org-id")
            .and_then(|h| h.to_str().ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        Ok(Caller {
            account,
            key_id: claims.jti,
            org_header,
        })
    }
}
