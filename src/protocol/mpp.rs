//! The MPP (Machine Payments Protocol) wire format: a port of the official
//! SDK's `src/mpp/codec.ts`, with the same behaviour and messages.
//!
//! The one rule that matters: the backend re-derives the challenge id as an
//! HMAC over `realm|method|intent|canonicalize(request)|expires|digest|opaque`
//! from the fields carried inside the credential, so `request` and `opaque`
//! travel as the exact base64url strings received: nothing here re-encodes them.
//!
//! Differences from the official codec, all stricter:
//! - base64url is decoded strictly ([`base64::decode`]: either alphabet,
//!   padded or not), where Node's `Buffer` silently drops invalid characters
//!   (whitespace included); such a value gets the same "Could not decode"
//!   error (or `None`) as undecodable JSON, and the text after that prefix
//!   is ours, not V8's `SyntaxError` message;
//! - decoded bytes must be UTF-8 (Node replaces bad sequences with U+FFFD).
//!
//! Scanning is by byte where the official scans UTF-16 code units: every
//! delimiter is ASCII, so the results are the same; whitespace is JavaScript's
//! `\s` ([`is_space`]). Everything is total and O(n).

use super::base64;
use super::json::{self, to_text, ObjectBuilder, Value};

/// A `WWW-Authenticate: Payment ...` challenge (the official `MppChallenge`).
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    /// `id`: the HMAC the backend re-derives.
    pub id: String,
    /// `realm`: the backend's host.
    pub realm: String,
    /// `method` (`nevermined`).
    pub method: String,
    /// `intent` (`charge`).
    pub intent: String,
    /// `request.planId` (a non-empty string).
    pub plan_id: String,
    /// `request.credits`: a string as sent (check it with [`decimal_credits`]),
    /// or a JSON number as text. Where the official writes `String(n)`, an
    /// integer is written out exactly (`1e3` is `1000`; JavaScript rounds
    /// beyond 2^53 and writes `1e+21` from 10^21); any other number keeps
    /// its JSON text (`2.50`, `-3`), which `decimal_credits` refuses as it
    /// refuses JavaScript's `2.5` and `-3`.
    pub credits: String,
    /// `request.agentId`, when sent (possibly empty, as the official keeps it).
    pub agent_id: Option<String>,
    /// The exact base64url `request=` value, never re-encoded.
    pub request_encoded: String,
    /// `expires` (ISO 8601), when sent non-empty.
    pub expires: Option<String>,
    /// `digest` (`sha-256=...`), when sent non-empty.
    pub digest: Option<String>,
    /// `opaque` (base64url, passed through verbatim), when sent non-empty.
    pub opaque: Option<String>,
    /// `description`, unescaped, when sent non-empty.
    pub description: Option<String>,
}

/// A decoded `Payment-Receipt` (the official `MppReceipt`; other fields are dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// `method`.
    pub method: String,
    /// `reference`: the challenge id (non-empty).
    pub reference: String,
    /// `status` (`success`; see [`receipt_states_failure`]).
    pub status: String,
    /// `timestamp` (ISO 8601).
    pub timestamp: String,
}

/// JavaScript's `\s` and `String.prototype.trim`'s set: Unicode White_Space
/// except U+0085, plus U+FEFF.
fn is_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// JavaScript's `trim()`.
fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// The index after the `\s*` run at `at`.
fn skip_space(s: &str, at: usize) -> usize {
    s.len()
        - s.get(at..)
            .unwrap_or_default()
            .trim_start_matches(is_space)
            .len()
}

/// `AUTH_PARAM_START`: `^token\s*=` (RFC 9110 token), a `key=` auth-param beginning.
fn auth_param_start(s: &str) -> bool {
    let rest = s.trim_start_matches(|c: char| {
        c.is_ascii() && (c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&(c as u8)))
    });
    rest.len() < s.len() && rest.trim_start_matches(is_space).starts_with('=')
}

/// What follows `^Payment\s+` (any case), when `s` starts so.
fn after_keyword(s: &str) -> Option<&str> {
    let word = s.as_bytes().get(..7)?;
    if !word.eq_ignore_ascii_case(b"payment") {
        return None;
    }
    let after = s.get(7..)?;
    let rest = after.trim_start_matches(is_space);
    (rest.len() < after.len()).then_some(rest)
}

