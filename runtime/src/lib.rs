//! Shared runtime for Tacos services.
//!
//! # Layout
//! - [`status`]: the one error type, [`Status`], with its gRPC and REST forms.
//! - [`context`]: what handlers receive and return ([`Request`], [`Response`], [`Context`]),
//!   the metadata rule and deadlines.
//! - [`grpc`]: helpers the generated tonic services are built on.
//! - [`rest`]: `google.api.http` transcoding: routes, path templates, query parameters, JSON,
//!   SSE/NDJSON streaming.
//! - [`server`]: the builder serving both protocols, health, reflection, runtime layouts.
//! - [`json`]: proto3 JSON support for the generated `serde` impls.
//! - [`config`]: start-up configuration from environment variables.
#![deny(missing_docs)]

pub mod config;
pub mod context;
pub mod grpc;
pub mod json;
pub mod rest;
pub mod server;
pub mod status;

#[doc(hidden)]
pub mod __private;

pub use context::{server_stream, Context, Principal, Protocol, Request, Response, ServerStream};
pub use server::{MethodInfo, MethodKind, MethodPolicy, Server, ServiceRegistration};
pub use status::{Code, Status};
