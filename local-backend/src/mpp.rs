//! MPP (Machine Payments Protocol): a second framing over the same plans,
//! delegations and credits as x402. `api/v1/mpp/permissions` mints (the x402
//! mint, the token signed for [`Domain::Mpp`]); `challenge` seals what a 402
//! asks for; `verify` and `settle` check a buyer's `Authorization: Payment`
//! credential and pay through x402's chokepoint ([`Backend::check_claims`],
//! [`owns`], [`Backend::check_funding`], [`Backend::redeem`]): the same
//! credits, the same balance effects, the same ledger and the same
//! authorization by ownership.
//!
//! Choices where the wire contract (the official SDK v1.11.0's client side) is silent:
//! - The challenge id is `base64url(HMAC-SHA256(key, realm|method|intent|canonical
//!   request JSON|expires|digest|opaque))`, `opaque` as its base64url text. The key
//!   is derived from the database's own secret (the one that signs API keys), so
//!   challenges survive a restart of a file database, as tokens and keys do.
//!   Every carried field but `request` is refused when it holds a `|`, and the
//!   id must be the canonical unpadded base64url of 32 bytes, so neither the
//!   field boundaries nor the id's spelling can be moved (the id is the
//!   idempotency key: two spellings of one id would burn twice).
//! - `realm` is the host the challenge was asked on (its `Host` header when it
//!   names this machine, else the listen address): sealed by the HMAC, not
//!   compared at verify (a client may reach nvm-local as `localhost` or `127.0.0.1`).
//! - Challenge (the agent's own call) answers ordinary errors: 404 for an unknown
//!   plan or agent, `BCK.X402.0909` (403) for a caller who owns neither, 400 for
//!   a bad field. A credit plan's `credits` must be within the plan's per-request
//!   terms (x402 clamps what it is asked; MPP seals the amount, so a challenge
//!   nvm-local would burn differently is refused up front).
//! - Verify and settle check, in order: the credential's shape, the HMAC (a
//!   constant-time compare), the scope (`"<VERB> <resource>"`, verb in upper
//!   case, resource exactly as sealed), the digest (`BCK.MPP.0005`), the token
//!   (MPP domain, the sealed plan and agent, the agent's endpoints), the caller's
//!   ownership (as x402 settle; MPP verify checks it too), then expiry
//!   (`BCK.MPP.0004`) and funds. Every other refusal is `BCK.MPP.0003` with one
//!   message; the reason goes to stderr only (no whole token or key in it).
//! - Settle is idempotent per challenge id (`mpp_settlements`, in the same
//!   transaction as the burn). A settled challenge settles again — after it
//!   expired too, and whatever the funds are now — to the stored answer,
//!   burning nothing: idempotency wins over expiry. The checks before expiry
//!   (HMAC, scope, digest, token, ownership) still apply to such a replay.
//! - Verify never reads settlements: a settled challenge's credential still
//!   verifies while it has not expired and the subscriber can pay (the seller's
//!   edge enforces single use, as the SDK's middleware does).

use crate::access_token::{canonical_json, Domain};
use crate::backend::{Backend, Caller};
use crate::error::*;
use crate::ids::{iso8601, parse_iso8601, uuid_v4};
use crate::plans::canonical_id;
use crate::x402::{is_payee, owns, verified, Asked, Checked};
use hmac::{Hmac, Mac};
use nvm_x402::api::agents::HTTP_VERBS;
use nvm_x402::protocol::base64;
use nvm_x402::protocol::Uint256;
use nvm_x402_types::mpp::{
    ChallengeRequest, Credential, Receipt, RedeemRequest, Scope, SealedRequest,
};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};
use sha2::Sha256;

/// The challenge's `method`.
pub const METHOD: &str = "nevermined";
/// The challenge's `intent`.
pub const INTENT: &str = "charge";
/// How long a challenge lasts.
pub const CHALLENGE_TTL_MS: i64 = 300_000;
/// The one message of every `BCK.MPP.0003`.
const REJECTED: &str = "MPP credential rejected";

type HmacSha256 = Hmac<Sha256>;

