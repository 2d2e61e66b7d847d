//! The HTTP surface: the routes and the thin handlers that call [`Backend`].
//! The plumbing under them (Host check, CORS, bodies) is in its `plumbing` module.

mod orders;
mod plumbing;

pub use orders::PeerAddr;

use plumbing::{check_host, cors, path_param, query_param};
pub use plumbing::{
    decode, is_local_host, is_loopback_origin, parse_object, RequestBody, MAX_BODY_BYTES,
};

use crate::access_token::Domain;
use crate::accounts::IssuedAccount;
use crate::backend::{Backend, Caller};
use crate::cards;
use crate::checkout::escape;
use crate::error::*;
pub use crate::error::{json_response, shorten};
use crate::signin::{self as pages, Flow};
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::RawQuery;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use nvm_x402::protocol::signin::{form_pairs, with_params};
use nvm_x402_types::agents::{
    RegisterAgentAndPlanRequest, RegisterAgentRequest, UpdateAgentRequest,
};
use nvm_x402_types::delegation::{CreateDelegation, UpdatePaymentMethodDto};
use nvm_x402_types::delegation::{DelegationsQuery, PaymentMethodsQuery};
use nvm_x402_types::fields;
use nvm_x402_types::mpp;
use nvm_x402_types::organizations::{
    ActivityQuery, ConnectStripeAccountRequest, CreateUserRequest, MembersRequest,
};
use nvm_x402_types::plans::PlansQuery;
use nvm_x402_types::plans::{FiatPaymentRequest, RegisterPlanRequest};
use nvm_x402_types::widgets::SelfSessionRequest;
use nvm_x402_types::x402::{MintRequest, SettleRequest, VerifyRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

/// What every handler shares.
pub struct App {
    /// The state.
    pub backend: Backend,
    /// The address the server is bound to.
    pub bound: SocketAddr,
    /// The order reads' throttle (per client IP).
    pub order_reads: crate::orders::ReadLimiter,
    /// Origins besides this machine's that the sign-in and card pages may return to.
    pub allowed_origins: Vec<String>,
    /// Whether the MPP endpoints answer (`Config::mpp`).
    pub mpp: bool,
}

type Shared = State<Arc<App>>;

impl App {
    /// The base URL clients reach this server at: the request's `Host` when it
    /// names this machine (see [`is_local_host`]), else the bound address.
    fn public_url(&self, headers: &HeaderMap) -> String {
        format!("http://{}/", self.public_host(headers))
    }

    /// The host clients reach this server at: the request's `Host` when it
    /// names this machine, else the bound address (`127.0.0.1:3001`).
    fn public_host(&self, headers: &HeaderMap) -> String {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_local_host(h, self.bound))
            .map_or_else(|| self.bound.to_string(), str::to_owned)
    }
}

