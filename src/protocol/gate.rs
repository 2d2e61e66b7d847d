//! The agent-side gate's decisions, without I/O: the route table, CORS, token
//! pre-checks, the PaymentRequired of a request, and every answer the gate
//! gives instead of the handler's (402, 503, 500, preflight). The async steps
//! (verify, settle, plan lookups) are in [`crate::gate`].
//!
//! Per request (see `x402-http.md`, "The gate"): match the route on the
//! normalised path; unprotected requests pass; no token -> 402; a token that
//! is not an object, names another plan, scheme or network, or (v3) is bound
//! to another agent, URL or verb -> 402 without any backend call.

pub mod a2a;
pub mod mcp;
pub mod tool;

use super::json::{self, Object, ObjectBuilder};
use super::payment_required::{build_payment_required_for_plans, BuildOptions};
use super::routes::RouteTable;
use super::token::{try_decode_access_token, TokenClaims};
use super::url::{normalize_path, Url};
use super::{encode_payment_header, ResolvedScheme, Uint256};
use crate::error::{Error, Result};
use crate::protocol::json::Value;

/// The message of a 402 without a token.
pub const MISSING_TOKEN: &str =
    "Missing x402 payment token. Send token in payment-signature header.";
/// The message of a 402 when the backend gave no reason.
pub const DEFAULT_REFUSAL: &str = "Insufficient credits or invalid token";
/// `code` of the 500 when the handler threw (nothing is charged).
pub const HANDLER_FAILED: &str = "handler_failed";
/// `code` of the 500 when the handler threw in upfront mode (already charged).
pub const HANDLER_FAILED_AFTER_PAYMENT: &str = "handler_failed_after_payment";
/// `code` of the 500 when a dynamic credits function gave no valid amount (nothing is charged).
pub const INVALID_CREDITS: &str = "invalid_credits";
/// `code` of the 500 when the request handed to the gate can't be routed (its URL is not absolute).
pub const INVALID_REQUEST: &str = "invalid_request";

/// What a paid route costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credits {
    /// The same every request.
    Fixed(Uint256),
    /// Computed after the handler (by JS); verify asks for `verify_with` first.
    Dynamic {
        /// What verify checks the balance against.
        verify_with: Uint256,
    },
}

/// One paid route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidRoute {
    /// The route key as written (`"POST /tasks"`).
    pub key: String,
    /// Plans that pay for it, in order of preference.
    pub plan_ids: Vec<String>,
    /// What it costs.
    pub credits: Credits,
    /// `resource.description`.
    pub description: Option<String>,
    /// `resource.mimeType`.
    pub mime_type: Option<String>,
    /// Fixes the scheme (skips the plan lookup).
    pub scheme: Option<String>,
    /// Fixes the network (with `scheme`).
    pub network: Option<String>,
    /// MPP is accepted too (`mpp: true | {bindBody}`): `Some(bind_body)`.
    pub mpp: Option<bool>,
}

/// Which origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `Access-Control-Allow-Origin: *`.
    Any,
    /// These exact origins (reflected, with `Vary: Origin`).
    List(Vec<String>),
}

/// The CORS option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Allowed origins.
    pub origins: CorsOrigins,
    /// Preflight cache time in seconds.
    pub max_age: u64,
    /// Request headers allowed besides the payment ones.
    pub allow_headers: Vec<String>,
}

/// How the JavaScript adapter writes a function it was given (a hook, a credits
/// function) in the options it hands over: the function stays on its side, the
/// core learns that there is one (and checks it is one: any other value of a
/// hook or credits option is a validation error here).
pub const FUNCTION_MARK: &str = "$function";

/// Whether `v` is the adapter's mark of a function.
pub fn is_function_mark(v: &Value) -> bool {
    json::at(v, &[FUNCTION_MARK]).and_then(Value::as_bool) == Some(true)
}

/// The lifecycle hooks a paywall may be given, by the official SDK's names
/// (`@nevermined-io/payments/express`): called at those points of a paid
/// request, awaited, and never able to change the decision (one that throws is
/// logged by the adapter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `onBeforeVerify(request, paymentRequired)`: before the verify call.
    BeforeVerify,
    /// `onAfterVerify(request, verification)`: after verify said yes.
    AfterVerify,
    /// `onAfterSettle(request, creditsUsed, settlement)`: after a settle succeeded.
    AfterSettle,
    /// `onPaymentError(error, request)`: the gate answers 402 or 503 for a paid route.
    PaymentError,
}

