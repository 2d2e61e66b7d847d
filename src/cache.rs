//! The one bounded cache that every memory the core keeps between calls is
//! made of ([`Bounded`]): the gate's decoded tokens, PaymentRequireds and
//! repeat payers, the plans' terms, and the paying client's tokens, routes
//! and delegations. Each owner says, next to its field, what it is keyed by
//! and why that key is safe (who can choose it, what evicting it can change).

use std::cell::RefCell;
use std::fmt;

/// At most `N` entries, at most one per key, kept in the order they were
/// inserted: a full cache forgets its oldest entry first. Reading or updating
/// an entry never moves it (first in, first out); inserting a key again
/// replaces its entry and makes it the newest. An entry inserted with
/// [`Bounded::insert_until`] expires: from that time (ms, of whatever clock
/// the owner reads, since the core has none of its own:
/// [`crate::transport::Transport::now_ms`]) [`Bounded::get_at`] no longer
/// answers it; it stays until evicted, removed or replaced (when every entry
/// lives as long, the oldest is also the first expired, so it goes first).
///
/// Keys are compared with `==` field by field (`K: PartialEq<Q>`, where `Q`
/// may be a borrowed form such as `str` for a `String` key), never joined
/// into one string that two different keys could both make.
///
/// A `Vec` scanned in order, as each cache was before: for the few dozen
/// entries most keep, a scan costs about what hashing the key would, and it
/// is much smaller in the `.wasm` than a hash map (the `lru` crate, measured
/// in bench/README.md). The contents never print in `Debug` (they hold
/// tokens): only how many there are.
pub struct Bounded<K, V, const N: usize>(RefCell<Vec<Entry<K, V>>>);

struct Entry<K, V> {
    key: K,
    value: V,
    /// When it stops being answered by [`Bounded::get_at`] (`u64::MAX`: never).
    until: u64,
}

impl<K, V, const N: usize> Default for Bounded<K, V, N> {
    fn default() -> Self {
        Bounded(RefCell::new(Vec::new()))
    }
}

impl<K, V, const N: usize> fmt::Debug for Bounded<K, V, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bounded({} of {N})", self.0.borrow().len())
    }
}

impl<K, V, const N: usize> Bounded<K, V, N> {
    /// The value kept for `key`, for a cache whose entries don't expire
    /// (one with expiring entries is read with [`Bounded::get_at`]).
    pub fn get<Q: ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: PartialEq<Q>,
        V: Clone,
    {
        self.get_at(key, 0)
    }

    /// The value kept for `key` if it has not expired at `now`.
    pub fn get_at<Q: ?Sized>(&self, key: &Q, now: u64) -> Option<V>
    where
        K: PartialEq<Q>,
        V: Clone,
    {
        self.0
            .borrow()
            .iter()
            .find(|e| e.key == *key && e.until > now)
            .map(|e| e.value.clone())
    }

    /// Runs `f` on the value kept for `key` (expired or not), in place: the
    /// entry keeps its place in the order. `None` when nothing is kept for it.
    pub fn update<Q: ?Sized, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: PartialEq<Q>,
    {
        let mut entries = self.0.borrow_mut();
        entries
            .iter_mut()
            .find(|e| e.key == *key)
            .map(|e| f(&mut e.value))
    }

    /// Keeps `value` for `key`, never expiring, as the newest entry: the one
    /// kept for the same key goes first, then the oldest while the cache is full.
    pub fn insert(&self, key: K, value: V)
    where
        K: PartialEq,
    {
        self.insert_until(key, value, u64::MAX);
    }

    /// [`Bounded::insert`], expiring at `until`.
    pub fn insert_until(&self, key: K, value: V, until: u64)
    where
        K: PartialEq,
    {
        self.remove(&key);
        self.push(key, value, until);
    }

    /// [`Bounded::insert`] of a key the caller has just found missing (a
    /// [`Bounded::get`] or [`Bounded::update`] answered `None`, and nothing
    /// was awaited since): it skips looking for the key again (in the
    /// `.wasm`, one comparison of every key type less). Tests check that the
    /// key really was missing.
    pub fn insert_missing(&self, key: K, value: V)
    where
        K: PartialEq,
    {
        debug_assert!(
            self.0.borrow().iter().all(|e| e.key != key),
            "insert_missing of a key that is kept"
        );
        self.push(key, value, u64::MAX);
    }

    /// Keeps an entry whose key is not kept as the newest, the oldest going
    /// first while the cache is full.
    fn push(&self, key: K, value: V, until: u64) {
        const { assert!(N > 0, "a cache keeps at least one entry") };
        let mut entries = self.0.borrow_mut();
        // Never more than N are kept, so one goes at most.
        if entries.len() >= N {
            entries.remove(0);
        }
        entries.push(Entry { key, value, until });
    }

    /// Forgets what is kept for `key`.
    pub fn remove<Q: ?Sized>(&self, key: &Q)
    where
        K: PartialEq<Q>,
    {
        self.0.borrow_mut().retain(|e| e.key != *key);
    }

