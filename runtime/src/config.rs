//! Server configuration from environment variables, validated at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SERVER_HOST` | `0.0.0.0` | address to listen on |
//! | `SERVER_PORT` | `8000` | REST port |
//! | `GRPC_ENABLED` | `true` | serve gRPC at all |
//! | `GRPC_PORT` | `9090` | gRPC port; equal to `SERVER_PORT` serves both on one port |
//! | `TACOS_RUNTIME` | `per-core` | `per-core` (one current-thread runtime per thread, `SO_REUSEPORT`) or `multi` (one work-stealing runtime) |
//! | `TACOS_THREADS` | cores | threads (per-core) or workers (multi) |
//! | `MAX_BODY_BYTES` | `4194304` | largest REST request body |
//! | `MAX_MESSAGE_BYTES` | `4194304` | largest gRPC request message |
//! | `MAX_HEADER_BYTES` | `65536` | largest request header section (both protocols) |
//! | `SHUTDOWN_TIMEOUT_SECONDS` | `30` | how long shutdown drains in-flight calls |
//! | `JSON_FIELD_NAMES` | `json` | REST output field names: `json` (lowerCamel) or `proto` (snake_case) |
//! | `JSON_EMIT_UNPOPULATED` | `false` | REST output prints fields without presence even at their default (`0`, `""`, `[]`) |
//!
//! Every variable is checked and all problems are reported together, each naming the variable,
//! its value and what was expected.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Where [`Server::start`](crate::Server::start) listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bind {
    /// The REST address (`SERVER_PORT`).
    pub rest: SocketAddr,
    /// The gRPC address (`GRPC_PORT`); `None`, or the REST address (port other than 0), serves
    /// both on one port.
    pub grpc: Option<SocketAddr>,
}

/// How the server uses threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeLayout {
    /// One current-thread runtime per thread, each with its own `SO_REUSEPORT` listeners.
    PerCore {
        /// Number of threads.
        threads: usize,
    },
    /// One multi-thread (work-stealing) runtime.
    MultiThread {
        /// Number of worker threads.
        workers: usize,
    },
}

impl RuntimeLayout {
    /// Threads used.
    pub fn threads(&self) -> usize {
        match *self {
            RuntimeLayout::PerCore { threads } => threads.max(1),
            RuntimeLayout::MultiThread { workers } => workers.max(1),
        }
    }
}

impl Default for RuntimeLayout {
    fn default() -> Self {
        RuntimeLayout::PerCore {
            threads: available_cores(),
        }
    }
}

fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The server's start-up configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// `SERVER_HOST`.
    pub host: IpAddr,
    /// `SERVER_PORT`.
    pub server_port: u16,
    /// `GRPC_ENABLED`.
    pub grpc_enabled: bool,
    /// `GRPC_PORT`.
    pub grpc_port: u16,
    /// `TACOS_RUNTIME` and `TACOS_THREADS`.
    pub runtime: RuntimeLayout,
    /// `MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `MAX_MESSAGE_BYTES`.
    pub max_message_bytes: usize,
    /// `MAX_HEADER_BYTES`.
    pub max_header_bytes: usize,
    /// `SHUTDOWN_TIMEOUT_SECONDS`.
    pub shutdown_timeout: Duration,
    /// `JSON_FIELD_NAMES=proto`: REST output uses proto field names.
    pub json_proto_names: bool,
    /// `JSON_EMIT_UNPOPULATED=true`: REST output prints default-valued fields without presence.
    pub json_emit_unpopulated: bool,
    /// `GRPC_WEB=true`: gRPC-Web requests are answered on the gRPC surface.
    pub grpc_web: bool,
    /// `CORS_ALLOWED_ORIGINS`, `CORS_MAX_AGE_SECONDS`: cross-origin calls, off when `None`.
    pub cors: Option<CorsConfig>,
}

/// Which origins may call cross-origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin (`*`).
    Any,
    /// These exact origins, such as `https://tickets.example`.
    List(Vec<http::HeaderValue>),
}

