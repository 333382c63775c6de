//! Emitters: each turns the contract model (or descriptors) into Rust tokens.

pub mod json;
pub mod service;
