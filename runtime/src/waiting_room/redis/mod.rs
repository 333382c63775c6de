//! Redis backend, standalone or Redis Cluster: one Lua script call per operation.
//!
//! # Retries and the lost-reply problem
//!
//! A script whose reply is lost has still run on the server, and a client that resends it runs
//! it again. We do not rely on the client never resending: every script is safe to run twice
//! with the same arguments (see [`scripts`]). On top of that:
//!
//! * standalone: [`ConnectionManager`] multiplexes every call on one connection (so concurrent
//!   calls pipeline) and never resends a command; when the connection drops, the calls in flight
//!   fail and the manager reconnects in the background (`number_of_retries` bounds connection
//!   attempts per reconnect, not command resends). We set a connection timeout and a response
//!   timeout so no call waits past [`RedisOptions::op_timeout`].
//! * cluster: the cluster client retries on `MOVED`/`ASK`/`TRYAGAIN` and after a dropped
//!   connection, which may resend a script that already ran. We keep a small retry budget
//!   ([`RedisOptions::cluster_retries`]) because following redirects during a resharding is
//!   needed, and re-execution is harmless by construction.
//!
//! Every call is also wrapped in a deadline; a call that misses it (or any connection error)
//! becomes [`WaitingRoomError::Unavailable`], never a guessed answer.

mod notifier;
pub(crate) mod scripts;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt as _};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{FromRedisValue, ScriptInvocation, Value};
use tokio::sync::broadcast;

use super::backend::{
    AdmitArgs, AdmitOutcome, Backend, BackendResult, ConsumeArgs, JoinArgs, Joined, Observed,
    RawStats, TokenState,
};
use super::config::{EventConfig, EVICT_PER_CALL, TOMBSTONE_MS};
use super::error::WaitingRoomError;
use super::types::{now_millis, ConsumeOutcome};
use notifier::Notifier;
use scripts::Scripts;

/// The registry of active events: a sorted set of event id → last join (ms). System-wide stats
/// read it instead of scanning keys.
const REGISTRY_KEY: &str = "wr:events";
/// How often one process refreshes an event's registry entry.
const REGISTRY_REFRESH: Duration = Duration::from_secs(30);
/// Events without a join for this long drop out of system-wide stats.
const REGISTRY_ACTIVE_MS: u64 = 60 * 60_000;
/// Upper bound on events reported as active.
const REGISTRY_LIMIT: usize = 1000;

/// Connection settings of the Redis backend.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Deadline of every call, including reconnecting; past it the call fails as unavailable.
    pub op_timeout: Duration,
    /// Deadline of one connection attempt.
    pub connect_timeout: Duration,
    /// Cluster only: how often a command may be resent after a redirect or a dropped connection.
    pub cluster_retries: u32,
    /// Standalone only: commands that may queue for the shared connection.
    pub pipeline_buffer: usize,
    /// How long finished tokens (left, expired, used) and their reservations are remembered
    /// so that late calls get the matching status; afterwards they read as unknown and their
    /// fields are deleted by the next calls on the event.
    pub tombstone: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            op_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_millis(500),
            cluster_retries: 2,
            pipeline_buffer: 1024,
            tombstone: Duration::from_millis(TOMBSTONE_MS),
        }
    }
}

