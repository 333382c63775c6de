//! Lock-free histogram storage: one atomic counter per bucket plus a running sum.
//!
//! Buckets hold per-bucket counts; the cumulative form Prometheus wants is built at render
//! time from one read of every bucket, so `+Inf` and `_count` are the same number by
//! construction.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds: 0.1 ms to 10 s.
const LATENCY_BOUNDS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// The latency bucket bounds in seconds (`le` values) of every duration histogram the runtime
/// records: 0.1 ms, 0.25 ms, 0.5 ms, 1 ms, … 5 s, 10 s.
pub fn latency_buckets() -> impl ExactSizeIterator<Item = f64> + Clone {
    LATENCY_BOUNDS_US.iter().map(|us| *us as f64 / 1e6)
}

/// A histogram of durations with the fixed latency buckets; the sum is kept in nanoseconds so
/// recording is two plain atomic adds.
#[derive(Debug)]
pub(crate) struct LatencyHistogram {
    counts: [AtomicU64; LATENCY_BOUNDS_US.len() + 1],
    sum_ns: AtomicU64,
}

impl LatencyHistogram {
    pub(crate) fn new() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }

    pub(crate) fn record(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let us = ns / 1_000;
        // `le` is inclusive: a value equal to a bound belongs to that bound's bucket.
        let index = LATENCY_BOUNDS_US
            .partition_point(|bound| *bound < us || (*bound == us && ns % 1_000 != 0));
        self.counts[index].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    /// Per-bucket counts (the last is `+Inf`) and the sum in seconds.
    pub(crate) fn snapshot(&self) -> ([u64; LATENCY_BOUNDS_US.len() + 1], f64) {
        let counts = std::array::from_fn(|i| self.counts[i].load(Relaxed));
        (counts, self.sum_ns.load(Relaxed) as f64 / 1e9)
    }
}

/// An `f64` updated atomically through its bit pattern.
pub(crate) struct AtomicF64(AtomicU64);

impl std::fmt::Debug for AtomicF64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl AtomicF64 {
    pub(crate) fn new(v: f64) -> Self {
        Self(AtomicU64::new(v.to_bits()))
    }

    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }

    pub(crate) fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed);
    }

    pub(crate) fn add(&self, delta: f64) {
        // A compare-and-swap loop: there is no atomic float add.
        let _ = self.0.fetch_update(Relaxed, Relaxed, |bits| {
            Some((f64::from_bits(bits) + delta).to_bits())
        });
    }
}

/// A histogram over caller-chosen bounds, for application metrics.
#[derive(Debug)]
pub(crate) struct ValueHistogram {
    bounds: Box<[f64]>,
    counts: Box<[AtomicU64]>,
    sum: AtomicF64,
}

impl ValueHistogram {
    /// `bounds` must already be checked: finite and strictly increasing.
    pub(crate) fn new(bounds: &[f64]) -> Self {
        Self {
            bounds: bounds.into(),
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::new(0.0),
        }
    }

    pub(crate) fn observe(&self, v: f64) {
        if v.is_nan() {
            return;
        }
        let index = self.bounds.partition_point(|bound| *bound < v);
        self.counts[index].fetch_add(1, Relaxed);
        self.sum.add(v);
    }

    pub(crate) fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    pub(crate) fn snapshot(&self) -> (Vec<u64>, f64) {
        let counts = self.counts.iter().map(|c| c.load(Relaxed)).collect();
        (counts, self.sum.get())
    }
}

/// Checks application-chosen bucket bounds: at least one, finite, strictly increasing.
pub(crate) fn check_bounds(bounds: &[f64]) -> Result<(), &'static str> {
    if bounds.is_empty() {
        return Err("at least one bucket bound is required");
    }
    if bounds.iter().any(|b| !b.is_finite()) {
        return Err("bucket bounds must be finite (+Inf is implied)");
    }
    if bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err("bucket bounds must be strictly increasing");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_bounds_are_inclusive() {
        let h = LatencyHistogram::new();
        h.record(Duration::from_micros(100)); // le=0.0001
        h.record(Duration::from_nanos(100_001)); // le=0.00025
        h.record(Duration::from_secs(10)); // le=10
        h.record(Duration::from_secs(11)); // +Inf
        h.record(Duration::ZERO); // le=0.0001
        let (counts, sum) = h.snapshot();
        assert_eq!(counts[0], 2);
        assert_eq!(counts[1], 1);
        assert_eq!(counts[15], 1);
        assert_eq!(counts[16], 1);
        assert!((sum - 21.000_200_001).abs() < 1e-9, "{sum}");
        let bounds: Vec<f64> = latency_buckets().collect();
        assert_eq!(bounds.first(), Some(&0.0001));
        assert_eq!(bounds.last(), Some(&10.0));
    }

    #[test]
    fn value_histogram_and_bounds() {
        let h = ValueHistogram::new(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 3.0, f64::NAN] {
            h.observe(v);
        }
        let (counts, sum) = h.snapshot();
        assert_eq!(counts, vec![2, 1, 1]);
        assert_eq!(sum, 6.0);
        assert!(check_bounds(&[]).is_err());
        assert!(check_bounds(&[1.0, 1.0]).is_err());
        assert!(check_bounds(&[1.0, f64::INFINITY]).is_err());
        assert!(check_bounds(&[-1.0, 0.0, 2.5]).is_ok());
    }
}
