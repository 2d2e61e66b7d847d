//! Signing in from a web page: every decision of
//! `Payments.getBrowserInstance` and `connect()` (pkg-template/signin.js only
//! reads and writes `location`, `history` and the storages).
//!
//! The hosted web app's contract, as it is: `connect()` sends the browser to
//! `<web app>/login?returnUrl=<returnUrl>`, and after sign-in the app comes
//! back to `returnUrl?nvmApiKey=<key>&accountAddress=0x...`. The app carries
//! `returnUrl` through as given, so a one-time `nvmState` put inside it comes
//! back too: a return is accepted only when its `nvmState` is the one this
//! tab stored when it left (compared in constant time), so a link made by
//! someone else (login CSRF: signing the victim into the attacker's account)
//! or an old return replayed is refused.
//!
//! Card setup (`setupCard()`), the embed app's contract as the official CLI
//! uses it (`markdown/cli-card-setup.md`): a session minted with the key
//! (`widgets.createSelfSession`), then `<embed>/cards/setup?sessionToken&
//! returnUrl&state&provider&network`, which comes back to
//! `returnUrl?paymentMethodId&delegationId&state`. The same rules: a one-time
//! `state` kept in this tab, compared in constant time and used up, and the
//! returned parameters removed from the address before anything reads them.

use super::api_key::ApiKey;
use super::environment::Environment;
use super::json::{self, ObjectBuilder, Value};
use super::url::{percent_decode, Url};
use crate::error::{Error, Result};

/// The query parameter of `returnUrl` that carries the one-time state.
pub const STATE_PARAM: &str = "nvmState";
/// The query parameter the web app returns the API key in.
pub const KEY_PARAM: &str = "nvmApiKey";
/// The query parameter the web app returns the account's address in.
pub const ADDRESS_PARAM: &str = "accountAddress";

/// `code` of a return that is refused (wrong, missing or reused state; no key,
/// or a key of another environment).
pub use crate::error::{CARD_SETUP_REFUSED, SIGNIN_REFUSED};

/// The query parameter the embed app echoes the card-setup state in.
pub const CARD_STATE_PARAM: &str = "state";
/// The query parameter the embed app returns the enrolled card in.
pub const PAYMENT_METHOD_PARAM: &str = "paymentMethodId";
/// The query parameter the embed app returns the new delegation in.
pub const DELEGATION_PARAM: &str = "delegationId";
/// Every parameter a return of either app brings back (none is left in a `returnUrl` we send).
const RETURNED: [&str; 6] = [
    STATE_PARAM,
    KEY_PARAM,
    ADDRESS_PARAM,
    CARD_STATE_PARAM,
    PAYMENT_METHOD_PARAM,
    DELEGATION_PARAM,
];

/// Where a browser instance keeps its key between reloads (`keyStorage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStorage {
    /// Nowhere: a reload is signed out (the default).
    Memory,
    /// This tab's `sessionStorage`: kept across reloads, gone with the tab.
    Session,
    /// `localStorage`: only when the caller asks for it.
    Local,
}

impl KeyStorage {
    /// The JS global's name, `None` for memory.
    pub fn global(self) -> Option<&'static str> {
        match self {
            Self::Memory => None,
            Self::Session => Some("sessionStorage"),
            Self::Local => Some("localStorage"),
        }
    }
}

/// The options of `Payments.getBrowserInstance` that sign-in reads.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Where the web app sends the browser back (absolute http(s)).
    pub return_url: String,
    /// The environment (from `environment`).
    pub environment: Environment,
    /// The web app's origin (sign-in page).
    pub web_app: String,
    /// The embed app's origin (the card pages).
    pub embed: String,
    /// Where the key is kept between reloads.
    pub key_storage: KeyStorage,
}

/// An origin for the key to go to: `https:`, or `http:` to this machine.
fn app_origin(url: &str) -> Result<String> {
    match Url::parse(url) {
        Some(u) if u.scheme == "https" || (u.scheme == "http" && u.host.is_loopback()) => {
            Ok(u.origin())
        }
        _ => Err(Error::validation(
            "frontendUrl, embedUrl and backendUrl must be https: URLs (or http: to localhost)",
        )),
    }
}

