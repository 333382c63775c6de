//! Reservations and seat inventory in process memory.
//!
//! One mutex guards the whole state and is never held across an `.await`, so a seat is never
//! held twice: concurrent holds for the last seats see each other. Creating a reservation is two
//! steps: [`ReservationStore::begin_hold`] checks the request and marks the seats taken under a
//! *pending* reservation; the caller then checks the buyer's reservation token and either
//! commits ([`PendingHold::commit`]) or lets the pending hold drop, which returns the seats.
//! This is what lets the service refuse a client mistake without using up the token.
//!
//! Holds lapse at their deadline. Every call first releases lapsed holds (a due-time index keeps
//! that cheap), and [`ReservationStore::spawn_sweeper`] does the same periodically so seats come
//! back even when nobody calls.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use rand::Rng as _;
use tacos_runtime::{Code, Status};
use traffic_tacos_contracts::common::v1::{ErrorCode, Money, Seat, SeatStatus};
use traffic_tacos_contracts::reservation::v1 as res;

use crate::config::StoreConfig;
use crate::errors;

/// Most seats one reservation may hold.
pub const MAX_SEATS_PER_RESERVATION: usize = 10;

/// The in-memory reservation and inventory store. Clones share the same state.
#[derive(Clone)]
pub struct ReservationStore {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    config: StoreConfig,
}

impl std::fmt::Debug for ReservationStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReservationStore")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    events: HashMap<String, EventSeats>,
    reservations: HashMap<String, res::Reservation>,
    /// (user, idempotency key) → reservation id.
    keys: HashMap<(String, String), String>,
    /// Deadlines of holds and pending holds, earliest first.
    expiries: BTreeSet<(SystemTime, String)>,
    /// (reservation id, idempotency key) → the answer an extension gave.
    extensions: HashMap<(String, String), res::ExtendHoldResponse>,
}

struct EventSeats {
    seats: Vec<Seat>,
    by_id: HashMap<String, usize>,
    sections: Vec<String>,
}

/// What to hold: the fields of a create request the store needs.
#[derive(Clone, Debug, Default)]
pub struct HoldRequest {
    /// The event.
    pub event_id: String,
    /// Specific seats; empty means the first free ones.
    pub seat_ids: Vec<String>,
    /// Number of seats (0 with `seat_ids` means `seat_ids.len()`).
    pub quantity: i32,
    /// The buyer.
    pub user_id: String,
    /// Makes retries safe; empty means none.
    pub idempotency_key: String,
    /// Client facts kept with the reservation.
    pub metadata: Option<res::ReservationMetadata>,
}

/// The outcome of [`ReservationStore::begin_hold`].
#[derive(Debug)]
pub enum Begin {
    /// An earlier request with the same idempotency key created this reservation.
    Existing(res::CreateReservationResponse),
    /// Seats are taken for a new reservation, pending the caller's decision.
    Pending(PendingHold),
}

/// Seats taken for a reservation that is not committed yet. Dropping it without
/// [`PendingHold::commit`] returns the seats and forgets the reservation.
#[derive(Debug)]
pub struct PendingHold {
    store: ReservationStore,
    id: Option<String>,
}

impl PendingHold {
    /// The pending reservation's id.
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_default()
    }

    /// Makes the hold real; returns the created reservation.
    pub fn commit(mut self) -> Result<res::CreateReservationResponse, Status> {
        let id = self.id.take().unwrap_or_default();
        let mut state = self.store.lock();
        let reservation = state
            .reservations
            .get_mut(&id)
            .filter(|r| r.status == res::ReservationStatus::Pending as i32)
            // Only a sweep after the hold's whole lifetime could have removed it.
            .ok_or_else(|| {
                errors::precondition(
                    ErrorCode::ReservationExpired,
                    "the hold lapsed before it was created",
                )
            })?;
        reservation.status = res::ReservationStatus::Hold as i32;
        reservation.updated_at = Some(SystemTime::now().into());
        Ok(created(reservation))
    }
}

