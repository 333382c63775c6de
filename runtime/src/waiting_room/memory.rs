//! The in-process backend: the embedded default when no Redis is configured.
//!
//! Same semantics as the Redis scripts, with one mutex around all events: every operation is a
//! short critical section of O(log N) work, which is what makes each one atomic.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use futures::future::{self, BoxFuture, FutureExt as _};
use tokio::sync::broadcast;

use super::backend::{
    AdmitArgs, AdmitOutcome, Backend, BackendResult, ConsumeArgs, JoinArgs, Joined, Observed,
    RawStats, TokenState,
};
use super::config::{EventConfig, EVICT_PER_CALL, RATE_WINDOW_MS, TOMBSTONE_MS};
use super::order_index::OrderIndex;
use super::types::{now_millis, ConsumeOutcome};

/// Capacity of each event's change feed; watchers that fall behind just refresh.
const CHANGE_FEED_CAPACITY: usize = 16;

/// Events idle for longer than this are no longer reported as active.
const ACTIVE_FOR_MS: u64 = 60 * 60_000;

/// In-memory queue store, safe to share across tasks and threads.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    events: Mutex<HashMap<String, EventState>>,
}

impl MemoryBackend {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the event's state under the lock. Only joins create an event: lookups with
    /// made-up event ids (tampered tokens) run on an empty scratch state and leave nothing behind.
    fn with_event<T>(
        &self,
        event: &str,
        create: bool,
        f: impl FnOnce(&mut EventState, u64) -> T,
    ) -> T {
        let now = now_millis();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let mut scratch;
        let state = match events.get_mut(event) {
            Some(state) => state,
            None if create => events
                .entry(event.to_owned())
                .or_insert_with(EventState::new),
            None => {
                scratch = EventState::new();
                &mut scratch
            }
        };
        state.last_activity_ms = now;
        state.housekeep(now);
        f(state, now)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Admitted,
    Left,
    Expired,
    Consumed,
}

#[derive(Debug)]
struct TokenRecord {
    visitor_key: String,
    visitor_id: String,
    seq: u64,
    joined_ms: u64,
    phase: Phase,
    deadline_ms: u64,
    reservation: Option<(String, u64)>,
}

#[derive(Debug)]
struct ReservationRecord {
    waiting_token: String,
    visitor_id: String,
    valid_until_ms: u64,
    used_by: Option<String>,
}

#[derive(Debug)]
struct EventState {
    seq: u64,
    order: OrderIndex,
    /// Heartbeat deadlines of waiting tokens, earliest first.
    deadlines: BTreeSet<(u64, String)>,
    tokens: HashMap<String, TokenRecord>,
    visitors: HashMap<String, String>,
    reservations: HashMap<String, ReservationRecord>,
    bucket_tokens: Option<f64>,
    bucket_ms: u64,
    admitted: u64,
    total_wait_ms: u64,
    admissions: VecDeque<u64>,
    /// Finished tokens and reservations to forget once their tombstone time passes.
    forget: VecDeque<(u64, Forget)>,
    changes: broadcast::Sender<()>,
    last_activity_ms: u64,
}

#[derive(Debug)]
enum Forget {
    Token(String),
    Reservation(String),
}

impl EventState {
    fn new() -> Self {
        Self {
            seq: 0,
            order: OrderIndex::default(),
            deadlines: BTreeSet::new(),
            tokens: HashMap::new(),
            visitors: HashMap::new(),
            reservations: HashMap::new(),
            bucket_tokens: None,
            bucket_ms: 0,
            admitted: 0,
            total_wait_ms: 0,
            admissions: VecDeque::new(),
            forget: VecDeque::new(),
            changes: broadcast::channel(CHANGE_FEED_CAPACITY).0,
            last_activity_ms: 0,
        }
    }

    fn notify(&self) {
        let _ = self.changes.send(());
    }

