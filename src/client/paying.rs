//! The paying loop, end to end: `fetchWithPayment`, `queryAgent`,
//! `mcp.callTool` and the A2A client's messages are each one call of [`pay`], which asks [`next_step`] what
//! to send, has the adapter send it ([`Courier`]: JavaScript holds the
//! Request and Response objects), follows the agent's redirects by this
//! module's rules, and tells the next decision how the attempt went.
//!
//! Redirects of a paid request ([`after_hop`]): the token stays with the
//! origin that was checked. Within that origin a redirect is followed with
//! the token; to another origin without it (as `fetch` does with
//! `Authorization`), and then by `fetch`'s own rules; not at all when the
//! token is in a body that the redirect would resend (MCP, 307/308), nor when
//! the runtime hides where the redirect goes (a browser's opaque redirect).
//! The caller's `redirect: 'manual'` and `'error'` are honoured. A token the
//! caller put in `payment-signature` themselves is kept to its origin the
//! same way; an attempt without a token is sent with the caller's own
//! redirect mode, except an MCP request, which is followed by these rules
//! whether it carries a token or not (as the official v2 client, which
//! follows MCP redirects only within the origin): its body never goes to
//! another origin.
//!
//! MCP ([`send`]): a `tools/call` is sent in the protocol revision the
//! server speaks (`protocol::mcp`), negotiated before the first one to a URL
//! and remembered per URL (`ClientState`); the negotiation's requests carry
//! no token. Round trips of one paid `tools/call` (paid up front, as
//! `callTool` does by default; a 402-first call adds one `tools/call`):
//!
//! | server                                   | first call | later calls |
//! |------------------------------------------|-----------:|------------:|
//! | 2026-07-28 (probe, `tools/call`)         |          2 |           1 |
//! | 2025, stateless (probe, `initialize`, `tools/call`) | 3 |        1 |
//! | 2025, sessionful (probe, `initialize`, `notifications/initialized`, `tools/call`) | 4 | 1 (the session is kept) |
//! | `protocolVersion: '2025-11-25'`          | one less (no probe) |  1 |
//!
//! A stateless 2025 server gets no `notifications/initialized`: without a
//! session it can't tell whose it would be. Sending the `tools/call` first and
//! initializing only when it is refused would save a stateless server's first
//! call one round trip but cost a sessionful one two (5), and send the paid
//! body to a server that refuses it; the probe can't tell the two apart (both
//! of the v1 SDK's transports answer it 400). A remembered revision that the
//! server refuses ([`mcp::refused_as_stale`]: redeployed, its session gone)
//! is negotiated again and the call sent once more (+1 call and the
//! negotiation), never in a loop.

#[cfg(feature = "a2a-client")]
use super::a2a::{self, A2aMessage, CARD_PATH, LEGACY_CARD_PATH};
use super::{mcp_read_result, mcp_tool_call, next_step, Outcome, Outgoing, PayOptions, Step};
use crate::client_state::{ClientState, McpEndpoint};
use crate::error::{Error, Result, REDIRECT_NOT_FOLLOWED};
use crate::payments::Payments;
use crate::protocol::decode_payment_header;
use crate::protocol::json::{self, to_text, Object, ObjectBuilder, Value};
use crate::protocol::mcp::{self, Era, Pin};
#[cfg(feature = "a2a-client")]
use crate::protocol::url::join;
use crate::protocol::url::Url;
#[cfg(feature = "a2a-client")]
use crate::transport::HttpRequest;
use crate::transport::Transport;

/// The adapter's side of a paying call: it sends one [`Hop`] and answers
/// what came back (its [`Reply`]). It keeps the caller's Request (each
/// attempt starts from a copy of it) and the last Response (the call's
/// answer); an earlier response's body is cancelled when the next hop is sent.
#[allow(async_fn_in_trait)]
pub trait Courier {
    /// Sends `hop`; `Err` when the agent could not be reached (the adapter's
    /// message, e.g. `Could not reach <url>: <why>`).
    async fn send(&self, hop: &Hop) -> Result<Reply>;

    /// The last response's body, read whole (only the answer a call keeps is
    /// read: a redirect's body never is). `Err` when it broke off.
    #[cfg(not(feature = "a2a-client"))]
    async fn text(&self) -> Result<String>;

