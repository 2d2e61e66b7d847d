//! The MCP paywall's decisions, without I/O: the x402 v2 MCP transport (the
//! payment in `params._meta["x402/payment"]`, the receipt in
//! `result._meta["x402/payment-response"]`, payment-required as an error tool
//! result or a JSON-RPC error -32003), the logical resource URLs the official
//! SDK builds (`mcp://<server>/tools/<name>?<args>`), and every answer the
//! paywall gives instead of the handler's. The async steps are in
//! [`crate::gate::mcp`].
//!
//! Where the official SDK (`@nevermined-io/payments` `src/mcp/`) fails open we
//! don't: a streamed result is held until it is settled (the official hands
//! its chunks on first). Where it answers a backend it can't reach at verify
//! or settle with a payment-required (which invites paying again), we answer
//! an error (-32603); README.md lists these differences.

use super::{header_token, payment_required_for, precheck_token, Credits, Refusal, Resource};
use crate::error::{Error, Result};
use crate::protocol::json::{self, Object, ObjectBuilder, Value};
use crate::protocol::token::{encode_access_token, TokenClaims};
use crate::protocol::{ResolvedScheme, Uint256};

pub mod oauth;
pub use oauth::discovery_document;

/// `params._meta` key of the (decoded) payment payload.
pub const PAYMENT_META_KEY: &str = "x402/payment";
/// `result._meta` key of the settlement receipt.
pub const PAYMENT_RESPONSE_META_KEY: &str = "x402/payment-response";
/// `result._meta` key of Nevermined's credits summary (not part of x402).
pub const CREDITS_META_KEY: &str = "nevermined/credits";
/// The largest in-band payment payload read, as compact JSON (bytes): a larger one is ignored.
pub const MAX_PAYMENT_PAYLOAD: usize = 64 * 1024;
/// JSON-RPC error code: the server is misconfigured.
pub const MISCONFIGURATION: i64 = -32002;
/// JSON-RPC error code: payment required (resources, prompts).
pub const PAYMENT_REQUIRED: i64 = -32003;
/// JSON-RPC error code: internal error (the payment backend is unavailable).
pub const INTERNAL_ERROR: i64 = -32603;
/// `PaymentRequired.error` when the agent's plans could not be looked up (the official SDK's words).
pub const PLANS_UNAVAILABLE: &str = "plans unavailable";
/// `PaymentRequired.error` when settling failed after the handler ran.
pub const SETTLEMENT_FAILED: &str = "settlement failed";
/// The refusal when a request carries no payment.
pub const MISSING_PAYMENT: &str = "Payment required: send the x402 payment payload in params._meta[\"x402/payment\"] (or an access token in the payment-signature or Authorization: Bearer header)";

/// What is being paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tools/call`.
    Tool,
    /// `resources/read`.
    Resource,
    /// `prompts/get`.
    Prompt,
    /// A meta method (`tools/list`, `resources/list`, ...), free unless a
    /// low-level server's handler for it is wrapped with this kind.
    Meta,
}

impl Kind {
    /// `"tool"`, `"resource"`, `"prompt"` or `"meta"`.
    pub fn parse(s: &str) -> Result<Kind> {
        match s {
            "tool" => Ok(Kind::Tool),
            "resource" => Ok(Kind::Resource),
            "prompt" => Ok(Kind::Prompt),
            "meta" => Ok(Kind::Meta),
            _ => Err(Error::validation(
                "mcp.withPaywall: kind must be \"tool\", \"resource\", \"prompt\" or \"meta\"",
            )),
        }
    }
}

/// `payments.mcp.configure({agentId?, serverName?, planId? | planIds?})`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpConfig {
    /// The agent being paid: its plans are offered when no plan is configured,
    /// and tokens bound to another agent are refused.
    pub agent_id: Option<String>,
    /// The host part of the logical URLs (default `mcp-server`).
    pub server_name: String,
    /// The plans that pay, in order of preference (empty: the agent's plans).
    pub plan_ids: Vec<String>,
    /// The lifecycle hooks given (see [`crate::protocol::gate::Hook`]).
    pub hooks: crate::protocol::gate::Hooks,
}

