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
//! - `invoke`: running one call the same way on both protocols: deadline, cancellation.
//! - [`server`]: the builder serving both protocols, health, reflection, runtime layouts.
//! - [`json`]: proto3 JSON support for the generated `serde` impls.
//! - [`client`]: transports and options of the generated clients (gRPC, REST, in-process).
//! - [`config`]: start-up configuration from environment variables.
//! - [`waiting_room`]: the admission-control queue (memory, Redis, Redis Cluster).
//! - [`openapi`]: serving the contract's OpenAPI document at `/openapi.json`.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod context;
pub mod grpc;
pub(crate) mod invoke;
pub mod json;
pub mod method;
pub mod openapi;
pub mod rest;
pub mod server;
pub mod status;
pub mod waiting_room;

#[doc(hidden)]
pub mod __private;

pub use context::{server_stream, Context, Principal, Protocol, Request, Response, ServerStream};
pub use method::{MethodInfo, MethodKind, MethodPolicy};
pub use server::{Server, ServiceRegistration};
pub use status::{Code, Status};
/// Binds a handler impl to its contract; see the macro's own documentation.
pub use tacos_macros::service;
