//! The waiting room: a fair FIFO queue per event in front of the reservation system.
//!
//! # Layout
//!
//! * [`WaitingRoom`]: the API a gateway's queue service calls (join, status, admission,
//!   consume, leave, stats, live updates). Plain Rust types in and out; the gateway maps them
//!   onto its contract messages.
//! * `backend`: the internal seam every store implements with the same atomic operations.
//! * [`MemoryBackend`]: in-process store, the embedded default.
//! * [`RedisBackend`]: Redis standalone or Redis Cluster, one Lua script per operation, all
//!   keys of an event under one hash tag.
//! * `updates`: one refresh loop per watched event fanning changes out to watchers.
//! * `report`: metrics from the figures calls compute anyway ([`WaitingRoom::with_metrics`]),
//!   store failures counted and logged as warnings with their cause.
//!
//! # Guarantees
//!
//! * A join is idempotent per (event, user or session), even when a reply is lost and the call
//!   is retried: the dedupe happens inside the same atomic step that assigns the place.
//! * Order comes from a per-event sequence incremented by the store, never from a client clock.
//! * Admission is atomic: inside the admission window, at most the token bucket's worth of
//!   grants, each with a single-use reservation token bound to the event and user.
//! * Users whose heartbeat lapses are evicted by whichever call comes next (a bounded number per
//!   call), so abandoned users never block the head.
//! * Every operation costs O(log N) in the queue size; nothing scans keys.
//! * When the store is unreachable every call fails fast with
//!   [`WaitingRoomError::Unavailable`] (with a retry hint) instead of answering wrongly.
//!
//! # Operating notes
//!
//! * Per-event settings ([`WaitingRoom::set_event_config`]) live in the process and travel with
//!   each call: gateways sharing one Redis should apply the same settings.
//! * A join costs one script call; once per 30 s per event and process it also refreshes the
//!   event's entry in the registry of active events (`wr:events`), which system-wide stats read.
//! * Live updates use one pub/sub connection per process (standalone: the same server; cluster:
//!   the first configured node, since classic pub/sub reaches every node). If that connection is
//!   down, watchers still refresh on a timer (a third of the heartbeat TTL, at most 10 s).
//! * Tokens of users who left, expired or used their grant are remembered for 15 minutes
//!   ([`RedisOptions::tombstone`]) so late calls get the matching status; after that they read
//!   as unknown. In Redis an event lives in a fixed set of keys (hashes and sorted sets, no key
//!   per user), so nothing expires by TTL: the calls on an event forget due tokens in bounded
//!   steps, and an event nobody calls keeps its keys until the next call.
//!
//! # Beyond one Redis core (design, not built)
//!
//! All keys of an event share one hash tag, so one event is served by one Redis core. Measured
//! on the project's 2-core machines, a join costs about 19 µs of Redis CPU, which caps one
//! event at about 53,000 joins/s; batching joins into one script call (planned) targets 5 µs,
//! about 200,000/s per core. An event hotter than that can spread over `S`
//! shards while keeping the admission order fair:
//!
//! * **One global ticket, many data shards.** A join first takes its place number from a
//!   per-event ticket counter on one shard (`INCRBY n` for a batch of `n` coalesced joins: one
//!   command per batch, well under 1 µs of Redis CPU per join). The rest of the join (the
//!   per-visitor dedupe, the ordered set, the heartbeat) goes to the shard chosen by hashing the
//!   visitor. A retried join hashes to the same shard, so its dedupe stays atomic; the spare
//!   ticket it took is recorded there as a freed place, so positions stay gap-free. Place numbers
//!   are global, so the order is exactly the arrival order at the ticket counter, as today.
//! * **Admission merges the shard heads.** The head of the line is the smallest place number
//!   among the `S` shard heads (a `S`-way merge, with `S` small). The token bucket stays on the
//!   ticket shard: grants follow the sale's rate (thousands per second), not the arrival rate, so
//!   one shard serves them. Each grant is written to the visitor's shard.
//! * **Positions** are the visitor's place number minus the admitted head, less the places freed
//!   ahead of it. Each shard keeps a count of the freed places, summed across the shards once per
//!   refresh interval per process (the planned shared watcher state), so a status read stays one
//!   call to the visitor's shard.
//!
//! Arithmetic, at 5 µs per batched join on a data shard and four shards: 4 × 200,000 =
//! 800,000 joins/s. The ticket shard sees one `INCRBY` per batch: at 32 joins per batch, that
//! is 25,000 commands/s, a few percent of one core. A sale's first minute of 1,000,000 arrivals
//! then needs under two seconds of cluster time. Hashing visitors evenly to shards without a
//! global ticket would be cheaper still, but the order would be fair only statistically (with
//! 300,000 arrivals over four shards, a shard's count strays about 240 places from its share,
//! one standard deviation: a quarter second of unfairness at 1,000 admissions/s), so the ticket
//! counter is worth its one command per batch.

