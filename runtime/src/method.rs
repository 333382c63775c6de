//! Static facts about methods: their names and shape ([`MethodInfo`]) and the policy a handler
//! declares for them ([`MethodPolicy`]).

use std::time::Duration;

/// The streaming shape of a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStreaming,
    /// A stream of requests, one response.
    ClientStreaming,
    /// Streams both ways.
    BidiStreaming,
}

/// What calling a method twice does, from the contract's `idempotency_level` method option
/// (`option idempotency_level = NO_SIDE_EFFECTS;`). Generated clients retry methods that are
/// safe to repeat and shadow only those without side effects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Not declared: the method may change something each time it runs.
    #[default]
    Unknown,
    /// Repeating the call leaves the same state as calling once (a cancel).
    Idempotent,
    /// The call changes nothing (a read).
    NoSideEffects,
}

impl Idempotency {
    /// Whether a failed call may be sent again.
    pub const fn safe_to_repeat(self) -> bool {
        !matches!(self, Idempotency::Unknown)
    }

    /// Whether the call changes nothing, so it may also be sent somewhere else to compare.
    pub const fn side_effect_free(self) -> bool {
        matches!(self, Idempotency::NoSideEffects)
    }
}

/// Names and shape of one RPC, emitted as a `const` table per service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodInfo {
    /// Fully qualified service name, `pkg.v1.Library`.
    pub service: &'static str,
    /// Method name as in the contract, `GetBook`.
    pub name: &'static str,
    /// The gRPC path, `/pkg.v1.Library/GetBook`.
    pub path: &'static str,
    /// Streaming shape.
    pub kind: MethodKind,
    /// What repeating the call does, as the contract declares it.
    pub idempotency: Idempotency,
}

/// What a handler declares about one method (through the service attribute macro).
///
/// The runtime enforces [`timeout`](Self::timeout) today: the handler's deadline is the earlier of
/// the client's deadline and `now + timeout`. The other fields are recorded for the auth,
/// idempotency and rate-limit layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodPolicy {
    /// Callable without authentication.
    pub public: bool,
    /// Roles of which the caller needs at least one.
    pub roles: &'static [&'static str],
    /// Scopes the caller needs, all of them.
    pub scopes: &'static [&'static str],
    /// Safe to retry; `Idempotency-Key` replays apply.
    pub idempotent: bool,
    /// The rate-limit class, when the method has its own.
    pub rate_class: Option<&'static str>,
    /// The longest the handler may run.
    pub timeout: Option<Duration>,
}

impl MethodPolicy {
    /// The policy of a method that declares nothing.
    pub const DEFAULT: MethodPolicy = MethodPolicy {
        public: false,
        roles: &[],
        scopes: &[],
        idempotent: false,
        rate_class: None,
        timeout: None,
    };
}

impl Default for MethodPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}
