//! `reservation.v1.ReservationService`: seat holds for admitted buyers, confirm, cancel,
//! extend, list.
//!
//! Creating a reservation needs the reservation token a waiting-room admission issued. The
//! token is consumed exactly once, and only after the request passed every check that could
//! make it a client mistake (unknown event or seat, bad quantity, seats taken): a buyer who
//! got one of those wrong keeps their place and can try again.

use std::sync::Arc;

use tacos_runtime::waiting_room::{ConsumeOutcome, WaitingRoom};
use tacos_runtime::{Request, Response, Status};
use traffic_tacos_contracts::reservation::v1::{
    CancelReservationRequest, CancelReservationResponse, ConfirmReservationRequest,
    ConfirmReservationResponse, CreateReservationRequest, CreateReservationResponse,
    ExtendHoldRequest, ExtendHoldResponse, GetReservationRequest, GetReservationResponse,
    ListReservationsRequest, ListReservationsResponse, ReservationService, ReservationStatus,
};

use crate::errors;
use crate::payments::PaymentLookup;
use crate::store::{Begin, HoldRequest, ReservationStore};

/// Serves `reservation.v1.ReservationService` over a [`ReservationStore`].
#[derive(Debug)]
pub struct ReservationHandler<P> {
    store: ReservationStore,
    room: Arc<WaitingRoom>,
    payments: P,
}

impl<P: PaymentLookup> ReservationHandler<P> {
    /// A handler holding seats in `store`, checking reservation tokens in `room` and payments
    /// through `payments`.
    pub fn new(store: ReservationStore, room: Arc<WaitingRoom>, payments: P) -> Self {
        Self {
            store,
            room,
            payments,
        }
    }

    /// Consumes the buyer's reservation token; `Ok` only on its first (or an idempotent) use.
    async fn consume_token(&self, req: &CreateReservationRequest) -> Result<(), Status> {
        let consumed = if req.idempotency_key.is_empty() {
            self.room
                .consume(&req.reservation_token, &req.event_id, &req.user_id)
                .await
        } else {
            self.room
                .consume_idempotent(
                    &req.reservation_token,
                    &req.event_id,
                    &req.user_id,
                    &req.idempotency_key,
                )
                .await
        }
        .map_err(errors::waiting_room)?;
        match consumed {
            ConsumeOutcome::Consumed => Ok(()),
            ConsumeOutcome::AlreadyUsed => {
                Err(errors::forbidden("the reservation token was already used"))
            }
            ConsumeOutcome::Expired => Err(errors::forbidden("the reservation token expired")),
            ConsumeOutcome::Invalid => Err(errors::forbidden(
                "the reservation token is not valid for this event and user",
            )),
        }
    }
}

// An internal service: buyers reach it only through the gateway, which authenticates them and
// checks that they act for themselves, so its methods are public on the service network.
#[tacos_runtime::service(contract = "reservation.v1.ReservationService")]
impl<P: PaymentLookup> ReservationService for ReservationHandler<P> {
    #[tacos(public, timeout = "5s")]
    async fn create_reservation(
        &self,
        request: Request<CreateReservationRequest>,
    ) -> Result<Response<CreateReservationResponse>, Status> {
        let req = request.into_message();
        errors::required("event_id", &req.event_id)?;
        errors::required("user_id", &req.user_id)?;
        if req.reservation_token.is_empty() {
            return Err(errors::forbidden(
                "a reservation token from the waiting room is required",
            ));
        }
        let begun = self.store.begin_hold(HoldRequest {
            event_id: req.event_id.clone(),
            seat_ids: req.seat_ids.clone(),
            quantity: req.quantity,
            user_id: req.user_id.clone(),
            idempotency_key: req.idempotency_key.clone(),
            metadata: req.metadata.clone(),
        })?;
        let pending = match begun {
            Begin::Existing(created) => return Ok(Response::new(created)),
            Begin::Pending(pending) => pending,
        };
        // Every client mistake was ruled out above; only now is the token spent. If it is
        // refused, dropping `pending` gives the seats back.
        self.consume_token(&req).await?;
        Ok(Response::new(pending.commit()?))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn get_reservation(
        &self,
        request: Request<GetReservationRequest>,
    ) -> Result<Response<GetReservationResponse>, Status> {
        let req = request.into_message();
        let reservation = self.store.get(&req.reservation_id, &req.user_id)?;
        Ok(Response::new(GetReservationResponse {
            reservation: Some(reservation),
            error: None,
        }))
    }

    #[tacos(public, timeout = "5s", idempotent)]
    async fn confirm_reservation(
        &self,
        request: Request<ConfirmReservationRequest>,
    ) -> Result<Response<ConfirmReservationResponse>, Status> {
        let req = request.into_message();
        // Ownership and state first, so a wrong user hears that, not a payment lookup failure.
        if let Some(done) = self.store.check_confirmable(
            &req.reservation_id,
            &req.user_id,
            &req.payment_intent_id,
        )? {
            return Ok(Response::new(done));
        }
        let facts = self.payments.payment(&req.payment_intent_id).await?;
        let confirmed = self.store.confirm(
            &req.reservation_id,
            &req.user_id,
            &req.payment_intent_id,
            &facts,
        )?;
        Ok(Response::new(confirmed))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn cancel_reservation(
        &self,
        request: Request<CancelReservationRequest>,
    ) -> Result<Response<CancelReservationResponse>, Status> {
        let req = request.into_message();
        let cancelled = self.store.cancel(&req.reservation_id, &req.user_id)?;
        if !req.reason.is_empty() {
            tracing::info!(reservation = %req.reservation_id, reason = %req.reason, "cancelled");
        }
        Ok(Response::new(cancelled))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn list_reservations(
        &self,
        request: Request<ListReservationsRequest>,
    ) -> Result<Response<ListReservationsResponse>, Status> {
        let req = request.into_message();
        let status = ReservationStatus::try_from(req.status)
            .map_err(|_| errors::invalid("status", format!("unknown status {}", req.status)))?;
        let (page, size) = req.pagination.map_or((1, 0), |p| (p.page, p.page_size));
        Ok(Response::new(self.store.list(
            &req.user_id,
            status,
            &req.event_id,
            page,
            size,
        )?))
    }

    #[tacos(public, timeout = "2s")]
    async fn extend_hold(
        &self,
        request: Request<ExtendHoldRequest>,
    ) -> Result<Response<ExtendHoldResponse>, Status> {
        let req = request.into_message();
        Ok(Response::new(self.store.extend(
            &req.reservation_id,
            &req.user_id,
            req.extension_seconds,
            &req.idempotency_key,
        )?))
    }
}