impl BrowserOptions {
    /// Reads and checks the options; the official message when `returnUrl` is missing.
    #[inline(never)] // one copy in the .wasm for the four functions that read them
    pub fn from_json(v: &Value) -> Result<Self> {
        const WHAT: &str = "options";
        let o = json::opt_object(Some(v), WHAT)?
            .ok_or_else(|| Error::validation("returnUrl is required"))?;
        let text = |key: &str| -> Result<Option<&str>> {
            Ok(json::opt_str(o, key, WHAT)?
                .map(str::trim)
                .filter(|s| !s.is_empty()))
        };
        let return_url =
            text("returnUrl")?.ok_or_else(|| Error::validation("returnUrl is required"))?;
        // The key comes back in this URL: never over plain http: to another machine.
        if !Url::parse(return_url).is_some_and(|u| {
            (u.scheme == "https" || (u.scheme == "http" && u.host.is_loopback()))
                && !u.has_credentials
        }) {
            return Err(Error::validation(
                "returnUrl must be an absolute https: URL (or http: to localhost) without a user name or password",
            ));
        }
        let environment = text("environment")?
            .and_then(Environment::from_name)
            .ok_or_else(|| Error::validation("getBrowserInstance: environment must be one of sandbox, live, staging_sandbox, staging_live, local, custom (no key names it before sign-in)"))?;
        // The local environment's apps are nvm-local itself (its own origin).
        let backend = text("backendUrl")?.or(environment.backend_url());
        let mut apps =
            [environment.frontend_url(), environment.embed_url()].map(|u| u.map(str::to_owned));
        for (i, option) in ["frontendUrl", "embedUrl"].into_iter().enumerate() {
            apps[i] = match (text(option)?, environment) {
                (Some(url), _) => Some(app_origin(url)?),
                (None, Environment::Local) => Some(app_origin(backend.unwrap_or(""))?),
                (None, _) => apps[i].take(),
            };
        }
        let [Some(web_app), Some(embed)] = apps else {
            return Err(Error::validation(
                "frontendUrl and embedUrl are required for the custom environment",
            ));
        };
        let key_storage = match text("keyStorage")? {
            None | Some("memory") => KeyStorage::Memory,
            Some("sessionStorage") => KeyStorage::Session,
            Some("localStorage") => KeyStorage::Local,
            Some(_) => {
                return Err(Error::validation(
                    "keyStorage must be 'memory', 'sessionStorage' or 'localStorage'",
                ))
            }
        };
        Ok(BrowserOptions {
            return_url: return_url.to_owned(),
            web_app,
            embed,
            environment,
            key_storage,
        })
    }
}

/// Percent-encodes a query component as `encodeURIComponent` does.
pub fn encode_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'~' | b'!' | b'*' | b'(' | b')' | b'\''
            )
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

/// A URL cut into what comes before its query, its query's pairs (raw) and its fragment (with `#`).
struct Parts<'a> {
    base: &'a str,
    pairs: Vec<&'a str>,
    fragment: &'a str,
}

impl<'a> Parts<'a> {
    fn of(href: &'a str) -> Self {
        let (rest, fragment) = match href.split_once('#') {
            Some((rest, _)) => (rest, href.get(rest.len()..).unwrap_or("")),
            None => (href, ""),
        };
        let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
        Parts {
            base,
            pairs: query.split('&').filter(|p| !p.is_empty()).collect(),
            fragment,
        }
    }

    /// The decoded name of a pair (`+` is a space, as URLSearchParams reads it).
    fn name(pair: &str) -> String {
        decode(pair.split_once('=').map_or(pair, |(n, _)| n))
    }

    /// The decoded value of the first pair with this name.
    fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|p| Self::name(p) == name)
            .map(|p| decode(p.split_once('=').map_or("", |(_, v)| v)))
    }

    /// The URL without the pairs named in `drop`, and with `add` appended.
    fn rebuild(&self, drop: &[&str], add: &[(&str, &str)]) -> String {
        let mut out = String::from(self.base);
        let mut first = true;
        let mut push = |out: &mut String, pair: &str| {
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(pair);
        };
        for pair in &self.pairs {
            let name = Self::name(pair);
            if !drop.iter().any(|d| *d == name) {
                push(&mut out, pair);
            }
        }
        for (name, value) in add {
            let mut pair = encode_component(name);
            pair.push('=');
            pair.push_str(&encode_component(value));
            push(&mut out, &pair);
        }
        out.push_str(self.fragment);
        out
    }
}

