//! `gateway.v1.WebSocketService`: the server-push streams.
//!
//! * `StreamQueueUpdates` follows a waiting token through [`WaitingRoom::subscribe`], which is
//!   fed by one change subscription per event per process, not one poll per watcher.
//! * `StreamReservationUpdates` and `StreamPaymentUpdates` follow the in-process
//!   [`ChangeFeed`] the ticketing backend publishes to, filtered by buyer and ids.
//! * `SendMessage` reaches a buyer's open reservation and payment streams as an
//!   `EVENT_TYPE_MESSAGE` frame whose `correlation_id` is the message id (the stream messages have
//!   no field for the text itself); `delivered` says whether any such stream was open.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures::StreamExt as _;
use tacos_runtime::waiting_room::{QueueUpdate as RoomUpdate, QueueUpdateKind, WaitingRoom};
use tacos_runtime::{server_stream, Request, Response, ServerStream, Status};
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use traffic_tacos_contracts::gateway::v1::{
    EventType, PaymentUpdate, QueueEventType, QueueUpdate, ReservationUpdate, SendMessageRequest,
    SendMessageResponse, StreamPaymentUpdatesRequest, StreamPaymentUpdatesResponse,
    StreamQueueUpdatesRequest, StreamQueueUpdatesResponse, StreamReservationUpdatesRequest,
    StreamReservationUpdatesResponse, WebSocketService,
};

use crate::errors;
use crate::queue::clamp;

/// Changes buffered for slow stream readers before they start missing some.
const FEED_BUFFER: usize = 1024;

/// A change a buyer's streams may show.
#[derive(Clone, Debug)]
pub enum Change {
    /// A reservation changed status.
    Reservation {
        /// The buyer.
        user_id: String,
        /// What changed.
        update: ReservationUpdate,
    },
    /// A payment changed status.
    Payment {
        /// The buyer.
        user_id: String,
        /// What changed.
        update: PaymentUpdate,
    },
    /// A message for a buyer.
    Message {
        /// The buyer.
        user_id: String,
        /// One session of the buyer; empty means all.
        session_id: String,
        /// The message id.
        message_id: String,
    },
}

/// The in-process broadcast of reservation, payment and message changes.
#[derive(Clone, Debug)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Change>,
    // Open reservation/payment streams per buyer, so `SendMessage` knows whether it reached one.
    listeners: Arc<Mutex<HashMap<String, usize>>>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(FEED_BUFFER).0,
            listeners: Arc::default(),
        }
    }
}

impl ChangeFeed {
    /// Publishes a change to every open stream.
    pub fn publish(&self, change: Change) {
        // No open stream is not an error: nobody is watching.
        let _ = self.sender.send(change);
    }

    fn subscribe(&self, user_id: &str) -> (broadcast::Receiver<Change>, Listening) {
        *self
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(user_id.to_owned())
            .or_default() += 1;
        let guard = Listening {
            listeners: Arc::clone(&self.listeners),
            user_id: user_id.to_owned(),
        };
        (self.sender.subscribe(), guard)
    }

    fn is_listening(&self, user_id: &str) -> bool {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(user_id)
            .is_some_and(|n| *n > 0)
    }
}

/// Counts one open stream until dropped (the client went away or the stream ended).
struct Listening {
    listeners: Arc<Mutex<HashMap<String, usize>>>,
    user_id: String,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let mut listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = listeners.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                listeners.remove(&self.user_id);
            }
        }
    }
}

/// Serves the push streams.
#[derive(Debug, Clone)]
pub struct UpdatesHandler {
    room: WaitingRoom,
    feed: ChangeFeed,
}

impl UpdatesHandler {
    /// A handler over `room` and `feed`.
    pub fn new(room: WaitingRoom, feed: ChangeFeed) -> Self {
        Self { room, feed }
    }
}

fn now() -> Option<prost_types::Timestamp> {
    Some(SystemTime::now().into())
}

fn queue_frame(update: RoomUpdate) -> StreamQueueUpdatesResponse {
    let event_type = match update.kind {
        QueueUpdateKind::PositionChanged => QueueEventType::PositionChanged,
        QueueUpdateKind::AdmissionReady => QueueEventType::AdmissionReady,
        QueueUpdateKind::TokenExpired => QueueEventType::TokenExpired,
    };
    StreamQueueUpdatesResponse {
        r#type: EventType::QueueUpdate as i32,
        queue_update: Some(QueueUpdate {
            waiting_token: update.waiting_token.clone(),
            position: clamp(update.position),
            eta_seconds: clamp(update.eta_seconds),
            event_type: event_type as i32,
            admission_ready: update.admission_ready,
            expires_at: update.expires_at.map(Into::into),
        }),
        system_update: None,
        timestamp: now(),
        correlation_id: update.waiting_token,
    }
}

