//! Where a backend service runs, from `BACKEND_<NAME>_*` variables.
//!
//! | variable | meaning |
//! |---|---|
//! | `BACKEND_<NAME>_PROTOCOL` | `grpc`, `rest` or `local`; default `grpc` when a gRPC address is set, else `rest` when an HTTP address is set, else `local` |
//! | `BACKEND_<NAME>_GRPC_ADDRESS` | the service's gRPC address, `http://host:port` |
//! | `BACKEND_<NAME>_HTTP_ADDRESS` | the service's REST address, `http://host:port` |
//!
//! `<NAME>` is `RESERVATION` or `PAYMENT`. `local` runs the service inside the gateway. Transports
//! are built by [`BackendSettings::transport`], inside the Tokio runtime that will use them.

use tacos_runtime::client::{GrpcTransport, RestTransport, Transport, TransportError};

/// How calls reach one backend.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BackendSettings {
    /// The service runs in this process and is called directly.
    #[default]
    Local,
    /// gRPC to this address.
    Grpc(String),
    /// REST/JSON to this address.
    Rest(String),
}

impl BackendSettings {
    /// Reads `BACKEND_<name>_*` through `get`; every problem is reported.
    pub fn from_lookup(
        name: &str,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Vec<String>> {
        let var = |suffix: &str| format!("BACKEND_{name}_{suffix}");
        let value = |suffix: &str| {
            get(&var(suffix))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let mut address = |suffix: &str| {
            let v = value(suffix)?;
            if v.starts_with("http://") || v.starts_with("https://") {
                Some(v)
            } else {
                problems.push(format!(
                    "{}={v:?}: expected an http:// or https:// address",
                    var(suffix)
                ));
                None
            }
        };
        let grpc = address("GRPC_ADDRESS");
        let http = address("HTTP_ADDRESS");
        let protocol = value("PROTOCOL").map(|p| p.to_ascii_lowercase());
        let settings = match protocol.as_deref() {
            None => match (grpc, http) {
                (Some(grpc), _) => Some(Self::Grpc(grpc)),
                (None, Some(http)) => Some(Self::Rest(http)),
                (None, None) => Some(Self::Local),
            },
            Some("local") => Some(Self::Local),
            Some("grpc") => grpc.map(Self::Grpc).or_else(|| {
                problems.push(format!(
                    "{} is required when {}=grpc",
                    var("GRPC_ADDRESS"),
                    var("PROTOCOL")
                ));
                None
            }),
            Some("rest") => http.map(Self::Rest).or_else(|| {
                problems.push(format!(
                    "{} is required when {}=rest",
                    var("HTTP_ADDRESS"),
                    var("PROTOCOL")
                ));
                None
            }),
            Some(other) => {
                problems.push(format!(
                    "{}={other:?}: expected grpc, rest or local",
                    var("PROTOCOL")
                ));
                None
            }
        };
        match settings {
            Some(settings) if problems.is_empty() => Ok(settings),
            _ => Err(problems),
        }
    }

    /// The transport to the backend; `None` for [`BackendSettings::Local`]. Must run inside a
    /// Tokio runtime (connections are opened lazily by it).
    pub fn transport(&self) -> Result<Option<Transport>, TransportError> {
        Ok(match self {
            Self::Local => None,
            Self::Grpc(address) => Some(GrpcTransport::builder(address.as_str()).build()?.into()),
            Self::Rest(address) => Some(RestTransport::builder(address.as_str()).build()?.into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<BackendSettings, Vec<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        BackendSettings::from_lookup("PAYMENT", &|name| map.get(name).cloned())
    }

    #[test]
    fn the_protocol_follows_the_addresses_unless_named() {
        assert_eq!(read(&[]), Ok(BackendSettings::Local));
        let both = [
            ("BACKEND_PAYMENT_GRPC_ADDRESS", "http://127.0.0.1:9020"),
            ("BACKEND_PAYMENT_HTTP_ADDRESS", "http://127.0.0.1:8020"),
        ];
        assert_eq!(
            read(&both),
            Ok(BackendSettings::Grpc("http://127.0.0.1:9020".into()))
        );
        let mut rest = both.to_vec();
        rest.push(("BACKEND_PAYMENT_PROTOCOL", "REST"));
        assert_eq!(
            read(&rest),
            Ok(BackendSettings::Rest("http://127.0.0.1:8020".into()))
        );
        let mut local = both.to_vec();
        local.push(("BACKEND_PAYMENT_PROTOCOL", "local"));
        assert_eq!(read(&local), Ok(BackendSettings::Local));
    }

    #[test]
    fn every_problem_is_named() {
        let problems = read(&[
            ("BACKEND_PAYMENT_PROTOCOL", "rest"),
            ("BACKEND_PAYMENT_GRPC_ADDRESS", "payment:9020"),
        ])
        .unwrap_err()
        .join("; ");
        assert!(
            problems.contains("BACKEND_PAYMENT_GRPC_ADDRESS=\"payment:9020\""),
            "{problems}"
        );
        assert!(
            problems.contains("BACKEND_PAYMENT_HTTP_ADDRESS is required"),
            "{problems}"
        );
        let problems = read(&[("BACKEND_PAYMENT_PROTOCOL", "carrier-pigeon")]).unwrap_err();
        assert!(problems[0].contains("expected grpc, rest or local"));
    }
}
