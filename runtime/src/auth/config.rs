//! [`AuthConfig`]: the `JWT_*` and `AUTH_*` variables (the table is in the [module docs](super)).

use std::fmt;
use std::time::Duration;

use http::Uri;

use crate::config::{parse_bool, ConfigError, Reader};

/// Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// An HS256 secret; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, redacted)", self.0.len())
    }
}

/// Which `typ` header values a token may carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypPolicy {
    /// Whether a token without `typ` is accepted.
    pub allow_absent: bool,
    /// Accepted values, lower-case without an `application/` prefix (RFC 7515 §4.1.9 compares
    /// media types that way).
    pub accepted: Vec<String>,
}

impl TypPolicy {
    /// Absent, `JWT`, `at+jwt` (RFC 9068 access tokens), with or without `application/`.
    pub fn default_policy() -> Self {
        Self {
            allow_absent: true,
            accepted: vec!["jwt".to_owned(), "at+jwt".to_owned()],
        }
    }

    /// Whether `typ` passes.
    pub fn accepts(&self, typ: Option<&str>) -> bool {
        match typ {
            None => self.allow_absent,
            Some(value) => {
                let value = normalize_typ(value);
                self.accepted.contains(&value)
            }
        }
    }
}

fn normalize_typ(value: &str) -> String {
    let lower = value.trim().to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// How tokens are verified; read from the environment with [`AuthConfig::from_env`].
///
/// The fields are public so tests and embedders can adjust a value read from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthConfig {
    /// `JWT_SECRET`: the HS256 key. Tokens checked with it must be HS256.
    pub secret: Option<Secret>,
    /// `JWT_JWKS_URL`: where RS256/ES256 public keys are published.
    pub jwks_url: Option<Uri>,
    /// `JWT_ISSUER`: the required `iss`.
    pub issuer: Option<String>,
    /// `JWT_AUDIENCE`: accepted `aud` values; one must be present when any is configured.
    pub audiences: Vec<String>,
    /// `JWT_LEEWAY_SECONDS`: clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// `JWT_JWKS_REFRESH_SECONDS`: how old the key set may grow before a request refreshes it.
    pub jwks_refresh: Duration,
    /// Least time between two fetches caused by an unknown `kid` or after a failed fetch
    /// (10 s; not read from the environment).
    pub jwks_refetch_interval: Duration,
    /// Bound on one JWKS fetch, connect to last byte (5 s).
    pub jwks_timeout: Duration,
    /// Largest JWKS document read (1 MiB).
    pub jwks_max_bytes: usize,
    /// `JWT_REQUIRED_TYP`: accepted `typ` header values.
    pub typ: TypPolicy,
    /// `JWT_ES256_LOW_S_ONLY`: reject ES256 signatures whose `s` is in the upper half.
    pub es256_low_s_only: bool,
    /// `AUTH_MAX_HEADER_BYTES`: longest `Authorization` value (and token) looked at.
    pub max_header_bytes: usize,
    /// `AUTH_DEV_BYPASS_SUBJECT`: requests without a token act as this subject.
    pub dev_bypass_subject: Option<String>,
    /// `JWT_CACHE_SIZE`: verified tokens remembered until they expire (at most
    /// `jwks_refresh`), so a token sent again skips its signature check; 0 turns it off.
    pub cache_size: usize,
}

const LEEWAY_MAX_SECONDS: u64 = 300;
/// Verified tokens remembered by default.
const DEFAULT_CACHE_SIZE: usize = 100_000;

impl AuthConfig {
    /// An HS256-only configuration with every other setting at its default (for embedders and
    /// tests); a secret shorter than [`MIN_SECRET_BYTES`] is refused.
    pub fn with_secret(secret: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let secret = secret.into();
        let mut r = Reader::new(&|_| None);
        if secret.len() < MIN_SECRET_BYTES {
            r.problem("JWT_SECRET", "<redacted>".to_owned(), SECRET_EXPECTED);
        }
        r.finish(Self::defaults(Some(Secret(secret)), None))
    }

    fn defaults(secret: Option<Secret>, jwks_url: Option<Uri>) -> Self {
        Self {
            secret,
            jwks_url,
            issuer: None,
            audiences: Vec::new(),
            leeway: Duration::from_secs(30),
            jwks_refresh: Duration::from_secs(300),
            jwks_refetch_interval: Duration::from_secs(10),
            jwks_timeout: Duration::from_secs(5),
            jwks_max_bytes: 1024 * 1024,
            typ: TypPolicy::default_policy(),
            es256_low_s_only: false,
            max_header_bytes: 8192,
            dev_bypass_subject: None,
            cache_size: DEFAULT_CACHE_SIZE,
        }
    }

