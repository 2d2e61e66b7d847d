//! x402 access tokens as nvm-local mints and checks them: the decoded shape of
//! the spec (base64url of compact JSON), signed with the subscriber account's
//! Ed25519 key. The signature covers every field of the token except
//! `payload.signature` itself, serialised canonically (object keys sorted,
//! compact), so re-encoding the same JSON (padded standard base64, another key
//! order) keeps it valid while any edited field breaks it.

use crate::api_keys;
use crate::ids::{hex, parse_hex, sha256};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use nvm_x402::protocol::{
    encode_access_token, try_decode_access_token, TokenClaims, SCHEME_CARD_DELEGATION,
};
use serde_json::{json, Map, Value};

/// The protocol a token pays through. The bytes signed start with the
/// domain's prefix, so a token signed for one domain fails the signature
/// check of the other: the tokens look alike on the wire (as the hosted
/// backend's `Nevermined-MPP` EIP-712 domain makes them), yet an x402 token
/// is refused by MPP's verify and settle and an MPP token by x402's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// `api/v1/x402/*`.
    X402,
    /// `api/v1/mpp/*` (the hosted backend's `Nevermined-MPP` domain).
    Mpp,
}

impl Domain {
    /// Domain separation: these bytes start every signed message.
    fn prefix(self) -> &'static [u8] {
        match self {
            Domain::X402 => b"nvm-local/x402-access-token/v1\n",
            Domain::Mpp => b"nvm-local/mpp-access-token/v1\n",
        }
    }
}

/// What a mint puts in a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenContent {
    /// `nvm:erc4337` or `nvm:card-delegation`.
    pub scheme: String,
    /// `eip155:84532`, `stripe`, ...
    pub network: String,
    /// The plan.
    pub plan_id: String,
    /// `accepted.extra.agentId`.
    pub agent_id: Option<String>,
    /// `accepted.extra.httpVerb`.
    pub http_verb: Option<String>,
    /// The top-level `resource`, as given at mint.
    pub resource: Option<Value>,
    /// The subscriber address (`payload.authorization.from`).
    pub from: String,
    /// The delegation that pays (`sessionKeys[0].id`).
    pub delegation_id: String,
    /// v3 only: the single-use nonce.
    pub nonce: Option<String>,
}

/// A token whose signature checked out, reduced to what verify and settle use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `accepted.*`, `resource.url`, `from`, `nonce` as in the token.
    pub claims: TokenClaims,
    /// The delegation that pays.
    pub delegation_id: String,
}

impl VerifiedToken {
    /// 3 for single-use tokens (they carry a nonce), else 2.
    pub fn version(&self) -> u8 {
        if self.claims.is_v3() {
            3
        } else {
            2
        }
    }
}

/// An account address from its public key: `0x` + the first 20 bytes of SHA-256(key), hex.
pub fn address_of(key: &VerifyingKey) -> String {
    format!("0x{}", hex(&sha256(key.as_bytes())[..20]))
}

/// Writes JSON with object keys sorted and no whitespace: the bytes that are signed.
///
/// ```
/// use serde_json::json;
/// assert_eq!(nvm_local::access_token::canonical_json(&json!({"b": [1, {"d": 1, "c": "é"}], "a": null})), r#"{"a":null,"b":[1,{"c":"é","d":1}]}"#);
/// ```
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The message a token's signature covers: the token minus `payload.signature`.
fn signed_message(token: &Map<String, Value>, domain: Domain) -> Vec<u8> {
    let mut unsigned = token.clone();
    if let Some(Value::Object(payload)) = unsigned.get_mut("payload") {
        payload.remove("signature");
    }
    let mut message = domain.prefix().to_vec();
    message.extend_from_slice(canonical_json(&Value::Object(unsigned)).as_bytes());
    message
}

