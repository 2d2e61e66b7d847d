//! Organizations (`/api/v1/organizations/...`, `/api/v1/fiat/stripe/account`):
//! members and white-label customers, memberships, the activity feed and the
//! Stripe Connect link.

use crate::null_kept;
use nvm_x402::protocol::json::{Map, Value};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The body of `POST api/v1/organizations/account`: a member
/// (`createMember`: `uniqueExternalId`, `email?`, `role?`) or a white-label
/// customer (`onboardCustomer`: `email`, `as: "customer"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    /// The member's id in the organization's own user management.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_external_id: Option<String>,
    /// The member's or customer's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `Admin`, `Member` or `Client` (default `Member`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `customer`: onboard a white-label customer (no member seat).
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_: Option<String>,
}

/// What `createMember` answers: the backend's `walletResult`, with the new
/// member's API key as `nvmApiKey` (the backend's `hash`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CreateUserResponse {
    /// The member's NVM API key.
    pub nvm_api_key: String,
    /// The member.
    pub user_id: String,
    /// The member's wallet address.
    pub user_wallet: String,
    /// Whether they were a member already.
    #[serde(default)]
    pub already_member: bool,
    /// Anything else the backend sent (its `hash` among them).
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// What `onboardCustomer` answers (`CustomerOnboardingResponse`, a union in
/// the package's declarations): `{consentRequired: true}` alone, or the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerOnboardingResponse {
    /// The email is an account the organization doesn't own: its owner was asked to consent.
    pub consent_required: bool,
    /// The customer's NVM API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nvm_api_key: Option<String>,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The customer's wallet address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_wallet: Option<String>,
    /// A key was issued for a customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_customer: Option<bool>,
    /// The customer is in the organization's customer list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_recorded: Option<bool>,
    /// When the key expires (ISO 8601), when the backend says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// The body of `POST api/v1/organizations/members` (`getMembers`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersRequest {
    /// Only members with this role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Only active (or inactive) members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// The page, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// The page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// A member of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct OrganizationMember {
    /// The membership.
    pub id: String,
    /// The member.
    pub user_id: String,
    /// The organization.
    pub org_id: String,
    /// The member's address.
    pub user_address: String,
    /// `Admin`, `Member` or `Client`.
    #[ts(type = "OrganizationMemberRole | (string & {})")]
    pub role: String,
    /// Whether the membership is active.
    pub is_active: bool,
    /// When it began (ISO 8601).
    pub created_at: String,
    /// When it last changed (ISO 8601).
    pub updated_at: String,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// What `getMembers` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields)]
pub struct OrganizationMembersResponse {
    /// One page of members.
    pub members: Vec<OrganizationMember>,
    /// How many there are in all.
    pub total: u64,
}

/// One organization the caller is an active member of (`getMyMemberships`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct MyMembership {
    /// The organization (`org-...`).
    pub org_id: String,
    /// Its name.
    pub org_name: String,
    /// The caller's role there.
    #[ts(type = "OrganizationMemberRole | (string & {})")]
    pub role: String,
    /// Its tier.
    #[ts(type = "OrganizationType | (string & {})")]
    pub org_type: String,
    /// Whether the caller is an Admin there.
    pub is_admin: bool,
    /// Whether it ever had a paid subscription.
    pub has_subscription_history: bool,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// The query of `GET api/v1/organizations/:orgId/activity` (the package's
/// `OrganizationActivityFilters`, with `eventType` a comma-separated list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityQuery {
    /// Event types, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Only events this user triggered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_user_id: Option<String>,
    /// Events at or after this time (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Events before this time (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The page, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// The page size (at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// What an activity event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct OrganizationActivityEventSubject {
    /// `plan`, `agent`, `member`, `customer`, ...
    pub kind: String,
    /// Its id.
    pub id: String,
    /// More about it, by kind.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// One event of an organization's activity feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct OrganizationActivityEvent {
    /// The event (`ae-...`).
    pub id: String,
    /// `member.joined`, `plan.created`, ... (`OrganizationActivityEventType`).
    #[ts(type = "OrganizationActivityEventType | (string & {})")]
    pub event_type: String,
    /// Who triggered it (`null`: the system).
    #[serde(deserialize_with = "null_kept")]
    #[ts(type = "string | null", optional = false)]
    pub actor_user_id: Option<Option<String>>,
    /// What it is about.
    pub subject: OrganizationActivityEventSubject,
    /// Details (`null`: none).
    #[serde(deserialize_with = "null_kept")]
    #[ts(type = "JsonObject | null", optional = false)]
    pub metadata: Option<Option<Map>>,
    /// When it happened (ISO 8601).
    pub occurred_at: String,
    /// Anything else the backend sent.
    #[ts(skip)]
    #[serde(flatten)]
    pub other: Map,
}

/// What `getOrganizationActivity` answers: one page of events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields)]
pub struct OrganizationActivityPage {
    /// The events.
    pub items: Vec<OrganizationActivityEvent>,
    /// How many match in all.
    pub total: u64,
}

/// The body of `POST api/v1/fiat/stripe/account` (`connectStripeAccount`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectStripeAccountRequest {
    /// Who will own the Stripe account.
    #[serde(default)]
    pub user_email: String,
    /// ISO 3166-1 alpha-2 (`US`, `ES`, ...).
    #[serde(default)]
    pub user_country_code: String,
    /// Where Stripe sends the user back.
    #[serde(default)]
    pub return_url: String,
}

/// What `connectStripeAccount` answers: the Stripe Connect onboarding link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields)]
pub struct StripeAccountConnectResult {
    /// The connected account.
    pub stripe_account_id: String,
    /// Where the user completes the onboarding.
    pub stripe_account_link: String,
    /// The user.
    pub user_id: String,
    /// The user's country.
    pub user_country_code: String,
    /// When the link was made (epoch milliseconds).
    #[ts(type = "number")]
    pub link_created_at: Value,
    /// When it stops working (epoch milliseconds).
    #[ts(type = "number")]
    pub link_expires_at: Value,
}
