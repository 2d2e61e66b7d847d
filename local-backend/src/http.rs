//! The HTTP surface: routes, CORS for loopback origins, the 1 MiB body cap,
//! JSON body parsing that turns every kind of bad input into an error envelope
//! with a code, and the thin handlers that call [`Backend`].

use crate::accounts::IssuedAccount;
use crate::accounts::PaymentMethodsQuery;
use crate::agents::{RegisterAgentAndPlanBody, RegisterAgentBody};
use crate::backend::{Backend, Caller};
use crate::checkout::{escape, FiatPaymentBody, FIAT_PAYMENT_FIELDS};
use crate::error::*;
pub use crate::error::{json_response, shorten};
use crate::plans::PlansQuery;
use crate::x402::{MINT_FIELDS, SETTLE_FIELDS, VERIFY_FIELDS};
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::HeaderName;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use nvm_x402::api::delegation::CreateDelegation;
use nvm_x402::api::plans::RegisterPlanRequest;
use nvm_x402::api::x402::{MintRequest, SettleRequest, VerifyRequest};
use nvm_x402::protocol::uint::MAX_SAFE_INTEGER;
use nvm_x402::protocol::url::{Host, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of a too-large body is still read (and dropped) so the client,
/// still sending, gets the 413 answer instead of a broken pipe.
const DRAIN_BYTES: usize = 64 * 1024 * 1024;

const PLAN_FIELDS: &[&str] = &[
    "metadataAttributes",
    "priceConfig",
    "creditsConfig",
    "nonce",
    "isTrialPlan",
    "accessLimit",
    "currency",
];
const AGENT_FIELDS: &[&str] = &["metadataAttributes", "agentApiAttributes", "plans"];
const AGENT_AND_PLAN_FIELDS: &[&str] = &["plan", "agent"];
const DELEGATION_FIELDS: &[&str] = &[
    "provider",
    "providerPaymentMethodId",
    "spendingLimitCents",
    "durationSecs",
    "currency",
    "planId",
    "merchantAccountId",
    "maxTransactions",
    "apiKeyId",
];

/// What every handler shares.
pub struct App {
    /// The state.
    pub backend: Backend,
    /// The address the server is bound to.
    pub bound: SocketAddr,
}

type Shared = State<Arc<App>>;

impl App {
    /// The base URL clients reach this server at: the request's `Host` when it
    /// names this machine (see [`is_local_host`]), else the bound address.
    fn public_url(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_local_host(h, self.bound));
        match host {
            Some(host) => format!("http://{host}/"),
            None => format!("http://{}/", self.bound),
        }
    }
}

/// Whether a `Host` header names this machine: a loopback host (`127.0.0.0/8`,
/// `localhost`, `[::1]`) or the address nvm-local listens on, with any port and
/// nothing else. Anything else (`attacker.example:3001` after DNS rebinding)
/// is answered 421, so a web page on another name can't read or change nvm-local.
///
/// ```
/// use nvm_local::http::is_local_host;
/// let bound = "127.0.0.1:3001".parse().unwrap();
/// assert!(is_local_host("127.0.0.1:3001", bound) && is_local_host("localhost", bound) && is_local_host("[::1]:3001", bound));
/// assert!(!is_local_host("attacker.example:3001", bound) && !is_local_host("127.0.0.1@attacker.example", bound));
/// ```
pub fn is_local_host(host: &str, bound: SocketAddr) -> bool {
    let plain = !host.is_empty() && !host.bytes().any(|b| b"/\\?#@ \t".contains(&b));
    let Some(url) = Url::parse(&format!("http://{host}/")).filter(|_| plain) else {
        return false;
    };
    if url.has_credentials || url.path != "/" || url.query.is_some() {
        return false;
    }
    let listening = match (bound.ip(), &url.host) {
        (ip, _) if ip.is_unspecified() => false,
        (std::net::IpAddr::V4(ip), Host::Ipv4(a)) => u32::from(ip) == *a,
        (std::net::IpAddr::V6(ip), Host::Ipv6(p)) => ip.segments() == *p,
        _ => false,
    };
    url.host.is_loopback() || listening
}

