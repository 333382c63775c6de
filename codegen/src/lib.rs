//! Contract loader, contract model and code emitters for Tacos services.
#![deny(missing_docs)]

pub mod emit;