/// Where a structured challenge's auth-params end in `rest` (quote- and
/// escape-aware): the first top-level comma not followed by a `key=`, else
/// the end (an unterminated quote runs to the end).
fn structured_end(rest: &str) -> usize {
    let (mut quoted, mut escaped) = (false, false);
    for (i, b) in rest.bytes().enumerate() {
        if quoted {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = false;
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == b','
            && !auth_param_start(
                rest.get(i + 1..)
                    .unwrap_or_default()
                    .trim_start_matches(is_space),
            )
        {
            return i;
        }
    }
    rest.len()
}

/// The official `extractPaymentScheme`: the `Payment` scheme of a header
/// value that may carry several schemes comma-separated (RFC 9110 §11.6.1).
/// `Payment` counts at the start or right after a comma (never mid-token or
/// after a bare space); a token68 credential ends at its first comma, a
/// structured challenge at the first top-level comma that does not continue
/// it with a `key=` (quote- and escape-aware). The slice starts at
/// `Payment` (case as sent), trailing whitespace and comma trimmed.
pub fn payment_scheme(header: &str) -> Option<&str> {
    let commas = header
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == b',')
        .map(|(i, _)| i + 1);
    for at in std::iter::once(0).chain(commas) {
        let start = skip_space(header, at);
        let Some(rest) = header.get(start..).and_then(after_keyword) else {
            continue;
        };
        let content = header.len() - rest.len();
        let end = content
            + if auth_param_start(rest) {
                structured_end(rest)
            } else {
                rest.bytes().position(|b| b == b',').unwrap_or(rest.len())
            };
        let scheme = header.get(start..end)?.trim_end_matches(is_space);
        return Some(
            scheme
                .strip_suffix(',')
                .unwrap_or(scheme)
                .trim_end_matches(is_space),
        );
    }
    None
}

/// Reads a quoted-string value from `at` (just after its opening `"`),
/// unescaping `\x` to `x`; returns it and the index after the closing quote
/// (the end when unterminated).
fn read_quoted(s: &str, at: usize) -> (String, usize) {
    let mut value = String::new();
    let mut escaped = false;
    for (i, c) in s.get(at..).unwrap_or_default().char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
            continue;
        } else if c == '"' {
            return (value, at + i + 1);
        }
        value.push(c);
    }
    (value, s.len())
}

/// The auth-params a challenge uses, in this order.
pub(super) const PARAMS: [&str; 9] = [
    "id",
    "realm",
    "method",
    "intent",
    "request",
    "expires",
    "digest",
    "opaque",
    "description",
];

/// The official `parseAuthParams`, keeping [`PARAMS`] (the last of a
/// repeated key wins; empty is absent). Quoted values are unescaped,
/// unquoted ones run to the next comma, trimmed.
fn auth_params(s: &str) -> [String; 9] {
    let mut params: [String; 9] = Default::default();
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        i = s.len()
            - s.get(i..)
                .unwrap_or_default()
                .trim_start_matches(|c| is_space(c) || c == ',')
                .len();
        let key_at = i;
        while b
            .get(i)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            i += 1;
        }
        let key = s.get(key_at..i).unwrap_or_default();
        if key.is_empty() {
            break;
        }
        i = skip_space(s, i);
        if b.get(i) != Some(&b'=') {
            break;
        }
        i = skip_space(s, i + 1);
        let value = if b.get(i) == Some(&b'"') {
            let (value, next) = read_quoted(s, i + 1);
            i = next;
            value
        } else {
            let at = i;
            i += b
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&c| c != b',')
                .count();
            trim(s.get(at..i).unwrap_or_default()).to_owned()
        };
        if let Some(k) = PARAMS.iter().position(|&k| k == key) {
            params[k] = value;
        }
    }
    params
}

/// base64url, UTF-8, JSON; or `Could not decode the <what>: <why>`.
fn decode_json(encoded: &str, what: &str) -> Result<Value, String> {
    let fail = |why: &str| "Could not decode the ".to_owned() + what + ": " + why;
    let bytes = base64::decode(encoded).map_err(|_| fail("not base64url"))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| fail("not UTF-8"))?;
    json::parse(text).map_err(|e| fail(&e.to_string()))
}

