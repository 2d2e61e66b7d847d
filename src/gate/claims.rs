//! Decoded tokens, remembered per token string: clients reuse a v2 token for
//! many requests, and decoding it (base64, then JSON) was the gate's largest
//! single cost before the verify call (bench/README.md, #14 item 1). Only the
//! claims are kept — the checks against the route and the request run every
//! time — and only for reusable (v2) tokens: a single-use v3 token is never
//! seen twice.

use crate::protocol::gate::{decode_claims, Refusal};
use crate::protocol::token::TokenClaims;
use std::cell::RefCell;

/// At most this many tokens' claims are kept (the oldest is forgotten first).
const CAPACITY: usize = 32;

/// A small first-in, first-out memory of token → claims.
#[derive(Debug, Default)]
pub struct Claims {
    known: RefCell<Vec<(String, TokenClaims)>>,
}

impl Claims {
    /// The token's claims: remembered, or decoded now (and remembered if reusable).
    pub fn of(&self, token: &str) -> Result<TokenClaims, Refusal> {
        if let Some((_, claims)) = self.known.borrow().iter().find(|(t, _)| t == token) {
            return Ok(claims.clone());
        }
        let claims = decode_claims(token)?;
        if !claims.is_v3() {
            let mut known = self.known.borrow_mut();
            if known.len() >= CAPACITY {
                known.remove(0);
            }
            known.push((token.to_owned(), claims.clone()));
        }
        Ok(claims)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.known.borrow().len()
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
        let known = claims.known.borrow();
        assert!(
            known.iter().all(|(t, _)| t != &tokens[0]),
            "the oldest went first"
        );
        assert_eq!(known.last().unwrap().0, tokens[CAPACITY + 4]);
        assert!(known.iter().all(|(t, c)| decode_claims(t).unwrap() == *c));
    }
}