impl Hook {
    /// Every hook, in the order of a request.
    pub const ALL: [Hook; 4] = [
        Hook::BeforeVerify,
        Hook::AfterVerify,
        Hook::AfterSettle,
        Hook::PaymentError,
    ];

    /// The option's (and the JS API's) name.
    pub fn name(self) -> &'static str {
        match self {
            Hook::BeforeVerify => "onBeforeVerify",
            Hook::AfterVerify => "onAfterVerify",
            Hook::AfterSettle => "onAfterSettle",
            Hook::PaymentError => "onPaymentError",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// What `onAfterSettle` is told: the credits burned and the settlement.
    pub fn settled_detail(credits: &Uint256, settlement: &Value) -> Value {
        ObjectBuilder::new()
            .put("credits", credits.as_str())
            .put("settlement", settlement.clone())
            .build()
    }

    /// What `onPaymentError` is told: the error as a `PaymentsError` is built
    /// (`code`, `message`, `httpStatus?`, `hint`, `details?`).
    pub fn error_detail(
        code: &str,
        message: Value,
        status: Option<u16>,
        details: Option<Value>,
    ) -> Value {
        let hint = if code == "payment_required" {
            "The caller must pay: order the plan and send a valid token."
        } else {
            "Check the paywall's plans and the backend (the agent's log has the error)."
        };
        ObjectBuilder::new()
            .put("code", code)
            .put("message", message)
            .put_opt("httpStatus", status)
            .put("hint", hint)
            .put_opt("details", details)
            .build()
    }
}

/// Which hooks a paywall has (only those are called: a request pays nothing for the others).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hooks(u8);

impl Hooks {
    /// Whether `hook` was given.
    pub fn has(self, hook: Hook) -> bool {
        self.0 & hook.bit() != 0
    }

    /// Reads the hook options of `what` (`paywall`, `mcp.configure`): each
    /// absent, or a function (the adapter's mark); `also` (options of this
    /// package's own, such as `onSettled`) are checked the same way.
    pub fn from_options(o: &Object, what: &str, also: &[&str]) -> Result<Hooks> {
        let mut hooks = Hooks::default();
        let function = |name: &str| -> Result<bool> {
            match o.get(name) {
                None | Some(Value::Null) => Ok(false),
                Some(v) if is_function_mark(v) => Ok(true),
                Some(_) => Err(Error::validation(format!(
                    "{what}: {name} must be a function"
                ))),
            }
        };
        for hook in Hook::ALL {
            if function(hook.name())? {
                hooks.0 |= hook.bit();
            }
        }
        for name in also {
            function(name)?;
        }
        Ok(hooks)
    }
}

/// A compiled gate configuration.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// The agent being paid.
    pub agent_id: String,
    /// Paid routes.
    pub routes: RouteTable<PaidRoute>,
    /// Settle before the handler (one backend round trip; credits are spent even if the handler fails).
    pub upfront: bool,
    /// `repeatPayers`: how long (ms) a token that verified and settled may skip
    /// verify on the same route (settle only: one round trip); 0 when off.
    pub repeat_window_ms: u64,
    /// CORS, when enabled.
    pub cors: Option<Cors>,
    /// The lifecycle hooks given.
    pub hooks: Hooks,
}

impl GateConfig {
    /// Reads and checks the `paywall(options)` object; every mistake is reported here, not on the first request.
    ///
    /// `{agentId, routes: {"POST /tasks": {planId | planIds, credits? (a number, or a function's mark), minCredits?, description?, mimeType?, scheme?, network?}}, upfront?, cors?, caseSensitive?, onBeforeVerify?, onAfterVerify?, onAfterSettle?, onPaymentError?, onSettled?}`
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "paywall options";
        let o = json::object(v, WHAT)?;
        let agent_id = json::opt_id(o, "agentId", WHAT)?
            .ok_or_else(|| Error::validation("paywall: agentId is required"))?;
        let upfront = json::opt_bool(o, "upfront", WHAT)?.unwrap_or(false);
        let repeat_window_ms = repeat_window(o.get("repeatPayers"))?;
        if upfront && repeat_window_ms > 0 {
            return Err(Error::validation(
                "paywall: upfront and repeatPayers both save the verify round trip; pick one",
            ));
        }
        let case_sensitive = json::opt_bool(o, "caseSensitive", WHAT)?.unwrap_or(false);
        let routes = json::opt_object(o.get("routes"), "paywall: routes")?
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Error::validation("paywall: routes must name at least one paid route")
            })?;
        let mut entries = Vec::with_capacity(routes.len());
        for (key, spec) in routes {
            let route = paid_route(key, spec)?;
            if upfront && matches!(route.credits, Credits::Dynamic { .. }) {
                return Err(Error::validation(format!("paywall: route \"{key}\" has dynamic credits, which upfront mode can't know before the handler runs")));
            }
            entries.push((key.as_str(), route));
        }
        Ok(GateConfig {
            agent_id,
            routes: RouteTable::new(entries, case_sensitive)?,
            upfront,
            repeat_window_ms,
            cors: cors(o.get("cors"))?,
            hooks: Hooks::from_options(o, "paywall", &["onSettled"])?,
        })
    }
}