/// Refuses requests whose `Host` does not name this machine (421); requests without one pass.
async fn check_host(State(app): Shared, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).map(|h| h.to_str().ok());
    match host {
        None => next.run(request).await,
        Some(Some(h)) if is_local_host(h, app.bound) => next.run(request).await,
        Some(h) => MISDIRECTED
            .with(format!(
                "nvm-local does not answer to the host {}; use 127.0.0.1, localhost or [::1]",
                shorten(h.unwrap_or("(not text)"))
            ))
            .into_response(),
    }
}

/// Builds the router.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/v1/x402/permissions", post(mint))
        .route("/api/v1/x402/verify", post(verify))
        .route("/api/v1/x402/settle", post(settle))
        .route("/api/v1/delegation/create", post(create_delegation))
        .route("/api/v1/delegation", get(list_delegations))
        .route("/api/v1/payment-methods", get(list_payment_methods))
        .route(
            "/api/v1/protocol/plans",
            post(register_plan).get(list_plans),
        )
        .route("/api/v1/protocol/plans/{plan_id}", get(get_plan))
        .route(
            "/api/v1/protocol/plans/{plan_id}/balance/{holder}",
            get(plan_balance),
        )
        .route("/api/v1/protocol/plans/{plan_id}/order", post(order_plan))
        .route("/api/v1/fiat/stripe/payment", post(order_fiat_plan))
        .route("/api/v1/protocol/agents", post(register_agent))
        .route(
            "/api/v1/protocol/agents/plans",
            post(register_agent_and_plan),
        )
        .route("/api/v1/protocol/agents/{agent_id}", get(get_agent))
        .route(
            "/api/v1/protocol/agents/{agent_id}/plans",
            get(get_agent_plans),
        )
        .route("/checkout/{id}", get(checkout_page))
        .route("/checkout/{id}/pay", post(pay_checkout))
        .route("/local/v1/demo", get(demo))
        .route("/local/v1/accounts", post(create_account))
        .route("/local/v1/clock/advance", post(advance_clock))
        .route(
            "/health",
            get(|| async { json_response(StatusCode::OK, &json!({"ok": true})) }),
        )
        .fallback(|| async {
            ROUTE_NOT_FOUND
                .with("No endpoint has this path")
                .into_response()
        })
        .method_not_allowed_fallback(|| async {
            METHOD_NOT_ALLOWED
                .with("This endpoint does not take this HTTP method")
                .into_response()
        })
        .layer(cors())
        .layer(middleware::from_fn_with_state(app.clone(), check_host))
        .with_state(app)
}

fn respond(ok: StatusCode, result: ApiResult<Value>) -> Response {
    match result {
        Ok(body) => json_response(ok, &body),
        Err(e) => e.into_response(),
    }
}

// ---- CORS ------------------------------------------------------------------

/// Whether a browser origin is this machine: `http(s)://localhost`, `127.0.0.1` or `[::1]`, any port.
///
/// ```
/// use nvm_local::http::is_loopback_origin;
/// assert!(is_loopback_origin("http://localhost:5173") && is_loopback_origin("http://[::1]:8080"));
/// assert!(!is_loopback_origin("http://localhost.evil.example") && !is_loopback_origin("null"));
/// ```
pub fn is_loopback_origin(origin: &str) -> bool {
    // An Origin header is exactly `scheme://host[:port]`: nothing after the authority.
    let bare = origin
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.contains(['/', '\\', '?', '#', '@']));
    match Url::parse(origin) {
        Some(u) => {
            let exact_loopback = match &u.host {
                Host::Domain(d) => d == "localhost",
                Host::Ipv4(a) => *a == 0x7f00_0001,
                Host::Ipv6(_) => u.host.is_loopback(),
            };
            bare && (u.scheme == "http" || u.scheme == "https") && exact_loopback
        }
        None => false,
    }
}