impl McpConfig {
    /// Reads and checks the configuration: an agent or a plan is required.
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "mcp.configure options";
        let o = json::object(v, WHAT)?;
        let agent_id = json::opt_id(o, "agentId", WHAT)?.filter(|a| !a.is_empty());
        let server_name = json::opt_str(o, "serverName", WHAT)?
            .filter(|s| !s.is_empty())
            .unwrap_or("mcp-server");
        if server_name
            .bytes()
            .any(|b| b <= b' ' || b"/?#@\\%".contains(&b))
        {
            return Err(Error::validation(
                "mcp.configure: serverName must be a plain name (no spaces, '/', '?', '#', '@', '\\' or '%')",
            ));
        }
        let plan_ids = plans_option(o, WHAT)?;
        if agent_id.is_none() && plan_ids.is_empty() {
            return Err(Error::validation(
                "mcp.configure: agentId or planId is required (the paywall must know what it charges for)",
            ));
        }
        Ok(McpConfig {
            agent_id,
            server_name: server_name.to_owned(),
            plan_ids,
            hooks: crate::protocol::gate::Hooks::from_options(o, "mcp.configure", &[])?,
        })
    }
}

/// `planId` or `planIds` of an options object.
pub(crate) fn plans_option(o: &Object, what: &str) -> Result<Vec<String>> {
    let mut plans = json::opt_ids(o, "planIds", what)?;
    if let Some(one) = json::opt_id(o, "planId", what)?.filter(|p| !p.is_empty()) {
        plans.insert(0, one);
    }
    plans.retain(|p| !p.is_empty());
    Ok(plans)
}

/// A paid handler (`withPaywall(handler, options)`), checked when it is wrapped.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    /// Tool, resource or prompt.
    pub kind: Kind,
    /// Its registered name.
    pub name: String,
    /// Plans of this handler (overriding the server's).
    pub plan_ids: Vec<String>,
    /// What it costs (default 1, as the official SDK).
    pub credits: Credits,
    /// `maxAmount`: what verify checks the balance for (see [`McpTool::verify_amount`]).
    pub max_amount: Option<Uint256>,
    /// `onRedeemError: "propagate"`: a settle that errs (refused with an error, or
    /// unreachable) is the official SDK's -32002 `Failed to redeem credits: ...`
    /// instead of the payment-required (`"ignore"`, the default). Either way nothing is delivered.
    pub propagate_redeem_errors: bool,
}

impl McpTool {
    /// Reads `{kind?, name, planId?, planIds?, credits? (an amount, or a function's
    /// mark: dynamic), maxAmount?, onRedeemError?}`; mistakes are errors here, when the handler is wrapped.
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "mcp.withPaywall options";
        let o = json::object(v, WHAT)?;
        let kind = Kind::parse(json::opt_str(o, "kind", WHAT)?.unwrap_or("tool"))?;
        let name = json::opt_str(o, "name", WHAT)?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                Error::validation(
                    "mcp.withPaywall: options.name is required (it names the logical URL)",
                )
            })?;
        let max = crate::protocol::uint::opt_uint(o, "maxAmount", WHAT)?;
        let credits = match json::present(o, "credits") {
            Some(f) if super::is_function_mark(f) => Credits::Dynamic {
                verify_with: max.clone().unwrap_or_else(|| Uint256::from(1)),
            },
            Some(amount @ (Value::Number(_) | Value::String(_))) => Credits::Fixed(
                Uint256::from_json(amount)
                    .map_err(|e| Error::validation(format!("mcp.withPaywall: credits: {e}")))?,
            ),
            Some(_) => {
                return Err(Error::validation(
                    "mcp.withPaywall: credits must be a number, a bigint or a function",
                ))
            }
            // One credit when none is said, whatever `maxAmount` (which only verify reads), as the official SDK.
            None => Credits::Fixed(Uint256::from(1)),
        };
        Ok(McpTool {
            kind,
            name: name.to_owned(),
            plan_ids: plans_option(o, WHAT)?,
            credits,
            max_amount: max,
            propagate_redeem_errors: match json::opt_str(o, "onRedeemError", WHAT)? {
                None | Some("ignore") => false,
                Some("propagate") => true,
                Some(_) => {
                    return Err(Error::validation(
                        "mcp.withPaywall: onRedeemError must be \"ignore\" or \"propagate\"",
                    ))
                }
            },
        })
    }

    /// What verify checks the balance for: `maxAmount` when given (as the
    /// official SDK), else the fixed credits (what settle will ask), or 1 for a function.
    pub fn verify_amount(&self) -> &Uint256 {
        match &self.credits {
            Credits::Fixed(c) => self.max_amount.as_ref().unwrap_or(c),
            Credits::Dynamic { verify_with } => verify_with,
        }
    }
}

