//! In-process reservations, inventory and payments behind [`Ticketing`].
//!
//! One mutex guards the whole state, so a seat is never held twice: concurrent reservations
//! for the last seats see each other's holds. Holds lapse at their expiry; lapsed holds are
//! released by the next call (a due-time index keeps that cheap). Every event id has the
//! configured inventory, created on first use. Payment intents follow their test scenario:
//! `approve` completes at once, `fail` fails, `delay` completes after the configured delay,
//! `random` approves or fails by chance, `timeout` never completes and expires, and an
//! unspecified scenario stays pending until `ProcessPayment` charges it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use rand::Rng as _;
use tacos_runtime::{Code, Status};
use traffic_tacos_contracts::common::v1::{ErrorCode, Event, Money, Seat, SeatStatus};
use traffic_tacos_contracts::gateway::v1::{
    PaymentEventType, PaymentUpdate, ReservationEventType, ReservationUpdate,
};
use traffic_tacos_contracts::payment::v1 as pay;
use traffic_tacos_contracts::reservation::v1 as res;

use crate::backend::Ticketing;
use crate::config::InventoryConfig;
use crate::errors;
use crate::updates::{Change, ChangeFeed};

/// Most seats one reservation may hold.
const MAX_SEATS_PER_RESERVATION: usize = 10;
/// How long a payment intent stays open.
const INTENT_TTL: Duration = Duration::from_secs(15 * 60);

/// The in-process ticketing backend.
#[derive(Clone)]
pub struct MemoryTicketing {
    state: Arc<Mutex<State>>,
    config: Arc<InventoryConfig>,
    feed: ChangeFeed,
}

impl std::fmt::Debug for MemoryTicketing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTicketing")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    events: HashMap<String, Inventory>,
    reservations: HashMap<String, res::Reservation>,
    reservation_keys: HashMap<(String, String), String>,
    hold_expiries: BTreeSet<(SystemTime, String)>,
    payments: HashMap<String, PaymentRecord>,
    payment_keys: HashMap<(String, String), String>,
}

struct Inventory {
    seats: Vec<Seat>,
    sections: Vec<String>,
}

struct PaymentRecord {
    payment: pay::Payment,
    client_secret: String,
    expires_at: SystemTime,
    scenario: pay::PaymentScenario,
}

fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

fn ts(time: SystemTime) -> Option<prost_types::Timestamp> {
    Some(time.into())
}

fn from_ts(ts: Option<&prost_types::Timestamp>) -> SystemTime {
    ts.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

impl MemoryTicketing {
    /// A store with `config`'s inventory per event, publishing changes to `feed`.
    pub fn new(config: InventoryConfig, feed: ChangeFeed) -> Self {
        Self {
            state: Arc::default(),
            config: Arc::new(config),
            feed,
        }
    }

    /// Locks the state and releases lapsed holds first.
    fn lock(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = SystemTime::now();
        while let Some((due, id)) = state.hold_expiries.first().cloned() {
            if due > now {
                break;
            }
            state.hold_expiries.pop_first();
            if let Some(update) = state.expire(&id, now) {
                self.feed.publish(update);
            }
        }
        state
    }

    fn inventory<'a>(&self, state: &'a mut State, event_id: &str) -> &'a mut Inventory {
        state
            .events
            .entry(event_id.to_owned())
            .or_insert_with(|| Inventory::new(&self.config))
    }

    fn settle_later(&self, intent_id: String, delay: Duration) {
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut state = this.lock();
            if let Some(update) = state.settle(&intent_id, true) {
                this.feed.publish(update);
            }
        });
    }
}

impl Inventory {
    fn new(config: &InventoryConfig) -> Self {
        let mut seats = Vec::new();
        for section in &config.sections {
            for number in 1..=config.seats_per_section {
                seats.push(Seat {
                    id: format!("{section}-{number}"),
                    section: section.clone(),
                    row: String::new(),
                    number: number.to_string(),
                    price: Some(Money {
                        amount: config.seat_price,
                        currency: config.currency.clone(),
                    }),
                    status: SeatStatus::Available as i32,
                });
            }
        }
        Self {
            seats,
            sections: config.sections.clone(),
        }
    }