/// The decoded `request=`: `(planId, credits, agentId)`.
fn decode_request(encoded: &str) -> Result<(String, String, Option<String>), String> {
    let v = decode_json(encoded, "MPP challenge request parameter")?;
    let shape = || -> Option<_> {
        let plan_id = v.get("planId")?.as_str().filter(|s| !s.is_empty())?;
        let credits = match v.get("credits")? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n
                .non_negative_integer()
                .unwrap_or_else(|| n.as_str().to_owned()),
            _ => return None,
        };
        let agent_id = match v.get("agentId") {
            None => None,
            Some(a) => Some(a.as_str()?.to_owned()),
        };
        Some((plan_id.to_owned(), credits, agent_id))
    };
    shape().ok_or_else(|| {
        "The MPP challenge names a request parameter that is not a valid { planId: string, credits: string | number, agentId?: string } object.".to_owned()
    })
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

/// The official `parseChallengeHeader`: `Ok(None)` when there is no usable
/// `Payment` challenge (no such scheme, or one of `id`, `realm`, `method`,
/// `intent`, `request` missing or empty); `Err` (the official message) when
/// `request=` does not decode to `{planId: non-empty string, credits: string
/// | number, agentId?: string}`.
pub fn parse_challenge(header: &str) -> Result<Option<Challenge>, String> {
    let Some(scheme) = payment_scheme(header) else {
        return Ok(None);
    };
    let [id, realm, method, intent, request, expires, digest, opaque, description] =
        auth_params(after_keyword(scheme).unwrap_or(scheme));
    if [&id, &realm, &method, &intent, &request]
        .iter()
        .any(|s| s.is_empty())
    {
        return Ok(None);
    }
    let (plan_id, credits, agent_id) = decode_request(&request)?;
    Ok(Some(Challenge {
        id,
        realm,
        method,
        intent,
        plan_id,
        credits,
        agent_id,
        request_encoded: request,
        expires: non_empty(expires),
        digest: non_empty(digest),
        opaque: non_empty(opaque),
        description: non_empty(description),
    }))
}