    /// Reads the process environment; `Ok(None)` when neither `JWT_SECRET` nor `JWT_JWKS_URL` is
    /// set (authentication off).
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map); every problem is reported at once.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let mut r = Reader::new(get);
        let production = r.get("TACOS_ENV").is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "production" | "prod"
            )
        });

        let secret = r.get("JWT_SECRET").and_then(|value| {
            if value.len() < MIN_SECRET_BYTES {
                // The value itself is never echoed: a short secret is still a secret.
                r.problem(
                    "JWT_SECRET",
                    format!("<{} bytes, redacted>", value.len()),
                    SECRET_EXPECTED,
                );
                None
            } else {
                Some(Secret(value.into_bytes()))
            }
        });
        let jwks_url = r.parse(
            "JWT_JWKS_URL",
            None,
            if production {
                "an https:// URL (plain http is refused when TACOS_ENV=production)"
            } else {
                "an http:// or https:// URL with a host"
            },
            |v| parse_jwks_url(v, production).map(Some),
        );
        let issuer = r.parse("JWT_ISSUER", None, "a non-empty issuer", |v| {
            (!v.is_empty()).then(|| Some(v.to_owned()))
        });
        let audiences = r.parse(
            "JWT_AUDIENCE",
            Vec::new(),
            "a comma-separated list of audiences",
            |v| {
                let list: Vec<String> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect();
                (!list.is_empty()).then_some(list)
            },
        );
        let leeway = r.parse(
            "JWT_LEEWAY_SECONDS",
            Duration::from_secs(30),
            "a whole number of seconds from 0 to 300",
            |v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|s| *s <= LEEWAY_MAX_SECONDS)
                    .map(Duration::from_secs)
            },
        );
        let jwks_refresh = r.parse(
            "JWT_JWKS_REFRESH_SECONDS",
            Duration::from_secs(300),
            "a whole number of seconds from 10 to 86400",
            |v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|s| (10..=86_400).contains(s))
                    .map(Duration::from_secs)
            },
        );
        let typ = r.parse(
            "JWT_REQUIRED_TYP",
            TypPolicy::default_policy(),
            "a comma-separated list of typ values, such as at+jwt",
            |v| {
                let accepted: Vec<String> = v
                    .split(',')
                    .map(normalize_typ)
                    .filter(|t| !t.is_empty())
                    .collect();
                (!accepted.is_empty()).then_some(TypPolicy {
                    allow_absent: false,
                    accepted,
                })
            },
        );
        let es256_low_s_only = r.parse("JWT_ES256_LOW_S_ONLY", false, "true or false", parse_bool);
        let max_header_bytes = r.parse(
            "AUTH_MAX_HEADER_BYTES",
            8192,
            "a byte count from 256 to 1048576",
            |v| v.parse().ok().filter(|n| (256..=1_048_576).contains(n)),
        );
        let cache_size = r.parse(
            "JWT_CACHE_SIZE",
            DEFAULT_CACHE_SIZE,
            "a token count from 0 (off) to 10000000",
            |v| v.parse().ok().filter(|n| *n <= 10_000_000),
        );
        let dev_bypass_subject = match r.get("AUTH_DEV_BYPASS_SUBJECT") {
            None => None,
            Some(v) if production => {
                r.problem(
                    "AUTH_DEV_BYPASS_SUBJECT",
                    v,
                    "unset: the development bypass is refused when TACOS_ENV=production",
                );
                None
            }
            Some(v) if v.trim().is_empty() => {
                r.problem("AUTH_DEV_BYPASS_SUBJECT", v, "a non-empty subject");
                None
            }
            Some(v) => Some(v.trim().to_owned()),
        };

        let configured = r.get("JWT_SECRET").is_some() || r.get("JWT_JWKS_URL").is_some();
        if !configured {
            // Settings without a key would silently leave every method unauthenticated.
            for var in ORPHANS {
                if let Some(value) = r.get(var) {
                    r.problem(var, value, "unset unless JWT_SECRET or JWT_JWKS_URL is set");
                }
            }
        }

        let mut config = Self::defaults(secret, jwks_url);
        config.issuer = issuer;
        config.audiences = audiences;
        config.leeway = leeway;
        config.jwks_refresh = jwks_refresh;
        config.typ = typ;
        config.es256_low_s_only = es256_low_s_only;
        config.max_header_bytes = max_header_bytes;
        config.dev_bypass_subject = dev_bypass_subject;
        config.cache_size = cache_size;
        r.finish(configured.then_some(config))
    }
}

