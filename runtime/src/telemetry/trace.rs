//! W3C Trace Context: `traceparent` parsing and validation, `tracestate` carried along, and the
//! ids of the server span a call runs in.
//!
//! A valid `traceparent` continues the caller's trace: same trace id, the caller's span as
//! parent, a fresh span id for this call. Anything invalid (or several `traceparent` headers)
//! starts a new trace and drops `tracestate`, as the specification requires.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::hex;

/// The `traceparent` header.
pub const TRACEPARENT_HEADER: HeaderName = HeaderName::from_static("traceparent");
/// The `tracestate` header.
pub const TRACESTATE_HEADER: HeaderName = HeaderName::from_static("tracestate");

/// `traceparent` is this long in version 00 (and at least this long in later versions).
const TRACEPARENT_LEN: usize = 55;
/// Flags this implementation knows: sampled (`01`) and random trace id (`02`); others are
/// cleared when propagating.
const KNOWN_FLAGS: u8 = 0x03;
const SAMPLED: u8 = 0x01;
const RANDOM_TRACE_ID: u8 = 0x02;
/// `tracestate` limits: list members, and the length kept when propagating.
const MAX_TRACESTATE_MEMBERS: usize = 32;
const MAX_TRACESTATE_LEN: usize = 512;
const LONG_TRACESTATE_MEMBER: usize = 128;

/// A 16-byte trace id, never all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

/// An 8-byte span id, never all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId([u8; 8]);

macro_rules! id_impls {
    ($ty:ident, $n:literal) => {
        impl $ty {
            /// The id from its bytes; `None` for all zeros, which is invalid.
            pub fn from_bytes(bytes: [u8; $n]) -> Option<Self> {
                (bytes != [0; $n]).then_some(Self(bytes))
            }

            /// The id's bytes.
            pub fn to_bytes(self) -> [u8; $n] {
                self.0
            }

            /// A random id.
            pub fn random() -> Self {
                loop {
                    if let Some(id) = Self::from_bytes(rand::random()) {
                        return id;
                    }
                }
            }

            fn write_hex(&self, out: &mut [u8]) {
                hex::encode(&self.0, out);
            }
        }

        impl fmt::Display for $ty {
            /// Lowercase hex, as in `traceparent`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut out = [0u8; $n * 2];
                self.write_hex(&mut out);
                // Hex digits are ASCII.
                f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($ty))
            }
        }
    };
}

id_impls!(TraceId, 16);
id_impls!(SpanId, 8);

/// Why a `traceparent` value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceparentError {
    /// Wrong length or separators.
    #[error("traceparent is malformed")]
    Malformed,
    /// A field is not lowercase hex.
    #[error("traceparent has a field that is not lowercase hex")]
    BadHex,
    /// Version `ff`, which the specification forbids.
    #[error("traceparent version ff is invalid")]
    InvalidVersion,
    /// The trace id is all zeros.
    #[error("traceparent trace id is all zeros")]
    ZeroTraceId,
    /// The parent id is all zeros.
    #[error("traceparent parent id is all zeros")]
    ZeroParentId,
}

/// A parsed `traceparent` header value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traceparent {
    /// The format version (`00` today; later versions are read by their version-00 prefix).
    pub version: u8,
    /// The trace.
    pub trace_id: TraceId,
    /// The caller's span.
    pub parent_id: SpanId,
    /// The trace flags, unknown bits cleared.
    pub flags: u8,
}

impl Traceparent {
    /// Parses `value` (optional whitespace around it is ignored).
    ///
    /// Version `00` must be exactly `00-<32 hex>-<16 hex>-<2 hex>`. A later version must
    /// start the same way and may continue after a `-`. Hex must be lowercase; `ff` is not
    /// a version; all-zero ids are invalid.
    pub fn parse(value: &[u8]) -> Result<Self, TraceparentError> {
        let value = trim_ows(value);
        if value.len() < TRACEPARENT_LEN {
            return Err(TraceparentError::Malformed);
        }
        let [version] = hex::decode::<1>(&value[0..2]).ok_or(TraceparentError::BadHex)?;
        if version == 0xff {
            return Err(TraceparentError::InvalidVersion);
        }
        if value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return Err(TraceparentError::Malformed);
        }
        let exact = value.len() == TRACEPARENT_LEN;
        // Version 00 has nothing after the flags; later versions may, after a dash.
        if !exact && (version == 0 || value[TRACEPARENT_LEN] != b'-') {
            return Err(TraceparentError::Malformed);
        }
        let trace_id = hex::decode::<16>(&value[3..35]).ok_or(TraceparentError::BadHex)?;
        let parent_id = hex::decode::<8>(&value[36..52]).ok_or(TraceparentError::BadHex)?;
        let [flags] = hex::decode::<1>(&value[53..55]).ok_or(TraceparentError::BadHex)?;
        Ok(Self {
            version,
            trace_id: TraceId::from_bytes(trace_id).ok_or(TraceparentError::ZeroTraceId)?,
            parent_id: SpanId::from_bytes(parent_id).ok_or(TraceparentError::ZeroParentId)?,
            flags: flags & KNOWN_FLAGS,
        })
    }
}

