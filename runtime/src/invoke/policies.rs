//! The policies one server applies, and how a call finds them.

use std::sync::{Arc, OnceLock};

use http::HeaderValue;
use tokio_util::sync::CancellationToken;

use crate::auth::Authenticator;
use crate::idempotency::Idempotency;
use crate::metrics::ServerMetrics;
use crate::rate_limit::RateLimiter;
use crate::telemetry::CallTelemetry;

/// The server's shutdown signal, carried in request extensions so response streams can end
/// cleanly when the server stops.
#[derive(Clone, Debug)]
pub(crate) struct ServerShutdown(pub(crate) CancellationToken);

/// Everything the policy stack needs, built once with the server and shared by every listener
/// and runtime thread (it travels in each request's extensions as an `Arc`).
#[derive(Default)]
pub(crate) struct Policies {
    /// Largest gRPC request message accepted, checked by tonic before decoding.
    pub(crate) max_message_bytes: usize,
    /// Per-method series, resolved when the server was built.
    pub(crate) metrics: Option<ServerMetrics>,
    /// Bearer-token verification; without it, methods that are not public are refused.
    pub(crate) auth: Option<Authenticator>,
    /// Token buckets per principal and rate class.
    pub(crate) rate_limit: Option<Arc<RateLimiter>>,
    /// `Idempotency-Key` replays for methods marked idempotent.
    pub(crate) idempotency: Option<Arc<Idempotency>>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("max_message_bytes", &self.max_message_bytes)
            .field("metrics", &self.metrics.is_some())
            .field("auth", &self.auth.is_some())
            .field("rate_limit", &self.rate_limit.is_some())
            .field("idempotency", &self.idempotency.is_some())
            .finish()
    }
}

/// What the server's dispatcher hands each call, as one request extension (each extension is
/// an allocation and a hash-map insert, on every request).
#[derive(Clone, Debug)]
pub(crate) struct CallEnv {
    /// The server's policies.
    pub(crate) policies: Arc<Policies>,
    /// The call's request id and trace context, read once from its headers.
    pub(crate) telemetry: CallTelemetry,
}

impl CallEnv {
    /// Hands `request` its policies and telemetry identity (request id and trace context, read
    /// once per request); returns the request id to send back on the response.
    pub(crate) fn attach<B>(
        request: &mut http::Request<B>,
        policies: &Arc<Policies>,
    ) -> HeaderValue {
        let telemetry = CallTelemetry::from_headers(request.headers());
        let request_id = telemetry.request_id().header_value().clone();
        request.extensions_mut().insert(CallEnv {
            policies: Arc::clone(policies),
            telemetry,
        });
        request_id
    }
}

impl Policies {
    /// The policies in `extensions`, or the defaults for a call that did not come through a
    /// server (generated services driven directly, in tests).
    pub(crate) fn of(extensions: &http::Extensions) -> Arc<Policies> {
        static DEFAULT: OnceLock<Arc<Policies>> = OnceLock::new();
        match extensions.get::<CallEnv>() {
            Some(env) => Arc::clone(&env.policies),
            None => Arc::clone(DEFAULT.get_or_init(|| {
                Arc::new(Policies {
                    max_message_bytes: 4 * 1024 * 1024,
                    ..Policies::default()
                })
            })),
        }
    }
}