fn decode(s: &str) -> String {
    let mut plus = String::with_capacity(s.len());
    for c in s.chars() {
        plus.push(if c == '+' { ' ' } else { c });
    }
    // Not UTF-8 is nothing this package wrote: read as empty.
    String::from_utf8(percent_decode(&plus)).unwrap_or_default()
}

/// `url` with these parameters appended to its query (before any fragment),
/// encoded; earlier parameters of the same names are dropped first.
pub fn with_params(url: &str, params: &[(&str, &str)]) -> String {
    let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
    Parts::of(url).rebuild(&names, params)
}

/// The decoded `name=value` pairs of a query string or form body (`+` is a space).
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n), decode(v))
        })
        .collect()
}

/// Whether two strings are equal, in time that depends on their lengths only.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A state as this package makes them: 32 hex characters (16 random bytes).
fn check_state(state: &str) -> Result<()> {
    if state.len() == 32 && state.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::validation(
            "the state must be 16 random bytes as 32 hex characters",
        ))
    }
}

/// `connect()`'s destination: `<web app>/login?returnUrl=<returnUrl with nvmState=state>`, encoded.
pub fn sign_in_url(options: &BrowserOptions, state: &str) -> Result<String> {
    check_state(state)?;
    let back = Parts::of(&options.return_url).rebuild(&RETURNED, &[(STATE_PARAM, state)]);
    let mut url = options.web_app.clone();
    url.push_str("/login?returnUrl=");
    url.push_str(&encode_component(&back));
    Ok(url)
}

/// Where the embed app returns after card setup: `returnUrl` without any
/// parameter a return brings back (a page's own `state` included: the app
/// appends its own). The session is minted for exactly this URL.
pub fn card_return_url(options: &BrowserOptions) -> String {
    Parts::of(&options.return_url).rebuild(&RETURNED, &[])
}