    fn set_status(&mut self, seat_ids: &[String], status: SeatStatus) {
        for seat in &mut self.seats {
            if seat_ids.contains(&seat.id) {
                seat.status = status as i32;
            }
        }
    }
}

fn change_reservation(
    reservation: &mut res::Reservation,
    status: res::ReservationStatus,
    event: ReservationEventType,
    message: &str,
) -> Change {
    let old = reservation.status;
    reservation.status = status as i32;
    reservation.updated_at = ts(SystemTime::now());
    Change::Reservation {
        user_id: reservation.user_id.clone(),
        update: ReservationUpdate {
            reservation_id: reservation.reservation_id.clone(),
            old_status: old,
            new_status: status as i32,
            hold_expires_at: reservation.hold_expires_at,
            message: message.to_owned(),
            event_type: event as i32,
        },
    }
}

fn change_payment(
    payment: &mut pay::Payment,
    status: pay::PaymentStatus,
    event: PaymentEventType,
    message: &str,
) -> Change {
    let old = payment.status;
    payment.status = status as i32;
    payment.updated_at = ts(SystemTime::now());
    Change::Payment {
        user_id: payment.user_id.clone(),
        update: PaymentUpdate {
            payment_intent_id: payment.payment_intent_id.clone(),
            old_status: old,
            new_status: status as i32,
            message: message.to_owned(),
            event_type: event as i32,
        },
    }
}

impl State {
    fn expire(&mut self, id: &str, now: SystemTime) -> Option<Change> {
        let reservation = self.reservations.get_mut(id)?;
        if reservation.status != res::ReservationStatus::Hold as i32
            || from_ts(reservation.hold_expires_at.as_ref()) > now
        {
            return None;
        }
        let change = change_reservation(
            reservation,
            res::ReservationStatus::Expired,
            ReservationEventType::Expired,
            "the hold lapsed and the seats were released",
        );
        let seat_ids: Vec<String> = reservation.seats.iter().map(|s| s.id.clone()).collect();
        let event_id = reservation.event_id.clone();
        if let Some(inventory) = self.events.get_mut(&event_id) {
            inventory.set_status(&seat_ids, SeatStatus::Available);
        }
        Some(change)
    }

    /// Completes (or fails) a processing or pending payment.
    fn settle(&mut self, intent_id: &str, approve: bool) -> Option<Change> {
        let record = self.payments.get_mut(intent_id)?;
        let status = record.payment.status;
        if status != pay::PaymentStatus::Pending as i32
            && status != pay::PaymentStatus::Processing as i32
        {
            return None;
        }
        let now = SystemTime::now();
        let payment = &mut record.payment;
        payment.processed_at = ts(now);
        payment.payment_id = new_id("pay");
        payment.transaction_id = new_id("txn");
        payment.result = Some(pay::PaymentResult {
            success: approve,
            failure_reason: if approve {
                String::new()
            } else {
                "card declined".to_owned()
            },
            gateway_response: if approve { "approved" } else { "declined" }.to_owned(),
            response_code: if approve { 0 } else { 51 },
            processed_at: ts(now),
        });
        Some(if approve {
            change_payment(
                payment,
                pay::PaymentStatus::Completed,
                PaymentEventType::Completed,
                "payment approved",
            )
        } else {
            change_payment(
                payment,
                pay::PaymentStatus::Failed,
                PaymentEventType::Failed,
                "payment declined",
            )
        })
    }

    fn owned_reservation(
        &mut self,
        id: &str,
        user_id: &str,
    ) -> Result<&mut res::Reservation, Status> {
        match self.reservations.get_mut(id) {
            Some(r) if user_id.is_empty() || r.user_id == user_id => Ok(r),
            _ => Err(errors::not_found(format!("reservation {id} not found"))),
        }
    }

    fn owned_payment(&mut self, id: &str, user_id: &str) -> Result<&mut PaymentRecord, Status> {
        let now = SystemTime::now();
        match self.payments.get_mut(id) {
            Some(p) if user_id.is_empty() || p.payment.user_id == user_id => {
                // An intent nobody completed in time lapses.
                let open = [pay::PaymentStatus::Pending, pay::PaymentStatus::Processing]
                    .map(|s| s as i32)
                    .contains(&p.payment.status);
                if open && p.expires_at <= now {
                    p.payment.status = pay::PaymentStatus::Expired as i32;
                }
                Ok(p)
            }
            _ => Err(errors::not_found(format!("payment intent {id} not found"))),
        }
    }
}

