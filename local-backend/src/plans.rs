//! Plans: registration rules, storage, the `getPlan`/`getPlans` views,
//! balances, and orders (the one place credits are granted — crypto orders,
//! paid checkouts and card-delegation top-ups all go through `grant`).

use crate::access_token::canonical_json;
use crate::error::*;
use crate::ids::{iso8601, sha256, tx_hash, u256_decimal};
use nvm_x402::api::plans::{check_address, AccessLimit};
use nvm_x402::protocol::json::Value as Json;
use nvm_x402::protocol::{scheme_of_plan, Environment, ResolvedScheme, Uint256};
use nvm_x402_types::plans::RegisterPlanRequest;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

/// The lowest fiat price: $1.00 in 6-decimal units.
pub const MIN_FIAT_PRICE: u128 = 1_000_000;
/// Fiat prices are in 6-decimal units; a cent is this many of them.
const UNITS_PER_CENT: u128 = 10_000;
/// Card providers a fiat plan may name.
pub const FIAT_PROVIDERS: [&str; 3] = ["stripe", "braintree", "visa"];

/// A registered plan and what its registration implies.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan id (a uint256 in decimal).
    pub id: String,
    /// The account that registered it (and gets paid).
    pub owner: String,
    /// The registration body, as validated.
    pub registration: RegisterPlanRequest,
    /// When it was registered (ms).
    pub created_at: i64,
    /// Orderable once per subscriber.
    pub is_trial: bool,
    /// How it is paid (`nvm:erc4337` on `eip155:84532`, or `nvm:card-delegation` on the card provider).
    pub scheme: ResolvedScheme,
    /// Pay-as-you-go: registered under the deployment's `PayAsYouGoTemplate`.
    /// Each settle is one charge of the price to the token's delegation (no
    /// credits: orders grant none and none are needed to pay).
    pub pay_as_you_go: bool,
    /// Credits one order grants (0 for pay-as-you-go plans).
    pub credits_granted: i64,
    /// Credits a request costs when the caller doesn't say (`maxAmount` absent or `"0"`).
    pub credits_per_request: i64,
    /// The credits one request may burn, `[minAmount, maxAmount]` of the plan's terms
    /// (a plan registered with `maxAmount` 0 burns at most its default).
    pub per_request: (i64, i64),
    /// Time plans: seconds one order lasts (0: forever).
    pub duration_secs: i64,
    /// The sum of `priceConfig.amounts`.
    pub price_total: u128,
}

fn to_i64(what: &str, n: &Uint256) -> ApiResult<i64> {
    n.to_u128()
        .and_then(|v| i64::try_from(v).ok())
        .ok_or_else(|| {
            CREDITS_OVERFLOW.with(format!(
                "{what} ({n}) is larger than nvm-local stores (2^63 - 1)"
            ))
        })
}