/// The default `repeatPayers` window: 30 s.
pub const DEFAULT_REPEAT_WINDOW_MS: u64 = 30_000;
/// The longest `repeatPayers` window: 5 minutes.
pub const MAX_REPEAT_WINDOW_MS: u64 = 300_000;

/// `repeatPayers`: `true` (30 s), `{windowMs}` (1 ms to 5 minutes), or `false`/absent (off).
fn repeat_window(v: Option<&Value>) -> Result<u64> {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(0),
        Some(Value::Bool(true)) => Ok(DEFAULT_REPEAT_WINDOW_MS),
        Some(Value::Object(o)) => {
            let ms = crate::protocol::uint::opt_count(o, "windowMs", "paywall: repeatPayers")?
                .unwrap_or(DEFAULT_REPEAT_WINDOW_MS);
            if ms == 0 || ms > MAX_REPEAT_WINDOW_MS {
                return Err(Error::validation(
                    "paywall: repeatPayers.windowMs must be between 1 and 300000 (5 minutes)",
                ));
            }
            Ok(ms)
        }
        Some(_) => Err(Error::validation(
            "paywall: repeatPayers must be true, false or {windowMs}",
        )),
    }
}

fn paid_route(key: &str, spec: &Value) -> Result<PaidRoute> {
    let what = format!("paywall route \"{key}\"");
    let o = json::object(spec, &what)?;
    let mut plan_ids: Vec<String> = json::opt_id(o, "planId", &what)?.into_iter().collect();
    plan_ids.extend(json::opt_ids(o, "planIds", &what)?);
    if plan_ids.is_empty() {
        return Err(Error::validation(format!(
            "{what}: planId or planIds is required"
        )));
    }
    // A credits function (its mark from the adapter) is priced after the handler.
    let dynamic = o.get("credits").is_some_and(is_function_mark);
    let credits = if dynamic {
        Credits::Dynamic {
            verify_with: crate::protocol::uint::opt_uint(o, "minCredits", &what)?
                .unwrap_or_else(|| Uint256::from(1)),
        }
    } else {
        let c = crate::protocol::uint::opt_uint(o, "credits", &what)?
            .unwrap_or_else(|| Uint256::from(1));
        if c.is_zero() {
            return Err(Error::validation(format!(
                "{what}: credits must be at least 1 (a free route needs no paywall)"
            )));
        }
        Credits::Fixed(c)
    };
    let text = |k: &str| json::opt_str(o, k, &what).map(|s| s.map(str::to_owned));
    let scheme = text("scheme")?;
    let network = text("network")?;
    if network.is_some() && scheme.is_none() {
        return Err(Error::validation(format!(
            "{what}: network needs scheme too"
        )));
    }
    // MPP seals the price into its challenge, before the handler runs.
    let mpp = match o.get("mpp") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(false),
        Some(Value::Object(m)) => Some(json::opt_bool(m, "bindBody", &what)?.unwrap_or(false)),
        Some(_) => {
            return Err(Error::validation(format!(
                "{what}: mpp must be true, false or {{bindBody}}"
            )))
        }
    };
    #[cfg(not(feature = "mpp"))]
    if mpp.is_some() {
        return Err(Error::validation(format!("{what}: mpp is not in this entry's core: gate MPP routes with nvm-x402/express (its paymentMiddleware, or its Payments' paywall)")));
    }
    if mpp.is_some() && dynamic {
        return Err(Error::validation(format!("{what}: mpp needs fixed credits (an MPP challenge names its price before the handler runs)")));
    }
    Ok(PaidRoute {
        key: key.trim().to_owned(),
        plan_ids,
        credits,
        description: text("description")?,
        mime_type: text("mimeType")?,
        scheme,
        network,
        mpp,
    })
}