    /// With the A2A client, the last response's body: `ask` `text`, read
    /// whole (as `text` without it); an A2A stream's as it comes: `ask` a
    /// JSON array, the events to hand the caller now ([`a2a::StreamRead`]),
    /// answered with the body's next piece (`None`: it ended). `Err` when it
    /// broke off. (One method: each `await` is a state of the paying loop.)
    #[cfg(feature = "a2a-client")]
    async fn read(&self, ask: &str) -> Result<Option<String>>;

    /// Forgets the last response, its body cancelled: the call failed before
    /// it had an answer for the caller.
    fn discard(&self);
}

/// One request to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// A new attempt, made from the caller's request (`url`, `method` and
    /// `keep_body` are then its own); else the next hop of a redirect, made
    /// from the previous hop's request.
    pub attempt: bool,
    /// Where to (a redirect hop).
    pub url: String,
    /// The method (a redirect hop).
    pub method: String,
    /// The token to put in `payment-signature` (HTTP).
    pub token: Option<String>,
    /// The body to send instead of the request's (MCP: the JSON-RPC call).
    pub body: Option<String>,
    /// A redirect hop resends the previous request's body.
    pub keep_body: bool,
    /// Headers to leave out.
    pub drop: &'static [&'static str],
    /// Headers to set, after `drop` (MCP's: `mcp-protocol-version`,
    /// `mcp-method`, `mcp-name`, `mcp-session-id`).
    pub headers: Object,
    /// The `redirect` mode to send it with (`manual`: this module follows).
    pub redirect: String,
}

impl Hop {
    /// The hop as the adapter reads it (JSON).
    pub fn to_json(&self) -> Value {
        ObjectBuilder::new()
            .put("attempt", self.attempt)
            .put("url", self.url.as_str())
            .put("method", self.method.as_str())
            .put_opt("token", self.token.as_deref().map(Value::from))
            .put_opt("body", self.body.as_deref().map(Value::from))
            .put("keepBody", self.keep_body)
            .put(
                "drop",
                Value::Array(self.drop.iter().map(|&h| Value::from(h)).collect()),
            )
            .put("headers", Value::Object(self.headers.clone()))
            .put("redirect", self.redirect.as_str())
            .build()
    }
}

/// What a hop got back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// The status (0 for an opaque redirect).
    pub status: u16,
    /// The runtime hid where a redirect goes (a browser's `opaqueredirect`).
    pub opaque: bool,
    /// `location`, resolved against the request's URL by the WHATWG parser;
    /// `Some("")` when it could not be resolved.
    pub location: Option<String>,
    /// The `payment-required` header.
    pub payment_required: Option<String>,
    /// The `payment-response` header.
    pub payment_response: Option<String>,
    /// The `mcp-session-id` header (a 2025-era MCP server's session).
    pub session: Option<String>,
    /// The `www-authenticate` header (an MPP challenge).
    pub www_authenticate: Option<String>,
    /// The `payment-receipt` header (an MPP receipt).
    pub payment_receipt: Option<String>,
    /// The body, once it was read ([`Courier::text`]).
    pub text: Option<String>,
}

impl Reply {
    /// Reads the adapter's answer (JSON).
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "the courier's reply";
        let o = json::object(v, WHAT)?;
        let text = |k: &str| -> Result<Option<String>> {
            Ok(json::opt_str(o, k, WHAT)?.map(str::to_owned))
        };
        Ok(Reply {
            status: o
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0),
            opaque: json::opt_bool(o, "opaque", WHAT)?.unwrap_or(false),
            location: text("location")?,
            payment_required: text("paymentRequired")?,
            payment_response: text("paymentResponse")?,
            session: text("mcpSessionId")?,
            www_authenticate: text("wwwAuthenticate")?,
            payment_receipt: text("paymentReceipt")?,
            text: text("text")?,
        })
    }
}

/// What is being paid for.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `fetchWithPayment`: the agent's Response is the answer (the adapter holds it).
    Fetch,
    /// `queryAgent`: the agent's JSON is the answer.
    Query,
    /// `mcp.callTool`: a JSON-RPC `tools/call` (id, tool name, arguments), the token in `_meta`.
    Tool {
        /// The JSON-RPC id.
        id: Value,
        /// The tool.
        name: String,
        /// Its arguments.
        arguments: Value,
        /// The caller's `protocolVersion`.
        pin: Pin,
    },
    /// `payments.a2a` `sendA2AMessage`: A2A `message/send` to the card's
    /// `url` ([`a2a_card`]), the token in band on the task that asked for it
    /// (`super::a2a`; `nvm-x402/a2a`'s core only).
    #[cfg(feature = "a2a-client")]
    A2a(A2aMessage),
}