impl Plan {
    /// Checks a registration and derives the plan. The id is derived from the
    /// owner and the whole body (nonce included), as on chain.
    pub fn from_registration(
        owner: &str,
        registration: RegisterPlanRequest,
        created_at: i64,
    ) -> ApiResult<Plan> {
        let r = &registration;
        if r.metadata_attributes.name.trim().is_empty() {
            return Err(MISSING_FIELD.with("metadataAttributes.name is required"));
        }
        let price = &r.price_config;
        if let (Some(top), Some(inner)) = (&r.currency, &price.currency) {
            if !top.eq_ignore_ascii_case(inner) {
                return Err(INVALID_FIELD.with(format!(
                    "currency {top:?} differs from priceConfig.currency {inner:?}"
                )));
            }
        }
        if price.amounts.len() != price.receivers.len() {
            return Err(INVALID_FIELD
                .with("priceConfig.amounts and priceConfig.receivers must have the same length"));
        }
        for receiver in &price.receivers {
            check_address("priceConfig.receivers:", receiver)
                .map_err(|e| INVALID_FIELD.with(e.to_string()))?;
        }
        let mut price_total: u128 = 0;
        for amount in &price.amounts {
            price_total = amount
                .to_u128()
                .and_then(|a| price_total.checked_add(a))
                .ok_or_else(|| {
                    INVALID_FIELD
                        .with("priceConfig.amounts add up to more than nvm-local handles (2^128)")
                })?;
        }
        let mut fiat_provider = None;
        if !price.is_crypto {
            if price_total < MIN_FIAT_PRICE {
                return Err(FIAT_PRICE_TOO_LOW.with(format!(
                    "A fiat plan costs at least 1000000 ($1.00); this one costs {price_total}"
                )));
            }
            let named = [
                r.metadata_attributes.other.get("fiatPaymentProvider"),
                price.other.get("fiatPaymentProvider"),
            ]
            .into_iter()
            .flatten()
            .next();
            let provider = match named {
                None | Some(Json::Null) => "stripe",
                Some(Json::String(p)) if FIAT_PROVIDERS.contains(&p.as_str()) => p.as_str(),
                Some(other) => {
                    return Err(INVALID_FIELD.with(format!(
                        "fiatPaymentProvider must be stripe, braintree or visa (got {other})"
                    )))
                }
            };
            fiat_provider = Some(provider.to_owned());
        }
        let credits = &r.credits_config;
        let credits_granted = to_i64("creditsConfig.amount", &credits.amount)?;
        let min = to_i64("creditsConfig.minAmount", &credits.min_amount)?;
        let max = to_i64("creditsConfig.maxAmount", &credits.max_amount)?;
        let duration_secs = to_i64("creditsConfig.durationSecs", &credits.duration_secs)?;
        if duration_secs > i64::MAX / 1000 {
            return Err(CREDITS_OVERFLOW.with("creditsConfig.durationSecs is too large"));
        }
        if r.access_limit == AccessLimit::Credits {
            if credits_granted < 1 {
                return Err(INVALID_FIELD
                    .with("creditsConfig.amount (credits granted per order) must be at least 1"));
            }
            if min > max {
                return Err(INVALID_FIELD
                    .with("creditsConfig.minAmount can not be more than creditsConfig.maxAmount"));
            }
        }
        let pay_as_you_go = price
            .template_address
            .eq_ignore_ascii_case(&crate::deployment::address("PayAsYouGoTemplate"));
        if pay_as_you_go {
            let refusal = if price_total == 0 {
                Some("a pay-as-you-go plan charges its price on every request: priceConfig.amounts must add up to more than 0")
            } else if r.access_limit != AccessLimit::Credits {
                Some(
                    "a pay-as-you-go plan has accessLimit \"credits\" (each request is one charge)",
                )
            } else if r.is_trial_plan || r.metadata_attributes.is_trial_plan.unwrap_or(false) {
                Some("a pay-as-you-go plan can't be a trial plan")
            } else {
                None
            };
            if let Some(why) = refusal {
                return Err(INVALID_FIELD.with(why));
            }
        }
        let credits_per_request = [min, max].into_iter().find(|n| *n > 0).unwrap_or(1);
        let most = if max > 0 { max } else { credits_per_request };
        let per_request = (min.min(most), most);
        let is_trial = r.is_trial_plan || r.metadata_attributes.is_trial_plan.unwrap_or(false);
        let registration_json =
            serde_json::to_value(r).map_err(|e| INTERNAL.with(e.to_string()))?;
        let id = u256_decimal(&sha256(
            format!("{owner}\n{}", canonical_json(&registration_json)).as_bytes(),
        ));
        let mut plan = Plan {
            id,
            owner: owner.to_owned(),
            registration,
            created_at,
            is_trial,
            scheme: ResolvedScheme {
                scheme: String::new(),
                network: String::new(),
            },
            pay_as_you_go,
            credits_granted: if pay_as_you_go { 0 } else { credits_granted },
            credits_per_request,
            per_request,
            duration_secs,
            price_total,
        };
        let mut view = plan.to_json();
        if let Some(provider) = fiat_provider {
            view["metadata"]["plan"]["fiatPaymentProvider"] = json!(provider);
        }
        plan.scheme = scheme_of_plan(&view.into(), Environment::Local);
        Ok(plan)
    }

    /// The credits one request burns when the agent asks for `asked` (a settle's or
    /// verify's `maxAmount`; absent or 0: the plan's default), held to the plan's
    /// per-request terms as the hosted backend holds them: a fixed plan
    /// (`minAmount == maxAmount`) always burns its amount, a range plan clamps what
    /// is asked into `[minAmount, maxAmount]`. Both official SDKs document this
    /// (`requiresPayment`'s `credits` in payments and payments-py, citing
    /// nvm-monorepo#1568). So an agent can't make a request cost a subscriber more
    /// than the plan's terms say, whatever it asks (issue #20).
    pub fn credits_for_request(&self, asked: Option<&Uint256>) -> i64 {
        let (least, most) = self.per_request;
        match asked.filter(|m| !m.is_zero()) {
            None => self.credits_per_request,
            Some(m) => m
                .to_u128()
                .and_then(|v| i64::try_from(v).ok())
                .unwrap_or(i64::MAX)
                .clamp(least, most),
        }
    }