fn intent_response(record: &PaymentRecord) -> pay::CreatePaymentIntentResponse {
    pay::CreatePaymentIntentResponse {
        payment_intent_id: record.payment.payment_intent_id.clone(),
        status: record.payment.status,
        client_secret: record.client_secret.clone(),
        payment_url: format!("/pay/{}", record.payment.payment_intent_id),
        expires_at: ts(record.expires_at),
        error: None,
    }
}

fn reservation_response(r: &res::Reservation) -> res::CreateReservationResponse {
    res::CreateReservationResponse {
        reservation_id: r.reservation_id.clone(),
        status: r.status,
        hold_expires_at: r.hold_expires_at,
        reserved_seats: r.seats.clone(),
        total_amount: r.total_amount.clone(),
        payment_url: format!("/api/v1/payment/intent?reservation_id={}", r.reservation_id),
        error: None,
    }
}

impl Ticketing for MemoryTicketing {
    async fn inventory_status(
        &self,
        request: res::GetInventoryStatusRequest,
    ) -> Result<res::GetInventoryStatusResponse, Status> {
        if request.event_id.is_empty() {
            return Err(errors::invalid("event_id", "an event id is required"));
        }
        let mut state = self.lock();
        let inventory = self.inventory(&mut state, &request.event_id);
        let mut sections = Vec::new();
        let mut stats = res::InventoryStats::default();
        for name in &inventory.sections {
            if !request.section.is_empty() && &request.section != name {
                continue;
            }
            let mut section = res::SectionInventory {
                section_id: name.clone(),
                section_name: name.clone(),
                ..Default::default()
            };
            for seat in inventory.seats.iter().filter(|s| &s.section == name) {
                section.total_seats += 1;
                match SeatStatus::try_from(seat.status).unwrap_or(SeatStatus::Unspecified) {
                    SeatStatus::Available => section.available_seats += 1,
                    SeatStatus::Reserved => section.reserved_seats += 1,
                    SeatStatus::Sold => section.sold_seats += 1,
                    _ => section.blocked_seats += 1,
                }
                section.min_price = seat.price.clone();
                section.max_price = seat.price.clone();
            }
            stats.total_seats += section.total_seats;
            stats.available_seats += section.available_seats;
            stats.reserved_seats += section.reserved_seats;
            stats.sold_seats += section.sold_seats;
            stats.blocked_seats += section.blocked_seats;
            sections.push(section);
        }
        if sections.is_empty() {
            return Err(errors::not_found(format!(
                "section {} not found",
                request.section
            )));
        }
        if stats.total_seats > 0 {
            stats.availability_percentage =
                stats.available_seats as f32 * 100.0 / stats.total_seats as f32;
        }
        stats.last_updated = ts(SystemTime::now());
        Ok(res::GetInventoryStatusResponse {
            event: Some(Event {
                id: request.event_id.clone(),
                name: request.event_id.clone(),
                total_seats: stats.total_seats,
                remaining_seats: stats.available_seats,
                ..Default::default()
            }),
            sections,
            stats: Some(stats),
            error: None,
        })
    }

