//! Log output captured through the same subscriber `init_logging` installs.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use super::logging::subscriber;
use super::*;
use crate::context::Protocol;
use crate::status::Code;

/// Collects everything written, for reading back.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// A JSON-lines subscriber at `filter` writing here.
    pub(crate) fn subscriber(&self, filter: &str) -> Box<dyn tracing::Subscriber + Send + Sync> {
        let config = LogConfig {
            format: LogFormat::Json,
            filter: filter.to_owned(),
            otlp_endpoint: None,
        };
        subscriber(
            &config,
            self.clone(),
            false,
            #[cfg(feature = "otlp")]
            None,
        )
        .unwrap()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn logged(format: LogFormat, filter: &str, f: impl FnOnce()) -> String {
    let capture = Capture::default();
    let config = LogConfig {
        format,
        filter: filter.to_owned(),
        otlp_endpoint: None,
    };
    let sub = subscriber(
        &config,
        capture.clone(),
        false,
        #[cfg(feature = "otlp")]
        None,
    )
    .unwrap();
    tracing::subscriber::with_default(sub, f);
    capture.text()
}

fn entry(trace_id: TraceId, principal: Option<&str>) -> AccessEntry<'_> {
    AccessEntry {
        protocol: Protocol::Rest,
        service: "gateway.v1.QueueService",
        method: "JoinQueue",
        code: Code::NotFound,
        latency: Duration::from_micros(1500),
        principal,
        request_id: "req-1",
        trace_id,
        peer: Some("127.0.0.1:5000".parse().unwrap()),
    }
}

#[test]
fn access_log_is_one_json_line_with_every_field() {
    let trace_id = TraceId::random();
    let out = logged(LogFormat::Json, "info", || {
        access_log(&entry(trace_id, Some("alice")))
    });
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let line: HashMap<String, Value> = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], "tacos::access");
    assert_eq!(line["message"], "call");
    assert_eq!(line["protocol"], "rest");
    assert_eq!(line["service"], "gateway.v1.QueueService");
    assert_eq!(line["method"], "JoinQueue");
    assert_eq!(line["code"], "NOT_FOUND");
    assert_eq!(line["latency_ms"].as_f64(), Some(1.5));
    assert_eq!(line["principal"], "alice");
    assert_eq!(line["request_id"], "req-1");
    assert_eq!(line["trace_id"], trace_id.to_string());
    assert_eq!(line["peer"], "127.0.0.1:5000");
    assert!(line["timestamp"].is_string());
}

#[test]
fn anonymous_calls_have_no_principal_field() {
    let out = logged(LogFormat::Json, "info", || {
        access_log(&entry(TraceId::random(), None))
    });
    let line: HashMap<String, Value> = serde_json::from_str(out.trim()).unwrap();
    assert!(!line.contains_key("principal"), "{out}");
    assert_eq!(line["request_id"], "req-1");
}

#[test]
fn the_access_target_can_be_switched_off() {
    let out = logged(LogFormat::Json, "info,tacos::access=off", || {
        access_log(&entry(TraceId::random(), None));
        tracing::info!(target: "tacos::other", "still here");
    });
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("still here"));
    assert!(logged(LogFormat::Json, "warn", || access_log(&entry(
        TraceId::random(),
        None
    )))
    .is_empty());
}

#[test]
fn text_lines_carry_the_fields() {
    let out = logged(LogFormat::Text, "info", || {
        access_log(&entry(TraceId::random(), Some("bob")))
    });
    for needle in [
        "INFO",
        "tacos::access",
        "code=\"NOT_FOUND\"",
        "principal=\"bob\"",
        "latency_ms=1.5",
    ] {
        assert!(out.contains(needle), "{needle} missing in {out}");
    }
    assert!(
        !out.contains('\u{1b}'),
        "no colour codes when not a terminal"
    );
}

fn config(vars: &[(&str, &str)]) -> Result<LogConfig, crate::config::ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    LogConfig::from_lookup(&move |k| map.get(k).cloned())
}

#[test]
fn log_settings_from_the_environment() {
    assert_eq!(config(&[]).unwrap(), LogConfig::default());
    let c = config(&[("LOG_FORMAT", "JSON"), ("LOG_LEVEL", "debug,hyper=warn")]).unwrap();
    assert_eq!(c.format, LogFormat::Json);
    assert_eq!(c.filter, "debug,hyper=warn");
    // LOG_LEVEL wins over RUST_LOG; RUST_LOG is read when LOG_LEVEL is unset.
    let c = config(&[("LOG_LEVEL", "warn"), ("RUST_LOG", "trace")]).unwrap();
    assert_eq!(c.filter, "warn");
    assert_eq!(config(&[("RUST_LOG", "trace")]).unwrap().filter, "trace");

    let err = config(&[("LOG_FORMAT", "xml"), ("LOG_LEVEL", "verbose")]).unwrap_err();
    let vars: Vec<&str> = err.problems.iter().map(|p| p.var).collect();
    assert_eq!(vars, ["LOG_FORMAT", "LOG_LEVEL"]);
    assert!(
        err.to_string()
            .contains("LOG_LEVEL=\"verbose\": expected a level"),
        "{err}"
    );
    assert!(config(&[("RUST_LOG", "info,[span")]).is_err());
}