/// CORS (tower-http): loopback origins are reflected (with `Vary: Origin`),
/// preflights answered with the methods and headers the API takes, and a
/// page may reach nvm-local across the private-network boundary.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _| {
            origin.to_str().is_ok_and(is_loopback_origin)
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("nevermined-version"),
            HeaderName::from_static("x-current-org-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
        .allow_private_network(true)
}

// ---- bodies ----------------------------------------------------------------

/// A request body read whole (at most [`MAX_BODY_BYTES`]). Handlers that
/// ignore their body take it too, so the connection stays usable for the next
/// request whatever the client sent (an empty chunked body, say).
pub struct RequestBody(pub ApiResult<Bytes>);

impl<S: Send + Sync> FromRequest<S> for RequestBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestBody(read_body(request).await))
    }
}

async fn read_body(request: Request) -> ApiResult<Bytes> {
    use http_body_util::BodyExt;
    let too_large = || {
        BODY_TOO_LARGE.with(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes"
        ))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = request.into_body();
    let mut kept: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| NOT_JSON.with(format!("The request body could not be read: {e}")))?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= MAX_BODY_BYTES {
                kept.extend_from_slice(&data);
            } else if seen > DRAIN_BYTES {
                break;
            }
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(Bytes::from(kept))
}

/// Reads a body as a JSON object whose top-level fields are all in `allowed`,
/// with no number a JavaScript client would have rounded.
pub fn parse_object(body: RequestBody, allowed: &[&str]) -> ApiResult<Value> {
    let bytes = body.0?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(NOT_JSON.with("The request body is empty; expected a JSON object"));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        if e.to_string().starts_with("number out of range") {
            PRECISION.with(format!(
                "A number in the body is out of range ({e}); send big integers as decimal strings"
            ))
        } else {
            NOT_JSON.with(format!("The request body is not valid JSON: {e}"))
        }
    })?;
    let Value::Object(map) = &value else {
        return Err(NOT_JSON.with("The request body must be a JSON object"));
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(UNKNOWN_FIELD.with(format!(
            "Unknown field {:?}; this endpoint takes {}",
            shorten(unknown),
            allowed.join(", ")
        )));
    }
    if let Some(path) = imprecise_number(&value, "") {
        return Err(PRECISION.with(format!("{path} is a number beyond 2^53 that JSON clients can't hold exactly; send it as a decimal string")));
    }
    Ok(value)
}

/// The path of the first number a JavaScript client can't hold exactly.
fn imprecise_number(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::Number(n) => {
            let exact = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => u <= MAX_SAFE_INTEGER,
                (None, Some(i), _) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
                (None, None, Some(f)) => f.abs() <= MAX_SAFE_INTEGER as f64,
                _ => false,
            };
            (!exact).then(|| {
                if at.is_empty() {
                    "a value".to_owned()
                } else {
                    at.to_owned()
                }
            })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| imprecise_number(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            imprecise_number(
                v,
                &if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                },
            )
        }),
        _ => None,
    }
}

/// Deserializes a checked body; the error names the field that is wrong.
pub fn decode<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let code = if inner.starts_with("missing field") {
            MISSING_FIELD
        } else if inner.starts_with("unknown field") {
            UNKNOWN_FIELD
        } else {
            INVALID_FIELD
        };
        let message = if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        };
        code.with(message)
    })
}

fn path_param<T>(path: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    path.map(|Path(p)| p)
        .map_err(|e| INVALID_FIELD.with(format!("Bad path parameter: {e}")))
}

fn query_param<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query
        .map(|Query(q)| q)
        .map_err(|e| INVALID_FIELD.with(format!("Bad query string: {e}")))
}

// ---- handlers --------------------------------------------------------------

type JsonBody = RequestBody;
type IdPath = Result<Path<String>, PathRejection>;

