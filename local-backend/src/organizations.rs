//! Organizations: members (an account with a role: `Admin`, `Member` or
//! `Client`), white-label customers, the plans and agents published into an
//! organization, and its activity feed. The organization a request acts in
//! is `X-Current-Org-Id` (an organization the caller is an active member of),
//! else the caller's oldest active membership, else none (a personal account).

use crate::error::*;
use crate::ids::iso8601;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};

/// The roles a member can have (the official SDKs' `OrganizationMemberRole`).
pub const ROLES: [&str; 3] = ["Admin", "Member", "Client"];

/// The role a member gets when none is named.
pub const DEFAULT_ROLE: &str = "Member";

/// An organization's tier (nvm-local makes `Premium` ones).
pub const ORG_TYPE: &str = "Premium";

/// The activity events nvm-local records (the official SDKs' `OrganizationActivityEventType`).
pub mod events {
    /// `createMember` enrolled an account.
    pub const MEMBER_JOINED: &str = "member.joined";
    /// `onboardCustomer` made a customer.
    pub const CUSTOMER_ADDED: &str = "customer.added";
    /// A plan was published into the organization.
    pub const PLAN_CREATED: &str = "plan.created";
    /// An agent was published into the organization.
    pub const AGENT_CREATED: &str = "agent.created";
    /// A plan of the organization was ordered (credits granted).
    pub const PLAN_PURCHASED: &str = "plan.purchased";
}

/// The largest page of members or events.
pub const MAX_PAGE: u64 = 200;

/// The user id the API shows for an account: `us-` and its address's hex.
///
/// ```
/// assert_eq!(nvm_local::organizations::user_id("0xAbC"), "us-abc");
/// ```
pub fn user_id(address: &str) -> String {
    format!(
        "us-{}",
        address
            .strip_prefix("0x")
            .unwrap_or(address)
            .to_ascii_lowercase()
    )
}

/// Checks a role name.
pub fn check_role(role: &str) -> ApiResult<&'static str> {
    ROLES.iter().find(|r| **r == role).copied().ok_or_else(|| {
        INVALID_FIELD.with(format!(
            "role must be Admin, Member or Client (got {:?})",
            shorten(role)
        ))
    })
}

/// One account's membership of one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The membership (`om-...`).
    pub id: String,
    /// The organization (`org-...`).
    pub org_id: String,
    /// Its name.
    pub org_name: String,
    /// Its tier.
    pub org_type: String,
    /// The member's address.
    pub address: String,
    /// `Admin`, `Member` or `Client`.
    pub role: String,
    /// Whether it counts.
    pub is_active: bool,
    /// The id the organization gave the member (`createMember`'s `userId`).
    pub external_id: Option<String>,
    /// The member's email, when given.
    pub email: Option<String>,
    /// When it began (ms).
    pub created_at: i64,
    /// When it last changed (ms).
    pub updated_at: i64,
}

const COLUMNS: &str = "m.id, m.org_id, o.name, o.type, m.address, m.role, m.is_active, m.external_id, m.email, m.created_at, m.updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        id: r.get(0)?,
        org_id: r.get(1)?,
        org_name: r.get(2)?,
        org_type: r.get(3)?,
        address: r.get(4)?,
        role: r.get(5)?,
        is_active: r.get(6)?,
        external_id: r.get(7)?,
        email: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

impl Membership {
    /// Whether it may publish plans and agents into the organization and read its feed.
    pub fn is_staff(&self) -> bool {
        self.is_active && (self.role == "Admin" || self.role == "Member")
    }

    /// Whether it may manage members and customers.
    pub fn is_admin(&self) -> bool {
        self.is_active && self.role == "Admin"
    }

    /// The `getMembers` item.
    pub fn member_json(&self) -> Value {
        json!({
            "id": self.id,
            "userId": user_id(&self.address),
            "orgId": self.org_id,
            "userAddress": self.address,
            "role": self.role,
            "isActive": self.is_active,
            "createdAt": iso8601(self.created_at),
            "updatedAt": iso8601(self.updated_at),
            "uniqueExternalId": self.external_id,
            "email": self.email,
        })
    }

    /// The `getMyMemberships` item.
    pub fn my_membership_json(&self) -> Value {
        json!({
            "orgId": self.org_id,
            "orgName": self.org_name,
            "role": self.role,
            "orgType": self.org_type,
            "isAdmin": self.is_admin(),
            "hasSubscriptionHistory": false,
        })
    }
}

/// Every membership of an account, oldest first.
pub(crate) fn memberships_of(conn: &Connection, address: &str) -> ApiResult<Vec<Membership>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM org_members m JOIN organizations o ON o.id = m.org_id WHERE m.address = ?1 ORDER BY m.created_at, m.id"
    ))?;
    let rows = stmt.query_map([address], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An account's membership of an organization, if any.
pub(crate) fn membership(
    conn: &Connection,
    org_id: &str,
    address: &str,
) -> ApiResult<Option<Membership>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM org_members m JOIN organizations o ON o.id = m.org_id WHERE m.org_id = ?1 AND m.address = ?2"
        ))?
        .query_row([org_id, address], from_row)
        .optional()?)
}