#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// Redis queue store (standalone or cluster). Cheap to share: one multiplexed connection.
pub struct RedisBackend {
    connection: Connection,
    scripts: Scripts,
    options: RedisOptions,
    notifier: Notifier,
    registered: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn key_prefix(event: &str) -> String {
    format!("wr:{{{event}}}:")
}

fn redis_error(err: redis::RedisError) -> WaitingRoomError {
    use redis::{ErrorKind, ServerErrorKind};
    match err.kind() {
        // The script itself failed or answered nonsense: retrying will not help.
        ErrorKind::Server(ServerErrorKind::ResponseError)
        | ErrorKind::Server(ServerErrorKind::NoPerm)
        | ErrorKind::Server(ServerErrorKind::CrossSlot)
        | ErrorKind::UnexpectedReturnType
        | ErrorKind::Parse => WaitingRoomError::Internal(err.to_string()),
        // Connection loss, timeouts, cluster down or reconfiguring, Redis loading: try later.
        _ => WaitingRoomError::unavailable(err.to_string()),
    }
}

impl RedisBackend {
    /// Uses the standalone Redis at `url` (`redis://host:port/db`). Connects lazily, so a
    /// service starts while Redis is down and its calls fail as unavailable until it is back.
    /// Call it inside a Tokio runtime.
    pub fn standalone(url: &str, options: RedisOptions) -> Result<Self, WaitingRoomError> {
        let client = redis::Client::open(url)
            .map_err(|e| WaitingRoomError::invalid("redis url", e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.op_timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            // Many concurrent callers share the connection; a deeper queue lets them pipeline.
            .set_pipeline_buffer_size(options.pipeline_buffer);
        let manager =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(redis_error)?;
        Ok(Self::with_connection(
            Connection::Single(manager),
            client,
            options,
        ))
    }

    /// Uses the Redis Cluster reachable through `nodes` (`redis://host:port` each).
    pub async fn cluster(
        nodes: &[String],
        options: RedisOptions,
    ) -> Result<Self, WaitingRoomError> {
        let first = nodes
            .first()
            .ok_or_else(|| WaitingRoomError::invalid("redis nodes", "no cluster node given"))?;
        let client = redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
            .retries(options.cluster_retries)
            .min_retry_wait(10)
            .max_retry_wait(200)
            .connection_timeout(options.connect_timeout)
            .response_timeout(options.op_timeout)
            .build()
            .map_err(|e| WaitingRoomError::invalid("redis nodes", e.to_string()))?;
        let connection =
            tokio::time::timeout(options.op_timeout * 5, client.get_async_connection())
                .await
                .map_err(|_| WaitingRoomError::unavailable("redis cluster connection timed out"))?
                .map_err(redis_error)?;
        // Classic pub/sub messages reach every node of a cluster, so one node serves the feed.
        let pubsub_client = redis::Client::open(first.as_str())
            .map_err(|e| WaitingRoomError::invalid("redis nodes", e.to_string()))?;
        Ok(Self::with_connection(
            Connection::Cluster(connection),
            pubsub_client,
            options,
        ))
    }

    fn with_connection(
        connection: Connection,
        pubsub: redis::Client,
        options: RedisOptions,
    ) -> Self {
        Self {
            connection,
            scripts: Scripts::new(options.tombstone.as_millis() as u64, EVICT_PER_CALL),
            notifier: Notifier::new(pubsub),
            options,
            registered: Mutex::new(HashMap::new()),
        }
    }

    async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> BackendResult<T> {
        let call = async {
            match &self.connection {
                Connection::Single(c) => invocation.invoke_async(&mut c.clone()).await,
                Connection::Cluster(c) => invocation.invoke_async(&mut c.clone()).await,
            }
        };
        match tokio::time::timeout(self.options.op_timeout, call).await {
            Ok(result) => result.map_err(redis_error),
            Err(_) => Err(WaitingRoomError::unavailable("redis call timed out")),
        }
    }

    async fn command<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> BackendResult<T> {
        let call = async {
            match &self.connection {
                Connection::Single(c) => cmd.query_async(&mut c.clone()).await,
                Connection::Cluster(c) => cmd.query_async(&mut c.clone()).await,
            }
        };
        match tokio::time::timeout(self.options.op_timeout, call).await {
            Ok(result) => result.map_err(redis_error),
            Err(_) => Err(WaitingRoomError::unavailable("redis call timed out")),
        }
    }

    /// Records the event in the registry, at most once per [`REGISTRY_REFRESH`] per process.
    async fn register(&self, event: &str) {
        {
            let mut seen = self.registered.lock().unwrap_or_else(|e| e.into_inner());
            if seen
                .get(event)
                .is_some_and(|at| at.elapsed() < REGISTRY_REFRESH)
            {
                return;
            }
            seen.insert(event.to_owned(), Instant::now());
        }
        let mut cmd = redis::cmd("ZADD");
        cmd.arg(REGISTRY_KEY).arg(now_millis()).arg(event);
        if self.command::<i64>(&cmd).await.is_err() {
            // Retry on a later join; the join itself already succeeded.
            self.registered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(event);
        }
    }
}

fn int(value: &Value) -> BackendResult<u64> {
    match value {
        Value::Int(n) => Ok((*n).max(0) as u64),
        other => u64::from_redis_value(other.clone())
            .map_err(|e| WaitingRoomError::Internal(format!("unexpected script reply: {e}"))),
    }
}

fn text(value: &Value) -> BackendResult<String> {
    String::from_redis_value(value.clone())
        .map_err(|e| WaitingRoomError::Internal(format!("unexpected script reply: {e}")))
}

fn token_state(state: &str, position: u64, expires_ms: u64) -> BackendResult<TokenState> {
    Ok(match state {
        "w" => TokenState::Waiting {
            position,
            expires_ms,
        },
        "a" => TokenState::Admitted {
            valid_until_ms: expires_ms,
        },
        "l" => TokenState::Left,
        "x" => TokenState::Expired,
        "u" => TokenState::Unknown,
        other => {
            return Err(WaitingRoomError::Internal(format!(
                "unexpected token state {other:?}"
            )))
        }
    })
}

impl Backend for RedisBackend {
    fn join<'a>(&'a self, args: JoinArgs<'a>) -> BoxFuture<'a, BackendResult<Joined>> {
        async move {
            let prefix = key_prefix(args.event);
            let mut inv = self.scripts.join.prepare_invoke();
            // The user id is the visitor key minus its kind prefix; the script derives it.
            inv.key(format!("{prefix}q"))
                .arg(args.new_token)
                .arg(args.visitor_key)
                .arg(args.config.heartbeat_ms());
            let reply: Vec<Value> = self.invoke(&inv).await?;
            let [token, state, position, expires, rate] = reply.as_slice() else {
                return Err(WaitingRoomError::Internal("unexpected join reply".into()));
            };
            let joined = Joined {
                token: text(token)?,
                observed: Observed {
                    state: token_state(&text(state)?, int(position)?, int(expires)?)?,
                    admitted_in_window: int(rate)?,
                },
            };
            self.register(args.event).await;
            Ok(joined)
        }
        .boxed()
    }

    fn status<'a>(
        &'a self,
        event: &'a str,
        tokens: &'a [String],
        config: &'a EventConfig,
    ) -> BoxFuture<'a, BackendResult<Vec<Observed>>> {
        async move {
            let prefix = key_prefix(event);
            let mut inv = self.scripts.status.prepare_invoke();
            inv.key(format!("{prefix}q")).arg(config.heartbeat_ms());
            for token in tokens {
                inv.arg(token.as_str());
            }
            let reply: Vec<Value> = self.invoke(&inv).await?;
            let (rate, rest) = reply
                .split_first()
                .ok_or_else(|| WaitingRoomError::Internal("empty status reply".into()))?;
            let admitted_in_window = int(rate)?;
            if rest.len() != tokens.len() * 3 {
                return Err(WaitingRoomError::Internal("short status reply".into()));
            }
            rest.chunks_exact(3)
                .map(|c| {
                    Ok(Observed {
                        state: token_state(&text(&c[0])?, int(&c[1])?, int(&c[2])?)?,
                        admitted_in_window,
                    })
                })
                .collect()
        }
        .boxed()
    }

