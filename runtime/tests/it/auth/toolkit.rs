//! A token toolkit for authentication tests: test keys, minting, hostile tokens and a JWKS
//! server on 127.0.0.1.
//!
//! How to use it (the over-both-protocols tests build on this):
//! 1. `let jwks = JwksServer::start().await;` serves [`jwks_document`] of [`Key::RsaA`] and
//!    [`Key::EcA`] at `jwks.url()` and counts every request path.
//! 2. `let auth = Authenticator::new(config(Some(&jwks.url())))?;` trusts [`SECRET`] and that
//!    JWKS, requiring [`ISSUER`] and [`AUDIENCE`].
//! 3. Mint valid tokens with [`mint_hs256`], [`mint_rs256`], [`mint_es256`] over
//!    [`claims`]; send them as `authorization: Bearer <token>`.
//! 4. Every token of [`hostile_tokens`]`(&jwks.base())` must fail with `UNAUTHENTICATED`, and
//!    afterwards `jwks.hits_except("/jwks.json")` must be zero: no header URL was followed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use tacos_runtime::auth::AuthConfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The HS256 secret the test configuration trusts (32 bytes).
pub const SECRET: &str = "tacos-test-secret-0123456789abcd";
/// The required issuer.
pub const ISSUER: &str = "https://issuer.tacos.test/";
/// The accepted audience.
pub const AUDIENCE: &str = "tacos-gateway";
/// The `kid` of [`Key::RsaA`] in the JWKS.
pub const KID_RSA: &str = "rsa-a";
/// The `kid` of [`Key::EcA`] in the JWKS.
pub const KID_EC: &str = "ec-a";
/// The `kid` [`Key::RsaB`] is published under by rotation tests.
pub const KID_RSA_ROTATED: &str = "rsa-b";

/// Checked-in test keys (generated with openssl for these tests only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// RSA 2048, published as [`KID_RSA`].
    RsaA,
    /// RSA 2048, unpublished unless a test rotates it in.
    RsaB,
    /// P-256, published as [`KID_EC`].
    EcA,
    /// P-256, never published: the attacker's key.
    EcB,
}

impl Key {
    fn der(self) -> &'static [u8] {
        match self {
            Key::RsaA => include_bytes!("../../keys/rsa_a.der"),
            Key::RsaB => include_bytes!("../../keys/rsa_b.der"),
            Key::EcA => include_bytes!("../../keys/ec_a.der"),
            Key::EcB => include_bytes!("../../keys/ec_b.der"),
        }
    }

    fn is_rsa(self) -> bool {
        matches!(self, Key::RsaA | Key::RsaB)
    }

    /// The algorithm the key signs with.
    pub fn algorithm(self) -> Algorithm {
        if self.is_rsa() {
            Algorithm::RS256
        } else {
            Algorithm::ES256
        }
    }

    /// The private key for signing.
    pub fn encoding_key(self) -> EncodingKey {
        if self.is_rsa() {
            EncodingKey::from_rsa_der(self.der())
        } else {
            EncodingKey::from_ec_der(self.der())
        }
    }

    /// The public key as a JWK with `kid`.
    pub fn jwk(self, kid: &str) -> Value {
        let utils = &DEFAULT_PROVIDER.key_utils;
        if self.is_rsa() {
            let (n, e) = (utils.rsa_pub_components_from_private_key)(self.der()).unwrap();
            json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                   "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)})
        } else {
            let (_, x, y) =
                (utils.ec_pub_components_from_private_key)(self.der(), Algorithm::ES256).unwrap();
            json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
                   "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)})
        }
    }

    /// The RSA public key in PEM (what algorithm-confusion attacks use as an HMAC key).
    pub fn public_pem(self) -> &'static str {
        match self {
            Key::RsaA => include_str!("../../keys/rsa_a.pub.pem"),
            Key::RsaB => include_str!("../../keys/rsa_b.pub.pem"),
            _ => panic!("only RSA keys have a PEM here"),
        }
    }
}

