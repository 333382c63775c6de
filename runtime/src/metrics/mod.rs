//! Prometheus metrics: a small registry of our own, rendered in the text exposition format
//! (version 0.0.4, [`CONTENT_TYPE`]).
//!
//! Recording is built to cost a few relaxed atomic adds per call: every series is resolved once
//! (at server or client build time, or when an application registers a metric) into a handle,
//! and the hot path only touches that handle's atomics. Nothing hashes label strings per call.
//!
//! # What the runtime records
//!
//! | family | type | labels |
//! |---|---|---|
//! | `tacos_server_requests_total` | counter | service, method, protocol, code |
//! | `tacos_server_request_duration_seconds` | histogram | service, method, protocol |
//! | `tacos_server_in_flight` | gauge | service, method, protocol |
//! | `tacos_client_requests_total` | counter | target, service, method, transport, code |
//! | `tacos_client_request_duration_seconds` | histogram | target, service, method, transport |
//! | `tacos_client_retries_total` | counter | target, method |
//! | `tacos_client_breaker_state` | gauge (0 closed, 1 half-open, 2 open) | target |
//! | `tacos_client_shadow_differences_total` | counter | service, method, field |
//! | `tacos_waiting_room_waiting` | gauge | event |
//! | `tacos_waiting_room_admitted` | gauge | event |
//! | `tacos_waiting_room_admission_rate` | gauge (admissions per minute) | event |
//! | `tacos_waiting_room_store_errors_total` | counter | |
//!
//! Latency histograms share one set of buckets, 0.1 ms to 10 s ([`latency_buckets`]). Request
//! counters only show the codes that occurred; `code` is the canonical name (`OK`, `NOT_FOUND`).
//! Server histograms and in-flight gauges exist from server start for every method and both
//! protocols; client ones appear for a transport once a call used it.
//!
//! # Application metrics
//!
//! ```
//! use std::sync::Arc;
//! use tacos_runtime::metrics::Metrics;
//!
//! let metrics = Arc::new(Metrics::new());
//! // Resolve once, at start-up...
//! let sold = metrics
//!     .counter("shop_tickets_sold_total", "Tickets sold.", &[("event", "concert-1")])
//!     .expect("a valid, unused name");
//! // ...then record with an atomic add.
//! sold.inc();
//! assert!(metrics.render().contains("shop_tickets_sold_total{event=\"concert-1\"} 1\n"));
//! ```

mod client;
mod histogram;
mod server;
mod text;
mod waiting_room;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

pub use self::client::{BreakerState, ClientCallTimer, ClientMethodSeries, ClientMetrics};
pub use self::histogram::latency_buckets;
pub use self::server::{CallTimer, MethodSeries, ServerMetrics};
pub use self::text::CONTENT_TYPE;
pub use self::waiting_room::WaitingRoomMetrics;

use self::client::ClientSeriesKey;
use self::histogram::{check_bounds, AtomicF64, ValueHistogram};
use self::text::{valid_label_name, valid_metric_name, Exposition, Kind, Value};

/// Names of the runtime's own families, with their help text.
pub(crate) mod names {
    pub(crate) const SERVER_REQUESTS: &str = "tacos_server_requests_total";
    pub(crate) const SERVER_DURATION: &str = "tacos_server_request_duration_seconds";
    pub(crate) const SERVER_IN_FLIGHT: &str = "tacos_server_in_flight";
    pub(crate) const CLIENT_REQUESTS: &str = "tacos_client_requests_total";
    pub(crate) const CLIENT_DURATION: &str = "tacos_client_request_duration_seconds";
    pub(crate) const CLIENT_RETRIES: &str = "tacos_client_retries_total";
    pub(crate) const CLIENT_BREAKER: &str = "tacos_client_breaker_state";
    pub(crate) const CLIENT_SHADOW: &str = "tacos_client_shadow_differences_total";
    pub(crate) const WR_WAITING: &str = "tacos_waiting_room_waiting";
    pub(crate) const WR_ADMITTED: &str = "tacos_waiting_room_admitted";
    pub(crate) const WR_RATE: &str = "tacos_waiting_room_admission_rate";
    pub(crate) const WR_STORE_ERRORS: &str = "tacos_waiting_room_store_errors_total";

    pub(crate) const SERVER_REQUESTS_HELP: &str =
        "Calls served, by service, method, protocol and status code.";
    pub(crate) const SERVER_DURATION_HELP: &str =
        "Time from the start of a call to its status, in seconds.";
    pub(crate) const SERVER_IN_FLIGHT_HELP: &str = "Calls being served now.";
    pub(crate) const CLIENT_REQUESTS_HELP: &str =
        "Outgoing calls, by target, service, method, transport and status code.";
    pub(crate) const CLIENT_DURATION_HELP: &str =
        "Time from the start of an outgoing call to its status, in seconds.";
}