mod backend;
mod config;
mod error;
mod memory;
mod order_index;
mod redis;
mod report;
mod token;
mod types;
mod updates;
mod view;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

pub use self::config::EventConfig;
pub use self::error::{ErrorCode, WaitingRoomError};
pub use self::memory::MemoryBackend;
pub use self::redis::{RedisBackend, RedisOptions};
pub use self::types::{
    Admission, AdmissionStatus, ConsumeOutcome, DenialReason, EventStats, JoinTicket, LeaveOutcome,
    QueueStatus, QueueStatusView, QueueUpdate, QueueUpdateKind, SystemStats, Visitor,
};
pub use self::updates::QueueUpdates;

use self::backend::{AdmitArgs, AdmitOutcome, Backend, ConsumeArgs, JoinArgs, TokenState};
use self::report::{rate_per_minute, Reporter};
use self::types::{from_millis, now_millis};
use self::updates::Hub;
use self::view::view_of;
use crate::metrics::Metrics;

/// Longest user or session id accepted.
const MAX_VISITOR_ID_LEN: usize = 256;

/// Where the queues live.
#[derive(Debug)]
pub enum Store {
    /// In this process.
    Memory(MemoryBackend),
    /// In Redis (standalone or cluster).
    Redis(Box<RedisBackend>),
}

impl From<MemoryBackend> for Store {
    fn from(backend: MemoryBackend) -> Self {
        Self::Memory(backend)
    }
}

impl From<RedisBackend> for Store {
    fn from(backend: RedisBackend) -> Self {
        Self::Redis(Box::new(backend))
    }
}

struct Inner {
    backend: Arc<dyn Backend>,
    configs: Arc<RwLock<HashMap<String, EventConfig>>>,
    default_config: EventConfig,
    hub: Hub,
    report: Reporter,
}

/// The waiting room. Clones share the same store and watchers.
#[derive(Clone)]
pub struct WaitingRoom {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WaitingRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitingRoom")
            .field("default_config", &self.inner.default_config)
            .finish_non_exhaustive()
    }
}

impl WaitingRoom {
    /// A room on `store`, using `default_config` for events without settings of their own.
    pub fn new(
        store: impl Into<Store>,
        default_config: EventConfig,
    ) -> Result<Self, WaitingRoomError> {
        default_config.validate()?;
        let backend: Arc<dyn Backend> = match store.into() {
            Store::Memory(b) => Arc::new(b),
            Store::Redis(b) => Arc::new(*b),
        };
        let configs: Arc<RwLock<HashMap<String, EventConfig>>> = Arc::default();
        let lookup = {
            let configs = configs.clone();
            let default_config = default_config.clone();
            Arc::new(move |event: &str| {
                configs
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(event)
                    .cloned()
                    .unwrap_or_else(|| default_config.clone())
            })
        };
        Ok(Self {
            inner: Arc::new(Inner {
                hub: Hub::new(backend.clone(), lookup),
                backend,
                configs,
                default_config,
                report: Reporter::default(),
            }),
        })
    }

    /// An in-process room with default settings: the embedded default.
    pub fn in_memory() -> Self {
        Self::new(MemoryBackend::new(), EventConfig::default())
            .expect("the default settings are valid")
    }

