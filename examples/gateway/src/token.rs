//! Development tokens: HS256 access tokens signed with the gateway's own secret, so the
//! protected calls can be tried on a fresh machine (`traffic-tacos-gateway token <user>`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The HS256 secret used when neither `JWT_SECRET` nor `JWT_JWKS_URL` is set, outside
/// production. Public by design: tokens signed with it prove nothing.
pub const DEVELOPMENT_SECRET: &str = "traffic-tacos-development-secret-not-for-production";

/// An HS256 token for `subject` with `roles`, valid for `ttl`, signed with `secret`.
pub fn mint(
    secret: &[u8],
    subject: &str,
    roles: &[String],
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = serde_json::json!({
        "sub": subject,
        "iat": now,
        "exp": now + ttl.as_secs(),
        "roles": roles,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret)?,
    )
}