    fn admit<'a>(&'a self, args: AdmitArgs<'a>) -> BoxFuture<'a, BackendResult<AdmitOutcome>> {
        async move {
            let prefix = key_prefix(args.event);
            let c = args.config;
            let mut inv = self.scripts.admit.prepare_invoke();
            inv.key(format!("{prefix}q"))
                .arg(args.token)
                .arg(args.user_id)
                .arg(args.new_reservation_token)
                .arg(c.admission_window)
                .arg(c.bucket_capacity)
                .arg(c.refill_per_second)
                .arg(c.reservation_ms())
                .arg(c.heartbeat_ms());
            let (outcome, reservation_token, valid_until_ms): (String, String, u64) =
                self.invoke(&inv).await?;
            Ok(match outcome.as_str() {
                "granted" => AdmitOutcome::Granted {
                    reservation_token,
                    valid_until_ms,
                },
                "turn" => AdmitOutcome::NotYourTurn,
                "rate" => AdmitOutcome::RateLimited,
                "expired" => AdmitOutcome::Expired,
                "left" => AdmitOutcome::Left,
                "invalid" => AdmitOutcome::Invalid,
                other => {
                    return Err(WaitingRoomError::Internal(format!(
                        "unexpected admission outcome {other:?}"
                    )))
                }
            })
        }
        .boxed()
    }