/// The published key set: [`Key::RsaA`] as [`KID_RSA`], [`Key::EcA`] as [`KID_EC`].
pub fn jwks_document() -> Value {
    json!({"keys": [Key::RsaA.jwk(KID_RSA), Key::EcA.jwk(KID_EC)]})
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid claims for `sub`: issuer, audience, ten minutes of life, roles and scopes.
pub fn claims(sub: &str) -> Value {
    json!({
        "sub": sub,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now(),
        "exp": now() + 600,
        "roles": ["buyer"],
        "scope": "queue:join reservations:write",
        "tenant": "traffic-tacos",
    })
}

/// An AuthConfig trusting [`SECRET`] and, when given, the JWKS at `jwks_url`, requiring
/// [`ISSUER`] and [`AUDIENCE`].
pub fn config(jwks_url: Option<&str>) -> AuthConfig {
    let mut vars = HashMap::from([
        ("JWT_SECRET", SECRET.to_owned()),
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
    ]);
    if let Some(url) = jwks_url {
        vars.insert("JWT_JWKS_URL", url.to_owned());
    }
    AuthConfig::from_lookup(&move |k| vars.get(k).cloned())
        .expect("valid test configuration")
        .expect("auth configured")
}

/// An HMAC signing key over `bytes`.
pub fn hmac_key(bytes: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(bytes).expect("non-empty HMAC key")
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Signs `header.payload` (both raw base64url segments) and appends the signature.
pub fn sign_segments(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{header}.{payload}");
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

/// A token with any JSON `header` (hostile ones included) over `claims`, signed with `alg`.
pub fn mint(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    sign_segments(&b64_json(header), &b64_json(claims), key, alg)
}

/// An HS256 token with [`SECRET`].
pub fn mint_hs256(claims: &Value) -> String {
    let key = hmac_key(SECRET.as_bytes());
    mint(
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        &key,
        Algorithm::HS256,
    )
}

/// An RS256 token by [`Key::RsaA`] under [`KID_RSA`].
pub fn mint_rs256(claims: &Value) -> String {
    mint_with(Key::RsaA, KID_RSA, claims)
}

/// An ES256 token by [`Key::EcA`] under [`KID_EC`].
pub fn mint_es256(claims: &Value) -> String {
    mint_with(Key::EcA, KID_EC, claims)
}

/// A token by `key` announced under `kid`.
pub fn mint_with(key: Key, kid: &str, claims: &Value) -> String {
    let alg = key.algorithm();
    let name = if alg == Algorithm::RS256 {
        "RS256"
    } else {
        "ES256"
    };
    mint(
        &json!({"alg": name, "typ": "JWT", "kid": kid}),
        claims,
        &key.encoding_key(),
        alg,
    )
}

/// The P-256 group order.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `n - s` over 32 big-endian bytes.
fn negate_mod_order(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = P256_ORDER[i] as i16 - s[i] as i16 - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// Replaces an ES256 token's signature bytes with `f(r || s)`.
pub fn with_es256_signature(token: &str, f: impl FnOnce(Vec<u8>) -> Vec<u8>) -> String {
    let (message, signature) = token.rsplit_once('.').unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(f(bytes)))
}

/// The same ES256 token with its signature's other valid twin `(r, n - s)`.
pub fn es256_twin(token: &str) -> String {
    with_es256_signature(token, |mut sig| {
        let twin = negate_mod_order(&sig[32..]);
        sig[32..].copy_from_slice(&twin);
        sig
    })
}

/// Whether an ES256 token's `s` is in the upper half of the order.
pub fn es256_is_high_s(token: &str) -> bool {
    let signature = URL_SAFE_NO_PAD
        .decode(token.rsplit_once('.').unwrap().1)
        .unwrap();
    let s = &signature[32..];
    s > &negate_mod_order(s)[..]
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let mut value: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if value.first().is_some_and(|b| b & 0x80 != 0) {
        value.insert(0, 0);
    }
    let mut out = vec![0x02, value.len() as u8];
    out.extend(value);
    out
}

/// Tokens that must all be rejected by an authenticator built from [`config`] with the JWKS
/// server's URL; `server` is that server's base URL (header URLs point at it so a test can
/// see they were never fetched).
pub fn hostile_tokens(server: &str) -> Vec<(&'static str, String)> {
    let good = claims("mallory");
    let secret = hmac_key(SECRET.as_bytes());
    let hs = |header: Value, claims: &Value| mint(&header, claims, &secret, Algorithm::HS256);
    let hs_claims = |edit: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        edit(&mut c);
        mint_hs256(&c)
    };
    let rs = mint_rs256(&good);
    let es = mint_es256(&good);
    let mut out: Vec<(&'static str, String)> = Vec::new();

    // `alg: none` in several spellings, unsigned and with a signature attached.
    for (name, alg) in [
        ("alg none", "none"),
        ("alg None", "None"),
        ("alg NONE", "NONE"),
        ("alg nOnE", "nOnE"),
    ] {
        let unsigned = format!(
            "{}.{}.",
            b64_json(&json!({"alg": alg, "typ": "JWT"})),
            b64_json(&good)
        );
        out.push((name, unsigned.clone()));
        out.push((
            name,
            format!("{unsigned}{}", rs.rsplit_once('.').unwrap().1),
        ));
        let with_kid = format!(
            "{}.{}.",
            b64_json(&json!({"alg": alg, "kid": KID_RSA})),
            b64_json(&good)
        );
        out.push((name, with_kid));
    }
    out.push(("alg empty", hs(json!({"alg": ""}), &good)));
    out.push(("alg missing", hs(json!({"typ": "JWT"}), &good)));
    out.push(("alg HS512", {
        let key = hmac_key(SECRET.as_bytes());
        mint(&json!({"alg": "HS512"}), &good, &key, Algorithm::HS512)
    }));

    // Algorithm confusion: HS256 keyed with the RSA public key, announced under its kid.
    for material in [
        Key::RsaA.public_pem().as_bytes().to_vec(),
        Key::RsaA.public_pem().trim_end().as_bytes().to_vec(),
    ] {
        let key = hmac_key(&material);
        out.push((
            "HS256 keyed with the RSA public key",
            mint(
                &json!({"alg": "HS256", "kid": KID_RSA}),
                &good,
                &key,
                Algorithm::HS256,
            ),
        ));
        out.push((
            "HS256 keyed with the RSA public key, no kid",
            mint(&json!({"alg": "HS256"}), &good, &key, Algorithm::HS256),
        ));
    }
    let n = URL_SAFE_NO_PAD
        .decode(Key::RsaA.jwk(KID_RSA)["n"].as_str().unwrap())
        .unwrap();
    out.push((
        "HS256 keyed with the RSA modulus",
        mint(
            &json!({"alg": "HS256", "kid": KID_RSA}),
            &good,
            &hmac_key(&n),
            Algorithm::HS256,
        ),
    ));
    out.push(("RS256 without kid (secret expects HS256)", {
        mint(
            &json!({"alg": "RS256"}),
            &good,
            &Key::RsaA.encoding_key(),
            Algorithm::RS256,
        )
    }));
    out.push((
        "ES256 token under the RSA kid",
        mint(
            &json!({"alg": "ES256", "kid": KID_RSA}),
            &good,
            &Key::EcA.encoding_key(),
            Algorithm::ES256,
        ),
    ));
    out.push((
        "RS256 token under the EC kid",
        mint(
            &json!({"alg": "RS256", "kid": KID_EC}),
            &good,
            &Key::RsaA.encoding_key(),
            Algorithm::RS256,
        ),
    ));

    // Tampering and foreign signatures.
    let tamper = |token: &str| {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut c = good.clone();
        c["sub"] = json!("admin");
        c["roles"] = json!(["admin"]);
        parts[1] = b64_json(&c);
        parts.join(".")
    };
    out.push(("tampered payload (HS256)", tamper(&mint_hs256(&good))));
    out.push(("tampered payload (RS256)", tamper(&rs)));
    out.push(("tampered payload (ES256)", tamper(&es)));
    for (name, token) in [
        ("truncated signature (HS256)", mint_hs256(&good)),
        ("truncated signature (RS256)", rs.clone()),
        ("truncated signature (ES256)", es.clone()),
    ] {
        out.push((name, token[..token.len() - 8].to_owned()));
    }
    out.push((
        "HS256 by another secret",
        mint(
            &json!({"alg": "HS256"}),
            &good,
            &hmac_key(b"another-secret-another-secret-xx"),
            Algorithm::HS256,
        ),
    ));
    out.push(("RS256 by another key", mint_with(Key::RsaB, KID_RSA, &good)));
    out.push(("ES256 by another key", mint_with(Key::EcB, KID_EC, &good)));

    // Time.
    out.push(("expired", hs_claims(&|c| c["exp"] = json!(now() - 3600))));
    out.push(("expired (RS256)", {
        let mut c = good.clone();
        c["exp"] = json!(now() - 3600);
        mint_rs256(&c)
    }));
    out.push((
        "not yet valid",
        hs_claims(&|c| c["nbf"] = json!(now() + 3600)),
    ));
    out.push((
        "exp missing",
        hs_claims(&|c| {
            c.as_object_mut().unwrap().remove("exp");
        }),
    ));
    out.push(("exp a string", hs_claims(&|c| c["exp"] = json!("tomorrow"))));
    out.push(("exp negative", hs_claims(&|c| c["exp"] = json!(-1))));

    // Issuer and audience.
    for (name, iss) in [
        ("wrong issuer", json!("https://evil.test/")),
        (
            "look-alike issuer (suffix)",
            json!("https://issuer.tacos.test.evil/"),
        ),
        (
            "look-alike issuer (no slash)",
            json!("https://issuer.tacos.test"),
        ),
        (
            "look-alike issuer (case)",
            json!("https://ISSUER.tacos.test/"),
        ),
        ("issuer not a string", json!(7)),
    ] {
        out.push((name, hs_claims(&|c| c["iss"] = iss.clone())));
    }
    out.push((
        "issuer missing",
        hs_claims(&|c| {
            c.as_object_mut().unwrap().remove("iss");
        }),
    ));
    for (name, aud) in [
        ("wrong audience", json!("tacos-payment")),
        ("look-alike audience (suffix)", json!("tacos-gatewayx")),
        ("look-alike audience (space)", json!("tacos-gateway ")),
        ("wrong audience list", json!(["a", "b"])),
        ("audience not a string", json!(1)),
    ] {
        out.push((name, hs_claims(&|c| c["aud"] = aud.clone())));
    }
    out.push((
        "audience missing",
        hs_claims(&|c| {
            c.as_object_mut().unwrap().remove("aud");
        }),
    ));

    // Subject and roles.
    out.push((
        "sub missing",
        hs_claims(&|c| {
            c.as_object_mut().unwrap().remove("sub");
        }),
    ));
    out.push(("sub not a string", hs_claims(&|c| c["sub"] = json!(42))));
    out.push((
        "roles not an array",
        hs_claims(&|c| c["roles"] = json!("admin")),
    ));

    // Key ids.
    out.push(("unknown kid", mint_with(Key::RsaA, "no-such-kid", &good)));
    for (name, kid) in [
        ("kid path traversal", json!("../../../../etc/passwd")),
        ("kid SQL-ish", json!("' OR '1'='1' --")),
        ("kid long", json!("k".repeat(300))),
        ("kid huge", json!("k".repeat(9000))),
        ("kid number", json!(42)),
        ("kid array", json!([KID_RSA])),
        ("kid object", json!({"kid": KID_RSA})),
        ("kid empty", json!("")),
        ("kid NUL", json!("rsa-a\u{0}")),
    ] {
        out.push((
            name,
            mint(
                &json!({"alg": "RS256", "kid": kid}),
                &good,
                &Key::RsaA.encoding_key(),
                Algorithm::RS256,
            ),
        ));
    }

    // Keys and URLs in the header: never trusted, never fetched.
    let attacker = Key::EcB.jwk("attacker");
    out.push((
        "embedded jwk",
        mint(
            &json!({"alg": "ES256", "jwk": attacker}),
            &good,
            &Key::EcB.encoding_key(),
            Algorithm::ES256,
        ),
    ));
    out.push((
        "embedded jwk under a published kid",
        mint(
            &json!({"alg": "ES256", "kid": KID_EC, "jwk": attacker}),
            &good,
            &Key::EcB.encoding_key(),
            Algorithm::ES256,
        ),
    ));
    for (name, field, path) in [("jku", "jku", "/jku.json"), ("x5u", "x5u", "/x5u.pem")] {
        let _ = name;
        out.push((
            if field == "jku" {
                "jku header"
            } else {
                "x5u header"
            },
            mint(
                &json!({"alg": "RS256", "kid": "attacker", field: format!("{server}{path}")}),
                &good,
                &Key::RsaB.encoding_key(),
                Algorithm::RS256,
            ),
        ));
        out.push((
            if field == "jku" {
                "jku header under a published kid"
            } else {
                "x5u header under a published kid"
            },
            mint(
                &json!({"alg": "RS256", "kid": KID_RSA, field: format!("{server}{path}")}),
                &good,
                &Key::RsaB.encoding_key(),
                Algorithm::RS256,
            ),
        ));
    }
    out.push((
        "x5c header",
        mint(
            &json!({"alg": "RS256", "x5c": [STANDARD.encode(Key::RsaB.der())]}),
            &good,
            &Key::RsaB.encoding_key(),
            Algorithm::RS256,
        ),
    ));

    // Header extensions and types.
    out.push((
        "crit",
        hs(json!({"alg": "HS256", "crit": ["exp"], "exp": 1}), &good),
    ));
    out.push((
        "crit b64",
        hs(json!({"alg": "HS256", "crit": ["b64"], "b64": true}), &good),
    ));
    out.push((
        "b64 false",
        hs(json!({"alg": "HS256", "b64": false}), &good),
    ));
    out.push((
        "typ dpop+jwt",
        hs(json!({"alg": "HS256", "typ": "dpop+jwt"}), &good),
    ));
    out.push(("typ JWE", hs(json!({"alg": "HS256", "typ": "JWE"}), &good)));

    // Malformed segments.
    let hs_token = mint_hs256(&good);
    let segs: Vec<&str> = hs_token.split('.').collect();
    out.push(("two segments", format!("{}.{}", segs[0], segs[1])));
    out.push(("four segments", format!("{hs_token}.{}", segs[2])));
    out.push(("five segments (JWE shape)", format!("{hs_token}.a.b")));
    out.push(("one segment", segs[0].to_owned()));
    out.push(("empty", String::new()));
    out.push(("dots only", "..".to_owned()));
    out.push(("bad base64 header", format!("!!!.{}.{}", segs[1], segs[2])));
    out.push((
        "padded base64 header",
        format!("{}==.{}.{}", segs[0], segs[1], segs[2]),
    ));
    out.push((
        "signature in padded standard base64",
        format!(
            "{}.{}.{}",
            segs[0],
            segs[1],
            STANDARD.encode(URL_SAFE_NO_PAD.decode(segs[2]).unwrap())
        ),
    ));
    out.push(("bad base64 payload", format!("{}.%%%.{}", segs[0], segs[2])));
    out.push((
        "bad base64 signature",
        format!("{}.{}.@@", segs[0], segs[1]),
    ));
    out.push((
        "non-JSON header",
        sign_segments(
            &URL_SAFE_NO_PAD.encode("alg=HS256"),
            segs[1],
            &secret,
            Algorithm::HS256,
        ),
    ));
    out.push((
        "non-JSON payload",
        sign_segments(
            segs[0],
            &URL_SAFE_NO_PAD.encode("sub=admin"),
            &secret,
            Algorithm::HS256,
        ),
    ));
    out.push((
        "JSON array header",
        sign_segments(
            &b64_json(&json!(["HS256", null, "JWT"])),
            segs[1],
            &secret,
            Algorithm::HS256,
        ),
    ));
    out.push((
        "JSON array payload",
        sign_segments(
            segs[0],
            &b64_json(&json!(["mallory", now() + 600])),
            &secret,
            Algorithm::HS256,
        ),
    ));
    out.push((
        "JSON string payload",
        sign_segments(
            segs[0],
            &b64_json(&json!("mallory")),
            &secret,
            Algorithm::HS256,
        ),
    ));
    out.push((
        "trailing garbage after payload JSON",
        sign_segments(
            segs[0],
            &URL_SAFE_NO_PAD.encode(format!("{good}}}")),
            &secret,
            Algorithm::HS256,
        ),
    ));
    out.push((
        "oversized payload",
        hs_claims(&|c| c["blob"] = json!("x".repeat(20_000))),
    ));
    out.push(("deeply nested payload", {
        let nested = format!("{}{}", "[".repeat(2500), "]".repeat(2500));
        let payload = format!(
            r#"{{"sub":"mallory","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{},"n":{nested}}}"#,
            now() + 600
        );
        sign_segments(
            segs[0],
            &URL_SAFE_NO_PAD.encode(payload),
            &secret,
            Algorithm::HS256,
        )
    }));

    // ECDSA signature forms.
    out.push((
        "ES256 signature DER-encoded",
        with_es256_signature(&es, |sig| {
            let mut body = der_integer(&sig[..32]);
            body.extend(der_integer(&sig[32..]));
            let mut der = vec![0x30, body.len() as u8];
            der.extend(body);
            der
        }),
    ));
    out.push((
        "ES256 signature s = 0",
        with_es256_signature(&es, |mut sig| {
            sig[32..].fill(0);
            sig
        }),
    ));
    out.push((
        "ES256 signature s = n",
        with_es256_signature(&es, |mut sig| {
            sig[32..].copy_from_slice(&P256_ORDER);
            sig
        }),
    ));
    out.push((
        "ES256 signature r = 0",
        with_es256_signature(&es, |mut sig| {
            sig[..32].fill(0);
            sig
        }),
    ));
    out.push((
        "ES256 signature padded to 65 bytes",
        with_es256_signature(&es, |mut sig| {
            sig.insert(0, 0);
            sig
        }),
    ));
    out
}

/// A JWKS server on 127.0.0.1 that counts requests by path. It serves the current document at
/// `/jwks.json`, a JWKS of the attacker's key at every other path (so a verifier that followed
/// a header URL would be caught by the count), or nothing while "down".
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
    task: JoinHandle<()>,
}

struct ServerState {
    document: Value,
    hits: HashMap<String, usize>,
    status: u16,
}

impl JwksServer {
    /// Starts serving [`jwks_document`].
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ServerState {
            document: jwks_document(),
            hits: HashMap::new(),
            status: 200,
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let state = state.clone();
                        async move {
                            let mut state = state.lock().unwrap();
                            let path = req.uri().path().to_owned();
                            *state.hits.entry(path.clone()).or_default() += 1;
                            let body = if path == "/jwks.json" {
                                state.document.to_string()
                            } else {
                                json!({"keys": [Key::RsaB.jwk("attacker"), Key::EcB.jwk("attacker")]})
                                    .to_string()
                            };
                            let response = http::Response::builder()
                                .status(state.status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The JWKS URL.
    pub fn url(&self) -> String {
        format!("{}/jwks.json", self.base())
    }

    /// Replaces the served document (key rotation).
    pub fn set_document(&self, document: Value) {
        self.state.lock().unwrap().document = document;
    }

    /// Makes every answer use `status` (500 simulates a broken endpoint).
    pub fn set_status(&self, status: u16) {
        self.state.lock().unwrap().status = status;
    }

    /// Requests for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Requests for any path other than `path`.
    pub fn hits_except(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .iter()
            .filter(|(p, _)| p.as_str() != path)
            .map(|(_, n)| n)
            .sum()
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
