//! Per-event admission settings.

use std::time::Duration;

use super::error::WaitingRoomError;

/// How one event admits users. Every field has a default ([`EventConfig::default`]); the
/// settings can be changed per event while the room runs ([`super::WaitingRoom::set_event_config`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EventConfig {
    /// Token-bucket burst size: admissions that may be granted at once after a quiet period.
    pub bucket_capacity: u32,
    /// Token-bucket refill: sustained admissions per second.
    pub refill_per_second: f64,
    /// How many users at the head of the queue may request admission.
    pub admission_window: u32,
    /// A waiting user who neither polls nor watches for this long is removed from the queue.
    pub heartbeat_ttl: Duration,
    /// How long a reservation token stays valid after it is granted.
    pub reservation_ttl: Duration,
}

impl Default for EventConfig {
    fn default() -> Self {
        Self {
            bucket_capacity: 100,
            refill_per_second: 50.0,
            admission_window: 100,
            heartbeat_ttl: Duration::from_secs(60),
            reservation_ttl: Duration::from_secs(300),
        }
    }
}

impl EventConfig {
    /// Checks the settings are usable.
    pub fn validate(&self) -> Result<(), WaitingRoomError> {
        let bad = |reason: &str| Err(WaitingRoomError::invalid("config", reason));
        if self.bucket_capacity == 0 {
            return bad("bucket_capacity must be at least 1");
        }
        if !(self.refill_per_second.is_finite() && self.refill_per_second > 0.0) {
            return bad("refill_per_second must be a positive number");
        }
        if self.admission_window == 0 {
            return bad("admission_window must be at least 1");
        }
        if self.heartbeat_ttl < Duration::from_millis(10) {
            return bad("heartbeat_ttl must be at least 10ms");
        }
        if self.reservation_ttl < Duration::from_millis(10) {
            return bad("reservation_ttl must be at least 10ms");
        }
        Ok(())
    }

    pub(crate) fn heartbeat_ms(&self) -> u64 {
        self.heartbeat_ttl.as_millis() as u64
    }

    pub(crate) fn reservation_ms(&self) -> u64 {
        self.reservation_ttl.as_millis() as u64
    }
}

/// The window over which the admission rate is measured for ETAs and stats.
pub(crate) const RATE_WINDOW_MS: u64 = 60_000;

/// How long finished tokens (left, expired, used) are remembered so that later calls get the
/// matching status instead of "unknown".
pub(crate) const TOMBSTONE_MS: u64 = 15 * 60_000;

/// Upper bound on expired heartbeats each call evicts, so no call does unbounded work.
pub(crate) const EVICT_PER_CALL: u64 = 64;

/// Estimated seconds until admission for `position`, from admissions measured over the last
/// [`RATE_WINDOW_MS`], or the configured refill rate before any admission was measured.
pub(crate) fn eta_seconds(position: u64, admitted_in_window: u64, config: &EventConfig) -> u64 {
    if position == 0 {
        return 0;
    }
    let per_second = if admitted_in_window > 0 {
        admitted_in_window as f64 * 1000.0 / RATE_WINDOW_MS as f64
    } else {
        config.refill_per_second
    };
    (position as f64 / per_second).ceil() as u64
}
