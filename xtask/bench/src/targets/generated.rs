//! The generated surfaces: the handler is written once against the trait Tacos generates from
//! `proto/bench.proto`, and the runtime's server builder serves it over gRPC and REST, with the
//! policy layers [`Policies`] names.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tacos_runtime::auth::Authenticator;
use tacos_runtime::config::RuntimeLayout;
use tacos_runtime::rate_limit::RateLimiter;
use tacos_runtime::server::{Bind, PolicyConfig};
use tacos_runtime::telemetry::{init_logging, LogConfig};
use tacos_runtime::{MethodPolicy, Request, Response, Server, Status};

use crate::generated::bench::v1::{gateway_service, Gateway, JoinReply, JoinRequest};
use crate::layout::Layout;
use crate::work::Queue;
use crate::Protocol;

/// The rate class of `Join` when rate limits are on.
pub const JOIN_RATE_CLASS: &str = "join";

// `Join`'s policy under each combination of auth and rate limits: what the service attribute
// records for `#[tacos]`, `#[tacos(rate = "join")]` and `#[tacos(public, rate = "join")]`, written
// out because the bench contract is generated at build time, without the descriptor set the
// attribute reads.
static AUTHENTICATED_JOIN: MethodPolicy = MethodPolicy::DEFAULT;
static AUTHENTICATED_LIMITED_JOIN: MethodPolicy = MethodPolicy {
    rate_class: Some(JOIN_RATE_CLASS),
    ..MethodPolicy::DEFAULT
};
static PUBLIC_LIMITED_JOIN: MethodPolicy = MethodPolicy {
    public: true,
    rate_class: Some(JOIN_RATE_CLASS),
    ..MethodPolicy::DEFAULT
};

/// The policy layers a generated server runs, each switched on by name so the bench can price
/// them one at a time (`bench-server --policies metrics,logs,auth,rate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    /// Request counts and latency histograms (served at `/metrics`).
    pub metrics: bool,
    /// JSON logs on stdout: one access-log line per call.
    pub logs: bool,
    /// HS256 bearer tokens ([`crate::client::BENCH_JWT_SECRET`]) required on `Join`.
    pub auth: bool,
    /// A token bucket per caller on `Join`, set high enough never to refuse the bench's load.
    pub rate: bool,
}

impl Default for Policies {
    /// What a server gets without configuring anything: metrics only.
    fn default() -> Self {
        Self {
            metrics: true,
            logs: false,
            auth: false,
            rate: false,
        }
    }
}

impl Policies {
    /// Every layer.
    pub const ALL: Policies = Policies {
        metrics: true,
        logs: true,
        auth: true,
        rate: true,
    };

    /// Parses `none`, `all`, or a comma-separated list of `metrics`, `logs`, `auth`, `rate`.
    pub fn parse(list: &str) -> Option<Self> {
        match list {
            "none" => {
                return Some(Self {
                    metrics: false,
                    ..Self::default()
                })
            }
            "all" => return Some(Self::ALL),
            _ => {}
        }
        let mut policies = Self {
            metrics: false,
            ..Self::default()
        };
        for layer in list.split(',') {
            match layer {
                "metrics" => policies.metrics = true,
                "logs" => policies.logs = true,
                "auth" => policies.auth = true,
                "rate" => policies.rate = true,
                _ => return None,
            }
        }
        Some(policies)
    }

    /// The method policy `Join` declares under these layers (none when neither auth nor rate
    /// limits are on, as for a handler not bound with the service attribute).
    fn join_policy(self) -> Option<&'static MethodPolicy> {
        match (self.auth, self.rate) {
            (true, false) => Some(&AUTHENTICATED_JOIN),
            (true, true) => Some(&AUTHENTICATED_LIMITED_JOIN),
            (false, true) => Some(&PUBLIC_LIMITED_JOIN),
            (false, false) => None,
        }
    }

    /// The settings the layers read, as a deployment would set them in the environment.
    fn settings(self) -> HashMap<&'static str, String> {
        let mut vars = HashMap::new();
        if self.auth {
            vars.insert("JWT_SECRET", crate::client::BENCH_JWT_SECRET.to_owned());
        }
        if self.rate {
            vars.insert("RATE_LIMIT_JOIN", "1000000/s burst 1000000".to_owned());
        }
        if self.logs {
            vars.insert("LOG_FORMAT", "json".to_owned());
            // A filter of the caller's, to price parts of the logging (`tacos::server=off`).
            if let Ok(level) = std::env::var("LOG_LEVEL") {
                vars.insert("LOG_LEVEL", level);
            }
        }
        vars
    }
}

