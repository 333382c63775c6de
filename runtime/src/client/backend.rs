//! The client factory: one backend's transport from `BACKEND_<NAME>_*` variables.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `BACKEND_<NAME>_GRPC_ADDRESS` | — | the backend's gRPC address (`reservation:9090`, `http://…`) |
//! | `BACKEND_<NAME>_HTTP_ADDRESS` | — | the backend's REST address (`reservation:8000`, `http://…/api`) |
//! | `BACKEND_<NAME>_PROTOCOL` | `grpc` with a gRPC address, else `rest` with an HTTP address, else `local` | `grpc`, `rest`, `local` (in-process handler) or `split` |
//! | `BACKEND_<NAME>_GRPC_PERCENT` | `100` | for `split`: the share of calls over gRPC (0–100), changeable while running |
//! | `BACKEND_<NAME>_SHADOW_PER_MILLE` | `0` | calls to side-effect-free methods also sent over the other transport, per thousand (0–1000; needs both addresses) |
//! | `BACKEND_<NAME>_TIMEOUT_MS` | none | default timeout of calls without a deadline of their own (1–600000) |
//! | `GRPC_USE_TLS` | `false` | gRPC over TLS (rustls) |
//! | `GRPC_CA_FILE` | web PKI roots | PEM file of the CAs to trust |
//! | `GRPC_TLS_DOMAIN` | the address's host | the name to verify the server's certificate against |
//!
//! plus the `CLIENT_RETRY_*` / `CLIENT_BREAKER_*` settings ([`ResilienceConfig`]) and
//! `CLIENT_SHADOW_TIMEOUT_MS` / `CLIENT_SHADOW_MAX_IN_FLIGHT` ([`ShadowConfig`]). `<NAME>` is the
//! backend's name in upper case with `-` as `_` (`payment` → `BACKEND_PAYMENT_…`). Every bad
//! variable is reported at once.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::{
    ClientOptions, GrpcTransport, RestTransport, SplitTransport, TlsConfig, Transport,
    TransportError,
};
use crate::config::{parse_bool, ConfigError, Reader};
use crate::metrics::Metrics;
use crate::migration::ShadowConfig;
use crate::resilience::ResilienceConfig;

/// How a backend is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendProtocol {
    /// gRPC only.
    Grpc,
    /// REST only.
    Rest,
    /// In-process: the caller builds `<Service>Client::local(handler)`.
    Local,
    /// Both: a percentage of calls over gRPC, the rest over REST.
    Split,
}

impl BackendProtocol {
    /// `grpc`, `rest`, `local` or `split`, as in `BACKEND_<NAME>_PROTOCOL`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BackendProtocol::Grpc => "grpc",
            BackendProtocol::Rest => "rest",
            BackendProtocol::Local => "local",
            BackendProtocol::Split => "split",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "grpc" => Some(BackendProtocol::Grpc),
            "rest" | "http" => Some(BackendProtocol::Rest),
            "local" => Some(BackendProtocol::Local),
            "split" => Some(BackendProtocol::Split),
            _ => None,
        }
    }
}

impl fmt::Display for BackendProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach one backend, read and validated at start-up.
#[derive(Clone, Debug)]
pub struct BackendConfig {
    /// The backend's name (`reservation`), also the log and error label.
    pub name: String,
    /// How it is reached.
    pub protocol: BackendProtocol,
    /// Its gRPC address.
    pub grpc_address: Option<String>,
    /// Its REST address.
    pub http_address: Option<String>,
    /// For [`BackendProtocol::Split`]: the share of calls over gRPC, in percent.
    pub grpc_percent: u32,
    /// Calls to side-effect-free methods shadowed over the other transport, per thousand.
    pub shadow_per_mille: u32,
    /// The default timeout of calls without a deadline of their own.
    pub timeout: Option<Duration>,
    /// TLS for the gRPC transport.
    pub tls: Option<TlsConfig>,
    /// Retries, retry budget and circuit breaker, per transport.
    pub resilience: ResilienceConfig,
    /// Shadow call timeout and concurrency cap (its share is `shadow_per_mille`).
    pub shadow: ShadowConfig,
    /// The registry client series go to; [`Metrics::global`] when `None`.
    pub metrics: Option<Arc<Metrics>>,
}

