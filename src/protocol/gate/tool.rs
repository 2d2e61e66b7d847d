//! `nvm-x402/langchain`'s paid function: the official SDK's
//! `requiresPayment(fn, {planId, credits?, agentId?, network?})` (and
//! payments-py's `requires_payment(plan_ids=..., scheme=...)`), checked when
//! the function is wrapped; the lifecycle is [`crate::gate::tool`]. A call
//! carries its x402 access token in LangChain's `config.configurable.payment_token`
//! and is charged for the function's `endpoint` (the official SDK's resource
//! URL: the function's name, or `tool`).

use super::{payment_required_for, precheck_token, Credits, Refusal, Resource};
use crate::error::{Error, Result};
use crate::protocol::json::{self, Value};
use crate::protocol::token::TokenClaims;
use crate::protocol::{ResolvedScheme, Uint256, SCHEME_ERC4337};

/// The official SDK's refusal of a call without a token.
pub const MISSING_TOKEN: &str = "Payment required: missing payment_token in config.configurable";
/// What a refused verify says first (the official SDK's words).
pub const VERIFY_FAILED: &str = "Payment verification failed";
/// What a refused settle says first (the official SDK only logs it and delivers; we withhold).
pub const SETTLE_FAILED: &str = "Payment settlement failed";

/// A paid function's options, checked when it is wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolConfig {
    /// The plans that pay, in order of preference (`planId`, then `planIds`).
    pub plan_ids: Vec<String>,
    /// What a call costs (default 1); a function is priced after the call.
    pub credits: Credits,
    /// The agent being paid (tokens bound to another agent are refused).
    pub agent_id: Option<String>,
    /// The resource URL the payment is for.
    pub endpoint: String,
    /// A fixed scheme and network (skips the plan lookup): `scheme`, or
    /// `network` alone (the official SDK's: `nvm:erc4337` on that network).
    pub fixed: Option<(String, Option<String>)>,
}

