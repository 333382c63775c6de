//! The servers under test, each a [`Target`] that `bench-server` runs in a [`Layout`].

mod axum_rest;
mod generated;
mod tonic_grpc;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::layout::Layout;
use crate::work::Queue;
use crate::Protocol;

pub use axum_rest::router as axum_router;
pub use generated::GeneratedGateway;
pub use tonic_grpc::TonicGateway;

/// One server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Hand-written tonic service over tonic-prost-build stubs.
    Tonic,
    /// Hand-written axum handler with serde_derive types.
    Axum,
    /// The generated gRPC surface, served by the runtime's server builder.
    GeneratedGrpc,
    /// The generated REST surface, served by the runtime's server builder.
    GeneratedRest,
}

impl Target {
    /// Every target, in the order the report lists them.
    pub const ALL: &'static [Target] = &[
        Target::Tonic,
        Target::GeneratedGrpc,
        Target::Axum,
        Target::GeneratedRest,
    ];

    /// The name used on command lines and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Target::Tonic => "tonic",
            Target::Axum => "axum",
            Target::GeneratedGrpc => "generated-grpc",
            Target::GeneratedRest => "generated-rest",
        }
    }

    /// Parses [`Target::name`] back.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == s)
    }

    /// The protocol the target answers on its address.
    pub fn protocol(self) -> Protocol {
        match self {
            Target::Tonic | Target::GeneratedGrpc => Protocol::Grpc,
            Target::Axum | Target::GeneratedRest => Protocol::Rest,
        }
    }

    /// Whether the target is hand-written (the baseline) rather than generated.
    pub fn is_baseline(self) -> bool {
        matches!(self, Target::Tonic | Target::Axum)
    }

    /// The layout kinds (`current`, `per-core`, `multi`) the target can run in.
    /// Every target runs in every layout: the hand-written ones through [`Layout`], the generated
    /// ones through the runtime's server builder, which offers the same three.
    pub fn layouts(self) -> &'static [&'static str] {
        &["current", "per-core", "multi"]
    }

    /// Binds `addr` in `layout`, reports the bound address through `on_bound`, then serves until
    /// the process ends.
    pub fn run(
        self,
        layout: Layout,
        addr: SocketAddr,
        on_bound: impl FnOnce(SocketAddr),
    ) -> io::Result<()> {
        let queue = Arc::new(Queue::new());
        if !self.is_baseline() {
            // The runtime's server builder owns its threads, runtimes and listeners.
            return generated::run(self.protocol(), layout, addr, queue, on_bound);
        }
        let bound = layout.bind(addr)?;
        on_bound(bound.local_addr());
        match self {
            Target::Tonic => {
                bound.serve(move |listener| tonic_grpc::serve(listener, queue.clone()))
            }
            _ => bound.serve(move |listener| axum_rest::serve(listener, queue.clone())),
        }
    }
}
