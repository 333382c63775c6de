//! `gateway.v1.GatewayService`: the buyer-facing API in front of reservations and payments.
//!
//! The handler checks what only the edge can check (admission proof, required fields), then
//! forwards to a [`Ticketing`] backend in the backend contracts' messages. A reservation needs
//! the reservation token a granted admission issued; the reservation service consumes it, once,
//! and only for a request it can fulfil. A retry with the same `idempotency_key` gets the same
//! reservation back.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tacos_runtime::auth::Authenticator;
use tacos_runtime::waiting_room::WaitingRoom;
use tacos_runtime::{Code, Principal, Request, Response, Status};
use traffic_tacos_contracts::common::v1::ErrorCode;
use traffic_tacos_contracts::gateway::v1::{
    CancelReservationRequest, CancelReservationResponse, ConfirmReservationRequest,
    ConfirmReservationResponse, CreatePaymentIntentRequest, CreatePaymentIntentResponse,
    CreateReservationRequest, CreateReservationResponse, GatewayService,
    GetEventAvailabilityRequest, GetEventAvailabilityResponse, GetPaymentStatusRequest,
    GetPaymentStatusResponse, GetReservationRequest, GetReservationResponse, HealthCheckRequest,
    HealthCheckResponse, HealthStatus, ServiceHealth, UserContext, ValidateTokenRequest,
    ValidateTokenResponse,
};
use traffic_tacos_contracts::payment::v1 as pay;
use traffic_tacos_contracts::reservation::v1 as res;

use crate::backend::Ticketing;
use crate::errors;
use crate::identity;

/// Serves the gateway API over a ticketing backend.
pub struct GatewayHandler<T> {
    room: WaitingRoom,
    backend: Arc<T>,
    auth: Option<Authenticator>,
}

impl<T> std::fmt::Debug for GatewayHandler<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayHandler")
            .field("auth", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

impl<T> GatewayHandler<T> {
    /// A handler admitting through `room` and forwarding to `backend`.
    pub fn new(room: WaitingRoom, backend: Arc<T>) -> Self {
        Self {
            room,
            backend,
            auth: None,
        }
    }

    /// Answers `ValidateToken` with `auth`, the verifier the server authenticates with.
    pub fn with_authenticator(mut self, auth: Authenticator) -> Self {
        self.auth = Some(auth);
        self
    }
}

/// What `ValidateToken` says about a valid token: its user, scopes and expiry.
fn token_response(principal: &Principal) -> ValidateTokenResponse {
    let text = |name: &str| {
        principal
            .claim(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let attributes = principal
        .claims
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "sub" | "roles" | "scope" | "scp"))
        .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
        .collect();
    let expires_at = principal
        .claim("exp")
        .and_then(serde_json::Value::as_i64)
        .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 });
    ValidateTokenResponse {
        valid: true,
        user: Some(UserContext {
            user_id: principal.subject.clone(),
            username: text("preferred_username"),
            email: text("email"),
            roles: principal.roles.clone(),
            attributes,
        }),
        scopes: principal.scopes.clone(),
        expires_at,
        error: None,
    }
}

fn required(field: &str, value: &str) -> Result<(), Status> {
    if value.is_empty() {
        Err(errors::invalid(field, format!("{field} is required")))
    } else {
        Ok(())
    }
}

fn forbidden(message: &str) -> Status {
    errors::status(Code::PermissionDenied, ErrorCode::Forbidden, message)
}

fn health(ok: bool, started: Instant) -> ServiceHealth {
    ServiceHealth {
        status: if ok {
            HealthStatus::Healthy
        } else {
            HealthStatus::Unhealthy
        } as i32,
        response_time_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        last_check: Some(SystemTime::now().into()),
    }
}

