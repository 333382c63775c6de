//! The seam between the room's API and its stores.
//!
//! Each backend implements the same small set of atomic operations; the room adds validation,
//! ETAs and the mapping onto public types. Every operation first evicts a bounded number of
//! lapsed heartbeats, so abandoned users leave the queue without a sweeper and no call does
//! unbounded work.

use futures::future::BoxFuture;
use tokio::sync::broadcast;

use super::config::EventConfig;
use super::error::WaitingRoomError;
use super::types::ConsumeOutcome;

/// Result type of backend operations.
pub(crate) type BackendResult<T> = Result<T, WaitingRoomError>;

/// Where one waiting token stands, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenState {
    /// In the queue at 1-based `position`; the heartbeat lapses at `expires_ms`.
    Waiting { position: u64, expires_ms: u64 },
    /// Admitted; the grant is valid until `valid_until_ms`.
    Admitted { valid_until_ms: u64 },
    /// Left on request, or its reservation token was used.
    Left,
    /// Heartbeat lapsed, or the grant ran out unused.
    Expired,
    /// Never issued here, or forgotten long ago.
    Unknown,
}

/// A token's state plus what an ETA needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Observed {
    /// The token's state.
    pub state: TokenState,
    /// Admissions granted during the rate window.
    pub admitted_in_window: u64,
}

/// What a join returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Joined {
    /// The visitor's token: the fresh one, or the one it already holds.
    pub token: String,
    /// `Waiting` or `Admitted`.
    pub observed: Observed,
}

/// What an admission request returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdmitOutcome {
    /// Granted now or earlier and still valid.
    Granted {
        reservation_token: String,
        valid_until_ms: u64,
    },
    /// Outside the admission window.
    NotYourTurn,
    /// The event's token bucket is empty.
    RateLimited,
    /// Lapsed or grant ran out.
    Expired,
    /// Left or already used its reservation.
    Left,
    /// Unknown token or another user's.
    Invalid,
}

/// Raw per-event figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawStats {
    pub waiting: u64,
    pub admitted: u64,
    pub total_wait_ms: u64,
    pub admitted_in_window: u64,
}

/// Arguments of a join.
pub(crate) struct JoinArgs<'a> {
    pub event: &'a str,
    /// Stored identity (`u:<id>` or `s:<id>`): dedupe key.
    pub visitor_key: &'a str,
    /// The bare user or session id a reservation token is bound to.
    pub visitor_id: &'a str,
    /// The token to issue if the visitor holds none.
    pub new_token: &'a str,
    pub config: &'a EventConfig,
}

/// Arguments of an admission request.
pub(crate) struct AdmitArgs<'a> {
    pub event: &'a str,
    pub token: &'a str,
    /// When non-empty, must match the id the token was issued to.
    pub user_id: &'a str,
    /// The reservation token to issue if this call grants.
    pub new_reservation_token: &'a str,
    pub config: &'a EventConfig,
}

/// Arguments of consuming a reservation token.
pub(crate) struct ConsumeArgs<'a> {
    pub event: &'a str,
    pub reservation_token: &'a str,
    pub user_id: &'a str,
    /// Unique per logical call: a resent call with the same nonce gets the same answer.
    pub nonce: &'a str,
}

/// A queue store. All operations are atomic and cost O(log N) in the queue size.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Joins, or returns the visitor's existing place.
    fn join<'a>(&'a self, args: JoinArgs<'a>) -> BoxFuture<'a, BackendResult<Joined>>;

    /// Looks up tokens of one event, renewing the heartbeats of those still waiting.
    fn status<'a>(
        &'a self,
        event: &'a str,
        tokens: &'a [String],
        config: &'a EventConfig,
    ) -> BoxFuture<'a, BackendResult<Vec<Observed>>>;

    /// Grants admission if the token is inside the window and the bucket has a token.
    fn admit<'a>(&'a self, args: AdmitArgs<'a>) -> BoxFuture<'a, BackendResult<AdmitOutcome>>;

    /// Uses a reservation token once.
    fn consume<'a>(&'a self, args: ConsumeArgs<'a>)
        -> BoxFuture<'a, BackendResult<ConsumeOutcome>>;

    /// Removes a token from the queue (or gives up its grant); true if this call did it.
    fn leave<'a>(&'a self, event: &'a str, token: &'a str) -> BoxFuture<'a, BackendResult<bool>>;

    /// Figures for one event.
    fn stats<'a>(&'a self, event: &'a str) -> BoxFuture<'a, BackendResult<RawStats>>;

    /// Events with activity recently (bounded list).
    fn active_events(&self) -> BoxFuture<'_, BackendResult<Vec<String>>>;

    /// Notices that positions in `event` may have changed (one shared feed per event).
    fn changes(&self, event: &str) -> broadcast::Receiver<()>;
}