    async fn create_reservation(
        &self,
        request: res::CreateReservationRequest,
    ) -> Result<res::CreateReservationResponse, Status> {
        let key = (request.user_id.clone(), request.idempotency_key.clone());
        let mut state = self.lock();
        if !key.1.is_empty() {
            if let Some(r) = state
                .reservation_keys
                .get(&key)
                .and_then(|id| state.reservations.get(id))
            {
                return Ok(reservation_response(r));
            }
        }
        let wanted = if request.seat_ids.is_empty() {
            usize::try_from(request.quantity).unwrap_or(0)
        } else {
            request.seat_ids.len()
        };
        if wanted == 0 || wanted > MAX_SEATS_PER_RESERVATION {
            return Err(errors::invalid(
                "quantity",
                format!("between 1 and {MAX_SEATS_PER_RESERVATION} seats may be reserved"),
            ));
        }
        let inventory = self.inventory(&mut state, &request.event_id);
        let available = |s: &Seat| s.status == SeatStatus::Available as i32;
        let chosen: Vec<Seat> = if request.seat_ids.is_empty() {
            let free: Vec<Seat> = inventory
                .seats
                .iter()
                .filter(|s| available(s))
                .take(wanted)
                .cloned()
                .collect();
            if free.len() < wanted {
                return Err(errors::precondition(
                    ErrorCode::InsufficientInventory,
                    format!("only {} seats left", free.len()),
                ));
            }
            free
        } else {
            let mut picked = Vec::new();
            for id in &request.seat_ids {
                let seat = inventory
                    .seats
                    .iter()
                    .find(|s| &s.id == id)
                    .ok_or_else(|| errors::invalid("seat_ids", format!("no seat {id}")))?;
                if !available(seat) {
                    return Err(errors::status(
                        Code::Aborted,
                        ErrorCode::InventoryConflict,
                        format!("seat {id} is no longer available"),
                    ));
                }
                picked.push(seat.clone());
            }
            picked
        };
        let ids: Vec<String> = chosen.iter().map(|s| s.id.clone()).collect();
        inventory.set_status(&ids, SeatStatus::Reserved);
        let now = SystemTime::now();
        let expires = now + self.config.hold;
        let total: i64 = chosen
            .iter()
            .filter_map(|s| s.price.as_ref().map(|p| p.amount))
            .sum();
        let seats: Vec<Seat> = chosen
            .into_iter()
            .map(|s| Seat {
                status: SeatStatus::Reserved as i32,
                ..s
            })
            .collect();
        let mut reservation = res::Reservation {
            reservation_id: new_id("rsv"),
            event_id: request.event_id.clone(),
            user_id: request.user_id.clone(),
            status: res::ReservationStatus::Pending as i32,
            quantity: seats.len() as i32,
            seats,
            total_amount: Some(Money {
                amount: total,
                currency: self.config.currency.clone(),
            }),
            created_at: ts(now),
            updated_at: ts(now),
            hold_expires_at: ts(expires),
            metadata: request.metadata.clone(),
            ..Default::default()
        };
        let change = change_reservation(
            &mut reservation,
            res::ReservationStatus::Hold,
            ReservationEventType::Created,
            "seats held",
        );
        let response = reservation_response(&reservation);
        let id = reservation.reservation_id.clone();
        state.hold_expiries.insert((expires, id.clone()));
        if !key.1.is_empty() {
            state.reservation_keys.insert(key, id.clone());
        }
        state.reservations.insert(id, reservation);
        drop(state);
        self.feed.publish(change);
        Ok(response)
    }

    async fn get_reservation(
        &self,
        request: res::GetReservationRequest,
    ) -> Result<res::GetReservationResponse, Status> {
        let mut state = self.lock();
        let reservation = state.owned_reservation(&request.reservation_id, &request.user_id)?;
        Ok(res::GetReservationResponse {
            reservation: Some(reservation.clone()),
            error: None,
        })
    }