    /// Keeps only the entries for which `keep(key, value)` is true (order kept).
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        self.0.borrow_mut().retain(|e| keep(&e.key, &e.value));
    }

    /// How many entries are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// The keys kept, oldest first.
    #[cfg(test)]
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        self.0.borrow().iter().map(|e| e.key.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled<const N: usize>(keys: &[u32]) -> Bounded<u32, String, N> {
        let c = Bounded::default();
        for k in keys {
            c.insert(*k, format!("v{k}"));
        }
        c
    }

    #[test]
    fn capacity_is_kept_exactly_and_the_oldest_goes_first() {
        let c = filled::<3>(&[1, 2, 3]);
        assert_eq!(c.keys(), [1, 2, 3], "full, nothing evicted yet");
        c.insert(4, "v4".into());
        assert_eq!(c.keys(), [2, 3, 4], "the oldest went, and only it");
        for k in 5..20 {
            c.insert(k, format!("v{k}"));
            assert_eq!(c.len(), 3);
        }
        assert_eq!(c.keys(), [17, 18, 19]);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&19).as_deref(), Some("v19"));
    }

    #[test]
    fn reading_or_updating_never_moves_an_entry_inserting_again_does() {
        let c = filled::<3>(&[1, 2, 3]);
        assert_eq!(c.get(&1).as_deref(), Some("v1"));
        assert_eq!(c.update(&1, |v| v.push('!')), Some(()));
        assert_eq!(c.keys(), [1, 2, 3], "a read or an update is not a use");
        c.insert(4, "v4".into());
        assert_eq!(c.get(&1), None, "so the first inserted still goes first");

        c.insert(2, "two".into());
        assert_eq!(
            c.keys(),
            [3, 4, 2],
            "inserted again: replaced, and the newest"
        );
        assert_eq!(c.get(&2).as_deref(), Some("two"));
        c.insert(5, "v5".into());
        assert_eq!(c.keys(), [4, 2, 5], "3 was the oldest now");
        assert_eq!(c.update(&9, |_| ()), None, "nothing kept for 9");
    }

    #[test]
    fn an_entry_expires_at_its_time_and_stays_until_evicted() {
        let c: Bounded<&str, u32, 2> = Bounded::default();
        c.insert_until("a", 1, 1_000);
        assert_eq!(c.get_at(&"a", 999), Some(1));
        assert_eq!(
            c.get_at(&"a", 1_000),
            None,
            "expired at its time, not after"
        );
        assert_eq!(c.len(), 1, "expired, still kept");
        assert_eq!(
            c.update(&"a", |v| *v),
            Some(1),
            "update reaches expired entries"
        );
        c.insert_until("a", 2, 2_000);
        assert_eq!(c.get_at(&"a", 1_500), Some(2), "replaced with a new expiry");
        c.insert("b", 3);
        c.insert_until("c", 4, 10);
        assert_eq!(c.keys(), ["b", "c"]);
        assert_eq!(
            c.get_at(&"b", u64::MAX - 1),
            Some(3),
            "insert: never expires"
        );
    }

    #[test]
    fn keys_are_compared_whole_and_remove_and_retain_keep_the_order() {
        let c: Bounded<(String, Option<String>), u32, 4> = Bounded::default();
        c.insert(("a b".into(), None), 1);
        c.insert(("a".into(), Some("b".into())), 2);
        assert_eq!(c.get(&("a b".to_owned(), None)), Some(1));
        assert_eq!(c.get(&("a".to_owned(), Some("b".to_owned()))), Some(2));
        assert_eq!(c.get(&("a".to_owned(), None)), None);

        let c = filled::<4>(&[1, 2, 3, 4]);
        c.remove(&2);
        c.remove(&7);
        assert_eq!(c.keys(), [1, 3, 4]);
        c.retain(|k, _| *k != 3);
        assert_eq!(c.keys(), [1, 4]);
        c.insert(5, "v5".into());
        c.insert(6, "v6".into());
        c.insert(7, "v7".into());
        assert_eq!(c.keys(), [4, 5, 6, 7], "room made by removal is used first");
    }

    #[test]
    fn insert_missing_is_insert_for_a_missing_key() {
        let c = filled::<3>(&[1, 2, 3]);
        c.insert_missing(4, "v4".into());
        assert_eq!(c.keys(), [2, 3, 4]);
    }

    #[test]
    #[should_panic(expected = "insert_missing of a key that is kept")]
    fn insert_missing_of_a_kept_key_fails_in_tests() {
        filled::<3>(&[1, 2]).insert_missing(2, "again".into());
    }

    #[test]
    fn str_keys_are_read_without_an_owned_key_and_debug_shows_no_contents() {
        let c: Bounded<String, u32, 2> = Bounded::default();
        c.insert("secret-token".into(), 1);
        assert_eq!(c.get("secret-token"), Some(1));
        assert_eq!(c.get("secret"), None);
        assert_eq!(format!("{c:?}"), "Bounded(1 of 2)");
    }
}
