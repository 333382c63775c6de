//! Waiting-room gauges, fed from the figures the room computes anyway (no extra store calls).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::names::*;
use super::{Counter, Gauge, Metrics};

/// Events tracked at most: event ids come from clients, so their number is capped to keep the
/// exposition bounded. Events beyond the cap are simply not shown.
const MAX_EVENTS: usize = 1024;

#[derive(Clone, Debug)]
struct EventGauges {
    waiting: Gauge,
    admitted: Gauge,
    rate: Gauge,
}

/// Handles on the waiting-room series of one registry. Gauges show the figures this process
/// last observed: `waiting` from fresh joins (the newcomer's position is the queue's length)
/// and from stats, `admitted` from stats, `admission_rate` from joins, status polls and stats.
#[derive(Debug)]
pub struct WaitingRoomMetrics {
    metrics: Arc<Metrics>,
    events: RwLock<HashMap<String, EventGauges>>,
    store_errors: Counter,
}

impl WaitingRoomMetrics {
    /// The waiting-room series in `metrics`.
    pub fn new(metrics: &Arc<Metrics>) -> Self {
        Self {
            metrics: metrics.clone(),
            events: RwLock::default(),
            store_errors: metrics.builtin_counter(WR_STORE_ERRORS, &[]),
        }
    }

    fn event(&self, event: &str) -> Option<EventGauges> {
        if let Some(g) = self
            .events
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(event)
        {
            return Some(g.clone());
        }
        let mut events = self.events.write().unwrap_or_else(|e| e.into_inner());
        if events.len() >= MAX_EVENTS && !events.contains_key(event) {
            return None;
        }
        let labels = [("event", event)];
        let gauges = events
            .entry(event.to_owned())
            .or_insert_with(|| EventGauges {
                waiting: self.metrics.builtin_gauge(WR_WAITING, &labels),
                admitted: self.metrics.builtin_gauge(WR_ADMITTED, &labels),
                rate: self.metrics.builtin_gauge(WR_RATE, &labels),
            });
        Some(gauges.clone())
    }

    /// A fresh join placed its visitor at `position` (the queue's length then).
    pub(crate) fn joined(&self, event: &str, position: u64, rate_per_minute: u64) {
        if let Some(g) = self.event(event) {
            g.waiting.set(position as f64);
            g.rate.set(rate_per_minute as f64);
        }
    }

    /// A status poll or a rejoin saw the admission rate.
    pub(crate) fn rate(&self, event: &str, rate_per_minute: u64) {
        if let Some(g) = self.event(event) {
            g.rate.set(rate_per_minute as f64);
        }
    }

    /// Exact figures from the store's stats.
    pub(crate) fn stats(&self, event: &str, waiting: u64, admitted: u64, rate_per_minute: u64) {
        if let Some(g) = self.event(event) {
            g.waiting.set(waiting as f64);
            g.admitted.set(admitted as f64);
            g.rate.set(rate_per_minute as f64);
        }
    }

    /// A call failed in the store.
    pub(crate) fn store_error(&self) {
        self.store_errors.inc();
    }
}
