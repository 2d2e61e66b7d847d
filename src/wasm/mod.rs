//! The JavaScript binding — the only module that imports `wasm_bindgen`.
//! It only adapts: it builds the fetch transport, turns futures into
//! promises and errors into `PaymentsError` objects.
//! Method dispatch and every behaviour live in [`crate::bridge`] and below;
//! the hand-owned facade and types are in `pkg-template/`.

#[cfg(feature = "subscriber")]
mod courier;
#[cfg(any(feature = "agent", feature = "mcp", feature = "a2a"))]
mod exchange;
mod fetch;

use crate::bridge;
use crate::error::{Error, Result};
use crate::payments::Payments;
use crate::protocol::json::{parse, to_text, ObjectBuilder};
use crate::protocol::PaymentsOptions;
use fetch::FetchTransport;
use js_sys::{Function, Promise, Reflect};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
#[cfg(any(feature = "agent", feature = "mcp", feature = "a2a"))]
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;

/// The error thrown into JavaScript: a `PaymentsError`, built here (as
/// workers-rs builds its coded errors): an `Error` named `PaymentsError`
/// with the fields [`Error::to_json`] gives (`code`, `httpStatus`, `hint`,
/// `details`, `retryable`) and the mark that `instanceof PaymentsError` asks
/// for (`pkg-template/errors.js`), so JavaScript rethrows nothing.
fn thrown(e: Error) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    error.set_name("PaymentsError");
    let set = |key: &str, value: &JsValue| {
        let _ = Reflect::set(&error, &JsValue::from_str(key), value);
    };
    set("code", &JsValue::from_str(&e.code()));
    if let Some(status) = e.http_status() {
        set("httpStatus", &JsValue::from(status));
    }
    set("hint", &JsValue::from_str(&e.hint()));
    if let Some(details) = e.details() {
        // The backend's envelope fields, or a decoded PaymentRequired.
        set(
            "details",
            &js_sys::JSON::parse(&to_text(&details)).unwrap_or(JsValue::NULL),
        );
    }
    set("retryable", &JsValue::from_bool(e.is_retryable()));
    #[cfg(feature = "mpp")]
    if let Some(spend) = e.spend() {
        // What an MPP payment presented before it failed (`mppSpendOf`).
        set(
            "spend",
            &js_sys::JSON::parse(&to_text(spend)).unwrap_or(JsValue::NULL),
        );
    }
    // Not enumerable, as the class in errors.js defines it. The MPP family is
    // not a PaymentsError (the official SDK's two error families).
    #[cfg(feature = "mpp")]
    let family = match e.mpp_class() {
        Some(name) => {
            error.set_name(name);
            "nvm-x402.MppError"
        }
        None => "nvm-x402.PaymentsError",
    };
    #[cfg(not(feature = "mpp"))]
    let family = "nvm-x402.PaymentsError";
    let mark = js_sys::Object::new();
    let _ = Reflect::set(&mark, &JsValue::from_str("value"), &JsValue::TRUE);
    js_sys::Object::define_property(&error, &js_sys::Symbol::for_(family).into(), &mark);
    error.into()
}

/// A Promise of the JSON a method answers. One `future_to_promise` for all
/// three async methods: each instantiation of it (closures, task spawning,
/// drop code) is another copy in the .wasm; boxing erases the future's type.
fn promise(run: Pin<Box<dyn Future<Output = Result<String>>>>) -> Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        run.await.map(|s| JsValue::from_str(&s)).map_err(thrown)
    })
}

