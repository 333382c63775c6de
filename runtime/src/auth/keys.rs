//! Verification keys: the HS256 secret and the keys of a JWKS document, each bound to the one
//! algorithm its type implies.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// Smallest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (the verifier's own limit).
const MAX_RSA_BITS: usize = 4096;

/// A key and the only algorithm it verifies.
pub(crate) struct VerifyKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
}

impl VerifyKey {
    pub(crate) fn hs256(secret: &[u8]) -> Option<Self> {
        Some(Self {
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret).ok()?,
        })
    }

    /// The `alg` header value this key accepts.
    pub(crate) fn alg_name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::HS256 => "HS256",
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            // Only the three above are ever constructed.
            _ => "",
        }
    }
}

/// Keys by `kid`.
pub(crate) type KeyMap = HashMap<String, Arc<VerifyKey>>;

/// Reads a JWKS document. Keys that are not usable signature keys (other types or curves, an
/// `alg` or `use` that does not fit, a weak RSA modulus, no `kid`, a `kid` seen twice) are left
/// out with a debug log; only a document that is not a JWKS at all is an error.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<KeyMap, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("JWKS is not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("JWKS has no keys array")?;
    let mut map = KeyMap::new();
    let mut duplicates = Vec::new();
    for jwk in keys {
        match jwk_key(jwk) {
            Ok((kid, key)) => {
                if map.insert(kid.clone(), Arc::new(key)).is_some() {
                    duplicates.push(kid);
                }
            }
            Err(reason) => tracing::debug!(%reason, "JWKS key skipped"),
        }
    }
    // Two keys under one kid make the choice ambiguous: trust neither.
    for kid in duplicates {
        tracing::debug!(%kid, "JWKS key skipped: kid appears more than once");
        map.remove(&kid);
    }
    Ok(map)
}

fn jwk_key(jwk: &Value) -> Result<(String, VerifyKey), String> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kid = field("kid").filter(|k| !k.is_empty()).ok_or("no kid")?;
    if field("use").is_some_and(|u| u != "sig") {
        return Err(format!("kid {kid}: use is not sig"));
    }
    if let Some(ops) = jwk.get("key_ops").and_then(Value::as_array) {
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err(format!("kid {kid}: key_ops lacks verify"));
        }
    }
    let (algorithm, key) = match field("kty") {
        Some("RSA") => (Algorithm::RS256, rsa_key(jwk)?),
        Some("EC") if field("crv") == Some("P-256") => (Algorithm::ES256, ec_key(jwk)?),
        other => return Err(format!("kid {kid}: unsupported key type {other:?}")),
    };
    let implied = if algorithm == Algorithm::RS256 {
        "RS256"
    } else {
        "ES256"
    };
    if field("alg").is_some_and(|alg| alg != implied) {
        return Err(format!("kid {kid}: alg does not match the key type"));
    }
    Ok((kid.to_owned(), VerifyKey { algorithm, key }))
}

fn component(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no {name}"))?;
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| format!("{name} is not base64url"))
}

fn rsa_key(jwk: &Value) -> Result<DecodingKey, String> {
    let n = component(jwk, "n")?;
    let e = component(jwk, "e")?;
    let n = strip_leading_zeros(&n);
    let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(format!("RSA modulus of {bits} bits"));
    }
    let e = strip_leading_zeros(&e);
    if e.is_empty() || e.len() > 8 || e.last().is_some_and(|b| b & 1 == 0) {
        return Err("RSA exponent is not a small odd number".to_owned());
    }
    Ok(DecodingKey::from_rsa_raw_components(n, e))
}

fn ec_key(jwk: &Value) -> Result<DecodingKey, String> {
    let x = component(jwk, "x")?;
    let y = component(jwk, "y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err("P-256 coordinates are not 32 bytes".to_owned());
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok(DecodingKey::from_ec_der(&point))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa(kid: &str, bits: usize) -> Value {
        let mut n = vec![0xc5; bits / 8];
        n[0] = 0x80;
        json!({"kty": "RSA", "kid": kid, "n": b64(&n), "e": "AQAB"})
    }

    fn ec(kid: &str) -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(&[1; 32]), "y": b64(&[2; 32])})
    }

    fn parse(keys: Vec<Value>) -> KeyMap {
        parse_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn algorithm_follows_key_type() {
        let map = parse(vec![rsa("r", 2048), ec("e")]);
        assert_eq!(map["r"].algorithm, Algorithm::RS256);
        assert_eq!(map["e"].algorithm, Algorithm::ES256);
    }

    #[test]
    fn unusable_keys_are_left_out() {
        let mut wrong_alg = rsa("wrong-alg", 2048);
        wrong_alg["alg"] = json!("HS256");
        let mut enc = rsa("enc", 2048);
        enc["use"] = json!("enc");
        let mut p384 = ec("p384");
        p384["crv"] = json!("P-384");
        let mut short_x = ec("short-x");
        short_x["x"] = json!(b64(&[1; 31]));
        let mut no_kid = ec("x");
        no_kid.as_object_mut().unwrap().remove("kid");
        let map = parse(vec![
            rsa("weak", 1024),
            rsa("huge", 8192),
            wrong_alg,
            enc,
            p384,
            short_x,
            no_kid,
            json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
            json!({"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(&[3; 32])}),
            json!("not an object"),
            ec("twice"),
            ec("twice"),
            ec("kept"),
        ]);
        assert_eq!(map.keys().collect::<Vec<_>>(), ["kept"]);
    }

    #[test]
    fn not_a_jwks() {
        for body in [&b"not json"[..], b"[]", b"{}", b"{\"keys\":{}}"] {
            assert!(parse_jwks(body).is_err());
        }
    }
}
