//! The [`Backend`] operations of [`crate::organizations`]: which organization
//! a request acts in, members and customers, memberships, the activity feed,
//! the Stripe Connect link, and publishing plans and agents into an
//! organization; the types and rules live in that module.

use crate::backend::accounts::insert_account;
use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::organizations::*;
use nvm_x402::protocol::url::Url;
use nvm_x402_types::organizations::{
    ActivityQuery, ConnectStripeAccountRequest, CreateUserRequest, MembersRequest,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

/// An email as stored: trimmed and lower-cased; it must look like one.
fn check_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_ascii_lowercase();
    let ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && !email.contains(char::is_whitespace);
    if ok {
        Ok(email)
    } else {
        Err(INVALID_FIELD.with(format!("{:?} is not an email address", shorten(&email))))
    }
}

/// The account an email belongs to, if any.
fn account_of_email(conn: &Connection, email: &str) -> ApiResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT address FROM account_emails WHERE email = ?1")?
        .query_row([email], |r| r.get(0))
        .optional()?)
}

/// A page number (from 1) and a page size (1 to [`MAX_PAGE`], `default` when absent).
fn paging(page: Option<u64>, size: Option<u64>, default: u64) -> ApiResult<(u64, u64)> {
    let page = page.unwrap_or(1);
    let size = size.unwrap_or(default).min(MAX_PAGE);
    if page == 0 || size == 0 {
        return Err(INVALID_FIELD.with("page and the page size must be at least 1"));
    }
    Ok((page, size))
}

/// An ISO 8601 time as ms.
fn instant(what: &str, text: &str) -> ApiResult<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| {
            INVALID_FIELD.with(format!(
                "{what} must be an ISO 8601 time (got {:?})",
                shorten(text)
            ))
        })
}

impl Backend {
    /// The organization a request acts in: `X-Current-Org-Id` when sent (an
    /// organization the caller is an active member of, else
    /// `BCK.PROTOCOL.0909`), else the caller's oldest active membership, else none.
    pub fn active_org(&self, caller: &Caller) -> ApiResult<Option<Membership>> {
        let conn = self.store.lock();
        match &caller.org_header {
            Some(org) => membership(&conn, org, caller.address())?
                .filter(|m| m.is_active)
                .map(Some)
                .ok_or_else(|| {
                    NOT_ORG_MEMBER.with(format!(
                        "X-Current-Org-Id {:?} is not an organization this account is an active member of",
                        shorten(org)
                    ))
                }),
            None => Ok(memberships_of(&conn, caller.address())?
                .into_iter()
                .find(|m| m.is_active)),
        }
    }

    /// The organization a plan or agent the caller registers is published
    /// into: the active one, when the caller is an Admin or Member there.
    pub(crate) fn publishing_org(&self, caller: &Caller) -> ApiResult<Option<Membership>> {
        Ok(self.active_org(caller)?.filter(Membership::is_staff))
    }

    /// Records that `caller` published a plan or agent (`kind`) into `org`.
    pub(crate) fn publish(
        &self,
        conn: &Connection,
        org: Option<&Membership>,
        kind: &str,
        id: &str,
        name: &str,
        now: i64,
    ) -> ApiResult<()> {
        let Some(org) = org else { return Ok(()) };
        insert_asset(conn, &org.org_id, kind, id)?;
        let event = if kind == "plan" {
            events::PLAN_CREATED
        } else {
            events::AGENT_CREATED
        };
        record(
            conn,
            &org.org_id,
            event,
            Some(&org.address),
            json!({"kind": kind, "id": id, "name": name}),
            None,
            now,
        )
    }

    /// The caller's active organization when they are an Admin there, else `BCK.ORG.0900`.
    fn admin_org(&self, caller: &Caller) -> ApiResult<Membership> {
        match self.active_org(caller)? {
            Some(m) if m.is_admin() => Ok(m),
            Some(m) => Err(NOT_ORG_ADMIN.with(format!(
                "This account is a {} of {}, not an Admin",
                m.role, m.org_id
            ))),
            None => Err(NOT_ORG_ADMIN.with("This account belongs to no organization")),
        }
    }

