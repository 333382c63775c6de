//! What a generated `<service>_service(handler)` function returns: everything the server needs to
//! serve one service on both protocols.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use tower::{Service, ServiceExt};

use crate::grpc::{Body, GrpcFuture};
use crate::method::MethodInfo;
use crate::rest::{RestHandler, RouteSpec};

/// A gRPC service behind one function call per request.
pub(crate) type GrpcHandler =
    Arc<dyn Fn(http::Request<Body>) -> GrpcFuture + Send + Sync + 'static>;

/// One service, ready to be added to a [`Server`](super::Server): its gRPC service, its REST
/// routes, its name (for health) and its descriptor set (for reflection).
pub struct ServiceRegistration {
    pub(crate) name: &'static str,
    pub(crate) methods: &'static [MethodInfo],
    pub(crate) descriptor_set: &'static [u8],
    pub(crate) grpc: Option<GrpcHandler>,
    pub(crate) routes: Vec<(&'static RouteSpec, RestHandler)>,
}

impl ServiceRegistration {
    /// A registration for the service `name` (`pkg.v1.Library`) with its method table and the
    /// encoded `FileDescriptorSet` that defines it.
    pub fn new(
        name: &'static str,
        methods: &'static [MethodInfo],
        descriptor_set: &'static [u8],
    ) -> Self {
        Self {
            name,
            methods,
            descriptor_set,
            grpc: None,
            routes: Vec::new(),
        }
    }

    /// Sets the gRPC service (a generated one, whose futures are already boxed).
    pub fn with_grpc<S>(mut self, service: S) -> Self
    where
        S: Service<
                http::Request<Body>,
                Response = http::Response<Body>,
                Error = Infallible,
                Future = GrpcFuture,
            > + Clone
            + Send
            + Sync
            + 'static,
    {
        self.grpc = Some(Arc::new(move |request| service.clone().call(request)));
        self
    }

    /// Adds a REST route.
    pub fn with_route(mut self, spec: &'static RouteSpec, handler: RestHandler) -> Self {
        self.routes.push((spec, handler));
        self
    }

    /// The fully qualified service name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The method table.
    pub fn methods(&self) -> &'static [MethodInfo] {
        self.methods
    }

    /// The REST routes.
    pub fn routes(&self) -> impl Iterator<Item = &'static RouteSpec> + '_ {
        self.routes.iter().map(|(spec, _)| *spec)
    }

    /// The encoded `FileDescriptorSet` served by reflection.
    pub fn descriptor_set(&self) -> &'static [u8] {
        self.descriptor_set
    }
}

impl fmt::Debug for ServiceRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceRegistration")
            .field("name", &self.name)
            .field("methods", &self.methods.len())
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

/// Wraps any tonic-style service (health, reflection, hand-written tonic services).
pub(crate) fn boxed_tonic_service<S>(service: S) -> GrpcHandler
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    Arc::new(move |request| Box::pin(service.clone().oneshot(request)))
}
