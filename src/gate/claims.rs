//! Decoded tokens, remembered per token string: clients reuse a v2 token for
//! many requests, and decoding it (base64, then JSON) was the gate's largest
//! single cost before the verify call (bench/README.md, #14 item 1). Only the
//! claims are kept — the checks against the route and the request run every
//! time — and only for reusable (v2) tokens: a single-use v3 token is never
//! seen twice.

use crate::cache::Bounded;
use crate::protocol::gate::{decode_claims, Refusal};
use crate::protocol::token::TokenClaims;

/// At most this many tokens' claims are kept (the oldest is forgotten first).
const CAPACITY: usize = 32;

/// A small first-in, first-out memory of token → claims.
#[derive(Debug, Default)]
pub struct Claims {
    /// Keyed by the whole token string, compared as it is. A client chooses
    /// it freely, and that is safe: the claims are what decoding that very
    /// string gives (nothing else goes in), so a hit answers exactly what a
    /// miss would, and a client that floods new tokens only evicts others'
    /// claims, which costs them one decode (who pays and what is charged are
    /// decided by the checks that run every time, and by the backend).
    known: Bounded<String, TokenClaims, CAPACITY>,
}

impl Claims {
    /// The token's claims: remembered, or decoded now (and remembered if reusable).
    pub fn of(&self, token: &str) -> Result<TokenClaims, Refusal> {
        if let Some(claims) = self.known.get(token) {
            return Ok(claims);
        }
        let claims = decode_claims(token)?;
        if !claims.is_v3() {
            self.known.insert_missing(token.to_owned(), claims.clone());
        }
        Ok(claims)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.known.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::parse;
    use crate::protocol::token::encode_access_token;

    fn token(plan: &str, nonce: Option<&str>) -> String {
        let nonce = nonce.map_or(String::new(), |n| format!(r#","nonce":"{n}""#));
        let text = format!(
            r#"{{"x402Version":2,"accepted":{{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"{plan}"}},"payload":{{"authorization":{{"from":"0xbb"{nonce}}}}}}}"#
        );
        encode_access_token(parse(&text).unwrap().as_object().unwrap())
    }

    #[test]
    fn the_same_claims_as_decoding_remembered_for_reusable_tokens_only() {
        let claims = Claims::default();
        let v2 = token("7", None);
        let first = claims.of(&v2).unwrap();
        assert_eq!(first, decode_claims(&v2).unwrap());
        assert_eq!(first.plan_id.as_deref(), Some("7"));
        assert_eq!(claims.len(), 1);
        assert_eq!(claims.of(&v2).unwrap(), first);
        assert_eq!(claims.len(), 1, "a remembered token is not added again");

        let v3 = token("7", Some("0x01"));
        assert!(claims.of(&v3).unwrap().is_v3());
        assert_eq!(claims.len(), 1, "single-use tokens are not remembered");

        let bad = claims.of("not a token");
        assert_eq!(
            bad.map_err(|Refusal(r)| r.is_empty()),
            Err(false),
            "an unreadable token is still refused, with a reason"
        );
        assert_eq!(claims.len(), 1);
    }

    #[test]
    fn at_most_capacity_tokens_the_oldest_forgotten_first() {
        let claims = Claims::default();
        let tokens: Vec<String> = (0..CAPACITY + 5)
            .map(|i| token(&i.to_string(), None))
            .collect();
        for t in &tokens {
            claims.of(t).unwrap();
        }
        assert_eq!(claims.len(), CAPACITY);
        assert_eq!(
            claims.known.keys(),
            tokens[5..],
            "the oldest five went first, in order"
        );
        assert!(tokens[5..]
            .iter()
            .all(|t| claims.known.get(t.as_str()) == Some(decode_claims(t).unwrap())));
        // A hit does not refresh: the oldest kept goes next, though it was just read.
        claims.of(&tokens[5]).unwrap();
        claims.of(&tokens[0]).unwrap();
        assert_eq!(
            claims.known.keys()[..2],
            [tokens[6].clone(), tokens[7].clone()]
        );
        assert_eq!(claims.known.keys().last(), Some(&tokens[0]));
    }
}
