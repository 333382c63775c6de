//! The registry's output read back with a grammar-based Prometheus text-format parser.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricNumber, MetricsExposition, PrometheusType, PrometheusValue};

use super::*;
use crate::context::Protocol;
use crate::method::{Idempotency, MethodInfo, MethodKind};
use crate::status::Code;

static LIBRARY: [MethodInfo; 2] = [
    MethodInfo {
        service: "pkg.v1.Library",
        name: "GetBook",
        path: "/pkg.v1.Library/GetBook",
        kind: MethodKind::Unary,
        idempotency: Idempotency::Unknown,
    },
    MethodInfo {
        service: "pkg.v1.Library",
        name: "ListBooks",
        path: "/pkg.v1.Library/ListBooks",
        kind: MethodKind::ServerStreaming,
        idempotency: Idempotency::Unknown,
    },
];

/// Same names as `LIBRARY[0]`, another address.
static LOOK_ALIKE: MethodInfo = MethodInfo {
    service: "pkg.v1.Library",
    name: "GetBook",
    path: "/pkg.v1.Library/GetBook",
    kind: MethodKind::Unary,
    idempotency: Idempotency::Unknown,
};

type Parsed = MetricsExposition<PrometheusType, PrometheusValue>;

fn parse(text: &str) -> Parsed {
    parse_prometheus(text).unwrap_or_else(|e| panic!("unparsable exposition ({e:?}):\n{text}"))
}

/// The value of the sample of `family` whose labels are exactly `labels`.
fn find(parsed: &Parsed, family: &str, labels: &[(&str, &str)]) -> Option<PrometheusValue> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let family = parsed.families.get(family)?;
    family
        .iter_samples()
        .find(|s| {
            let labels = s.get_labelset().expect("labels");
            let got: BTreeMap<String, String> =
                labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            got == want
        })
        .map(|s| s.value.clone())
}

fn sample(parsed: &Parsed, family: &str, labels: &[(&str, &str)]) -> PrometheusValue {
    find(parsed, family, labels).unwrap_or_else(|| panic!("no sample {family} {labels:?}"))
}

fn number(n: &MetricNumber) -> f64 {
    n.as_f64()
}

fn scalar(value: &PrometheusValue) -> f64 {
    match value {
        PrometheusValue::Counter(c) => number(&c.value),
        PrometheusValue::Gauge(g) | PrometheusValue::Unknown(g) => number(g),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// Bucket bounds and cumulative counts, `_count` and `_sum`; checks `+Inf` equals `_count`.
fn histogram(value: &PrometheusValue) -> (Vec<(f64, f64)>, u64, f64) {
    let PrometheusValue::Histogram(h) = value else {
        panic!("not a histogram: {value:?}");
    };
    let buckets: Vec<(f64, f64)> = h
        .buckets
        .iter()
        .map(|b| (b.upper_bound, number(&b.count)))
        .collect();
    let count = h.count.expect("_count");
    let inf = buckets.last().expect("buckets");
    assert_eq!(inf.0, f64::INFINITY, "last bucket is +Inf");
    assert_eq!(inf.1, count as f64, "+Inf bucket equals _count");
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "buckets ascend and are cumulative: {buckets:?}"
    );
    let sum = h.sum.as_ref().map(number).expect("_sum");
    (buckets, count, sum)
}

fn labels3<'a>(method: &'a str, protocol: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("service", "pkg.v1.Library"),
        ("method", method),
        ("protocol", protocol),
    ]
}