/// One paid call of a [`McpTool`], as the facade describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct McpCall {
    /// The paid handler called.
    pub tool: McpTool,
    /// Tool/prompt arguments or resource template variables (an object, or null).
    pub args: Value,
    /// The access token: the in-band payload re-encoded, else `payment-signature`, else `Authorization: Bearer`.
    pub token: Option<String>,
    /// The HTTP URL of the MCP endpoint (origin and path), for the fallback verify.
    pub http_url: Option<String>,
}

impl McpCall {
    /// Reads one call of `tool`: `{args?, meta?, headers?: {"payment-signature"?,
    /// authorization?}, httpUrl?}`.
    pub fn read(tool: &McpTool, v: &Value) -> Result<Self> {
        const WHAT: &str = "mcp call";
        let o = json::object(v, WHAT)?;
        let empty = Object::new();
        let headers = json::opt_object(o.get("headers"), "mcp call headers")?.unwrap_or(&empty);
        let in_band = o
            .get("meta")
            .and_then(|m| m.get(PAYMENT_META_KEY))
            .and_then(in_band_token);
        Ok(McpCall {
            tool: tool.clone(),
            args: o.get("args").cloned().unwrap_or(Value::Null),
            token: in_band
                .or(header_token(headers, "mcp call headers")?)
                .filter(|t| !t.is_empty()),
            http_url: json::opt_str(o, "httpUrl", WHAT)?
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
        })
    }

    /// A call and its handler's options in one object (both described above).
    pub fn from_json(v: &Value) -> Result<Self> {
        Self::read(&McpTool::from_json(v)?, v)
    }

    /// The logical URL of this call (`resource.url` of its PaymentRequired).
    pub fn logical_url(&self, server_name: &str) -> String {
        logical_url(self.tool.kind, server_name, &self.tool.name, &self.args)
    }
}

/// The in-band payment payload as an access token: only a JSON object of at
/// most [`MAX_PAYMENT_PAYLOAD`] bytes (as the official SDK, which ignores anything else).
fn in_band_token(payload: &Value) -> Option<String> {
    let map = payload.as_object()?;
    (json::to_text(payload).len() <= MAX_PAYMENT_PAYLOAD).then(|| encode_access_token(map))
}

/// The logical URL the official SDK builds: tools and prompts
/// `mcp://<server>/tools/<name>` (prompts too: the SDK gives them the tool
/// shape), resources `mcp://<server>/resources/<name>`, with the arguments as
/// a query in `URLSearchParams` form (strings as they are, other values as
/// JSON; resource variables: the first of a list); meta methods
/// `mcp://<server>/meta/<method>`, without a query.
///
/// ```
/// use nvm_x402::protocol::gate::mcp::{logical_url, Kind};
/// use nvm_x402::protocol::json::parse;
/// let args = parse(r#"{"text": "hi there", "n": 2, "o": {"a": [1]}}"#).unwrap();
/// assert_eq!(
///     logical_url(Kind::Tool, "srv", "echo", &args),
///     "mcp://srv/tools/echo?text=hi+there&n=2&o=%7B%22a%22%3A%5B1%5D%7D"
/// );
/// ```
pub fn logical_url(kind: Kind, server_name: &str, name: &str, args: &Value) -> String {
    let area = match kind {
        Kind::Resource => "resources",
        Kind::Tool | Kind::Prompt => "tools",
        Kind::Meta => "meta",
    };
    let mut url = format!("mcp://{server_name}/{area}/{name}");
    if let Some(o) = args
        .as_object()
        .filter(|o| !o.is_empty() && kind != Kind::Meta)
    {
        url.push('?');
        for (i, (key, value)) in o.iter().enumerate() {
            if i > 0 {
                url.push('&');
            }
            form_encode(&mut url, key);
            url.push('=');
            let value = match (kind, value) {
                (Kind::Resource, Value::Array(items)) => items.first().unwrap_or(&Value::Null),
                _ => value,
            };
            match value {
                Value::String(s) => form_encode(&mut url, s),
                other => form_encode(&mut url, &json::to_text(other)),
            }
        }
    }
    url
}