    /// Records the room's figures in `metrics`: per event the queue length, admitted visitors
    /// and admission rate, plus store errors (see
    /// [`WaitingRoomMetrics`](crate::metrics::WaitingRoomMetrics)). The figures come from
    /// the replies of joins, status polls and stats; nothing extra is asked of the store.
    ///
    /// A room records into one registry: clones share it, and once set it stays.
    pub fn with_metrics(self, metrics: &Arc<Metrics>) -> Self {
        if !self.inner.report.attach(metrics) {
            tracing::debug!("waiting room already records metrics; keeping the first registry");
        }
        self
    }

    /// Sets `event_id`'s admission settings from now on.
    ///
    /// Settings live in this process: every gateway sharing a Redis should apply the same ones.
    pub fn set_event_config(
        &self,
        event_id: &str,
        config: EventConfig,
    ) -> Result<(), WaitingRoomError> {
        check_event(event_id)?;
        config.validate()?;
        self.inner
            .configs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event_id.to_owned(), config);
        Ok(())
    }

    /// The settings in force for `event_id`.
    pub fn event_config(&self, event_id: &str) -> EventConfig {
        self.inner
            .configs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(event_id)
            .cloned()
            .unwrap_or_else(|| self.inner.default_config.clone())
    }

    /// Joins `event_id`'s queue, or returns the place `visitor` already holds there.
    pub async fn join(
        &self,
        event_id: &str,
        visitor: &Visitor,
    ) -> Result<JoinTicket, WaitingRoomError> {
        check_event(event_id)?;
        let visitor_id = match visitor {
            Visitor::User(id) | Visitor::Session(id) => id,
        };
        if visitor_id.is_empty()
            || visitor_id.len() > MAX_VISITOR_ID_LEN
            || visitor_id.chars().any(char::is_control)
        {
            return Err(WaitingRoomError::invalid(
                "user_id",
                "a user or session id of 1 to 256 printable characters is required",
            ));
        }
        let config = self.event_config(event_id);
        let new_token = token::new_waiting_token(event_id);
        let visitor_key = visitor.key();
        let joined = self.inner.report.check(
            self.inner
                .backend
                .join(JoinArgs {
                    event: event_id,
                    visitor_key: &visitor_key,
                    visitor_id,
                    new_token: &new_token,
                    config: &config,
                })
                .await,
        )?;
        if let Some(metrics) = self.inner.report.metrics() {
            let rate = rate_per_minute(joined.observed.admitted_in_window);
            match joined.observed.state {
                // A newcomer's place is the queue's length.
                TokenState::Waiting { position, .. } if joined.token == new_token => {
                    metrics.joined(event_id, position, rate)
                }
                _ => metrics.rate(event_id, rate),
            }
        }
        let view = view_of(&joined.observed, &config);
        Ok(JoinTicket {
            waiting_token: joined.token,
            position: view.position,
            eta_seconds: view.eta_seconds,
            status: view.status,
            expires_at: view.expires_at.unwrap_or_else(SystemTime::now),
        })
    }

    /// Where `waiting_token` stands; renews its heartbeat while it waits.
    ///
    /// Malformed tokens are an invalid argument; well-formed tokens no queue knows are
    /// [`WaitingRoomError::NotFound`]; expired and left tokens report that status.
    pub async fn status(&self, waiting_token: &str) -> Result<QueueStatusView, WaitingRoomError> {
        let event = token::waiting_token_event(waiting_token)
            .ok_or_else(|| WaitingRoomError::invalid("waiting_token", "malformed waiting token"))?;
        let config = self.event_config(&event);
        let tokens = [waiting_token.to_owned()];
        let seen = self
            .inner
            .report
            .check(self.inner.backend.status(&event, &tokens, &config).await)?;
        let seen = self.inner.report.check(
            seen.into_iter()
                .next()
                .ok_or_else(|| WaitingRoomError::Internal("empty status reply".into())),
        )?;
        if seen.state == TokenState::Unknown {
            return Err(WaitingRoomError::NotFound);
        }
        if let Some(metrics) = self.inner.report.metrics() {
            metrics.rate(&event, rate_per_minute(seen.admitted_in_window));
        }
        Ok(view_of(&seen, &config))
    }

    /// Asks for admission. `event_id` and `user_id`, when not empty, must match the token's.
    pub async fn request_admission(
        &self,
        waiting_token: &str,
        event_id: &str,
        user_id: &str,
    ) -> Result<Admission, WaitingRoomError> {
        let invalid = Ok(refused(
            AdmissionStatus::Invalid,
            DenialReason::InvalidToken,
        ));
        let Some(event) = token::waiting_token_event(waiting_token) else {
            return invalid;
        };
        if !event_id.is_empty() && event_id != event {
            return invalid;
        }
        let config = self.event_config(&event);
        let reservation = token::new_reservation_token();
        let outcome = self.inner.report.check(
            self.inner
                .backend
                .admit(AdmitArgs {
                    event: &event,
                    token: waiting_token,
                    user_id,
                    new_reservation_token: &reservation,
                    config: &config,
                })
                .await,
        )?;
        Ok(match outcome {
            AdmitOutcome::Granted {
                reservation_token,
                valid_until_ms,
            } => Admission {
                status: AdmissionStatus::Granted,
                reason: None,
                reservation_token,
                ttl_seconds: Duration::from_millis(valid_until_ms.saturating_sub(now_millis()))
                    .as_secs_f64()
                    .ceil() as u64,
                valid_until: Some(from_millis(valid_until_ms)),
            },
            AdmitOutcome::NotYourTurn => {
                refused(AdmissionStatus::Denied, DenialReason::NotYourTurn)
            }
            AdmitOutcome::RateLimited => {
                refused(AdmissionStatus::Denied, DenialReason::RateLimited)
            }
            AdmitOutcome::Left => refused(AdmissionStatus::Denied, DenialReason::NoLongerQueued),
            AdmitOutcome::Expired => refused(AdmissionStatus::Expired, DenialReason::Expired),
            AdmitOutcome::Invalid => refused(AdmissionStatus::Invalid, DenialReason::InvalidToken),
        })
    }

    /// Uses a reservation token for `event_id` and `user_id`; succeeds exactly once.
    ///
    /// If the answer is lost (the call fails as unavailable after reaching the store), a new
    /// call reports [`ConsumeOutcome::AlreadyUsed`]; callers that retry should use
    /// [`WaitingRoom::consume_idempotent`].
    pub async fn consume(
        &self,
        reservation_token: &str,
        event_id: &str,
        user_id: &str,
    ) -> Result<ConsumeOutcome, WaitingRoomError> {
        // Unique per call: if the store runs a resent copy of this call, the copy recognises
        // its own earlier success instead of reporting "already used".
        let nonce = token::new_reservation_token();
        self.consume_idempotent(reservation_token, event_id, user_id, &nonce)
            .await
    }

    /// Like [`WaitingRoom::consume`], but a retry carrying the same `idempotency_key` (for
    /// example the reservation request's own key) gets [`ConsumeOutcome::Consumed`] again
    /// instead of "already used"; any other key still gets "already used".
    pub async fn consume_idempotent(
        &self,
        reservation_token: &str,
        event_id: &str,
        user_id: &str,
        idempotency_key: &str,
    ) -> Result<ConsumeOutcome, WaitingRoomError> {
        if !token::is_reservation_token(reservation_token)
            || !token::valid_event_id(event_id)
            || user_id.is_empty()
        {
            return Ok(ConsumeOutcome::Invalid);
        }
        if idempotency_key.is_empty() || idempotency_key.len() > 256 {
            return Err(WaitingRoomError::invalid(
                "idempotency_key",
                "a key of 1 to 256 bytes is required",
            ));
        }
        // Prefixed so that no caller key can equal the marker a leave writes.
        let nonce = format!("k:{idempotency_key}");
        self.inner.report.check(
            self.inner
                .backend
                .consume(ConsumeArgs {
                    event: event_id,
                    reservation_token,
                    user_id,
                    nonce: &nonce,
                })
                .await,
        )
    }

    /// Leaves the queue (or gives up an unused grant).
    pub async fn leave(&self, waiting_token: &str) -> Result<LeaveOutcome, WaitingRoomError> {
        let event = token::waiting_token_event(waiting_token)
            .ok_or_else(|| WaitingRoomError::invalid("waiting_token", "malformed waiting token"))?;
        let left = self
            .inner
            .report
            .check(self.inner.backend.leave(&event, waiting_token).await)?;
        Ok(LeaveOutcome {
            left,
            left_at: SystemTime::now(),
        })
    }

    /// Figures for one event.
    pub async fn stats(&self, event_id: &str) -> Result<EventStats, WaitingRoomError> {
        check_event(event_id)?;
        let raw = self
            .inner
            .report
            .check(self.inner.backend.stats(event_id).await)?;
        let admission_rate_per_minute = rate_per_minute(raw.admitted_in_window);
        if let Some(metrics) = self.inner.report.metrics() {
            metrics.stats(
                event_id,
                raw.waiting,
                raw.admitted,
                admission_rate_per_minute,
            );
        }
        Ok(EventStats {
            event_id: event_id.to_owned(),
            total_waiting: raw.waiting,
            total_admitted: raw.admitted,
            admission_rate_per_minute,
            average_wait_seconds: raw
                .total_wait_ms
                .checked_div(raw.admitted)
                .map_or(0, |ms| ms / 1000),
            last_updated: SystemTime::now(),
        })
    }

    /// Figures across every event active in the last hour (read from a registry, no scans).
    pub async fn system_stats(&self) -> Result<SystemStats, WaitingRoomError> {
        let events = self
            .inner
            .report
            .check(self.inner.backend.active_events().await)?;
        let all = futures::future::try_join_all(events.iter().map(|e| self.stats(e))).await?;
        let capacity_per_minute: f64 = events
            .iter()
            .map(|e| self.event_config(e).refill_per_second * 60.0)
            .sum();
        let rate_sum: u64 = all.iter().map(|s| s.admission_rate_per_minute).sum();
        Ok(SystemStats {
            total_active_queues: all.len() as u64,
            total_waiting_users: all.iter().map(|s| s.total_waiting).sum(),
            total_admitted_users: all.iter().map(|s| s.total_admitted).sum(),
            system_capacity_percentage: if capacity_per_minute > 0.0 {
                (rate_sum as f64 * 100.0 / capacity_per_minute).round() as u64
            } else {
                0
            },
            average_admission_rate: if all.is_empty() {
                0.0
            } else {
                rate_sum as f32 / all.len() as f32
            },
            events: all,
            last_updated: SystemTime::now(),
        })
    }

    /// Live updates for `waiting_token`: the current state first, then every change of
    /// position, ETA or readiness; ends after the token expires or leaves. Watching keeps the
    /// token's heartbeat alive.
    pub async fn subscribe(&self, waiting_token: &str) -> Result<QueueUpdates, WaitingRoomError> {
        // Refuse unknown tokens up front; this also checks the store is reachable.
        self.status(waiting_token).await?;
        let event = token::waiting_token_event(waiting_token)
            .ok_or_else(|| WaitingRoomError::invalid("waiting_token", "malformed waiting token"))?;
        Ok(self.inner.hub.watch(&event, waiting_token))
    }
}

fn refused(status: AdmissionStatus, reason: DenialReason) -> Admission {
    Admission {
        status,
        reason: Some(reason),
        reservation_token: String::new(),
        ttl_seconds: 0,
        valid_until: None,
    }
}

fn check_event(event_id: &str) -> Result<(), WaitingRoomError> {
    if token::valid_event_id(event_id) {
        Ok(())
    } else {
        Err(WaitingRoomError::invalid(
            "event_id",
            "an event id of 1 to 128 characters without braces or control characters is required",
        ))
    }
}