#[test]
fn server_calls_are_counted_by_method_protocol_and_code() {
    let metrics = Arc::new(Metrics::new());
    let server = ServerMetrics::new(&metrics, LIBRARY.iter());
    let get = server.method(&LIBRARY[0]).expect("registered");
    assert!(server.method(&LOOK_ALIKE).is_none(), "lookup is by address");

    get.start(Protocol::Grpc).finish(Code::Ok);
    let took = get.start(Protocol::Grpc).finish(Code::Ok);
    assert!(took < Duration::from_secs(5));
    get.start(Protocol::Rest).finish(Code::NotFound);
    drop(get.start(Protocol::Rest)); // abandoned: counted as cancelled
    let running = server
        .method(&LIBRARY[1])
        .expect("registered")
        .start(Protocol::Grpc);

    let parsed = parse(&metrics.render());
    let requests = |method, protocol, code| {
        let [s, m, p] = labels3(method, protocol);
        scalar(&sample(
            &parsed,
            "tacos_server_requests_total",
            &[s, m, p, ("code", code)],
        ))
    };
    assert_eq!(requests("GetBook", "grpc", "OK"), 2.0);
    assert_eq!(requests("GetBook", "rest", "NOT_FOUND"), 1.0);
    assert_eq!(requests("GetBook", "rest", "CANCELLED"), 1.0);
    // Only codes that occurred are shown.
    let family = &parsed.families["tacos_server_requests_total"];
    assert_eq!(family.iter_samples().count(), 3);

    let in_flight = |method, protocol| {
        scalar(&sample(
            &parsed,
            "tacos_server_in_flight",
            &labels3(method, protocol),
        ))
    };
    assert_eq!(in_flight("ListBooks", "grpc"), 1.0);
    assert_eq!(in_flight("GetBook", "grpc"), 0.0);
    assert_eq!(in_flight("GetBook", "rest"), 0.0);

    let (buckets, count, sum) = histogram(&sample(
        &parsed,
        "tacos_server_request_duration_seconds",
        &labels3("GetBook", "grpc"),
    ));
    assert_eq!(count, 2);
    assert!((0.0..10.0).contains(&sum));
    let bounds: Vec<f64> = buckets.iter().map(|b| b.0).collect();
    let mut expected: Vec<f64> = latency_buckets().collect();
    expected.push(f64::INFINITY);
    assert_eq!(bounds, expected);
    let (_, count, _) = histogram(&sample(
        &parsed,
        "tacos_server_request_duration_seconds",
        &labels3("ListBooks", "grpc"),
    ));
    assert_eq!(count, 0, "a running call is not in the histogram yet");

    running.finish(Code::Unavailable);
    let parsed = parse(&metrics.render());
    assert_eq!(
        scalar(&sample(
            &parsed,
            "tacos_server_in_flight",
            &labels3("ListBooks", "grpc")
        )),
        0.0
    );
}

#[test]
fn servers_on_one_registry_share_series() {
    let metrics = Arc::new(Metrics::new());
    let a = ServerMetrics::new(&metrics, LIBRARY.iter());
    let b = ServerMetrics::new(&metrics, [&LIBRARY[0], &LOOK_ALIKE]);
    a.method(&LIBRARY[0])
        .unwrap()
        .start(Protocol::Grpc)
        .finish(Code::Ok);
    b.method(&LOOK_ALIKE)
        .unwrap()
        .start(Protocol::Grpc)
        .finish(Code::Ok);
    let parsed = parse(&metrics.render());
    let [s, m, p] = labels3("GetBook", "grpc");
    assert_eq!(
        scalar(&sample(
            &parsed,
            "tacos_server_requests_total",
            &[s, m, p, ("code", "OK")]
        )),
        2.0
    );
}

#[test]
fn histogram_buckets_place_observations_by_inclusive_bounds() {
    let metrics = Metrics::new();
    let h = metrics
        .histogram(
            "job_size_bytes",
            "Sizes.",
            &[("queue", "a")],
            &[10.0, 100.0],
        )
        .unwrap();
    for v in [1.0, 10.0, 11.0, 100.0, 1000.0, 5.0] {
        h.observe(v);
    }
    h.observe_duration(Duration::from_millis(500));
    let parsed = parse(&metrics.render());
    let (buckets, count, sum) = histogram(&sample(&parsed, "job_size_bytes", &[("queue", "a")]));
    assert_eq!(
        buckets,
        vec![(10.0, 4.0), (100.0, 6.0), (f64::INFINITY, 7.0)]
    );
    assert_eq!(count, 7);
    assert!((sum - 1127.5).abs() < 1e-9, "{sum}");
}

#[test]
fn label_values_and_help_are_escaped() {
    let metrics = Arc::new(Metrics::new());
    let tricky = "a \"quoted\" \\ value,\nwith {braces} and x=y";
    let c = metrics
        .counter(
            "app_odd_total",
            "Help with a \\ backslash\nand a second line.",
            &[("what", tricky), ("plain", "ok")],
        )
        .unwrap();
    c.inc_by(3);
    let client = ClientMetrics::new(&metrics, "http://backend:9090/\"x\"", LIBRARY.iter());
    client.method(&LIBRARY[0]).unwrap().retry();
    let text = metrics.render();
    let parsed = parse(&text);
    assert_eq!(
        scalar(&sample(
            &parsed,
            "app_odd_total",
            &[("what", tricky), ("plain", "ok")]
        )),
        3.0
    );
    assert_eq!(
        parsed.families["app_odd_total"].help,
        "Help with a \\ backslash\nand a second line."
    );
    assert_eq!(
        scalar(&sample(
            &parsed,
            "tacos_client_retries_total",
            &[
                ("target", "http://backend:9090/\"x\""),
                ("method", "GetBook")
            ]
        )),
        1.0
    );
    // Every line is one sample or one comment: nothing raw leaked a line break.
    assert!(text.lines().all(|l| l.starts_with('#') || l.contains(' ')));
}