/// What a challenge's HMAC covers, in order.
struct Sealed<'a> {
    realm: &'a str,
    method: &'a str,
    intent: &'a str,
    /// The canonical JSON of the request (keys sorted, no whitespace).
    request: &'a str,
    expires: &'a str,
    /// `""` when absent.
    digest: &'a str,
    /// The base64url text.
    opaque: &'a str,
}

impl Sealed<'_> {
    /// The keyed MAC over `realm|method|intent|request|expires|digest|opaque`,
    /// keyed by a key derived from the database's secret.
    fn mac(&self, secret: &[u8]) -> HmacSha256 {
        let mut derive = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        derive.update(b"nvm-local/mpp-challenge-key/v1");
        let key = derive.finalize().into_bytes();
        let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
        let fields = [
            self.realm,
            self.method,
            self.intent,
            self.request,
            self.expires,
            self.digest,
            self.opaque,
        ];
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                mac.update(b"|");
            }
            mac.update(field.as_bytes());
        }
        mac
    }
}

/// A credential that passed every check that reads nothing that changes.
struct Opened {
    /// The challenge id (canonical base64url).
    id: String,
    expires_ms: i64,
    checked: Checked,
}

/// `sha-256=<standard base64 of 32 bytes>`.
fn is_digest(value: &str) -> bool {
    value.strip_prefix("sha-256=").is_some_and(|b64| {
        b64.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            && base64::decode(b64).is_ok_and(|bytes| bytes.len() == 32)
    })
}