    /// `POST /local/v1/organizations {name, admin}`: a new organization whose
    /// Admin is the account named `admin`.
    pub fn create_organization(&self, name: &str, admin: &str) -> ApiResult<Value> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(INVALID_FIELD.with("name must be 1 to 100 characters"));
        }
        let account = self.account_by_name(admin)?.ok_or_else(|| {
            INVALID_FIELD.with(format!("No account is named {:?}", shorten(admin)))
        })?;
        let now = self.now_ms();
        let mut conn = self.store.lock();
        let tx = conn.transaction()?;
        let org_id = insert_organization(&tx, name, now)?;
        insert_member(&tx, &org_id, &account.address, "Admin", None, None, now)?;
        tx.commit()?;
        Ok(json!({"orgId": org_id, "orgName": name, "orgType": ORG_TYPE, "admin": account.address}))
    }

    /// `POST api/v1/organizations/account`: a new member (`createMember`) or
    /// a white-label customer (`as: "customer"`), by an Admin of the caller's
    /// organization. Answers the HTTP status (201, or 202 when an existing
    /// account's owner would have to consent) and the body.
    pub fn create_user(&self, caller: &Caller, body: CreateUserRequest) -> ApiResult<(u16, Value)> {
        let org = self.admin_org(caller)?;
        match body.as_.as_deref() {
            Some("customer") => self.onboard_customer(caller, &org, &body),
            Some(other) => Err(INVALID_FIELD.with(format!(
                "as must be \"customer\" (or absent for a member), got {:?}",
                shorten(other)
            ))),
            None => self.create_member(caller, &org, &body),
        }
    }

    fn create_member(
        &self,
        caller: &Caller,
        org: &Membership,
        body: &CreateUserRequest,
    ) -> ApiResult<(u16, Value)> {
        let external = body
            .unique_external_id
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| MISSING_FIELD.with("uniqueExternalId is required"))?;
        let role = check_role(body.role.as_deref().unwrap_or(DEFAULT_ROLE))?;
        let email = body.email.as_deref().map(check_email).transpose()?;
        let now = self.now_ms();
        let mut conn = self.store.lock();
        if let Some(existing) = member_by_external_id(&conn, &org.org_id, external)? {
            drop(conn);
            return Ok((
                201,
                self.wallet_answer(&existing.address, "Member already exists", true, None),
            ));
        }
        if let Some(email) = &email {
            if account_of_email(&conn, email)?.is_some() {
                return Err(EMAIL_TAKEN.with(format!("{email} is another account's email")));
            }
        }
        let tx = conn.transaction()?;
        let account = insert_account(&tx, &crate::ids::alphanumeric_id("member-", 16), now)?;
        if let Some(email) = &email {
            tx.execute(
                "INSERT INTO account_emails (email, address) VALUES (?1, ?2)",
                params![email, account.address],
            )?;
        }
        insert_member(
            &tx,
            &org.org_id,
            &account.address,
            role,
            Some(external),
            email.as_deref(),
            now,
        )?;
        record(
            &tx,
            &org.org_id,
            events::MEMBER_JOINED,
            Some(caller.address()),
            json!({"kind": "member", "id": user_id(&account.address), "role": role, "userId": user_id(&account.address)}),
            None,
            now,
        )?;
        tx.commit()?;
        drop(conn);
        let account = self.cache_account(account);
        Ok((
            201,
            self.wallet_answer(&account.address, "Member created", false, None),
        ))
    }

    /// `{success, message, walletResult: {hash: <a new API key>, userId, userWallet, alreadyMember, ...}}`.
    fn wallet_answer(
        &self,
        address: &str,
        message: &str,
        already_member: bool,
        customer: Option<bool>,
    ) -> Value {
        let key = self.mint_api_key(address);
        let mut wallet = json!({
            "hash": key,
            "userId": user_id(address),
            "userWallet": address,
            "alreadyMember": already_member,
        });
        if let Some(recorded) = customer {
            // The same key under both names: payments-py reads `hash`, the TS SDK `nvmApiKey`.
            wallet["nvmApiKey"] = json!(key);
            wallet["isCustomer"] = json!(true);
            wallet["customerRecorded"] = json!(recorded);
        }
        json!({"success": true, "message": message, "walletResult": wallet})
    }

    fn onboard_customer(
        &self,
        caller: &Caller,
        org: &Membership,
        body: &CreateUserRequest,
    ) -> ApiResult<(u16, Value)> {
        let email = check_email(
            body.email
                .as_deref()
                .ok_or_else(|| MISSING_FIELD.with("email is required"))?,
        )?;
        let now = self.now_ms();
        let mut conn = self.store.lock();
        if let Some(address) = account_of_email(&conn, &email)? {
            let ours: Option<i64> = conn
                .prepare_cached(
                    "SELECT created_at FROM org_customers WHERE org_id = ?1 AND address = ?2",
                )?
                .query_row([&org.org_id, &address], |r| r.get(0))
                .optional()?;
            drop(conn);
            return Ok(match ours {
                Some(_) => (
                    201,
                    self.wallet_answer(&address, "Customer onboarded", false, Some(true)),
                ),
                // Someone else's account: nothing of it is disclosed, and nvm-local sends no email.
                None => (
                    202,
                    json!({"success": true, "message": "Account already exists: its owner must consent", "walletResult": {"alreadyMember": false, "consentRequired": true}}),
                ),
            });
        }
        let tx = conn.transaction()?;
        let account = insert_account(&tx, &crate::ids::alphanumeric_id("customer-", 16), now)?;
        tx.execute(
            "INSERT INTO account_emails (email, address) VALUES (?1, ?2)",
            params![email, account.address],
        )?;
        tx.execute(
            "INSERT INTO org_customers (org_id, address, created_at) VALUES (?1, ?2, ?3)",
            params![org.org_id, account.address, now],
        )?;
        record(
            &tx,
            &org.org_id,
            events::CUSTOMER_ADDED,
            Some(caller.address()),
            json!({"kind": "customer", "id": user_id(&account.address)}),
            None,
            now,
        )?;
        tx.commit()?;
        drop(conn);
        let account = self.cache_account(account);
        Ok((
            201,
            self.wallet_answer(&account.address, "Customer onboarded", false, Some(true)),
        ))
    }

    /// `POST api/v1/organizations/members`: one page of the caller's
    /// organization's members (its Admins only).
    pub fn members(&self, caller: &Caller, body: &MembersRequest) -> ApiResult<Value> {
        let org = self.admin_org(caller)?;
        let role = body.role.as_deref().map(check_role).transpose()?;
        let (page, size) = paging(body.page, body.offset, 100)?;
        let (members, total) = members(
            &self.store.lock(),
            &org.org_id,
            role,
            body.is_active,
            page,
            size,
        )?;
        let members: Vec<Value> = members.iter().map(Membership::member_json).collect();
        Ok(json!({"members": members, "totalResults": total, "page": page, "offset": size}))
    }

    /// `GET api/v1/organizations/my-memberships`: the caller's active memberships.
    pub fn my_memberships(&self, caller: &Caller) -> ApiResult<Value> {
        let list: Vec<Value> = memberships_of(&self.store.lock(), caller.address())?
            .iter()
            .filter(|m| m.is_active)
            .map(Membership::my_membership_json)
            .collect();
        Ok(Value::Array(list))
    }

    /// The caller's membership of `org_id` when they are an active Admin or
    /// Member there, else `BCK.PROTOCOL.0909` (an unknown organization too).
    pub(crate) fn staff_of(&self, caller: &Caller, org_id: &str) -> ApiResult<Membership> {
        membership(&self.store.lock(), org_id, caller.address())?
            .filter(Membership::is_staff)
            .ok_or_else(|| {
                NOT_ORG_MEMBER.with(format!(
                    "This account is not an active Admin or Member of {:?}",
                    shorten(org_id)
                ))
            })
    }

    /// `GET api/v1/organizations/:orgId/activity`: the feed, newest first, for its Admins and Members.
    pub fn org_activity(
        &self,
        caller: &Caller,
        org_id: &str,
        query: &ActivityQuery,
    ) -> ApiResult<Value> {
        let org = self.staff_of(caller, org_id)?;
        let filter = ActivityFilter {
            event_types: query
                .event_type
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            actor_user_id: query.actor_user_id.clone().filter(|a| !a.is_empty()),
            from: query
                .from
                .as_deref()
                .map(|t| instant("from", t))
                .transpose()?,
            to: query.to.as_deref().map(|t| instant("to", t)).transpose()?,
        };
        let (page, size) = paging(query.page, query.limit, 20)?;
        let (items, total) = activity(&self.store.lock(), &org.org_id, &filter, page, size)?;
        Ok(json!({"items": items, "total": total}))
    }

    /// `POST api/v1/fiat/stripe/account`: a Stripe Connect onboarding link for
    /// the caller (an Admin, when the request acts in an organization). There
    /// is no Stripe: the account id is derived from the caller's address and
    /// the link goes straight back to `returnUrl`, with `stripeAccountId` added.
    pub fn connect_stripe_account(
        &self,
        caller: &Caller,
        body: &ConnectStripeAccountRequest,
    ) -> ApiResult<Value> {
        if self.active_org(caller)?.is_some() {
            self.admin_org(caller)?;
        }
        check_email(&body.user_email)?;
        let country = body.user_country_code.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(INVALID_FIELD.with(format!(
                "userCountryCode must be an ISO 3166-1 alpha-2 code such as US (got {:?})",
                shorten(&body.user_country_code)
            )));
        }
        let back = body.return_url.trim();
        if !Url::parse(back).is_some_and(|u| u.scheme == "http" || u.scheme == "https") {
            return Err(INVALID_FIELD.with("returnUrl must be an absolute http(s) URL"));
        }
        let account_id = format!(
            "acct_{}",
            crate::ids::hex(&crate::ids::sha256(caller.address().as_bytes())[..8])
        );
        let (base, fragment) = back
            .split_once('#')
            .map_or((back, None), |(b, f)| (b, Some(f)));
        let mut link = format!(
            "{base}{}stripeAccountId={account_id}",
            if base.contains('?') { '&' } else { '?' }
        );
        if let Some(fragment) = fragment {
            link.push('#');
            link.push_str(fragment);
        }
        let now = self.now_ms();
        Ok(json!({
            "stripeAccountId": account_id,
            "stripeAccountLink": link,
            "userId": user_id(caller.address()),
            "userCountryCode": country,
            "linkCreatedAt": now,
            "linkExpiresAt": now + 300_000,
        }))
    }
}