    async fn confirm_reservation(
        &self,
        request: res::ConfirmReservationRequest,
    ) -> Result<res::ConfirmReservationResponse, Status> {
        let mut state = self.lock();
        let payment_status = state
            .owned_payment(&request.payment_intent_id, &request.user_id)
            .map(|p| (p.payment.status, p.payment.reservation_id.clone()))?;
        let reservation = state.owned_reservation(&request.reservation_id, &request.user_id)?;
        let confirmed = |r: &res::Reservation| res::ConfirmReservationResponse {
            order_id: r.order_id.clone(),
            status: r.status,
            confirmed_at: r.updated_at,
            confirmed_seats: r.seats.clone(),
            error: None,
        };
        if reservation.status == res::ReservationStatus::Confirmed as i32 {
            if reservation.payment_intent_id == request.payment_intent_id {
                return Ok(confirmed(reservation));
            }
            return Err(errors::precondition(
                ErrorCode::FailedPrecondition,
                "reservation is already confirmed with another payment",
            ));
        }
        if reservation.status == res::ReservationStatus::Expired as i32 {
            return Err(errors::precondition(
                ErrorCode::ReservationExpired,
                "the hold lapsed before confirmation",
            ));
        }
        if reservation.status != res::ReservationStatus::Hold as i32 {
            return Err(errors::precondition(
                ErrorCode::FailedPrecondition,
                "only a held reservation can be confirmed",
            ));
        }
        if payment_status.1 != reservation.reservation_id {
            return Err(errors::invalid(
                "payment_intent_id",
                "the payment is for another reservation",
            ));
        }
        if payment_status.0 != pay::PaymentStatus::Completed as i32 {
            return Err(errors::precondition(
                ErrorCode::PaymentNotApproved,
                "the payment is not approved",
            ));
        }
        reservation.payment_intent_id = request.payment_intent_id.clone();
        reservation.order_id = new_id("ord");
        let change = change_reservation(
            reservation,
            res::ReservationStatus::Confirmed,
            ReservationEventType::Confirmed,
            "reservation confirmed",
        );
        for seat in &mut reservation.seats {
            seat.status = SeatStatus::Sold as i32;
        }
        let response = confirmed(reservation);
        let seat_ids: Vec<String> = reservation.seats.iter().map(|s| s.id.clone()).collect();
        let event_id = reservation.event_id.clone();
        self.inventory(&mut state, &event_id)
            .set_status(&seat_ids, SeatStatus::Sold);
        drop(state);
        self.feed.publish(change);
        Ok(response)
    }

    async fn cancel_reservation(
        &self,
        request: res::CancelReservationRequest,
    ) -> Result<res::CancelReservationResponse, Status> {
        let mut state = self.lock();
        let reservation = state.owned_reservation(&request.reservation_id, &request.user_id)?;
        let cancelled = |r: &res::Reservation| res::CancelReservationResponse {
            status: r.status,
            cancelled_at: r.updated_at,
            released_seats: r.seats.clone(),
            error: None,
        };
        if reservation.status == res::ReservationStatus::Cancelled as i32 {
            return Ok(cancelled(reservation));
        }
        if reservation.status != res::ReservationStatus::Hold as i32 {
            return Err(errors::precondition(
                ErrorCode::FailedPrecondition,
                "only a held reservation can be cancelled",
            ));
        }
        let reason = if request.reason.is_empty() {
            "reservation cancelled".to_owned()
        } else {
            format!("reservation cancelled: {}", request.reason)
        };
        let change = change_reservation(
            reservation,
            res::ReservationStatus::Cancelled,
            ReservationEventType::Cancelled,
            &reason,
        );
        for seat in &mut reservation.seats {
            seat.status = SeatStatus::Available as i32;
        }
        let response = cancelled(reservation);
        let seat_ids: Vec<String> = reservation.seats.iter().map(|s| s.id.clone()).collect();
        let event_id = reservation.event_id.clone();
        self.inventory(&mut state, &event_id)
            .set_status(&seat_ids, SeatStatus::Available);
        drop(state);
        self.feed.publish(change);
        Ok(response)
    }

