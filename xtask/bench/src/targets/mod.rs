//! The servers under test, each a [`Target`] that `bench-server` runs in a [`Layout`].

mod axum_rest;
mod full_join;
mod gateway;
mod generated;
mod tonic_grpc;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::layout::Layout;
use crate::work::Queue;
use crate::Protocol;

pub use axum_rest::router as axum_router;
pub use generated::{GeneratedGateway, Policies, JOIN_RATE_CLASS};
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
    /// Hand-written tonic full join: HS256 bearer token + Redis (needs `redis`).
    TonicJoin,
    /// Hand-written axum full join: HS256 bearer token + Redis (needs `redis`).
    AxumJoin,
    /// The Traffic Tacos gateway's JoinQueue over gRPC, every policy on (needs `redis`).
    GatewayGrpc,
    /// The Traffic Tacos gateway's JoinQueue over REST, every policy on (needs `redis`).
    GatewayRest,
}

/// How a target is run beyond its layout and address.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The policy layers of the generated targets.
    pub policies: Policies,
    /// The Redis of the full-join targets (`redis://host:port/`).
    pub redis: Option<String>,
    /// Logs only warnings and errors: for tests, whose output the gateway's access log (one line
    /// per call, part of what the bench measures) would flood.
    pub quiet: bool,
}

impl Target {
    /// Every target, in the order the report lists them.
    pub const ALL: &'static [Target] = &[
        Target::Tonic,
        Target::GeneratedGrpc,
        Target::Axum,
        Target::GeneratedRest,
        Target::TonicJoin,
        Target::GatewayGrpc,
        Target::AxumJoin,
        Target::GatewayRest,
    ];

    /// The name used on command lines and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Target::Tonic => "tonic",
            Target::Axum => "axum",
            Target::GeneratedGrpc => "generated-grpc",
            Target::GeneratedRest => "generated-rest",
            Target::TonicJoin => "tonic-join",
            Target::AxumJoin => "axum-join",
            Target::GatewayGrpc => "gateway-grpc",
            Target::GatewayRest => "gateway-rest",
        }
    }

    /// Whether the target does the full join (token + Redis) rather than the in-memory one.
    pub fn is_full_join(self) -> bool {
        matches!(
            self,
            Target::TonicJoin | Target::AxumJoin | Target::GatewayGrpc | Target::GatewayRest
        )
    }

    /// Parses [`Target::name`] back.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == s)
    }

    /// The protocol the target answers on its address.
    pub fn protocol(self) -> Protocol {
        match self {
            Target::Tonic | Target::GeneratedGrpc | Target::TonicJoin | Target::GatewayGrpc => {
                Protocol::Grpc
            }
            Target::Axum | Target::GeneratedRest | Target::AxumJoin | Target::GatewayRest => {
                Protocol::Rest
            }
        }
    }

    /// Whether the target is hand-written (the baseline) rather than generated.
    pub fn is_baseline(self) -> bool {
        matches!(
            self,
            Target::Tonic | Target::Axum | Target::TonicJoin | Target::AxumJoin
        )
    }

    /// The layout kinds (`current`, `per-core`, `multi`) the target can run in.
    /// Every target runs in every layout: the hand-written ones through [`Layout`], the generated
    /// ones through the runtime's server builder, which offers the same three.
    pub fn layouts(self) -> &'static [&'static str] {
        &["current", "per-core", "multi"]
    }

    /// Binds `addr` in `layout`, reports the bound addresses through `on_bound` (the target's
    /// protocol first; framework servers also listen on the other protocol), then serves until
    /// the process ends.
    pub fn run(
        self,
        layout: Layout,
        addr: SocketAddr,
        options: &RunOptions,
        on_bound: impl FnOnce(&[SocketAddr]),
    ) -> io::Result<()> {
        let redis = || {
            options
                .redis
                .clone()
                .ok_or_else(|| io::Error::other(format!("{} needs a Redis", self.name())))
        };
        let queue = Arc::new(Queue::new());
        match self {
            // The runtime's server builder owns its threads, runtimes and listeners.
            Target::GeneratedGrpc | Target::GeneratedRest => {
                let policies = options.policies;
                generated::run(self.protocol(), layout, addr, queue, policies, on_bound)
            }
            Target::GatewayGrpc | Target::GatewayRest => {
                gateway::run(self.protocol(), layout, &redis()?, options.quiet, on_bound)
            }
            Target::Tonic | Target::Axum | Target::TonicJoin | Target::AxumJoin => {
                let redis = if self.is_full_join() {
                    redis()?
                } else {
                    String::new()
                };
                let bound = layout.bind(addr)?;
                on_bound(&[bound.local_addr()]);
                match self {
                    Target::Tonic => {
                        bound.serve(move |listener| tonic_grpc::serve(listener, queue.clone()))
                    }
                    Target::Axum => {
                        bound.serve(move |listener| axum_rest::serve(listener, queue.clone()))
                    }
                    Target::TonicJoin => {
                        bound.serve(move |listener| full_join::serve_tonic(listener, redis.clone()))
                    }
                    _ => {
                        bound.serve(move |listener| full_join::serve_axum(listener, redis.clone()))
                    }
                }
            }
        }
    }
}