impl Call {
    /// `kind` (`fetch`, `query`, `tool`, `a2a`) with the call's options (a
    /// tool's `name`, `arguments` and `id`, a message's `params` are read from them).
    pub fn from_json(kind: &str, options: &Value) -> Result<Self> {
        // A2A's task calls (`getA2ATask`, ...: `a2a::TASK_CALLS`).
        #[cfg(feature = "a2a-client")]
        if let Some(m) = A2aMessage::task_call(kind, options)? {
            return Ok(Call::A2a(m));
        }
        Ok(match kind {
            "fetch" => Call::Fetch,
            "query" => Call::Query,
            "tool" => Call::Tool {
                id: options.get("id").cloned().unwrap_or(Value::from(1)),
                name: options
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Error::validation("mcp.callTool: name is required"))?
                    .to_owned(),
                arguments: options.get("arguments").cloned().unwrap_or(Value::Null),
                pin: Pin::from_json(options.get("protocolVersion"))?,
            },
            #[cfg(feature = "a2a-client")]
            "a2a" => Call::A2a(A2aMessage::from_json(options, false)?),
            #[cfg(feature = "a2a-client")]
            "a2a-stream" => Call::A2a(A2aMessage::from_json(options, true)?),
            _ => return Err(Error::validation(format!("unknown paying call \"{kind}\""))),
        })
    }
}

/// The headers a redirect hop may leave out: those of a body, then those
/// that do not go to another origin (fetch drops the last three too).
const DROPPED: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "content-location",
    "payment-signature",
    "authorization",
    "cookie",
    "proxy-authorization",
    "mcp-session-id",
];
/// Headers a request turned into a GET leaves out.
const BODY_HEADERS: &[&str] = DROPPED.split_at(5).0;
/// Headers that do not go to another origin.
const SECRET_HEADERS: &[&str] = DROPPED.split_at(5).1;
/// The token's header, which the MCP negotiation's requests leave out.
const TOKEN_HEADER: &[&str] = SECRET_HEADERS.split_at(1).0;
/// Both.
const BODY_AND_SECRET_HEADERS: &[&str] = DROPPED;
/// As `fetch`: at most 20 redirects.
const MAX_REDIRECTS: u32 = 20;

/// The request being followed: where it went and how.
struct Current<'a> {
    method: String,
    /// The caller's redirect mode.
    mode: &'a str,
    /// The origin the token may go to.
    origin: Option<String>,
    /// The body is an MCP request (its token, its session).
    token_in_body: bool,
    hops: u32,
}

/// After a hop of a paid request: `None` when its answer is the attempt's,
/// else the next hop (see the module's rules).
fn after_hop(current: &mut Current<'_>, reply: &Reply) -> Result<Option<Hop>> {
    if reply.opaque {
        return Err(Error::Redirect {
            code: REDIRECT_NOT_FOLLOWED,
            message: "The agent answered the paid request with a redirect, and this runtime hides where it goes, so it was not followed with the payment token".into(),
        });
    }
    let Some(location) = reply.location.as_deref() else {
        return Ok(None);
    };
    if !matches!(reply.status, 301 | 302 | 303 | 307 | 308) || current.mode == "manual" {
        return Ok(None);
    }
    let failed = |message: String| Error::Redirect {
        code: "network_error",
        message,
    };
    if current.mode == "error" {
        return Err(failed(format!(
            "The agent redirected the request (HTTP {}) and redirect: 'error' was asked",
            reply.status
        )));
    }
    if current.hops == MAX_REDIRECTS {
        return Err(failed(format!(
            "The agent redirected the request more than {MAX_REDIRECTS} times"
        )));
    }
    if location.is_empty() {
        return Err(failed(
            "The agent redirected the request to an invalid URL".into(),
        ));
    }
    // A location this parser does not read (a non-ASCII host) counts as another origin.
    let next_origin = Url::parse(location).map(|u| u.origin());
    let same_origin = next_origin.is_some() && next_origin == current.origin;
    let to_get = match reply.status {
        303 => current.method != "HEAD",
        301 | 302 => current.method == "POST",
        _ => false,
    };
    if !same_origin && current.token_in_body && !to_get {
        return Err(Error::Redirect {
            code: REDIRECT_NOT_FOLLOWED,
            message: format!(
                "The agent redirected an MCP request to another origin ({}) with its body, which carries the payment token or the session; it was not followed",
                next_origin.as_deref().unwrap_or(location)
            ),
        });
    }
    let method = if to_get {
        "GET".to_owned()
    } else {
        current.method.clone()
    };
    current.hops += 1;
    current.method.clone_from(&method);
    Ok(Some(Hop {
        attempt: false,
        url: location.to_owned(),
        keep_body: method != "GET" && method != "HEAD",
        method,
        token: None,
        body: None,
        headers: Object::new(),
        drop: match (to_get, same_origin) {
            (false, true) => &[],
            (true, true) => BODY_HEADERS,
            (false, false) => SECRET_HEADERS,
            (true, false) => BODY_AND_SECRET_HEADERS,
        },
        // Without the token, another origin is followed by fetch's own rules.
        redirect: if same_origin { "manual" } else { current.mode }.to_owned(),
    }))
}

