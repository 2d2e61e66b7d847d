//! [`Transport`] over JavaScript's `fetch`: the global one (browsers, Node 20,
//! workerd, Deno, Bun — never `window.fetch`) or one the caller injects. The
//! response is read by duck typing (`status`, `text()`), so an injected fetch
//! may return any Response-like object.

use crate::error::{Error, Result};
use crate::transport::{HttpRequest, HttpResponse, Transport};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Sends requests with `fetch`, each limited to `timeout_ms`.
pub struct FetchTransport {
    fetch: Function,
    timeout_ms: u64,
}

impl FetchTransport {
    /// Uses `fetch` if given, else `globalThis.fetch`.
    pub fn new(fetch: Option<Function>, timeout_ms: u64) -> Result<Self> {
        let fetch = match fetch {
            Some(f) => f,
            None => global("fetch")
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| {
                    Error::validation(
                        "No global fetch in this runtime; pass { fetch } to Payments.getInstance",
                    )
                })?,
        };
        Ok(FetchTransport { fetch, timeout_ms })
    }

    /// Calls `fetch(url, init)` with `this` = globalThis (native fetch refuses any other receiver).
    pub fn raw_fetch(&self, url: &str, init: &JsValue) -> std::result::Result<Promise, JsValue> {
        self.fetch
            .call2(&js_sys::global(), &JsValue::from_str(url), init)?
            .dyn_into::<Promise>()
    }
}

fn global(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `AbortSignal.timeout(ms)` where the runtime has it.
fn timeout_signal(ms: u64) -> Option<JsValue> {
    let ctor = global("AbortSignal")?;
    let timeout = Reflect::get(&ctor, &JsValue::from_str("timeout"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    timeout.call1(&ctor, &JsValue::from_f64(ms as f64)).ok()
}

/// Reads `name` and `message` (and Node's `cause.code`) off a thrown value.
fn describe(err: &JsValue) -> (String, String) {
    let text = |v: &JsValue, k: &str| {
        Reflect::get(v, &JsValue::from_str(k))
            .ok()
            .and_then(|x| x.as_string())
            .unwrap_or_default()
    };
    let name = text(err, "name");
    let mut message = text(err, "message");
    if message.is_empty() {
        message = err.as_string().unwrap_or_else(|| "fetch failed".to_owned());
    }
    if let Ok(cause) = Reflect::get(err, &JsValue::from_str("cause")) {
        let code = text(&cause, "code");
        // (a window scan: str::contains(&str) would add core's substring searcher)
        let mentioned = message
            .as_bytes()
            .windows(code.len().max(1))
            .any(|w| w == code.as_bytes());
        if !code.is_empty() && !mentioned {
            message = format!("{message} ({code})");
        }
    }
    (name, message)
}

impl FetchTransport {
    fn failure(&self, err: &JsValue, url: &str) -> Error {
        let (name, message) = describe(err);
        if name == "TimeoutError" || name == "AbortError" {
            Error::Timeout {
                after_ms: self.timeout_ms,
            }
        } else {
            Error::Network(format!("Could not reach {}: {message}", strip_query(url)))
        }
    }
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let init = Object::new();
        set(&init, "method", &JsValue::from_str(request.method));
        let headers = Object::new();
        for (name, value) in &request.headers {
            set(&headers, name, &JsValue::from_str(value));
        }
        set(&init, "headers", &headers);
        if let Some(body) = &request.body {
            set(&init, "body", &JsValue::from_str(body));
        }
        if let Some(signal) = timeout_signal(self.timeout_ms) {
            set(&init, "signal", &signal);
        }
        let promise = self
            .raw_fetch(&request.url, &init)
            .map_err(|e| self.failure(&e, &request.url))?;
        let response = JsFuture::from(promise)
            .await
            .map_err(|e| self.failure(&e, &request.url))?;
        let status = Reflect::get(&response, &JsValue::from_str("status"))
            .ok()
            .and_then(|s| s.as_f64())
            .ok_or_else(|| {
                Error::Network("fetch returned something that is not a Response".into())
            })? as u16;
        let text = Reflect::get(&response, &JsValue::from_str("text"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| {
                Error::Network("fetch returned something that is not a Response".into())
            })?;
        let body_promise = text
            .call0(&response)
            .and_then(|p| p.dyn_into::<Promise>())
            .map_err(|e| self.failure(&e, &request.url))?;
        let body = JsFuture::from(body_promise)
            .await
            .map_err(|e| self.failure(&e, &request.url))?;
        Ok(HttpResponse {
            status,
            body: body.as_string().unwrap_or_default(),
        })
    }

    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn random_u64(&self) -> u64 {
        // crypto.getRandomValues exists in every supported runtime; Math.random is the fallback.
        let bytes = js_sys::Uint8Array::new_with_length(8);
        let filled = global("crypto")
            .and_then(|c| {
                let f = Reflect::get(&c, &JsValue::from_str("getRandomValues"))
                    .ok()?
                    .dyn_into::<Function>()
                    .ok()?;
                f.call1(&c, &bytes).ok()
            })
            .is_some();
        if filled {
            let mut buf = [0u8; 8];
            bytes.copy_to(&mut buf);
            u64::from_le_bytes(buf)
        } else {
            ((js_sys::Math::random() * 4294967296.0) as u64) << 32
                | (js_sys::Math::random() * 4294967296.0) as u64
        }
    }

    fn warn(&self, message: &str) {
        web_sys::console::warn_1(&JsValue::from_str(message));
    }
}
