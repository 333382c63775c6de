//! Server-side series: per method and protocol, request counts by code, a latency histogram
//! and the number of calls in flight.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::histogram::{latency_buckets, LatencyHistogram};
use super::names::*;
use super::text::{Exposition, Kind, Value};
use super::Metrics;
use crate::context::Protocol;
use crate::method::MethodInfo;
use crate::status::{code_name, Code};

/// gRPC has 17 status codes, `OK` (0) to `UNAUTHENTICATED` (16).
pub(crate) const CODES: usize = 17;

pub(crate) fn code_index(code: Code) -> usize {
    (code as usize).min(CODES - 1)
}

pub(crate) fn protocol_index(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Grpc => 0,
        Protocol::Rest => 1,
    }
}

pub(crate) const PROTOCOLS: [Protocol; 2] = [Protocol::Grpc, Protocol::Rest];

/// The atomics of one (method, protocol) pair.
#[derive(Debug)]
pub(crate) struct CallStats {
    pub(crate) in_flight: AtomicI64,
    pub(crate) codes: [AtomicU64; CODES],
    pub(crate) latency: LatencyHistogram,
}

impl CallStats {
    pub(crate) fn new() -> Self {
        Self {
            in_flight: AtomicI64::new(0),
            codes: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: LatencyHistogram::new(),
        }
    }

    pub(crate) fn finish(&self, code: Code, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Relaxed);
        self.codes[code_index(code)].fetch_add(1, Relaxed);
        self.latency.record(elapsed);
    }

    /// Whether any call was started here.
    pub(crate) fn used(&self) -> bool {
        self.in_flight.load(Relaxed) != 0 || self.codes.iter().any(|c| c.load(Relaxed) != 0)
    }

    /// Writes the request counter (non-zero codes only) and the histogram under `labels`.
    pub(crate) fn render_counts(
        &self,
        exposition: &mut Exposition<'_>,
        requests: (&'static str, &'static str),
        duration: (&'static str, &'static str),
        labels: &[(&str, &str)],
    ) {
        let mut with_code = labels.to_vec();
        with_code.push(("code", ""));
        let last = with_code.len() - 1;
        let mut out = exposition.family(requests.0, requests.1, Kind::Counter);
        for (i, count) in self.codes.iter().enumerate() {
            let count = count.load(Relaxed);
            if count > 0 {
                with_code[last].1 = code_name(Code::from_i32(i as i32));
                out.sample(&with_code, Value::Int(count));
            }
        }
        let (counts, sum) = self.latency.snapshot();
        exposition
            .family(duration.0, duration.1, Kind::Histogram)
            .histogram(labels, latency_buckets(), &counts, sum);
    }
}

#[derive(Debug)]
struct MethodInner {
    service: &'static str,
    method: &'static str,
    protocols: [CallStats; 2],
}

/// The series of one method on both protocols: a cheap handle (an `Arc`), resolved once.
#[derive(Clone, Debug)]
pub struct MethodSeries {
    inner: Arc<MethodInner>,
}

impl MethodSeries {
    pub(crate) fn new(service: &'static str, method: &'static str) -> Self {
        Self {
            inner: Arc::new(MethodInner {
                service,
                method,
                protocols: [CallStats::new(), CallStats::new()],
            }),
        }
    }

    /// Starts timing one call: counts it in flight until the timer is finished or dropped.
    pub fn start(&self, protocol: Protocol) -> CallTimer {
        let index = protocol_index(protocol);
        self.inner.protocols[index].in_flight.fetch_add(1, Relaxed);
        CallTimer {
            series: Some(self.clone()),
            index,
            started: Instant::now(),
        }
    }

    pub(crate) fn render(&self, exposition: &mut Exposition<'_>) {
        for protocol in PROTOCOLS {
            let stats = &self.inner.protocols[protocol_index(protocol)];
            let labels = [
                ("service", self.inner.service),
                ("method", self.inner.method),
                ("protocol", protocol.as_str()),
            ];
            stats.render_counts(
                exposition,
                (SERVER_REQUESTS, SERVER_REQUESTS_HELP),
                (SERVER_DURATION, SERVER_DURATION_HELP),
                &labels,
            );
            exposition
                .family(SERVER_IN_FLIGHT, SERVER_IN_FLIGHT_HELP, Kind::Gauge)
                .sample(&labels, Value::Signed(stats.in_flight.load(Relaxed)));
        }
    }
}

/// One call being timed. [`finish`](Self::finish) records its code; dropped unfinished (the
/// client went away, the future was abandoned) it records `CANCELLED`.
#[derive(Debug)]
#[must_use = "a timer dropped at once records a cancelled call"]
pub struct CallTimer {
    series: Option<MethodSeries>,
    index: usize,
    started: Instant,
}

impl CallTimer {
    /// Records the call's outcome and returns its duration (for the access log).
    pub fn finish(mut self, code: Code) -> Duration {
        let elapsed = self.started.elapsed();
        if let Some(series) = self.series.take() {
            series.inner.protocols[self.index].finish(code, elapsed);
        }
        elapsed
    }

    /// When the call started.
    pub fn started(&self) -> Instant {
        self.started
    }
}

impl Drop for CallTimer {
    fn drop(&mut self) {
        if let Some(series) = self.series.take() {
            series.inner.protocols[self.index].finish(Code::Cancelled, self.started.elapsed());
        }
    }
}

/// The server series of every method a server serves, looked up per call by the address of
/// the method's `static` [`MethodInfo`] (a binary search over a sorted table, no hashing).
#[derive(Clone, Debug)]
pub struct ServerMetrics {
    by_address: Box<[(usize, MethodSeries)]>,
}

impl ServerMetrics {
    /// Resolves the series of `methods` in `metrics` (once, at server build time). Servers
    /// built on the same registry share the series of methods with the same names.
    pub fn new(
        metrics: &Arc<Metrics>,
        methods: impl IntoIterator<Item = &'static MethodInfo>,
    ) -> Self {
        let mut by_address: Vec<(usize, MethodSeries)> = methods
            .into_iter()
            .map(|m| (address(m), metrics.server_series(m.service, m.name)))
            .collect();
        by_address.sort_by_key(|(addr, _)| *addr);
        by_address.dedup_by_key(|(addr, _)| *addr);
        Self {
            by_address: by_address.into_boxed_slice(),
        }
    }

    /// The series of `method`, or `None` for a method this server was not built with (a
    /// `MethodInfo` that is not one of the `static`s passed to [`ServerMetrics::new`]).
    pub fn method(&self, method: &'static MethodInfo) -> Option<&MethodSeries> {
        let addr = address(method);
        self.by_address
            .binary_search_by_key(&addr, |(a, _)| *a)
            .ok()
            .map(|i| &self.by_address[i].1)
    }
}

fn address(method: &'static MethodInfo) -> usize {
    std::ptr::from_ref(method) as usize
}