#[test]
fn client_series_record_calls_retries_breaker_and_shadow_differences() {
    let metrics = Arc::new(Metrics::new());
    let client = ClientMetrics::new(&metrics, "reservation", LIBRARY.iter());
    assert_eq!(client.target(), "reservation");
    let get = client.method(&LIBRARY[0]).unwrap();
    get.start(Protocol::Grpc).finish(Code::Ok);
    get.start(Protocol::Grpc).finish(Code::Unavailable);
    get.retry();
    drop(get.start(Protocol::Rest));
    client.set_breaker_state(BreakerState::HalfOpen);
    let differs = client.shadow_differences(&LIBRARY[0], "book.title");
    differs.inc();
    client.shadow_differences(&LIBRARY[0], "book.title").inc();
    // A second client of the same target shares the series.
    let again = ClientMetrics::new(&metrics, "reservation", [&LIBRARY[0]]);
    again
        .method(&LIBRARY[0])
        .unwrap()
        .start(Protocol::Grpc)
        .finish(Code::Ok);
    assert!(again.method(&LIBRARY[1]).is_none());

    let parsed = parse(&metrics.render());
    let call = |transport, code| {
        scalar(&sample(
            &parsed,
            "tacos_client_requests_total",
            &[
                ("target", "reservation"),
                ("service", "pkg.v1.Library"),
                ("method", "GetBook"),
                ("transport", transport),
                ("code", code),
            ],
        ))
    };
    assert_eq!(call("grpc", "OK"), 2.0);
    assert_eq!(call("grpc", "UNAVAILABLE"), 1.0);
    assert_eq!(call("rest", "CANCELLED"), 1.0);
    let (_, count, _) = histogram(&sample(
        &parsed,
        "tacos_client_request_duration_seconds",
        &[
            ("target", "reservation"),
            ("service", "pkg.v1.Library"),
            ("method", "GetBook"),
            ("transport", "grpc"),
        ],
    ));
    assert_eq!(count, 3);
    let uncalled = [
        ("target", "reservation"),
        ("service", "pkg.v1.Library"),
        ("method", "ListBooks"),
        ("transport", "grpc"),
    ];
    assert!(find(&parsed, "tacos_client_request_duration_seconds", &uncalled).is_none());
    assert_eq!(
        scalar(&sample(
            &parsed,
            "tacos_client_retries_total",
            &[("target", "reservation"), ("method", "GetBook")]
        )),
        1.0
    );
    assert_eq!(
        scalar(&sample(
            &parsed,
            "tacos_client_breaker_state",
            &[("target", "reservation")]
        )),
        1.0
    );
    assert_eq!(
        scalar(&sample(
            &parsed,
            "tacos_client_shadow_differences_total",
            &[
                ("service", "pkg.v1.Library"),
                ("method", "GetBook"),
                ("field", "book.title")
            ]
        )),
        2.0
    );
}