/// The gate's answer now when it needed no backend call (a 402 for a missing
/// or refused token, an unprotected route, a preflight: the future is ready
/// on its first poll), else a Promise of it. Saves a Promise, a spawned task
/// and a microtask hop on those paths; a pending future continues in
/// `promise` (a JavaScript promise it awaits keeps the waker of its latest poll).
#[cfg(any(feature = "agent", feature = "mcp", feature = "a2a"))]
fn now_or_later(mut run: Pin<Box<dyn Future<Output = Result<String>>>>) -> JsValue {
    // `Waker::noop` is Rust 1.85; the crate builds with 1.82.
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    static NOOP: std::sync::OnceLock<Waker> = std::sync::OnceLock::new();
    let mut cx = Context::from_waker(NOOP.get_or_init(|| std::sync::Arc::new(Noop).into()));
    match run.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(text)) => JsValue::from_str(&text),
        Poll::Ready(Err(e)) => Promise::reject(&thrown(e)).into(),
        Poll::Pending => promise(run).into(),
    }
}

/// One `Payments` instance seen from JavaScript.
#[wasm_bindgen]
pub struct NvmCore {
    payments: Rc<Payments<FetchTransport>>,
    /// The deprecation warning the options call for, if any.
    deprecation: Option<String>,
}

#[wasm_bindgen]
impl NvmCore {
    /// `optionsJson`: the `Payments.getInstance` options minus `fetch`; `send`: the
    /// facade's backend sender over the global or the injected fetch (see `fetch.rs`).
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str, send: Function) -> std::result::Result<NvmCore, JsValue> {
        let build = || -> Result<NvmCore> {
            let value =
                parse(options_json).map_err(|_| Error::validation("options must be JSON"))?;
            let options = PaymentsOptions::from_json(&value)?;
            let timeout = options
                .timeout_ms
                .unwrap_or(crate::protocol::environment::DEFAULT_TIMEOUT_MS);
            let payments = Payments::new(&options, FetchTransport::new(send, timeout))?;
            let deprecation =
                crate::protocol::environment::environment_deprecation(&options, payments.config());
            Ok(NvmCore {
                payments: Rc::new(payments),
                deprecation,
            })
        };
        build().map_err(thrown)
    }

    /// `{environment, backendUrl, accountAddress, timeoutMs, organizationId,
    /// deprecation}` (`deprecation`: the warning the options call for, once per process).
    pub fn info(&self) -> String {
        let cfg = self.payments.config();
        let info = ObjectBuilder::new()
            .put("environment", cfg.environment.name())
            .put("backendUrl", cfg.backend_url.as_str())
            .put("accountAddress", cfg.api_key.subject())
            .put("timeoutMs", cfg.timeout_ms)
            .put("organizationId", cfg.organization_id.borrow().as_deref())
            .put("deprecation", self.deprecation.as_deref());
        // A browser instance's `isLoggedIn` (only nvm-x402's core makes them).
        #[cfg(feature = "browser")]
        let info = info.put("signedIn", self.payments.is_signed_in());
        to_text(&info.build())
    }

    /// `setOrganizationId(id | null)`: the `X-Current-Org-Id` of every later
    /// authenticated call (blank or null: none).
    #[wasm_bindgen(js_name = setOrganizationId)]
    pub fn set_organization_id(&self, id: Option<String>) {
        *self.payments.config().organization_id.borrow_mut() =
            id.filter(|id| !id.trim().is_empty());
    }

    /// `logout()`: every later call fails with `not_logged_in`, nothing sent.
    #[cfg(feature = "browser")]
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&self) {
        self.payments.sign_out();
    }

    #[cfg(feature = "agent")]
    /// Compiles `payments.paywall(options)`; configuration mistakes throw here.
    pub fn paywall(&self, options_json: &str) -> std::result::Result<NvmGate, JsValue> {
        let options = parse(options_json)
            .map_err(|_| thrown(Error::validation("paywall options must be JSON")))?;
        let gate = crate::gate::Gate::new(&options).map_err(thrown)?;
        Ok(NvmGate {
            payments: Rc::clone(&self.payments),
            gate: Rc::new(gate),
        })
    }

    #[cfg(feature = "mcp")]
    /// Compiles `payments.mcp.configure(options)`; configuration mistakes throw here.
    #[wasm_bindgen(js_name = mcpPaywall)]
    pub fn mcp_paywall(&self, options_json: &str) -> std::result::Result<NvmMcpGate, JsValue> {
        let options = parse(options_json)
            .map_err(|_| thrown(Error::validation("mcp.configure options must be JSON")))?;
        let gate = crate::gate::mcp::McpGate::new(&options).map_err(thrown)?;
        Ok(NvmMcpGate {
            payments: Rc::clone(&self.payments),
            gate: Rc::new(gate),
        })
    }

    #[cfg(feature = "langchain")]
    /// Compiles `requiresPayment(fn, options)` (nvm-x402/langchain); mistakes throw here.
    #[wasm_bindgen(js_name = toolPaywall)]
    pub fn tool_paywall(&self, options_json: &str) -> std::result::Result<NvmToolGate, JsValue> {
        let options = parse(options_json)
            .map_err(|_| thrown(Error::validation("requiresPayment options must be JSON")))?;
        let gate = crate::gate::tool::ToolGate::new(&options).map_err(thrown)?;
        Ok(NvmToolGate {
            payments: Rc::clone(&self.payments),
            gate: Rc::new(gate),
        })
    }

    #[cfg(feature = "a2a")]
    /// Compiles `payments.a2a.paywall(options)` (`{agentCard}`); mistakes throw here.
    #[wasm_bindgen(js_name = a2aPaywall)]
    pub fn a2a_paywall(&self, options_json: &str) -> std::result::Result<NvmA2aGate, JsValue> {
        let options = parse(options_json)
            .map_err(|_| thrown(Error::validation("a2a.paywall options must be JSON")))?;
        let gate = crate::gate::a2a::A2aGate::new(&options).map_err(thrown)?;
        Ok(NvmA2aGate {
            payments: Rc::clone(&self.payments),
            gate: Rc::new(gate),
        })
    }

    /// One paying call, end to end ([`crate::client::pay`]): `kind` is
    /// `fetch`, `query`, `tool` or `a2a`; `request`: `{url, method, hasToken,
    /// redirect}`; `options`: the call's options; `send(hopJson)` sends each
    /// hop the core decides on and resolves to its reply's JSON. Resolves to
    /// the call's answer (JSON).
    pub fn pay(
        &self,
        kind: String,
        request_json: String,
        options_json: String,
        send: Function,
    ) -> Promise {
        let payments = Rc::clone(&self.payments);
        promise(Box::pin(async move {
            #[cfg(feature = "subscriber")]
            let courier = courier::JsCourier(send);
            #[cfg(not(feature = "subscriber"))]
            let courier = {
                drop(send);
                NoCourier
            };
            bridge::pay(&payments, &kind, &request_json, &options_json, &courier).await
        }))
    }

    /// Runs an asynchronous method; resolves to its result's JSON.
    pub fn call(&self, method: String, args_json: String) -> Promise {
        let payments = Rc::clone(&self.payments);
        promise(Box::pin(async move {
            bridge::call(&payments, &method, &args_json).await
        }))
    }
}