/// One attempt's last reply, and the receipt of a redirect that answered the paid request.
struct Sent {
    reply: Reply,
    receipt: Option<String>,
    /// An A2A stream's first events, handed to the caller as they came ([`a2a::StreamRead`]).
    #[cfg(feature = "a2a-client")]
    emitted: usize,
}

/// Sends `hop`, following its redirects by this module's rules when it is
/// sent `manual` (`mcp`: its body is an MCP request).
async fn follow<C: Courier>(courier: &C, req: &Outgoing, mut hop: Hop, mcp: bool) -> Result<Sent> {
    let mut current = Current {
        method: req.method.clone(),
        mode: &req.redirect,
        origin: Url::parse(&req.url).map(|u| u.origin()),
        token_in_body: mcp,
        hops: 0,
    };
    // Sent `manual` by the caller without a token: the 3xx is the answer.
    let by_hand = mcp || hop.token.is_some() || req.has_token;
    let mut receipt = None;
    loop {
        let reply = courier.send(&hop).await?;
        // Unpaid, or past another origin (no token any more): fetch's own rules.
        if !by_hand || hop.redirect != "manual" {
            return Ok(Sent {
                reply,
                receipt,
                #[cfg(feature = "a2a-client")]
                emitted: 0,
            });
        }
        match after_hop(&mut current, &reply)? {
            None => {
                return Ok(Sent {
                    reply,
                    receipt,
                    #[cfg(feature = "a2a-client")]
                    emitted: 0,
                })
            }
            Some(next) => {
                receipt = reply.payment_response.or(receipt);
                hop = next;
            }
        }
    }
}

/// The error of a body that broke off.
fn broke_off(status: u16, e: Error) -> Error {
    Error::InvalidResponse {
        status,
        message: format!("The agent's answer broke off: {e}"),
    }
}

/// What an attempt sends next.
#[derive(Clone, Copy, PartialEq)]
enum Next {
    /// The attempt itself (a `fetch` or `query`).
    Plain,
    /// `server/discover`.
    Probe,
    /// `initialize`.
    Initialize,
    /// `notifications/initialized`.
    Initialized,
    /// The `tools/call`.
    Call,
}

/// One attempt's requests: the attempt itself or, for a `tools/call`, first
/// those of the MCP negotiation when the server's revision isn't remembered.
/// (The decisions are plain functions and [`send`] one loop with one send and
/// one read: each `await` is a state of the future, and bytes in the `.wasm`.)
struct Attempt<'a> {
    call: &'a Call,
    req: &'a Outgoing,
    token: Option<&'a str>,
    next: Next,
    /// The revision the request is sent in (while negotiating: the probe's).
    era: Era,
    /// The revision was remembered (taken once its call was answered).
    remembered: bool,
    /// Where it is remembered: the URL and the caller's pin.
    endpoint: McpEndpoint,
}