impl Drop for PendingHold {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let mut state = self.store.lock();
            state.discard_pending(&id);
        }
    }
}

/// What a confirmation needs to know about the payment it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentFacts {
    /// The payment's status.
    pub status: traffic_tacos_contracts::payment::v1::PaymentStatus,
    /// The reservation it pays for.
    pub reservation_id: String,
    /// The payer.
    pub user_id: String,
}

fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

fn time_of(ts: Option<&prost_types::Timestamp>) -> SystemTime {
    ts.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn created(r: &res::Reservation) -> res::CreateReservationResponse {
    res::CreateReservationResponse {
        reservation_id: r.reservation_id.clone(),
        status: r.status,
        hold_expires_at: r.hold_expires_at,
        reserved_seats: r.seats.clone(),
        total_amount: r.total_amount.clone(),
        payment_url: format!("/payment/v1/intents?reservation_id={}", r.reservation_id),
        error: None,
    }
}

fn status_of(r: &res::Reservation) -> res::ReservationStatus {
    res::ReservationStatus::try_from(r.status).unwrap_or(res::ReservationStatus::Unspecified)
}

impl EventSeats {
    fn new(config: &StoreConfig) -> Self {
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
        let by_id = seats
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Self {
            seats,
            by_id,
            sections: config.sections.clone(),
        }
    }

    fn set_status(&mut self, seats: &[Seat], status: SeatStatus) {
        for seat in seats {
            if let Some(&i) = self.by_id.get(&seat.id) {
                self.seats[i].status = status as i32;
            }
        }
    }
}

impl State {
    /// Ends a hold (lapsed, cancelled, discarded) and returns its seats to sale.
    fn release(&mut self, id: &str, status: res::ReservationStatus) -> Option<&res::Reservation> {
        let reservation = self.reservations.get_mut(id)?;
        reservation.status = status as i32;
        reservation.updated_at = Some(SystemTime::now().into());
        for seat in &mut reservation.seats {
            seat.status = SeatStatus::Available as i32;
        }
        if let Some(event) = self.events.get_mut(&reservation.event_id) {
            event.set_status(&reservation.seats, SeatStatus::Available);
        }
        Some(reservation)
    }

    fn discard_pending(&mut self, id: &str) {
        let pending = self
            .reservations
            .get(id)
            .is_some_and(|r| r.status == res::ReservationStatus::Pending as i32);
        if !pending {
            return;
        }
        self.release(id, res::ReservationStatus::Failed);
        if let Some(r) = self.reservations.remove(id) {
            let key = key_of(&r);
            self.keys.remove(&(r.user_id, key));
            self.expiries
                .remove(&(time_of(r.hold_expires_at.as_ref()), r.reservation_id));
        }
    }

    /// Releases every hold whose deadline passed; returns how many.
    fn expire_due(&mut self, now: SystemTime) -> usize {
        let mut released = 0;
        while let Some((due, id)) = self.expiries.first().cloned() {
            if due > now {
                break;
            }
            self.expiries.pop_first();
            let Some(r) = self.reservations.get(&id) else {
                continue;
            };
            // An extension moved the deadline: its newer entry is still in the index.
            if time_of(r.hold_expires_at.as_ref()) > now {
                continue;
            }
            match status_of(r) {
                res::ReservationStatus::Hold => {
                    self.release(&id, res::ReservationStatus::Expired);
                    released += 1;
                }
                // A pending hold whose caller vanished (its drop guard normally prevents this).
                res::ReservationStatus::Pending => self.discard_pending(&id),
                _ => {}
            }
        }
        released
    }

    fn owned(&mut self, id: &str, user_id: &str) -> Result<&mut res::Reservation, Status> {
        let reservation = self
            .reservations
            .get_mut(id)
            .filter(|r| r.status != res::ReservationStatus::Pending as i32)
            .ok_or_else(|| errors::not_found(format!("reservation {id} not found")))?;
        if !user_id.is_empty() && reservation.user_id != user_id {
            return Err(errors::forbidden(format!(
                "reservation {id} belongs to another user"
            )));
        }
        Ok(reservation)
    }
}

/// The idempotency key a reservation was created with, kept in its metadata tags.
fn key_of(r: &res::Reservation) -> String {
    r.metadata
        .as_ref()
        .and_then(|m| m.tags.get(IDEMPOTENCY_TAG))
        .cloned()
        .unwrap_or_default()
}

const IDEMPOTENCY_TAG: &str = "idempotency_key";

impl ReservationStore {
    /// An empty store with `config`'s inventory.
    pub fn new(config: StoreConfig) -> Self {
        let mut state = State::default();
        for event in &config.events {
            state.events.insert(event.clone(), EventSeats::new(&config));
        }
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                config,
            }),
        }
    }

    /// The inventory and hold rules.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// Locks the state after releasing lapsed holds.
    fn lock(&self) -> MutexGuard<'_, State> {
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        state.expire_due(SystemTime::now());
        state
    }

    /// Releases lapsed holds now; returns how many were released.
    pub fn sweep(&self) -> usize {
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        state.expire_due(SystemTime::now())
    }

    /// Sweeps every `interval` on the current Tokio runtime until the last clone of the store
    /// is dropped.
    pub fn spawn_sweeper(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let released = ReservationStore { inner }.sweep();
                if released > 0 {
                    tracing::debug!(released, "released lapsed holds");
                }
            }
        })
    }

    /// Runs `f` on `event_id`'s seats, creating them on first use when every event is on sale.
    fn with_event<R>(
        &self,
        state: &mut State,
        event_id: &str,
        f: impl FnOnce(&mut EventSeats) -> R,
    ) -> Result<R, Status> {
        errors::required("event_id", event_id)?;
        if !state.events.contains_key(event_id) {
            if !self.inner.config.events.is_empty() {
                return Err(errors::not_found(format!("event {event_id} not found")));
            }
            state
                .events
                .insert(event_id.to_owned(), EventSeats::new(&self.inner.config));
        }
        let event = state.events.get_mut(event_id).expect("inserted above");
        Ok(f(event))
    }

    /// Checks a hold request and takes its seats under a pending reservation. Every client
    /// mistake (unknown event or seat, bad quantity, seats taken) is reported here, before the
    /// caller spends the buyer's reservation token.
    pub fn begin_hold(&self, request: HoldRequest) -> Result<Begin, Status> {
        errors::required("user_id", &request.user_id)?;
        let wanted = if request.seat_ids.is_empty() {
            usize::try_from(request.quantity).unwrap_or(0)
        } else {
            if request.quantity != 0 && request.quantity as usize != request.seat_ids.len() {
                return Err(errors::invalid(
                    "quantity",
                    format!(
                        "quantity {} differs from the {} seat ids given",
                        request.quantity,
                        request.seat_ids.len()
                    ),
                ));
            }
            request.seat_ids.len()
        };
        if wanted == 0 || wanted > MAX_SEATS_PER_RESERVATION {
            return Err(errors::invalid(
                "quantity",
                format!("between 1 and {MAX_SEATS_PER_RESERVATION} seats may be reserved"),
            ));
        }
        let mut unique = HashSet::new();
        if let Some(dup) = request.seat_ids.iter().find(|id| !unique.insert(*id)) {
            return Err(errors::invalid(
                "seat_ids",
                format!("seat {dup} is listed twice"),
            ));
        }
        let key = (request.user_id.clone(), request.idempotency_key.clone());
        let mut state = self.lock();
        if !key.1.is_empty() {
            if let Some(existing) = state
                .keys
                .get(&key)
                .and_then(|id| state.reservations.get(id))
            {
                if existing.event_id != request.event_id {
                    return Err(errors::status(
                        Code::InvalidArgument,
                        ErrorCode::IdempotencyConflict,
                        "this idempotency key was used for another event",
                    ));
                }
                if existing.status == res::ReservationStatus::Pending as i32 {
                    return Err(errors::status(
                        Code::Aborted,
                        ErrorCode::ConcurrentModification,
                        "a request with this idempotency key is in progress: retry shortly",
                    ));
                }
                return Ok(Begin::Existing(created(existing)));
            }
        }
        let chosen = self.with_event(&mut state, &request.event_id, |event| {
            pick_seats(event, &request.seat_ids, wanted)
        })??;
        let now = SystemTime::now();
        let expires = now + self.inner.config.hold;
        let total: i64 = chosen
            .iter()
            .filter_map(|s| s.price.as_ref().map(|p| p.amount))
            .sum();
        let mut metadata = request.metadata.unwrap_or_default();
        if !key.1.is_empty() {
            metadata
                .tags
                .insert(IDEMPOTENCY_TAG.to_owned(), key.1.clone());
        }
        let id = new_id("rsv");
        let reservation = res::Reservation {
            reservation_id: id.clone(),
            event_id: request.event_id.clone(),
            user_id: request.user_id.clone(),
            status: res::ReservationStatus::Pending as i32,
            quantity: chosen.len() as i32,
            seats: chosen,
            total_amount: Some(Money {
                amount: total,
                currency: self.inner.config.currency.clone(),
            }),
            created_at: Some(now.into()),
            updated_at: Some(now.into()),
            hold_expires_at: Some(expires.into()),
            metadata: Some(metadata),
            ..Default::default()
        };
        state.expiries.insert((expires, id.clone()));
        if !key.1.is_empty() {
            state.keys.insert(key, id.clone());
        }
        state.reservations.insert(id.clone(), reservation);
        Ok(Begin::Pending(PendingHold {
            store: self.clone(),
            id: Some(id),
        }))
    }

    /// One reservation; `user_id`, when not empty, must be its owner.
    pub fn get(&self, id: &str, user_id: &str) -> Result<res::Reservation, Status> {
        errors::required("reservation_id", id)?;
        let mut state = self.lock();
        state.owned(id, user_id).map(|r| r.clone())
    }

    /// Checks that `id` is a held, unexpired reservation of `user_id` that can be confirmed
    /// with `payment_intent_id`. `Ok(Some(..))` means it is already confirmed with that payment.
    pub fn check_confirmable(
        &self,
        id: &str,
        user_id: &str,
        payment_intent_id: &str,
    ) -> Result<Option<res::ConfirmReservationResponse>, Status> {
        errors::required("reservation_id", id)?;
        errors::required("user_id", user_id)?;
        errors::required("payment_intent_id", payment_intent_id)?;
        let mut state = self.lock();
        let reservation = state.owned(id, user_id)?;
        confirmable(reservation, payment_intent_id)
    }

    /// Confirms a reservation whose payment `facts` describe: sells its seats.
    pub fn confirm(
        &self,
        id: &str,
        user_id: &str,
        payment_intent_id: &str,
        facts: &PaymentFacts,
    ) -> Result<res::ConfirmReservationResponse, Status> {
        use traffic_tacos_contracts::payment::v1::PaymentStatus;
        if facts.reservation_id != id {
            return Err(errors::invalid(
                "payment_intent_id",
                format!("payment {payment_intent_id} pays for another reservation"),
            ));
        }
        if facts.user_id != user_id {
            return Err(errors::forbidden(format!(
                "payment {payment_intent_id} belongs to another user"
            )));
        }
        if facts.status != PaymentStatus::Completed {
            return Err(errors::precondition(
                ErrorCode::PaymentNotApproved,
                format!(
                    "payment {payment_intent_id} is not completed (it is {})",
                    facts.status.as_str_name()
                ),
            ));
        }
        let mut state = self.lock();
        // The state may have moved while the payment was looked up: check again.
        let reservation = state.owned(id, user_id)?;
        if let Some(done) = confirmable(reservation, payment_intent_id)? {
            return Ok(done);
        }
        let now = SystemTime::now();
        reservation.status = res::ReservationStatus::Confirmed as i32;
        reservation.updated_at = Some(now.into());
        reservation.payment_intent_id = payment_intent_id.to_owned();
        reservation.order_id = new_id("ord");
        for seat in &mut reservation.seats {
            seat.status = SeatStatus::Sold as i32;
        }
        let response = confirmed(reservation);
        let (event_id, seats) = (reservation.event_id.clone(), reservation.seats.clone());
        if let Some(event) = state.events.get_mut(&event_id) {
            event.set_status(&seats, SeatStatus::Sold);
        }
        Ok(response)
    }

    /// Cancels a held reservation and returns its seats; cancelling twice answers the same.
    pub fn cancel(
        &self,
        id: &str,
        user_id: &str,
    ) -> Result<res::CancelReservationResponse, Status> {
        errors::required("reservation_id", id)?;
        let mut state = self.lock();
        let reservation = state.owned(id, user_id)?;
        match status_of(reservation) {
            res::ReservationStatus::Hold => {}
            res::ReservationStatus::Cancelled => return Ok(cancelled(reservation)),
            res::ReservationStatus::Expired => {
                return Err(errors::precondition(
                    ErrorCode::ReservationExpired,
                    format!("reservation {id} already lapsed and its seats were released"),
                ))
            }
            other => {
                return Err(errors::precondition(
                    ErrorCode::FailedPrecondition,
                    format!(
                        "only a held reservation can be cancelled; {id} is {}",
                        other.as_str_name()
                    ),
                ))
            }
        }
        let released = state
            .release(id, res::ReservationStatus::Cancelled)
            .map(cancelled)
            .expect("checked above");
        Ok(released)
    }

    /// Extends a held reservation by up to `seconds`, within the maximum hold. A repeated
    /// `idempotency_key` extends once and answers the same.
    pub fn extend(
        &self,
        id: &str,
        user_id: &str,
        seconds: i32,
        idempotency_key: &str,
    ) -> Result<res::ExtendHoldResponse, Status> {
        errors::required("reservation_id", id)?;
        if seconds <= 0 {
            return Err(errors::invalid(
                "extension_seconds",
                "must be a positive number of seconds",
            ));
        }
        let max_hold = self.inner.config.max_hold;
        let mut state = self.lock();
        let replay_key = (id.to_owned(), idempotency_key.to_owned());
        if !idempotency_key.is_empty() {
            if let Some(done) = state.extensions.get(&replay_key) {
                let done = done.clone();
                state.owned(id, user_id)?;
                return Ok(done);
            }
        }
        let reservation = state.owned(id, user_id)?;
        match status_of(reservation) {
            res::ReservationStatus::Hold => {}
            res::ReservationStatus::Expired => {
                return Err(errors::precondition(
                    ErrorCode::ReservationExpired,
                    format!("reservation {id} already lapsed"),
                ))
            }
            other => {
                return Err(errors::precondition(
                    ErrorCode::FailedPrecondition,
                    format!(
                        "only a held reservation can be extended; {id} is {}",
                        other.as_str_name()
                    ),
                ))
            }
        }
        let current = time_of(reservation.hold_expires_at.as_ref());
        let latest = time_of(reservation.created_at.as_ref()) + max_hold;
        let room = latest.duration_since(current).unwrap_or_default();
        let granted = Duration::from_secs(u64::from(seconds.unsigned_abs())).min(room);
        let granted_secs = granted.as_secs() as i32;
        let response = if granted_secs == 0 {
            res::ExtendHoldResponse {
                new_expires_at: reservation.hold_expires_at,
                extended_seconds: 0,
                extension_allowed: false,
                error: Some(traffic_tacos_contracts::common::v1::Error {
                    code: ErrorCode::FailedPrecondition as i32,
                    message: format!(
                        "the hold already lasts the maximum of {} seconds",
                        max_hold.as_secs()
                    ),
                    ..Default::default()
                }),
            }
        } else {
            let new_expiry = current + Duration::from_secs(granted_secs as u64);
            reservation.hold_expires_at = Some(new_expiry.into());
            reservation.updated_at = Some(SystemTime::now().into());
            state.expiries.insert((new_expiry, id.to_owned()));
            res::ExtendHoldResponse {
                new_expires_at: Some(new_expiry.into()),
                extended_seconds: granted_secs,
                extension_allowed: true,
                error: None,
            }
        };
        if !idempotency_key.is_empty() {
            state.extensions.insert(replay_key, response.clone());
        }
        Ok(response)
    }

    /// A user's reservations, newest first, filtered and paged (`page` from 1).
    pub fn list(
        &self,
        user_id: &str,
        status: res::ReservationStatus,
        event_id: &str,
        page: i32,
        page_size: i32,
    ) -> Result<res::ListReservationsResponse, Status> {
        use traffic_tacos_contracts::common::v1::PageInfo;
        errors::required("user_id", user_id)?;
        if page < 0 || !(0..=100).contains(&page_size) {
            return Err(errors::invalid(
                "pagination",
                "page must not be negative and page_size must be 0 to 100",
            ));
        }
        let page = page.max(1) as usize;
        let size = if page_size == 0 {
            20
        } else {
            page_size as usize
        };
        let state = self.lock();
        let mut mine: Vec<&res::Reservation> = state
            .reservations
            .values()
            .filter(|r| r.user_id == user_id && r.status != res::ReservationStatus::Pending as i32)
            .filter(|r| status == res::ReservationStatus::Unspecified || r.status == status as i32)
            .filter(|r| event_id.is_empty() || r.event_id == event_id)
            .collect();
        mine.sort_by(|a, b| {
            time_of(b.created_at.as_ref())
                .cmp(&time_of(a.created_at.as_ref()))
                .then_with(|| a.reservation_id.cmp(&b.reservation_id))
        });
        let total = mine.len();
        let start = (page - 1).saturating_mul(size).min(total);
        let end = start.saturating_add(size).min(total);
        Ok(res::ListReservationsResponse {
            reservations: mine[start..end].iter().map(|r| (*r).clone()).collect(),
            page_info: Some(PageInfo {
                total_count: total as i32,
                has_next_page: end < total,
                has_previous_page: start > 0,
                next_cursor: String::new(),
                previous_cursor: String::new(),
            }),
            error: None,
        })
    }

    /// Seat counts of an event, optionally of one section.
    pub fn inventory(
        &self,
        event_id: &str,
        section: &str,
    ) -> Result<res::GetInventoryStatusResponse, Status> {
        use traffic_tacos_contracts::common::v1::Event;
        let mut state = self.lock();
        let (sections, stats) = self.with_event(&mut state, event_id, |event| {
            let mut sections = Vec::new();
            let mut stats = res::InventoryStats::default();
            for name in &event.sections {
                if !section.is_empty() && section != name {
                    continue;
                }
                let mut counts = res::SectionInventory {
                    section_id: name.clone(),
                    section_name: name.clone(),
                    ..Default::default()
                };
                for seat in event.seats.iter().filter(|s| &s.section == name) {
                    counts.total_seats += 1;
                    match SeatStatus::try_from(seat.status).unwrap_or(SeatStatus::Unspecified) {
                        SeatStatus::Available => counts.available_seats += 1,
                        SeatStatus::Reserved => counts.reserved_seats += 1,
                        SeatStatus::Sold => counts.sold_seats += 1,
                        _ => counts.blocked_seats += 1,
                    }
                    counts.min_price = seat.price.clone();
                    counts.max_price = seat.price.clone();
                }
                stats.total_seats += counts.total_seats;
                stats.available_seats += counts.available_seats;
                stats.reserved_seats += counts.reserved_seats;
                stats.sold_seats += counts.sold_seats;
                stats.blocked_seats += counts.blocked_seats;
                sections.push(counts);
            }
            (sections, stats)
        })?;
        if sections.is_empty() {
            return Err(errors::not_found(format!("section {section} not found")));
        }
        let mut stats = stats;
        if stats.total_seats > 0 {
            stats.availability_percentage =
                stats.available_seats as f32 * 100.0 / stats.total_seats as f32;
        }
        stats.last_updated = Some(SystemTime::now().into());
        Ok(res::GetInventoryStatusResponse {
            event: Some(Event {
                id: event_id.to_owned(),
                name: event_id.to_owned(),
                total_seats: stats.total_seats,
                remaining_seats: stats.available_seats,
                ..Default::default()
            }),
            sections,
            stats: Some(stats),
            error: None,
        })
    }

    /// Whether `quantity` seats (or the given seats) are free, optionally in one section.
    pub fn availability(
        &self,
        event_id: &str,
        seat_ids: &[String],
        quantity: i32,
        section: &str,
    ) -> Result<res::CheckAvailabilityResponse, Status> {
        if quantity < 0 || quantity as usize > MAX_SEATS_PER_RESERVATION {
            return Err(errors::invalid(
                "quantity",
                format!("between 0 and {MAX_SEATS_PER_RESERVATION} seats may be asked for"),
            ));
        }
        let mut state = self.lock();
        self.with_event(&mut state, event_id, |event| {
            if !section.is_empty() && !event.sections.iter().any(|s| s == section) {
                return Err(errors::not_found(format!("section {section} not found")));
            }
            let free = |s: &&Seat| s.status == SeatStatus::Available as i32;
            let in_section = |s: &&Seat| section.is_empty() || s.section == section;
            let remaining = event.seats.iter().filter(in_section).filter(free).count() as i32;
            let mut response = res::CheckAvailabilityResponse {
                remaining_in_section: remaining,
                ..Default::default()
            };
            if seat_ids.is_empty() {
                let wanted = quantity.max(1) as usize;
                response.available_seats = event
                    .seats
                    .iter()
                    .filter(in_section)
                    .filter(free)
                    .take(wanted)
                    .cloned()
                    .collect();
                response.available = response.available_seats.len() == wanted;
            } else {
                for id in seat_ids {
                    match event.by_id.get(id).map(|&i| &event.seats[i]) {
                        None => return Err(errors::invalid("seat_ids", format!("no seat {id}"))),
                        Some(seat) if free(&seat) => response.available_seats.push(seat.clone()),
                        Some(_) => response.unavailable_seat_ids.push(id.clone()),
                    }
                }
                response.available = response.unavailable_seat_ids.is_empty();
            }
            Ok(response)
        })?
    }
}