    fn consume<'a>(
        &'a self,
        args: ConsumeArgs<'a>,
    ) -> BoxFuture<'a, BackendResult<ConsumeOutcome>> {
        async move {
            let prefix = key_prefix(args.event);
            let mut inv = self.scripts.consume.prepare_invoke();
            inv.key(format!("{prefix}q"))
                .arg(args.reservation_token)
                .arg(args.user_id)
                .arg(args.nonce);
            let outcome: String = self.invoke(&inv).await?;
            Ok(match outcome.as_str() {
                "consumed" => ConsumeOutcome::Consumed,
                "used" => ConsumeOutcome::AlreadyUsed,
                "expired" => ConsumeOutcome::Expired,
                _ => ConsumeOutcome::Invalid,
            })
        }
        .boxed()
    }

    fn leave<'a>(&'a self, event: &'a str, token: &'a str) -> BoxFuture<'a, BackendResult<bool>> {
        async move {
            let prefix = key_prefix(event);
            let mut inv = self.scripts.leave.prepare_invoke();
            inv.key(format!("{prefix}q")).arg(token);
            let removed: i64 = self.invoke(&inv).await?;
            Ok(removed == 1)
        }
        .boxed()
    }

    fn stats<'a>(&'a self, event: &'a str) -> BoxFuture<'a, BackendResult<RawStats>> {
        async move {
            let prefix = key_prefix(event);
            let mut inv = self.scripts.stats.prepare_invoke();
            inv.key(format!("{prefix}q"));
            let (waiting, admitted, total_wait_ms, admitted_in_window): (u64, u64, u64, u64) =
                self.invoke(&inv).await?;
            Ok(RawStats {
                waiting,
                admitted,
                total_wait_ms,
                admitted_in_window,
            })
        }
        .boxed()
    }

    fn active_events(&self) -> BoxFuture<'_, BackendResult<Vec<String>>> {
        async move {
            let since = now_millis().saturating_sub(REGISTRY_ACTIVE_MS);
            let mut cmd = redis::cmd("ZRANGE");
            cmd.arg(REGISTRY_KEY)
                .arg(since)
                .arg("+inf")
                .arg("BYSCORE")
                .arg("LIMIT")
                .arg(0)
                .arg(REGISTRY_LIMIT);
            let mut events: Vec<String> = self.command(&cmd).await?;
            events.sort();
            Ok(events)
        }
        .boxed()
    }

    fn changes(&self, event: &str) -> broadcast::Receiver<()> {
        self.notifier.subscribe(&format!("{}ch", key_prefix(event)))
    }
}