/// Turns the feed into one buyer's stream of frames, keeping the listener count while open.
fn buyer_stream<T, F>(feed: &ChangeFeed, user_id: &str, mut frame: F) -> ServerStream<T>
where
    T: Send + 'static,
    F: FnMut(Change) -> Option<T> + Send + 'static,
{
    let (receiver, listening) = feed.subscribe(user_id);
    let stream = BroadcastStream::new(receiver).filter_map(move |item| {
        // The guard lives as long as the stream: dropping the stream ends the listening.
        let _open = &listening;
        let out = match item {
            Ok(change) => frame(change).map(Ok),
            // A reader that fell behind skips what it missed and keeps going.
            Err(BroadcastStreamRecvError::Lagged(_)) => None,
        };
        std::future::ready(out)
    });
    server_stream(stream)
}

#[tacos_runtime::service(contract = "gateway.v1.WebSocketService")]
impl WebSocketService for UpdatesHandler {
    #[tacos(public)]
    async fn stream_queue_updates(
        &self,
        request: Request<StreamQueueUpdatesRequest>,
    ) -> Result<Response<ServerStream<StreamQueueUpdatesResponse>>, Status> {
        let req = request.into_message();
        if req.waiting_token.is_empty() {
            return Err(errors::invalid(
                "waiting_token",
                "a waiting token is required",
            ));
        }
        let updates = self
            .room
            .subscribe(&req.waiting_token)
            .await
            .map_err(errors::waiting_room)?;
        Ok(Response::new(server_stream(
            updates.map(|update| Ok(queue_frame(update))),
        )))
    }

    #[tacos(timeout = "1h")]
    async fn stream_reservation_updates(
        &self,
        request: Request<StreamReservationUpdatesRequest>,
    ) -> Result<Response<ServerStream<StreamReservationUpdatesResponse>>, Status> {
        let req = request.into_message();
        if req.user_id.is_empty() {
            return Err(errors::invalid("user_id", "a user id is required"));
        }
        let user = req.user_id.clone();
        let stream = buyer_stream(&self.feed, &req.user_id, move |change| match change {
            Change::Reservation { user_id, update }
                if user_id == user
                    && (req.reservation_ids.is_empty()
                        || req.reservation_ids.contains(&update.reservation_id)) =>
            {
                Some(StreamReservationUpdatesResponse {
                    r#type: EventType::ReservationUpdate as i32,
                    correlation_id: update.reservation_id.clone(),
                    reservation_update: Some(update),
                    timestamp: now(),
                })
            }
            Change::Message {
                user_id,
                session_id,
                message_id,
            } if user_id == user && (session_id.is_empty() || session_id == req.session_id) => {
                Some(StreamReservationUpdatesResponse {
                    r#type: EventType::Message as i32,
                    reservation_update: None,
                    timestamp: now(),
                    correlation_id: message_id,
                })
            }
            _ => None,
        });
        Ok(Response::new(stream))
    }

    #[tacos(timeout = "1h")]
    async fn stream_payment_updates(
        &self,
        request: Request<StreamPaymentUpdatesRequest>,
    ) -> Result<Response<ServerStream<StreamPaymentUpdatesResponse>>, Status> {
        let req = request.into_message();
        if req.user_id.is_empty() {
            return Err(errors::invalid("user_id", "a user id is required"));
        }
        let user = req.user_id.clone();
        let stream = buyer_stream(&self.feed, &req.user_id, move |change| match change {
            Change::Payment { user_id, update }
                if user_id == user
                    && (req.payment_intent_ids.is_empty()
                        || req.payment_intent_ids.contains(&update.payment_intent_id)) =>
            {
                Some(StreamPaymentUpdatesResponse {
                    r#type: EventType::PaymentUpdate as i32,
                    correlation_id: update.payment_intent_id.clone(),
                    payment_update: Some(update),
                    timestamp: now(),
                })
            }
            Change::Message {
                user_id,
                session_id,
                message_id,
            } if user_id == user && (session_id.is_empty() || session_id == req.session_id) => {
                Some(StreamPaymentUpdatesResponse {
                    r#type: EventType::Message as i32,
                    payment_update: None,
                    timestamp: now(),
                    correlation_id: message_id,
                })
            }
            _ => None,
        });
        Ok(Response::new(stream))
    }

    #[tacos(timeout = "2s", roles("admin", "operator"))]
    async fn send_message(
        &self,
        request: Request<SendMessageRequest>,
    ) -> Result<Response<SendMessageResponse>, Status> {
        let req = request.into_message();
        if req.target_user_id.is_empty() {
            return Err(errors::invalid(
                "target_user_id",
                "a recipient user id is required",
            ));
        }
        if req.title.is_empty() && req.content.is_empty() {
            return Err(errors::invalid("content", "a title or content is required"));
        }
        let message_id = format!("msg_{}", uuid_like());
        let delivered = self.feed.is_listening(&req.target_user_id);
        self.feed.publish(Change::Message {
            user_id: req.target_user_id,
            session_id: req.target_session_id,
            message_id: message_id.clone(),
        });
        Ok(Response::new(SendMessageResponse {
            delivered,
            message_id,
            sent_at: now(),
            error: None,
        }))
    }
}

fn uuid_like() -> String {
    use rand::Rng as _;
    let value: u128 = rand::rng().random();
    format!("{value:032x}")
}
