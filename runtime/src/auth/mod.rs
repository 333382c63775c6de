//! JWT authentication: bearer tokens checked against an HS256 secret or a JWKS, and per-method
//! role and scope checks.
//!
//! # Configuration
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `JWT_SECRET` | unset | HS256 key, at least 32 bytes; tokens checked with it must be HS256 |
//! | `JWT_JWKS_URL` | unset | `http(s)://` URL of a JWKS; RSA keys verify RS256, P-256 keys ES256 (https only when `TACOS_ENV=production`) |
//! | `JWT_ISSUER` | unset | required `iss`; when set, tokens without it fail |
//! | `JWT_AUDIENCE` | unset | comma-separated accepted `aud` values; when unset, tokens carrying any `aud` fail (RFC 7519 §4.1.3) |
//! | `JWT_LEEWAY_SECONDS` | `30` | clock skew allowed on `exp` and `nbf`, at most 300 |
//! | `JWT_JWKS_REFRESH_SECONDS` | `300` | age after which the next request refreshes the JWKS (10-86400) |
//! | `JWT_REQUIRED_TYP` | absent, `JWT`, `at+jwt` | comma-separated accepted `typ` values (`application/` optional, any case); when set, `typ` is required |
//! | `JWT_ES256_LOW_S_ONLY` | `false` | also reject ES256 signatures with a high `s` (for stores keyed by token bytes) |
//! | `AUTH_MAX_HEADER_BYTES` | `8192` | longest `Authorization` value; longer ones fail before parsing (256-1048576) |
//! | `AUTH_DEV_BYPASS_SUBJECT` | unset | development only: requests without a token act as this subject (no roles or scopes); refused when `TACOS_ENV=production` |
//! | `JWT_CACHE_SIZE` | `100000` | verified tokens remembered until `exp` (at most `JWT_JWKS_REFRESH_SECONDS`), so a token sent again skips its signature check; `0` turns it off |
//!
//! Authentication is off ([`AuthConfig::from_env`] returns `None`) unless `JWT_SECRET` or
//! `JWT_JWKS_URL` is set; the other variables without either are a configuration error. With
//! both, tokens carrying a `kid` are checked against the JWKS and tokens without one against the
//! secret; JWKS-only setups require a `kid`.
//!
//! # Rules
//!
//! - Every key verifies exactly one algorithm, fixed by the key (secret: HS256; RSA: RS256;
//!   EC P-256: ES256); the token's `alg` must name it. `none` and every other value fail.
//! - `exp` is required, `nbf` is honoured, both with the leeway; `sub` must be a non-empty string.
//! - A header with `crit` fails; `jwk`, `jku`, `x5u` and `x5c` are never read or fetched.
//! - An unknown `kid` refetches the JWKS at most once per 10 s, then fails.
//! - Tokens are size-checked before parsing; malformed input fails with a logged reason.
//! - Only tokens that verified are remembered, by their exact bytes, and no longer than their
//!   `exp` allows; a key withdrawn from the JWKS stops being honoured within the refresh age.
//!
//! # Use
//!
//! ```no_run
//! # async fn demo(headers: http::HeaderMap) -> Result<(), tacos_runtime::Status> {
//! use tacos_runtime::auth::{AuthConfig, Authenticator};
//! use tacos_runtime::MethodPolicy;
//!
//! let config = AuthConfig::from_env().expect("valid auth configuration");
//! if let Some(config) = config {
//!     let auth = Authenticator::new(config).expect("authenticator");
//!     let policy = MethodPolicy::DEFAULT;
//!     match auth.authenticate(&headers).await.map_err(|f| f.status())? {
//!         Some(principal) => Authenticator::authorize(&policy, &principal)?,
//!         None if policy.public => {}
//!         None => return Err(tacos_runtime::auth::missing_credentials()),
//!     }
//! }
//! # Ok(()) }
//! ```

mod cache;
mod config;
mod jwks;
mod keys;
mod token;

pub use config::{AuthConfig, Secret, TypPolicy, MIN_SECRET_BYTES};

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::HeaderValue;
use jsonwebtoken::{Algorithm, Validation};

use self::cache::TokenCache;
use serde_json::{Map, Value};

use crate::context::Principal;
use crate::method::MethodPolicy;
use crate::status::Status;

use jwks::{JwksCache, Miss};
use keys::VerifyKey;

/// The one message every authentication failure carries, so clients learn nothing about why.
const UNAUTHENTICATED_MESSAGE: &str = "missing or invalid credentials";

/// Why a request could not be authenticated. The reason is for the server's log only;
/// [`status`](Self::status) is what the client sees.
#[derive(Clone)]
pub struct AuthFailure {
    reason: Cow<'static, str>,
    unavailable: bool,
}