fn cors(v: Option<&Value>) -> Result<Option<Cors>> {
    let defaults = || Cors {
        origins: CorsOrigins::Any,
        max_age: 600,
        allow_headers: vec![],
    };
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => Ok(Some(defaults())),
        Some(Value::Object(o)) => {
            const WHAT: &str = "paywall cors";
            let origins = match o.get("origin") {
                None | Some(Value::Null) => CorsOrigins::Any,
                Some(Value::String(s)) if s == "*" => CorsOrigins::Any,
                Some(Value::String(s)) => {
                    CorsOrigins::List(vec![s.trim_end_matches('/').to_owned()])
                }
                Some(Value::Array(_)) => CorsOrigins::List(
                    json::opt_ids(o, "origin", WHAT)?
                        .into_iter()
                        .map(|s| s.trim_end_matches('/').to_owned())
                        .collect(),
                ),
                Some(_) => {
                    return Err(Error::validation(
                        "paywall cors: origin must be \"*\", an origin or a list of origins",
                    ))
                }
            };
            let allow_headers = json::opt_ids(o, "allowHeaders", WHAT)?
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect();
            Ok(Some(Cors {
                origins,
                max_age: crate::protocol::uint::opt_count(o, "maxAge", WHAT)?.unwrap_or(600),
                allow_headers,
            }))
        }
        Some(_) => Err(Error::validation(
            "paywall: cors must be true, false or an object",
        )),
    }
}

/// The response headers a browser may read (MPP's too, when the core has it).
#[cfg(feature = "mpp")]
const EXPOSED: &str = "payment-required, payment-response, www-authenticate, payment-receipt";
#[cfg(not(feature = "mpp"))]
const EXPOSED: &str = "payment-required, payment-response";

/// What the gate needs to know about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRequest {
    /// Upper-cased method.
    pub method: String,
    /// The full URL as received.
    pub url: String,
    /// The path of the URL, as `fetch` and `new URL` read it (not yet normalised).
    pub path: String,
    /// `payment-signature`, else the token of `Authorization: Bearer`.
    pub token: Option<String>,
    /// `Origin`.
    pub origin: Option<String>,
    /// `Access-Control-Request-Method` (only on preflights).
    pub preflight_method: Option<String>,
    /// The MPP credential (`Authorization`'s `Payment` scheme).
    pub credential: Option<String>,
    /// An `Authorization` header came (with or without a `Payment` scheme).
    pub authorization: bool,
}

/// A header of a `headers` object (`{name: value}`, names lower-case), trimmed; `None` when absent or blank.
pub fn header(headers: &Object, name: &str, what: &str) -> Result<Option<String>> {
    Ok(json::opt_str(headers, name, what)?
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned))
}

/// The access token a request's headers carry: `payment-signature`, else the
/// token of `Authorization: Bearer <token>`.
pub fn header_token(headers: &Object, what: &str) -> Result<Option<String>> {
    let bearer = header(headers, "authorization", what)?.and_then(|a| {
        let (scheme, token) = a.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned())
    });
    Ok(header(headers, "payment-signature", what)?.or(bearer))
}

impl GateRequest {
    /// Reads `{method, url, headers: {"payment-signature"?, authorization?, origin?, "access-control-request-method"?}}`.
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "request";
        let o = json::object(v, WHAT)?;
        let empty = Object::new();
        let headers = json::opt_object(o.get("headers"), "request.headers")?.unwrap_or(&empty);
        let header = |name: &str| header(headers, name, "request.headers");
        let url = json::opt_str(o, "url", WHAT)?
            .ok_or_else(|| Error::validation("request.url is required"))?;
        Ok(GateRequest {
            method: json::opt_str(o, "method", WHAT)?
                .unwrap_or("GET")
                .to_ascii_uppercase(),
            path: absolute_path(url)?,
            url: url.to_owned(),
            token: header_token(headers, "request.headers")?,
            origin: header("origin")?,
            preflight_method: header("access-control-request-method")?,
            #[cfg(feature = "mpp")]
            credential: header("authorization")?
                .and_then(|a| crate::protocol::mpp::payment_scheme(&a).map(str::to_owned)),
            #[cfg(not(feature = "mpp"))]
            credential: None,
            authorization: headers.contains_key("authorization"),
        })
    }

    /// The path part of the URL (`/` when there is none).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The verb agents register endpoints with: HEAD runs the GET handler.
    pub fn verb(&self) -> &str {
        if self.method == "HEAD" {
            "GET"
        } else {
            &self.method
        }
    }
}