/// An authenticated call whose JSON body is a `T` with top-level fields among `fields`.
fn with_body<T: DeserializeOwned>(
    app: &App,
    headers: &HeaderMap,
    body: JsonBody,
    fields: &[&str],
    ok: StatusCode,
    handle: impl FnOnce(&Caller, T) -> ApiResult<Value>,
) -> Response {
    let result = app
        .backend
        .authenticate(headers)
        .and_then(|caller| handle(&caller, decode(parse_object(body, fields)?)?));
    respond(ok, result)
}

/// An authenticated GET whose query string is a `Q`.
fn with_query<Q>(
    app: &App,
    headers: &HeaderMap,
    query: Result<Query<Q>, QueryRejection>,
    handle: impl FnOnce(&Caller, Q) -> ApiResult<Value>,
) -> Response {
    let result = app
        .backend
        .authenticate(headers)
        .and_then(|caller| handle(&caller, query_param(query)?));
    respond(StatusCode::OK, result)
}

async fn mint(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        MINT_FIELDS,
        StatusCode::CREATED,
        |caller, body: Value| {
            if body.get("delegationConfig").is_none_or(Value::is_null) {
                return Err(DELEGATION_REQUIRED.with("delegationConfig is required for token generation: pass { delegationId } (see POST api/v1/delegation/create)"));
            }
            app.backend.mint(caller, decode::<MintRequest>(body)?)
        },
    )
}

async fn verify(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        VERIFY_FIELDS,
        StatusCode::OK,
        |_, request: VerifyRequest| app.backend.verify(&request),
    )
}

async fn settle(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        SETTLE_FIELDS,
        StatusCode::OK,
        |caller, request: SettleRequest| app.backend.settle(caller, &request),
    )
}

async fn create_delegation(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        DELEGATION_FIELDS,
        StatusCode::CREATED,
        |caller, request: CreateDelegation| app.backend.create_delegation(caller, &request),
    )
}

/// The query of `GET api/v1/delegation` (`accessible` is accepted; nothing is shared locally).
#[derive(Deserialize)]
struct DelegationsQuery {
    #[serde(default)]
    #[allow(dead_code)]
    accessible: Option<bool>,
}

async fn list_delegations(
    State(app): Shared,
    headers: HeaderMap,
    query: Result<Query<DelegationsQuery>, QueryRejection>,
) -> Response {
    with_query(&app, &headers, query, |caller, _| {
        app.backend.list_delegations(caller)
    })
}

async fn list_payment_methods(
    State(app): Shared,
    headers: HeaderMap,
    query: Result<Query<PaymentMethodsQuery>, QueryRejection>,
) -> Response {
    with_query(&app, &headers, query, |caller, q| {
        app.backend.list_payment_methods(caller, &q)
    })
}

async fn register_plan(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        PLAN_FIELDS,
        StatusCode::CREATED,
        |caller, request: RegisterPlanRequest| app.backend.register_plan(caller, request),
    )
}

async fn list_plans(
    State(app): Shared,
    headers: HeaderMap,
    query: Result<Query<PlansQuery>, QueryRejection>,
) -> Response {
    with_query(&app, &headers, query, |caller, q| {
        app.backend.list_plans(caller, &q)
    })
}

async fn get_plan(State(app): Shared, path: IdPath) -> Response {
    respond(
        StatusCode::OK,
        path_param(path).and_then(|id| Ok(app.backend.require_plan(&id)?.to_json())),
    )
}

async fn plan_balance(
    State(app): Shared,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    respond(
        StatusCode::OK,
        path_param(path).and_then(|(plan, holder)| app.backend.plan_balance(&plan, &holder)),
    )
}

async fn order_plan(
    State(app): Shared,
    headers: HeaderMap,
    path: IdPath,
    _body: JsonBody,
) -> Response {
    let result = app
        .backend
        .authenticate(&headers)
        .and_then(|caller| app.backend.order_plan(&caller, &path_param(path)?));
    respond(StatusCode::CREATED, result)
}

