//! What a paying client remembers between calls, per [`Payments`](crate::Payments)
//! instance: v2 tokens by everything that changed what was minted (plan, agent,
//! scheme, network and the caller's token options), which requirement each
//! `METHOD url` asked for, and the delegations it uses. [`crate::client`]
//! decides; this module only keeps (so `payments` holds it without depending
//! on the client's decisions).

use crate::protocol::ResolvedScheme;
use std::cell::RefCell;

/// What a remembered delegation was chosen for: the provider and the card the caller named.
pub(crate) type DelegationChoice = (String, Option<String>);

/// What a client remembers between calls (per `Payments` instance).
#[derive(Debug, Default)]
pub struct ClientState {
    /// v2 tokens by what they were minted for.
    pub(crate) tokens: RefCell<Vec<(TokenKey, String)>>,
    /// Which requirement a `METHOD url` asked for last time.
    pub(crate) routes: RefCell<Vec<(String, Requirement)>>,
    /// Delegations this client uses, by provider and the card the caller named.
    pub(crate) delegations: RefCell<Vec<(DelegationChoice, String)>>,
}

/// What an agent asked to be paid with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The plan.
    pub plan_id: String,
    /// The agent (from the entry's `extra.agentId`, or the caller's option).
    pub agent_id: Option<String>,
    /// Scheme and network.
    pub scheme: ResolvedScheme,
    /// `resource.url` of the PaymentRequired (v3 tokens bind it).
    pub resource_url: Option<String>,
}

/// What a cached token was minted for: everything that changes what is minted.
/// Compared field by field (no joined string an agent's ids could make collide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenKey {
    plan_id: String,
    agent_id: Option<String>,
    scheme: ResolvedScheme,
    /// What the caller chose for the mint: its `tokenOptions` (delegation,
    /// version, ...) and card, as text.
    options: String,
}

impl TokenKey {
    /// Whether the token was minted for `requirement` (whatever the options).
    fn for_requirement(&self, requirement: &Requirement) -> bool {
        self.plan_id == requirement.plan_id
            && self.agent_id == requirement.agent_id
            && self.scheme == requirement.scheme
    }
}

impl Requirement {
    /// The cache key of a token minted for this requirement with `options`
    /// (what the caller chose for the mint, as text).
    pub(crate) fn token_key(&self, options: String) -> TokenKey {
        TokenKey {
            plan_id: self.plan_id.clone(),
            agent_id: self.agent_id.clone(),
            scheme: self.scheme.clone(),
            options,
        }
    }

    /// Whether a token minted for `self` already answers `asked`: same plan,
    /// scheme and network, and the same agent unless `self` named none (a
    /// reusable token without an agent pays any agent of its plan).
    pub(crate) fn covers(&self, asked: &Requirement) -> bool {
        self.plan_id == asked.plan_id
            && self.scheme == asked.scheme
            && (self.agent_id.is_none() || self.agent_id == asked.agent_id)
    }
}

impl ClientState {
    /// What a `METHOD url` asked for last, if it is remembered.
    pub(crate) fn route(&self, key: &str) -> Option<Requirement> {
        self.routes
            .borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r.clone())
    }

    /// Remembers what a `METHOD url` asked for.
    pub(crate) fn remember_route(&self, key: String, requirement: Requirement) {
        let mut routes = self.routes.borrow_mut();
        routes.retain(|(k, _)| *k != key);
        routes.push((key, requirement));
    }

    /// The cached token for `key`.
    pub(crate) fn token(&self, key: &TokenKey) -> Option<String> {
        self.tokens
            .borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t.clone())
    }

    /// Caches a token (replacing the one for the same key).
    pub(crate) fn keep_token(&self, key: TokenKey, token: String) {
        let mut tokens = self.tokens.borrow_mut();
        tokens.retain(|(k, _)| *k != key);
        tokens.push((key, token));
    }

    /// Drops every cached token minted for `requirement` (whatever the options).
    pub(crate) fn forget_tokens(&self, requirement: &Requirement) {
        self.tokens
            .borrow_mut()
            .retain(|(k, _)| !k.for_requirement(requirement));
    }

    /// Drops what a `METHOD url` paid with: its remembered requirement and its tokens.
    pub(crate) fn forget_route(&self, route_key: &str) {
        if let Some(r) = self.route(route_key) {
            self.forget_tokens(&r);
        }
        self.routes.borrow_mut().retain(|(k, _)| k != route_key);
    }
}
