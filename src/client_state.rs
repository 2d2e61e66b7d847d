//! What a paying client remembers between calls, per [`Payments`](crate::Payments)
//! instance: v2 tokens by everything that changed what was minted (plan, agent,
//! scheme, network and the caller's token options), which requirement each
//! `METHOD url` asked for, the delegations it uses, and the MCP protocol
//! revision (and 2025 session) each MCP endpoint speaks. [`crate::client`]
//! decides; this module only keeps (so `payments` holds it without depending
//! on the client's decisions).

use crate::cache::Bounded;
use crate::protocol::mcp::{Era, Pin};
use crate::protocol::ResolvedScheme;

/// What an MCP endpoint's revision is remembered by: the URL the caller
/// called and the caller's `protocolVersion` pin.
pub(crate) type McpEndpoint = (String, Pin);

/// What a remembered delegation was chosen for: the provider and the card the caller named.
pub(crate) type DelegationChoice = (String, Option<String>);

/// At most this many tokens are kept: one per plan, agent, scheme and token
/// options a client pays with, a handful in practice. Evicted: one mint more.
const TOKENS_KEPT: usize = 32;
/// At most this many `METHOD url`s are remembered: a client calling many
/// paths (REST resources) keeps its recent ones. Evicted: the next call to it
/// finds the requirement again (a 402 first, unless it pays one plan ahead).
const ROUTES_KEPT: usize = 128;
/// At most this many delegations are kept: one per payment provider and card
/// the caller names. Evicted: the next payment lists the active ones and
/// reuses one (a new one only when none is active, as on a first payment).
const DELEGATIONS_KEPT: usize = 16;
/// At most this many MCP endpoints' revisions are kept: the MCP servers a
/// client calls, a handful in practice. Evicted: the next call to it
/// negotiates again (one `server/discover` more, and `initialize` for a 2025-era server).
const MCP_ENDPOINTS_KEPT: usize = 32;

/// What a client remembers between calls (per `Payments` instance). Nothing
/// kept here decides who pays or what: every payment is still for a plan the
/// call allows, within its `maxCredits`, and an evicted entry only costs one
/// backend call (a mint, a 402, a listing) more.
#[derive(Debug, Default)]
pub struct ClientState {
    /// v2 tokens by what they were minted for ([`TokenKey`], compared field
    /// by field). The plan, agent and scheme come from an agent's 402 (for a
    /// plan the call allows), the options from the caller: a token is sent
    /// only for exactly the key it was minted for, so an agent that makes the
    /// client mint for many keys evicts others' tokens (a mint more for them)
    /// but never gets a token minted for another agent or other options.
    tokens: Bounded<TokenKey, String, TOKENS_KEPT>,
    /// Which requirement a `METHOD url` (the URL without query or fragment)
    /// asked for last time. The key is what the caller requested, so an agent
    /// can only write the memory of its own URLs. One string, but not one
    /// two keys can share: the method is a `Request`'s (an HTTP token, no
    /// space; the MCP client's is `POST`), so the first space parts it from
    /// the URL. What a route remembers is used only as the call's options
    /// allow (`remembered_for`).
    routes: Bounded<String, Requirement, ROUTES_KEPT>,
    /// Delegations this client uses, by provider and the card the caller
    /// named (compared as the pair). The provider is the network of a card
    /// scheme the agent asked for (or `erc4337`), the card the caller's: an
    /// id is only reused for the provider and card it was made or listed for.
    delegations: Bounded<DelegationChoice, String, DELEGATIONS_KEPT>,
    /// The MCP revision each endpoint was found to speak, and the session a
    /// 2025-era one opened, by the URL the caller called (whole) and the
    /// caller's `protocolVersion` pin (compared as the pair: a pinned call
    /// never uses, or leaves, what an unpinned one negotiated). Only the caller
    /// chooses the key; the value is what that URL's server answered (a
    /// redirect is followed only within its origin), so a server can only
    /// describe itself, and its session id goes back only to the URL that gave
    /// it. The revision decides how the `tools/call` is worded, never what is
    /// paid: the plan, price and token are decided for every call as before. A
    /// wrong entry (the server was redeployed, its session is gone) is found
    /// when the server refuses the call before any tool runs, and is
    /// negotiated again in that call; an evicted one costs a negotiation.
    mcp_endpoints: Bounded<McpEndpoint, Era, MCP_ENDPOINTS_KEPT>,
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
    /// Forgets everything (`logout()`): the tokens were minted with the key.
    #[cfg(feature = "browser")]
    pub(crate) fn forget_all(&self) {
        self.tokens.retain(|_, _| false);
        self.routes.retain(|_, _| false);
        self.delegations.retain(|_, _| false);
    }