/// The path of a request URL, which must be absolute (`http(s)://host/...`):
/// a path alone (`/tasks`), a scheme-relative (`//host/tasks`) or
/// authority-less (`http:/tasks`) URL can't be routed safely, so it is a
/// configuration error (the gate answers 500), never "unprotected".
fn absolute_path(url: &str) -> Result<String> {
    let written = url.trim_start_matches(|c: char| c <= ' ');
    let has_authority = ["http://", "https://"].iter().any(|prefix| {
        written
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    });
    match Url::parse(url) {
        Some(u) if has_authority => Ok(u.path),
        _ => Err(Error::validation(format!(
            "paywall: the request URL {} is not an absolute http(s) URL; pass the Request your runtime received (or build one with new Request(new URL(path, origin)))",
            crate::protocol::redact::quote_input(url)
        ))),
    }
}

/// An HTTP answer the gate gives (or headers it adds).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    fn json(status: u16, body: Value, no_store: bool) -> Self {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if no_store {
            headers.push(("cache-control".to_owned(), "no-store".to_owned()));
        }
        Answer {
            status,
            headers,
            body: json::to_text(&body),
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Adds several headers.
    pub fn with_all(mut self, headers: Vec<(String, String)>) -> Self {
        self.headers.extend(headers);
        self
    }

    /// `{status, headers: [[name, value]], body}`.
    pub fn to_json(&self) -> Value {
        ObjectBuilder::new()
            .put("status", self.status)
            .put("headers", headers_json(&self.headers))
            .put("body", self.body.as_str())
            .build()
    }
}

/// Headers as `[[name, value], ...]`.
pub fn headers_json(headers: &[(String, String)]) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(n, v)| Value::Array(vec![Value::from(n.as_str()), Value::from(v.as_str())]))
            .collect(),
    )
}

/// What the gate does with a request before any I/O.
#[derive(Debug)]
pub enum Routing<'a> {
    /// A CORS preflight, answered by the gate.
    Preflight(Answer),
    /// Not a paid route: straight to the handler.
    Unprotected,
    /// A paid route.
    Paid(&'a PaidRoute),
}