/// A compiled paywall bound to its client.
#[cfg(feature = "agent")]
#[wasm_bindgen]
pub struct NvmGate {
    payments: Rc<Payments<FetchTransport>>,
    gate: Rc<crate::gate::Gate>,
}

#[cfg(feature = "agent")]
#[wasm_bindgen]
impl NvmGate {
    /// One request, start to end ([`crate::gate::Gate::handle`]): the answer's
    /// JSON now when nothing had to be awaited (a refusal without an
    /// `onPaymentError` hook, a preflight, an unprotected route), else a Promise of it. `exchange(what, arg)` is the
    /// request's side of it: `"run"` runs the handler (resolves to its status,
    /// 0 when it failed), `"price"` prices its response for route `arg`
    /// (resolves to the credits' JSON), a hook's name calls that hook with
    /// `arg` (JSON).
    pub fn handle(&self, request_json: String, exchange: Function) -> JsValue {
        let (payments, gate) = (Rc::clone(&self.payments), Rc::clone(&self.gate));
        let exchange = exchange::JsExchange::new(exchange);
        now_or_later(Box::pin(async move {
            bridge::gate_handle(&payments, &gate, &request_json, &exchange).await
        }))
    }

    /// The 500 for an unprotected route whose handler failed.
    #[wasm_bindgen(js_name = handlerFailed)]
    pub fn handler_failed(&self, request_json: &str) -> std::result::Result<String, JsValue> {
        bridge::gate_handler_failed(&self.gate, request_json).map_err(thrown)
    }
}