impl AuthFailure {
    pub(crate) fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: reason.into(),
            unavailable: false,
        }
    }

    fn unavailable(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: reason.into(),
            unavailable: true,
        }
    }

    /// The private reason, for logs.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// What the client gets: `UNAUTHENTICATED` with a fixed message and
    /// `WWW-Authenticate: Bearer error="invalid_token"`, or `UNAVAILABLE` when no verification
    /// key could be fetched at all (a server-side outage, not the client's mistake).
    pub fn status(&self) -> Status {
        if self.unavailable {
            return Status::unavailable("authentication keys are unavailable");
        }
        let mut status = Status::unauthenticated(UNAUTHENTICATED_MESSAGE);
        status.metadata_mut().insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        status
    }
}

impl fmt::Debug for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthFailure")
            .field("reason", &self.reason)
            .field("unavailable", &self.unavailable)
            .finish()
    }
}

/// `UNAUTHENTICATED` for a call without credentials to a method that is not public, with
/// `WWW-Authenticate: Bearer` (RFC 6750 §3: no error code when no token was sent).
pub fn missing_credentials() -> Status {
    let mut status = Status::unauthenticated(UNAUTHENTICATED_MESSAGE);
    status.metadata_mut().insert(
        http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer"),
    );
    status
}

/// An [`Authenticator`] could not be built, or keys could not be fetched.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The configuration cannot work.
    #[error("invalid auth configuration: {0}")]
    Config(String),
    /// The JWKS could not be fetched or read.
    #[error("JWKS unavailable: {0}")]
    Jwks(String),
}