/// Chooses `wanted` seats: the given ones if free, else the first free ones.
fn pick_seats(
    event: &mut EventSeats,
    seat_ids: &[String],
    wanted: usize,
) -> Result<Vec<Seat>, Status> {
    let free = |s: &Seat| s.status == SeatStatus::Available as i32;
    let indices: Vec<usize> = if seat_ids.is_empty() {
        let indices: Vec<usize> = (0..event.seats.len())
            .filter(|&i| free(&event.seats[i]))
            .take(wanted)
            .collect();
        if indices.len() < wanted {
            return Err(errors::precondition(
                ErrorCode::InsufficientInventory,
                format!("only {} seats are left", indices.len()),
            ));
        }
        indices
    } else {
        let mut indices = Vec::with_capacity(seat_ids.len());
        for id in seat_ids {
            let &i = event
                .by_id
                .get(id)
                .ok_or_else(|| errors::invalid("seat_ids", format!("no seat {id}")))?;
            if !free(&event.seats[i]) {
                return Err(errors::status(
                    Code::Aborted,
                    ErrorCode::InventoryConflict,
                    format!("seat {id} is no longer available"),
                ));
            }
            indices.push(i);
        }
        indices
    };
    Ok(indices
        .into_iter()
        .map(|i| {
            event.seats[i].status = SeatStatus::Reserved as i32;
            event.seats[i].clone()
        })
        .collect())
}