impl ToolConfig {
    /// Reads `{planId? | planIds?, credits? (an amount or a function's mark),
    /// agentId?, scheme?, network?, endpoint}`; mistakes are errors here.
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "requiresPayment options";
        let o = json::object(v, WHAT)?;
        let plan_ids = super::mcp::plans_option(o, WHAT)?;
        if plan_ids.is_empty() {
            return Err(Error::validation(
                "requiresPayment: planId (or planIds) is required: the plan a call is paid with",
            ));
        }
        let credits = match json::present(o, "credits") {
            Some(f) if super::is_function_mark(f) => Credits::Dynamic {
                verify_with: Uint256::from(1),
            },
            Some(_) => match crate::protocol::uint::opt_uint(o, "credits", WHAT)? {
                Some(c) if !c.is_zero() => Credits::Fixed(c),
                _ => {
                    return Err(Error::validation(
                        "requiresPayment: credits must be at least 1 (a free function needs no paywall), or a function",
                    ))
                }
            },
            None => Credits::Fixed(Uint256::from(1)),
        };
        let text = |k: &str| {
            json::opt_str(o, k, WHAT).map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned))
        };
        let endpoint = text("endpoint")?.unwrap_or_else(|| "tool".to_owned());
        if endpoint.chars().any(char::is_control) {
            return Err(Error::validation(
                "requiresPayment: endpoint must not contain control characters",
            ));
        }
        let network = text("network")?;
        let fixed = match text("scheme")? {
            Some(scheme) => Some((scheme, network)),
            None => network.map(|n| (SCHEME_ERC4337.to_owned(), Some(n))),
        };
        Ok(ToolConfig {
            plan_ids,
            credits,
            agent_id: json::opt_id(o, "agentId", WHAT)?.filter(|a| !a.is_empty()),
            endpoint,
            fixed,
        })
    }

    /// What verify checks the balance for: the fixed credits, or 1 when a
    /// function prices the call (as the official SDK).
    pub fn verify_amount(&self) -> &Uint256 {
        match &self.credits {
            Credits::Fixed(c) => c,
            Credits::Dynamic { verify_with } => verify_with,
        }
    }

    /// The call's PaymentRequired (`error` set when given).
    pub fn payment_required(
        &self,
        schemes: &[ResolvedScheme],
        error: Option<&str>,
    ) -> Result<Value> {
        let resource = Resource {
            url: &self.endpoint,
            agent_id: self.agent_id.as_deref(),
            // No httpVerb, as both official SDKs' decorators: a tool is no HTTP route.
            verb: "",
            description: None,
            mime_type: None,
        };
        payment_required_for(&self.plan_ids, schemes, &resource, error)
    }

    /// The token checks before the backend is asked: a v2 token for one of
    /// the plans and this agent; a v3 token also bound to this endpoint (any verb).
    pub fn precheck(&self, token: &str) -> std::result::Result<(TokenClaims, usize), Refusal> {
        precheck_token(
            token,
            &self.plan_ids,
            self.agent_id.as_deref(),
            "",
            |bound| bound == self.endpoint,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::parse;

    fn config(text: &str) -> Result<ToolConfig> {
        ToolConfig::from_json(&parse(text).unwrap())
    }

    #[test]
    fn reads_the_official_options_and_payments_py_extras() {
        let c = config(
            r#"{"planId":"p1","planIds":["p2"],"credits":3,"agentId":"a","endpoint":"search"}"#,
        )
        .unwrap();
        assert_eq!(c.plan_ids, ["p1", "p2"]);
        assert_eq!(c.credits, Credits::Fixed(Uint256::from(3)));
        assert_eq!(c.verify_amount(), &Uint256::from(3));
        assert_eq!(c.agent_id.as_deref(), Some("a"));
        assert_eq!(c.endpoint, "search");
        assert_eq!(c.fixed, None);
        let d =
            config(r#"{"planId":"p","credits":{"$function":true},"network":"eip155:1"}"#).unwrap();
        assert_eq!(d.verify_amount(), &Uint256::from(1));
        assert_eq!(d.endpoint, "tool");
        assert_eq!(
            d.fixed,
            Some((SCHEME_ERC4337.to_owned(), Some("eip155:1".to_owned())))
        );
        let s = config(r#"{"planId":"p","scheme":"nvm:card-delegation"}"#).unwrap();
        assert_eq!(s.fixed, Some(("nvm:card-delegation".to_owned(), None)));
        assert_eq!(s.credits, Credits::Fixed(Uint256::from(1)));
    }

    #[test]
    fn refuses_what_it_cannot_charge_for() {
        for bad in [
            r#"{}"#,
            r#"{"planId":""}"#,
            r#"{"planId":"p","credits":-1}"#,
            r#"{"planId":"p","credits":1.5}"#,
            r#"{"planId":"p","credits":true}"#,
            r#"{"planId":"p","credits":0}"#,
            r#"{"planId":"p","endpoint":"a\nb"}"#,
            r#"[]"#,
        ] {
            let e = config(bad).unwrap_err();
            assert_eq!(e.code(), "validation", "{bad}");
        }
    }

    #[test]
    fn a_v3_token_must_be_bound_to_the_endpoint() {
        let c = config(r#"{"planId":"p","endpoint":"search"}"#).unwrap();
        // `extra`: what the PaymentRequired it was minted from had (the official decorators' has no httpVerb).
        let token = |url: &str, extra: &str| {
            let v = parse(&format!(
                r#"{{"x402Version":2,"resource":{{"url":"{url}"}},"accepted":{{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"p","extra":{extra}}},"payload":{{"authorization":{{"from":"0xabc","nonce":"n1"}}}}}}"#
            ))
            .unwrap();
            crate::protocol::token::encode_access_token(v.as_object().unwrap())
        };
        assert!(c.precheck(&token("search", "{}")).is_ok());
        assert!(c
            .precheck(&token("search", r#"{"httpVerb":"POST"}"#))
            .is_ok());
        let Refusal(why) = c.precheck(&token("other", "{}")).unwrap_err();
        assert_eq!(why, "The single-use access token is bound to another URL");
        assert!(c.precheck("not a token").is_err());
    }
}