/// The one handler behind both generated surfaces.
#[derive(Debug, Clone)]
pub struct GeneratedGateway {
    queue: Arc<Queue>,
    policy: Option<&'static MethodPolicy>,
}

impl GeneratedGateway {
    /// A handler joining users to `queue`, declaring no method policy.
    pub fn new(queue: Arc<Queue>) -> Self {
        Self {
            queue,
            policy: None,
        }
    }
}

impl Gateway for GeneratedGateway {
    fn method_policy(&self, method: &str) -> Option<&'static MethodPolicy> {
        self.policy.filter(|_| method == "Join")
    }

    async fn join(&self, request: Request<JoinRequest>) -> Result<Response<JoinReply>, Status> {
        let message = request.message();
        match self
            .queue
            .join(&message.event_id, &message.user_id, message.quantity)
        {
            Ok(joined) => Ok(Response::new(JoinReply {
                ticket: joined.ticket,
                position: joined.position,
            })),
            Err(rejected) => Err(Status::invalid_field(
                rejected.field(),
                rejected.to_string(),
            )),
        }
    }
}

/// The runtime layout the server builder offers for a bench layout.
fn runtime_layout(layout: Layout) -> RuntimeLayout {
    match layout {
        // One current-thread runtime is the per-core layout with one core.
        Layout::CurrentThread => RuntimeLayout::PerCore { threads: 1 },
        Layout::PerCore { runtimes } => RuntimeLayout::PerCore { threads: runtimes },
        Layout::MultiThread { workers } => RuntimeLayout::MultiThread { workers },
    }
}

/// Serves the generated service the way a Tacos binary does: REST and gRPC on their own ports
/// (`SERVER_PORT`, `GRPC_PORT`), in `layout`, with `policies`; reports the address of
/// `protocol` first, then the other protocol's.
pub(super) fn run(
    protocol: Protocol,
    layout: Layout,
    addr: SocketAddr,
    queue: Arc<Queue>,
    policies: Policies,
    on_bound: impl FnOnce(&[SocketAddr]),
) -> io::Result<()> {
    let settings = policies.settings();
    let lookup = |name: &str| settings.get(name).cloned();
    if policies.logs {
        let config = LogConfig::from_lookup(&lookup).map_err(io::Error::other)?;
        init_logging(&config).map_err(io::Error::other)?;
    }
    let config =
        PolicyConfig::from_lookup(&lookup, &[JOIN_RATE_CLASS]).map_err(io::Error::other)?;
    let handler = GeneratedGateway {
        queue,
        policy: policies.join_policy(),
    };
    let mut builder = Server::builder()
        .add(gateway_service(Arc::new(handler)))
        .runtime(runtime_layout(layout));
    if !policies.metrics {
        builder = builder.without_metrics();
    }
    // Policy stores are built inside a runtime, which lives as long as the server (this function
    // never returns) in case they keep background tasks on it.
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    {
        let _entered = setup.enter();
        if let Some(auth) = &config.auth {
            builder =
                builder.authenticator(Authenticator::new(auth.clone()).map_err(io::Error::other)?);
        }
        if policies.rate {
            let limiter = RateLimiter::new(&config.rate_limit).map_err(io::Error::other)?;
            builder = builder.rate_limiter(Arc::new(limiter));
        }
    }
    let server = builder.build().map_err(io::Error::other)?;
    let running = server
        .start(Bind {
            rest: addr,
            grpc: Some(addr),
        })
        .map_err(io::Error::other)?;
    let (grpc, rest) = running
        .grpc_addr()
        .zip(running.rest_addr())
        .ok_or_else(|| io::Error::other("the server bound no gRPC or no REST listener"))?;
    on_bound(&match protocol {
        Protocol::Grpc => [grpc, rest],
        Protocol::Rest => [rest, grpc],
    });
    // The server runs on its own threads until the process ends.
    let _setup = setup;
    loop {
        std::thread::park();
    }
}