impl BackendConfig {
    /// Reads the variables of backend `name` through `get` (tests pass a map); see the module
    /// table. Every bad variable is reported together, e.g. `split` without both addresses
    /// names both address variables.
    pub fn from_lookup(
        name: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<BackendConfig, ConfigError> {
        let vars = Vars::new(name);
        let mut r = Reader::new(get);
        let grpc_address = address(&mut r, vars.grpc_address);
        let http_address = address(&mut r, vars.http_address);
        let inferred = if grpc_address.is_some() {
            BackendProtocol::Grpc
        } else if http_address.is_some() {
            BackendProtocol::Rest
        } else {
            BackendProtocol::Local
        };
        let protocol = r.parse(
            vars.protocol,
            inferred,
            "grpc, rest, local or split",
            BackendProtocol::parse,
        );
        let grpc_percent = r.parse(vars.grpc_percent, 100, "a percentage from 0 to 100", |v| {
            v.parse().ok().filter(|p| *p <= 100)
        });
        let shadow_per_mille = r.parse(
            vars.shadow_per_mille,
            0,
            "calls per thousand from 0 to 1000",
            |v| v.parse().ok().filter(|p| *p <= 1000),
        );
        let timeout = r.parse(vars.timeout, None, "milliseconds from 1 to 600000", |v| {
            v.parse()
                .ok()
                .filter(|ms| (1..=600_000).contains(ms))
                .map(|ms| Some(Duration::from_millis(ms)))
        });
        let needs_grpc = matches!(protocol, BackendProtocol::Grpc | BackendProtocol::Split)
            || (shadow_per_mille > 0 && protocol != BackendProtocol::Local);
        let needs_http = matches!(protocol, BackendProtocol::Rest | BackendProtocol::Split)
            || (shadow_per_mille > 0 && protocol != BackendProtocol::Local);
        if needs_grpc && grpc_address.is_none() && r.get(vars.grpc_address).is_none() {
            r.problem(
                vars.grpc_address,
                String::new(),
                "a gRPC address (host:port): the protocol or the shadow share needs it",
            );
        }
        if needs_http && http_address.is_none() && r.get(vars.http_address).is_none() {
            r.problem(
                vars.http_address,
                String::new(),
                "an HTTP address (host:port): the protocol or the shadow share needs it",
            );
        }
        if shadow_per_mille > 0 && protocol == BackendProtocol::Local {
            r.problem(
                vars.shadow_per_mille,
                shadow_per_mille.to_string(),
                "0 for a local backend: shadowing needs both remote transports",
            );
        }
        let use_tls = r.parse("GRPC_USE_TLS", false, "true or false", parse_bool);
        let ca_file = r.parse("GRPC_CA_FILE", None, "a path to a PEM file", |v| {
            (!v.is_empty()).then(|| Some(PathBuf::from(v)))
        });
        let domain = r.parse("GRPC_TLS_DOMAIN", None, "a DNS name", |v| {
            (!v.is_empty() && !v.contains(char::is_whitespace)).then(|| Some(v.to_owned()))
        });
        let tls = use_tls.then(|| {
            let tls = ca_file.iter().fold(TlsConfig::new(), |t, ca| t.ca_file(ca));
            domain.iter().fold(tls, |t, d| t.domain(d))
        });
        let own = r.finish(());
        let resilience = ResilienceConfig::from_lookup(get);
        let shadow = ShadowConfig::from_lookup(get);
        let mut problems = Vec::new();
        for err in [
            own.err(),
            resilience.as_ref().err().cloned(),
            shadow.as_ref().err().cloned(),
        ]
        .into_iter()
        .flatten()
        {
            problems.extend(err.problems);
        }
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(BackendConfig {
            name: name.to_owned(),
            protocol,
            grpc_address,
            http_address,
            grpc_percent,
            shadow_per_mille,
            timeout,
            tls,
            resilience: resilience?,
            shadow: shadow?,
            metrics: None,
        })
    }

    /// Reads the variables of backend `name` from the process environment.
    pub fn from_env(name: &str) -> Result<BackendConfig, ConfigError> {
        Self::from_lookup(name, &|var| std::env::var(var).ok())
    }

    /// The transport for Grpc / Rest / Split; `None` for Local (the caller uses the generated
    /// `<Service>Client::local(handler)`). A gRPC or REST backend with a shadow share is built
    /// as a split sending every call over its protocol and shadowing over the other.
    ///
    /// Each call builds new connections, a new breaker and a new budget: build once at start-up
    /// and share the transport (clones are cheap) among the backend's clients. Remote
    /// transports must be built inside a Tokio runtime (their connection pools live there).
    pub fn transport(&self) -> Result<Option<Transport>, TransportError> {
        if self.protocol != BackendProtocol::Local && tokio::runtime::Handle::try_current().is_err()
        {
            return Err(
                self.error("remote transports must be built inside a Tokio runtime".to_owned())
            );
        }
        let percent = match self.protocol {
            BackendProtocol::Local => return Ok(None),
            BackendProtocol::Grpc if self.shadow_per_mille == 0 => {
                return self.grpc().map(|t| Some(t.into()))
            }
            BackendProtocol::Rest if self.shadow_per_mille == 0 => {
                return self.rest().map(|t| Some(t.into()))
            }
            BackendProtocol::Grpc => 100,
            BackendProtocol::Rest => 0,
            BackendProtocol::Split => self.grpc_percent,
        };
        let (grpc, rest) = (self.grpc()?, self.rest()?);
        let split = if self.shadow_per_mille == 0 {
            SplitTransport::new(grpc, rest, percent)
        } else {
            let shadow = ShadowConfig {
                per_mille: u16::try_from(self.shadow_per_mille.min(1000)).unwrap_or(1000),
                ..self.shadow.clone()
            };
            SplitTransport::with_shadow(grpc, rest, percent, shadow, self.metrics.clone())
        };
        split
            .map(|t| Some(t.into()))
            .map_err(|err| self.error(err.to_string()))
    }

    /// The client options this configuration implies (the default timeout); add the backend's
    /// safe methods to them.
    pub fn client_options(&self) -> ClientOptions {
        match self.timeout {
            Some(timeout) => ClientOptions::new().timeout(timeout),
            None => ClientOptions::new(),
        }
    }

    fn grpc(&self) -> Result<GrpcTransport, TransportError> {
        let address = self
            .grpc_address
            .as_ref()
            .ok_or_else(|| self.error(format!("{} needs a gRPC address", self.protocol)))?;
        let mut builder = GrpcTransport::builder(address).resilience(self.resilience.clone());
        if let Some(tls) = &self.tls {
            builder = builder.tls(tls.clone());
        }
        if let Some(metrics) = &self.metrics {
            builder = builder.metrics(metrics.clone());
        }
        builder.build()
    }

    fn rest(&self) -> Result<RestTransport, TransportError> {
        let address = self
            .http_address
            .as_ref()
            .ok_or_else(|| self.error(format!("{} needs an HTTP address", self.protocol)))?;
        let mut builder = RestTransport::builder(address).resilience(self.resilience.clone());
        if let Some(metrics) = &self.metrics {
            builder = builder.metrics(metrics.clone());
        }
        builder.build()
    }

    fn error(&self, reason: String) -> TransportError {
        TransportError {
            target: self.name.clone(),
            reason,
        }
    }
}

/// An address variable: trimmed, empty as unset, and well-formed.
fn address(r: &mut Reader<'_>, var: &'static str) -> Option<String> {
    r.parse(
        var,
        None,
        "an address such as host:port or http://host:port",
        |v| {
            if v.is_empty() {
                return Some(None);
            }
            let full = if v.contains("://") {
                v.to_owned()
            } else {
                format!("http://{v}")
            };
            let uri: http::Uri = full.parse().ok()?;
            matches!(uri.scheme_str(), Some("http" | "https"))
                .then_some(())
                .and(uri.host())
                .filter(|host| !host.is_empty())
                .map(|_| Some(v.to_owned()))
        },
    )
}

/// The variable names of one backend.
struct Vars {
    grpc_address: &'static str,
    http_address: &'static str,
    protocol: &'static str,
    grpc_percent: &'static str,
    shadow_per_mille: &'static str,
    timeout: &'static str,
}

impl Vars {
    fn new(name: &str) -> Self {
        let prefix: String = name
            .chars()
            .map(|c| match c {
                '-' | '.' | ' ' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        let var = |suffix: &str| intern(format!("BACKEND_{prefix}_{suffix}"));
        Self {
            grpc_address: var("GRPC_ADDRESS"),
            http_address: var("HTTP_ADDRESS"),
            protocol: var("PROTOCOL"),
            grpc_percent: var("GRPC_PERCENT"),
            shadow_per_mille: var("SHADOW_PER_MILLE"),
            timeout: var("TIMEOUT_MS"),
        }
    }
}

/// Configuration errors name variables as `&'static str`; a backend's names are made once per
/// distinct name, so reading a configuration again allocates nothing new.
fn intern(name: String) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(name: &str, vars: &[(&str, &str)]) -> Result<BackendConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BackendConfig::from_lookup(name, &move |k| map.get(k).cloned())
    }

