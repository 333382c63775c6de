//! Integration tests of the runtime, one binary for the whole crate. The server tests run over
//! real sockets on 127.0.0.1 against the generated code of the test contract
//! `tests/proto/tacos/test/v1/library.proto`.

// Written by `cargo xtask generate`; docs exist only where the `.proto` has comments.
#[allow(missing_docs)]
#[path = "generated/mod.rs"]
mod generated;

mod library {
    pub use crate::generated::tacos::test::v1::*;
}

mod support;

mod auth;
mod axum_router;
mod browsers;
mod client;
mod client_factory;
mod client_resilience;
mod deadlines;
mod errors;
mod fuzz;
mod idempotency;
mod json;
mod lifecycle;
mod openapi;
mod policies;
mod rate_limit;
mod request_streams;
mod streaming;
mod transcoding;
mod unary;
mod waiting_room;
mod websocket;