#[tacos_runtime::service(contract = "gateway.v1.GatewayService")]
impl<T: Ticketing> GatewayService for GatewayHandler<T> {
    #[tacos(public, timeout = "2s", idempotent)]
    async fn health_check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let wanted = request.into_message().service;
        let mut services = std::collections::HashMap::new();
        if wanted.is_empty() || wanted == "waiting-room" {
            // The waiting room's store (Redis when configured) answers a stats read.
            let started = Instant::now();
            let ok = self.room.system_stats().await.is_ok();
            services.insert("waiting-room".to_owned(), health(ok, started));
        }
        let started = Instant::now();
        for (name, ok) in self.backend.health().await {
            if wanted.is_empty() || wanted == name {
                services.insert(name, health(ok, started));
            }
        }
        if services.is_empty() {
            return Err(errors::not_found(format!("no service named {wanted}")));
        }
        let healthy = HealthStatus::Healthy as i32;
        let status = if services.values().all(|s| s.status == healthy) {
            HealthStatus::Healthy
        } else if services.values().any(|s| s.status == healthy) {
            HealthStatus::Degraded
        } else {
            HealthStatus::Unhealthy
        };
        Ok(Response::new(HealthCheckResponse {
            status: status as i32,
            services,
            timestamp: Some(SystemTime::now().into()),
            error: None,
        }))
    }

    #[tacos(public, timeout = "2s")]
    async fn validate_token(
        &self,
        request: Request<ValidateTokenRequest>,
    ) -> Result<Response<ValidateTokenResponse>, Status> {
        let req = request.into_message();
        required("token", &req.token)?;
        let Some(auth) = &self.auth else {
            return Err(errors::status(
                Code::Unimplemented,
                ErrorCode::Unauthenticated,
                "this gateway has no token verifier configured",
            ));
        };
        let principal = match auth.verify_token(&req.token).await {
            Ok(principal) => principal,
            // The verifier's keys cannot be fetched: a server problem, not an invalid token.
            Err(failure) if failure.status().code() == Code::Unavailable => {
                return Err(failure.status())
            }
            // Why a token failed is logged by the verifier, never returned.
            Err(_) => {
                return Ok(Response::new(ValidateTokenResponse {
                    valid: false,
                    error: Some(errors::in_band(
                        ErrorCode::Unauthenticated,
                        "the token is not valid",
                    )),
                    ..ValidateTokenResponse::default()
                }))
            }
        };
        if !req.required_scope.is_empty() && !principal.scopes.contains(&req.required_scope) {
            return Ok(Response::new(ValidateTokenResponse {
                valid: false,
                scopes: principal.scopes.clone(),
                error: Some(errors::in_band(
                    ErrorCode::Forbidden,
                    "the token lacks the required scope",
                )),
                ..ValidateTokenResponse::default()
            }));
        }
        Ok(Response::new(token_response(&principal)))
    }

    #[tacos(public, timeout = "2s", idempotent, rate = "browse")]
    async fn get_event_availability(
        &self,
        request: Request<GetEventAvailabilityRequest>,
    ) -> Result<Response<GetEventAvailabilityResponse>, Status> {
        let req = request.into_message();
        required("event_id", &req.event_id)?;
        if req.quantity < 0 {
            return Err(errors::invalid("quantity", "must not be negative"));
        }
        let inventory = self
            .backend
            .inventory_status(res::GetInventoryStatusRequest {
                event_id: req.event_id,
                section: req.section,
            })
            .await?;
        let sections: Vec<res::SectionInventory> = inventory
            .sections
            .into_iter()
            .filter(|s| s.available_seats >= req.quantity)
            .collect();
        Ok(Response::new(GetEventAvailabilityResponse {
            total_available: sections.iter().map(|s| s.available_seats).sum(),
            event: inventory.event,
            sections,
            error: None,
        }))
    }

    #[tacos(timeout = "5s", rate = "reserve")]
    async fn create_reservation(
        &self,
        request: Request<CreateReservationRequest>,
    ) -> Result<Response<CreateReservationResponse>, Status> {
        let (mut req, context) = request.into_parts();
        identity::act_as(&context, &mut req.user_id)?;
        required("event_id", &req.event_id)?;
        required("user_id", &req.user_id)?;
        if req.reservation_token.is_empty() {
            return Err(forbidden(
                "a reservation token from the waiting room is required",
            ));
        }
        // The reservation service spends the token, and only on a request that can succeed.
        let metadata = req.metadata.map(|m| res::ReservationMetadata {
            source: "gateway".to_owned(),
            user_agent: m.user_agent,
            ip_address: m.ip_address,
            session_id: m.session_id,
            tags: m.headers,
        });
        let created = self
            .backend
            .create_reservation(res::CreateReservationRequest {
                event_id: req.event_id,
                seat_ids: req.seat_ids,
                quantity: req.quantity,
                user_id: req.user_id,
                reservation_token: req.reservation_token,
                idempotency_key: req.idempotency_key,
                metadata,
            })
            .await?;
        Ok(Response::new(CreateReservationResponse {
            reservation_id: created.reservation_id,
            status: created.status,
            hold_expires_at: created.hold_expires_at,
            reserved_seats: created.reserved_seats,
            total_amount: created.total_amount,
            payment_url: created.payment_url,
            error: created.error,
        }))
    }

    #[tacos(timeout = "2s", idempotent)]
    async fn get_reservation(
        &self,
        request: Request<GetReservationRequest>,
    ) -> Result<Response<GetReservationResponse>, Status> {
        let (mut req, context) = request.into_parts();
        identity::act_as(&context, &mut req.user_id)?;
        required("reservation_id", &req.reservation_id)?;
        let found = self
            .backend
            .get_reservation(res::GetReservationRequest {
                reservation_id: req.reservation_id,
                user_id: req.user_id,
            })
            .await?;
        Ok(Response::new(GetReservationResponse {
            reservation: found.reservation,
            error: found.error,
        }))
    }

    #[tacos(timeout = "5s")]
    async fn confirm_reservation(
        &self,
        request: Request<ConfirmReservationRequest>,
    ) -> Result<Response<ConfirmReservationResponse>, Status> {
        let (mut req, context) = request.into_parts();
        identity::act_as(&context, &mut req.user_id)?;
        required("reservation_id", &req.reservation_id)?;
        required("payment_intent_id", &req.payment_intent_id)?;
        let confirmed = self
            .backend
            .confirm_reservation(res::ConfirmReservationRequest {
                reservation_id: req.reservation_id,
                payment_intent_id: req.payment_intent_id,
                user_id: req.user_id,
                idempotency_key: req.idempotency_key,
            })
            .await?;
        Ok(Response::new(ConfirmReservationResponse {
            order_id: confirmed.order_id,
            status: confirmed.status,
            confirmed_at: confirmed.confirmed_at,
            confirmed_seats: confirmed.confirmed_seats,
            error: confirmed.error,
        }))
    }

    #[tacos(timeout = "5s", idempotent)]
    async fn cancel_reservation(
        &self,
        request: Request<CancelReservationRequest>,
    ) -> Result<Response<CancelReservationResponse>, Status> {
        let (mut req, context) = request.into_parts();
        identity::act_as(&context, &mut req.user_id)?;
        required("reservation_id", &req.reservation_id)?;
        let cancelled = self
            .backend
            .cancel_reservation(res::CancelReservationRequest {
                reservation_id: req.reservation_id,
                user_id: req.user_id,
                reason: req.reason,
                idempotency_key: req.idempotency_key,
            })
            .await?;
        Ok(Response::new(CancelReservationResponse {
            status: cancelled.status,
            cancelled_at: cancelled.cancelled_at,
            released_seats: cancelled.released_seats,
            error: cancelled.error,
        }))
    }

    #[tacos(timeout = "5s", rate = "pay")]
    async fn create_payment_intent(
        &self,
        request: Request<CreatePaymentIntentRequest>,
    ) -> Result<Response<CreatePaymentIntentResponse>, Status> {
        let (mut req, context) = request.into_parts();
        identity::act_as(&context, &mut req.user_id)?;
        required("reservation_id", &req.reservation_id)?;
        required("user_id", &req.user_id)?;
        let intent = self
            .backend
            .create_payment_intent(pay::CreatePaymentIntentRequest {
                reservation_id: req.reservation_id,
                amount: req.amount,
                user_id: req.user_id,
                method: req.method,
                scenario: req.scenario,
                webhook_url: req.webhook_url,
                idempotency_key: req.idempotency_key,
                metadata: None,
            })
            .await?;
        Ok(Response::new(CreatePaymentIntentResponse {
            payment_intent_id: intent.payment_intent_id,
            status: intent.status,
            client_secret: intent.client_secret,
            payment_url: intent.payment_url,
            expires_at: intent.expires_at,
            error: intent.error,
        }))
    }

    #[tacos(timeout = "2s", idempotent)]
    async fn get_payment_status(
        &self,
        request: Request<GetPaymentStatusRequest>,
    ) -> Result<Response<GetPaymentStatusResponse>, Status> {
        let (mut req, context) = request.into_parts();
        identity::act_as(&context, &mut req.user_id)?;
        required("payment_intent_id", &req.payment_intent_id)?;
        let found = self
            .backend
            .get_payment_status(pay::GetPaymentStatusRequest {
                payment_intent_id: req.payment_intent_id,
                user_id: req.user_id,
            })
            .await?;
        Ok(Response::new(GetPaymentStatusResponse {
            payment: found.payment,
            error: found.error,
        }))
    }

    #[tacos(timeout = "10s", rate = "pay")]
    async fn process_payment(
        &self,
        request: Request<pay::ProcessPaymentRequest>,
    ) -> Result<Response<pay::ProcessPaymentResponse>, Status> {
        let req = request.into_message();
        required("payment_intent_id", &req.payment_intent_id)?;
        Ok(Response::new(self.backend.process_payment(req).await?))
    }
}