const SECRET_EXPECTED: &str = "at least 32 bytes (HS256 keys must be as long as the hash)";

const ORPHANS: [&str; 9] = [
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_LEEWAY_SECONDS",
    "JWT_JWKS_REFRESH_SECONDS",
    "JWT_REQUIRED_TYP",
    "JWT_ES256_LOW_S_ONLY",
    "AUTH_MAX_HEADER_BYTES",
    "AUTH_DEV_BYPASS_SUBJECT",
    "JWT_CACHE_SIZE",
];

fn parse_jwks_url(value: &str, production: bool) -> Option<Uri> {
    let uri: Uri = value.parse().ok()?;
    uri.host().filter(|h| !h.is_empty())?;
    match uri.scheme_str() {
        Some("https") => Some(uri),
        Some("http") if !production => Some(uri),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn read(vars: &[(&str, &str)]) -> Result<Option<AuthConfig>, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AuthConfig::from_lookup(&move |k| map.get(k).cloned())
    }

    fn problem_vars(err: &ConfigError) -> Vec<&'static str> {
        err.problems.iter().map(|p| p.var).collect()
    }

    #[test]
    fn off_without_a_key() {
        assert_eq!(read(&[]).unwrap(), None);
        assert_eq!(read(&[("TACOS_ENV", "production")]).unwrap(), None);
    }

    #[test]
    fn defaults_with_a_secret() {
        let config = read(&[("JWT_SECRET", SECRET)]).unwrap().unwrap();
        assert_eq!(config.secret.as_ref().unwrap().expose(), SECRET.as_bytes());
        assert_eq!(config.jwks_url, None);
        assert_eq!(config.leeway, Duration::from_secs(30));
        assert_eq!(config.jwks_refresh, Duration::from_secs(300));
        assert_eq!(config.jwks_refetch_interval, Duration::from_secs(10));
        assert_eq!(config.jwks_timeout, Duration::from_secs(5));
        assert_eq!(config.jwks_max_bytes, 1 << 20);
        assert_eq!(config.max_header_bytes, 8192);
        assert_eq!(config.typ, TypPolicy::default_policy());
        assert!(!config.es256_low_s_only);
        assert_eq!(config.dev_bypass_subject, None);
        assert_eq!(config.cache_size, 100_000);
        assert!(!format!("{config:?}").contains(SECRET), "secret printed");
    }

    #[test]
    fn every_variable_is_read() {
        let config = read(&[
            (
                "JWT_JWKS_URL",
                "https://id.example.test/.well-known/jwks.json",
            ),
            ("JWT_ISSUER", "https://id.example.test/"),
            ("JWT_AUDIENCE", "gateway, reservation ,"),
            ("JWT_LEEWAY_SECONDS", "0"),
            ("JWT_JWKS_REFRESH_SECONDS", "60"),
            ("JWT_REQUIRED_TYP", "application/at+jwt"),
            ("JWT_ES256_LOW_S_ONLY", "true"),
            ("AUTH_MAX_HEADER_BYTES", "4096"),
            ("AUTH_DEV_BYPASS_SUBJECT", "dev-user"),
            ("JWT_CACHE_SIZE", "0"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.cache_size, 0);
        assert_eq!(config.secret, None);
        assert_eq!(config.jwks_url.unwrap().host(), Some("id.example.test"));
        assert_eq!(config.issuer.as_deref(), Some("https://id.example.test/"));
        assert_eq!(config.audiences, ["gateway", "reservation"]);
        assert_eq!(config.leeway, Duration::ZERO);
        assert_eq!(config.jwks_refresh, Duration::from_secs(60));
        assert!(config.typ.accepts(Some("at+JWT")));
        assert!(!config.typ.accepts(Some("JWT")));
        assert!(!config.typ.accepts(None));
        assert!(config.es256_low_s_only);
        assert_eq!(config.max_header_bytes, 4096);
        assert_eq!(config.dev_bypass_subject.as_deref(), Some("dev-user"));
    }

    #[test]
    fn default_typ_policy() {
        let typ = TypPolicy::default_policy();
        for ok in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("application/at+jwt"),
        ] {
            assert!(typ.accepts(ok), "{ok:?}");
        }
        for bad in [Some(""), Some("dpop+jwt"), Some("JWE"), Some("logout+jwt")] {
            assert!(!typ.accepts(bad), "{bad:?}");
        }
    }

    #[test]
    fn short_secret_is_refused_without_echoing_it() {
        let err = read(&[("JWT_SECRET", "too-short-secret")]).unwrap_err();
        assert_eq!(problem_vars(&err), ["JWT_SECRET"]);
        let text = err.to_string();
        assert!(text.contains("at least 32 bytes"), "{text}");
        assert!(!text.contains("too-short-secret"), "{text}");
        let thirty_one = "x".repeat(31);
        assert!(read(&[("JWT_SECRET", &thirty_one)]).is_err());
        assert!(AuthConfig::with_secret(thirty_one).is_err());
        assert!(AuthConfig::with_secret(SECRET).is_ok());
    }

    #[test]
    fn bypass_is_refused_in_production() {
        for env in ["production", "PRODUCTION", "prod"] {
            let err = read(&[
                ("JWT_SECRET", SECRET),
                ("TACOS_ENV", env),
                ("AUTH_DEV_BYPASS_SUBJECT", "dev-user"),
            ])
            .unwrap_err();
            assert_eq!(problem_vars(&err), ["AUTH_DEV_BYPASS_SUBJECT"], "{env}");
            assert!(err.to_string().contains("TACOS_ENV=production"));
        }
        let config = read(&[
            ("JWT_SECRET", SECRET),
            ("TACOS_ENV", "staging"),
            ("AUTH_DEV_BYPASS_SUBJECT", "dev-user"),
            ("JWT_CACHE_SIZE", "0"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.cache_size, 0);
        assert_eq!(config.dev_bypass_subject.as_deref(), Some("dev-user"));
    }

    #[test]
    fn plain_http_jwks_is_refused_in_production() {
        let url = ("JWT_JWKS_URL", "http://127.0.0.1:8080/jwks");
        assert!(read(&[url]).unwrap().is_some());
        let err = read(&[url, ("TACOS_ENV", "production")]).unwrap_err();
        assert_eq!(problem_vars(&err), ["JWT_JWKS_URL"]);
    }

    #[test]
    fn every_bad_value_is_named() {
        let err = read(&[
            ("JWT_SECRET", "short"),
            ("JWT_JWKS_URL", "ftp://keys.example.test/jwks"),
            ("JWT_ISSUER", " "),
            ("JWT_AUDIENCE", ", ,"),
            ("JWT_LEEWAY_SECONDS", "301"),
            ("JWT_JWKS_REFRESH_SECONDS", "5"),
            ("JWT_REQUIRED_TYP", ","),
            ("JWT_ES256_LOW_S_ONLY", "maybe"),
            ("AUTH_MAX_HEADER_BYTES", "12"),
            ("AUTH_DEV_BYPASS_SUBJECT", " "),
        ])
        .unwrap_err();
        assert_eq!(
            problem_vars(&err),
            [
                "JWT_SECRET",
                "JWT_JWKS_URL",
                "JWT_ISSUER",
                "JWT_AUDIENCE",
                "JWT_LEEWAY_SECONDS",
                "JWT_JWKS_REFRESH_SECONDS",
                "JWT_REQUIRED_TYP",
                "JWT_ES256_LOW_S_ONLY",
                "AUTH_MAX_HEADER_BYTES",
                "AUTH_DEV_BYPASS_SUBJECT",
            ]
        );
        for bad in [
            "not a url",
            "https://",
            "/relative/jwks",
            "keys.example.test",
        ] {
            let err = read(&[("JWT_JWKS_URL", bad)]).unwrap_err();
            assert_eq!(problem_vars(&err), ["JWT_JWKS_URL"], "{bad}");
        }
        for bad in ["-1", "1.5", "thirty"] {
            let err = read(&[("JWT_SECRET", SECRET), ("JWT_LEEWAY_SECONDS", bad)]).unwrap_err();
            assert_eq!(problem_vars(&err), ["JWT_LEEWAY_SECONDS"], "{bad}");
        }
    }

    #[test]
    fn settings_without_a_key_are_refused() {
        let err = read(&[
            ("JWT_ISSUER", "https://id.example.test/"),
            ("AUTH_DEV_BYPASS_SUBJECT", "dev-user"),
        ])
        .unwrap_err();
        assert_eq!(
            problem_vars(&err),
            ["JWT_ISSUER", "AUTH_DEV_BYPASS_SUBJECT"]
        );
    }
}