/// The trace a call belongs to and its own server span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: TraceId,
    parent_id: Option<SpanId>,
    span_id: SpanId,
    flags: u8,
    tracestate: Option<HeaderValue>,
}

impl TraceContext {
    /// Continues the trace of `headers`' `traceparent` (HTTP headers or gRPC metadata alike)
    /// with a new span, carrying a valid `tracestate`; starts a new trace when `traceparent`
    /// is missing, invalid or repeated.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut values = headers.get_all(TRACEPARENT_HEADER).iter();
        let parent = match (values.next(), values.next()) {
            (Some(one), None) => Traceparent::parse(one.as_bytes()).ok(),
            _ => None,
        };
        match parent {
            Some(parent) => Self {
                trace_id: parent.trace_id,
                parent_id: Some(parent.parent_id),
                span_id: SpanId::random(),
                flags: parent.flags,
                tracestate: tracestate(headers),
            },
            None => Self::new_root(false),
        }
    }

    /// A new trace with a random trace id, this call's span at its root.
    pub fn new_root(sampled: bool) -> Self {
        Self {
            trace_id: TraceId::random(),
            parent_id: None,
            span_id: SpanId::random(),
            flags: RANDOM_TRACE_ID | if sampled { SAMPLED } else { 0 },
            tracestate: None,
        }
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// This call's span id (the parent of the calls it makes).
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The caller's span, when the call continued a trace.
    pub fn parent_id(&self) -> Option<SpanId> {
        self.parent_id
    }

    /// The trace flags (sampled `01`, random trace id `02`).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the caller recorded (or asks to record) this trace.
    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The caller's `tracestate`, validated and normalised, if any.
    pub fn tracestate(&self) -> Option<&HeaderValue> {
        self.tracestate.as_ref()
    }

    /// Takes the ids of the span an exporter recorded for this call.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn adopt(&mut self, trace_id: TraceId, span_id: SpanId, sampled: bool) {
        if trace_id != self.trace_id {
            // A new root from the exporter's generator: its ids are random too.
            self.trace_id = trace_id;
            self.flags |= RANDOM_TRACE_ID;
        }
        self.span_id = span_id;
        self.flags = (self.flags & !SAMPLED) | if sampled { SAMPLED } else { 0 };
    }

    /// The `traceparent` for calls made on behalf of this one: version 00, this trace, this
    /// call's span as the parent.
    pub fn traceparent(&self) -> HeaderValue {
        let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
        self.trace_id.write_hex(&mut out[3..35]);
        self.span_id.write_hex(&mut out[36..52]);
        hex::encode(&[self.flags], &mut out[53..55]);
        HeaderValue::from_bytes(&out).expect("hex and dashes are a valid header value")
    }
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Every `tracestate` header joined, validated and normalised; `None` when absent, empty or
/// invalid (a bad member, a repeated key or more than 32 members discard it all).
fn tracestate(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut members: Vec<&[u8]> = Vec::new();
    for value in headers.get_all(TRACESTATE_HEADER) {
        for member in value.as_bytes().split(|b| *b == b',') {
            let member = trim_ows(member);
            if member.is_empty() {
                continue;
            }
            let eq = member.iter().position(|b| *b == b'=')?;
            let (key, value) = (&member[..eq], &member[eq + 1..]);
            if !valid_key(key) || !valid_value(value) {
                return None;
            }
            if members
                .iter()
                .any(|m| m.starts_with(key) && m.get(key.len()) == Some(&b'='))
            {
                return None;
            }
            members.push(member);
        }
    }
    if members.is_empty() || members.len() > MAX_TRACESTATE_MEMBERS {
        return None;
    }
    // Over the propagation limit: drop long members first, then from the end.
    let total = |m: &[&[u8]]| m.iter().map(|x| x.len()).sum::<usize>() + m.len().saturating_sub(1);
    if total(&members) > MAX_TRACESTATE_LEN {
        members.retain(|m| m.len() <= LONG_TRACESTATE_MEMBER);
        while total(&members) > MAX_TRACESTATE_LEN {
            members.pop();
        }
    }
    if members.is_empty() {
        return None;
    }
    HeaderValue::from_bytes(&members.join(&b","[..])).ok()
}