/// Builds and signs a token for `domain`; `secret` signs the card-delegation `payload.token` JWT.
pub fn mint(
    content: &TokenContent,
    key: &SigningKey,
    secret: &[u8],
    issued_at_secs: i64,
    domain: Domain,
) -> String {
    let mut extra = Map::new();
    extra.insert("version".into(), json!("1"));
    if let Some(agent) = &content.agent_id {
        extra.insert("agentId".into(), json!(agent));
    }
    if let Some(verb) = &content.http_verb {
        extra.insert("httpVerb".into(), json!(verb));
    }
    let session_key_data = format!(
        "0x{}",
        hex(&sha256(
            format!(
                "{}|{}|{}",
                content.delegation_id, content.plan_id, content.from
            )
            .as_bytes()
        ))
    );
    let mut authorization = Map::new();
    authorization.insert("from".into(), json!(content.from));
    authorization.insert("sessionKeysProvider".into(), json!("zerodev"));
    authorization.insert(
        "sessionKeys".into(),
        json!([{"id": content.delegation_id, "data": session_key_data}]),
    );
    if let Some(nonce) = &content.nonce {
        authorization.insert("nonce".into(), json!(nonce));
    }
    let mut payload = Map::new();
    if content.scheme == SCHEME_CARD_DELEGATION {
        let claims = json!({"iss": api_keys::ISSUER, "sub": content.from, "delegationId": content.delegation_id, "planId": content.plan_id, "iat": issued_at_secs});
        payload.insert("token".into(), json!(api_keys::sign_jwt(secret, &claims)));
    }
    payload.insert("signature".into(), json!(""));
    payload.insert("authorization".into(), Value::Object(authorization));
    let mut token = Map::new();
    token.insert("x402Version".into(), json!(2));
    token.insert("accepted".into(), json!({"scheme": content.scheme, "network": content.network, "planId": content.plan_id, "extra": extra}));
    if let Some(resource) = &content.resource {
        token.insert("resource".into(), resource.clone());
    }
    token.insert("payload".into(), Value::Object(payload));
    token.insert("extensions".into(), json!({}));
    let signature = key.sign(&signed_message(&token, domain));
    token["payload"]["signature"] = json!(format!("0x{}", hex(&signature.to_bytes())));
    encode_access_token(&token.into())
}