/// Why a token was refused without asking the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl GateConfig {
    /// Routes a request (preflights first, when CORS is on).
    pub fn route(&self, req: &GateRequest) -> Routing<'_> {
        if self.cors.is_some() && req.method == "OPTIONS" && req.preflight_method.is_some() {
            return Routing::Preflight(
                Answer {
                    status: 204,
                    ..Default::default()
                }
                .with_all(self.preflight_headers(req)),
            );
        }
        match self.routes.find(&req.method, req.path()) {
            Some((_, route)) => Routing::Paid(route),
            None => Routing::Unprotected,
        }
    }

    /// CORS headers for an actual (non-preflight) response; empty when CORS is off or the origin isn't allowed.
    pub fn cors_headers(&self, req: &GateRequest) -> Vec<(String, String)> {
        let Some(cors) = &self.cors else {
            return vec![];
        };
        let mut out = Vec::with_capacity(3);
        match (&cors.origins, req.origin.as_deref()) {
            (CorsOrigins::Any, _) => {
                out.push(("access-control-allow-origin".to_owned(), "*".to_owned()))
            }
            (CorsOrigins::List(list), Some(origin))
                if list
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(origin.trim_end_matches('/'))) =>
            {
                out.push(("access-control-allow-origin".to_owned(), origin.to_owned()));
                out.push(("vary".to_owned(), "Origin".to_owned()));
            }
            (CorsOrigins::List(_), _) => {
                out.push(("vary".to_owned(), "Origin".to_owned()));
                return out;
            }
        }
        out.push((
            "access-control-expose-headers".to_owned(),
            EXPOSED.to_owned(),
        ));
        out
    }

    fn preflight_headers(&self, req: &GateRequest) -> Vec<(String, String)> {
        let Some(cors) = &self.cors else {
            return vec![];
        };
        let mut out = self.cors_headers(req);
        if !out.iter().any(|(n, _)| n == "access-control-allow-origin") {
            return out;
        }
        let mut allowed = String::from("payment-signature, authorization, content-type");
        for h in &cors.allow_headers {
            allowed.push_str(", ");
            allowed.push_str(h);
        }
        out.push((
            "access-control-allow-methods".to_owned(),
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS".to_owned(),
        ));
        out.push(("access-control-allow-headers".to_owned(), allowed));
        out.push((
            "access-control-max-age".to_owned(),
            cors.max_age.to_string(),
        ));
        out
    }

    /// The PaymentRequired for a request to `route`, one `accepts` entry per plan
    /// with that plan's scheme and network (`schemes[i]` belongs to `route.plan_ids[i]`).
    pub fn payment_required(
        &self,
        route: &PaidRoute,
        req: &GateRequest,
        schemes: &[ResolvedScheme],
        error: Option<&str>,
    ) -> Result<Value> {
        let resource = Resource {
            url: &req.url,
            agent_id: Some(&self.agent_id),
            verb: req.verb(),
            description: route.description.as_deref(),
            mime_type: route.mime_type.as_deref(),
        };
        payment_required_for(&route.plan_ids, schemes, &resource, error)
    }

    /// The checks a token's claims (see [`decode_claims`]) must pass before the
    /// backend is asked. Returns the claims and the index of the plan they pay with.
    pub fn precheck(
        &self,
        route: &PaidRoute,
        req: &GateRequest,
        claims: TokenClaims,
    ) -> std::result::Result<(TokenClaims, usize), Refusal> {
        check_claims(
            claims,
            &route.plan_ids,
            Some(&self.agent_id),
            req.verb(),
            |bound| same_resource(bound, &req.url),
        )
    }

    /// The scheme/network check, once the plan's scheme is known.
    pub fn check_scheme(
        claims: &TokenClaims,
        expected: &ResolvedScheme,
    ) -> std::result::Result<(), Refusal> {
        if claims.scheme.as_deref() != Some(expected.scheme.as_str()) {
            return Err(Refusal(format!(
                "The access token uses another payment scheme (this plan takes {})",
                expected.scheme
            )));
        }
        if claims.network.as_deref() != Some(expected.network.as_str()) {
            return Err(Refusal(format!(
                "The access token is for another network (this plan is on {})",
                expected.network
            )));
        }
        Ok(())
    }

    /// 402 with the PaymentRequired, the spec's body, `no-store`, and CORS.
    pub fn payment_required_answer(
        &self,
        req: &GateRequest,
        payment_required: &Value,
        message: &str,
    ) -> Result<Answer> {
        Ok(Self::payment_required_answer_encoded(
            self.cors_headers(req),
            encode_payment_header(payment_required)?,
            message,
        ))
    }

    /// [`GateConfig::payment_required_answer`] with the request's CORS headers
    /// and the `payment-required` header already made.
    pub fn payment_required_answer_encoded(
        cors: Vec<(String, String)>,
        header: String,
        message: &str,
    ) -> Answer {
        let body = ObjectBuilder::new()
            .put("error", "Payment Required")
            .put("message", message)
            .put_opt(
                "hint",
                crate::protocol::says_not_an_endpoint(message)
                    .then_some(crate::protocol::NOT_AN_ENDPOINT_HINT),
            )
            .build();
        Answer::json(402, body, true)
            .with("payment-required", header)
            .with_all(cors)
    }

    /// MPP's 402: the x402 `payment-required` header (x402 buyers are served as
    /// before), the MPP challenge in `www-authenticate` when one was issued, and
    /// the official body `{error, message, code?, retryable?}` (`code` only a
    /// backend `BCK.MPP.*` one, with whether a fresh credential can succeed).
    pub fn mpp_challenge_answer(
        &self,
        req: &GateRequest,
        payment_required: String,
        challenge: Option<&str>,
        message: &str,
        code: Option<&str>,
    ) -> Answer {
        let body = ObjectBuilder::new()
            .put("error", "Payment Required")
            .put("message", message)
            .put_opt("code", code)
            .put_opt("retryable", code.map(crate::protocol::mpp::retryable_code))
            .build();
        let answer = Answer::json(402, body, true).with("payment-required", payment_required);
        match challenge {
            Some(c) => answer.with("www-authenticate", c),
            None => answer,
        }
        .with_all(self.cors_headers(req))
    }

    /// 409: another request is paying with the same MPP credential right now.
    pub fn conflict_answer(&self, req: &GateRequest) -> Answer {
        let body = ObjectBuilder::new()
            .put("error", "Conflict")
            .put(
                "message",
                "This credential is already being processed by a concurrent request.",
            )
            .build();
        Answer::json(409, body, true).with_all(self.cors_headers(req))
    }

    /// 503: the payment backend could not be asked (never a free 200). The
    /// body says which call failed and how, never where the backend is.
    pub fn unavailable_answer(&self, req: &GateRequest, what: &str, error: &Error) -> Answer {
        let how = match error {
            Error::Network(_) => "the payment backend could not be reached".to_owned(),
            Error::Timeout { after_ms } => {
                format!("the payment backend did not answer within {after_ms} ms")
            }
            Error::Http { status, .. } => format!("the payment backend answered HTTP {status}"),
            Error::Backend(b) => format!(
                "the payment backend refused the agent's call (HTTP {})",
                b.http_status
            ),
            Error::InvalidResponse { .. } => {
                "the payment backend's answer was not understood".to_owned()
            }
            _ => "the call could not be made".to_owned(),
        };
        let body = ObjectBuilder::new()
            .put("error", "Service Unavailable")
            .put("message", format!("{what}: {how}"))
            .put("code", error.code().into_owned())
            .build();
        Answer::json(503, body, true)
            .with("retry-after", "5")
            .with_all(self.cors_headers(req))
    }

    /// 500 with a `code`: the handler threw, or gave an invalid credit count.
    pub fn handler_failed_answer(&self, req: &GateRequest, code: &str, message: &str) -> Answer {
        Self::error_answer(code, message).with_all(self.cors_headers(req))
    }

    /// 500: the request could not be read (a URL that is not absolute); nothing ran.
    pub fn misconfigured_answer(error: &Error) -> Answer {
        Self::error_answer(INVALID_REQUEST, &error.to_string())
    }

    fn error_answer(code: &str, message: &str) -> Answer {
        let body = ObjectBuilder::new()
            .put("error", "Internal Server Error")
            .put("code", code)
            .put("message", message)
            .build();
        Answer::json(500, body, true)
    }

    /// 402 after a failed settle: the paid body is not delivered; the failed
    /// settle result travels in `payment-response`, and the PaymentRequired
    /// says why, like every other 402.
    pub fn settle_failed_answer(
        &self,
        req: &GateRequest,
        payment_required: &Value,
        settlement: &Value,
        message: &str,
    ) -> Result<Answer> {
        Ok(self
            .payment_required_answer(req, &with_error(payment_required, message), message)?
            .with("payment-response", encode_payment_header(settlement)?))
    }

    /// Headers added to a paid response.
    pub fn paid_headers(
        &self,
        req: &GateRequest,
        settlement: &Value,
    ) -> Result<Vec<(String, String)>> {
        let mut out = self.receipt_headers(settlement)?;
        out.push(("cache-control".to_owned(), "private".to_owned()));
        out.extend(self.cors_headers(req));
        Ok(out)
    }

    /// `payment-response`: the settle result.
    pub fn receipt_headers(&self, settlement: &Value) -> Result<Vec<(String, String)>> {
        Ok(vec![(
            "payment-response".to_owned(),
            encode_payment_header(settlement)?,
        )])
    }
}