/// An optional field as JavaScript's truthiness sees it: empty is absent.
fn set(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// The official `buildCredentialHeader`: `Payment <base64url(JSON {challenge:
/// {id, realm, method, intent, [expires], [digest], [description], [opaque],
/// request: <request_encoded>}, payload: {accessToken}})>`.
pub fn credential(challenge: &Challenge, access_token: &str) -> String {
    let c = challenge;
    let wire = ObjectBuilder::new()
        .put(
            "challenge",
            ObjectBuilder::new()
                .put("id", c.id.as_str())
                .put("realm", c.realm.as_str())
                .put("method", c.method.as_str())
                .put("intent", c.intent.as_str())
                .put_opt("expires", set(&c.expires))
                .put_opt("digest", set(&c.digest))
                .put_opt("description", set(&c.description))
                .put_opt("opaque", set(&c.opaque))
                .put("request", c.request_encoded.as_str())
                .build(),
        )
        .put(
            "payload",
            ObjectBuilder::new()
                .put("accessToken", access_token)
                .build(),
        )
        .build();
    "Payment ".to_owned() + &base64::encode_url(to_text(&wire).as_bytes())
}

/// The official `extractCredentialChallengeId`: the `challenge.id` (a
/// non-empty string) a token68 credential (`Payment <base64url>`, any case
/// and spacing, or the bare token) decodes to: the credential's identity for
/// single use, whatever its bytes. `None` for a structured `key=` scheme,
/// undecodable JSON, or no such id.
pub fn credential_challenge_id(credential: &str) -> Option<String> {
    let token = trim(after_keyword(credential).unwrap_or(credential));
    if token.is_empty() || auth_param_start(token) {
        return None;
    }
    let v = decode_json(token, "").ok()?;
    let id = v.get("challenge")?.get("id")?.as_str()?;
    non_empty(id.to_owned())
}

/// The official `parseReceiptHeader` (`Err` is the official message).
pub fn parse_receipt(header: &str) -> Result<Receipt, String> {
    let v = decode_json(trim(header), "MPP receipt")?;
    let field = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    match (
        field("method"),
        field("reference").and_then(non_empty),
        field("status"),
        field("timestamp"),
    ) {
        (Some(method), Some(reference), Some(status), Some(timestamp)) => Ok(Receipt {
            method,
            reference,
            status,
            timestamp,
        }),
        _ => Err("The Payment-Receipt header is not a valid { method: string, reference: string, status: string, timestamp: string } object.".to_owned()),
    }
}

/// The official `statesFailure` (fetch.ts): whether a receipt's status says
/// outright that the settlement did not happen (`failed`, `failure`,
/// `declined`, `error`, trimmed, any case).
pub fn receipt_states_failure(status: &str) -> bool {
    let s = trim(status);
    ["failed", "failure", "declined", "error"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

/// The official `normalizeCredits` for a string: only `^\d+$` (ASCII digits).
pub fn decimal_credits(s: &str) -> Result<&str, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(s);
    }
    let mut message = "credits must be a non-negative integer decimal string, got ".to_owned();
    json::write_str(&mut message, s);
    Err(message)
}

/// The official `isRetryableMppCode`: a fresh credential against the new
/// challenge may succeed after `BCK.MPP.0004` (expired) and `BCK.MPP.0005`
/// (body digest mismatch).
pub fn retryable_code(code: &str) -> bool {
    matches!(code, "BCK.MPP.0004" | "BCK.MPP.0005")
}

/// A `digest=` / `bodyDigest` value: `sha-256=` and the standard base64 of
/// the body's SHA-256 (computed by the caller).
pub fn body_digest(sha256: &[u8; 32]) -> String {
    "sha-256=".to_owned() + &base64::encode_standard(sha256)
}

impl Challenge {
    /// The official `MppChallenge`: `{id, realm, method, intent, request:
    /// {planId, credits, agentId?}, requestEncoded, expires?, digest?,
    /// opaque?, description?}`.
    pub fn to_json(&self) -> Value {
        let request = ObjectBuilder::new()
            .put("planId", self.plan_id.as_str())
            .put("credits", self.credits.as_str())
            .put_opt("agentId", self.agent_id.as_deref())
            .build();
        ObjectBuilder::new()
            .put("id", self.id.as_str())
            .put("realm", self.realm.as_str())
            .put("method", self.method.as_str())
            .put("intent", self.intent.as_str())
            .put("request", request)
            .put("requestEncoded", self.request_encoded.as_str())
            .put_opt("expires", set(&self.expires))
            .put_opt("digest", set(&self.digest))
            .put_opt("opaque", set(&self.opaque))
            .put_opt("description", set(&self.description))
            .build()
    }

    /// A challenge from an `MppChallenge` object (as [`to_json`](Self::to_json)
    /// writes it): `id`, `realm`, `method`, `intent` and `requestEncoded`
    /// non-empty strings; the optional fields strings (empty or `null` is
    /// absent). `request` is not read: plan, credits and agent are decoded
    /// from `requestEncoded`, which is what the credential carries and the
    /// backend charges (so they cannot disagree; the official
    /// `buildCredentialHeader` reads neither).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let what = "challenge";
        let o = json::object(v, what).map_err(|e| e.0)?;
        let opt = |key: &str| {
            json::opt_str(o, key, what)
                .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned))
                .map_err(|e| e.0)
        };
        let req =
            |key: &str| opt(key)?.ok_or_else(|| json::wrong(what, key, "a non-empty string").0);
        let request_encoded = req("requestEncoded")?;
        let (plan_id, credits, agent_id) = decode_request(&request_encoded)?;
        Ok(Challenge {
            id: req("id")?,
            realm: req("realm")?,
            method: req("method")?,
            intent: req("intent")?,
            plan_id,
            credits,
            agent_id,
            request_encoded,
            expires: opt("expires")?,
            digest: opt("digest")?,
            opaque: opt("opaque")?,
            description: opt("description")?,
        })
    }
}

impl Receipt {
    /// The official `MppReceipt`: `{method, reference, status, timestamp}`.
    pub fn to_json(&self) -> Value {
        ObjectBuilder::new()
            .put("method", self.method.as_str())
            .put("reference", self.reference.as_str())
            .put("status", self.status.as_str())
            .put("timestamp", self.timestamp.as_str())
            .build()
    }
}

#[cfg(test)]
mod tests;