fn key_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/')
}

/// `simple-key` (lowercase letter, then up to 255 key characters) or `tenant@system`.
fn valid_key(key: &[u8]) -> bool {
    match key.iter().position(|b| *b == b'@') {
        None => {
            key.len() <= 256
                && key.first().is_some_and(u8::is_ascii_lowercase)
                && key.iter().all(|c| key_char(*c))
        }
        Some(at) => {
            let (tenant, system) = (&key[..at], &key[at + 1..]);
            (1..=241).contains(&tenant.len())
                && (tenant[0].is_ascii_lowercase() || tenant[0].is_ascii_digit())
                && tenant.iter().all(|c| key_char(*c))
                && (1..=14).contains(&system.len())
                && system[0].is_ascii_lowercase()
                && system.iter().all(|c| key_char(*c))
        }
    }
}

/// 1 to 256 printable ASCII characters other than `,` and `=`, not ending in a space.
fn valid_value(value: &[u8]) -> bool {
    (1..=256).contains(&value.len())
        && value
            .iter()
            .all(|c| (0x20..=0x7e).contains(c) && *c != b',' && *c != b'=')
        && value.last() != Some(&b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    fn parse(s: &str) -> Result<Traceparent, TraceparentError> {
        Traceparent::parse(s.as_bytes())
    }

    fn headers(pairs: &[(&HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append((*name).clone(), HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn version_00_is_parsed_exactly() {
        let tp = parse(&format!("00-{TRACE}-{PARENT}-01")).unwrap();
        assert_eq!(tp.version, 0);
        assert_eq!(tp.trace_id.to_string(), TRACE);
        assert_eq!(tp.parent_id.to_string(), PARENT);
        assert_eq!(tp.flags, 1);
        // Surrounding whitespace is tolerated.
        assert!(parse(&format!(" \t00-{TRACE}-{PARENT}-00 ")).is_ok());
        // Unknown flag bits are cleared.
        assert_eq!(
            parse(&format!("00-{TRACE}-{PARENT}-ff")).unwrap().flags,
            0x03
        );
    }

    #[test]
    fn invalid_values_are_refused() {
        use TraceparentError::*;
        let cases: &[(String, TraceparentError)] = &[
            (format!("00-{TRACE}-{PARENT}-01-extra"), Malformed),
            (format!("00-{TRACE}-{PARENT}-0"), Malformed),
            (format!("00-{TRACE}-{PARENT}01"), Malformed),
            (format!("00-{TRACE}0-{PARENT}-01"), Malformed),
            (format!("00_{TRACE}-{PARENT}-01"), Malformed),
            (format!("00-{TRACE}-{PARENT}-01 x"), Malformed),
            (String::new(), Malformed),
            (format!("ff-{TRACE}-{PARENT}-01"), InvalidVersion),
            (format!("0g-{TRACE}-{PARENT}-01"), BadHex),
            (format!("00-{}-{PARENT}-01", TRACE.to_uppercase()), BadHex),
            (format!("00-{TRACE}-{}-01", PARENT.to_uppercase()), BadHex),
            (format!("00-{TRACE}-{PARENT}-0x"), BadHex),
            (format!("00-{TRACE}-{PARENT}-0A"), BadHex),
            (
                format!("00-4bf92f3577b34da6a3ce929d0e0e473g-{PARENT}-01"),
                BadHex,
            ),
            (format!("00-{}-{PARENT}-01", "0".repeat(32)), ZeroTraceId),
            (format!("00-{TRACE}-{}-01", "0".repeat(16)), ZeroParentId),
        ];
        for (value, expected) in cases {
            assert_eq!(parse(value), Err(*expected), "{value:?}");
        }
    }

    #[test]
    fn future_versions_are_read_by_their_prefix() {
        let tp = parse(&format!("cc-{TRACE}-{PARENT}-01-what-the-future-holds")).unwrap();
        assert_eq!((tp.version, tp.flags), (0xcc, 1));
        assert!(parse(&format!("01-{TRACE}-{PARENT}-00")).is_ok());
        // After the flags, a later version needs a dash.
        assert_eq!(
            parse(&format!("cc-{TRACE}-{PARENT}-01.what")),
            Err(TraceparentError::Malformed)
        );
        assert_eq!(
            parse(&format!("cc-{TRACE}-{PARENT}-0")),
            Err(TraceparentError::Malformed)
        );
    }

    #[test]
    fn a_valid_parent_is_continued_with_a_new_span() {
        let h = headers(&[
            (&TRACEPARENT_HEADER, &format!("00-{TRACE}-{PARENT}-01")),
            (
                &TRACESTATE_HEADER,
                "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7",
            ),
            (&TRACESTATE_HEADER, "tenant@vendor=x"),
        ]);
        let ctx = TraceContext::from_headers(&h);
        assert_eq!(ctx.trace_id().to_string(), TRACE);
        assert_eq!(
            ctx.parent_id().map(|p| p.to_string()).as_deref(),
            Some(PARENT)
        );
        assert_ne!(ctx.span_id().to_string(), PARENT);
        assert!(ctx.sampled());
        assert_eq!(
            ctx.tracestate().unwrap(),
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,tenant@vendor=x"
        );
        let outgoing = ctx.traceparent();
        assert_eq!(
            outgoing.to_str().unwrap(),
            format!("00-{TRACE}-{}-01", ctx.span_id())
        );
        // What we send parses back.
        let back = Traceparent::parse(outgoing.as_bytes()).unwrap();
        assert_eq!(back.parent_id, ctx.span_id());
    }

    #[test]
    fn invalid_or_repeated_parents_start_a_new_trace_without_state() {
        let valid = format!("00-{TRACE}-{PARENT}-01");
        for h in [
            headers(&[(&TRACEPARENT_HEADER, &valid), (&TRACEPARENT_HEADER, &valid)]),
            headers(&[
                (&TRACEPARENT_HEADER, &format!("00-{TRACE}-{PARENT}-01-x")),
                (&TRACESTATE_HEADER, "congo=t61rcWkgMzE"),
            ]),
            headers(&[(&TRACESTATE_HEADER, "congo=t61rcWkgMzE")]),
            HeaderMap::new(),
        ] {
            let ctx = TraceContext::from_headers(&h);
            assert_ne!(ctx.trace_id().to_string(), TRACE);
            assert_eq!(ctx.parent_id(), None);
            assert_eq!(ctx.tracestate(), None);
            assert!(!ctx.sampled());
            assert_eq!(ctx.flags(), RANDOM_TRACE_ID);
        }
        assert!(TraceContext::new_root(true).sampled());
    }

    #[test]
    fn tracestate_rules() {
        let state = |values: &[&str]| {
            let mut h = HeaderMap::new();
            let parent = format!("00-{TRACE}-{PARENT}-00");
            h.insert(TRACEPARENT_HEADER, HeaderValue::from_str(&parent).unwrap());
            for v in values {
                h.append(TRACESTATE_HEADER, HeaderValue::from_str(v).unwrap());
            }
            TraceContext::from_headers(&h)
                .tracestate()
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(state(&["a=1,,  ,b=2"]).as_deref(), Some("a=1,b=2"));
        assert_eq!(state(&["a=1", "a=2"]), None, "duplicate key");
        assert_eq!(state(&["A=1"]), None, "uppercase key");
        assert_eq!(state(&["a=1=2"]), None, "= in value");
        assert_eq!(state(&["a="]), None, "empty value");
        assert_eq!(state(&["novalue"]), None);
        assert_eq!(state(&["1a@sys=1"]).as_deref(), Some("1a@sys=1"));
        assert_eq!(state(&["t@1sys=1"]), None, "system id starts with a letter");
        assert_eq!(state(&["t@systemtoolong12=1"]), None, "system id over 14");
        assert!(state(&["t@systemtoolong1=1"]).is_some());
        assert_eq!(state(&[""]), None);
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(state(&[&many.join(",")]), None, "more than 32 members");
        let thirty_two = many[..32].join(",");
        assert_eq!(state(&[&thirty_two]).as_deref(), Some(thirty_two.as_str()));
        // Over 512 bytes: long members go first, then members from the end.
        let long = format!("long={}", "x".repeat(200));
        let mid: Vec<String> = (0..5)
            .map(|i| format!("m{i}={}", "y".repeat(100)))
            .collect();
        let kept = state(&[&format!("a=1,{long},{}", mid.join(","))]).unwrap();
        assert!(kept.len() <= 512 && !kept.contains("long="), "{kept}");
        assert!(kept.starts_with("a=1,m0="), "{kept}");
        assert!(!kept.contains("m4="), "{kept}");
    }

    #[test]
    fn random_ids_are_valid() {
        for _ in 0..100 {
            let t = TraceId::random();
            assert_eq!(TraceId::from_bytes(t.to_bytes()), Some(t));
        }
        assert_eq!(SpanId::from_bytes([0; 8]), None);
    }
}
