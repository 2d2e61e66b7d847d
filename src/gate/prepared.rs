//! PaymentRequireds of recent resources, built and written once (#14, item
//! 1): a route's PaymentRequired depends only on the route, the request's
//! URL and verb, and the plans' schemes, and clients call the same URLs
//! again and again. Each is kept with its compact JSON (spliced into the
//! verify and settle bodies) and its last refusal's whole answer (a 402 for
//! a missing token is the same every time). Bounded: the
//! oldest of [`CAPACITY`] is forgotten first (see [`Cache`] for its key).

use crate::cache::Bounded;
use crate::error::Result;
use crate::protocol::gate::{with_error, GateConfig, GateRequest, PaidRoute};
use crate::protocol::header::encode_payment_header;
use crate::protocol::json::{self, Value};
use crate::protocol::{ResolvedScheme, Uint256};
use std::cell::RefCell;
use std::rc::Rc;

/// At most this many resources are kept.
const CAPACITY: usize = 32;

/// One resource's PaymentRequired.
#[derive(Debug)]
pub struct Prepared {
    route: String,
    /// Each plan's scheme, in the route's plan order.
    pub schemes: Vec<ResolvedScheme>,
    /// The PaymentRequired (no `error`).
    pub payment_required: Value,
    /// Its compact JSON.
    text: String,
    /// The last refusal: its reason, its `payment-required` header, and the
    /// whole answer's JSON with the CORS headers it was given.
    refusal: RefCell<Option<Refusal>>,
}

#[derive(Debug)]
struct Refusal {
    reason: String,
    header: String,
    cors: Vec<(String, String)>,
    answer: String,
}

impl Prepared {
    /// The JSON text of the gate's answer refusing a request to this resource
    /// for `reason` with these CORS headers: the last one kept when it was for
    /// the same reason and headers (a 402 for a missing token is the same every
    /// time), else `build(header, cors)` with the `payment-required` header of
    /// the PaymentRequired with `error: reason`, and kept.
    pub fn refusal(
        &self,
        reason: &str,
        cors: Vec<(String, String)>,
        build: impl FnOnce(String, Vec<(String, String)>) -> String,
    ) -> Result<String> {
        let mut kept = self.refusal.borrow_mut();
        let same_reason = kept.as_ref().filter(|r| r.reason == reason);
        if let Some(last) = same_reason.filter(|r| r.cors == cors) {
            return Ok(last.answer.clone());
        }
        let header = match same_reason {
            Some(last) => last.header.clone(),
            None => encode_payment_header(&with_error(&self.payment_required, reason))?,
        };
        let answer = build(header.clone(), cors.clone());
        *kept = Some(Refusal {
            reason: reason.to_owned(),
            header,
            cors,
            answer: answer.clone(),
        });
        Ok(answer)
    }

    /// The verify/settle body: `{paymentRequired, x402AccessToken, maxAmount, agentRequestId?}`,
    /// byte for byte what `facilitator.verifyPermissions`/`settlePermissions` send for them.
    pub fn body(
        &self,
        token: &str,
        max_amount: &Uint256,
        agent_request_id: Option<&str>,
    ) -> String {
        let mut out = String::with_capacity(self.text.len() + token.len() + 96);
        out.push_str("{\"paymentRequired\":");
        out.push_str(&self.text);
        out.push_str(",\"x402AccessToken\":");
        json::write_str(&mut out, token);
        out.push_str(",\"maxAmount\":\"");
        out.push_str(max_amount.as_str());
        out.push('"');
        if let Some(id) = agent_request_id {
            out.push_str(",\"agentRequestId\":");
            json::write_str(&mut out, id);
        }
        out.push('}');
        out
    }

    /// The key of the route it is for (`"POST /tasks"`).
    pub fn route(&self) -> &str {
        &self.route
    }

    /// The network of the first `accepts` entry.
    pub fn network(&self) -> &str {
        self.payment_required
            .get("accepts")
            .and_then(|a| a.as_array()?.first())
            .and_then(|a| a.get("network"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// What a PaymentRequired is made of besides the gate's own configuration:
/// `GateConfig::payment_required` reads the route (its plans, description,
/// MIME type), the request's URL and verb, and the plans' schemes, nothing
/// else of the request.
#[derive(Debug, Clone, PartialEq)]
struct Resource {
    route: String,
    url: String,
    verb: String,
    schemes: Vec<ResolvedScheme>,
}

/// A resource as a request names it, to look it up without copying.
type ResourceRef<'a> = (&'a str, &'a str, &'a str, &'a [ResolvedScheme]);

impl PartialEq<ResourceRef<'_>> for Resource {
    fn eq(&self, (route, url, verb, schemes): &ResourceRef<'_>) -> bool {
        self.url == *url && self.route == *route && self.verb == *verb && self.schemes == *schemes
    }
}

/// The recent resources.
#[derive(Debug, Default)]
pub struct Cache(
    /// Keyed by everything the PaymentRequired is made of ([`Resource`],
    /// compared field by field), so a hit is byte for byte what building it
    /// again would give, and the kept refusal is reused only for the same
    /// reason and CORS headers ([`Prepared::refusal`]). A client chooses the
    /// URL (and so which route and verb): new URLs only evict other
    /// resources, which costs their next request one build, never a different
    /// PaymentRequired (what is charged and who pays are in it and in the
    /// token, both checked per request by the backend).
    Bounded<Resource, Rc<Prepared>, CAPACITY>,
);

impl Cache {
    /// The PaymentRequired of `req` to `route` paid with `schemes`: kept, or built now.
    pub fn get(
        &self,
        cfg: &GateConfig,
        route: &PaidRoute,
        req: &GateRequest,
        schemes: Vec<ResolvedScheme>,
    ) -> Result<Rc<Prepared>> {
        let verb = req.verb();
        if let Some(hit) = self
            .0
            .get(&(route.key.as_str(), req.url.as_str(), verb, &schemes[..]))
        {
            return Ok(hit);
        }
        let payment_required = cfg.payment_required(route, req, &schemes, None)?;
        let resource = Resource {
            route: route.key.clone(),
            url: req.url.clone(),
            verb: verb.to_owned(),
            schemes: schemes.clone(),
        };
        let prepared = Rc::new(Prepared {
            route: route.key.clone(),
            schemes,
            text: json::to_text(&payment_required),
            payment_required,
            refusal: RefCell::new(None),
        });
        self.0.insert_missing(resource, Rc::clone(&prepared));
        Ok(prepared)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The URLs kept, oldest first.
    #[cfg(test)]
    pub fn urls(&self) -> Vec<String> {
        self.0.keys().into_iter().map(|r| r.url).collect()
    }
}
