//! `reservation.v1.InventoryService`: seat-level reads and operations over the same store the
//! reservation service uses, for trusted internal callers (workers, operators).
//!
//! `ReserveSeat` holds seats without a waiting-room token, so it must not be exposed to buyers;
//! buyers go through `ReservationService.CreateReservation`.

use std::time::SystemTime;

use tacos_runtime::{Code, Request, Response, Status};
use traffic_tacos_contracts::reservation::v1::{
    CheckAvailabilityRequest, CheckAvailabilityResponse, CommitReservationRequest,
    CommitReservationResponse, CommitStatus, GetInventoryStatusRequest, GetInventoryStatusResponse,
    HoldStatus, InventoryService, ReleaseHoldRequest, ReleaseHoldResponse, ReleaseStatus,
    ReservationStatus, ReserveSeatRequest, ReserveSeatResponse,
};

use crate::errors;
use crate::payments::PaymentLookup;
use crate::store::{Begin, HoldRequest, ReservationStore};

/// Serves `reservation.v1.InventoryService` over a [`ReservationStore`].
#[derive(Debug)]
pub struct InventoryHandler<P> {
    store: ReservationStore,
    payments: P,
}

impl<P: PaymentLookup> InventoryHandler<P> {
    /// A handler over `store`, checking payments through `payments` before a commit.
    pub fn new(store: ReservationStore, payments: P) -> Self {
        Self { store, payments }
    }
}

// An internal service: buyers reach it only through the gateway, which authenticates them and
// checks that they act for themselves, so its methods are public on the service network.
#[tacos_runtime::service(contract = "reservation.v1.InventoryService")]
impl<P: PaymentLookup> InventoryService for InventoryHandler<P> {
    #[tacos(public, timeout = "2s", idempotent)]
    async fn check_availability(
        &self,
        request: Request<CheckAvailabilityRequest>,
    ) -> Result<Response<CheckAvailabilityResponse>, Status> {
        let req = request.into_message();
        Ok(Response::new(self.store.availability(
            &req.event_id,
            &req.seat_ids,
            req.quantity,
            &req.section,
        )?))
    }

    #[tacos(public, timeout = "2s")]
    async fn reserve_seat(
        &self,
        request: Request<ReserveSeatRequest>,
    ) -> Result<Response<ReserveSeatResponse>, Status> {
        let req = request.into_message();
        let created = match self.store.begin_hold(HoldRequest {
            event_id: req.event_id,
            seat_ids: req.seat_ids,
            quantity: req.quantity,
            user_id: req.user_id,
            idempotency_key: req.idempotency_key,
            metadata: None,
        })? {
            Begin::Existing(created) => created,
            Begin::Pending(pending) => pending.commit()?,
        };
        Ok(Response::new(ReserveSeatResponse {
            hold_id: created.reservation_id,
            reserved_seats: created.reserved_seats,
            hold_expires_at: created.hold_expires_at,
            status: HoldStatus::Active as i32,
            error: None,
        }))
    }

    #[tacos(public, timeout = "5s", idempotent)]
    async fn commit_reservation(
        &self,
        request: Request<CommitReservationRequest>,
    ) -> Result<Response<CommitReservationResponse>, Status> {
        let req = request.into_message();
        let done = match self.store.check_confirmable(
            &req.reservation_id,
            &req.user_id,
            &req.payment_intent_id,
        )? {
            Some(done) => done,
            None => {
                let facts = self.payments.payment(&req.payment_intent_id).await?;
                self.store.confirm(
                    &req.reservation_id,
                    &req.user_id,
                    &req.payment_intent_id,
                    &facts,
                )?
            }
        };
        Ok(Response::new(CommitReservationResponse {
            order_id: done.order_id,
            sold_seats: done.confirmed_seats,
            status: CommitStatus::Success as i32,
            committed_at: done.confirmed_at,
            error: None,
        }))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn release_hold(
        &self,
        request: Request<ReleaseHoldRequest>,
    ) -> Result<Response<ReleaseHoldResponse>, Status> {
        let req = request.into_message();
        errors::required("reservation_id", &req.reservation_id)?;
        let now = Some(SystemTime::now().into());
        let before = match self.store.get(&req.reservation_id, "") {
            Ok(r) => r,
            Err(s) if s.code() == Code::NotFound => {
                return Ok(Response::new(ReleaseHoldResponse {
                    status: ReleaseStatus::NotFound as i32,
                    released_at: now,
                    ..Default::default()
                }))
            }
            Err(s) => return Err(s),
        };
        if !req.event_id.is_empty() && req.event_id != before.event_id {
            return Err(errors::invalid(
                "event_id",
                format!("reservation {} is for another event", req.reservation_id),
            ));
        }
        let already = [ReservationStatus::Cancelled, ReservationStatus::Expired]
            .map(|s| s as i32)
            .contains(&before.status);
        if already {
            return Ok(Response::new(ReleaseHoldResponse {
                status: ReleaseStatus::AlreadyReleased as i32,
                released_at: before.updated_at,
                ..Default::default()
            }));
        }
        let cancelled = self.store.cancel(&req.reservation_id, "")?;
        Ok(Response::new(ReleaseHoldResponse {
            released_seats: cancelled.released_seats,
            status: ReleaseStatus::Success as i32,
            released_at: cancelled.cancelled_at,
            error: None,
        }))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn get_inventory_status(
        &self,
        request: Request<GetInventoryStatusRequest>,
    ) -> Result<Response<GetInventoryStatusResponse>, Status> {
        let req = request.into_message();
        Ok(Response::new(
            self.store.inventory(&req.event_id, &req.section)?,
        ))
    }
}