#[test]
fn registrations_are_checked() {
    let m = Metrics::new();
    let bad_name = m.counter("9lives", "", &[]).unwrap_err();
    assert_eq!(bad_name, MetricsError::InvalidName("9lives".into()));
    assert!(matches!(
        m.counter("ok_total", "", &[("__x", "v")]),
        Err(MetricsError::InvalidLabelName(_))
    ));
    assert!(matches!(
        m.counter("ok_total", "", &[("a", "1"), ("a", "2")]),
        Err(MetricsError::DuplicateLabel(_))
    ));
    assert!(matches!(
        m.histogram("h_seconds", "", &[("le", "1")], &[1.0]),
        Err(MetricsError::InvalidLabelName(_))
    ));
    assert!(matches!(
        m.histogram("h_seconds", "", &[], &[2.0, 1.0]),
        Err(MetricsError::InvalidBuckets(_))
    ));
    assert_eq!(
        m.gauge("tacos_server_in_flight", "", &[]).unwrap_err(),
        MetricsError::Reserved("tacos_server_in_flight".into())
    );
    // Sample names of the built-in histogram are taken too.
    assert!(matches!(
        m.counter("tacos_server_request_duration_seconds_count", "", &[]),
        Err(MetricsError::Conflict { .. })
    ));

    let a = m.counter("jobs_total", "Jobs.", &[("queue", "x")]).unwrap();
    let b = m.counter("jobs_total", "Jobs.", &[("queue", "x")]).unwrap();
    a.inc();
    assert_eq!(b.get(), 1, "same name and labels: same series");
    assert!(matches!(
        m.gauge("jobs_total", "Jobs.", &[("queue", "x")]),
        Err(MetricsError::Conflict { .. })
    ));
    assert!(matches!(
        m.counter("jobs_total", "Jobs.", &[("other", "x")]),
        Err(MetricsError::Conflict { .. })
    ));
    m.histogram("wait_seconds", "", &[], &[1.0]).unwrap();
    assert!(matches!(
        m.histogram("wait_seconds", "", &[], &[2.0]),
        Err(MetricsError::Conflict { .. })
    ));
    assert!(matches!(
        m.gauge("wait_seconds_sum", "", &[]),
        Err(MetricsError::Conflict { .. })
    ));
    let g = m.gauge("temperature", "", &[]).unwrap();
    g.set(2.5);
    g.dec();
    g.add(-0.25);
    g.inc();
    assert_eq!(g.get(), 2.25);
    let parsed = parse(&m.render());
    assert_eq!(scalar(&sample(&parsed, "temperature", &[])), 2.25);
    assert_eq!(
        scalar(&sample(&parsed, "jobs_total", &[("queue", "x")])),
        1.0
    );
}

#[test]
fn concurrent_recording_loses_nothing() {
    const THREADS: usize = 8;
    const CALLS: usize = 5_000;
    let metrics = Arc::new(Metrics::new());
    let server = Arc::new(ServerMetrics::new(&metrics, LIBRARY.iter()));
    let counter = metrics.counter("work_total", "", &[]).unwrap();
    let gauge = metrics.gauge("level", "", &[]).unwrap();
    let hist = metrics.histogram("size", "", &[], &[0.5]).unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (server, counter, gauge, hist) = (&server, &counter, &gauge, &hist);
            scope.spawn(move || {
                let series = server.method(&LIBRARY[t % 2]).unwrap();
                for i in 0..CALLS {
                    let code = if i % 2 == 0 { Code::Ok } else { Code::Internal };
                    series.start(Protocol::Rest).finish(code);
                    counter.inc();
                    gauge.add(1.0);
                    hist.observe(1.0);
                }
            });
        }
    });
    let parsed = parse(&metrics.render());
    let per_method = (THREADS / 2 * CALLS / 2) as f64;
    for method in ["GetBook", "ListBooks"] {
        let [s, m, p] = labels3(method, "rest");
        for code in ["OK", "INTERNAL"] {
            let got = scalar(&sample(
                &parsed,
                "tacos_server_requests_total",
                &[s, m, p, ("code", code)],
            ));
            assert_eq!(got, per_method, "{method} {code}");
        }
        let (_, count, _) = histogram(&sample(
            &parsed,
            "tacos_server_request_duration_seconds",
            &[s, m, p],
        ));
        assert_eq!(count as f64, per_method * 2.0);
        assert_eq!(
            scalar(&sample(&parsed, "tacos_server_in_flight", &[s, m, p])),
            0.0
        );
    }
    let total = (THREADS * CALLS) as f64;
    assert_eq!(scalar(&sample(&parsed, "work_total", &[])), total);
    assert_eq!(scalar(&sample(&parsed, "level", &[])), total);
    let (buckets, count, sum) = histogram(&sample(&parsed, "size", &[]));
    assert_eq!(buckets[0], (0.5, 0.0));
    assert_eq!(count as f64, total);
    assert_eq!(sum, total);
}

#[test]
fn the_global_registry_is_one_instance() {
    assert!(Arc::ptr_eq(Metrics::global(), Metrics::global()));
}

mod waiting_room {
    use super::*;
    use crate::waiting_room::{
        EventConfig, RedisBackend, RedisOptions, Visitor, WaitingRoom, WaitingRoomError,
    };

