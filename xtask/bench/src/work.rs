//! The queue-join work, identical for every target so only the serving surface differs.
//!
//! A join validates its input, takes the next place from a process-wide counter and names a ticket
//! after it: small enough that the request path dominates, real enough to have an error path.

use std::sync::atomic::{AtomicU64, Ordering};

/// The most seats one join may ask for.
pub const MAX_QUANTITY: u32 = 8;

/// A queue shared by every runtime of one server process.
#[derive(Debug, Default)]
pub struct Queue {
    joined: AtomicU64,
}

/// A successful join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// `<event_id>-<position>`.
    pub ticket: String,
    /// The 1-based place in the queue.
    pub position: u64,
}

/// Why a join was refused; every variant is the caller's mistake (gRPC INVALID_ARGUMENT, HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinRejected {
    /// The event id was empty.
    #[error("event_id must not be empty")]
    MissingEvent,
    /// The user id was empty.
    #[error("user_id must not be empty")]
    MissingUser,
    /// The quantity was 0 or above [`MAX_QUANTITY`].
    #[error("quantity must be between 1 and 8, got {0}")]
    BadQuantity(u32),
}

impl JoinRejected {
    /// The request field at fault, as named in the contract.
    pub fn field(&self) -> &'static str {
        match self {
            JoinRejected::MissingEvent => "event_id",
            JoinRejected::MissingUser => "user_id",
            JoinRejected::BadQuantity(_) => "quantity",
        }
    }
}

impl Queue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Joins `user_id` to the queue of `event_id`.
    pub fn join(
        &self,
        event_id: &str,
        user_id: &str,
        quantity: u32,
    ) -> Result<Joined, JoinRejected> {
        if event_id.is_empty() {
            return Err(JoinRejected::MissingEvent);
        }
        if user_id.is_empty() {
            return Err(JoinRejected::MissingUser);
        }
        if quantity == 0 || quantity > MAX_QUANTITY {
            return Err(JoinRejected::BadQuantity(quantity));
        }
        let position = self.joined.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Joined {
            ticket: format!("{event_id}-{position}"),
            position,
        })
    }

    /// How many joins succeeded so far.
    pub fn len(&self) -> u64 {
        self.joined.load(Ordering::Relaxed)
    }

    /// Whether nobody joined yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_up_from_one() {
        let queue = Queue::new();
        assert_eq!(queue.join("e", "u", 1).unwrap().ticket, "e-1");
        let second = queue.join("e", "v", 8).unwrap();
        assert_eq!((second.ticket.as_str(), second.position), ("e-2", 2));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn rejections_name_the_field_and_take_no_place() {
        let queue = Queue::new();
        assert_eq!(queue.join("", "u", 1).unwrap_err().field(), "event_id");
        assert_eq!(queue.join("e", "", 1).unwrap_err().field(), "user_id");
        assert_eq!(
            queue.join("e", "u", 0).unwrap_err(),
            JoinRejected::BadQuantity(0)
        );
        assert_eq!(queue.join("e", "u", 9).unwrap_err().field(), "quantity");
        assert!(queue.is_empty());
    }
}