    /// The plan's name.
    pub fn name(&self) -> &str {
        &self.registration.metadata_attributes.name
    }

    /// Whether it is paid by card (`priceConfig.isCrypto: false`).
    pub fn is_fiat(&self) -> bool {
        !self.registration.price_config.is_crypto
    }

    /// Whether access is limited by time rather than credits.
    pub fn is_time_plan(&self) -> bool {
        self.registration.access_limit == AccessLimit::Time
    }

    /// The settle answer's `billingModel`: `pay-as-you-go`, or `credits` (time plans too).
    pub fn billing_model(&self) -> &'static str {
        if self.pay_as_you_go {
            "pay-as-you-go"
        } else {
            "credits"
        }
    }

    /// `credits` or `time`.
    pub fn plan_type(&self) -> &'static str {
        if self.is_time_plan() {
            "time"
        } else {
            "credits"
        }
    }

    /// What one order (or a pay-as-you-go request) costs, in cents, rounded
    /// up: amounts are read as 6-decimal units (fiat, USDC, EURC), a crypto
    /// plan's in any token too (nvm-local has no chain, so no token decimals).
    pub fn price_cents(&self) -> i64 {
        i64::try_from(self.price_total.div_ceil(UNITS_PER_CENT)).unwrap_or(i64::MAX)
    }

    /// The address of the plan's (simulated) credits contract.
    pub fn credits_contract(&self) -> String {
        format!(
            "0x{}",
            crate::ids::hex(
                &sha256(format!("nvm-local credits contract {}", self.id).as_bytes())[..20]
            )
        )
    }

    /// The `GET api/v1/protocol/plans/:planId` view.
    pub fn to_json(&self) -> Value {
        let r = &self.registration;
        let mut plan_meta = json!({"accessLimit": r.access_limit, "isTrialPlan": self.is_trial});
        if self.is_fiat() {
            plan_meta["fiatPaymentProvider"] = json!(self.scheme.network);
        }
        json!({
            "id": self.id,
            "planId": self.id,
            "owner": self.owner,
            "name": self.name(),
            "accessLimit": r.access_limit,
            "isTrialPlan": self.is_trial,
            "metadata": {"main": r.metadata_attributes, "plan": plan_meta},
            "registry": {"owner": self.owner, "price": r.price_config, "credits": r.credits_config},
            "creditsContract": self.credits_contract(),
            "createdAt": iso8601(self.created_at),
        })
    }

    /// Whether a balance gives access now (credits left, or an unexpired time plan).
    pub fn is_usable(&self, balance: Option<&Balance>, now: i64) -> bool {
        match balance {
            None => false,
            Some(b) if self.is_time_plan() => b.orders > 0 && b.expires_at.is_none_or(|t| t > now),
            Some(b) => b.credits > 0,
        }
    }

    /// The balance view (`getPlanBalance`, and `agentRequest.balance` of verify).
    pub fn balance_json(&self, holder: &str, balance: Option<&Balance>, now: i64) -> Value {
        let usable = self.is_usable(balance, now);
        let credits = match balance {
            Some(b) if !self.is_time_plan() || usable => b.credits,
            _ => 0,
        };
        let price_per_credit = if self.credits_granted > 0 {
            self.price_total as f64 / self.credits_granted as f64
        } else {
            0.0
        };
        let mut view = json!({
            "planId": self.id,
            "planName": self.name(),
            "planType": self.plan_type(),
            "holderAddress": holder,
            "balance": credits.to_string(),
            "creditsContract": self.credits_contract(),
            "isSubscriber": usable,
            "pricePerCredit": price_per_credit,
        });
        if let Some(expires) = balance
            .and_then(|b| b.expires_at)
            .filter(|_| self.is_time_plan())
        {
            view["expiresAt"] = json!(iso8601(expires));
        }
        view
    }
}

/// A holder's balance on a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// Credits left.
    pub credits: i64,
    /// Time plans: when access ends (ms); `None`: never.
    pub expires_at: Option<i64>,
    /// How many times the holder ordered the plan.
    pub orders: i64,
}

/// Reads a balance; `None` when the holder never ordered the plan.
pub(crate) fn load_balance(
    conn: &Connection,
    plan_id: &str,
    holder: &str,
) -> rusqlite::Result<Option<Balance>> {
    conn.prepare_cached(
        "SELECT credits, expires_at, orders FROM balances WHERE plan_id = ?1 AND holder = ?2",
    )?
    .query_row([plan_id, holder], |r| {
        Ok(Balance {
            credits: r.get(0)?,
            expires_at: r.get(1)?,
            orders: r.get(2)?,
        })
    })
    .optional()
}