    async fn create_payment_intent(
        &self,
        request: pay::CreatePaymentIntentRequest,
    ) -> Result<pay::CreatePaymentIntentResponse, Status> {
        let key = (request.user_id.clone(), request.idempotency_key.clone());
        let mut state = self.lock();
        if !key.1.is_empty() {
            if let Some(record) = state
                .payment_keys
                .get(&key)
                .and_then(|id| state.payments.get(id))
            {
                return Ok(intent_response(record));
            }
        }
        let reservation = state.owned_reservation(&request.reservation_id, &request.user_id)?;
        if reservation.status != res::ReservationStatus::Hold as i32 {
            return Err(errors::precondition(
                ErrorCode::FailedPrecondition,
                "only a held reservation can be paid for",
            ));
        }
        let total = reservation.total_amount.clone();
        if let Some(amount) = &request.amount {
            if Some(amount) != total.as_ref() {
                return Err(errors::invalid(
                    "amount",
                    "the amount differs from the reservation's total",
                ));
            }
        }
        let scenario = pay::PaymentScenario::try_from(request.scenario)
            .unwrap_or(pay::PaymentScenario::Unspecified);
        let now = SystemTime::now();
        let id = new_id("pi");
        let mut record = PaymentRecord {
            payment: pay::Payment {
                payment_intent_id: id.clone(),
                reservation_id: request.reservation_id.clone(),
                user_id: request.user_id.clone(),
                status: pay::PaymentStatus::Pending as i32,
                amount: total,
                method: request.method,
                created_at: ts(now),
                updated_at: ts(now),
                metadata: request.metadata.clone(),
                ..Default::default()
            },
            client_secret: new_id("secret"),
            expires_at: now + INTENT_TTL,
            scenario,
        };
        let mut changes = vec![Change::Payment {
            user_id: request.user_id.clone(),
            update: PaymentUpdate {
                payment_intent_id: id.clone(),
                old_status: pay::PaymentStatus::Unspecified as i32,
                new_status: pay::PaymentStatus::Pending as i32,
                message: "payment intent created".into(),
                event_type: PaymentEventType::Created as i32,
            },
        }];
        let mut settle_after = None;
        match scenario {
            pay::PaymentScenario::Unspecified => {}
            pay::PaymentScenario::Approve | pay::PaymentScenario::Fail => {}
            pay::PaymentScenario::Random => {}
            pay::PaymentScenario::Delay | pay::PaymentScenario::Timeout => {
                changes.push(change_payment(
                    &mut record.payment,
                    pay::PaymentStatus::Processing,
                    PaymentEventType::Processing,
                    "payment processing",
                ));
                if scenario == pay::PaymentScenario::Delay {
                    settle_after = Some(self.config.payment_delay);
                }
            }
        }
        if !key.1.is_empty() {
            state.payment_keys.insert(key, id.clone());
        }
        state.payments.insert(id.clone(), record);
        let approve = match scenario {
            pay::PaymentScenario::Approve => Some(true),
            pay::PaymentScenario::Fail => Some(false),
            pay::PaymentScenario::Random => Some(rand::rng().random_bool(0.5)),
            _ => None,
        };
        if let Some(approve) = approve {
            changes.extend(state.settle(&id, approve));
        }
        let response = intent_response(&state.payments[&id]);
        drop(state);
        for change in changes {
            self.feed.publish(change);
        }
        if let Some(delay) = settle_after {
            self.settle_later(id, delay);
        }
        Ok(response)
    }

    async fn get_payment_status(
        &self,
        request: pay::GetPaymentStatusRequest,
    ) -> Result<pay::GetPaymentStatusResponse, Status> {
        let mut state = self.lock();
        let record = state.owned_payment(&request.payment_intent_id, &request.user_id)?;
        Ok(pay::GetPaymentStatusResponse {
            payment: Some(record.payment.clone()),
            error: None,
        })
    }

    async fn process_payment(
        &self,
        request: pay::ProcessPaymentRequest,
    ) -> Result<pay::ProcessPaymentResponse, Status> {
        let mut state = self.lock();
        let record = state.owned_payment(&request.payment_intent_id, "")?;
        let scenario = record.scenario;
        let change = if record.payment.status == pay::PaymentStatus::Pending as i32 {
            state.settle(
                &request.payment_intent_id,
                scenario != pay::PaymentScenario::Fail,
            )
        } else {
            None
        };
        let payment = &state.payments[&request.payment_intent_id].payment;
        if payment.status == pay::PaymentStatus::Processing as i32
            || payment.status == pay::PaymentStatus::Expired as i32
        {
            return Err(errors::precondition(
                ErrorCode::FailedPrecondition,
                "the payment is not awaiting a charge",
            ));
        }
        let response = pay::ProcessPaymentResponse {
            payment_id: payment.payment_id.clone(),
            status: payment.status,
            processed_at: payment.processed_at,
            transaction_id: payment.transaction_id.clone(),
            result: payment.result.clone(),
            error: None,
        };
        drop(state);
        if let Some(change) = change {
            self.feed.publish(change);
        }
        Ok(response)
    }

    async fn health(&self) -> Vec<(String, bool)> {
        // In process: answering at all is being healthy.
        vec![
            ("reservation".to_owned(), true),
            ("inventory".to_owned(), true),
            ("payment".to_owned(), true),
        ]
    }
}
