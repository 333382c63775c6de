//! The one module generated code reaches into: `::tacos_runtime::__private::…`.
//!
//! Generated files name nothing else of the runtime, so the runtime's layout can change without
//! regenerating them. Not a public API: no stability promises.

pub use http;
pub use prost;
pub use prost_types;
pub use serde;
pub use std::convert::Infallible;
pub use std::future::Future;
pub use std::sync::Arc;
pub use std::task::{Context as TaskContext, Poll};

pub use crate::context::{Request, RequestStream, Response, ServerStream};
pub use crate::httpbody::HttpBody;
pub use crate::method::{Idempotency, MethodInfo, MethodKind, MethodPolicy};
pub use crate::server::ServiceRegistration;
pub use crate::status::Status;

/// Proto3 JSON support for the generated `serde` impls.
pub mod json {
    pub use crate::json::generated::*;
    pub use serde::de::{
        Deserialize, Deserializer, Error as DeError, IgnoredAny, MapAccess, Visitor,
    };
    pub use serde::ser::{Serialize, SerializeMap, Serializer};
}

/// What generated tonic services are made of.
pub mod grpc {
    pub use crate::grpc::{
        bidi_streaming, client_streaming, server_streaming, unary, unimplemented, Body, GrpcFuture,
    };
    pub use tonic::server::NamedService;
    pub use tower::Service;
}

/// What generated clients are made of.
pub mod client {
    pub use crate::client::{Client, ClientOptions, Transport};

    /// The future an in-process client's dispatch returns.
    pub type BoxFuture<T> =
        ::std::pin::Pin<::std::boxed::Box<dyn ::std::future::Future<Output = T> + Send + 'static>>;
}

/// What generated route tables and request builders are made of.
pub mod rest {
    pub use crate::rest::query::{
        descend, descend_oneof, insert, insert_enum, push, push_enum, set, set_enum, set_json,
        set_oneof, set_oneof_enum, set_optional, set_optional_enum, QueryError, QueryFields,
    };
    pub use crate::rest::{
        bidi_streaming, client_streaming, server_streaming, unary, BodySelector, EmptyObject,
        Encoded, EncodedOption, FromParam, HttpMethod, PathTemplate, RestCall, RestHandler,
        RouteSpec, Seg,
    };
}