/// `setupCard(setup)`, in two steps: without `session`, the body of the
/// session to mint (`{orgId?, returnUrl}`, [`card_return_url`]); with the
/// answer of `widgets.createSelfSession`, the embed app's page:
/// `<embed>/cards/setup?sessionToken&returnUrl&state&provider&network`, each
/// encoded. `setup`: `{orgId?, provider?}` (`stripe`, `braintree` or `visa`;
/// default `stripe`), checked before anything is minted. A session the
/// backend says it won't return from (`isReturnUrlAllowed: false`) is refused
/// before anything is opened.
pub fn card_setup(
    options: &BrowserOptions,
    setup: &Value,
    session: Option<&Value>,
    state: &str,
) -> Result<Value> {
    const WHAT: &str = "setupCard";
    check_state(state)?;
    let setup = json::opt_object(Some(setup), WHAT)?;
    let field = |key| setup.map_or(Ok(None), |o| json::opt_str(o, key, WHAT));
    let (org, provider) = (field("orgId")?, field("provider")?.unwrap_or("stripe"));
    if !matches!(provider, "stripe" | "braintree" | "visa") {
        return Err(Error::validation(
            "setupCard: provider must be 'stripe', 'braintree' or 'visa'",
        ));
    }
    let back = card_return_url(options);
    let Some(session) = session else {
        return Ok(ObjectBuilder::new()
            .put_opt("orgId", org)
            .put("returnUrl", back)
            .build());
    };
    let token = session
        .get("sessionToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::validation("setupCard: the session has no sessionToken"))?;
    if session.get("isReturnUrlAllowed").and_then(Value::as_bool) == Some(false) {
        return Err(Error::ReturnRefused {
            code: CARD_SETUP_REFUSED,
            message: "The backend will not return from card setup to this page (isReturnUrlAllowed: false); nothing was opened",
            hint: "Nevermined's hosted backend returns a self-minted session only to localhost; nvm-local to loopback or an --allow-origin origin.",
        });
    }
    let network = match options.environment {
        Environment::Live | Environment::StagingLive => "live",
        _ => "sandbox",
    };
    let mut url = options.embed.clone();
    url.push_str("/cards/setup");
    Ok(Value::from(Parts::of(&url).rebuild(
        &[],
        &[
            ("sessionToken", token),
            ("returnUrl", &back),
            (CARD_STATE_PARAM, state),
            ("provider", provider),
            ("network", network),
        ],
    )))
}

/// What `getBrowserInstance` does with the page's address and storage.
#[derive(Debug, Default)]
pub struct Landing {
    /// Where `connect()` goes, with the state the facade made for it ([`sign_in_url`]).
    pub sign_in_url: String,
    /// The storage the key is kept in (`sessionStorage`, `localStorage`; `None`: memory).
    pub key_storage: Option<&'static str>,
    /// The address without the returned parameters (for `history.replaceState`), when it had any.
    pub url: Option<String>,
    /// The key the instance uses (`None`: signed out).
    pub key: Option<String>,
    /// Write `key` to the key storage (a new sign-in).
    pub store_key: bool,
    /// Remove the stored key (unreadable, or of another environment).
    pub forget_key: bool,
    /// The sign-in state was used (remove it: one return per `connect()`).
    pub sign_in_state_used: bool,
    /// Why a sign-in return was refused (code [`SIGNIN_REFUSED`]).
    pub sign_in_error: Option<&'static str>,
    /// A card-setup return this tab started: `(paymentMethodId, delegationId)`.
    pub card_setup: Option<(String, String)>,
    /// Why a card-setup return was refused (code [`CARD_SETUP_REFUSED`]).
    pub card_setup_error: Option<&'static str>,
    /// The card-setup state was used (remove it: one return per `setupCard()`).
    pub card_state_used: bool,
}

/// Whether a returned state is the one this tab stored (constant time; none stored: no).
fn state_matches(stored: Option<&str>, returned: Option<&str>) -> bool {
    stored
        .zip(returned)
        .is_some_and(|(mine, theirs)| same_secret(mine, theirs))
}

/// An id the embed app returns: 1 to 128 of `A-Z a-z 0-9 - _ . :`.
fn returned_id(id: Option<String>) -> Option<String> {
    id.filter(|id| {
        (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    })
}

/// Whether `key` is a key this environment's app would give.
fn key_of(options: &BrowserOptions, key: &str) -> Option<ApiKey> {
    let key = ApiKey::parse(key).ok()?;
    let env = key.prefix().and_then(Environment::from_key_prefix);
    (env == Some(options.environment)
        || (env.is_none() && options.environment == Environment::Custom))
        .then_some(key)
}

/// Reads the page's address on load (and says where `connect()` would go
/// with `next_state`): a sign-in return (`nvmApiKey`, `accountAddress`,
/// `nvmState`), checked against the state this tab stored (`sign_in_state`),
/// and a card-setup return (`paymentMethodId`, `delegationId`, `state`),
/// checked against `card_state`; `saved` is what the storages hold under
/// the key's name (`{sessionStorage, localStorage}`): only the one
/// `keyStorage` names is read.
pub fn landing(
    options: &BrowserOptions,
    href: &str,
    sign_in_state: Option<&str>,
    saved: &Value,
    next_state: &str,
    card_state: Option<&str>,
) -> Result<Landing> {
    let parts = Parts::of(href);
    let mut out = Landing {
        key_storage: options.key_storage.global(),
        sign_in_url: sign_in_url(options, next_state)?,
        ..Landing::default()
    };
    let saved = out
        .key_storage
        .and_then(|name| saved.get(name))
        .and_then(Value::as_str);
    let mut drop: Vec<&str> = Vec::new();
    out.key = saved
        .and_then(|k| key_of(options, k))
        .map(|k| k.expose().to_owned());
    out.forget_key = saved.is_some() && out.key.is_none();

    let returned_key = parts.get(KEY_PARAM);
    let returned_state = parts.get(STATE_PARAM);
    if returned_key.is_some() || returned_state.is_some() || parts.get(ADDRESS_PARAM).is_some() {
        drop.extend([KEY_PARAM, ADDRESS_PARAM, STATE_PARAM]);
        out.sign_in_state_used = sign_in_state.is_some();
        let state_ok = state_matches(sign_in_state, returned_state.as_deref());
        let verdict = match (returned_key.as_deref().filter(|k| !k.is_empty()), state_ok) {
            (None, _) => Err("The sign-in return carries no API key"),
            (Some(_), false) => Err("The sign-in return was refused: its state is not the one this tab started with connect() (a link made elsewhere, or a return used twice). Nothing was signed in; call connect() again."),
            (Some(key), true) => match key_of(options, key) {
                None => Err("The sign-in return was refused: its API key is not a key of this client's environment"),
                // The account is the key's own (`sub`); the returned accountAddress is only dropped.
                Some(parsed) => Ok(parsed.expose().to_owned()),
            },
        };
        match verdict {
            Ok(key) => {
                out.key = Some(key);
                out.store_key = options.key_storage != KeyStorage::Memory;
                out.forget_key = false;
            }
            Err(why) => out.sign_in_error = Some(why),
        }
    }

    // A card-setup return names what it made; a page's own `state` alone is not one.
    let (method, delegation) = (parts.get(PAYMENT_METHOD_PARAM), parts.get(DELEGATION_PARAM));
    if method.is_some() || delegation.is_some() {
        drop.extend([PAYMENT_METHOD_PARAM, DELEGATION_PARAM, CARD_STATE_PARAM]);
        out.card_state_used = card_state.is_some();
        if !state_matches(card_state, parts.get(CARD_STATE_PARAM).as_deref()) {
            out.card_setup_error = Some("The card-setup return was refused: its state is not the one this tab started with setupCard() (a link made elsewhere, or a return used twice); nothing was kept");
        } else if let (Some(method), Some(delegation)) =
            (returned_id(method), returned_id(delegation))
        {
            out.card_setup = Some((method, delegation));
        } else {
            out.card_setup_error =
                Some("The card-setup return carries no usable paymentMethodId and delegationId");
        }
    }

    if !drop.is_empty() {
        out.url = Some(parts.rebuild(&drop, &[]));
    }
    Ok(out)
}

/// What a refused sign-in return says to do.
pub const REFUSED_HINT: &str =
    "Start again from this tab (payments.connect()); a link made elsewhere is never accepted.";
/// What a refused card-setup return says to do.
pub const CARD_REFUSED_HINT: &str =
    "Start again from this tab (payments.setupCard()); a link made elsewhere is never accepted.";

fn refused(code: &'static str, message: &'static str, hint: &'static str) -> Value {
    error_json(&Error::ReturnRefused {
        code,
        message,
        hint,
    })
}

/// `{code, message, hint}`, as `new PaymentsError(...)` takes it (not
/// [`Error::to_json`], which would bring its other fields' code into the core).
fn error_json(e: &Error) -> Value {
    ObjectBuilder::new()
        .put("code", e.code().as_ref())
        .put("message", e.to_string())
        .put("hint", e.hint().as_ref())
        .build()
}

impl Landing {
    /// As the facade reads it.
    pub fn to_json(&self) -> Value {
        ObjectBuilder::new()
            .put_opt("keyStorage", self.key_storage)
            .put("signInUrl", self.sign_in_url.as_str())
            .put_opt("url", self.url.as_deref())
            .put_opt("key", self.key.as_deref())
            .put("storeKey", self.store_key)
            .put("forgetKey", self.forget_key)
            .put("signInStateUsed", self.sign_in_state_used)
            .put_opt(
                "signInError",
                self.sign_in_error
                    .map(|m| refused(SIGNIN_REFUSED, m, REFUSED_HINT)),
            )
            .put_opt(
                "cardSetup",
                self.card_setup.as_ref().map(|(method, delegation)| {
                    ObjectBuilder::new()
                        .put(PAYMENT_METHOD_PARAM, method.as_str())
                        .put(DELEGATION_PARAM, delegation.as_str())
                        .build()
                }),
            )
            .put_opt(
                "cardSetupError",
                self.card_setup_error
                    .map(|m| refused(CARD_SETUP_REFUSED, m, CARD_REFUSED_HINT)),
            )
            .put("cardStateUsed", self.card_state_used)
            .build()
    }
}

#[cfg(test)]
mod tests;