    /// Bounded per-call upkeep: evict lapsed heartbeats, forget old tombstones, age the rate window.
    fn housekeep(&mut self, now: u64) {
        let mut evicted = 0;
        while evicted < EVICT_PER_CALL {
            let Some((deadline, token)) = self.deadlines.first().cloned() else {
                break;
            };
            if deadline > now {
                break;
            }
            self.finish_waiting(&token, Phase::Expired, now);
            evicted += 1;
        }
        if evicted > 0 {
            self.notify();
        }
        for _ in 0..EVICT_PER_CALL {
            match self.forget.front() {
                Some((at, _)) if *at <= now => {}
                _ => break,
            }
            if let Some((_, what)) = self.forget.pop_front() {
                match what {
                    Forget::Token(t) => {
                        if let Some(rec) = self.tokens.remove(&t) {
                            if self.visitors.get(&rec.visitor_key) == Some(&t) {
                                self.visitors.remove(&rec.visitor_key);
                            }
                        }
                    }
                    Forget::Reservation(r) => {
                        self.reservations.remove(&r);
                    }
                }
            }
        }
        while self
            .admissions
            .front()
            .is_some_and(|&at| at + RATE_WINDOW_MS <= now)
        {
            self.admissions.pop_front();
        }
    }

    /// Takes a waiting token out of the queue into a final phase.
    fn finish_waiting(&mut self, token: &str, phase: Phase, now: u64) {
        let Some(rec) = self.tokens.get_mut(token) else {
            return;
        };
        if rec.phase != Phase::Waiting {
            return;
        }
        rec.phase = phase;
        self.deadlines.remove(&(rec.deadline_ms, token.to_owned()));
        self.order.remove(rec.seq);
        if self.visitors.get(&rec.visitor_key).map(String::as_str) == Some(token) {
            self.visitors.remove(&rec.visitor_key);
        }
        self.forget
            .push_back((now + TOMBSTONE_MS, Forget::Token(token.to_owned())));
    }

    fn renew(&mut self, token: &str, now: u64, config: &EventConfig) -> u64 {
        let Some(rec) = self.tokens.get_mut(token) else {
            return 0;
        };
        self.deadlines.remove(&(rec.deadline_ms, token.to_owned()));
        rec.deadline_ms = now + config.heartbeat_ms();
        self.deadlines.insert((rec.deadline_ms, token.to_owned()));
        rec.deadline_ms
    }

    fn describe(&self, token: &str, now: u64) -> TokenState {
        let Some(rec) = self.tokens.get(token) else {
            return TokenState::Unknown;
        };
        match rec.phase {
            Phase::Waiting => TokenState::Waiting {
                position: self.order.rank(rec.seq) as u64 + 1,
                expires_ms: rec.deadline_ms,
            },
            Phase::Admitted => match &rec.reservation {
                Some((_, until)) if *until > now => TokenState::Admitted {
                    valid_until_ms: *until,
                },
                _ => TokenState::Expired,
            },
            Phase::Expired => TokenState::Expired,
            Phase::Left | Phase::Consumed => TokenState::Left,
        }
    }

    fn observed(&self, state: TokenState) -> Observed {
        Observed {
            state,
            admitted_in_window: self.admissions.len() as u64,
        }
    }

    fn join(&mut self, args: &JoinArgs<'_>, now: u64) -> Joined {
        if let Some(existing) = self.visitors.get(args.visitor_key).cloned() {
            match self.describe(&existing, now) {
                TokenState::Waiting { expires_ms, .. } if expires_ms <= now => {
                    self.finish_waiting(&existing, Phase::Expired, now);
                }
                TokenState::Waiting { .. } => {
                    self.renew(&existing, now, args.config);
                    let state = self.describe(&existing, now);
                    return Joined {
                        token: existing,
                        observed: self.observed(state),
                    };
                }
                state @ TokenState::Admitted { .. } => {
                    return Joined {
                        token: existing,
                        observed: self.observed(state),
                    }
                }
                _ => {}
            }
        }
        self.seq += 1;
        let seq = self.seq;
        let token = args.new_token.to_owned();
        let deadline_ms = now + args.config.heartbeat_ms();
        self.order.insert(seq);
        self.deadlines.insert((deadline_ms, token.clone()));
        self.visitors
            .insert(args.visitor_key.to_owned(), token.clone());
        self.tokens.insert(
            token.clone(),
            TokenRecord {
                visitor_key: args.visitor_key.to_owned(),
                visitor_id: args.visitor_id.to_owned(),
                seq,
                joined_ms: now,
                phase: Phase::Waiting,
                deadline_ms,
                reservation: None,
            },
        );
        let state = self.describe(&token, now);
        Joined {
            token,
            observed: self.observed(state),
        }
    }