/// Whether `r` can be confirmed with `payment_intent_id`; `Some` when it already is.
fn confirmable(
    r: &res::Reservation,
    payment_intent_id: &str,
) -> Result<Option<res::ConfirmReservationResponse>, Status> {
    let id = &r.reservation_id;
    match status_of(r) {
        res::ReservationStatus::Hold => Ok(None),
        res::ReservationStatus::Confirmed if r.payment_intent_id == payment_intent_id => {
            Ok(Some(confirmed(r)))
        }
        res::ReservationStatus::Confirmed => Err(errors::precondition(
            ErrorCode::FailedPrecondition,
            format!("reservation {id} is already confirmed with another payment"),
        )),
        res::ReservationStatus::Expired => Err(errors::precondition(
            ErrorCode::ReservationExpired,
            format!("reservation {id} lapsed before confirmation and its seats were released"),
        )),
        other => Err(errors::precondition(
            ErrorCode::FailedPrecondition,
            format!(
                "only a held reservation can be confirmed; {id} is {}",
                other.as_str_name()
            ),
        )),
    }
}

fn confirmed(r: &res::Reservation) -> res::ConfirmReservationResponse {
    res::ConfirmReservationResponse {
        order_id: r.order_id.clone(),
        status: r.status,
        confirmed_at: r.updated_at,
        confirmed_seats: r.seats.clone(),
        error: None,
    }
}