impl<'a> Attempt<'a> {
    fn new(state: &ClientState, call: &'a Call, req: &'a Outgoing, token: Option<&'a str>) -> Self {
        let pin = match call {
            Call::Tool { pin, .. } => Some(*pin),
            _ => None,
        };
        let endpoint = (req.url.clone(), pin.unwrap_or(Pin::Auto));
        // A caller who set `mcp-session-id` has their own 2025 session: the call goes as they made it.
        let remembered = match (pin, &req.mcp_session) {
            (None, _) => None,
            (Some(_), Some(_)) => Some(Era::Legacy {
                version: None,
                session: None,
            }),
            (Some(_), None) => state.mcp_era(&endpoint),
        };
        let mut attempt = Attempt {
            call,
            req,
            token,
            next: if pin.is_some() {
                Next::Call
            } else {
                Next::Plain
            },
            era: Era::Modern,
            remembered: remembered.is_some(),
            endpoint,
        };
        match remembered {
            Some(era) => attempt.era = era,
            None if pin.is_some() => attempt.negotiate(),
            None => {}
        }
        attempt
    }

    /// Starts the negotiation: the probe, or `initialize` when the caller pinned 2025-11-25.
    fn negotiate(&mut self) {
        self.era = Era::Modern;
        self.next = if self.endpoint.1 == Pin::Legacy {
            Next::Initialize
        } else {
            Next::Probe
        };
    }

    /// The next request.
    #[inline(never)]
    fn hop(&self) -> Result<Hop> {
        let req = self.req;
        // A token the caller put on the request themselves is kept to its origin the same way.
        let carries_token = self.token.is_some() || req.has_token;
        let (body, headers) = match (self.next, self.call) {
            // A2A: JSON-RPC too, its token in the message (in band).
            #[cfg(feature = "a2a-client")]
            (Next::Plain, Call::A2a(m)) => {
                let body = a2a::message_send(m, self.token)?;
                (Some(to_text(&body)), Object::new())
            }
            (Next::Plain, _) => (None, Object::new()),
            (Next::Probe, _) => (
                Some(mcp::PROBE.to_owned()),
                self.era.headers("server/discover", None),
            ),
            (Next::Initialize, _) => (Some(mcp::INITIALIZE.to_owned()), Object::new()),
            (Next::Initialized, _) => (
                Some(mcp::INITIALIZED.to_owned()),
                self.era.headers("", None),
            ),
            (
                Next::Call,
                Call::Tool {
                    id,
                    name,
                    arguments,
                    ..
                },
            ) => {
                let body = mcp_tool_call(id, name, arguments, self.token, self.era == Era::Modern)?;
                (
                    Some(to_text(&body)),
                    self.era.headers("tools/call", Some(name)),
                )
            }
            (Next::Call, _) => return Err(Error::validation("not a tool call")),
        };
        let mcp = body.is_some();
        Ok(Hop {
            attempt: true,
            url: req.url.clone(),
            method: req.method.clone(),
            token: self.token.filter(|_| !mcp).map(str::to_owned),
            body,
            keep_body: true,
            // The negotiation's requests carry no token, not even the caller's own.
            drop: match self.next {
                Next::Plain | Next::Call => &[],
                _ => TOKEN_HEADER,
            },
            headers,
            redirect: if carries_token || mcp {
                "manual"
            } else {
                req.redirect.as_str()
            }
            .to_owned(),
        })
    }

    /// Reads the answer to [`Attempt::hop`]: `true` when it is the attempt's.
    #[inline(never)]
    fn read(&mut self, state: &ClientState, reply: &mut Reply, text: &str) -> Result<bool> {
        let status = reply.status;
        self.next = match self.next {
            Next::Plain => return Ok(true),
            Next::Probe if mcp::probe_says_modern(status, text, self.endpoint.1)? => Next::Call,
            Next::Probe => Next::Initialize,
            Next::Initialize => {
                let version = mcp::initialized_version(status, text)?;
                let session = reply.session.take();
                // A server without a session can't tell whose notifications/initialized it would be.
                let next = if session.is_some() {
                    Next::Initialized
                } else {
                    Next::Call
                };
                self.era = Era::Legacy {
                    version: Some(version),
                    session,
                };
                next
            }
            Next::Initialized if (200..300).contains(&status) => Next::Call,
            Next::Initialized => {
                return Err(mcp::http_failure("notifications/initialized", status, None))
            }
            Next::Call => {
                if self.req.mcp_session.is_some() {
                    return Ok(true);
                }
                let refused = mcp::refused_as_stale(status);
                let remembered = std::mem::take(&mut self.remembered);
                if refused && remembered {
                    // Redeployed, restarted, its session gone: negotiated again, the call sent once more.
                    state.forget_mcp_era(&self.endpoint);
                    self.negotiate();
                    return Ok(false);
                }
                if !refused && !remembered {
                    state.keep_mcp_era(self.endpoint.clone(), self.era.clone());
                }
                return Ok(true);
            }
        };
        Ok(false)
    }
}