/// Builds the router.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { json_response(StatusCode::OK, &crate::deployment::info()) }),
        )
        .route("/api/v1/x402/permissions", post(mint))
        .route("/api/v1/x402/verify", post(verify))
        .route("/api/v1/x402/settle", post(settle))
        .route("/api/v1/mpp/permissions", post(mpp_mint))
        .route("/api/v1/mpp/challenge", post(mpp_challenge))
        .route("/api/v1/mpp/verify", post(mpp_verify))
        .route("/api/v1/mpp/settle", post(mpp_settle))
        .route("/api/v1/delegation/create", post(create_delegation))
        .route("/api/v1/delegation", get(list_delegations))
        .route("/api/v1/payment-methods", get(list_payment_methods))
        .route(
            "/api/v1/payment-methods/{id}",
            axum::routing::patch(update_payment_method),
        )
        .route(
            "/api/v1/protocol/plans",
            post(register_plan).get(list_plans),
        )
        .route("/api/v1/protocol/plans/{plan_id}", get(get_plan))
        .route(
            "/api/v1/protocol/plans/{plan_id}/agents",
            get(get_plan_agents),
        )
        .route(
            "/api/v1/protocol/plans/{plan_id}/balance/{holder}",
            get(plan_balance),
        )
        .route("/api/v1/protocol/plans/{plan_id}/order", post(order_plan))
        .route("/api/v1/fiat/stripe/payment", post(order_fiat_plan))
        .route(
            "/api/v1/protocol/agents",
            post(register_agent).get(list_agents),
        )
        .route(
            "/api/v1/protocol/agents/plans",
            post(register_agent_and_plan),
        )
        .route(
            "/api/v1/protocol/agents/{agent_id}",
            get(get_agent).put(update_agent),
        )
        .route(
            "/api/v1/protocol/agents/{agent_id}/plan/{plan_id}",
            post(add_plan_to_agent).delete(remove_plan_from_agent),
        )
        .route("/api/v1/widgets/session/self", post(widget_session))
        .route("/api/v1/organizations/account", post(create_user))
        .route("/api/v1/organizations/members", post(get_members))
        .route("/api/v1/organizations/my-memberships", get(my_memberships))
        .route(
            "/api/v1/organizations/{org_id}/activity",
            get(organization_activity),
        )
        .route("/api/v1/fiat/stripe/account", post(connect_stripe_account))
        .route(
            "/api/v1/protocol/agents/{agent_id}/plans",
            get(get_agent_plans),
        )
        .route("/api/v1/orders", post(orders::create))
        .route("/api/v1/orders/{id}", get(orders::read))
        .route(
            "/orders/confirm",
            get(orders::confirm_page).post(orders::confirm),
        )
        .route("/local/v1/orders/{id}/refund", post(orders::refund))
        .route("/checkout/{id}", get(checkout_page))
        .route("/checkout/{id}/pay", post(pay_checkout))
        .route("/login", get(sign_in_page).post(sign_in))
        .route("/auth/cli", get(cli_sign_in_page).post(cli_sign_in))
        .route("/cards/setup", get(card_setup_page).post(card_setup))
        .route("/local/v1/demo", get(demo))
        .route("/local/v1/accounts", post(create_account))
        .route("/local/v1/organizations", post(create_organization))
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
    mint_in(&app, &headers, body, Domain::X402)
}

/// `api/v1/x402/permissions` and `api/v1/mpp/permissions`: one body, one mint,
/// the token signed for `domain`.
fn mint_in(app: &App, headers: &HeaderMap, body: JsonBody, domain: Domain) -> Response {
    with_body(
        app,
        headers,
        body,
        fields::<MintRequest>(),
        StatusCode::CREATED,
        |caller, body: Value| {
            if body.get("delegationConfig").is_none_or(Value::is_null) {
                return Err(DELEGATION_REQUIRED.with("delegationConfig is required for token generation: pass { delegationId } (see POST api/v1/delegation/create)"));
            }
            app.backend
                .mint(caller, decode::<MintRequest>(body)?, domain)
        },
    )
}

async fn verify(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<VerifyRequest>(),
        StatusCode::OK,
        |_, request: VerifyRequest| app.backend.verify(&request),
    )
}

async fn settle(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<SettleRequest>(),
        StatusCode::OK,
        |caller, request: SettleRequest| app.backend.settle(caller, &request),
    )
}

/// `BCK.MPP.0002` when MPP is switched off (before anything else is read).
fn mpp_off(app: &App) -> Option<Response> {
    (!app.mpp).then(|| {
        MPP_NOT_CONFIGURED
            .with("MPP is not configured on this nvm-local (it was started with --no-mpp)")
            .into_response()
    })
}

async fn mpp_mint(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    if let Some(off) = mpp_off(&app) {
        return off;
    }
    mint_in(&app, &headers, body, Domain::Mpp)
}

async fn mpp_challenge(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    if let Some(off) = mpp_off(&app) {
        return off;
    }
    let realm = app.public_host(&headers);
    with_body(
        &app,
        &headers,
        body,
        fields::<mpp::ChallengeRequest>(),
        StatusCode::CREATED,
        |caller, request: mpp::ChallengeRequest| {
            app.backend.mpp_challenge(caller, &request, &realm)
        },
    )
}

async fn mpp_verify(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    mpp_redeem(&app, &headers, body, Backend::mpp_verify)
}

async fn mpp_settle(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    mpp_redeem(&app, &headers, body, Backend::mpp_settle)
}

