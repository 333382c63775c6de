//! Attribute macros that bind handler impls to Tacos contracts.
#![deny(missing_docs)]
