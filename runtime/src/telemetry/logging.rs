//! Logging set-up: `tracing` events to standard output as text or JSON lines.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LOG_FORMAT` | `text` | `text` (human-readable) or `json` (one JSON object per line) |
//! | `LOG_LEVEL` | `info` | a level (`error`, `warn`, `info`, `debug`, `trace`, `off`) or filter directives such as `info,tacos::access=off`; `RUST_LOG` is read when unset |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset | OTLP/HTTP base URL (`http://collector:4318`): export server spans (needs the `otlp` feature) |

use std::io::IsTerminal as _;
use std::sync::Mutex;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry};

use crate::config::{ConfigError, Reader};

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line; event fields at the top level.
    Json,
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// `LOG_FORMAT`.
    pub format: LogFormat,
    /// `LOG_LEVEL` (or `RUST_LOG`): `tracing_subscriber` filter directives.
    pub filter: String,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: where server spans are exported, if anywhere.
    pub otlp_endpoint: Option<String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".to_owned(),
            otlp_endpoint: None,
        }
    }
}

/// An `http://` URL with a host. (Export has no TLS client built in; collectors usually run
/// beside the service.)
fn parse_endpoint(value: &str) -> Option<Option<String>> {
    let uri: http::Uri = value.parse().ok()?;
    (uri.scheme_str() == Some("http") && uri.host().is_some_and(|h| !h.is_empty()))
        .then(|| Some(value.to_owned()))
}

const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];

/// A filter `EnvFilter` accepts; a single bare word must be a level, since `EnvFilter` would
/// take a misspelt level (`inf`) for a target name and silently log nothing useful.
fn parse_filter(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let single_word = !value.contains([',', '=', '[', ':']);
    if single_word && !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(value)) {
        return None;
    }
    EnvFilter::builder()
        .parse(value)
        .ok()
        .map(|_| value.to_owned())
}

impl LogConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let mut r = Reader::new(get);
        let format = r.parse("LOG_FORMAT", defaults.format, "text or json", |v| {
            match v.to_ascii_lowercase().as_str() {
                "text" => Some(LogFormat::Text),
                "json" => Some(LogFormat::Json),
                _ => None,
            }
        });
        let filter_var = if r.get("LOG_LEVEL").is_some() {
            "LOG_LEVEL"
        } else {
            "RUST_LOG"
        };
        let filter = r.parse(
            filter_var,
            defaults.filter,
            "a level (error, warn, info, debug, trace, off) or filter directives such as info,tacos::access=off",
            parse_filter,
        );
        let otlp_endpoint = r.parse(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            None,
            "an http:// URL such as http://127.0.0.1:4318",
            parse_endpoint,
        );
        r.finish(Self {
            format,
            filter,
            otlp_endpoint,
        })
    }
}

/// Why logging could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// The filter does not parse (only possible for a hand-built [`LogConfig`]).
    #[error("invalid log filter {filter:?}: {reason}")]
    InvalidFilter {
        /// The filter.
        filter: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Another global `tracing` subscriber (or `log` logger) was installed first.
    #[error("a global logger is already installed: {0}")]
    AlreadyInstalled(String),
    /// The OTLP exporter could not be set up.
    #[error("OTLP export: {0}")]
    Otlp(String),
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is set but this build has no OTLP exporter.
    #[error("OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build lacks the `otlp` feature")]
    OtlpNotBuilt,
}

/// Installs the process's logger (and, with an endpoint, OTLP span export) from `config`.
/// Calling it again after it succeeded does nothing (the first configuration stays); if
/// something else installed a global subscriber first, it returns
/// [`LoggingError::AlreadyInstalled`] instead of panicking.
pub fn init_logging(config: &LogConfig) -> Result<(), LoggingError> {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    #[cfg(not(feature = "otlp"))]
    if config.otlp_endpoint.is_some() {
        return Err(LoggingError::OtlpNotBuilt);
    }
    // Checked first, so a bad configuration is reported even on a repeated call.
    parse_filter_directives(&config.filter)?;
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *installed {
        return Ok(());
    }
    let ansi = std::io::stdout().is_terminal();
    #[cfg(feature = "otlp")]
    {
        let provider = match &config.otlp_endpoint {
            Some(endpoint) => Some(super::otlp::provider(endpoint)?),
            None => None,
        };
        let tracer = provider.as_ref().map(super::otlp::tracer);
        let installed_now = stdout_subscriber(config, ansi, tracer)?
            .try_init()
            .map_err(|e| LoggingError::AlreadyInstalled(e.to_string()));
        match (installed_now, provider) {
            (Ok(()), Some(provider)) => super::otlp::activate(provider),
            (Ok(()), None) => {}
            (Err(err), provider) => {
                if let Some(provider) = provider {
                    let _ = provider.shutdown();
                }
                return Err(err);
            }
        }
    }
    #[cfg(not(feature = "otlp"))]
    stdout_subscriber(config, ansi)?
        .try_init()
        .map_err(|e| LoggingError::AlreadyInstalled(e.to_string()))?;
    *installed = true;
    Ok(())
}

fn parse_filter_directives(filter: &str) -> Result<EnvFilter, LoggingError> {
    EnvFilter::builder()
        .parse(filter)
        .map_err(|e| LoggingError::InvalidFilter {
            filter: filter.to_owned(),
            reason: e.to_string(),
        })
}

/// The subscriber writing to standard output: line by line on a terminal, in batches otherwise
/// (a pipe to a log collector; see [`batch`](super::batch)).
fn stdout_subscriber(
    config: &LogConfig,
    terminal: bool,
    #[cfg(feature = "otlp")] tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
) -> Result<Box<dyn Subscriber + Send + Sync>, LoggingError> {
    if terminal {
        subscriber(
            config,
            std::io::stdout,
            true,
            #[cfg(feature = "otlp")]
            tracer,
        )
    } else {
        subscriber(
            config,
            super::batch::batched_stdout(),
            false,
            #[cfg(feature = "otlp")]
            tracer,
        )
    }
}

/// The subscriber `init_logging` installs, writing to `writer` (and exporting spans of
/// [`SERVER_SPAN_TARGET`](super::SERVER_SPAN_TARGET) through `tracer`, when given).
pub(crate) fn subscriber<W>(
    config: &LogConfig,
    writer: W,
    ansi: bool,
    #[cfg(feature = "otlp")] tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
) -> Result<Box<dyn Subscriber + Send + Sync>, LoggingError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = parse_filter_directives(&config.filter)?;
    let fmt = match config.format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(ansi)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => super::json::JsonLines::new(writer)
            .with_filter(filter)
            .boxed(),
    };
    let registry = Registry::default().with(fmt);
    // Not an `Option` layer: an absent one would report everything enabled and defeat the
    // filter's cheap rejection of disabled spans and events.
    #[cfg(feature = "otlp")]
    if let Some(tracer) = tracer {
        // Export has its own filter: server spans whatever the log level.
        let spans = tracing_subscriber::filter::Targets::new()
            .with_target(super::SERVER_SPAN_TARGET, tracing::Level::INFO);
        let export = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(spans);
        return Ok(Box::new(registry.with(export)));
    }
    Ok(Box::new(registry))
}