/// What a PaymentRequired is for: the resource and how it is requested.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    /// `resource.url` (an HTTP URL, or an MCP logical URL).
    pub url: &'a str,
    /// `extra.agentId` of each entry.
    pub agent_id: Option<&'a str>,
    /// `extra.httpVerb` of each entry.
    pub verb: &'a str,
    /// `resource.description`.
    pub description: Option<&'a str>,
    /// `resource.mimeType`.
    pub mime_type: Option<&'a str>,
}

/// A PaymentRequired with one `accepts` entry per plan, each with that plan's
/// scheme and network (`schemes[i]` belongs to `plan_ids[i]`), and `error` set
/// to `error` when given.
pub fn payment_required_for(
    plan_ids: &[String],
    schemes: &[ResolvedScheme],
    resource: &Resource<'_>,
    error: Option<&str>,
) -> Result<Value> {
    // Each plan may have its own scheme and network, so each entry is built on its own.
    let mut pr: Option<Value> = None;
    for (plan_id, scheme) in plan_ids.iter().zip(schemes) {
        let options = BuildOptions {
            endpoint: Some(resource.url.to_owned()),
            agent_id: resource.agent_id.map(str::to_owned),
            http_verb: Some(resource.verb.to_owned()),
            network: Some(scheme.network.clone()),
            description: resource.description.map(str::to_owned),
            mime_type: resource.mime_type.map(str::to_owned),
            scheme: Some(scheme.scheme.clone()),
        };
        let one = build_payment_required_for_plans(&[plan_id.as_str()], &options)?;
        match pr
            .as_mut()
            .and_then(|p| p.get_mut("accepts"))
            .and_then(Value::as_array_mut)
        {
            None => pr = Some(one),
            Some(list) => list.extend_from_slice(json::items(one.get("accepts"))),
        }
    }
    let pr = pr.ok_or_else(|| Error::validation("a paid route needs at least one plan"))?;
    Ok(match error {
        Some(reason) => with_error(&pr, reason),
        None => pr,
    })
}

