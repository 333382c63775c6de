//! The policy stack's settings, read from the environment in one go so a start-up error names
//! every bad variable (auth, rate limits, idempotency).

use std::sync::Arc;

use crate::auth::{AuthConfig, AuthError, Authenticator};
use crate::config::{ConfigError, ConfigProblem};
use crate::idempotency::{Idempotency, IdempotencyConfig};
use crate::rate_limit::{RateLimitConfig, RateLimiter};
use crate::store::StoreError;

use super::ServerBuilder;

/// Auth, rate-limit and idempotency settings (see each module's variable table).
#[derive(Clone, Debug)]
pub struct PolicyConfig {
    /// `JWT_*` / `AUTH_*`; `None` when no key is configured (only public methods are served).
    pub auth: Option<AuthConfig>,
    /// `RATE_LIMIT_*`.
    pub rate_limit: RateLimitConfig,
    /// `IDEMPOTENCY_*`.
    pub idempotency: IdempotencyConfig,
}

/// Why the policies could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The authenticator refused its settings.
    #[error("auth: {0}")]
    Auth(#[from] AuthError),
    /// A policy store (Redis) could not be set up.
    #[error("policy store: {0}")]
    Store(#[from] StoreError),
}

impl PolicyConfig {
    /// Reads the process environment; `rate_classes` are the rate classes the served methods
    /// name (each may have its own `RATE_LIMIT_<CLASS>`).
    pub fn from_env(rate_classes: &[&str]) -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok(), rate_classes)
    }

    /// Reads variables through `get`, reporting the problems of all three parts together.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        rate_classes: &[&str],
    ) -> Result<Self, ConfigError> {
        let mut problems: Vec<ConfigProblem> = Vec::new();
        let mut keep = |err: ConfigError| problems.extend(err.problems);
        let auth = AuthConfig::from_lookup(get)
            .map_err(&mut keep)
            .ok()
            .flatten();
        let rate_limit = RateLimitConfig::from_lookup(get, rate_classes)
            .map_err(&mut keep)
            .ok();
        let idempotency = IdempotencyConfig::from_lookup(get).map_err(&mut keep).ok();
        match (rate_limit, idempotency) {
            (Some(rate_limit), Some(idempotency)) if problems.is_empty() => Ok(Self {
                auth,
                rate_limit,
                idempotency,
            }),
            _ => Err(ConfigError { problems }),
        }
    }
}

impl ServerBuilder {
    /// Sets up the authenticator (when configured), the rate limiter and the idempotency store
    /// from `config`. Must run inside a tokio runtime when a store is Redis.
    pub fn policies(self, config: &PolicyConfig) -> Result<Self, PolicyError> {
        let mut builder = self
            .rate_limiter(Arc::new(RateLimiter::new(&config.rate_limit)?))
            .idempotency(Arc::new(Idempotency::new(config.idempotency.clone())?));
        if let Some(auth) = &config.auth {
            builder = builder.authenticator(Authenticator::new(auth.clone())?);
        }
        Ok(builder)
    }
}
