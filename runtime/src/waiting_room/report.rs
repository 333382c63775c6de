//! What the room reports about itself: metrics from figures it computes anyway, and store
//! failures as warnings with their cause (at most one a second, so an outage under load does
//! not flood the log).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use super::config::RATE_WINDOW_MS;
use super::error::WaitingRoomError;
use super::types::now_millis;
use crate::metrics::{Metrics, WaitingRoomMetrics};

/// Shortest gap between two store-failure warnings.
const WARN_EVERY_MS: u64 = 1_000;

#[derive(Debug, Default)]
pub(crate) struct Reporter {
    metrics: OnceLock<WaitingRoomMetrics>,
    last_warn_ms: AtomicU64,
    suppressed: AtomicU64,
}

/// Admissions per minute from the admissions counted in the rate window.
pub(crate) fn rate_per_minute(admitted_in_window: u64) -> u64 {
    admitted_in_window * 60_000 / RATE_WINDOW_MS
}

impl Reporter {
    /// Starts recording into `metrics`; returns false if the room already records somewhere.
    pub(crate) fn attach(&self, metrics: &Arc<Metrics>) -> bool {
        self.metrics.set(WaitingRoomMetrics::new(metrics)).is_ok()
    }

    pub(crate) fn metrics(&self) -> Option<&WaitingRoomMetrics> {
        self.metrics.get()
    }

    /// Passes `result` through, counting and logging a store failure.
    pub(crate) fn check<T>(
        &self,
        result: Result<T, WaitingRoomError>,
    ) -> Result<T, WaitingRoomError> {
        if let Err(err @ (WaitingRoomError::Unavailable { .. } | WaitingRoomError::Internal(_))) =
            &result
        {
            if let Some(m) = self.metrics.get() {
                m.store_error();
            }
            self.warn(err);
        }
        result
    }

    fn warn(&self, err: &WaitingRoomError) {
        let now = now_millis();
        let last = self.last_warn_ms.load(Relaxed);
        let due = now.saturating_sub(last) >= WARN_EVERY_MS || last == 0;
        if due
            && self
                .last_warn_ms
                .compare_exchange(last, now.max(1), Relaxed, Relaxed)
                .is_ok()
        {
            let suppressed = self.suppressed.swap(0, Relaxed);
            tracing::warn!(
                target: "tacos::waiting_room",
                error = %err,
                suppressed,
                "waiting room store call failed"
            );
        } else {
            self.suppressed.fetch_add(1, Relaxed);
        }
    }
}
