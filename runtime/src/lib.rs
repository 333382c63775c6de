//! Shared runtime for Tacos services.
#![deny(missing_docs)]

pub mod waiting_room;
