//! Shared runtime for Tacos services.
#![deny(missing_docs)]

#[doc(hidden)]
pub mod __private;
pub mod json;
