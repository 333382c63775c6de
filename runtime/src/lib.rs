//! Shared runtime for Tacos services.
//!
//! # Layout
//! - [`status`]: the one error type, [`Status`], with its gRPC and REST forms.
//! - [`context`]: what handlers receive and return ([`Request`], [`Response`], [`Context`]),
//!   the metadata rule and deadlines.
//! - [`grpc`]: helpers the generated tonic services are built on.
//! - [`rest`]: `google.api.http` transcoding: routes, path templates, query parameters, JSON,
//!   SSE/NDJSON streaming.
//! - [`method`]: static facts about methods ([`MethodInfo`]) and their declared policy.
//! - [`auth`]: JWT bearer authentication (HS256, RS256/ES256 through JWKS) and per-method
//!   role and scope checks.
//! - `invoke`: the policy stack every call passes, the same on both protocols (order in its docs).
//! - [`server`]: the builder serving both protocols, health, reflection, runtime layouts.
//! - [`json`]: proto3 JSON support for the generated `serde` impls.
//! - [`client`]: transports and options of the generated clients (gRPC, REST, in-process).
//! - [`config`]: start-up configuration from environment variables.
//! - [`waiting_room`]: the admission-control queue (memory, Redis, Redis Cluster).
//! - [`metrics`]: Prometheus metrics: server, client and waiting-room series, `/metrics` text.
//! - [`telemetry`]: request ids, W3C trace context, logging set-up and the access log.
//! - [`openapi`]: serving the contract's OpenAPI document at `/openapi.json`.
//! - [`idempotency`]: `Idempotency-Key` replays: the first call runs, later ones get its outcome
//!   (memory or Redis).
//! - [`rate_limit`]: token buckets per principal and rate class (memory or Redis).
//! - [`store`]: the error type and Redis connection the policy stores share.
//! - [`resilience`]: client retries (gRFC A6), retry budget and circuit breaker per target, the
//!   same on every transport.
//! - [`migration`]: moving client traffic between transports: a live percentage split and
//!   shadow calls compared field by field.
#![deny(missing_docs)]

pub mod auth;
pub mod client;
pub mod config;
pub mod context;
pub mod grpc;
mod httpbody;
pub mod idempotency;
pub(crate) mod invoke;
pub mod json;
pub mod method;
pub mod metrics;
pub mod migration;
pub mod openapi;
pub mod rate_limit;
pub mod resilience;
pub mod rest;
pub mod server;
pub mod status;
pub mod store;
pub mod telemetry;
pub mod waiting_room;

#[doc(hidden)]
pub mod __private;

pub use context::{
    request_stream, request_stream_of, server_stream, Context, Principal, Protocol, Request,
    RequestStream, Response, ServerStream,
};
pub use httpbody::HttpBody;
pub use method::{Idempotency, MethodInfo, MethodKind, MethodPolicy};
pub use server::{Server, ServiceRegistration};
pub use status::{Code, Status};
/// Binds a handler impl to its contract; see the macro's own documentation.
pub use tacos_macros::{contract, service};

/// Includes the code a build script generated with `tacos_codegen::configure()…compile(…)`:
/// the protobuf packages as modules (`greeter.v1` → `greeter::v1`), `FILE_DESCRIPTOR_SET` and
/// `OPENAPI_JSON`, in the module where it is called.
///
/// ```ignore
/// mod contract {
///     tacos_runtime::include_contract!();
/// }
/// ```
#[macro_export]
macro_rules! include_contract {
    () => {
        include!(concat!(env!("OUT_DIR"), "/tacos/mod.rs"));
    };
}