/// Checks bearer tokens. Cheap to clone (one `Arc`); `Send + Sync`, usable from any runtime.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    secret: Option<Arc<VerifyKey>>,
    cache: Option<TokenCache>,
    jwks: Option<JwksCache>,
    hs256: Validation,
    rs256: Validation,
    es256: Validation,
    config: AuthConfig,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds an authenticator. Spawns nothing and fetches nothing: the JWKS is fetched by the
    /// first request that needs it, or by [`start_refresh`](Self::start_refresh).
    pub fn new(config: AuthConfig) -> Result<Self, AuthError> {
        if config.secret.is_none() && config.jwks_url.is_none() {
            return Err(AuthError::Config(
                "neither JWT_SECRET nor JWT_JWKS_URL is set".to_owned(),
            ));
        }
        let secret = match &config.secret {
            Some(secret) if secret.expose().len() >= MIN_SECRET_BYTES => Some(Arc::new(
                VerifyKey::hs256(secret.expose())
                    .ok_or_else(|| AuthError::Config("unusable JWT_SECRET".to_owned()))?,
            )),
            Some(_) => {
                return Err(AuthError::Config(format!(
                    "JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes"
                )))
            }
            None => None,
        };
        let jwks = match &config.jwks_url {
            Some(url) => Some(
                JwksCache::new(
                    url.clone(),
                    config.jwks_refresh,
                    config.jwks_refetch_interval,
                    config.jwks_timeout,
                    config.jwks_max_bytes,
                )
                .map_err(AuthError::Config)?,
            ),
            None => None,
        };
        if let Some(subject) = &config.dev_bypass_subject {
            tracing::warn!(
                %subject,
                "AUTH_DEV_BYPASS_SUBJECT is set: requests without a token act as this subject"
            );
        }
        let validation = |algorithm| {
            let mut v = Validation::new(algorithm);
            v.leeway = config.leeway.as_secs();
            v.validate_exp = true;
            v.validate_nbf = true;
            v.validate_aud = true;
            let mut required = vec!["exp"];
            if let Some(issuer) = &config.issuer {
                v.set_issuer(&[issuer]);
                required.push("iss");
            }
            if !config.audiences.is_empty() {
                v.set_audience(&config.audiences);
                required.push("aud");
            }
            v.set_required_spec_claims(&required);
            v
        };
        Ok(Self {
            inner: Arc::new(Inner {
                secret,
                cache: TokenCache::new(config.cache_size, config.jwks_refresh, config.leeway),
                jwks,
                hs256: validation(Algorithm::HS256),
                rs256: validation(Algorithm::RS256),
                es256: validation(Algorithm::ES256),
                config,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// Fetches the JWKS now (at start-up, so the first request does not pay for it and a bad
    /// URL shows early); returns the number of usable keys. Later refreshes happen inline, as
    /// requests find the keys stale. Without a JWKS this does nothing and returns 0.
    pub async fn start_refresh(&self) -> Result<usize, AuthError> {
        match &self.inner.jwks {
            Some(jwks) => jwks.refresh_now().await.map_err(AuthError::Jwks),
            None => Ok(0),
        }
    }

    /// Authenticates a request by its `Authorization: Bearer` header (gRPC metadata or REST
    /// headers). `Ok(None)`: no such header and no development bypass.
    pub async fn authenticate(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Option<Principal>, AuthFailure> {
        let result = match token::bearer(headers, self.inner.config.max_header_bytes) {
            Ok(Some(token)) => self.verify(token).await.map(Some),
            Ok(None) => Ok(self
                .inner
                .config
                .dev_bypass_subject
                .as_ref()
                .map(|subject| Principal::new(subject.clone()))),
            Err(failure) => Err(failure),
        };
        if let Err(failure) = &result {
            log_failure(failure);
        }
        result
    }

    /// Verifies one token (for token-validation endpoints such as `gateway.v1.ValidateToken`).
    pub async fn verify_token(&self, token: &str) -> Result<Principal, AuthFailure> {
        let result = self.verify(token.trim()).await;
        if let Err(failure) = &result {
            log_failure(failure);
        }
        result
    }

    /// Whether `principal` may call a method with `policy`: at least one of its `roles` and all
    /// of its `scopes`. Public methods always pass.
    pub fn authorize(policy: &MethodPolicy, principal: &Principal) -> Result<(), Status> {
        if policy.public {
            return Ok(());
        }
        let has = |list: &[String], wanted: &str| list.iter().any(|item| item == wanted);
        if !policy.roles.is_empty() && !policy.roles.iter().any(|r| has(&principal.roles, r)) {
            tracing::debug!(subject = %principal.subject, "permission denied: no required role");
            return Err(Status::permission_denied(
                "the caller lacks a required role",
            ));
        }
        if !policy.scopes.iter().all(|s| has(&principal.scopes, s)) {
            tracing::debug!(subject = %principal.subject, "permission denied: missing a scope");
            let mut status = Status::permission_denied("the caller lacks a required scope");
            status.metadata_mut().insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
            );
            return Err(status);
        }
        Ok(())
    }

    async fn verify(&self, token: &str) -> Result<Principal, AuthFailure> {
        let inner = &*self.inner;
        if token.len() > inner.config.max_header_bytes {
            return Err(AuthFailure::new("token over the size limit"));
        }
        let generation = inner.jwks.as_ref().map_or(0, JwksCache::generation);
        let cache = inner.cache.as_ref();
        if let Some(principal) = cache.and_then(|cache| cache.get(token, generation)) {
            return Ok(principal);
        }
        let principal = self.verify_signed(token).await?;
        if let Some(cache) = cache {
            cache.insert(token, &principal, generation);
        }
        Ok(principal)
    }

    /// Checks `token`'s header, key, signature and claims.
    async fn verify_signed(&self, token: &str) -> Result<Principal, AuthFailure> {
        let inner = &*self.inner;
        let parts = token::split(token)?;
        let header = token::header(parts.header)?;
        if !inner.config.typ.accepts(header.typ.as_deref()) {
            return Err(AuthFailure::new("typ header not accepted"));
        }
        let key = self.key_for(header.kid.as_deref()).await?;
        if header.alg != key.alg_name() {
            return Err(AuthFailure::new(format!(
                "alg {:?} does not match the key's {}",
                truncate(&header.alg),
                key.alg_name()
            )));
        }
        let validation = match key.algorithm {
            Algorithm::HS256 => &inner.hs256,
            Algorithm::RS256 => &inner.rs256,
            _ => {
                token::check_es256_signature(parts.signature, inner.config.es256_low_s_only)?;
                &inner.es256
            }
        };
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation)
            .map_err(|e| AuthFailure::new(format!("token rejected: {e}")))?;
        token::principal(data.claims)
    }

    async fn key_for(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, AuthFailure> {
        let inner = &*self.inner;
        match (kid, &inner.jwks, &inner.secret) {
            (Some(kid), Some(jwks), _) => jwks.key(kid).await.map_err(|miss| match miss {
                Miss::UnknownKid => AuthFailure::new(format!("unknown kid {:?}", truncate(kid))),
                Miss::Unavailable(reason) => AuthFailure::unavailable(reason),
            }),
            (_, _, Some(secret)) => Ok(secret.clone()),
            (_, _, None) => Err(AuthFailure::new("token has no kid")),
        }
    }
}

fn truncate(text: &str) -> &str {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn log_failure(failure: &AuthFailure) {
    if failure.unavailable {
        tracing::info!(reason = %failure.reason, "authentication unavailable");
    } else {
        tracing::debug!(reason = %failure.reason, "authentication failed");
    }
}