/// MPP's verify or settle (`redeem`): one body, `200` with the answer.
fn mpp_redeem(
    app: &App,
    headers: &HeaderMap,
    body: JsonBody,
    redeem: fn(&Backend, &Caller, &mpp::RedeemRequest) -> ApiResult<Value>,
) -> Response {
    if let Some(off) = mpp_off(app) {
        return off;
    }
    with_body(
        app,
        headers,
        body,
        fields::<mpp::RedeemRequest>(),
        StatusCode::OK,
        |caller, request: mpp::RedeemRequest| redeem(&app.backend, caller, &request),
    )
}

async fn create_delegation(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<CreateDelegation>(),
        StatusCode::CREATED,
        |caller, request: CreateDelegation| app.backend.create_delegation(caller, &request),
    )
}

async fn list_delegations(
    State(app): Shared,
    headers: HeaderMap,
    query: Result<Query<DelegationsQuery>, QueryRejection>,
) -> Response {
    with_query(&app, &headers, query, |caller, q| {
        app.backend
            .list_delegations(caller, q.accessible == Some(true))
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

async fn update_payment_method(
    State(app): Shared,
    headers: HeaderMap,
    path: IdPath,
    body: JsonBody,
) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<UpdatePaymentMethodDto>(),
        StatusCode::OK,
        |caller, request: UpdatePaymentMethodDto| {
            app.backend
                .update_payment_method(caller, &path_param(path)?, &request)
        },
    )
}

async fn register_plan(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<RegisterPlanRequest>(),
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
        fields::<FiatPaymentRequest>(),
        StatusCode::CREATED,
        |caller, request: FiatPaymentRequest| {
            app.backend.order_fiat_plan(caller, &request, &public_url)
        },
    )
}

async fn register_agent(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<RegisterAgentRequest>(),
        StatusCode::CREATED,
        |caller, request: RegisterAgentRequest| app.backend.register_agent(caller, request),
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
        fields::<RegisterAgentAndPlanRequest>(),
        StatusCode::CREATED,
        |caller, request: RegisterAgentAndPlanRequest| {
            app.backend.register_agent_and_plan(caller, request)
        },
    )
}

async fn list_agents(
    State(app): Shared,
    headers: HeaderMap,
    query: Result<Query<PlansQuery>, QueryRejection>,
) -> Response {
    with_query(&app, &headers, query, |caller, q| {
        app.backend.list_agents(caller, &q)
    })
}

async fn get_plan_agents(
    State(app): Shared,
    path: IdPath,
    query: Result<Query<PlansQuery>, QueryRejection>,
) -> Response {
    respond(
        StatusCode::OK,
        path_param(path).and_then(|id| app.backend.plan_agents(&id, &query_param(query)?)),
    )
}

async fn update_agent(
    State(app): Shared,
    headers: HeaderMap,
    path: IdPath,
    body: JsonBody,
) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<UpdateAgentRequest>(),
        StatusCode::OK,
        |caller, request: UpdateAgentRequest| {
            app.backend
                .update_agent(caller, &path_param(path)?, request)
        },
    )
}

type AgentPlanPath = Result<Path<(String, String)>, PathRejection>;

async fn plan_on_agent(app: &App, headers: &HeaderMap, path: AgentPlanPath, add: bool) -> Response {
    let result = app.backend.authenticate(headers).and_then(|caller| {
        let (agent, plan) = path_param(path)?;
        app.backend.plan_on_agent(&caller, &agent, &plan, add)
    });
    respond(StatusCode::OK, result)
}

async fn add_plan_to_agent(
    State(app): Shared,
    headers: HeaderMap,
    path: AgentPlanPath,
    _body: JsonBody,
) -> Response {
    plan_on_agent(&app, &headers, path, true).await
}

async fn remove_plan_from_agent(
    State(app): Shared,
    headers: HeaderMap,
    path: AgentPlanPath,
    _body: JsonBody,
) -> Response {
    plan_on_agent(&app, &headers, path, false).await
}

async fn create_user(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    let result = app.backend.authenticate(&headers).and_then(|caller| {
        let request = decode(parse_object(body, fields::<CreateUserRequest>())?)?;
        app.backend.create_user(&caller, request)
    });
    match result {
        Ok((status, answer)) => json_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            &answer,
        ),
        Err(e) => e.into_response(),
    }
}

