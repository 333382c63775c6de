//! The REST surface: `google.api.http` transcoding onto the same handlers gRPC calls.
//!
//! Generated code describes each binding as a static [`RouteSpec`] (method, [`PathTemplate`],
//! [`BodySelector`], `response_body`) and pairs it with a [`RestHandler`] made by [`unary`] or
//! [`server_streaming`]. The handler builds the request message in three steps, in this order:
//! the body (JSON), then query parameters ([`QueryFields`]), then path variables, so a path value
//! beats a query value. Errors are JSON `google.rpc.Status` bodies with the mapped HTTP status
//! ([`crate::status::http`]); an unknown path is 404, a known path with another method 405 with
//! `Allow`.
//!
//! Parts: [`template`] (const path templates and matching, with the percent-decoding rules),
//! [`query`] and [`value`] (query strings and scalar parsing), [`json`] (bodies), [`stream`]
//! (SSE and NDJSON), `raw` (`google.api.HttpBody` answers, raw), `endpoint` (the routes as a
//! tower service and an `axum::Router`).

mod call;
pub(crate) mod endpoint;
pub mod json;
mod lines;
mod mask;
mod percent;
pub mod query;
mod raw;
mod response;
mod route;
pub(crate) mod router;
pub(crate) mod service;
pub mod stream;
pub mod template;
pub mod value;
mod websocket;

pub use call::{
    bidi_streaming, client_streaming, server_streaming, unary, RestCall, RestFuture, RestHandler,
};
pub use json::{EmptyObject, Encoded, EncodedOption};
pub use query::{QueryError, QueryFields};
pub use response::error as error_response;
pub use route::{BodySelector, HttpMethod, RouteSpec};
pub use template::{PathTemplate, Seg};
pub use value::FromParam;