use self::names::*;

/// The runtime's own families: name, type, label names, help.
const BUILTIN: &[(&str, Kind, &[&str], &str)] = &[
    (
        SERVER_REQUESTS,
        Kind::Counter,
        &["service", "method", "protocol", "code"],
        SERVER_REQUESTS_HELP,
    ),
    (
        SERVER_DURATION,
        Kind::Histogram,
        &["service", "method", "protocol"],
        SERVER_DURATION_HELP,
    ),
    (
        SERVER_IN_FLIGHT,
        Kind::Gauge,
        &["service", "method", "protocol"],
        SERVER_IN_FLIGHT_HELP,
    ),
    (
        CLIENT_REQUESTS,
        Kind::Counter,
        &["target", "service", "method", "transport", "code"],
        CLIENT_REQUESTS_HELP,
    ),
    (
        CLIENT_DURATION,
        Kind::Histogram,
        &["target", "service", "method", "transport"],
        CLIENT_DURATION_HELP,
    ),
    (
        CLIENT_RETRIES,
        Kind::Counter,
        &["target", "method"],
        "Outgoing calls retried, by target and method.",
    ),
    (
        CLIENT_BREAKER,
        Kind::Gauge,
        &["target"],
        "Circuit breaker state per target: 0 closed, 1 half-open, 2 open.",
    ),
    (
        CLIENT_SHADOW,
        Kind::Counter,
        &["service", "method", "field"],
        "Shadow calls whose response differed from the primary's, by field.",
    ),
    (
        WR_WAITING,
        Kind::Gauge,
        &["event"],
        "Visitors waiting in the event's queue, as last observed by this process.",
    ),
    (
        WR_ADMITTED,
        Kind::Gauge,
        &["event"],
        "Visitors admitted for the event, as last observed by this process.",
    ),
    (
        WR_RATE,
        Kind::Gauge,
        &["event"],
        "Admissions per minute over the last minute, as last observed by this process.",
    ),
    (
        WR_STORE_ERRORS,
        Kind::Counter,
        &[],
        "Waiting-room calls that failed because the store was unreachable or answered wrongly.",
    ),
];

