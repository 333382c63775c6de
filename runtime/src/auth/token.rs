//! The parts of a compact JWS checked before and after the signature: the bearer header, the
//! token's shape, the protected header, the ES256 signature form and the claims.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::AuthFailure;
use crate::context::Principal;

/// Longest `kid` looked up; longer ones are rejected before any cache or network work.
const MAX_KID_BYTES: usize = 256;

/// The token in `Authorization: Bearer <token>`; `Ok(None)` when there is no such header.
pub(crate) fn bearer(
    headers: &http::HeaderMap,
    max_bytes: usize,
) -> Result<Option<&str>, AuthFailure> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthFailure::new("more than one authorization header"));
    }
    if value.len() > max_bytes {
        return Err(AuthFailure::new("authorization header over the size limit"));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthFailure::new("authorization header is not visible ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AuthFailure::new("authorization header has no scheme"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::new("authorization scheme is not Bearer"));
    }
    let token = token.trim_matches(' ');
    if token.is_empty() {
        return Err(AuthFailure::new("empty bearer token"));
    }
    Ok(Some(token))
}

/// A compact JWS split into its three base64url segments.
pub(crate) struct Parts<'a> {
    pub(crate) header: &'a str,
    pub(crate) signature: &'a str,
}

/// Splits `token` into exactly three segments of base64url characters.
pub(crate) fn split(token: &str) -> Result<Parts<'_>, AuthFailure> {
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(AuthFailure::new("token has characters outside base64url"));
    }
    let mut segments = token.split('.');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(header), Some(payload), Some(signature), None)
            if !header.is_empty() && !payload.is_empty() && !signature.is_empty() =>
        {
            Ok(Parts { header, signature })
        }
        _ => Err(AuthFailure::new("token is not three non-empty segments")),
    }
}

/// The protected header fields this module acts on. Others (`jwk`, `jku`, `x5u`, `x5c`, ...)
/// are never read: keys come only from configuration.
#[derive(Deserialize)]
pub(crate) struct JoseHeader {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    #[serde(default)]
    pub(crate) typ: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Decodes and checks the protected header: a JSON object, no `crit`, a sane `kid`.
pub(crate) fn header(segment: &str) -> Result<JoseHeader, AuthFailure> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthFailure::new("header is not base64url"))?;
    // serde would also read a struct from a JSON array; a header must be an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AuthFailure::new("header is not a JSON object"));
    }
    let header: JoseHeader = serde_json::from_slice(&bytes)
        .map_err(|e| AuthFailure::new(format!("header does not parse: {e}")))?;
    if header.crit {
        return Err(AuthFailure::new(
            "header has crit; no extensions are understood",
        ));
    }
    if let Some(kid) = &header.kid {
        if kid.is_empty() || kid.len() > MAX_KID_BYTES {
            return Err(AuthFailure::new("kid is empty or too long"));
        }
    }
    Ok(header)
}

/// The P-256 group order halved: `s` above it is the "high" twin of a valid signature.
const P256_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// ES256 signatures are the fixed 64-byte `r || s` form (RFC 7518 §3.4), never DER; with
/// `low_s_only`, `s` must also be in the lower half of the group order.
pub(crate) fn check_es256_signature(segment: &str, low_s_only: bool) -> Result<(), AuthFailure> {
    let signature = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthFailure::new("signature is not base64url"))?;
    if signature.len() != 64 {
        return Err(AuthFailure::new("ES256 signature is not 64 bytes"));
    }
    if low_s_only && signature[32..] > P256_HALF_ORDER[..] {
        return Err(AuthFailure::new("ES256 signature has a high s"));
    }
    Ok(())
}

/// The principal the verified claims describe: `sub`, `roles`, `scope`/`scp`, and every claim.
pub(crate) fn principal(claims: Map<String, Value>) -> Result<Principal, AuthFailure> {
    let subject = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
        _ => return Err(AuthFailure::new("sub is missing or not a non-empty string")),
    };
    let roles = match claims.get("roles") {
        None => Vec::new(),
        Some(value) => string_array(value)
            .ok_or_else(|| AuthFailure::new("roles is not an array of strings"))?,
    };
    let mut scopes = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            None => {}
            Some(Value::String(list)) => {
                scopes.extend(list.split(' ').filter(|s| !s.is_empty()).map(str::to_owned))
            }
            Some(value) => scopes.extend(string_array(value).ok_or_else(|| {
                AuthFailure::new(format!(
                    "{name} is neither a string nor an array of strings"
                ))
            })?),
        }
    }
    scopes.sort_unstable();
    scopes.dedup();
    Ok(Principal::new(subject)
        .with_roles(roles)
        .with_scopes(scopes)
        .with_claims(Arc::new(claims)))
}