/// The checks a token must pass before the backend is asked: an x402 v2
/// token for one of `plan_ids`; for `agent_id` (when the gate knows it); a
/// single-use (v3) token also bound to `verb` (unless it is empty) and to a
/// resource that `bound_here` accepts. Returns the claims and the index of the plan.
pub fn precheck_token(
    token: &str,
    plan_ids: &[String],
    agent_id: Option<&str>,
    verb: &str,
    bound_here: impl Fn(&str) -> bool,
) -> std::result::Result<(TokenClaims, usize), Refusal> {
    check_claims(decode_claims(token)?, plan_ids, agent_id, verb, bound_here)
}

/// The claims of a token, or why it can't be read.
pub fn decode_claims(token: &str) -> std::result::Result<TokenClaims, Refusal> {
    let decoded = try_decode_access_token(token).map_err(|e| Refusal(e.to_string()))?;
    Ok(TokenClaims::from_token(&decoded))
}

/// [`precheck_token`]'s checks of claims already read from the token.
pub fn check_claims(
    claims: TokenClaims,
    plan_ids: &[String],
    agent_id: Option<&str>,
    verb: &str,
    bound_here: impl Fn(&str) -> bool,
) -> std::result::Result<(TokenClaims, usize), Refusal> {
    if claims.x402_version.is_some_and(|v| v != 2) {
        return Err(Refusal(
            "The access token is not an x402 version 2 token".into(),
        ));
    }
    let plan = claims
        .plan_id
        .as_deref()
        .ok_or_else(|| Refusal("The access token names no plan".into()))?;
    let index = plan_ids.iter().position(|p| p == plan).ok_or_else(|| {
        Refusal("The access token is for a plan this route does not accept".into())
    })?;
    let other_agent = |a: &str| agent_id.is_some_and(|ours| a != ours);
    if claims.is_v3() {
        if claims
            .agent_id
            .as_deref()
            .map_or(agent_id.is_some(), other_agent)
        {
            return Err(Refusal(
                "The single-use access token is bound to another agent".into(),
            ));
        }
        // (No verb: a resource that isn't an HTTP route, a LangChain tool's.)
        if !verb.is_empty()
            && !claims
                .http_verb
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(verb))
        {
            return Err(Refusal(
                "The single-use access token is bound to another HTTP method".into(),
            ));
        }
        if !claims.resource_url.as_deref().is_some_and(&bound_here) {
            return Err(Refusal(
                "The single-use access token is bound to another URL".into(),
            ));
        }
    } else if claims.agent_id.as_deref().is_some_and(other_agent) {
        return Err(Refusal("The access token is for another agent".into()));
    }
    Ok((claims, index))
}

/// The PaymentRequired with `error` set to `reason`, right after
/// `x402Version` as in the spec's examples (replacing any earlier one).
pub fn with_error(payment_required: &Value, reason: &str) -> Value {
    let Some(o) = payment_required.as_object() else {
        return payment_required.clone();
    };
    let mut ordered = Object::new();
    for (k, v) in o.iter().filter(|(k, _)| *k != "error") {
        ordered.insert(k.clone(), v.clone());
        if k == "x402Version" {
            ordered.insert("error".into(), Value::from(reason));
        }
    }
    Value::Object(ordered)
}

/// Whether a v3 token's bound URL is this request's: same host and port (when
/// the token names one) and the same normalised path; the query is ignored.
fn same_resource(bound: &str, actual: &str) -> bool {
    let path_of = |u: &str| match Url::parse(u) {
        Some(p) => normalize_path(&p.path),
        None => normalize_path(u.split(['?', '#']).next().unwrap_or("")),
    };
    let host_of = |u: &str| Url::parse(u).map(|p| (p.port_or_default(), p.host));
    match (host_of(bound), host_of(actual)) {
        (Some(b), Some(a)) if b != a => false,
        _ => path_of(bound) == path_of(actual),
    }
}

#[cfg(test)]
mod tests;