/// Sends one attempt of the call and, unless it is a `fetch`, reads its
/// answer: a `tools/call` in the revision the server speaks, the one
/// remembered for its URL, else negotiated first (see the module's round
/// trips). One the server refuses ([`mcp::refused_as_stale`]) when it was
/// remembered is forgotten, negotiated again and the call sent once more.
async fn send<C: Courier>(
    state: &ClientState,
    courier: &C,
    call: &Call,
    req: &Outgoing,
    token: Option<&str>,
) -> Result<Sent> {
    let mut attempt = Attempt::new(state, call, req, token);
    loop {
        let hop = attempt.hop()?;
        let probe = attempt.next == Next::Probe;
        let mcp = hop.body.is_some();
        let mut sent = match follow(courier, req, hop, mcp).await {
            // A browser reports a refused CORS preflight (a 2025 server that does not allow
            // the 2026 headers) as a network error: as the official client there, fall back.
            // A server that is really down fails the initialize the same way.
            Err(Error::Unreachable(_)) if probe && attempt.endpoint.1 == Pin::Auto => {
                attempt.next = Next::Initialize;
                continue;
            }
            sent => sent?,
        };
        if matches!(call, Call::Fetch) {
            return Ok(sent);
        }
        let status = sent.reply.status;
        // The body, read whole; an A2A stream as it comes, its events handed over on the way.
        #[cfg(feature = "a2a-client")]
        let mut stream = match call {
            Call::A2a(m) if m.stream && (200..300).contains(&status) => {
                Some((m, a2a::StreamRead::default()))
            }
            _ => None,
        };
        #[cfg(not(feature = "a2a-client"))]
        let text = courier.text().await.map_err(|e| broke_off(status, e))?;
        #[cfg(feature = "a2a-client")]
        let mut ask = String::from(if stream.is_some() { "[]" } else { "text" });
        #[cfg(feature = "a2a-client")]
        let text = loop {
            let piece = courier.read(&ask).await.map_err(|e| broke_off(status, e))?;
            if let Some((m, read)) = &mut stream {
                if let Some(piece) = piece {
                    ask = read.feed(&piece, m);
                    continue;
                }
                sent.emitted = read.emitted;
                break std::mem::take(&mut read.text);
            }
            break piece.unwrap_or_default();
        };
        if attempt.read(state, &mut sent.reply, &text)? {
            sent.reply.text = Some(text);
            return Ok(sent);
        }
    }
}

/// Runs one paying call to its end: `fetch` resolves to `{paymentResponse}`
/// (the adapter answers its last Response with it), `query` to the agent's
/// JSON, `tool` to `{result, paymentResponse}`. `options`: the call's
/// payment options (for `query` and `tool`, `eager` unless they say).
pub async fn pay<T: Transport, C: Courier>(
    p: &Payments<T>,
    call: &Call,
    req: &Outgoing,
    options: &Value,
    courier: &C,
) -> Result<Value> {
    let mut opts = PayOptions::from_json(options)?;
    // (A2A pays up front as fetchWithPayment does: with one allowed plan.)
    let up_front = match call {
        Call::Fetch => false,
        #[cfg(feature = "a2a-client")]
        Call::A2a(_) => false,
        _ => true,
    };
    if up_front && options.get("eager").is_none() {
        opts.eager = true;
    }
    let mut last: Option<(Outcome, Answer)> = None;
    loop {
        // An A2A task call is sent once, with no token: nothing is paid on it.
        #[cfg(feature = "a2a-client")]
        let step = match (call, &last) {
            (Call::A2a(m), None) if m.task_call.is_some() => Step::Send(None),
            (Call::A2a(m), Some(_)) if m.task_call.is_some() => Step::Stop,
            _ => next_step(p, req, &opts, last.as_ref().map(|(o, _)| o)).await?,
        };
        // A decision about the last answer (maxCredits, plans) leaves it with the caller.
        #[cfg(not(feature = "a2a-client"))]
        let step = next_step(p, req, &opts, last.as_ref().map(|(o, _)| o)).await?;
        let Step::Send(token) = step else {
            break;
        };
        let (token, source) = token.unzip();
        // A2A: this attempt's message (its JSON-RPC id, the task it pays).
        #[cfg(feature = "a2a-client")]
        let this = a2a_attempt(call, last.as_ref().map(|(_, a)| a));
        #[cfg(feature = "a2a-client")]
        let call = this.as_ref().unwrap_or(call);
        let read = async {
            let sent = send(p.client_state(), courier, call, req, token.as_deref()).await?;
            answer(call, sent, source)
        };
        match read.await {
            Ok(read) => last = Some(read),
            Err(e) => {
                // No answer for the caller: a redirect not followed, an agent out of reach.
                courier.discard();
                return Err(e);
            }
        }
    }
    let (outcome, answer) = last.ok_or_else(|| Error::validation("nothing was sent"))?;
    conclude(outcome, answer).inspect_err(|_| {
        if !matches!(call, Call::Fetch) {
            courier.discard(); // its body was read into the error
        }
    })
}

