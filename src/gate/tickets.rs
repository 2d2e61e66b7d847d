//! The tickets of requests between a gate's `begin` and `finish`, kept on
//! this side of the boundary: JavaScript holds a number, not the ticket
//! (which would cross twice, about 2 KB each way, and be read back). At most
//! [`CAPACITY`] are open; beyond that the oldest is dropped (its `finish`
//! then fails, and the paywall answers 500: no content).

use std::cell::{Cell, RefCell};

/// Open tickets at most.
pub const CAPACITY: usize = 4096;

/// Open tickets by number.
#[derive(Debug)]
pub struct Tickets<T> {
    open: RefCell<Vec<(u32, T)>>,
    next: Cell<u32>,
}

impl<T> Default for Tickets<T> {
    fn default() -> Self {
        Tickets {
            open: RefCell::new(Vec::new()),
            next: Cell::new(0),
        }
    }
}

impl<T> Tickets<T> {
    /// Keeps `ticket`; its number.
    pub fn keep(&self, ticket: T) -> u32 {
        let id = self.next.get().wrapping_add(1);
        self.next.set(id);
        let mut open = self.open.borrow_mut();
        if open.len() >= CAPACITY {
            open.remove(0);
        }
        open.push((id, ticket));
        id
    }

    /// The ticket numbered `id`, once. The others keep their order (oldest
    /// first), which is what dropping the oldest at capacity relies on.
    pub fn take(&self, id: u32) -> Option<T> {
        let mut open = self.open.borrow_mut();
        let at = open.iter().position(|(i, _)| *i == id)?;
        Some(open.remove(at).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_taken_once_and_the_oldest_goes_at_capacity() {
        let t = Tickets::default();
        let first = t.keep(0usize);
        let second = t.keep(1);
        assert_ne!(first, second);
        assert_eq!(t.take(second), Some(1));
        assert_eq!(
            t.take(second),
            None,
            "a finished ticket can't be finished again"
        );
        for n in 0..CAPACITY {
            t.keep(n);
        }
        assert_eq!(t.take(first), None, "dropped when the cap was reached");
        assert_eq!(t.open.borrow().len(), CAPACITY);
    }

    #[test]
    fn at_capacity_the_oldest_open_ticket_is_dropped_whatever_was_taken_before() {
        // Issue #20: taking a ticket must not reorder the others (swap_remove moved the
        // newest into the taken one's place, and the next eviction dropped it).
        let t = Tickets::default();
        let ids: Vec<u32> = (0..CAPACITY).map(|n| t.keep(n)).collect();
        assert_eq!(t.take(ids[0]), Some(0));
        let newer = t.keep(CAPACITY); // fills the slot the taken ticket left
        let newest = t.keep(CAPACITY + 1); // at capacity: the oldest open one goes
        assert_eq!(t.take(ids[1]), None, "the oldest open ticket was dropped");
        assert_eq!(
            t.take(ids[CAPACITY - 1]),
            Some(CAPACITY - 1),
            "not the newest of the first batch"
        );
        assert_eq!(t.take(newer), Some(CAPACITY));
        assert_eq!(t.take(newest), Some(CAPACITY + 1));
        for (n, id) in ids.iter().enumerate().skip(2).take(CAPACITY - 3) {
            assert_eq!(t.take(*id), Some(n), "every other ticket is still open");
        }
        assert!(t.open.borrow().is_empty());
    }
}
