//! [`Transport`] over JavaScript's `fetch`, through one function the facade
//! passes in (`send` in pkg-template/core.js): `send(url, head, body)` calls
//! the global `fetch` (browsers, Node 20, workerd, Deno, Bun — never
//! `window.fetch`) or an injected one with a plain init object and an
//! AbortController's signal (its timer also gives up on a fetch that ignores
//! the signal), and resolves to `[status, text]` (status 0: what
//! fetch returned was not Response-like). One call across the boundary per
//! backend request, instead of building the init object, its headers and
//! the signal property by property from here (bench/README.md, #14 item 1).

use crate::error::{Error, Result};
use crate::transport::{HttpRequest, HttpResponse, Transport};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Sends requests with the facade's `send`, each limited to `timeout_ms` (there).
pub struct FetchTransport {
    send: Function,
    timeout_ms: u64,
}

impl FetchTransport {
    /// `send(url, head, body)`: `head` is the method and the headers, one per line
    /// (`method\nname\nvalue\n...`); `body` a string or undefined.
    pub fn new(send: Function, timeout_ms: u64) -> Self {
        FetchTransport { send, timeout_ms }
    }
}

fn global(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Reads `name` and `message` (and Node's `cause.code`) off a thrown value.
pub(super) fn describe(err: &JsValue) -> (String, String) {
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
        if !code.is_empty() && crate::protocol::redact::find(&message, &code).is_none() {
            message = format!("{message} ({code})");
        }
    }
    (name, message)
}

/// Whether a failed fetch may be a CORS refusal: a page or a web worker (what
/// has a `location`) sees one only as a `TypeError`, the same as a refused
/// connection, so the error says it may be either.
#[cfg(feature = "subscriber")]
pub(super) fn maybe_cors(name: &str) -> bool {
    name == "TypeError" && global("location").is_some()
}

impl FetchTransport {
    fn failure(&self, err: &JsValue, url: &str) -> Error {
        let (name, message) = describe(err);
        if name == "TimeoutError" || name == "AbortError" {
            return Error::Timeout {
                after_ms: self.timeout_ms,
            };
        }
        let message = format!("Could not reach {}: {message}", strip_query(url));
        // Only a page or a web worker meets CORS: the client's core (the paywalls run on servers).
        #[cfg(feature = "subscriber")]
        if maybe_cors(&name) {
            return Error::FetchFailed {
                message,
                agent: false,
            };
        }
        Error::Network(message)
    }
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let mut head = String::with_capacity(256);
        head.push_str(request.method);
        for (name, value) in &request.headers {
            // A line break would split into another header on the other side (fetch refuses them anyway).
            if (name.bytes().chain(value.bytes())).any(|b| b == b'\n' || b == b'\r') {
                return Err(Error::validation(format!(
                    "the {name} header has a line break in its value"
                )));
            }
            head.push('\n');
            head.push_str(name);
            head.push('\n');
            head.push_str(value);
        }
        let body = request
            .body
            .as_deref()
            .map_or(JsValue::UNDEFINED, JsValue::from_str);
        let answer = self
            .send
            .call3(
                &JsValue::UNDEFINED,
                &JsValue::from_str(&request.url),
                &JsValue::from_str(&head),
                &body,
            )
            // `send` is the facade's async function: a Promise, without asking JS (`instanceof`).
            .map(JsCast::unchecked_into::<Promise>);
        let answer = match answer {
            Ok(promise) => JsFuture::from(promise).await,
            Err(e) => Err(e),
        }
        .map_err(|e| self.failure(&e, &request.url))?;
        let answer = Array::from(&answer);
        let status = answer.get(0).as_f64().unwrap_or(0.0) as u16;
        if status == 0 {
            return Err(Error::Network(
                "fetch returned something that is not a Response".into(),
            ));
        }
        Ok(HttpResponse {
            status,
            body: answer.get(1).as_string().unwrap_or_default(),
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