    #[test]
    fn names_become_variable_prefixes() {
        let config = read(
            "seat-map",
            &[
                ("BACKEND_SEAT_MAP_PROTOCOL", "SPLIT"),
                ("BACKEND_SEAT_MAP_GRPC_ADDRESS", " seats:9090 "),
                ("BACKEND_SEAT_MAP_HTTP_ADDRESS", "http://seats:8000/api"),
                ("BACKEND_SEAT_MAP_GRPC_PERCENT", "25"),
                ("BACKEND_SEAT_MAP_SHADOW_PER_MILLE", "5"),
            ],
        )
        .unwrap();
        assert_eq!(config.protocol, BackendProtocol::Split);
        assert_eq!(config.grpc_address.as_deref(), Some("seats:9090"));
        assert_eq!(config.grpc_percent, 25);
        assert_eq!(config.shadow_per_mille, 5);
        assert!(config.tls.is_none());
        // Reading again reuses the interned names.
        assert!(std::ptr::eq(
            Vars::new("seat-map").protocol,
            Vars::new("SEAT_MAP").protocol
        ));
    }

    #[test]
    fn shadowing_needs_both_remote_transports() {
        let err = read(
            "payment",
            &[
                ("BACKEND_PAYMENT_PROTOCOL", "local"),
                ("BACKEND_PAYMENT_SHADOW_PER_MILLE", "10"),
            ],
        )
        .unwrap_err();
        let vars: Vec<&str> = err.problems.iter().map(|p| p.var).collect();
        assert_eq!(vars, ["BACKEND_PAYMENT_SHADOW_PER_MILLE"]);
        let err = read(
            "payment",
            &[
                ("BACKEND_PAYMENT_GRPC_ADDRESS", "payment:9090"),
                ("BACKEND_PAYMENT_SHADOW_PER_MILLE", "10"),
            ],
        )
        .unwrap_err();
        let vars: Vec<&str> = err.problems.iter().map(|p| p.var).collect();
        assert_eq!(vars, ["BACKEND_PAYMENT_HTTP_ADDRESS"]);
    }

    #[test]
    fn tls_settings_are_shared() {
        let config = read(
            "payment",
            &[
                ("BACKEND_PAYMENT_GRPC_ADDRESS", "payment:9090"),
                ("GRPC_USE_TLS", "true"),
                ("GRPC_CA_FILE", "/etc/ca.pem"),
                ("GRPC_TLS_DOMAIN", "payment.internal"),
            ],
        )
        .unwrap();
        assert!(config.tls.is_some());
        assert_eq!(config.protocol, BackendProtocol::Grpc);
    }
}