#[test]
fn a_bad_hand_built_filter_is_an_error() {
    let config = LogConfig {
        format: LogFormat::Text,
        filter: "info,[unclosed".to_owned(),
        otlp_endpoint: None,
    };
    assert!(matches!(
        init_logging(&config),
        Err(LoggingError::InvalidFilter { .. })
    ));
}

#[test]
fn logging_is_installed_once() {
    // "off": this process's other tests log through their own scoped subscribers.
    let config = LogConfig {
        format: LogFormat::Json,
        filter: "off".to_owned(),
        otlp_endpoint: None,
    };
    match init_logging(&config) {
        Ok(()) => {
            init_logging(&config).expect("a second call changes nothing");
            let taken = tracing::subscriber::set_global_default(
                tracing::subscriber::NoSubscriber::default(),
            );
            assert!(taken.is_err(), "ours is the global subscriber");
        }
        // Another test of this process installed one first: reported, not a panic.
        Err(err) => assert!(matches!(err, LoggingError::AlreadyInstalled(_)), "{err}"),
    }
}

#[test]
fn otlp_endpoint_setting() {
    assert_eq!(config(&[]).unwrap().otlp_endpoint, None);
    let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).unwrap();
    assert_eq!(c.otlp_endpoint.as_deref(), Some("http://127.0.0.1:4318"));
    for bad in [
        "collector:4318",
        "https://collector:4318",
        "http://",
        "not a url",
    ] {
        let err = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", bad)]).unwrap_err();
        assert_eq!(err.problems[0].var, "OTEL_EXPORTER_OTLP_ENDPOINT", "{bad}");
    }
}

#[cfg(not(feature = "otlp"))]
#[test]
fn an_endpoint_without_the_exporter_is_refused() {
    let config = LogConfig {
        otlp_endpoint: Some("http://127.0.0.1:4318".to_owned()),
        ..LogConfig::default()
    };
    assert!(matches!(
        init_logging(&config),
        Err(LoggingError::OtlpNotBuilt)
    ));
}

#[test]
fn lines_logged_in_a_server_span_carry_its_ids() {
    static METHOD: crate::method::MethodInfo = crate::method::MethodInfo {
        service: "pkg.v1.Library",
        name: "GetBook",
        path: "/pkg.v1.Library/GetBook",
        kind: crate::method::MethodKind::Unary,
        idempotency: crate::method::Idempotency::Unknown,
    };
    let mut call = CallTelemetry::from_headers(&http::HeaderMap::new());
    let out = logged(LogFormat::Json, "info", || {
        let span = server_span(&mut call, &METHOD, Protocol::Grpc);
        span.in_scope(|| tracing::info!(target: "app", "handled"));
    });
    let line: HashMap<String, Value> = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(line["message"], "handled");
    let span = &line["span"];
    assert_eq!(span["name"], "call");
    assert_eq!(span["method"], "GetBook");
    assert_eq!(span["request_id"], call.request_id().as_str());
    assert_eq!(span["trace_id"], call.trace().trace_id().to_string());
    // Switched off, the span costs nothing and logs nothing.
    let quiet = logged(LogFormat::Json, "info,tacos::server=off", || {
        assert!(server_span(&mut call, &METHOD, Protocol::Rest).is_disabled());
    });
    assert!(quiet.is_empty());
}

#[test]
fn json_lines_are_valid_json_whatever_the_fields_hold() {
    let out = logged(LogFormat::Json, "info", || {
        let span = tracing::info_span!("outer", user = "a\"b", late = tracing::field::Empty);
        span.record("late", 7_u64);
        span.in_scope(|| {
            tracing::warn!(
                target: "app",
                text = "line\nbreak",
                count = -3_i64,
                ratio = 0.5,
                missing = f64::NAN,
                flag = true,
                debug = ?Some("q\"uote"),
                "said {}", "\"hi\""
            );
        });
        tracing::info!(target: "app", "outside");
    });
    let lines: Vec<HashMap<String, Value>> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let line = &lines[0];
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["target"], "app");
    assert_eq!(line["message"], "said \"hi\"");
    assert_eq!(line["text"], "line\nbreak");
    assert_eq!(line["count"], -3);
    assert_eq!(line["ratio"], 0.5);
    assert_eq!(line["missing"], "NaN");
    assert_eq!(line["flag"], true);
    assert_eq!(line["debug"], "Some(\"q\\\"uote\")");
    assert_eq!(line["span"]["name"], "outer");
    assert_eq!(line["span"]["user"], "a\"b");
    assert_eq!(line["span"]["late"], 7);
    let timestamp = line["timestamp"].as_str().unwrap();
    assert!(
        timestamp.len() == 27 && timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T',
        "{timestamp}"
    );
    assert!(!lines[1].contains_key("span"), "{out}");
}