#[cfg(feature = "a2a-client")]
/// `payments.a2a.getClient`: fetches the agent card (`agentBaseUrl`, the
/// request's URL, joined with `agentCardPath`, default [`CARD_PATH`]; a plain
/// GET through the transport: it carries nothing of the caller's) and reads
/// it against the call's options ([`a2a::read_card`]): `{url, agentId}`,
/// where the messages go and the agent they pay (the caller's, else the
/// card's). A card that could not be fetched (not 2xx, or no answer) is
/// `{cause, from, to}`: that error (as `PaymentsError`'s fields), the path
/// tried and the legacy path [`LEGACY_CARD_PATH`] to ask next (`a2a-client.js`
/// warns, asks it, and gives its failure this one as the `cause`, as the
/// official client does); a card read and refused is the error. Asked for
/// the legacy path, a failure is the error.
pub async fn a2a_card<T: Transport>(
    p: &Payments<T>,
    req: &Outgoing,
    options: &Value,
) -> Result<Value> {
    let mut opts = PayOptions::from_json(options)?;
    let path = json::opt_str(
        json::object(options, "getClient")?,
        "agentCardPath",
        "getClient",
    )?
    .unwrap_or(CARD_PATH);
    let request = HttpRequest {
        method: "GET",
        url: join(&req.url, path),
        headers: Vec::new(),
        body: None,
    };
    let failure = match p.transport().send(request).await {
        Ok(card) if (200..300).contains(&card.status) => {
            let url = a2a::read_card(&card.body, &req.url, &mut opts)?;
            return Ok(ObjectBuilder::new()
                .put("url", url)
                .put("agentId", opts.agent_id)
                .build());
        }
        Ok(card) => Error::Http {
            status: card.status,
            message: "The agent card was not found under agentBaseUrl".into(),
        },
        Err(e) => e,
    };
    if path == LEGACY_CARD_PATH {
        return Err(failure);
    }
    Ok(ObjectBuilder::new()
        .put("cause", failure.to_json())
        .put("from", path)
        .put("to", LEGACY_CARD_PATH)
        .build())
}

/// A2A: the message of the next attempt: the next JSON-RPC id, on the task
/// the last answer asked to be paid for (none before the first).
#[cfg(feature = "a2a-client")]
fn a2a_attempt(call: &Call, last: Option<&Answer>) -> Option<Call> {
    let Call::A2a(m) = call else { return None };
    let mut next = m.clone();
    if let Some(Answer::A2a(read)) = last {
        next.rpc_id = read.rpc_id + 1;
        next.task_id.clone_from(&read.waiting_task);
    }
    Some(Call::A2a(next))
}

/// What an attempt's answer says, beyond its [`Outcome`].
enum Answer {
    /// An HTTP answer (its text when read).
    Http(Option<String>, bool),
    /// A tool's result.
    Tool(Value),
    /// An A2A agent's JSON-RPC answer.
    #[cfg(feature = "a2a-client")]
    A2a(a2a::A2aAnswer),
}