/// The member an organization knows by this external id, if any.
pub(crate) fn member_by_external_id(
    conn: &Connection,
    org_id: &str,
    external_id: &str,
) -> ApiResult<Option<Membership>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM org_members m JOIN organizations o ON o.id = m.org_id WHERE m.org_id = ?1 AND m.external_id = ?2"
        ))?
        .query_row([org_id, external_id], from_row)
        .optional()?)
}

/// One page of an organization's members (`role`, `is_active`: filters), and how many match.
pub(crate) fn members(
    conn: &Connection,
    org_id: &str,
    role: Option<&str>,
    is_active: Option<bool>,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<Membership>, u64)> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM org_members m JOIN organizations o ON o.id = m.org_id WHERE m.org_id = ?1 ORDER BY m.created_at, m.id"
    ))?;
    let all: Vec<Membership> = stmt
        .query_map([org_id], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let matching: Vec<Membership> = all
        .into_iter()
        .filter(|m| role.is_none_or(|r| m.role == r) && is_active.is_none_or(|a| m.is_active == a))
        .collect();
    let total = matching.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    Ok((matching.into_iter().skip(skip).take(take).collect(), total))
}

/// Makes an organization; returns its id.
pub(crate) fn insert_organization(conn: &Connection, name: &str, now: i64) -> ApiResult<String> {
    let id = format!("org-{}", crate::ids::uuid_v4());
    conn.execute(
        "INSERT INTO organizations (id, name, type, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, ORG_TYPE, now],
    )?;
    Ok(id)
}

/// Adds an account to an organization.
pub(crate) fn insert_member(
    conn: &Connection,
    org_id: &str,
    address: &str,
    role: &str,
    external_id: Option<&str>,
    email: Option<&str>,
    now: i64,
) -> ApiResult<()> {
    conn.execute(
        "INSERT INTO org_members (id, org_id, address, role, is_active, external_id, email, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?7)",
        params![
            format!("om-{}", crate::ids::uuid_v4()),
            org_id,
            address,
            role,
            external_id,
            email,
            now
        ],
    )?;
    Ok(())
}

/// Which organization a plan or agent (`kind`: `plan` or `agent`) was published into, if any.
pub(crate) fn org_of_asset(conn: &Connection, kind: &str, id: &str) -> ApiResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT org_id FROM org_assets WHERE kind = ?1 AND asset_id = ?2")?
        .query_row([kind, id], |r| r.get(0))
        .optional()?)
}

/// The plans or agents (`kind`) published into an organization.
pub(crate) fn assets_of(conn: &Connection, org_id: &str, kind: &str) -> ApiResult<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT asset_id FROM org_assets WHERE org_id = ?1 AND kind = ?2")?;
    let ids = stmt
        .query_map([org_id, kind], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Records that a plan or agent was published into an organization.
pub(crate) fn insert_asset(conn: &Connection, org_id: &str, kind: &str, id: &str) -> ApiResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO org_assets (kind, asset_id, org_id) VALUES (?1, ?2, ?3)",
        params![kind, id, org_id],
    )?;
    Ok(())
}

/// Adds an event to an organization's feed. `actor`: the address that caused it (none: the system).
pub(crate) fn record(
    conn: &Connection,
    org_id: &str,
    event_type: &str,
    actor: Option<&str>,
    subject: Value,
    metadata: Option<Value>,
    now: i64,
) -> ApiResult<()> {
    conn.prepare_cached("INSERT INTO org_activity (id, org_id, event_type, actor_user_id, subject, metadata, occurred_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
        .execute(params![
            format!("ae-{}", crate::ids::uuid_v4()),
            org_id,
            event_type,
            actor.map(user_id),
            subject.to_string(),
            metadata.map(|m| m.to_string()),
            now
        ])?;
    Ok(())
}

/// Which events of a feed to list.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Any of these types (none: all).
    pub event_types: Vec<String>,
    /// Only events this user caused.
    pub actor_user_id: Option<String>,
    /// At or after this time (ms).
    pub from: Option<i64>,
    /// Before this time (ms).
    pub to: Option<i64>,
}

/// One page of an organization's feed, newest first, and how many events match.
pub(crate) fn activity(
    conn: &Connection,
    org_id: &str,
    filter: &ActivityFilter,
    page: u64,
    size: u64,
) -> ApiResult<(Vec<Value>, u64)> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, event_type, actor_user_id, subject, metadata, occurred_at FROM org_activity WHERE org_id = ?1 ORDER BY occurred_at DESC, rowid DESC",
    )?;
    let rows = stmt.query_map([org_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut matching = Vec::new();
    for row in rows {
        let (id, event_type, actor, subject, metadata, at) = row?;
        let wanted = (filter.event_types.is_empty() || filter.event_types.contains(&event_type))
            && filter
                .actor_user_id
                .as_ref()
                .is_none_or(|a| actor.as_ref() == Some(a))
            && filter.from.is_none_or(|from| at >= from)
            && filter.to.is_none_or(|to| at < to);
        if wanted {
            let read = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
            matching.push(json!({
                "id": id,
                "eventType": event_type,
                "actorUserId": actor,
                "subject": read(&subject),
                "metadata": metadata.as_deref().map_or(Value::Null, read),
                "occurredAt": iso8601(at),
            }));
        }
    }
    let total = matching.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    Ok((matching.into_iter().skip(skip).take(take).collect(), total))
}
