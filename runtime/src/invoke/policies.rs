//! The policies one server applies, and how a call finds them.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// The server's shutdown signal, carried in request extensions so response streams can end
/// cleanly when the server stops.
#[derive(Clone, Debug)]
pub(crate) struct ServerShutdown(pub(crate) CancellationToken);

/// Everything the policy stack needs, built once with the server and shared by every listener
/// and runtime thread (it travels in each request's extensions as an `Arc`).
#[derive(Debug)]
pub(crate) struct Policies {
    /// Largest gRPC request message accepted, checked by tonic before decoding.
    pub(crate) max_message_bytes: usize,
}

impl Default for Policies {
    fn default() -> Self {
        Self {
            max_message_bytes: 4 * 1024 * 1024,
        }
    }
}

impl Policies {
    /// The policies in `extensions`, or the defaults for a call that did not come through a
    /// server (generated services driven directly, in tests).
    pub(crate) fn of(extensions: &http::Extensions) -> Arc<Policies> {
        static DEFAULT: OnceLock<Arc<Policies>> = OnceLock::new();
        match extensions.get::<Arc<Policies>>() {
            Some(policies) => Arc::clone(policies),
            None => Arc::clone(DEFAULT.get_or_init(Default::default)),
        }
    }
}
