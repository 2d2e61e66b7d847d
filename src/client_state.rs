//! What a paying client remembers between calls, per [`Payments`](crate::Payments)
//! instance: v2 tokens by plan+agent+scheme+network, which requirement each
//! `METHOD url` asked for, and the delegations it uses. [`crate::client`]
//! decides; this module only keeps (so `payments` holds it without depending
//! on the client's decisions).

use crate::protocol::ResolvedScheme;
use std::cell::RefCell;

/// What a client remembers between calls (per `Payments` instance).
#[derive(Debug, Default)]
pub struct ClientState {
    /// v2 tokens by plan+agent+scheme+network.
    pub(crate) tokens: RefCell<Vec<(String, String)>>,
    /// Which requirement a `METHOD url` asked for last time.
    pub(crate) routes: RefCell<Vec<(String, Requirement)>>,
    /// Delegations this client uses, by provider.
    pub(crate) delegations: RefCell<Vec<(String, String)>>,
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

impl Requirement {
    /// The token cache key: plan, agent, scheme and network.
    pub(crate) fn cache_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.plan_id,
            self.agent_id.as_deref().unwrap_or(""),
            self.scheme.scheme,
            self.scheme.network
        )
    }
}

impl Requirement {
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

    /// Drops a cached token.
    pub(crate) fn forget_token(&self, key: &str) {
        self.tokens.borrow_mut().retain(|(k, _)| k != key);
    }

    /// Drops what a `METHOD url` paid with: its remembered requirement and that token.
    pub(crate) fn forget_route(&self, route_key: &str) {
        if let Some(r) = self.route(route_key) {
            self.forget_token(&r.cache_key());
        }
        self.routes.borrow_mut().retain(|(k, _)| k != route_key);
    }
}