/// A configured MCP paywall bound to its client.
#[cfg(feature = "mcp")]
#[wasm_bindgen]
pub struct NvmMcpGate {
    payments: Rc<Payments<FetchTransport>>,
    gate: Rc<crate::gate::mcp::McpGate>,
}

#[cfg(feature = "mcp")]
#[wasm_bindgen]
impl NvmMcpGate {
    /// A paid handler (`withPaywall(handler, options)`): its options, checked
    /// here (mistakes throw when the handler is wrapped).
    pub fn tool(&self, options_json: &str) -> std::result::Result<NvmMcpTool, JsValue> {
        Ok(NvmMcpTool {
            tool: Rc::new(bridge::mcp_tool(options_json).map_err(thrown)?),
        })
    }

    /// One paid call of `tool`, start to end ([`crate::gate::mcp::McpGate::handle`]):
    /// the answer's JSON now when nothing was awaited, else a Promise of it.
    /// `exchange(what, arg)` as the HTTP paywall's (`"run"` is told the
    /// handler's context as JSON and resolves to 200, or 0 when it threw).
    pub fn handle(&self, tool: &NvmMcpTool, call_json: String, exchange: Function) -> JsValue {
        let (payments, gate, tool) = (
            Rc::clone(&self.payments),
            Rc::clone(&self.gate),
            Rc::clone(&tool.tool),
        );
        let exchange = exchange::JsExchange::new(exchange);
        now_or_later(Box::pin(async move {
            bridge::mcp_handle(&payments, &gate, &tool, &call_json, &exchange).await
        }))
    }

    /// The OAuth discovery document at `path` (JSON), or undefined for another path.
    pub fn discovery(
        &self,
        path: &str,
        base_url: &str,
        options_json: &str,
    ) -> std::result::Result<Option<String>, JsValue> {
        let options = parse(options_json).unwrap_or(crate::protocol::json::Value::Null);
        self.gate
            .discovery(&self.payments, path, base_url, &options)
            .map(|doc| doc.map(|d| to_text(&d)))
            .map_err(thrown)
    }
}

/// A configured A2A paywall bound to its client.
#[cfg(feature = "a2a")]
#[wasm_bindgen]
pub struct NvmA2aGate {
    payments: Rc<Payments<FetchTransport>>,
    gate: Rc<crate::gate::a2a::A2aGate>,
}

#[cfg(feature = "a2a")]
#[wasm_bindgen]
impl NvmA2aGate {
    /// One HTTP request, start to end ([`crate::gate::a2a::A2aGate::handle`]):
    /// `{status, body?}` (JSON) now when nothing was awaited, else a Promise of
    /// it. `exchange(what, arg)`: `"load"`, `"save"`, `"claim"` (the task
    /// store; resolve to JSON, undefined when the store failed) and `"run"`
    /// (the executor; resolves to its outcome's JSON, or null when it threw).
    pub fn handle(&self, request_json: String, exchange: Function) -> JsValue {
        let (payments, gate) = (Rc::clone(&self.payments), Rc::clone(&self.gate));
        let exchange = exchange::JsExchange::new(exchange);
        now_or_later(Box::pin(async move {
            let request = parse(&request_json)
                .map_err(|_| Error::validation("a2a: the request must be JSON"))?;
            gate.handle(&payments, &request, &exchange).await
        }))
    }
}

