//! Live updates: one refresh loop per watched event, fanned out to that event's watchers.
//!
//! The loop wakes on the event's change feed (Redis pub/sub or the in-memory broadcast), on a
//! new watcher, and on a timer that keeps watchers' heartbeats alive. It coalesces bursts of
//! notices (at most one full pass every half second), then looks up every watched token in
//! batched status calls (one round trip per batch, a rank lookup per token) and sends each
//! watcher only what changed. A new watcher is looked up alone, right away. Watchers get
//! small bounded buffers: a slow reader misses intermediate states, never the latest one.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::sync::{broadcast, mpsc, Notify};
use tokio::time::Instant;

use super::backend::{Backend, Observed};
use super::config::EventConfig;
use super::types::{QueueStatus, QueueUpdate, QueueUpdateKind};
use super::view::view_of;

/// Updates buffered per watcher.
const WATCHER_BUFFER: usize = 8;
/// Pause after a notice so a burst of changes costs one refresh.
const COALESCE: Duration = Duration::from_millis(20);
/// Tokens looked up per status call.
const BATCH: usize = 256;
/// Shortest time between two refreshes of all of an event's watchers.
const MIN_FULL_REFRESH: Duration = Duration::from_millis(500);

/// Reads the current settings of an event.
pub(crate) type ConfigLookup = Arc<dyn Fn(&str) -> EventConfig + Send + Sync>;

/// A stream of updates for one waiting token; ends after the token expires or leaves.
#[derive(Debug)]
pub struct QueueUpdates {
    receiver: mpsc::Receiver<QueueUpdate>,
}

impl Stream for QueueUpdates {
    type Item = QueueUpdate;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<QueueUpdate>> {
        self.receiver.poll_recv(cx)
    }
}

struct Watcher {
    token: String,
    sender: mpsc::Sender<QueueUpdate>,
    last: Option<QueueUpdate>,
}

#[derive(Default)]
struct EventWatch {
    watchers: Mutex<HashMap<u64, Watcher>>,
    wake: Notify,
}

/// All watched events of one room.
pub(crate) struct Hub {
    backend: Arc<dyn Backend>,
    configs: ConfigLookup,
    events: Arc<Mutex<HashMap<String, Arc<EventWatch>>>>,
    next_id: AtomicU64,
}

impl Hub {
    pub(crate) fn new(backend: Arc<dyn Backend>, configs: ConfigLookup) -> Self {
        Self {
            backend,
            configs,
            events: Arc::default(),
            next_id: AtomicU64::new(0),
        }
    }

    /// Starts watching `token` of `event`; the first update arrives right away.
    pub(crate) fn watch(&self, event: &str, token: &str) -> QueueUpdates {
        let (sender, receiver) = mpsc::channel(WATCHER_BUFFER);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let watch = match events.get(event) {
            Some(watch) => watch.clone(),
            None => {
                let watch = Arc::new(EventWatch::default());
                events.insert(event.to_owned(), watch.clone());
                tokio::spawn(refresh_loop(
                    self.backend.clone(),
                    self.configs.clone(),
                    self.events.clone(),
                    event.to_owned(),
                    watch.clone(),
                ));
                watch
            }
        };
        watch
            .watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id,
                Watcher {
                    token: token.to_owned(),
                    sender,
                    last: None,
                },
            );
        drop(events);
        watch.wake.notify_one();
        QueueUpdates { receiver }
    }
}

fn refresh_period(config: &EventConfig) -> Duration {
    (config.heartbeat_ttl / 3).clamp(Duration::from_millis(20), Duration::from_secs(10))
}