/// The CORS settings of a server (both surfaces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsConfig {
    /// The origins allowed.
    pub origins: CorsOrigins,
    /// How long a browser may cache a preflight answer.
    pub max_age: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            server_port: 8000,
            grpc_enabled: true,
            grpc_port: 9090,
            runtime: RuntimeLayout::default(),
            max_body_bytes: 4 * 1024 * 1024,
            max_message_bytes: 4 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            shutdown_timeout: Duration::from_secs(30),
            json_proto_names: false,
            json_emit_unpopulated: false,
            grpc_web: false,
            cors: None,
        }
    }
}

/// One invalid variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// What it should have been.
    pub expected: &'static str,
}

/// Every invalid variable found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in table order.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{}={:?}: expected {}", p.var, p.value, p.expected)?;
        }
        Ok(())
    }
}

/// Reads variables through a lookup function and collects every problem, so a start-up error
/// names all bad variables at once. Each policy module reads its own settings with it.
pub(crate) struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<ConfigProblem>,
}

impl<'a> Reader<'a> {
    /// A reader over `get` with no problems yet.
    pub(crate) fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            get,
            problems: Vec::new(),
        }
    }

    /// The raw value of `var`, if set.
    #[allow(dead_code)] // for settings with their own grammar
    pub(crate) fn get(&self, var: &str) -> Option<String> {
        (self.get)(var)
    }

    /// Records a problem with `var`.
    #[allow(dead_code)] // for settings with their own grammar
    pub(crate) fn problem(&mut self, var: &'static str, value: String, expected: &'static str) {
        self.problems.push(ConfigProblem {
            var,
            value,
            expected,
        });
    }

    /// `Ok(value)` when no problem was recorded, otherwise every problem.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }

    /// Parses `var` with `parse`, or `default` when unset; a value that does not parse is a
    /// problem described by `expected`.
    pub(crate) fn parse<T>(
        &mut self,
        var: &'static str,
        default: T,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> T {
        match (self.get)(var) {
            None => default,
            Some(value) => match parse(value.trim()) {
                Some(parsed) => parsed,
                None => {
                    self.problems.push(ConfigProblem {
                        var,
                        value,
                        expected,
                    });
                    default
                }
            },
        }
    }
}