fn string_array(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};
    use serde_json::json;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn bearer_header_forms() {
        assert_eq!(bearer(&headers(&[]), 100).unwrap(), None);
        assert_eq!(
            bearer(&headers(&["Bearer a.b.c"]), 100).unwrap(),
            Some("a.b.c")
        );
        assert_eq!(
            bearer(&headers(&["bearer  a.b.c "]), 100).unwrap(),
            Some("a.b.c")
        );
        for bad in [
            "Basic dXNlcjpwdw==",
            "Bearer",
            "Bearer ",
            "a.b.c",
            "Bearera.b.c",
        ] {
            assert!(bearer(&headers(&[bad]), 100).is_err(), "{bad}");
        }
        assert!(bearer(&headers(&["Bearer a.b.c", "Bearer d.e.f"]), 100).is_err());
        assert!(bearer(&headers(&["Bearer a.b.c"]), 9).is_err());
    }

    #[test]
    fn shapes() {
        assert!(split("a.b.c").is_ok());
        for bad in [
            "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", "a.b+.c", "a.b.c=", "á.b.c",
        ] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }

    fn encode(value: &str) -> String {
        URL_SAFE_NO_PAD.encode(value)
    }

    #[test]
    fn header_checks() {
        let h = header(&encode(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#)).unwrap();
        assert_eq!((h.alg.as_str(), h.kid.as_deref()), ("RS256", Some("k1")));
        for bad in [
            r#"["RS256"]"#,
            r#"{"alg":"RS256","crit":["exp"]}"#,
            r#"{"alg":"RS256","crit":null}"#,
            r#"{"alg":"RS256","kid":7}"#,
            r#"{"alg":"RS256","kid":""}"#,
            r#"{"alg":"RS256","alg":"HS256"}"#,
            r#"{"kid":"k1"}"#,
            "not json",
        ] {
            assert!(header(&encode(bad)).is_err(), "{bad}");
        }
        let long_kid = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(257));
        assert!(header(&encode(&long_kid)).is_err());
        assert!(header("***").is_err());
    }

    #[test]
    fn es256_signature_form() {
        let low = URL_SAFE_NO_PAD.encode([0x11; 64]);
        let mut high_bytes = [0x11; 64];
        high_bytes[32] = 0xf0;
        let high = URL_SAFE_NO_PAD.encode(high_bytes);
        assert!(check_es256_signature(&low, true).is_ok());
        assert!(check_es256_signature(&high, false).is_ok());
        assert!(check_es256_signature(&high, true).is_err());
        assert!(check_es256_signature(&URL_SAFE_NO_PAD.encode([1; 70]), false).is_err());
    }

    #[test]
    fn claims_to_principal() {
        let claims = json!({
            "sub": "user-1",
            "roles": ["admin", "ops"],
            "scope": "read  write",
            "scp": ["write", "pay"],
            "tenant": "t1",
        });
        let Value::Object(map) = claims else {
            unreachable!()
        };
        let p = principal(map).unwrap();
        assert_eq!(p.subject, "user-1");
        assert_eq!(p.roles, ["admin", "ops"]);
        assert_eq!(p.scopes, ["pay", "read", "write"]);
        assert_eq!(p.claim("tenant"), Some(&json!("t1")));
        for bad in [
            json!({}),
            json!({"sub": ""}),
            json!({"sub": 5}),
            json!({"sub": "u", "roles": "admin"}),
            json!({"sub": "u", "roles": [1]}),
            json!({"sub": "u", "scp": {"a": 1}}),
        ] {
            let Value::Object(map) = bad else {
                unreachable!()
            };
            assert!(principal(map).is_err());
        }
    }
}
