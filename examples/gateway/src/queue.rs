//! `gateway.v1.QueueService` over the runtime's waiting room.
//!
//! The handler only translates: contract messages in, [`WaitingRoom`] calls, contract messages
//! out. Failures become statuses through [`crate::errors`]; outcomes a valid request can have
//! (an admission that is not granted yet, a token that expired) are answers, reported in the
//! response's status fields and its in-band `error`.

use std::time::SystemTime;

use tacos_runtime::waiting_room::{
    self as wr, Admission, DenialReason, EventStats, SystemStats, Visitor, WaitingRoom,
};
use tacos_runtime::{Request, Response, Status};
use traffic_tacos_contracts::common::v1::ErrorCode;
use traffic_tacos_contracts::gateway::v1::{
    AdmissionStatus, EventQueueStats, GetQueueStatsRequest, GetQueueStatsResponse,
    GetQueueStatusRequest, GetQueueStatusResponse, JoinQueueRequest, JoinQueueResponse,
    LeaveQueueRequest, LeaveQueueResponse, QueueService, QueueStatus, RequestAdmissionRequest,
    RequestAdmissionResponse, SystemQueueStats,
};

use crate::errors;

/// Serves the waiting room.
#[derive(Debug, Clone)]
pub struct QueueHandler {
    room: WaitingRoom,
}

impl QueueHandler {
    /// A handler over `room`.
    pub fn new(room: WaitingRoom) -> Self {
        Self { room }
    }
}

#[tacos_runtime::service(contract = "gateway.v1.QueueService")]
impl QueueService for QueueHandler {
    #[tacos(public, timeout = "2s", rate = "queue-join")]
    async fn join_queue(
        &self,
        request: Request<JoinQueueRequest>,
    ) -> Result<Response<JoinQueueResponse>, Status> {
        let req = request.into_message();
        if req.event_id.is_empty() {
            return Err(errors::invalid("event_id", "an event id is required"));
        }
        let visitor = Visitor::from_ids(&req.user_id, &req.session_id)
            .ok_or_else(|| errors::invalid("user_id", "a user_id or session_id is required"))?;
        let ticket = self
            .room
            .join(&req.event_id, &visitor)
            .await
            .map_err(errors::waiting_room)?;
        Ok(Response::new(JoinQueueResponse {
            waiting_token: ticket.waiting_token,
            position_hint: clamp(ticket.position),
            eta_seconds: clamp(ticket.eta_seconds),
            status: queue_status(ticket.status) as i32,
            expires_at: Some(ticket.expires_at.into()),
            error: None,
        }))
    }

    #[tacos(public, timeout = "2s", rate = "queue-poll")]
    async fn get_queue_status(
        &self,
        request: Request<GetQueueStatusRequest>,
    ) -> Result<Response<GetQueueStatusResponse>, Status> {
        let token = request.into_message().waiting_token;
        if token.is_empty() {
            return Err(errors::invalid(
                "waiting_token",
                "a waiting token is required",
            ));
        }
        let view = self
            .room
            .status(&token)
            .await
            .map_err(errors::waiting_room)?;
        let error = match view.status {
            wr::QueueStatus::Expired => Some(errors::in_band(
                ErrorCode::FailedPrecondition,
                DenialReason::Expired.message(),
            )),
            wr::QueueStatus::Left => Some(errors::in_band(
                ErrorCode::FailedPrecondition,
                DenialReason::NoLongerQueued.message(),
            )),
            wr::QueueStatus::Waiting | wr::QueueStatus::Ready => None,
        };
        Ok(Response::new(GetQueueStatusResponse {
            status: queue_status(view.status) as i32,
            position: clamp(view.position),
            eta_seconds: clamp(view.eta_seconds),
            admission_ready: view.admission_ready,
            expires_at: view.expires_at.map(Into::into),
            error,
        }))
    }