/// `*`, or origins (`scheme://host[:port]`) separated by commas.
fn parse_origins(value: &str) -> Option<Option<CorsOrigins>> {
    if value.trim() == "*" {
        return Some(Some(CorsOrigins::Any));
    }
    let origins = value
        .split(',')
        .map(str::trim)
        .map(|origin| {
            let scheme = origin.starts_with("http://") || origin.starts_with("https://");
            let host = origin.split_once("://").map_or("", |(_, rest)| rest);
            (scheme && !host.is_empty() && !host.contains('/'))
                .then(|| http::HeaderValue::from_str(origin).ok())
                .flatten()
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Some(CorsOrigins::List(origins)))
}

pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_port(value: &str) -> Option<u16> {
    value.parse().ok().filter(|p| *p != 0)
}

impl ServerConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let mut r = Reader::new(get);
        let host = r.parse("SERVER_HOST", defaults.host, "an IP address", |v| {
            v.parse().ok()
        });
        let server_port = r.parse(
            "SERVER_PORT",
            defaults.server_port,
            "a port number (1-65535)",
            parse_port,
        );
        let grpc_enabled = r.parse("GRPC_ENABLED", true, "true or false", parse_bool);
        let grpc_port = r.parse(
            "GRPC_PORT",
            defaults.grpc_port,
            "a port number (1-65535)",
            parse_port,
        );
        let threads = r.parse(
            "TACOS_THREADS",
            available_cores(),
            "a thread count (1-1024)",
            |v| v.parse().ok().filter(|n| (1..=1024).contains(n)),
        );
        let runtime = r.parse(
            "TACOS_RUNTIME",
            RuntimeLayout::PerCore { threads },
            "per-core or multi",
            |v| match v {
                "per-core" | "percore" => Some(RuntimeLayout::PerCore { threads }),
                "multi" | "multi-thread" => Some(RuntimeLayout::MultiThread { workers: threads }),
                _ => None,
            },
        );
        let max_body_bytes = r.parse(
            "MAX_BODY_BYTES",
            defaults.max_body_bytes,
            "a byte count above 0",
            |v| v.parse().ok().filter(|n| *n > 0),
        );
        let max_message_bytes = r.parse(
            "MAX_MESSAGE_BYTES",
            defaults.max_message_bytes,
            "a byte count above 0",
            |v| v.parse().ok().filter(|n| *n > 0),
        );
        let max_header_bytes = r.parse(
            "MAX_HEADER_BYTES",
            defaults.max_header_bytes,
            "a byte count from 1024 to 16777216",
            |v| {
                v.parse()
                    .ok()
                    .filter(|n| (1024..=16 * 1024 * 1024).contains(n))
            },
        );
        let shutdown_timeout = r.parse(
            "SHUTDOWN_TIMEOUT_SECONDS",
            defaults.shutdown_timeout,
            "a number of seconds",
            |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s < 86_400.0)
                    .map(Duration::from_secs_f64)
            },
        );
        let json_proto_names = r.parse("JSON_FIELD_NAMES", false, "json or proto", |v| match v {
            "json" => Some(false),
            "proto" => Some(true),
            _ => None,
        });
        let json_emit_unpopulated =
            r.parse("JSON_EMIT_UNPOPULATED", false, "true or false", parse_bool);
        let grpc_web = r.parse("GRPC_WEB", false, "true or false", parse_bool);
        let origins = r.parse(
            "CORS_ALLOWED_ORIGINS",
            None,
            "`*` or comma-separated origins such as https://tickets.example",
            parse_origins,
        );
        let max_age = r.parse(
            "CORS_MAX_AGE_SECONDS",
            Duration::from_secs(600),
            "seconds from 0 to 86400",
            |v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|s| *s <= 86_400)
                    .map(Duration::from_secs)
            },
        );
        let cors = origins.map(|origins| CorsConfig { origins, max_age });
        r.finish(Self {
            host,
            server_port,
            grpc_enabled,
            grpc_port,
            runtime,
            max_body_bytes,
            max_message_bytes,
            max_header_bytes,
            shutdown_timeout,
            json_proto_names,
            json_emit_unpopulated,
            grpc_web,
            cors,
        })
    }

    /// The addresses to bind: REST on `SERVER_PORT`, gRPC on `GRPC_PORT` (or both on one port).
    pub fn bind(&self) -> Bind {
        let rest = SocketAddr::new(self.host, self.server_port);
        let grpc = self
            .grpc_enabled
            .then(|| SocketAddr::new(self.host, self.grpc_port));
        Bind {
            rest,
            grpc: grpc.or(Some(rest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ServerConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServerConfig::from_lookup(&move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let config = read(&[]).unwrap();
        assert_eq!((config.server_port, config.grpc_port), (8000, 9090));
        let config = read(&[
            ("SERVER_PORT", "8080"),
            ("TACOS_RUNTIME", "multi"),
            ("TACOS_THREADS", "3"),
        ])
        .unwrap();
        assert_eq!(config.server_port, 8080);
        assert_eq!(config.runtime, RuntimeLayout::MultiThread { workers: 3 });
    }

    #[test]
    fn every_problem_is_reported() {
        let err = read(&[("SERVER_PORT", "eighty"), ("GRPC_ENABLED", "maybe")]).unwrap_err();
        assert_eq!(err.problems.len(), 2);
        let text = err.to_string();
        assert!(
            text.contains("SERVER_PORT=\"eighty\": expected a port number"),
            "{text}"
        );
        assert!(text.contains("GRPC_ENABLED"), "{text}");
    }

    #[test]
    fn same_port_means_one_listener() {
        let config = read(&[("SERVER_PORT", "7000"), ("GRPC_PORT", "7000")]).unwrap();
        let bind = config.bind();
        assert_eq!(bind.grpc, Some(bind.rest));
    }
}