    fn admit(&mut self, args: &AdmitArgs<'_>, now: u64) -> AdmitOutcome {
        let Some(rec) = self.tokens.get(args.token) else {
            return AdmitOutcome::Invalid;
        };
        if !args.user_id.is_empty() && args.user_id != rec.visitor_id {
            return AdmitOutcome::Invalid;
        }
        match rec.phase {
            Phase::Admitted => {
                return match &rec.reservation {
                    Some((reservation, until)) if *until > now => AdmitOutcome::Granted {
                        reservation_token: reservation.clone(),
                        valid_until_ms: *until,
                    },
                    _ => AdmitOutcome::Expired,
                }
            }
            Phase::Expired => return AdmitOutcome::Expired,
            Phase::Left | Phase::Consumed => return AdmitOutcome::Left,
            Phase::Waiting => {}
        }
        let (seq, joined_ms) = (rec.seq, rec.joined_ms);
        if rec.deadline_ms <= now {
            self.finish_waiting(args.token, Phase::Expired, now);
            return AdmitOutcome::Expired;
        }
        self.renew(args.token, now, args.config);
        if self.order.rank(seq) as u64 >= u64::from(args.config.admission_window) {
            return AdmitOutcome::NotYourTurn;
        }
        let capacity = f64::from(args.config.bucket_capacity);
        let elapsed = now.saturating_sub(self.bucket_ms) as f64;
        let available = match self.bucket_tokens {
            Some(t) => (t + elapsed * args.config.refill_per_second / 1000.0).min(capacity),
            None => capacity,
        };
        self.bucket_ms = now;
        if available < 1.0 {
            self.bucket_tokens = Some(available);
            return AdmitOutcome::RateLimited;
        }
        self.bucket_tokens = Some(available - 1.0);

        let valid_until_ms = now + args.config.reservation_ms();
        let reservation = args.new_reservation_token.to_owned();
        let Some(rec) = self.tokens.get_mut(args.token) else {
            return AdmitOutcome::Invalid;
        };
        rec.phase = Phase::Admitted;
        rec.reservation = Some((reservation.clone(), valid_until_ms));
        let (deadline, visitor_id) = (rec.deadline_ms, rec.visitor_id.clone());
        self.deadlines.remove(&(deadline, args.token.to_owned()));
        self.order.remove(seq);
        self.reservations.insert(
            reservation.clone(),
            ReservationRecord {
                waiting_token: args.token.to_owned(),
                visitor_id,
                valid_until_ms,
                used_by: None,
            },
        );
        let forget_at = valid_until_ms + TOMBSTONE_MS;
        self.forget
            .push_back((forget_at, Forget::Token(args.token.to_owned())));
        self.forget
            .push_back((forget_at, Forget::Reservation(reservation.clone())));
        self.admitted += 1;
        self.total_wait_ms += now.saturating_sub(joined_ms);
        self.admissions.push_back(now);
        self.notify();
        AdmitOutcome::Granted {
            reservation_token: reservation,
            valid_until_ms,
        }
    }

    fn consume(&mut self, args: &ConsumeArgs<'_>, now: u64) -> ConsumeOutcome {
        let Some(res) = self.reservations.get_mut(args.reservation_token) else {
            return ConsumeOutcome::Invalid;
        };
        if res.visitor_id != args.user_id {
            return ConsumeOutcome::Invalid;
        }
        if let Some(by) = &res.used_by {
            return if by == args.nonce {
                ConsumeOutcome::Consumed
            } else {
                ConsumeOutcome::AlreadyUsed
            };
        }
        if res.valid_until_ms <= now {
            return ConsumeOutcome::Expired;
        }
        res.used_by = Some(args.nonce.to_owned());
        let waiting_token = res.waiting_token.clone();
        if let Some(rec) = self.tokens.get_mut(&waiting_token) {
            rec.phase = Phase::Consumed;
            if self.visitors.get(&rec.visitor_key) == Some(&waiting_token) {
                self.visitors.remove(&rec.visitor_key);
            }
        }
        ConsumeOutcome::Consumed
    }