/// Decodes a token and checks its signature (for `domain`) against the key of the
/// account in `payload.authorization.from`. The error is a reason a person can act on.
pub fn verify(
    raw: &str,
    public_key_of: impl Fn(&str) -> Option<VerifyingKey>,
    secret: &[u8],
    domain: Domain,
) -> Result<VerifiedToken, String> {
    let token = try_decode_access_token(raw).map_err(|e| e.to_string())?;
    let claims = TokenClaims::from_token(&token);
    let token = Map::from(token);
    if claims.x402_version != Some(2) {
        return Err("The access token is not an x402 version 2 token".into());
    }
    let from = claims
        .from
        .clone()
        .ok_or("The access token has no payload.authorization.from")?;
    let signature = token
        .get("payload")
        .and_then(|p| p.get("signature"))
        .and_then(Value::as_str)
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(parse_hex)
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or("The access token has no valid payload.signature")?;
    let key = public_key_of(&from)
        .ok_or("The access token's signer is not an account of this backend")?;
    key.verify(&signed_message(&token, domain), &signature)
        .map_err(|_| {
            "The access token's signature does not match its content (it was edited or forged)"
                .to_owned()
        })?;
    let auth = &token["payload"]["authorization"];
    let delegation_id = auth
        .get("sessionKeys")
        .and_then(|k| k.get(0))
        .and_then(|k| k.get("id"))
        .and_then(Value::as_str)
        .ok_or("The access token names no delegation (payload.authorization.sessionKeys[0].id)")?
        .to_owned();
    if claims.scheme.as_deref() == Some(SCHEME_CARD_DELEGATION) {
        let jwt_ok = token["payload"]
            .get("token")
            .and_then(Value::as_str)
            .and_then(|jwt| api_keys::verify_jwt(secret, jwt))
            .is_some_and(|c| {
                c["sub"] == json!(from)
                    && c["delegationId"] == json!(delegation_id)
                    && Some(&c["planId"]) == claims.plan_id.as_ref().map(|p| json!(p)).as_ref()
            });
        if !jwt_ok {
            return Err("The card-delegation token's payload.token is missing or not ours".into());
        }
    }
    Ok(VerifiedToken {
        claims,
        delegation_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvm_x402::protocol::base64;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn content(scheme: &str) -> TokenContent {
        TokenContent {
            scheme: scheme.into(),
            network: "eip155:84532".into(),
            plan_id: "123".into(),
            agent_id: Some("9".into()),
            http_verb: Some("POST".into()),
            resource: Some(json!({"url": "http://127.0.0.1:8787/tasks"})),
            from: address_of(&key().verifying_key()),
            delegation_id: "d-1".into(),
            nonce: Some("n-1".into()),
        }
    }

    fn lookup(addr: &str) -> Option<VerifyingKey> {
        (addr == address_of(&key().verifying_key())).then(|| key().verifying_key())
    }

    #[test]
    fn minted_tokens_have_the_spec_shape_and_verify() {
        let raw = mint(&content("nvm:erc4337"), &key(), b"s", 1, Domain::X402);
        let decoded = nvm_x402::protocol::decode_access_token(&raw).unwrap();
        let keys: Vec<&String> = decoded.keys().collect();
        assert_eq!(
            keys,
            [
                "x402Version",
                "accepted",
                "resource",
                "payload",
                "extensions"
            ]
        );
        assert_eq!(
            decoded["accepted"]["extra"],
            nvm_x402::json!({"version": "1", "agentId": "9", "httpVerb": "POST"})
        );
        assert_eq!(
            decoded["payload"]["authorization"]["sessionKeysProvider"],
            "zerodev"
        );
        assert!(decoded["payload"]["signature"]
            .as_str()
            .unwrap()
            .starts_with("0x"));
        let verified = verify(&raw, lookup, b"s", Domain::X402).unwrap();
        assert_eq!(
            (verified.delegation_id.as_str(), verified.version()),
            ("d-1", 3)
        );
        // Padded standard base64 of the same JSON is the same token.
        let padded = base64::encode_standard(&base64::decode(&raw).unwrap());
        assert_eq!(
            verify(&padded, lookup, b"s", Domain::X402).unwrap(),
            verified
        );
    }

    #[test]
    fn edits_break_the_signature() {
        let raw = mint(&content("nvm:erc4337"), &key(), b"s", 1, Domain::X402);
        let decoded = Map::from(nvm_x402::protocol::decode_access_token(&raw).unwrap());
        let edits: Vec<fn(&mut Map<String, Value>)> = vec![
            |t| t["accepted"]["planId"] = json!("124"),
            |t| t["accepted"]["extra"]["httpVerb"] = json!("GET"),
            |t| t["resource"]["url"] = json!("http://127.0.0.1:8787/other"),
            |t| t["payload"]["authorization"]["nonce"] = json!("n-2"),
            |t| t["payload"]["authorization"]["sessionKeys"][0]["id"] = json!("d-2"),
            |t| t["payload"]["extra"] = json!(1),
            |t| t["extensions"] = json!({"x": 1}),
            |t| {
                t.remove("resource");
            },
        ];
        for edit in edits {
            let mut t = decoded.clone();
            edit(&mut t);
            let err =
                verify(&encode_access_token(&t.into()), lookup, b"s", Domain::X402).unwrap_err();
            assert!(err.contains("signature"), "{err}");
        }
    }

    #[test]
    fn a_token_verifies_only_in_its_own_domain() {
        let x402 = mint(&content("nvm:erc4337"), &key(), b"s", 1, Domain::X402);
        let mpp = mint(&content("nvm:erc4337"), &key(), b"s", 1, Domain::Mpp);
        assert!(verify(&mpp, lookup, b"s", Domain::Mpp).is_ok());
        for (raw, domain) in [(&x402, Domain::Mpp), (&mpp, Domain::X402)] {
            let err = verify(raw, lookup, b"s", domain).unwrap_err();
            assert!(err.contains("signature"), "{err}");
        }
    }

    #[test]
    fn card_tokens_carry_a_jwt_bound_to_the_delegation() {
        let mut c = content(SCHEME_CARD_DELEGATION);
        c.network = "stripe".into();
        let raw = mint(&c, &key(), b"s", 1, Domain::X402);
        assert!(verify(&raw, lookup, b"s", Domain::X402).is_ok());
        assert!(verify(&raw, lookup, b"other", Domain::X402)
            .unwrap_err()
            .contains("payload.token"));
        assert!(verify("not a token", lookup, b"s", Domain::X402).is_err());
    }
}
