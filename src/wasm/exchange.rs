//! [`Exchange`] over one JavaScript function the paywall passes per request
//! (`pkg-template/paywall.js`): `exchange(what, arg)` runs the handler
//! (`"run"`), prices its response (`"price"`, with the route), or calls a hook
//! (its name, with the detail's JSON), and answers a value or a Promise of one.
//! The gate awaits it here, so a paid request is one call into the core.

#[cfg(any(feature = "agent", feature = "mcp", feature = "langchain"))]
use crate::gate::Exchange;
#[cfg(any(feature = "agent", feature = "mcp", feature = "langchain"))]
use crate::protocol::gate::Hook;
#[cfg(any(feature = "agent", feature = "mcp", feature = "langchain"))]
use crate::protocol::json::ObjectBuilder;
use crate::protocol::json::{parse, to_text, Value};
use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// One request's exchange function.
pub struct JsExchange(Function);

impl JsExchange {
    /// Wraps the paywall's `exchange(what, arg)`.
    pub fn new(exchange: Function) -> Self {
        JsExchange(exchange)
    }

    /// Calls `exchange(what, arg)` and awaits what it answers; `None` when it threw or rejected.
    async fn ask(&self, what: &str, arg: &str) -> Option<JsValue> {
        let out = self
            .0
            .call2(
                &JsValue::NULL,
                &JsValue::from_str(what),
                &JsValue::from_str(arg),
            )
            .ok()?;
        match out.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await.ok(),
            Err(value) => Some(value),
        }
    }
}

#[cfg(feature = "a2a")]
impl crate::gate::a2a::A2aExchange for JsExchange {
    async fn store(&self, op: &str, arg: &Value) -> Option<Value> {
        parse(&self.ask(op, &to_text(arg)).await?.as_string()?).ok()
    }

    async fn run(&self, context: &Value) -> Option<Value> {
        parse(&self.ask("run", &to_text(context)).await?.as_string()?).ok()
    }

    async fn cancel(&self, task_id: &str) -> bool {
        let told = self.ask("cancel", task_id).await;
        told.and_then(|v| v.as_bool()) == Some(true)
    }

    async fn hook(&self, name: &str, detail: &Value) {
        self.ask(name, &to_text(detail)).await;
    }
}

#[cfg(any(feature = "agent", feature = "mcp", feature = "langchain"))]
impl Exchange for JsExchange {
    async fn run(&self, context: &Value) -> Option<u16> {
        let status = self.ask("run", &to_text(context)).await?.as_f64()?;
        // 0: the handler threw or gave no Response (the adapter logged it).
        (100.0..600.0).contains(&status).then_some(status as u16)
    }

    async fn price(&self, route: &str) -> Value {
        self.ask("price", route)
            .await
            .and_then(|v| v.as_string())
            .and_then(|text| parse(&text).ok())
            // A price that can't be read is a credits function that threw: nothing is charged.
            .unwrap_or_else(|| ObjectBuilder::new().put("invalid", "threw").build())
    }

    async fn hook(&self, hook: Hook, detail: Value) {
        self.ask(hook.name(), &to_text(&detail)).await;
    }

    async fn digest(&self) -> Option<String> {
        // The adapter answers the body's SHA-256 in base64 ('' when it could not read it).
        let hash = self.ask("digest", "").await?.as_string()?;
        (!hash.is_empty()).then(|| format!("sha-256={hash}"))
    }
}