    fn leave(&mut self, token: &str, now: u64) -> bool {
        let Some(rec) = self.tokens.get_mut(token) else {
            return false;
        };
        match rec.phase {
            Phase::Waiting => {
                self.finish_waiting(token, Phase::Left, now);
                self.notify();
                true
            }
            Phase::Admitted => {
                rec.phase = Phase::Left;
                if let Some((reservation, _)) = &rec.reservation {
                    if let Some(res) = self.reservations.get_mut(reservation) {
                        res.used_by.get_or_insert_with(|| "left".to_owned());
                    }
                }
                if self.visitors.get(&rec.visitor_key).map(String::as_str) == Some(token) {
                    self.visitors.remove(&rec.visitor_key);
                }
                true
            }
            _ => false,
        }
    }
}

impl Backend for MemoryBackend {
    fn join<'a>(&'a self, args: JoinArgs<'a>) -> BoxFuture<'a, BackendResult<Joined>> {
        future::ready(Ok(
            self.with_event(args.event, true, |s, now| s.join(&args, now))
        ))
        .boxed()
    }

    fn status<'a>(
        &'a self,
        event: &'a str,
        tokens: &'a [String],
        config: &'a EventConfig,
    ) -> BoxFuture<'a, BackendResult<Vec<Observed>>> {
        let out = self.with_event(event, false, |s, now| {
            tokens
                .iter()
                .map(|token| {
                    if let TokenState::Waiting { expires_ms, .. } = s.describe(token, now) {
                        if expires_ms <= now {
                            // lapsed but not yet evicted: a late poll must not revive it
                            s.finish_waiting(token, Phase::Expired, now);
                        } else {
                            s.renew(token, now, config);
                        }
                    }
                    let state = s.describe(token, now);
                    s.observed(state)
                })
                .collect()
        });
        future::ready(Ok(out)).boxed()
    }

    fn admit<'a>(&'a self, args: AdmitArgs<'a>) -> BoxFuture<'a, BackendResult<AdmitOutcome>> {
        future::ready(Ok(
            self.with_event(args.event, false, |s, now| s.admit(&args, now))
        ))
        .boxed()
    }

    fn consume<'a>(
        &'a self,
        args: ConsumeArgs<'a>,
    ) -> BoxFuture<'a, BackendResult<ConsumeOutcome>> {
        future::ready(Ok(
            self.with_event(args.event, false, |s, now| s.consume(&args, now))
        ))
        .boxed()
    }

    fn leave<'a>(&'a self, event: &'a str, token: &'a str) -> BoxFuture<'a, BackendResult<bool>> {
        future::ready(Ok(
            self.with_event(event, false, |s, now| s.leave(token, now))
        ))
        .boxed()
    }

    fn stats<'a>(&'a self, event: &'a str) -> BoxFuture<'a, BackendResult<RawStats>> {
        let stats = self.with_event(event, false, |s, _| RawStats {
            waiting: s.order.len() as u64,
            admitted: s.admitted,
            total_wait_ms: s.total_wait_ms,
            admitted_in_window: s.admissions.len() as u64,
        });
        future::ready(Ok(stats)).boxed()
    }

    fn active_events(&self) -> BoxFuture<'_, BackendResult<Vec<String>>> {
        let now = now_millis();
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let mut active: Vec<String> = events
            .iter()
            .filter(|(_, s)| s.order.len() > 0 || s.last_activity_ms + ACTIVE_FOR_MS > now)
            .map(|(e, _)| e.clone())
            .collect();
        active.sort();
        future::ready(Ok(active)).boxed()
    }

    fn changes(&self, event: &str) -> broadcast::Receiver<()> {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events
            .entry(event.to_owned())
            .or_insert_with(EventState::new)
            .changes
            .subscribe()
    }
}
