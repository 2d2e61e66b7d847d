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

    /// The ticket numbered `id`, once.
    pub fn take(&self, id: u32) -> Option<T> {
        let mut open = self.open.borrow_mut();
        let at = open.iter().position(|(i, _)| *i == id)?;
        Some(open.swap_remove(at).1)
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
}