fn cancelled(r: &res::Reservation) -> res::CancelReservationResponse {
    res::CancelReservationResponse {
        status: r.status,
        cancelled_at: r.updated_at,
        released_seats: r.seats.clone(),
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(seats: u32, hold: Duration) -> ReservationStore {
        ReservationStore::new(StoreConfig {
            sections: vec!["A".into()],
            seats_per_section: seats,
            hold,
            max_hold: hold * 3,
            ..StoreConfig::default()
        })
    }

    fn hold(store: &ReservationStore, user: &str, quantity: i32) -> Result<Begin, Status> {
        store.begin_hold(HoldRequest {
            event_id: "e1".into(),
            quantity,
            user_id: user.into(),
            ..Default::default()
        })
    }

    fn available(store: &ReservationStore) -> i32 {
        store
            .inventory("e1", "")
            .unwrap()
            .stats
            .unwrap()
            .available_seats
    }

    #[test]
    fn a_dropped_pending_hold_returns_its_seats() {
        let store = store(3, Duration::from_secs(60));
        let Begin::Pending(pending) = hold(&store, "u1", 2).unwrap() else {
            panic!("new hold")
        };
        assert_eq!(available(&store), 1);
        let id = pending.id().to_owned();
        drop(pending);
        assert_eq!(available(&store), 3);
        assert_eq!(store.get(&id, "").unwrap_err().code(), Code::NotFound);
    }

    #[test]
    fn a_lapsed_hold_is_released_by_the_sweep() {
        let store = store(2, Duration::from_millis(30));
        let Begin::Pending(pending) = hold(&store, "u1", 2).unwrap() else {
            panic!("new hold")
        };
        let id = pending.commit().unwrap().reservation_id;
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(store.sweep(), 1);
        let r = store.get(&id, "u1").unwrap();
        assert_eq!(r.status, res::ReservationStatus::Expired as i32);
        assert_eq!(available(&store), 2);
    }

    #[test]
    fn an_extension_is_capped_by_the_maximum_hold() {
        let store = store(2, Duration::from_secs(10));
        let Begin::Pending(pending) = hold(&store, "u1", 1).unwrap() else {
            panic!("new hold")
        };
        let id = pending.commit().unwrap().reservation_id;
        let first = store.extend(&id, "u1", 15, "k1").unwrap();
        assert_eq!(
            (first.extended_seconds, first.extension_allowed),
            (15, true)
        );
        assert_eq!(store.extend(&id, "u1", 15, "k1").unwrap(), first);
        let capped = store.extend(&id, "u1", 60, "k2").unwrap();
        assert!(capped.extended_seconds <= 5, "{capped:?}");
        let none = store.extend(&id, "u1", 60, "k3").unwrap();
        assert!(!none.extension_allowed);
    }
}
