//! Emitters: each turns the contract model (or descriptors) into Rust tokens.

pub mod client;
pub mod json;
pub mod openapi;
pub mod service;
