//! [`Courier`] over the one JavaScript function a paying call passes
//! (`pkg-template/core.js`): `send(hopJson)` sends the hop the core decided
//! on and resolves to its reply's JSON. A rejection is an agent that could
//! not be reached.

use super::fetch::describe;
use crate::client::{Courier, Hop, Reply};
use crate::error::{Error, Result};
use crate::protocol::json::{parse, to_text};
use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// One paying call's `send`.
pub struct JsCourier(pub Function);

impl Courier for JsCourier {
    async fn send(&self, hop: &Hop) -> Result<Reply> {
        let sent = self
            .0
            .call1(&JsValue::NULL, &JsValue::from_str(&to_text(&hop.to_json())))
            // `send` is the facade's async function: a Promise, without asking JS (`instanceof`).
            .map(JsCast::unchecked_into::<Promise>);
        let reply = match sent {
            Ok(promise) => JsFuture::from(promise).await,
            Err(e) => Err(e),
        }
        .map_err(|e| {
            let url = hop.url.split(['?', '#']).next().unwrap_or("");
            Error::Unreachable(format!("Could not reach {url}: {}", describe(&e).1))
        })?;
        let text = reply.as_string().unwrap_or_default();
        Reply::from_json(
            &parse(&text).map_err(|_| Error::validation("the courier's reply is not JSON"))?,
        )
    }
}