/// Reads an attempt's last reply into the next decision's [`Outcome`].
fn answer(call: &Call, sent: Sent, source: Option<super::Source>) -> Result<(Outcome, Answer)> {
    let Sent {
        reply,
        receipt,
        #[cfg(feature = "a2a-client")]
            emitted: sent_emitted,
    } = sent;
    let decode = |h: Option<&str>| h.and_then(|h| decode_payment_header(h).ok());
    let ok = (200..300).contains(&reply.status);
    #[cfg(feature = "a2a-client")]
    if let (Call::A2a(m), true) = (call, ok) {
        // A task asking for payment is the A2A form of a 402; its receipt is checked like an HTTP one.
        let mut read = a2a::read_answer(reply.text.as_deref().unwrap_or(""), m)?;
        // (The events the caller already has are not in the answer.)
        if let Value::Array(events) = &mut read.response {
            *events = events.split_off(sent_emitted.min(events.len()));
        }
        let outcome = Outcome {
            status: if read.asks_payment { 402 } else { 200 },
            payment_required: read.payment_required.clone(),
            payment_response: read.receipt.clone(),
            source,
        };
        return Ok((outcome, Answer::A2a(read)));
    }
    if let (Call::Tool { .. }, true) = (call, ok) {
        // A tool result that asks for payment is the MCP form of a 402; its receipt is checked like an HTTP one.
        let read = mcp_read_result(reply.text.as_deref().unwrap_or(""))?;
        let outcome = Outcome {
            status: if read.payment_required.is_some() {
                402
            } else {
                200
            },
            payment_required: read.payment_required,
            payment_response: read.payment_response,
            source,
        };
        return Ok((outcome, Answer::Tool(read.result)));
    }
    let outcome = Outcome {
        status: reply.status,
        payment_required: decode(reply.payment_required.as_deref()),
        payment_response: match call {
            Call::Tool { .. } => None,
            #[cfg(feature = "a2a-client")]
            Call::A2a(_) => None,
            _ => decode(reply.payment_response.as_deref().or(receipt.as_deref())),
        },
        source,
    };
    Ok((
        outcome,
        Answer::Http(reply.text, matches!(call, Call::Fetch)),
    ))
}

/// The call's answer from its last attempt.
fn conclude(outcome: Outcome, answer: Answer) -> Result<Value> {
    match answer {
        Answer::Http(_, true) => Ok(ObjectBuilder::new()
            .put(
                "paymentResponse",
                outcome.payment_response.map_or(Value::Null, Value::Object),
            )
            .build()),
        Answer::Http(text, false) => super::conclude_query(
            outcome.status,
            text.as_deref().unwrap_or(""),
            outcome.payment_required,
        ),
        Answer::Tool(_) if outcome.status == 402 => {
            Err(still_asks(outcome, "the MCP tool requires payment"))
        }
        #[cfg(feature = "a2a-client")]
        Answer::A2a(_) if outcome.status == 402 => {
            Err(still_asks(outcome, "the A2A agent requires payment"))
        }
        Answer::Tool(result) => Ok(ObjectBuilder::new()
            .put("result", result)
            .put(
                "paymentResponse",
                outcome.payment_response.map_or(Value::Null, Value::Object),
            )
            .build()),
        // The JSON-RPC response as the official client answers it (a stream: its last), and the receipt.
        #[cfg(feature = "a2a-client")]
        Answer::A2a(read) => {
            let mut response = read.response;
            let last = match &mut response {
                Value::Array(events) => events.last_mut(),
                one => Some(one),
            };
            if let Some(o) = last.and_then(Value::as_object_mut) {
                o.insert(
                    "paymentResponse".into(),
                    outcome.payment_response.map_or(Value::Null, Value::Object),
                );
            }
            Ok(response)
        }
    }
}

/// The `payment_required` error of an agent that still asks for payment in
/// band, with the server's reason (its PaymentRequired's `error`): "buy
/// credits" and "the server is misconfigured" read differently.
fn still_asks(outcome: Outcome, default: &str) -> Error {
    let reason = outcome
        .payment_required
        .as_ref()
        .and_then(|pr| pr.get("error"))
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .unwrap_or(default)
        .to_owned();
    super::payment_required_error(Some(&reason), outcome.payment_required)
}

#[cfg(all(feature = "mpp", feature = "subscriber"))]
pub mod mpp;
#[cfg(test)]
mod tests;
