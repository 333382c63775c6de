//! Shared runtime for Tacos services.
#![deny(missing_docs)]

pub mod json;
pub mod waiting_room;

#[doc(hidden)]
pub mod __private;