    #[tokio::test]
    async fn gauges_follow_joins_and_stats() {
        let metrics = Arc::new(Metrics::new());
        let room = WaitingRoom::in_memory().with_metrics(&metrics);
        for i in 0..3 {
            room.join("concert", &Visitor::User(format!("u{i}")))
                .await
                .unwrap();
        }
        // A repeated join returns the old place and does not shrink the gauge.
        room.join("concert", &Visitor::User("u0".into()))
            .await
            .unwrap();
        let parsed = parse(&metrics.render());
        let event = [("event", "concert")];
        assert_eq!(
            scalar(&sample(&parsed, "tacos_waiting_room_waiting", &event)),
            3.0
        );

        let stats = room.stats("concert").await.unwrap();
        let parsed = parse(&metrics.render());
        assert_eq!(
            scalar(&sample(&parsed, "tacos_waiting_room_waiting", &event)),
            stats.total_waiting as f64
        );
        assert_eq!(
            scalar(&sample(&parsed, "tacos_waiting_room_admitted", &event)),
            stats.total_admitted as f64
        );
        assert_eq!(
            scalar(&sample(
                &parsed,
                "tacos_waiting_room_admission_rate",
                &event
            )),
            stats.admission_rate_per_minute as f64
        );
        assert_eq!(
            scalar(&sample(
                &parsed,
                "tacos_waiting_room_store_errors_total",
                &[]
            )),
            0.0
        );
    }

    #[tokio::test]
    async fn store_errors_are_counted() {
        // A loopback port nobody listens on: the store is down.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = RedisOptions {
            op_timeout: Duration::from_millis(300),
            connect_timeout: Duration::from_millis(200),
            ..RedisOptions::default()
        };
        let backend =
            RedisBackend::standalone(&format!("redis://127.0.0.1:{port}"), options).unwrap();
        let logs = crate::telemetry::tests::Capture::default();
        let _logging = tracing::subscriber::set_default(logs.subscriber("warn"));
        let metrics = Arc::new(Metrics::new());
        let room = WaitingRoom::new(backend, EventConfig::default())
            .unwrap()
            .with_metrics(&metrics);
        let started = std::time::Instant::now();
        for _ in 0..2 {
            let err = room
                .join("concert", &Visitor::User("u".into()))
                .await
                .unwrap_err();
            assert!(matches!(err, WaitingRoomError::Unavailable { .. }), "{err}");
        }
        // Client mistakes are not store errors.
        room.join("", &Visitor::User("u".into())).await.unwrap_err();
        let parsed = parse(&metrics.render());
        assert_eq!(
            scalar(&sample(
                &parsed,
                "tacos_waiting_room_store_errors_total",
                &[]
            )),
            2.0
        );
        // Logged with its cause, once for failures close together.
        let warnings: Vec<serde_json::Value> = logs
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|l: &serde_json::Value| l["target"] == "tacos::waiting_room")
            .collect();
        let expected = if started.elapsed() < Duration::from_millis(900) {
            1
        } else {
            warnings.len().max(1)
        };
        assert_eq!(warnings.len(), expected, "{}", logs.text());
        assert_eq!(warnings[0]["level"], "WARN");
        let error = warnings[0]["error"].as_str().unwrap();
        assert!(error.starts_with("waiting room unavailable: "), "{error}");
    }
}

#[test]
fn rendering_while_clients_are_built_does_not_deadlock() {
    // A client's series register counters while `render` reads every family: one thread of each,
    // bounded in count, must both finish (they once waited on each other's lock forever).
    const ROUNDS: usize = 1_000;
    let metrics = Arc::new(Metrics::new());
    let (done, finished) = std::sync::mpsc::channel();
    for role in ["build", "render"] {
        let (metrics, done) = (Arc::clone(&metrics), done.clone());
        std::thread::spawn(move || {
            for round in 0..ROUNDS {
                if role == "build" {
                    ClientMetrics::new(&metrics, &format!("target-{round}"), LIBRARY.iter());
                } else {
                    metrics.render();
                }
            }
            let _ = done.send(role);
        });
    }
    for _ in 0..2 {
        let role = finished
            .recv_timeout(Duration::from_secs(60))
            .expect("building clients and rendering ended in a deadlock");
        assert!(["build", "render"].contains(&role));
    }
    let parsed = parse(&metrics.render());
    let target = format!("target-{}", ROUNDS - 1);
    assert!(find(
        &parsed,
        "tacos_client_breaker_state",
        &[("target", target.as_str())]
    )
    .is_some());
}