/// `buildPaymentAgentCard(card, metadata)` (JSON in and out; see
/// [`crate::protocol::gate::a2a::build_payment_agent_card`]).
#[cfg(feature = "a2a")]
#[wasm_bindgen(js_name = buildPaymentAgentCard)]
pub fn build_payment_agent_card(
    card_json: &str,
    metadata_json: &str,
) -> std::result::Result<String, JsValue> {
    let read = |text: &str| parse(text).unwrap_or(crate::protocol::json::Value::Null);
    crate::protocol::gate::a2a::build_payment_agent_card(&read(card_json), &read(metadata_json))
        .map(|card| to_text(&card))
        .map_err(thrown)
}

/// `nvm-x402/mcp`'s OAuth builders (`getOAuthUrls`, `buildProtectedResourceMetadata`,
/// ...): the official name and its arguments as JSON, the document's JSON back
/// ([`bridge::oauth_builder`]).
#[cfg(feature = "mcp")]
#[wasm_bindgen(js_name = oauthDocument)]
pub fn oauth_document(name: &str, args_json: &str) -> std::result::Result<String, JsValue> {
    bridge::oauth_builder(name, args_json).map_err(thrown)
}

/// A core without the paying client: [`bridge::pay`] answers `not_in_entry` before sending.
#[cfg(not(feature = "subscriber"))]
struct NoCourier;

#[cfg(not(feature = "subscriber"))]
impl crate::client::Courier for NoCourier {
    async fn send(&self, _: &crate::client::Hop) -> Result<crate::client::Reply> {
        Err(Error::validation("no paying client in this entry"))
    }

    async fn text(&self) -> Result<String> {
        Err(Error::validation("no paying client in this entry"))
    }

    fn discard(&self) {}
}

/// A paid function (`requiresPayment`) bound to its client.
#[cfg(feature = "langchain")]
#[wasm_bindgen]
pub struct NvmToolGate {
    payments: Rc<Payments<FetchTransport>>,
    gate: Rc<crate::gate::tool::ToolGate>,
}

#[cfg(feature = "langchain")]
#[wasm_bindgen]
impl NvmToolGate {
    /// One call, start to end ([`crate::gate::tool::ToolGate::handle`]): the
    /// answer's JSON now when nothing was awaited, else a Promise of it.
    /// `exchange(what, arg)` as the MCP paywall's.
    pub fn handle(&self, call_json: String, exchange: Function) -> JsValue {
        let (payments, gate) = (Rc::clone(&self.payments), Rc::clone(&self.gate));
        let exchange = exchange::JsExchange::new(exchange);
        now_or_later(Box::pin(async move {
            let call = parse(&call_json)
                .map_err(|_| Error::validation("requiresPayment: the call must be JSON"))?;
            gate.handle(&payments, &call, &exchange).await
        }))
    }
}

/// A paid MCP handler's checked options (whichever paywall configuration is current runs it).
#[cfg(feature = "mcp")]
#[wasm_bindgen]
pub struct NvmMcpTool {
    tool: Rc<crate::protocol::gate::mcp::McpTool>,
}

/// Every async method's JS name, one per line ([`bridge::METHOD_NAMES`]).
#[wasm_bindgen(js_name = methodNames)]
pub fn method_names() -> JsValue {
    JsValue::from_str(bridge::METHOD_NAMES)
}

/// Runs a synchronous, pure function; returns its result's JSON.
#[wasm_bindgen(js_name = callSync)]
pub fn call_sync(method: &str, args_json: &str) -> std::result::Result<String, JsValue> {
    bridge::call_sync(method, args_json).map_err(thrown)
}

// Talc instead of Rust's default dlmalloc: about 7 KB smaller in the .wasm and
// faster. It keeps dlmalloc's properties that matter in a long-lived Worker
// isolate: O(1) binned allocation and freeing, and freed neighbours coalesce,
// so memory is reused instead of fragmenting. (lol_alloc is 1 KB smaller
// still, but its free list is searched on every allocation and free.)
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