async fn get_members(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<MembersRequest>(),
        StatusCode::OK,
        |caller, request: MembersRequest| app.backend.members(caller, &request),
    )
}

async fn my_memberships(State(app): Shared, headers: HeaderMap) -> Response {
    let result = app
        .backend
        .authenticate(&headers)
        .and_then(|caller| app.backend.my_memberships(&caller));
    respond(StatusCode::OK, result)
}

async fn organization_activity(
    State(app): Shared,
    headers: HeaderMap,
    path: IdPath,
    query: Result<Query<ActivityQuery>, QueryRejection>,
) -> Response {
    with_query(&app, &headers, query, |caller, q| {
        app.backend.org_activity(caller, &path_param(path)?, &q)
    })
}

async fn connect_stripe_account(
    State(app): Shared,
    headers: HeaderMap,
    body: JsonBody,
) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<ConnectStripeAccountRequest>(),
        StatusCode::CREATED,
        |caller, request: ConnectStripeAccountRequest| {
            app.backend.connect_stripe_account(caller, &request)
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
struct NewOrganization {
    name: String,
    admin: String,
}

async fn create_organization(State(app): Shared, body: JsonBody) -> Response {
    let result = parse_object(body, &["name", "admin"])
        .and_then(decode::<NewOrganization>)
        .and_then(|new| app.backend.create_organization(&new.name, &new.admin));
    respond(StatusCode::CREATED, result)
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

// ---- the hosted apps' pages (src/signin.rs) ----------------------------------

/// A page's answer: no framing, no caching, a referrer only to itself (with
/// `no-referrer` a form's post says `Origin: null`, which is refused).
fn page_response(status: StatusCode, html: String) -> Response {
    let mut response = html_response(status, html);
    let h = response.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

fn page_error(title: &str, e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.code.status).unwrap_or(StatusCode::BAD_REQUEST);
    page_response(status, pages::error_page(title, e))
}

/// A 303 to `location` (a URL checked by the caller).
fn see_other(location: &str) -> Response {
    see_other_or(location, || {
        INVALID_FIELD
            .with("The return URL can't be a Location header")
            .into_response()
    })
}

/// A 303 to `location` without a referrer; `refused()` when it can't be a
/// `Location` header (the sign-in pages answer JSON, the order pages a page).
fn see_other_or(location: &str, refused: impl FnOnce() -> Response) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        return refused();
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, value);
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// A page's query: its pairs, where it returns (checked for `flow`) and that
/// target's origin, to show.
fn page_query(app: &App, flow: Flow, query: Option<String>) -> ApiResult<Asked> {
    let pairs = form_pairs(query.as_deref().unwrap_or(""));
    let target = required(&pairs, flow.param())?;
    let origin = pages::return_origin(&target, flow, &app.allowed_origins)?;
    Ok(Asked {
        pairs,
        target,
        origin,
    })
}

/// A page's form, posted from the page itself (never another site's form):
/// its pairs and where it returns (checked for `flow`).
fn page_post(app: &App, flow: Flow, headers: &HeaderMap, body: RequestBody) -> ApiResult<Asked> {
    pages::check_same_origin(headers, app.public_url(headers).trim_end_matches('/'))?;
    let pairs = form_pairs(std::str::from_utf8(&body.0?).unwrap_or(""));
    let target = required(&pairs, flow.param())?;
    let origin = pages::return_origin(&target, flow, &app.allowed_origins)?;
    Ok(Asked {
        pairs,
        target,
        origin,
    })
}

/// What a page was asked: its parameters, the checked return URL and its origin.
struct Asked {
    pairs: Vec<(String, String)>,
    target: String,
    origin: String,
}

impl Asked {
    fn get(&self, name: &str) -> Option<String> {
        param(&self.pairs, name)
    }

    fn required(&self, name: &str) -> ApiResult<String> {
        required(&self.pairs, name)
    }
}

fn required(pairs: &[(String, String)], name: &str) -> ApiResult<String> {
    param(pairs, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| MISSING_FIELD.with(format!("{name} is required")))
}

/// A page's answer: the page, or the error page titled `refused`.
fn page_or_error(refused: &str, result: ApiResult<String>) -> Response {
    match result {
        Ok(html) => page_response(StatusCode::OK, html),
        Err(e) => page_error(refused, &e),
    }
}

/// A click's answer: back to the checked URL, or the error page titled `refused`.
fn return_or_error(refused: &str, result: ApiResult<String>) -> Response {
    match result {
        Ok(location) => see_other(&location),
        Err(e) => page_error(refused, &e),
    }
}

fn show_sign_in(app: &App, flow: Flow, query: Option<String>) -> Response {
    let result = page_query(app, flow, query).and_then(|asked| {
        Ok(pages::sign_in_page(
            flow,
            &asked.target,
            &asked.origin,
            &app.backend.local_accounts()?,
        ))
    });
    page_or_error("Sign-in refused", result)
}

/// The click on the sign-in page: the account's new key, sent back to the checked target.
fn do_sign_in(app: &App, flow: Flow, headers: &HeaderMap, body: RequestBody) -> Response {
    let result = page_post(app, flow, headers, body).and_then(|asked| {
        let issued = app.backend.create_account(&asked.required("account")?)?;
        Ok(match flow {
            Flow::Cli => with_params(&asked.target, &[("nvm_api_key", &issued.api_key)]),
            _ => with_params(
                &asked.target,
                &[
                    ("nvmApiKey", &issued.api_key),
                    ("accountAddress", &issued.account.address),
                ],
            ),
        })
    });
    return_or_error("Sign-in refused", result)
}

/// The embed app's card-setup page (`cards::setup_page`): only for a usable
/// session, returning where it was minted for.
async fn card_setup_page(State(app): Shared, RawQuery(query): RawQuery) -> Response {
    let result = page_query(&app, Flow::Cards, query).and_then(|asked| {
        let token = asked.required("sessionToken")?;
        let state = card_state(&asked)?;
        let provider = cards::provider(asked.get("provider").as_deref())?;
        let account = app.backend.card_setup_account(&token, &asked.target)?;
        Ok(cards::setup_page(
            &asked.origin,
            &account,
            &[
                ("sessionToken", &token),
                ("returnUrl", &asked.target),
                ("state", &state),
                ("provider", provider),
            ],
        ))
    });
    page_or_error("Card setup refused", result)
}

/// The click on the card-setup page: the card and its delegation, back to the checked target.
async fn card_setup(State(app): Shared, headers: HeaderMap, body: RequestBody) -> Response {
    let result = page_post(&app, Flow::Cards, &headers, body).and_then(|asked| {
        let token = asked.required("sessionToken")?;
        let state = card_state(&asked)?;
        let form = cards::SetupForm::read(|name| asked.get(name))?;
        let (card, delegation) = app
            .backend
            .complete_card_setup(&token, &asked.target, &form)?;
        Ok(with_params(
            &asked.target,
            &[
                ("paymentMethodId", &card),
                ("delegationId", &delegation),
                ("state", &state),
            ],
        ))
    });
    return_or_error("Card setup refused", result)
}

/// The caller's `state`, echoed back as given: required, at most 256 characters.
fn card_state(asked: &Asked) -> ApiResult<String> {
    let state = asked.required("state")?;
    if state.len() > 256 {
        return Err(INVALID_FIELD.with("state must be at most 256 characters"));
    }
    Ok(state)
}

async fn widget_session(State(app): Shared, headers: HeaderMap, body: JsonBody) -> Response {
    with_body(
        &app,
        &headers,
        body,
        fields::<SelfSessionRequest>(),
        StatusCode::CREATED,
        |caller, request: SelfSessionRequest| {
            app.backend
                .create_widget_session(caller, &request, &app.allowed_origins)
        },
    )
}

async fn sign_in_page(State(app): Shared, RawQuery(query): RawQuery) -> Response {
    show_sign_in(&app, Flow::Web, query)
}

async fn sign_in(State(app): Shared, headers: HeaderMap, body: RequestBody) -> Response {
    do_sign_in(&app, Flow::Web, &headers, body)
}

async fn cli_sign_in_page(State(app): Shared, RawQuery(query): RawQuery) -> Response {
    show_sign_in(&app, Flow::Cli, query)
}

async fn cli_sign_in(State(app): Shared, headers: HeaderMap, body: RequestBody) -> Response {
    do_sign_in(&app, Flow::Cli, &headers, body)
}