async fn order_fiat_plan(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    let public_url = app.public_url(&headers);
    with_body(
        &app,
        &headers,
        body,
        FIAT_PAYMENT_FIELDS,
        StatusCode::CREATED,
        |caller, request: FiatPaymentBody| {
            app.backend.order_fiat_plan(caller, &request, &public_url)
        },
    )
}

async fn register_agent(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        AGENT_FIELDS,
        StatusCode::CREATED,
        |caller, request: RegisterAgentBody| app.backend.register_agent(caller, request),
    )
}

async fn register_agent_and_plan(
    State(app): Shared,
    headers: HeaderMap,
    body: JsonBody,
) -> Response {
    with_body(
        &app,
        &headers,
        body,
        AGENT_AND_PLAN_FIELDS,
        StatusCode::CREATED,
        |caller, request: RegisterAgentAndPlanBody| {
            app.backend.register_agent_and_plan(caller, request)
        },
    )
}

async fn get_agent(State(app): Shared, path: IdPath) -> Response {
    respond(
        StatusCode::OK,
        path_param(path).and_then(|id| Ok(app.backend.require_agent(&id)?.to_json())),
    )
}

async fn get_agent_plans(
    State(app): Shared,
    path: IdPath,
    query: Result<Query<PlansQuery>, QueryRejection>,
) -> Response {
    respond(
        StatusCode::OK,
        path_param(path).and_then(|id| app.backend.agent_plans(&id, &query_param(query)?)),
    )
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html_error(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.code.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nvm-local checkout</title></head><body><main data-status=\"error\"><h1>Checkout</h1><p>{}</p><p><code>{}</code></p></main></body></html>\n",
        escape(&e.message),
        e.code.code
    );
    html_response(status, page)
}

async fn checkout_page(State(app): Shared, path: IdPath) -> Response {
    match path_param(path).and_then(|id| app.backend.checkout_page(&id)) {
        Ok(page) => html_response(StatusCode::OK, page),
        Err(e) => html_error(&e),
    }
}

async fn pay_checkout(
    State(app): Shared,
    headers: HeaderMap,
    path: IdPath,
    _body: JsonBody,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let id = match path_param(path) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match (app.backend.pay_checkout(&id), wants_json) {
        (Ok(order_tx), true) => {
            json_response(StatusCode::OK, &json!({"paid": true, "orderTx": order_tx}))
        }
        (Ok(_), false) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::SEE_OTHER;
            if let Ok(location) = HeaderValue::from_str(&format!(
                "/checkout/{}",
                nvm_x402::protocol::url::encode_segment(&id)
            )) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        (Err(e), true) => e.into_response(),
        (Err(e), false) => html_error(&e),
    }
}

async fn demo(State(app): Shared, headers: HeaderMap) -> Response {
    respond(
        StatusCode::OK,
        app.backend.demo_world(&app.public_url(&headers)),
    )
}

#[derive(Deserialize)]
struct NewAccount {
    name: String,
}

async fn create_account(State(app): Shared, body: JsonBody) -> Response {
    let result = parse_object(body, &["name"])
        .and_then(decode::<NewAccount>)
        .and_then(|new| app.backend.create_account(&new.name));
    match result {
        Ok(issued) => json_response(
            if issued.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            &IssuedAccount::to_json(&issued),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct AdvanceClock {
    seconds: u64,
}

async fn advance_clock(State(app): Shared, body: JsonBody) -> Response {
    let result = (|| {
        let seconds = decode::<AdvanceClock>(parse_object(body, &["seconds"])?)?.seconds;
        let ms = i64::try_from(seconds)
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .filter(|ms| *ms <= 100 * 365 * 86_400_000)
            .ok_or_else(|| INVALID_FIELD.with("seconds must be at most 100 years"))?;
        let now = app.backend.clock.advance(ms);
        Ok(json!({"now": crate::ids::iso8601(now), "nowMs": now}))
    })();
    respond(StatusCode::OK, result)
}
