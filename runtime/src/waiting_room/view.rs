//! From stored token states to the public views.

use super::backend::{Observed, TokenState};
use super::config::{eta_seconds, EventConfig};
use super::types::{from_millis, QueueStatus, QueueStatusView};

/// The public view of an observed token. Unknown tokens read as expired here; the room turns
/// them into a not-found error where the caller asked about one directly.
pub(crate) fn view_of(seen: &Observed, config: &EventConfig) -> QueueStatusView {
    match seen.state {
        TokenState::Waiting {
            position,
            expires_ms,
        } => QueueStatusView {
            status: QueueStatus::Waiting,
            position,
            eta_seconds: eta_seconds(position, seen.admitted_in_window, config),
            admission_ready: position <= u64::from(config.admission_window),
            expires_at: Some(from_millis(expires_ms)),
        },
        TokenState::Admitted { valid_until_ms } => QueueStatusView {
            status: QueueStatus::Ready,
            position: 0,
            eta_seconds: 0,
            admission_ready: true,
            expires_at: Some(from_millis(valid_until_ms)),
        },
        TokenState::Left => finished(QueueStatus::Left),
        TokenState::Expired | TokenState::Unknown => finished(QueueStatus::Expired),
    }
}

fn finished(status: QueueStatus) -> QueueStatusView {
    QueueStatusView {
        status,
        position: 0,
        eta_seconds: 0,
        admission_ready: false,
        expires_at: None,
    }
}