/// The application/x-www-form-urlencoded byte serializer (what `URLSearchParams` writes).
fn form_encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            _ if b.is_ascii_alphanumeric() => out.push(b as char),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// The pre-checks of a token for this call: a v2 token for one of the plans,
/// for this agent; a v3 token also bound to POST and to this call's logical
/// (or HTTP) URL. Returns the claims and the plan's index.
pub fn precheck(
    config: &McpConfig,
    call: &McpCall,
    plan_ids: &[String],
    logical_url: &str,
    token: &str,
) -> std::result::Result<(TokenClaims, usize), Refusal> {
    let path = |u: &str| u.split(['?', '#']).next().unwrap_or("").to_owned();
    let here = [Some(path(logical_url)), call.http_url.as_deref().map(path)];
    precheck_token(
        token,
        plan_ids,
        config.agent_id.as_deref(),
        "POST",
        |bound| here.contains(&Some(path(bound))),
    )
}

/// The call's PaymentRequired for `url` (its logical URL, or the HTTP one).
pub fn payment_required(
    config: &McpConfig,
    plan_ids: &[String],
    schemes: &[ResolvedScheme],
    url: &str,
    error: Option<&str>,
) -> Result<Value> {
    let resource = Resource {
        url,
        agent_id: config.agent_id.as_deref(),
        verb: "POST",
        description: None,
        mime_type: None,
    };
    payment_required_for(plan_ids, schemes, &resource, error)
}

/// The PaymentRequired when the plans could not be looked up, with `error`
/// (`plans unavailable`): the official SDK's shape, one `accepts` entry per
/// plan known (`plan_ids`: the configured ones), or one with an empty plan id
/// when none is, in the official default scheme (`nvm:erc4337`, on
/// `network`: the environment's), since the plans' own could not be read.
pub fn payment_required_without_plans(
    config: &McpConfig,
    plan_ids: &[String],
    network: &str,
    url: &str,
    error: &str,
) -> Value {
    let extra = ObjectBuilder::new()
        .put("version", "1")
        .put_opt("agentId", config.agent_id.as_deref())
        .put("httpVerb", "POST")
        .build();
    let entry = |plan_id: &str| {
        ObjectBuilder::new()
            .put("scheme", crate::protocol::SCHEME_ERC4337)
            .put("network", network)
            .put("planId", plan_id)
            .put("extra", extra.clone())
            .build()
    };
    let accepts: Vec<Value> = if plan_ids.is_empty() {
        vec![entry("")]
    } else {
        plan_ids.iter().map(|p| entry(p)).collect()
    };
    ObjectBuilder::new()
        .put("x402Version", 2u64)
        .put("error", error)
        .put("resource", ObjectBuilder::new().put("url", url).build())
        .put("accepts", Value::Array(accepts))
        .put("extensions", Value::Object(Object::new()))
        .build()
}

/// The paywall's answer instead of the handler's: a tool gets an error tool
/// result carrying the PaymentRequired (in `structuredContent` and, as JSON,
/// in its text), a resource or prompt a JSON-RPC error -32003 with it in `data`.
pub fn refuse(kind: Kind, payment_required: Value, message: &str) -> Value {
    let answer = ObjectBuilder::new().put("action", "refuse");
    match kind {
        Kind::Tool => {
            let text = json::to_text(&payment_required);
            answer
                .put(
                    "result",
                    ObjectBuilder::new()
                        .put("isError", true)
                        .put("structuredContent", payment_required)
                        .put(
                            "content",
                            Value::Array(vec![ObjectBuilder::new()
                                .put("type", "text")
                                .put("text", text.as_str())
                                .build()]),
                        )
                        .build(),
                )
                .build()
        }
        Kind::Resource | Kind::Prompt | Kind::Meta => answer
            .put(
                "error",
                rpc_error(PAYMENT_REQUIRED, message, Some(payment_required)),
            )
            .build(),
    }
}

/// An error the facade throws (a JSON-RPC error; for a tool, the MCP SDK turns
/// it into an error result with this message): no content is delivered.
pub fn fail(code: i64, message: &str) -> Value {
    ObjectBuilder::new()
        .put("action", "fail")
        .put("error", rpc_error(code, message, None))
        .build()
}

fn rpc_error(code: i64, message: &str, data: Option<Value>) -> Value {
    ObjectBuilder::new()
        .put("code", code)
        .put("message", message)
        .put_opt("data", data)
        .build()
}

