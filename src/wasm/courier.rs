//! [`Courier`] over the one JavaScript function a paying call passes
//! (`pkg-template/core.js`): `send(hopJson)` sends the hop the core decided
//! on (the headers it drops and sets included) and resolves to its reply's
//! JSON (status, `location`, the payment headers and `mcp-session-id`; a
//! rejection is an agent that could not be reached); `send("text")` resolves
//! to the last response's body; `send("discard")` cancels it. With the A2A
//! client (`a2a-client.js`'s `events`): `send("[...]")` hands the caller a
//! stream's events that came (a JSON array), then resolves to the body's
//! next piece (not a string: it ended).

use super::fetch::{describe, maybe_cors};
use crate::client::{Courier, Hop, Reply};
use crate::error::{Error, Result};
use crate::protocol::json::{parse, to_text};
use crate::protocol::redact::redact_within;
use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// One paying call's `send`.
pub struct JsCourier(pub Function);

impl JsCourier {
    /// Calls `send(arg)` and awaits what it resolves to.
    async fn ask(&self, arg: &str) -> std::result::Result<JsValue, JsValue> {
        let sent = self
            .0
            .call1(&JsValue::NULL, &JsValue::from_str(arg))
            // `send` is the facade's async function: a Promise, without asking JS (`instanceof`).
            .map(JsCast::unchecked_into::<Promise>)?;
        JsFuture::from(sent).await
    }
}

impl Courier for JsCourier {
    async fn send(&self, hop: &Hop) -> Result<Reply> {
        let reply = self.ask(&to_text(&hop.to_json())).await.map_err(|e| {
            let url = hop.url.split(['?', '#']).next().unwrap_or("");
            let (name, mut why) = describe(&e);
            // A runtime's message may quote a header value: never the whole token.
            if let Some(token) = &hop.token {
                why = redact_within(&why, token);
            }
            let message = format!("Could not reach {url}: {why}");
            if maybe_cors(&name) {
                Error::FetchFailed {
                    message,
                    agent: true,
                }
            } else {
                Error::Unreachable(message)
            }
        })?;
        let text = reply.as_string().unwrap_or_default();
        Reply::from_json(
            &parse(&text).map_err(|_| Error::validation("the courier's reply is not JSON"))?,
        )
    }

    #[cfg(not(feature = "a2a-client"))]
    async fn text(&self) -> Result<String> {
        let text = self
            .ask("text")
            .await
            .map_err(|e| Error::Network(describe(&e).1))?;
        Ok(text.as_string().unwrap_or_default())
    }

    #[cfg(feature = "a2a-client")]
    async fn read(&self, ask: &str) -> Result<Option<String>> {
        let piece = self
            .ask(ask)
            .await
            .map_err(|e| Error::Network(describe(&e).1))?;
        Ok(piece.as_string())
    }

    fn discard(&self) {
        let _ = self.0.call1(&JsValue::NULL, &JsValue::from_str("discard"));
    }
}
