//! Logging set-up: `tracing` events to standard output as text or JSON lines.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LOG_FORMAT` | `text` | `text` (human-readable) or `json` (one JSON object per line) |
//! | `LOG_LEVEL` | `info` | a level (`error`, `warn`, `info`, `debug`, `trace`, `off`) or filter directives such as `info,tacos::access=off`; `RUST_LOG` is read when unset |

use std::io::IsTerminal as _;
use std::sync::Mutex;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

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
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".to_owned(),
        }
    }
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
        r.finish(Self { format, filter })
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
}

/// Installs the process's logger from `config`. Calling it again after it succeeded does
/// nothing (the first configuration stays); if something else installed a global subscriber
/// first, it returns [`LoggingError::AlreadyInstalled`] instead of panicking.
pub fn init_logging(config: &LogConfig) -> Result<(), LoggingError> {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    // Built first, so a bad configuration is reported even on a repeated call.
    let ansi = std::io::stdout().is_terminal();
    let subscriber = subscriber(config, std::io::stdout, ansi)?;
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *installed {
        return Ok(());
    }
    subscriber
        .try_init()
        .map_err(|e| LoggingError::AlreadyInstalled(e.to_string()))?;
    *installed = true;
    Ok(())
}

/// The subscriber `init_logging` installs, writing to `writer`.
pub(crate) fn subscriber<W>(
    config: &LogConfig,
    writer: W,
    ansi: bool,
) -> Result<Box<dyn Subscriber + Send + Sync>, LoggingError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::builder()
            .parse(&config.filter)
            .map_err(|e| LoggingError::InvalidFilter {
                filter: config.filter.clone(),
                reason: e.to_string(),
            })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    Ok(match config.format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    })
}
