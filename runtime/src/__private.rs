//! The only paths generated code touches (`::tacos_runtime::__private::…`).
//!
//! Not a public API: it changes together with the code generator, so the rest of the runtime can
//! change its inside without breaking checked-in generated files.

pub use std::convert::Infallible;
pub use std::future::Future;
pub use std::sync::Arc;
pub use std::task::{Context as TaskContext, Poll};

pub use crate::context::{Request, Response, ServerStream};
pub use crate::server::{MethodInfo, MethodKind, MethodPolicy, ServiceRegistration};
pub use crate::status::Status;

/// What generated tonic services are made of.
pub mod grpc {
    pub use crate::grpc::{server_streaming, unary, unimplemented, Body, GrpcFuture};
    pub use tonic::server::NamedService;
    pub use tower::Service;
}

/// What generated route tables and request builders are made of.
pub mod rest {
    pub use crate::rest::query::{
        descend, push, push_enum, set, set_enum, set_optional, set_optional_enum, QueryError,
        QueryFields,
    };
    pub use crate::rest::{
        server_streaming, unary, BodySelector, FromParam, HttpMethod, PathTemplate, RestCall,
        RestHandler, RouteSpec, Seg,
    };
}
