//! Shared runtime for Tacos services.
#![deny(missing_docs)]

pub mod json;
#[doc(hidden)]
pub mod __private;
