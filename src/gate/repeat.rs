//! Repeat payers (`repeatPayers`): a reusable (v2) token that verified and
//! settled on a route may, within the window, skip verify there: the handler
//! runs, then settle (one backend round trip instead of two). Still fail
//! closed: a refused settle withholds the body.
//!
//! What bounds the handler runs a failed settle can waste: the window, and
//! the balance the last receipt reported — a request goes without verify only
//! while that balance, less the credits of requests already in flight on it,
//! covers its price. A token whose receipt shows too little goes through the
//! normal verify, never a 402 of the gate's own: the backend may still pay (a
//! card delegation tops the plan up at verify and settle; issue #20). So only
//! credits spent elsewhere (another agent, another isolate) within the window
//! can make a settle fail after the handler ran.

use crate::cache::Bounded;
use crate::protocol::Uint256;
use std::cell::Cell;

/// At most this many tokens are remembered (the oldest is forgotten first).
const CAPACITY: usize = 256;

/// Who a remembered entry is for: a token on a route.
#[derive(Debug, Clone, PartialEq)]
struct Payer {
    token: String,
    /// The route's key (from the paywall's configuration).
    route: String,
}

/// A token and a route as a request names them, to look them up without copying.
type PayerRef<'a> = (&'a str, &'a str);

impl PartialEq<PayerRef<'_>> for Payer {
    fn eq(&self, (token, route): &PayerRef<'_>) -> bool {
        self.token == *token && self.route == *route
    }
}

#[derive(Debug)]
struct Entry {
    /// The end of the window. Kept here, not as the cache's expiry: an entry
    /// past it stays while requests let through on it are in flight.
    until_ms: u64,
    /// Credits left, as of the last receipt.
    remaining: u64,
    /// Credits of requests let through on this entry and not yet settled.
    in_flight: u64,
    /// Which entry this is: a reservation is given back only to the entry that
    /// made it (one forgotten and made anew for the same token starts empty).
    generation: u32,
}

/// What to do with a request whose token is (maybe) remembered.
#[derive(Debug, PartialEq, Eq)]
pub enum Slot {
    /// Skip verify: `credits` are reserved on the entry of this generation until [`Repeats::release`].
    Go(u32),
    /// Not remembered, expired, or the last receipt's balance (less what is in
    /// flight) doesn't cover the price: verify, which may still top up.
    Verify,
}

/// The remembered tokens of one paywall.
#[derive(Debug, Default)]
pub struct Repeats {
    /// Keyed by the token and the route's key, compared field by field (a
    /// token is remembered per route: its receipt was for that route's
    /// price). Only a settle the backend accepted makes an entry, so a client
    /// pays for each one it makes, and what an entry allows is bounded by
    /// that token's own last receipt. A client settling many tokens evicts
    /// other payers' entries, which only sends their next request through
    /// verify; an evicted entry's reservations are given back to nothing (its
    /// generation is gone), never to another entry, so no interleaving moves
    /// credits between tokens or lets a request skip verify on a balance that
    /// isn't its own token's.
    entries: Bounded<Payer, Entry, CAPACITY>,
    generations: Cell<u32>,
}

/// Credits as a u64 (more saturates: no balance is that large, and u128 arithmetic costs .wasm bytes).
fn amount(n: &Uint256) -> u64 {
    n.as_str().parse().unwrap_or(u64::MAX)
}

impl Repeats {
    /// Whether a request on `route` paying `credits` with `token` may skip verify now.
    pub fn take(&self, token: &str, route: &str, credits: &Uint256, now_ms: u64) -> Slot {
        self.entries
            .retain(|_, e| e.until_ms > now_ms || e.in_flight > 0);
        let price = amount(credits);
        let go = |e: &mut Entry| match e.remaining.checked_sub(e.in_flight) {
            Some(free) if free >= price && e.until_ms > now_ms => {
                e.in_flight = e.in_flight.saturating_add(price);
                Slot::Go(e.generation)
            }
            _ => Slot::Verify,
        };
        self.entries
            .update(&(token, route), go)
            .unwrap_or(Slot::Verify)
    }

    /// Gives back a reservation [`Repeats::take`] made on the entry of `generation`.
    pub fn release(&self, token: &str, route: &str, credits: &Uint256, generation: u32) {
        self.entries.update(&(token, route), |e| {
            if e.generation == generation {
                e.in_flight = e.in_flight.saturating_sub(amount(credits));
            }
        });
    }

    /// A settle succeeded: remember the token for `window_ms` more, with the
    /// receipt's balance (`None`: unknown, so not remembered).
    pub fn settled(&self, token: &str, route: &str, remaining: Option<&Uint256>, until_ms: u64) {
        let Some(remaining) = remaining.map(amount) else {
            self.forget(token, route);
            return;
        };
        let known = self.entries.update(&(token, route), |e| {
            e.remaining = remaining;
            e.until_ms = until_ms;
        });
        if known.is_none() {
            let generation = self.generations.get().wrapping_add(1);
            self.generations.set(generation);
            let payer = Payer {
                token: token.to_owned(),
                route: route.to_owned(),
            };
            self.entries.insert_missing(
                payer,
                Entry {
                    until_ms,
                    remaining,
                    in_flight: 0,
                    generation,
                },
            );
        }
    }