async fn refresh_loop(
    backend: Arc<dyn Backend>,
    configs: ConfigLookup,
    events: Arc<Mutex<HashMap<String, Arc<EventWatch>>>>,
    event: String,
    watch: Arc<EventWatch>,
) {
    let mut changes = backend.changes(&event);
    let mut period = refresh_period(&configs(&event));
    let mut last_full: Option<Instant> = None;
    // A deadline rather than a fresh sleep per wake-up: a stream of new watchers must not
    // postpone the refresh that keeps everyone's heartbeat alive.
    let mut next_tick = Instant::now() + period;
    loop {
        // A change notice or the timer refreshes every watcher; a new watcher only itself.
        let full = tokio::select! {
            notice = changes.recv() => {
                if let Err(broadcast::error::RecvError::Closed) = notice {
                    changes = backend.changes(&event);
                }
                true
            }
            _ = tokio::time::sleep_until(next_tick) => true,
            _ = watch.wake.notified() => false,
        };
        if full {
            // Coalesce a burst of notices, and bound the cost of busy events to one pass over
            // the watchers per MIN_FULL_REFRESH.
            let now = Instant::now();
            let earliest = last_full.map_or(now, |at| at + MIN_FULL_REFRESH);
            tokio::time::sleep_until(earliest.max(now + COALESCE)).await;
            while changes.try_recv().is_ok() {}
            last_full = Some(Instant::now());
        }
        let config = configs(&event);
        period = refresh_period(&config);
        if full {
            next_tick = Instant::now() + period;
        }
        let tokens: Vec<(u64, String)> = {
            let events_guard = events.lock().unwrap_or_else(|e| e.into_inner());
            let mut watchers = watch.watchers.lock().unwrap_or_else(|e| e.into_inner());
            watchers.retain(|_, w| !w.sender.is_closed());
            if watchers.is_empty() {
                // Under the hub lock, so no watcher can be added to this loop meanwhile.
                drop(watchers);
                let mut events_guard = events_guard;
                events_guard.remove(&event);
                return;
            }
            watchers
                .iter()
                .filter(|(_, w)| full || w.last.is_none())
                .map(|(id, w)| (*id, w.token.clone()))
                .collect()
        };
        for batch in tokens.chunks(BATCH) {
            let names: Vec<String> = batch.iter().map(|(_, t)| t.clone()).collect();
            // A failed lookup (store unavailable) is retried on the next wake-up.
            let Ok(observed) = backend.status(&event, &names, &config).await else {
                continue;
            };
            let mut watchers = watch.watchers.lock().unwrap_or_else(|e| e.into_inner());
            for ((id, token), seen) in batch.iter().zip(observed) {
                let Some(watcher) = watchers.get_mut(id) else {
                    continue;
                };
                let update = update_for(token, &seen, &config);
                let terminal = update.kind == QueueUpdateKind::TokenExpired;
                if !watcher
                    .last
                    .as_ref()
                    .is_some_and(|last| same_state(last, &update))
                {
                    // A full buffer drops this state; `last` stays, so a later refresh resends.
                    if watcher.sender.try_send(update.clone()).is_ok() {
                        watcher.last = Some(update);
                    }
                }
                if terminal {
                    watchers.remove(id);
                }
            }
        }
    }
}

fn update_for(token: &str, seen: &Observed, config: &EventConfig) -> QueueUpdate {
    let view = view_of(seen, config);
    let kind = match view.status {
        QueueStatus::Expired | QueueStatus::Left => QueueUpdateKind::TokenExpired,
        _ if view.admission_ready => QueueUpdateKind::AdmissionReady,
        _ => QueueUpdateKind::PositionChanged,
    };
    QueueUpdate {
        waiting_token: token.to_owned(),
        kind,
        status: view.status,
        position: view.position,
        eta_seconds: view.eta_seconds,
        admission_ready: view.admission_ready,
        expires_at: view.expires_at,
    }
}

/// Whether a watcher already knows this state (a renewed heartbeat alone is not news).
fn same_state(a: &QueueUpdate, b: &QueueUpdate) -> bool {
    (a.status, a.position, a.eta_seconds, a.admission_ready)
        == (b.status, b.position, b.eta_seconds, b.admission_ready)
}
