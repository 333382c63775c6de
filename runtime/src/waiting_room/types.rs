//! Plain result types of the waiting room; the gateway maps them onto its contract messages.

use std::time::{Duration, SystemTime};

/// Where a waiting token stands (maps onto the contract's `QueueStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueStatus {
    /// In the queue, waiting for its turn.
    Waiting,
    /// Admitted: holds a reservation token that is still valid.
    Ready,
    /// Removed because its heartbeat lapsed, or its grant ran out unused.
    Expired,
    /// Left the queue on request, or its reservation token was used.
    Left,
}

/// Outcome of an admission request (maps onto the contract's `AdmissionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdmissionStatus {
    /// A reservation token was issued (or the valid one is returned again).
    Granted,
    /// Not now; [`DenialReason`] says why.
    Denied,
    /// The waiting token lapsed or its grant ran out.
    Expired,
    /// The token is unknown, malformed, or belongs to another event or user.
    Invalid,
}

/// Why an admission was not granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialReason {
    /// The token is not inside the admission window at the head yet.
    NotYourTurn,
    /// The event's admission rate is used up for now; retry shortly.
    RateLimited,
    /// The token lapsed (heartbeat missed) or the grant ran out unused.
    Expired,
    /// The token is unknown, malformed, or was issued for another event or user.
    InvalidToken,
    /// The token left the queue or its reservation token was already used.
    NoLongerQueued,
}

impl DenialReason {
    /// A short, stable, lower-case explanation for clients.
    pub fn message(self) -> &'static str {
        match self {
            Self::NotYourTurn => "not yet your turn: wait until you reach the admission window",
            Self::RateLimited => "admission rate reached for this event: retry shortly",
            Self::Expired => "waiting token expired",
            Self::InvalidToken => "unknown or invalid waiting token",
            Self::NoLongerQueued => "waiting token is no longer in the queue",
        }
    }
}

/// Who is joining: a signed-in user or an anonymous session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Visitor {
    /// An authenticated user id.
    User(String),
    /// An anonymous session id.
    Session(String),
}

impl Visitor {
    /// Picks the user id when present, the session id otherwise (as the contract's join request
    /// carries both); `None` when both are empty.
    pub fn from_ids(user_id: &str, session_id: &str) -> Option<Self> {
        if !user_id.is_empty() {
            Some(Self::User(user_id.to_owned()))
        } else if !session_id.is_empty() {
            Some(Self::Session(session_id.to_owned()))
        } else {
            None
        }
    }

    /// The identity as stored: distinct prefixes keep a user id and an equal session id apart.
    pub(crate) fn key(&self) -> String {
        match self {
            Self::User(id) => format!("u:{id}"),
            Self::Session(id) => format!("s:{id}"),
        }
    }
}

/// Result of a join (maps onto `JoinQueueResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinTicket {
    /// The waiting token to poll, stream and request admission with.
    pub waiting_token: String,
    /// 1-based position at the time of the call; 0 when already admitted.
    pub position: u64,
    /// Estimated seconds until admission.
    pub eta_seconds: u64,
    /// `Waiting`, or `Ready` when a retried join finds the token already admitted.
    pub status: QueueStatus,
    /// When the place lapses unless renewed by a status call.
    pub expires_at: SystemTime,
}

/// Result of a status call (maps onto `GetQueueStatusResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatusView {
    /// Where the token stands.
    pub status: QueueStatus,
    /// 1-based position among those still waiting; 0 when not waiting.
    pub position: u64,
    /// Estimated seconds until admission; 0 when not waiting.
    pub eta_seconds: u64,
    /// True when an admission request may be granted now (inside the window, or admitted).
    pub admission_ready: bool,
    /// When the place (or the grant, once admitted) lapses; `None` for unknown tokens.
    pub expires_at: Option<SystemTime>,
}

/// Result of an admission request (maps onto `RequestAdmissionResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// Granted, denied, expired or invalid.
    pub status: AdmissionStatus,
    /// Why it was not granted; `None` when granted.
    pub reason: Option<DenialReason>,
    /// The single-use reservation token (empty unless granted).
    pub reservation_token: String,
    /// Seconds the reservation token stays valid (0 unless granted).
    pub ttl_seconds: u64,
    /// When the reservation token stops being valid (`None` unless granted).
    pub valid_until: Option<SystemTime>,
}

/// Outcome of consuming a reservation token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsumeOutcome {
    /// First use: the reservation may proceed.
    Consumed,
    /// The token was already used once.
    AlreadyUsed,
    /// The token ran out before it was used.
    Expired,
    /// Unknown, malformed, or issued for another event or user.
    Invalid,
}

/// Outcome of leaving the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaveOutcome {
    /// True when this call removed the token from the queue (false if it was already gone).
    pub left: bool,
    /// When it happened.
    pub left_at: SystemTime,
}

/// Statistics of one event's queue (maps onto `EventQueueStats`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventStats {
    /// The event.
    pub event_id: String,
    /// Users currently waiting.
    pub total_waiting: u64,
    /// Users admitted since the queue started.
    pub total_admitted: u64,
    /// Admissions during the last minute.
    pub admission_rate_per_minute: u64,
    /// Mean seconds from join to admission over all admissions.
    pub average_wait_seconds: u64,
    /// When these figures were read.
    pub last_updated: SystemTime,
}

/// Statistics across every active event (maps onto `SystemQueueStats`).
#[derive(Debug, Clone, PartialEq)]
pub struct SystemStats {
    /// Events with recent activity.
    pub total_active_queues: u64,
    /// Users waiting across those events.
    pub total_waiting_users: u64,
    /// Users admitted across those events.
    pub total_admitted_users: u64,
    /// Admissions of the last minute as a percentage of the configured admission capacity.
    pub system_capacity_percentage: u64,
    /// Mean admissions per minute over the active events.
    pub average_admission_rate: f32,
    /// Per-event figures the totals were computed from.
    pub events: Vec<EventStats>,
    /// When these figures were read.
    pub last_updated: SystemTime,
}

/// What changed for a watched token (maps onto the contract's `QueueEventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueUpdateKind {
    /// The position or ETA changed.
    PositionChanged,
    /// The token may request admission now (or was admitted).
    AdmissionReady,
    /// The token expired or left; the stream ends after this update.
    TokenExpired,
}

/// One live update for a watched token (maps onto the contract's `QueueUpdate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUpdate {
    /// The watched token.
    pub waiting_token: String,
    /// What changed.
    pub kind: QueueUpdateKind,
    /// The token's state after the change.
    pub status: QueueStatus,
    /// 1-based position; 0 when not waiting.
    pub position: u64,
    /// Estimated seconds until admission.
    pub eta_seconds: u64,
    /// True when an admission request may be granted now.
    pub admission_ready: bool,
    /// When the place lapses unless renewed.
    pub expires_at: Option<SystemTime>,
}

/// Milliseconds since the Unix epoch as a `SystemTime`.
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

/// The current time in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