    #[tacos(public, timeout = "2s", rate = "queue-admission")]
    async fn request_admission(
        &self,
        request: Request<RequestAdmissionRequest>,
    ) -> Result<Response<RequestAdmissionResponse>, Status> {
        let req = request.into_message();
        if req.waiting_token.is_empty() {
            return Err(errors::invalid(
                "waiting_token",
                "a waiting token is required",
            ));
        }
        let admission = self
            .room
            .request_admission(&req.waiting_token, &req.event_id, &req.user_id)
            .await
            .map_err(errors::waiting_room)?;
        Ok(Response::new(admission_response(admission)))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn leave_queue(
        &self,
        request: Request<LeaveQueueRequest>,
    ) -> Result<Response<LeaveQueueResponse>, Status> {
        let req = request.into_message();
        if req.waiting_token.is_empty() {
            return Err(errors::invalid(
                "waiting_token",
                "a waiting token is required",
            ));
        }
        let outcome = self
            .room
            .leave(&req.waiting_token)
            .await
            .map_err(errors::waiting_room)?;
        Ok(Response::new(LeaveQueueResponse {
            success: outcome.left,
            left_at: Some(outcome.left_at.into()),
            error: (!outcome.left).then(|| {
                errors::in_band(
                    ErrorCode::FailedPrecondition,
                    DenialReason::NoLongerQueued.message(),
                )
            }),
        }))
    }

    #[tacos(timeout = "5s", idempotent, roles("admin", "operator"))]
    async fn get_queue_stats(
        &self,
        request: Request<GetQueueStatsRequest>,
    ) -> Result<Response<GetQueueStatsResponse>, Status> {
        let event_id = request.into_message().event_id;
        let response = if event_id.is_empty() {
            let system = self
                .room
                .system_stats()
                .await
                .map_err(errors::waiting_room)?;
            system_response(system)
        } else {
            let stats = self
                .room
                .stats(&event_id)
                .await
                .map_err(errors::waiting_room)?;
            GetQueueStatsResponse {
                events: vec![event_stats(stats)],
                system: None,
                error: None,
            }
        };
        Ok(Response::new(response))
    }
}

/// The contract's status for a waiting-room status.
pub fn queue_status(status: wr::QueueStatus) -> QueueStatus {
    match status {
        wr::QueueStatus::Waiting => QueueStatus::Waiting,
        wr::QueueStatus::Ready => QueueStatus::Ready,
        wr::QueueStatus::Expired => QueueStatus::Expired,
        wr::QueueStatus::Left => QueueStatus::Left,
    }
}

/// Contract counters are `int32`; real figures never get near the limit, but saturate anyway.
pub fn clamp(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn admission_response(admission: Admission) -> RequestAdmissionResponse {
    let status = match admission.status {
        wr::AdmissionStatus::Granted => AdmissionStatus::Granted,
        wr::AdmissionStatus::Denied => AdmissionStatus::Denied,
        wr::AdmissionStatus::Expired => AdmissionStatus::Expired,
        wr::AdmissionStatus::Invalid => AdmissionStatus::Invalid,
    };
    let error = admission.reason.map(|reason| {
        let code = match reason {
            DenialReason::RateLimited => ErrorCode::RateLimited,
            DenialReason::InvalidToken => ErrorCode::InvalidArgument,
            DenialReason::NotYourTurn | DenialReason::Expired | DenialReason::NoLongerQueued => {
                ErrorCode::FailedPrecondition
            }
        };
        errors::in_band_field(code, reason.message(), "waiting_token", "")
    });
    RequestAdmissionResponse {
        admission: status as i32,
        reservation_token: admission.reservation_token,
        ttl_seconds: clamp(admission.ttl_seconds),
        valid_until: admission.valid_until.map(Into::into),
        error,
    }
}

fn event_stats(stats: EventStats) -> EventQueueStats {
    EventQueueStats {
        event_id: stats.event_id,
        total_waiting: clamp(stats.total_waiting),
        total_admitted: clamp(stats.total_admitted),
        admission_rate_per_minute: clamp(stats.admission_rate_per_minute),
        average_wait_time_seconds: clamp(stats.average_wait_seconds),
        last_updated: Some(stats.last_updated.into()),
    }
}

fn system_response(system: SystemStats) -> GetQueueStatsResponse {
    let summary = SystemQueueStats {
        total_active_queues: clamp(system.total_active_queues),
        total_waiting_users: clamp(system.total_waiting_users),
        total_admitted_users: clamp(system.total_admitted_users),
        system_capacity_percentage: clamp(system.system_capacity_percentage),
        average_admission_rate: system.average_admission_rate,
        last_updated: Some(system.last_updated.into()),
    };
    GetQueueStatsResponse {
        events: system.events.into_iter().map(event_stats).collect(),
        system: Some(summary),
        error: None,
    }
}

/// A protobuf timestamp for now.
pub fn now() -> prost_types::Timestamp {
    SystemTime::now().into()
}