/// A registration that cannot be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// The metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {0:?}: expected [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidName(String),
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`, starts with `__`, or is `le` on a
    /// histogram.
    #[error("invalid label name {0:?}: expected [a-zA-Z_][a-zA-Z0-9_]*, not starting with __ (and not le on a histogram)")]
    InvalidLabelName(String),
    /// The same label name appears twice.
    #[error("label {0:?} is given twice")]
    DuplicateLabel(String),
    /// Histogram bucket bounds are empty, not finite or not strictly increasing.
    #[error("invalid histogram buckets: {0}")]
    InvalidBuckets(&'static str),
    /// The name belongs to the runtime's own series.
    #[error("metric {0:?} is reserved for the runtime's own series")]
    Reserved(String),
    /// The name is taken by a registration of another type, other labels or other buckets, or
    /// its sample names clash with another family's (`x_count` beside a histogram `x`).
    #[error("metric {name:?} conflicts with an existing registration: {reason}")]
    Conflict {
        /// The name asked for.
        name: String,
        /// What differs.
        reason: &'static str,
    },
}

/// One registered series of an application (or runtime-owned generic) family.
#[derive(Clone, Debug)]
enum Cell {
    Counter(Arc<AtomicU64>),
    Gauge(Arc<AtomicF64>),
    Histogram(Arc<ValueHistogram>),
}

#[derive(Debug)]
struct GenericFamily {
    help: String,
    kind: Kind,
    label_names: Vec<String>,
    bounds: Option<Vec<f64>>,
    /// One of the runtime's own names: applications may not register it.
    reserved: bool,
    series: BTreeMap<Vec<String>, Cell>,
}

impl GenericFamily {
    /// The sample names this family writes.
    fn sample_names(name: &str, kind: Kind) -> Vec<String> {
        match kind {
            Kind::Histogram => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|s| format!("{name}{s}"))
                .collect(),
            _ => vec![name.to_owned()],
        }
    }
}

/// The series of one server method, shared by every server built on the same registry.
type ServerSeriesMap = BTreeMap<(&'static str, &'static str), MethodSeries>;

/// A metrics registry. `Send + Sync`; share it as `Arc<Metrics>`, or use [`Metrics::global`].
#[derive(Debug)]
pub struct Metrics {
    families: RwLock<BTreeMap<String, GenericFamily>>,
    server: Mutex<ServerSeriesMap>,
    clients: Mutex<BTreeMap<ClientSeriesKey, ClientMethodSeries>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry (the runtime's own family names are reserved in it).
    pub fn new() -> Self {
        let families = BUILTIN
            .iter()
            .map(|(name, kind, labels, help)| {
                let family = GenericFamily {
                    help: (*help).to_owned(),
                    kind: *kind,
                    label_names: labels.iter().map(|l| (*l).to_owned()).collect(),
                    bounds: None,
                    reserved: true,
                    series: BTreeMap::new(),
                };
                ((*name).to_owned(), family)
            })
            .collect();
        Self {
            families: RwLock::new(families),
            server: Mutex::default(),
            clients: Mutex::default(),
        }
    }

    /// The process-wide registry, created on first use.
    pub fn global() -> &'static Arc<Metrics> {
        static GLOBAL: OnceLock<Arc<Metrics>> = OnceLock::new();
        GLOBAL.get_or_init(|| Arc::new(Metrics::new()))
    }

    /// A counter series `name{labels}`. Registering the same name and labels again returns a
    /// handle on the same series.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Counter, MetricsError> {
        match self.register(name, help, Kind::Counter, labels, None, false)? {
            Cell::Counter(c) => Ok(Counter(c)),
            _ => unreachable!("register returns a cell of the kind asked for"),
        }
    }

    /// A gauge series `name{labels}`. Registering the same name and labels again returns a
    /// handle on the same series.
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> Result<Gauge, MetricsError> {
        match self.register(name, help, Kind::Gauge, labels, None, false)? {
            Cell::Gauge(g) => Ok(Gauge(g)),
            _ => unreachable!("register returns a cell of the kind asked for"),
        }
    }

    /// A histogram series `name{labels}` with upper bounds `buckets` (finite, strictly
    /// increasing; `+Inf` is implied). [`latency_buckets`] suits durations in seconds.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        buckets: &[f64],
    ) -> Result<Histogram, MetricsError> {
        check_bounds(buckets).map_err(MetricsError::InvalidBuckets)?;
        match self.register(name, help, Kind::Histogram, labels, Some(buckets), false)? {
            Cell::Histogram(h) => Ok(Histogram(h)),
            _ => unreachable!("register returns a cell of the kind asked for"),
        }
    }

    /// A series of one of the runtime's own generic families (names are constants here).
    pub(crate) fn builtin_counter(&self, name: &'static str, labels: &[(&str, &str)]) -> Counter {
        match self.register(name, "", Kind::Counter, labels, None, true) {
            Ok(Cell::Counter(c)) => Counter(c),
            other => unreachable!("built-in counter {name}: {other:?}"),
        }
    }

    /// A series of one of the runtime's own generic gauge families.
    pub(crate) fn builtin_gauge(&self, name: &'static str, labels: &[(&str, &str)]) -> Gauge {
        match self.register(name, "", Kind::Gauge, labels, None, true) {
            Ok(Cell::Gauge(g)) => Gauge(g),
            other => unreachable!("built-in gauge {name}: {other:?}"),
        }
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        labels: &[(&str, &str)],
        bounds: Option<&[f64]>,
        builtin: bool,
    ) -> Result<Cell, MetricsError> {
        if !valid_metric_name(name) {
            return Err(MetricsError::InvalidName(name.to_owned()));
        }
        for (i, (label, _)) in labels.iter().enumerate() {
            if !valid_label_name(label) || (kind == Kind::Histogram && *label == "le") {
                return Err(MetricsError::InvalidLabelName((*label).to_owned()));
            }
            if labels[..i].iter().any(|(other, _)| other == label) {
                return Err(MetricsError::DuplicateLabel((*label).to_owned()));
            }
        }
        let conflict = |reason| MetricsError::Conflict {
            name: name.to_owned(),
            reason,
        };
        let mut families = self.families.write().unwrap_or_else(|e| e.into_inner());
        if !families.contains_key(name) {
            let ours = GenericFamily::sample_names(name, kind);
            let clash = families.iter().any(|(other, family)| {
                GenericFamily::sample_names(other, family.kind)
                    .iter()
                    .any(|n| ours.contains(n))
            });
            if clash {
                return Err(conflict("its sample names clash with another family's"));
            }
            families.insert(
                name.to_owned(),
                GenericFamily {
                    help: help.to_owned(),
                    kind,
                    label_names: labels.iter().map(|(l, _)| (*l).to_owned()).collect(),
                    bounds: bounds.map(<[f64]>::to_vec),
                    reserved: false,
                    series: BTreeMap::new(),
                },
            );
        }
        let family = families
            .get_mut(name)
            .ok_or_else(|| conflict("registration vanished"))?;
        if family.reserved && !builtin {
            return Err(MetricsError::Reserved(name.to_owned()));
        }
        if family.kind != kind {
            return Err(conflict("registered before with another type"));
        }
        if family.label_names.len() != labels.len()
            || family
                .label_names
                .iter()
                .zip(labels)
                .any(|(a, (b, _))| a != b)
        {
            return Err(conflict("registered before with other label names"));
        }
        if family.bounds.as_deref() != bounds && !builtin {
            return Err(conflict("registered before with other buckets"));
        }
        let values: Vec<String> = labels.iter().map(|(_, v)| (*v).to_owned()).collect();
        let cell = family.series.entry(values).or_insert_with(|| match kind {
            Kind::Counter => Cell::Counter(Arc::default()),
            Kind::Gauge => Cell::Gauge(Arc::new(AtomicF64::new(0.0))),
            Kind::Histogram => {
                Cell::Histogram(Arc::new(ValueHistogram::new(bounds.unwrap_or(&[]))))
            }
        });
        Ok(cell.clone())
    }

    /// Interns the server series of one method (shared by every server on this registry).
    pub(crate) fn server_series(
        &self,
        service: &'static str,
        method: &'static str,
    ) -> MethodSeries {
        self.server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((service, method))
            .or_insert_with(|| MethodSeries::new(service, method))
            .clone()
    }

    /// Interns the client series of one (target, method).
    ///
    /// `make` registers counters (the families' lock), so it runs with no lock held: the
    /// registry's locks are never held together, and [`render`](Self::render) cannot deadlock
    /// against a client being built. When two threads race, the first series stored wins.
    pub(crate) fn client_series(
        &self,
        key: ClientSeriesKey,
        make: impl FnOnce() -> ClientMethodSeries,
    ) -> ClientMethodSeries {
        let clients = || self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(series) = clients().get(&key) {
            return series.clone();
        }
        let made = make();
        clients().entry(key).or_insert(made).clone()
    }

    /// Every series in the text exposition format, ready to serve at `/metrics` with
    /// `Content-Type: `[`CONTENT_TYPE`].
    pub fn render(&self) -> String {
        // Each lock is taken alone (never two at once, see `client_series`): the server and
        // client series are copied out before the families are read.
        let server = self
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let clients = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let families = self.families.read().unwrap_or_else(|e| e.into_inner());
        let mut exposition = Exposition::default();
        render_families(&families, &mut exposition);
        for series in server.values() {
            series.render(&mut exposition);
        }
        for series in clients.values() {
            series.render(&mut exposition);
        }
        exposition.finish()
    }
}

/// The samples of the generic families.
fn render_families<'a>(
    families: &'a BTreeMap<String, GenericFamily>,
    exposition: &mut Exposition<'a>,
) {
    for (name, family) in families {
        let mut out = exposition.family(name, &family.help, family.kind);
        for (values, cell) in &family.series {
            let labels: Vec<(&str, &str)> = family
                .label_names
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(String::as_str))
                .collect();
            match cell {
                Cell::Counter(c) => out.sample(&labels, Value::Int(c.load(Relaxed))),
                Cell::Gauge(g) => out.sample(&labels, Value::Float(g.get())),
                Cell::Histogram(h) => {
                    let (counts, sum) = h.snapshot();
                    out.histogram(&labels, h.bounds().iter().copied(), &counts, sum);
                }
            }
        }
    }
}

/// A monotonically increasing count. Clones record into the same series.
#[derive(Clone, Debug)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    /// Adds `n`.
    pub fn inc_by(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// A value that goes up and down. Clones record into the same series.
#[derive(Clone, Debug)]
pub struct Gauge(Arc<AtomicF64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }

    /// Adds `delta` (negative to subtract).
    pub fn add(&self, delta: f64) {
        self.0.add(delta);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

/// A distribution of observed values over fixed buckets. Clones record into the same series.
#[derive(Clone, Debug)]
pub struct Histogram(Arc<ValueHistogram>);

impl Histogram {
    /// Records one value (NaN is ignored).
    pub fn observe(&self, v: f64) {
        self.0.observe(v);
    }

    /// Records a duration in seconds.
    pub fn observe_duration(&self, d: Duration) {
        self.0.observe(d.as_secs_f64());
    }
}