/// A header auth-param value, quoted mppx-style (`\` -> `\\`, `"` -> `\"`).
fn quoted(name: &str, value: &str, out: &mut String) {
    if !out.is_empty() {
        out.push_str(", ");
    }
    out.push_str(name);
    out.push_str("=\"");
    for ch in value.chars() {
        if ch == '\\' || ch == '"' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

/// base64url (unpadded) of a value's canonical JSON; the JSON too.
fn encode_canonical(value: &impl serde::Serialize) -> (String, String) {
    let json = canonical_json(&serde_json::to_value(value).unwrap_or(Value::Null));
    (base64::encode_url(json.as_bytes()), json)
}

/// The refusal to answer: 0004, 0005 and 500 as they are, anything else one
/// generic `BCK.MPP.0003` (its reason logged, never answered).
fn refusal(e: ApiError) -> ApiError {
    if e.code == INTERNAL || e.code == MPP_EXPIRED || e.code == MPP_DIGEST_MISMATCH {
        return e;
    }
    eprintln!("nvm-local: MPP credential rejected: {e}");
    MPP_REJECTED.with(REJECTED)
}

/// An internal `BCK.MPP.0003` with its reason (for the log).
fn rejected(reason: impl Into<String>) -> ApiError {
    MPP_REJECTED.with(reason)
}

/// Reads base64url JSON.
fn decode_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> ApiResult<(T, Value)> {
    let bytes = base64::decode(text).map_err(|_| rejected(format!("{what} is not base64url")))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| rejected(format!("{what} is not JSON")))?;
    let typed = serde_json::from_value(value.clone())
        .map_err(|e| rejected(format!("{what} has the wrong shape: {e}")))?;
    Ok((typed, value))
}

impl Backend {
    /// `POST api/v1/mpp/challenge`: seals what the 402 asks for; `realm` is
    /// the host nvm-local was reached at. `{challenge, id}`.
    pub fn mpp_challenge(
        &self,
        caller: &Caller,
        request: &ChallengeRequest,
        realm: &str,
    ) -> ApiResult<Value> {
        let plan = self.require_plan(&request.plan_id)?;
        let agent = self.agent_taking(request.agent_id.as_deref(), &plan)?;
        if !owns(caller, &plan, agent.as_deref()) {
            return Err(NOT_PAYEE.with(format!(
                "{} owns neither plan {} nor the agent; only they may ask for its credits",
                caller.address(),
                plan.id
            )));
        }
        let verb = request.http_verb.to_ascii_uppercase();
        if !HTTP_VERBS.contains(&verb.as_str()) {
            return Err(INVALID_FIELD.with(format!(
                "httpVerb {:?} is not an HTTP method",
                shorten(&request.http_verb)
            )));
        }
        let resource = request.resource.as_str();
        if resource.chars().any(char::is_control)
            || crate::agents::UrlTarget::parse(resource).is_none()
        {
            return Err(INVALID_FIELD
                .with("resource must be an absolute http(s) URL or a path starting with '/'"));
        }
        if let Some(agent) = &agent {
            agent.match_request(resource, Some(&verb))?;
        }
        let credits = Some(request.credits.as_str())
            .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| Uint256::parse(c).ok())
            .ok_or_else(|| {
                INVALID_FIELD.with("credits must be a decimal string of digits (\"1\", \"25\")")
            })?;
        if !plan.is_time_plan() && !plan.pay_as_you_go {
            let burns = plan.credits_for_request(Some(&credits));
            if credits.to_u128() != u128::try_from(burns).ok() {
                return Err(INVALID_FIELD.with(format!(
                    "Plan {} charges {}..={} credits per request; {} is outside its terms",
                    plan.id, plan.per_request.0, plan.per_request.1, credits
                )));
            }
        }
        if let Some(digest) = &request.digest {
            if !is_digest(digest) {
                return Err(INVALID_FIELD
                    .with("digest must be sha-256=<standard base64 of the SHA-256 of the body>"));
            }
        }
        if let Some(description) = &request.description {
            if description.chars().any(char::is_control) || description.chars().count() > 1024 {
                return Err(INVALID_FIELD.with(
                    "description must be at most 1024 characters, without control characters",
                ));
            }
        }
        let sealed_request = SealedRequest {
            credits: credits.to_string(),
            plan_id: plan.id.clone(),
            agent_id: agent.as_ref().map(|a| a.id.clone()),
        };
        let (request_b64, request_json) = encode_canonical(&sealed_request);
        let scope = Scope {
            scope: format!("{verb} {resource}"),
            nonce: uuid_v4(),
        };
        let (opaque, _) = encode_canonical(&scope);
        let expires = iso8601(self.now_ms() + CHALLENGE_TTL_MS);
        let digest = request.digest.as_deref().unwrap_or("");
        let sealed = Sealed {
            realm,
            method: METHOD,
            intent: INTENT,
            request: &request_json,
            expires: &expires,
            digest,
            opaque: &opaque,
        };
        let id = base64::encode_url(&sealed.mac(&self.secret).finalize().into_bytes());
        let mut header = String::new();
        quoted("id", &id, &mut header);
        quoted("realm", realm, &mut header);
        quoted("method", METHOD, &mut header);
        quoted("intent", INTENT, &mut header);
        quoted("request", &request_b64, &mut header);
        quoted("expires", &expires, &mut header);
        if !digest.is_empty() {
            quoted("digest", digest, &mut header);
        }
        if let Some(description) = request.description.as_deref().filter(|d| !d.is_empty()) {
            quoted("description", description, &mut header);
        }
        quoted("opaque", &opaque, &mut header);
        Ok(json!({"challenge": format!("Payment {header}"), "id": id}))
    }

    /// The checks of a credential that read nothing that changes (see the module's doc).
    fn mpp_open(&self, caller: &Caller, request: &RedeemRequest) -> ApiResult<Opened> {
        let raw = request.credential.trim();
        let token68 = raw
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("payment"))
            .map(|(_, rest)| rest.trim())
            .filter(|t| !t.is_empty() && !t.contains([' ', ',', '"']))
            .ok_or_else(|| rejected("the credential is not 'Payment <base64url>'"))?;
        let (credential, _): (Credential, _) = decode_json(token68, "the credential")?;
        let ch = &credential.challenge;
        if ch.method != METHOD || ch.intent != INTENT {
            return Err(rejected("the challenge's method or intent is not ours"));
        }
        let (expires, opaque) = match (&ch.expires, &ch.opaque) {
            (Some(e), Some(o)) => (e.as_str(), o.as_str()),
            _ => return Err(rejected("the challenge has no expires or no opaque")),
        };
        let digest = ch.digest.as_deref().unwrap_or("");
        if [ch.realm.as_str(), expires, digest, opaque]
            .iter()
            .any(|f| f.contains('|'))
        {
            return Err(rejected("a challenge field holds '|'"));
        }
        let id_bytes = base64::decode(&ch.id)
            .ok()
            .filter(|b| b.len() == 32 && base64::encode_url(b) == ch.id)
            .ok_or_else(|| rejected("the challenge id is not base64url of 32 bytes"))?;
        let (sealed_request, request_value): (SealedRequest, _) =
            decode_json(&ch.request, "the challenge's request")?;
        let request_json = canonical_json(&request_value);
        let sealed = Sealed {
            realm: &ch.realm,
            method: &ch.method,
            intent: &ch.intent,
            request: &request_json,
            expires,
            digest,
            opaque,
        };
        // `verify_slice` compares in constant time.
        sealed
            .mac(&self.secret)
            .verify_slice(&id_bytes)
            .map_err(|_| {
                rejected("the challenge id does not match its fields (forged or edited)")
            })?;
        let (scope, _): (Scope, _) = decode_json(opaque, "the challenge's opaque")?;
        let verb = request.http_verb.to_ascii_uppercase();
        if scope.scope != format!("{verb} {}", request.resource) {
            return Err(rejected(format!(
                "the challenge is for {:?}, not {verb} {}",
                shorten(&scope.scope),
                shorten(&request.resource)
            )));
        }
        if !digest.is_empty() && request.body_digest.as_deref() != Some(digest) {
            return Err(MPP_DIGEST_MISMATCH.with(if request.body_digest.is_some() {
                "MPP body digest mismatch: the body is not the one the challenge is for"
            } else {
                "MPP body digest mismatch: the challenge is bound to a body and bodyDigest is missing"
            }));
        }
        let expires_ms = parse_iso8601(expires)
            .ok_or_else(|| rejected("the challenge's expires is not ISO 8601"))?;
        let credits = Uint256::parse(&sealed_request.credits)
            .map_err(|_| rejected("the challenge's credits are not a number"))?;
        let token = self.open_token(&credential.payload.access_token, Domain::Mpp)?;
        let token_plan = token.claims.plan_id.as_deref().map(canonical_id);
        let plan_id = canonical_id(&sealed_request.plan_id);
        if token_plan.as_ref() != Some(&plan_id) {
            return Err(PLAN_MISMATCH.with(format!(
                "The token pays plan {}, the challenge asks for plan {plan_id}",
                token_plan.unwrap_or_default()
            )));
        }
        let asked = Asked {
            plan_id,
            agent_id: sealed_request.agent_id.as_deref(),
            url: &request.resource,
            verb: Some(&verb),
            max_amount: Some(&credits),
        };
        let checked = self.check_claims(&token, &asked)?;
        if !is_payee(caller, &checked) {
            return Err(NOT_PAYEE.with(format!(
                "{} owns neither plan {} nor the agent",
                caller.address(),
                checked.plan.id
            )));
        }
        Ok(Opened {
            id: ch.id.clone(),
            expires_ms,
            checked,
        })
    }

    /// `POST api/v1/mpp/verify`: every check, nothing burned; x402's verify answer.
    pub fn mpp_verify(&self, caller: &Caller, request: &RedeemRequest) -> ApiResult<Value> {
        let opened = self.mpp_open(caller, request).map_err(refusal)?;
        // A credential whose challenge was settled has bought its response: verify refuses
        // it, so no seller (another instance, one that forgot) serves it again.
        let settled: Option<i64> = self
            .store
            .lock()
            .prepare_cached("SELECT 1 FROM mpp_settlements WHERE challenge_id = ?1")?
            .query_row([&opened.id], |r| r.get(0))
            .optional()?;
        if settled.is_some() {
            return Err(refusal(rejected("the challenge was already settled")));
        }
        let now = self.now_ms();
        if now >= opened.expires_ms {
            return Err(MPP_EXPIRED.with("MPP challenge expired: ask for a new one"));
        }
        let funding = Self::check_funding(&self.store.lock(), &opened.checked, now);
        Ok(verified(&opened.checked, &funding.map_err(refusal)?, now))
    }

    /// `POST api/v1/mpp/settle`: every check, then the burn, once per challenge
    /// id; x402's settle answer plus `paymentReceipt`.
    pub fn mpp_settle(&self, caller: &Caller, request: &RedeemRequest) -> ApiResult<Value> {
        let opened = self.mpp_open(caller, request).map_err(refusal)?;
        let mut conn = self.store.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<String> = tx
            .prepare_cached("SELECT settlement FROM mpp_settlements WHERE challenge_id = ?1")?
            .query_row([&opened.id], |r| r.get(0))
            .optional()?;
        if let Some(stored) = stored {
            // Idempotent, for the payer who settled it only, and said to be a replay: the
            // seller must not deliver again for it (a second instance, a lost response).
            let mut answer: Value = serde_json::from_str(&stored)
                .map_err(|e| INTERNAL.with(format!("a stored MPP settlement is not JSON: {e}")))?;
            if answer["payer"].as_str() != Some(opened.checked.payer.as_str()) {
                return Err(refusal(rejected(
                    "the challenge was settled by another payer",
                )));
            }
            answer["replayed"] = json!(true);
            return Ok(answer);
        }
        let now = self.now_ms();
        if now >= opened.expires_ms {
            return Err(MPP_EXPIRED.with("MPP challenge expired: ask for a new one"));
        }
        let mut answer = Self::redeem(&tx, &opened.checked, now).map_err(refusal)?;
        let receipt = Receipt {
            method: METHOD.to_owned(),
            reference: opened.id.clone(),
            status: "success".to_owned(),
            timestamp: iso8601(now),
        };
        let receipt = serde_json::to_vec(&receipt).unwrap_or_default();
        answer["paymentReceipt"] = json!(base64::encode_url(&receipt));
        tx.prepare_cached(
            "INSERT INTO mpp_settlements (challenge_id, tx, settlement, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![opened.id, answer["transaction"].as_str(), answer.to_string(), now])?;
        tx.commit()?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_escaped_as_mppx_does() {
        let mut out = String::new();
        quoted("id", "a", &mut out);
        quoted("description", r#"5" \ plan, ok"#, &mut out);
        assert_eq!(out, r#"id="a", description="5\" \\ plan, ok""#);
    }

    #[test]
    fn digests_are_sha256_in_standard_base64() {
        let good = format!("sha-256={}", base64::encode_standard(&[7u8; 32]));
        assert!(is_digest(&good));
        for bad in [
            "sha-256=".to_owned(),
            format!("sha-256={}", base64::encode_url(&[0xffu8; 32])),
            format!("sha-512={}", base64::encode_standard(&[7u8; 32])),
            format!("sha-256={}", base64::encode_standard(&[7u8; 31])),
        ] {
            assert!(!is_digest(&bad), "{bad}");
        }
    }

    #[test]
    fn the_mac_covers_every_field_and_its_boundaries() {
        let base = Sealed {
            realm: "127.0.0.1:1",
            method: METHOD,
            intent: INTENT,
            request: r#"{"credits":"1","planId":"2"}"#,
            expires: "2026-01-01T00:00:00.000Z",
            digest: "",
            opaque: "e30",
        };
        let id = |s: &Sealed| s.mac(b"k").finalize().into_bytes().to_vec();
        let reference = id(&base);
        assert_eq!(reference, id(&base));
        assert_ne!(
            reference,
            base.mac(b"other").finalize().into_bytes().to_vec()
        );
        let edits = [
            Sealed {
                realm: "127.0.0.1:2",
                ..base
            },
            Sealed {
                intent: "x",
                ..base
            },
            Sealed {
                request: r#"{"credits":"2","planId":"2"}"#,
                ..base
            },
            Sealed {
                expires: "2027-01-01T00:00:00.000Z",
                ..base
            },
            Sealed {
                digest: "sha-256=x",
                ..base
            },
            Sealed {
                opaque: "e31",
                ..base
            },
        ];
        for edited in &edits {
            assert_ne!(id(edited), reference);
        }
    }
}
