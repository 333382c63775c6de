//! Client-side series: outgoing calls per target, method and transport, retries, the circuit
//! breaker's state and shadow-call differences.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::names::*;
use super::server::{protocol_index, CallStats, PROTOCOLS};
use super::text::Exposition;
use super::{Counter, Gauge, Metrics};
use crate::context::Protocol;
use crate::method::MethodInfo;
use crate::status::Code;

/// Identity of one interned client series: target, service, method.
pub(crate) type ClientSeriesKey = (String, &'static str, &'static str);

#[derive(Debug)]
struct ClientInner {
    target: Arc<str>,
    service: &'static str,
    method: &'static str,
    transports: [CallStats; 2],
    retries: Counter,
}

/// The series of one method called on one target: a cheap handle (an `Arc`), resolved once.
#[derive(Clone, Debug)]
pub struct ClientMethodSeries {
    inner: Arc<ClientInner>,
}

impl ClientMethodSeries {
    /// Starts timing one outgoing call over `transport` (`grpc` or `rest`).
    pub fn start(&self, transport: Protocol) -> ClientCallTimer {
        let index = protocol_index(transport);
        self.inner.transports[index].in_flight.fetch_add(1, Relaxed);
        ClientCallTimer {
            series: Some(self.clone()),
            index,
            started: Instant::now(),
        }
    }

    /// Counts one retry of this method (`tacos_client_retries_total`).
    pub fn retry(&self) {
        self.inner.retries.inc();
    }

    /// Writes the series of the transports this method was called over (a client usually
    /// speaks one; the other's zeros would only be noise).
    pub(crate) fn render(&self, exposition: &mut Exposition<'_>) {
        for transport in PROTOCOLS {
            if !self.inner.transports[protocol_index(transport)].used() {
                continue;
            }
            let labels = [
                ("target", &*self.inner.target),
                ("service", self.inner.service),
                ("method", self.inner.method),
                ("transport", transport.as_str()),
            ];
            self.inner.transports[protocol_index(transport)].render_counts(
                exposition,
                (CLIENT_REQUESTS, CLIENT_REQUESTS_HELP),
                (CLIENT_DURATION, CLIENT_DURATION_HELP),
                &labels,
            );
        }
    }
}

/// One outgoing call being timed. [`finish`](Self::finish) records its code; dropped unfinished
/// it records `CANCELLED`.
#[derive(Debug)]
#[must_use = "a timer dropped at once records a cancelled call"]
pub struct ClientCallTimer {
    series: Option<ClientMethodSeries>,
    index: usize,
    started: Instant,
}

impl ClientCallTimer {
    /// Records the call's outcome and returns its duration.
    pub fn finish(mut self, code: Code) -> Duration {
        let elapsed = self.started.elapsed();
        if let Some(series) = self.series.take() {
            series.inner.transports[self.index].finish(code, elapsed);
        }
        elapsed
    }
}

impl Drop for ClientCallTimer {
    fn drop(&mut self) {
        if let Some(series) = self.series.take() {
            series.inner.transports[self.index].finish(Code::Cancelled, self.started.elapsed());
        }
    }
}

/// A circuit breaker's state, as `tacos_client_breaker_state` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow (0).
    Closed,
    /// Trial calls probe a recovering target (1).
    HalfOpen,
    /// Calls fail fast (2).
    Open,
}

impl BreakerState {
    fn value(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

/// The client series of one target (a backend address or name), resolved once when the
/// client is built; per call, [`ClientMetrics::method`] finds a method's handle by the address
/// of its `static` [`MethodInfo`].
#[derive(Clone, Debug)]
pub struct ClientMetrics {
    metrics: Arc<Metrics>,
    target: Arc<str>,
    breaker: Gauge,
    by_address: Box<[(usize, ClientMethodSeries)]>,
}

impl ClientMetrics {
    /// Resolves the series of `methods` called on `target`. Clients of the same target on the
    /// same registry share their series. The breaker gauge starts at closed.
    pub fn new(
        metrics: &Arc<Metrics>,
        target: &str,
        methods: impl IntoIterator<Item = &'static MethodInfo>,
    ) -> Self {
        let target: Arc<str> = Arc::from(target);
        let mut by_address: Vec<(usize, ClientMethodSeries)> = methods
            .into_iter()
            .map(|m| {
                let key = (target.to_string(), m.service, m.name);
                let series = metrics.client_series(key, || ClientMethodSeries {
                    inner: Arc::new(ClientInner {
                        target: target.clone(),
                        service: m.service,
                        method: m.name,
                        transports: [CallStats::new(), CallStats::new()],
                        retries: metrics.builtin_counter(
                            CLIENT_RETRIES,
                            &[("target", &target), ("method", m.name)],
                        ),
                    }),
                });
                (std::ptr::from_ref(m) as usize, series)
            })
            .collect();
        by_address.sort_by_key(|(addr, _)| *addr);
        by_address.dedup_by_key(|(addr, _)| *addr);
        let breaker = metrics.builtin_gauge(CLIENT_BREAKER, &[("target", &target)]);
        Self {
            metrics: metrics.clone(),
            target,
            breaker,
            by_address: by_address.into_boxed_slice(),
        }
    }

    /// The target these series are labelled with.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The series of `method`, or `None` for a method this client was not built with.
    pub fn method(&self, method: &'static MethodInfo) -> Option<&ClientMethodSeries> {
        let addr = std::ptr::from_ref(method) as usize;
        self.by_address
            .binary_search_by_key(&addr, |(a, _)| *a)
            .ok()
            .map(|i| &self.by_address[i].1)
    }

    /// Records the target's circuit breaker state.
    pub fn set_breaker_state(&self, state: BreakerState) {
        self.breaker.set(state.value());
    }

    /// The counter of shadow-call differences in `field` of `method`'s response; resolve it once
    /// per field and keep the handle.
    pub fn shadow_differences(&self, method: &MethodInfo, field: &str) -> Counter {
        self.metrics.builtin_counter(
            CLIENT_SHADOW,
            &[
                ("service", method.service),
                ("method", method.name),
                ("field", field),
            ],
        )
    }
}
