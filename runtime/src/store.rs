//! What the policy stores ([`idempotency`](crate::idempotency),
//! [`rate_limit`](crate::rate_limit)) share: their error type and the Redis connection.
//!
//! # Redis
//!
//! One multiplexed connection per store ([`ConnectionManager`]): concurrent calls pipeline on it,
//! and it never resends a command, so a script whose reply was lost is not run a second time by
//! the client. When the connection drops, the calls in flight fail and the manager reconnects in
//! the background. Every call runs under a deadline; missing it is [`StoreError::Unavailable`],
//! never a guessed answer.
//!
//! Scripts go out as `EVALSHA`: one round trip per operation. Only the first call after Redis lost
//! its script cache (a restart) costs a second one, to load the script.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, IntoConnectionInfo, ScriptInvocation};

use crate::config::Reader;

/// A policy store could not answer. The caller fails closed (or open, by its own policy); the
/// store never guesses an answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store is unreachable, slow past its deadline, or refused the call for now.
    #[error("policy store unavailable: {0}")]
    Unavailable(String),
    /// The in-memory store reached its size limit and accepts no new keys until some expire.
    #[error("policy store full: {0}")]
    Full(String),
    /// The store refused a call as malformed or answered something this version cannot read
    /// (a bug, a foreign writer, a missing permission); retrying will not help.
    #[error("policy store failed: {0}")]
    Internal(String),
}

/// Default deadline of one Redis call.
pub(crate) const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Connection settings shared by the Redis-backed policy stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisSettings {
    /// `REDIS_URL`: `redis://host:port/db` (or `rediss://`).
    pub url: String,
    /// Prefix of every key the store writes, so several deployments can share one Redis.
    pub prefix: String,
    /// Deadline of every call, reconnecting included.
    pub timeout: Duration,
}

/// Reads a store's Redis settings: its key prefix from `prefix_var`, the server from
/// `REDIS_URL` when `wanted` (a missing or unparsable URL is a problem described by
/// `url_expected`). `None` when the store is not on Redis or the settings are bad.
pub(crate) fn read_redis(
    r: &mut Reader<'_>,
    wanted: bool,
    prefix_var: &'static str,
    default_prefix: &str,
    url_expected: &'static str,
) -> Option<RedisSettings> {
    let prefix = r.parse(
        prefix_var,
        default_prefix.to_owned(),
        "a key prefix of at most 64 bytes",
        |v| (v.len() <= 64).then(|| v.to_owned()),
    );
    if !wanted {
        return None;
    }
    let url = r.get("REDIS_URL").unwrap_or_default();
    let url = url.trim();
    // Parsing checks the scheme, host and database without connecting.
    if url.is_empty() || url.into_connection_info().is_err() {
        r.problem("REDIS_URL", url.to_owned(), url_expected);
        return None;
    }
    Some(RedisSettings {
        url: url.to_owned(),
        prefix,
        timeout: REDIS_TIMEOUT,
    })
}

/// One multiplexed connection with a per-call deadline.
#[derive(Clone)]
pub(crate) struct RedisLink {
    connection: ConnectionManager,
    timeout: Duration,
}

impl RedisLink {
    /// Connects lazily, so a service starts while Redis is down; its calls fail as unavailable
    /// until Redis is back. Must be called inside a Tokio runtime.
    pub(crate) fn open(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid redis url: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_pipeline_buffer_size(1024);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            connection,
            timeout,
        })
    }

    /// Runs one script call under the deadline.
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection)).await {
            Ok(result) => result.map_err(redis_error),
            Err(_) => Err(StoreError::Unavailable(format!(
                "redis call timed out after {:?}",
                self.timeout
            ))),
        }
    }
}

fn redis_error(err: redis::RedisError) -> StoreError {
    use redis::{ErrorKind, ServerErrorKind};
    match err.kind() {
        // The script failed or its reply makes no sense: a retry would fail the same way.
        ErrorKind::Server(ServerErrorKind::ResponseError)
        | ErrorKind::Server(ServerErrorKind::NoPerm)
        | ErrorKind::Server(ServerErrorKind::CrossSlot)
        | ErrorKind::UnexpectedReturnType
        | ErrorKind::Parse => StoreError::Internal(err.to_string()),
        // Connection loss, timeouts, Redis loading or busy: try later.
        _ => StoreError::Unavailable(err.to_string()),
    }
}

/// A fresh random token: unique per lease across processes sharing one Redis.
pub(crate) fn random_token() -> u64 {
    rand::random::<u64>() | 1
}