/// `result._meta` additions after a paid call: the receipt (when settled) and
/// Nevermined's summary `{txHash?, billingModel?, creditsRedeemed?, remainingBalance?,
/// orderTx?, planId, subscriberAddress, success}`. As the official SDK since
/// its pay-as-you-go fixes (payments #432, #443): `billingModel` and `orderTx`
/// when the settle sent them (a pay-as-you-go settle is one charge with
/// `creditsRedeemed: "0"`), and `creditsRedeemed` only as the settle reported
/// it (never the credits asked for, in its place); `"0"` when nothing was settled.
pub fn paid_meta(
    settlement: Option<&Value>,
    credits: &Uint256,
    plan_id: &str,
    subscriber: Option<&str>,
) -> Value {
    credits_meta(settlement, Ok(credits), plan_id, subscriber)
}

/// The `_meta` of a call whose settle failed (the official SDK's last chunk of
/// such a stream): no receipt; the summary says `success: false`,
/// `creditsRedeemed: "0"` and the `errorReason`.
pub fn unpaid_meta(
    settlement: Option<&Value>,
    reason: &str,
    plan_id: &str,
    subscriber: Option<&str>,
) -> Value {
    credits_meta(settlement, Err(reason), plan_id, subscriber)
}

fn credits_meta(
    settlement: Option<&Value>,
    outcome: std::result::Result<&Uint256, &str>,
    plan_id: &str,
    subscriber: Option<&str>,
) -> Value {
    let text = |key: &str| {
        settlement
            .and_then(|s| s.get(key))
            .and_then(json::id_value)
            .filter(|t| !t.is_empty())
    };
    let (redeemed, error) = match outcome {
        Ok(_) if settlement.is_some() => (text("creditsRedeemed"), None),
        Ok(credits) => (Some(credits.as_str().to_owned()), None),
        Err(reason) => (Some("0".to_owned()), Some(reason)),
    };
    let summary = ObjectBuilder::new()
        .put_opt("txHash", text("transaction").as_deref())
        .put_opt("billingModel", text("billingModel").as_deref())
        .put_opt("creditsRedeemed", redeemed.as_deref())
        .put_opt("remainingBalance", text("remainingBalance").as_deref())
        .put_opt("orderTx", text("orderTx").as_deref())
        .put("planId", plan_id)
        .put_opt("subscriberAddress", subscriber)
        .put("success", error.is_none())
        .put_opt("errorReason", error)
        .build();
    ObjectBuilder::new()
        .put_opt(
            PAYMENT_RESPONSE_META_KEY,
            settlement.filter(|_| error.is_none()).cloned(),
        )
        .put(CREDITS_META_KEY, summary)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn config() -> McpConfig {
        McpConfig::from_json(&json!({"agentId": "agent-1", "serverName": "weather"})).unwrap()
    }

    #[test]
    fn logical_urls_are_the_official_sdks() {
        let args = json!({"city": "Zürich & co", "days": 3, "flags": [true, null], "*-._~": "~"});
        assert_eq!(
            logical_url(Kind::Tool, "weather", "forecast", &args),
            "mcp://weather/tools/forecast?city=Z%C3%BCrich+%26+co&days=3&flags=%5Btrue%2Cnull%5D&*-._%7E=%7E"
        );
        // Prompts take the tool shape, as in the official SDK; no arguments, no query.
        assert_eq!(
            logical_url(Kind::Prompt, "weather", "summary", &json!({})),
            "mcp://weather/tools/summary"
        );
        assert_eq!(
            logical_url(
                Kind::Resource,
                "weather",
                "city",
                &json!({"id": ["7", "8"], "u": "c"})
            ),
            "mcp://weather/resources/city?id=7&u=c"
        );
        assert_eq!(
            logical_url(Kind::Tool, "s", "t", &Value::Null),
            "mcp://s/tools/t"
        );
        assert_eq!(
            logical_url(Kind::Meta, "s", "tools/list", &json!({"cursor": "c"})),
            "mcp://s/meta/tools/list"
        );
    }

    #[test]
    fn the_payment_comes_in_band_first_then_from_the_headers() {
        let payload = json!({"x402Version": 2, "accepted": {"planId": "1"}});
        let call = |extra: Value| McpCall::from_json(&extra).unwrap().token;
        let in_band = call(
            json!({"name": "t", "meta": {"x402/payment": payload.clone()}, "headers": {"payment-signature": "hdr"}}),
        );
        assert_eq!(
            in_band.as_deref(),
            Some(encode_access_token(payload.as_object().unwrap()).as_str())
        );
        assert_eq!(call(json!({"name": "t", "headers": {"payment-signature": " sig ", "authorization": "Bearer b"}})).as_deref(), Some("sig"));
        assert_eq!(
            call(json!({"name": "t", "headers": {"authorization": "bearer b"}})).as_deref(),
            Some("b")
        );
        assert_eq!(
            call(json!({"name": "t", "headers": {"authorization": "Basic b"}})),
            None
        );
        // Not an object, or too large: ignored (then the headers count).
        assert_eq!(
            call(json!({"name": "t", "meta": {"x402/payment": "token"}})),
            None
        );
        assert_eq!(
            call(json!({"name": "t", "meta": {"x402/payment": [1]}})),
            None
        );
        let big = json!({"x402Version": 2, "pad": "x".repeat(MAX_PAYMENT_PAYLOAD)});
        assert_eq!(call(json!({"name": "t", "meta": {"x402/payment": big}, "headers": {"authorization": "Bearer b"}})).as_deref(), Some("b"));
    }

    #[test]
    fn configuration_needs_an_agent_or_a_plan() {
        assert!(McpConfig::from_json(&json!({"serverName": "s"})).is_err());
        assert!(McpConfig::from_json(&json!({"agentId": "a", "serverName": "a/b"})).is_err());
        let c = McpConfig::from_json(&json!({"planId": "1", "planIds": ["2"]})).unwrap();
        assert_eq!(
            (c.server_name.as_str(), c.plan_ids.clone()),
            ("mcp-server", vec!["1".to_owned(), "2".to_owned()])
        );
        assert_eq!(config().agent_id.as_deref(), Some("agent-1"));
    }

    #[test]
    fn credits_are_fixed_by_default_and_verify_the_max_when_dynamic() {
        let read = |v: Value| McpCall::from_json(&v).unwrap().tool.credits;
        assert_eq!(read(json!({"name": "t"})), Credits::Fixed(Uint256::from(1)));
        // One credit whatever maxAmount says (the official SDK's default); verify checks maxAmount.
        let tool = McpTool::from_json(&json!({"name": "t", "maxAmount": 4})).unwrap();
        assert_eq!(
            (tool.credits.clone(), tool.verify_amount().clone()),
            (Credits::Fixed(Uint256::from(1)), Uint256::from(4))
        );
        let tool = McpTool::from_json(&json!({"name": "t", "credits": 3})).unwrap();
        assert_eq!(tool.verify_amount(), &Uint256::from(3));
        assert_eq!(
            read(json!({"name": "t", "credits": "5"})),
            Credits::Fixed(Uint256::from(5))
        );
        assert_eq!(
            read(json!({"name": "t", "credits": {"$function": true}, "maxAmount": 9})),
            Credits::Dynamic {
                verify_with: Uint256::from(9)
            }
        );
        assert!(McpCall::from_json(&json!({"name": "t", "credits": -1})).is_err());
        assert!(McpCall::from_json(&json!({"name": ""})).is_err());
        assert!(McpCall::from_json(&json!({"name": "t", "kind": "sampling"})).is_err());
        // Checked when the handler is wrapped: what the options get wrong, said in withPaywall's words.
        let wrong = |v: Value| McpTool::from_json(&v).unwrap_err().to_string();
        assert!(wrong(json!({"kind": "tool"})).contains("options.name is required"));
        assert!(wrong(json!({"name": "t", "kind": "sampling"})).contains("kind must be"));
        for credits in [
            json!({}),
            json!([1]),
            json!(true),
            json!({"$function": false}),
        ] {
            let said = wrong(json!({"name": "t", "credits": credits}));
            assert!(
                said.contains("credits must be a number, a bigint or a function"),
                "{said}"
            );
        }
        assert!(
            wrong(json!({"name": "t", "credits": "1.5"})).starts_with("mcp.withPaywall: credits")
        );
        assert!(wrong(json!({"name": "t", "maxAmount": -2})).contains("maxAmount"));
    }

    #[test]
    fn tools_get_an_error_result_and_resources_a_json_rpc_error() {
        let pr = json!({"x402Version": 2, "accepts": []});
        let tool = refuse(Kind::Tool, pr.clone(), "m");
        assert_eq!(tool["result"]["isError"], json!(true));
        assert_eq!(tool["result"]["structuredContent"], pr);
        assert_eq!(
            tool["result"]["content"][0]["text"],
            json!(json::to_text(&pr))
        );
        let resource = refuse(Kind::Resource, pr.clone(), "m");
        assert_eq!(
            resource["error"],
            json!({"code": -32003, "message": "m", "data": pr})
        );
        assert_eq!(fail(MISCONFIGURATION, "x")["error"]["code"], json!(-32002));
    }

    #[test]
    fn v3_tokens_are_bound_to_the_logical_url_and_post() {
        let token = |resource: &str, verb: &str| {
            encode_access_token(
                json!({"x402Version": 2, "accepted": {"planId": "1", "extra": {"agentId": "agent-1", "httpVerb": verb}},
                       "resource": {"url": resource}, "payload": {"authorization": {"nonce": "n"}}})
                .as_object()
                .unwrap(),
            )
        };
        let call = McpCall::from_json(
            &json!({"name": "echo", "args": {"text": "a"}, "httpUrl": "https://h.example/mcp"}),
        )
        .unwrap();
        let url = call.logical_url("weather");
        let plans = ["1".to_owned()];
        let check = |t: &str| precheck(&config(), &call, &plans, &url, t).map(|(_, i)| i);
        assert_eq!(
            check(&token("mcp://weather/tools/echo?text=b", "POST")),
            Ok(0)
        );
        assert_eq!(check(&token("https://h.example/mcp", "post")), Ok(0));
        assert!(check(&token("mcp://weather/tools/other", "POST")).is_err());
        assert!(check(&token("mcp://weather/tools/echo", "GET")).is_err());
    }

    #[test]
    fn the_paid_meta_carries_the_receipt_and_the_summary() {
        let settled = json!({"success": true, "transaction": "0xab", "network": "n", "creditsRedeemed": "2", "remainingBalance": "8"});
        let meta = paid_meta(Some(&settled), &Uint256::from(2), "1", Some("0xbb"));
        assert_eq!(meta[PAYMENT_RESPONSE_META_KEY], settled);
        assert_eq!(
            meta[CREDITS_META_KEY],
            json!({"txHash": "0xab", "creditsRedeemed": "2", "remainingBalance": "8", "planId": "1", "subscriberAddress": "0xbb", "success": true})
        );
        let failed = unpaid_meta(
            Some(
                &json!({"success": false, "errorReason": "no funds", "transaction": "", "remainingBalance": "0"}),
            ),
            "no funds",
            "1",
            Some("0xbb"),
        );
        assert_eq!(failed.get(PAYMENT_RESPONSE_META_KEY), None);
        assert_eq!(
            failed[CREDITS_META_KEY],
            json!({"creditsRedeemed": "0", "remainingBalance": "0", "planId": "1", "subscriberAddress": "0xbb", "success": false, "errorReason": "no funds"})
        );
        let free = paid_meta(None, &Uint256::from(0), "1", None);
        assert_eq!(free.get(PAYMENT_RESPONSE_META_KEY), None);
        assert_eq!(free[CREDITS_META_KEY]["creditsRedeemed"], json!("0"));
    }

    #[test]
    fn a_pay_as_you_go_settle_is_summarised_with_its_billing_model_and_order() {
        let settled = json!({"success": true, "transaction": "0xab", "network": "stripe", "billingModel": "pay-as-you-go", "creditsRedeemed": "0", "remainingBalance": "0", "orderTx": "pi_3U6t"});
        let meta = paid_meta(Some(&settled), &Uint256::from(1), "1", Some("0xbb"));
        assert_eq!(meta[PAYMENT_RESPONSE_META_KEY], settled);
        assert_eq!(
            meta[CREDITS_META_KEY],
            json!({"txHash": "0xab", "billingModel": "pay-as-you-go", "creditsRedeemed": "0", "remainingBalance": "0", "orderTx": "pi_3U6t", "planId": "1", "subscriberAddress": "0xbb", "success": true})
        );
        // A settle that reports no figure: no creditsRedeemed (not the 1 credit asked for), and
        // no billingModel or orderTx either (omitted, not "").
        let silent = json!({"success": true, "transaction": "0xab", "network": "n", "orderTx": ""});
        let meta = paid_meta(Some(&silent), &Uint256::from(1), "1", None);
        assert_eq!(
            meta[CREDITS_META_KEY],
            json!({"txHash": "0xab", "planId": "1", "success": true})
        );
    }
}