/// Writes a balance.
pub(crate) fn store_balance(
    conn: &Connection,
    plan_id: &str,
    holder: &str,
    b: &Balance,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO balances (plan_id, holder, credits, expires_at, orders) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(plan_id, holder) DO UPDATE SET credits = excluded.credits, expires_at = excluded.expires_at, orders = excluded.orders",
    )?
    .execute(params![plan_id, holder, b.credits, b.expires_at, b.orders])?;
    Ok(())
}

/// How an order was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    /// `POST .../order` (crypto or free; nvm-local has no chain, so it always pays).
    Crypto,
    /// A paid checkout page.
    Checkout,
    /// A card-delegation settle that found too few credits.
    DelegationTopUp,
    /// A settle of a pay-as-you-go plan: the request's one charge (no credits).
    PayAsYouGo,
}

impl OrderKind {
    fn as_str(self) -> &'static str {
        match self {
            OrderKind::Crypto => "crypto",
            OrderKind::Checkout => "checkout",
            OrderKind::DelegationTopUp => "delegation",
            OrderKind::PayAsYouGo => "pay-as-you-go",
        }
    }
}

/// Grants one order of a plan to a subscriber and records it; returns the order's transaction hash.
/// Run inside the caller's transaction. Trial plans are granted once per subscriber.
pub(crate) fn grant(
    conn: &Connection,
    plan: &Plan,
    subscriber: &str,
    kind: OrderKind,
    paid_by: Option<&str>,
    now: i64,
) -> ApiResult<String> {
    let current = load_balance(conn, &plan.id, subscriber)?.unwrap_or(Balance {
        credits: 0,
        expires_at: None,
        orders: 0,
    });
    if plan.is_trial && current.orders > 0 {
        return Err(TRIAL_ALREADY_ORDERED.with(format!(
            "Trial plan {} was already ordered by {subscriber}; a trial can be ordered once",
            plan.id
        )));
    }
    let credits = current
        .credits
        .checked_add(plan.credits_granted)
        .ok_or_else(|| CREDITS_OVERFLOW.with("The balance would exceed 2^63 - 1 credits"))?;
    let expires_at = if plan.is_time_plan() && plan.duration_secs > 0 {
        let from = current.expires_at.unwrap_or(now).max(now);
        Some(from.saturating_add(plan.duration_secs * 1000))
    } else if plan.is_time_plan() {
        None
    } else {
        current.expires_at
    };
    store_balance(
        conn,
        &plan.id,
        subscriber,
        &Balance {
            credits,
            expires_at,
            orders: current.orders + 1,
        },
    )?;
    let tx = tx_hash();
    conn.prepare_cached("INSERT INTO orders (tx, plan_id, subscriber, kind, credits, price, delegation_id, checkout_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?
        .execute(params![
            tx,
            plan.id,
            subscriber,
            kind.as_str(),
            plan.credits_granted,
            plan.price_total.to_string(),
            paid_by.filter(|_| matches!(kind, OrderKind::DelegationTopUp | OrderKind::PayAsYouGo)),
            paid_by.filter(|_| kind == OrderKind::Checkout),
            now
        ])?;
    if let Some(org) = crate::organizations::org_of_asset(conn, "plan", &plan.id)? {
        crate::organizations::record(
            conn,
            &org,
            crate::organizations::events::PLAN_PURCHASED,
            Some(subscriber),
            json!({"kind": "plan", "id": plan.id, "name": plan.name()}),
            Some(json!({"credits": plan.credits_granted, "order": kind.as_str(), "txHash": tx})),
            now,
        )?;
    }
    Ok(tx)
}

/// Plan and agent ids are canonical decimals: `"007"` names `7` (anything else is taken as written).
pub fn canonical_id(id: &str) -> String {
    Uint256::parse(id.trim())
        .map(|n| n.to_string())
        .unwrap_or_else(|_| id.trim().to_owned())
}

/// Stores a new plan (inside the caller's transaction).
pub(crate) fn insert_plan(conn: &Connection, plan: &Plan) -> ApiResult<()> {
    let registration =
        serde_json::to_string(&plan.registration).map_err(|e| INTERNAL.with(e.to_string()))?;
    let inserted = conn.execute(
        "INSERT INTO plans (id, owner, registration, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO NOTHING",
        params![plan.id, plan.owner, registration, plan.created_at],
    )?;
    if inserted == 0 {
        return Err(PLAN_EXISTS.with(format!(
            "Plan {} is already registered (same owner, configuration and nonce)",
            plan.id
        )));
    }
    Ok(())
}