    /// Forgets the tokens that could pay `agent` (the A2A client's
    /// `clearToken()`): those minted for it, and those for no agent (they pay
    /// any agent of their plan). The next payment mints a new one.
    #[cfg(feature = "a2a-client")]
    pub(crate) fn forget_tokens_for(&self, agent: Option<&str>) {
        self.tokens
            .retain(|k, _| k.agent_id.is_some() && k.agent_id.as_deref() != agent);
    }

    /// What a `METHOD url` asked for last, if it is remembered.
    pub(crate) fn route(&self, key: &str) -> Option<Requirement> {
        self.routes.get(key)
    }

    /// Remembers what a `METHOD url` asked for.
    pub(crate) fn remember_route(&self, key: String, requirement: Requirement) {
        self.routes.insert(key, requirement);
    }

    /// The cached token for `key`.
    pub(crate) fn token(&self, key: &TokenKey) -> Option<String> {
        self.tokens.get(key)
    }

    /// Caches a token (replacing the one for the same key).
    pub(crate) fn keep_token(&self, key: TokenKey, token: String) {
        self.tokens.insert(key, token);
    }

    /// Drops every cached token minted for `requirement` (whatever the options).
    pub(crate) fn forget_tokens(&self, requirement: &Requirement) {
        self.tokens.retain(|k, _| !k.for_requirement(requirement));
    }

    /// Drops what a `METHOD url` paid with: its remembered requirement and its
    /// tokens. When it is no longer remembered (evicted by other URLs while
    /// the call was in flight), what it paid with is unknown, so every token
    /// goes: fail closed, one mint more each, never a token reused that should
    /// have been dropped.
    pub(crate) fn forget_route(&self, route_key: &str) {
        match self.route(route_key) {
            Some(r) => self.forget_tokens(&r),
            None => self.tokens.retain(|_, _| false),
        }
        self.routes.remove(route_key);
    }

    /// The delegation kept for a provider and card.
    pub(crate) fn delegation(&self, chosen: &DelegationChoice) -> Option<String> {
        self.delegations.get(chosen)
    }

    /// Keeps the delegation used for a provider and card (replacing the one kept).
    pub(crate) fn keep_delegation(&self, chosen: DelegationChoice, id: String) {
        self.delegations.insert(chosen, id);
    }

    /// Forgets the delegation kept for a provider and card (it expired).
    pub(crate) fn forget_delegation(&self, chosen: &DelegationChoice) {
        self.delegations.remove(chosen);
    }

    /// The revision an MCP endpoint was found to speak.
    pub(crate) fn mcp_era(&self, endpoint: &McpEndpoint) -> Option<Era> {
        self.mcp_endpoints.get(endpoint)
    }

    /// Remembers an MCP endpoint's revision (replacing the one kept).
    pub(crate) fn keep_mcp_era(&self, endpoint: McpEndpoint, era: Era) {
        self.mcp_endpoints.insert(endpoint, era);
    }