    /// A settle was refused: forget the token (the next request verifies).
    pub fn forget(&self, token: &str, route: &str) {
        self.entries.remove(&(token, route));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_and_the_receipts_balance_bound_the_requests_that_skip_verify() {
        let r = Repeats::default();
        let two = Uint256::from(2);
        assert_eq!(
            r.take("t", "POST /a", &two, 0),
            Slot::Verify,
            "never settled"
        );
        r.settled("t", "POST /a", Some(&Uint256::from(5)), 1_000);
        assert_eq!(
            r.take("t", "POST /b", &two, 10),
            Slot::Verify,
            "another route"
        );
        assert_eq!(r.take("t", "POST /a", &two, 10), Slot::Go(1));
        assert_eq!(r.take("t", "POST /a", &two, 10), Slot::Go(1));
        assert_eq!(
            r.take("t", "POST /a", &two, 10),
            Slot::Verify,
            "5 credits, 4 in flight: the third verifies"
        );
        r.release("t", "POST /a", &two, 1);
        r.settled("t", "POST /a", Some(&Uint256::from(3)), 1_500);
        r.release("t", "POST /a", &two, 1);
        assert_eq!(r.take("t", "POST /a", &two, 1_400), Slot::Go(1));
        r.settled("t", "POST /a", Some(&Uint256::from(1)), 2_000);
        r.release("t", "POST /a", &two, 1);
        assert_eq!(
            r.take("t", "POST /a", &two, 1_900),
            Slot::Verify,
            "the receipt left 1: verify (the backend may top up), never a refusal of its own"
        );
        assert_eq!(
            r.take("t", "POST /a", &two, 2_000),
            Slot::Verify,
            "the window is over"
        );
        r.settled("u", "POST /a", Some(&Uint256::from(9)), 5_000);
        r.forget("u", "POST /a");
        assert_eq!(
            r.take("u", "POST /a", &two, 10),
            Slot::Verify,
            "a refused settle forgets"
        );
        r.settled("v", "POST /a", None, 5_000);
        assert_eq!(
            r.take("v", "POST /a", &two, 10),
            Slot::Verify,
            "no balance in the receipt: not remembered"
        );
    }

    #[test]
    fn a_reservation_goes_back_only_to_the_entry_that_made_it() {
        // A request that skipped verify, then its token forgotten (a refused settle) and
        // remembered anew: the old request's reservation must not free the new entry's.
        let r = Repeats::default();
        let two = Uint256::from(2);
        r.settled("t", "R", Some(&Uint256::from(4)), 1_000);
        let Slot::Go(old) = r.take("t", "R", &two, 0) else {
            panic!("the first request skips verify")
        };
        r.forget("t", "R");
        r.settled("t", "R", Some(&Uint256::from(3)), 1_000);
        let Slot::Go(new) = r.take("t", "R", &two, 0) else {
            panic!("3 credits cover 2")
        };
        assert_ne!(old, new);
        r.release("t", "R", &two, old);
        assert_eq!(
            r.take("t", "R", &two, 0),
            Slot::Verify,
            "3 credits, 2 still in flight on the new entry: verify"
        );
        r.release("t", "R", &two, new);
        assert!(matches!(r.take("t", "R", &two, 0), Slot::Go(_)));
    }

    #[test]
    fn an_entry_past_its_window_stays_while_a_request_on_it_is_in_flight() {
        let r = Repeats::default();
        let two = Uint256::from(2);
        r.settled("t", "R", Some(&Uint256::from(9)), 100);
        r.settled("u", "R", Some(&Uint256::from(9)), 100);
        let Slot::Go(g) = r.take("t", "R", &two, 50) else {
            panic!("9 credits cover 2")
        };
        assert_eq!(
            r.take("t", "R", &two, 100),
            Slot::Verify,
            "the window is over"
        );
        assert_eq!(
            r.entries.keys(),
            [Payer {
                token: "t".into(),
                route: "R".into()
            }],
            "u (nothing in flight) went, t stays for its request"
        );
        // Its settle renews that same entry, and the reservation goes back to it.
        r.settled("t", "R", Some(&Uint256::from(7)), 1_000);
        assert_eq!(
            r.take("t", "R", &two, 200),
            Slot::Go(g),
            "7 less 2 in flight covers 2"
        );
        r.release("t", "R", &two, g);
        r.release("t", "R", &two, g);
        assert_eq!(
            r.take("t", "R", &Uint256::from(7), 300),
            Slot::Go(g),
            "all 7 free again"
        );
    }

    #[test]
    fn at_most_capacity_tokens_are_remembered() {
        let r = Repeats::default();
        for i in 0..CAPACITY {
            r.settled(&format!("t{i}"), "R", Some(&Uint256::from(9)), 100);
        }
        // Settling again renews the entry in place: t0 is still the oldest.
        r.settled("t0", "R", Some(&Uint256::from(9)), 100);
        r.settled(&format!("t{CAPACITY}"), "R", Some(&Uint256::from(9)), 100);
        assert_eq!(r.entries.len(), CAPACITY);
        assert_eq!(
            r.take("t0", "R", &Uint256::from(1), 0),
            Slot::Verify,
            "the oldest went first"
        );
        assert!(matches!(
            r.take("t1", "R", &Uint256::from(1), 0),
            Slot::Go(_)
        ));
    }
}