    /// Forgets an MCP endpoint's revision (the server refused it).
    pub(crate) fn forget_mcp_era(&self, endpoint: &McpEndpoint) {
        self.mcp_endpoints.remove(endpoint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(plan: usize) -> Requirement {
        Requirement {
            plan_id: plan.to_string(),
            agent_id: None,
            scheme: ResolvedScheme {
                scheme: "nvm:erc4337".into(),
                network: "eip155:84532".into(),
            },
            resource_url: None,
        }
    }

    fn key(plan: usize, options: &str) -> TokenKey {
        requirement(plan).token_key(options.into())
    }

    fn route(n: usize) -> String {
        format!("POST https://agent.example/items/{n}")
    }

    #[test]
    fn tokens_are_kept_per_key_the_oldest_forgotten_first() {
        let s = ClientState::default();
        for plan in 0..TOKENS_KEPT {
            s.keep_token(key(plan, "{}"), format!("t{plan}"));
        }
        s.keep_token(key(0, "{}"), "t0 again".into());
        s.keep_token(key(TOKENS_KEPT, "{}"), "one more".into());
        assert_eq!(s.tokens.len(), TOKENS_KEPT);
        assert_eq!(
            s.token(&key(1, "{}")),
            None,
            "1 was the oldest: 0 was kept again"
        );
        assert_eq!(s.token(&key(0, "{}")).as_deref(), Some("t0 again"));
        assert_eq!(s.token(&key(2, "{}")).as_deref(), Some("t2"));
        assert_eq!(
            s.token(&key(2, "{\"tokenVersion\":2}")),
            None,
            "other options"
        );

        s.keep_token(key(2, "{\"tokenVersion\":2}"), "t2 v2".into());
        s.forget_tokens(&requirement(2));
        assert_eq!(s.token(&key(2, "{}")), None);
        assert_eq!(
            s.token(&key(2, "{\"tokenVersion\":2}")),
            None,
            "whatever the options"
        );
        assert_eq!(s.token(&key(3, "{}")).as_deref(), Some("t3"));
    }

    #[test]
    #[cfg(feature = "a2a-client")]
    fn clear_token_forgets_the_tokens_that_could_pay_the_agent_only() {
        let s = ClientState::default();
        let for_agent = |plan: usize, agent: Option<&str>| {
            let mut r = requirement(plan);
            r.agent_id = agent.map(str::to_owned);
            r.token_key("{}".into())
        };
        s.keep_token(for_agent(1, Some("a")), "a1".into());
        s.keep_token(for_agent(2, Some("a")), "a2".into());
        s.keep_token(for_agent(1, Some("b")), "b1".into());
        s.keep_token(for_agent(1, None), "any1".into());
        s.forget_tokens_for(Some("a"));
        assert_eq!(s.token(&for_agent(1, Some("a"))), None);
        assert_eq!(s.token(&for_agent(2, Some("a"))), None);
        assert_eq!(s.token(&for_agent(1, None)), None, "it could pay agent a");
        assert_eq!(s.token(&for_agent(1, Some("b"))).as_deref(), Some("b1"));
        s.forget_tokens_for(None);
        assert_eq!(s.token(&for_agent(1, Some("b"))).as_deref(), Some("b1"));
    }

    #[test]
    fn routes_are_kept_per_method_and_url_the_oldest_forgotten_first() {
        let s = ClientState::default();
        for n in 0..=ROUTES_KEPT {
            s.remember_route(route(n), requirement(n));
        }
        assert_eq!(s.routes.len(), ROUTES_KEPT);
        assert_eq!(s.route(&route(0)), None, "the oldest went");
        assert_eq!(s.route(&route(1)), Some(requirement(1)));
        s.remember_route(route(1), requirement(7));
        s.remember_route(route(0), requirement(0));
        assert_eq!(
            s.route(&route(2)),
            None,
            "1 was remembered again: 2 was the oldest"
        );
        assert_eq!(s.route(&route(1)), Some(requirement(7)));
    }

    #[test]
    fn a_route_forgotten_drops_its_tokens_and_every_token_once_it_was_evicted() {
        let s = ClientState::default();
        s.remember_route(route(0), requirement(0));
        s.keep_token(key(0, "{}"), "t0".into());
        s.keep_token(key(1, "{}"), "t1".into());
        s.forget_route(&route(0));
        assert_eq!(s.route(&route(0)), None);
        assert_eq!(s.token(&key(0, "{}")), None, "what it paid with");
        assert_eq!(
            s.token(&key(1, "{}")).as_deref(),
            Some("t1"),
            "not the others"
        );
        // Evicted while its call was in flight: what it paid with is unknown, so nothing is reused.
        for n in 0..=ROUTES_KEPT {
            s.remember_route(route(n), requirement(1));
        }
        s.forget_route(&route(0));
        assert_eq!(s.tokens.len(), 0);
        assert_eq!(
            s.route(&route(1)),
            Some(requirement(1)),
            "other routes stay"
        );
    }

    #[test]
    fn mcp_endpoints_are_kept_per_url_and_pin_the_oldest_forgotten_first() {
        let s = ClientState::default();
        let endpoint = |n: usize, pin: Pin| (format!("https://mcp.example/{n}"), pin);
        let session = |n: usize| Era::Legacy {
            version: Some("2025-11-25".into()),
            session: Some(format!("s{n}")),
        };
        s.keep_mcp_era(endpoint(0, Pin::Auto), Era::Modern);
        s.keep_mcp_era(endpoint(0, Pin::Legacy), session(0));
        assert_eq!(s.mcp_era(&endpoint(0, Pin::Auto)), Some(Era::Modern));
        assert_eq!(
            s.mcp_era(&endpoint(0, Pin::Legacy)),
            Some(session(0)),
            "per pin"
        );
        assert_eq!(s.mcp_era(&endpoint(0, Pin::Modern)), None);
        s.forget_mcp_era(&endpoint(0, Pin::Legacy));
        assert_eq!(s.mcp_era(&endpoint(0, Pin::Legacy)), None);
        for n in 1..=MCP_ENDPOINTS_KEPT {
            s.keep_mcp_era(endpoint(n, Pin::Auto), session(n));
        }
        assert_eq!(s.mcp_endpoints.len(), MCP_ENDPOINTS_KEPT);
        assert_eq!(s.mcp_era(&endpoint(0, Pin::Auto)), None, "the oldest went");
        s.keep_mcp_era(endpoint(1, Pin::Auto), Era::Modern);
        s.keep_mcp_era(endpoint(0, Pin::Auto), Era::Modern);
        assert_eq!(
            s.mcp_era(&endpoint(2, Pin::Auto)),
            None,
            "1 was kept again: 2 was the oldest"
        );
        assert_eq!(s.mcp_era(&endpoint(1, Pin::Auto)), Some(Era::Modern));
        assert_eq!(s.mcp_era(&endpoint(3, Pin::Auto)), Some(session(3)));
    }

    #[test]
    fn delegations_are_kept_per_provider_and_card_the_oldest_forgotten_first() {
        let s = ClientState::default();
        let choice = |n: usize, card: Option<&str>| (format!("p{n}"), card.map(str::to_owned));
        s.keep_delegation(choice(0, None), "d0".into());
        s.keep_delegation(choice(0, Some("card")), "d0 card".into());
        assert_eq!(s.delegation(&choice(0, None)).as_deref(), Some("d0"));
        assert_eq!(
            s.delegation(&choice(0, Some("card"))).as_deref(),
            Some("d0 card")
        );
        s.forget_delegation(&choice(0, Some("card")));
        assert_eq!(s.delegation(&choice(0, Some("card"))), None);
        for n in 1..=DELEGATIONS_KEPT {
            s.keep_delegation(choice(n, None), format!("d{n}"));
        }
        assert_eq!(s.delegations.len(), DELEGATIONS_KEPT);
        assert_eq!(s.delegation(&choice(0, None)), None, "the oldest went");
        assert_eq!(s.delegation(&choice(1, None)).as_deref(), Some("d1"));
    }
}
