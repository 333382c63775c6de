//! One pub/sub connection per process, shared by every event's change feed.
//!
//! The scripts `PUBLISH` on `wr:{<event>}:ch` whenever positions may have moved (admission,
//! leave, eviction). This task subscribes once per event and forwards each notice to an
//! in-process broadcast channel, from which the room's watchers refresh. If the connection
//! drops, the task reconnects, resubscribes, and wakes every feed, since notices sent while it
//! was away are lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::{broadcast, mpsc};

/// Capacity of each event's feed; a watcher that lags just refreshes once.
const FEED_CAPACITY: usize = 16;
/// Pause between reconnect attempts.
const RECONNECT_DELAY: Duration = Duration::from_millis(250);

type Feeds = Arc<Mutex<HashMap<String, broadcast::Sender<()>>>>;

pub(crate) struct Notifier {
    client: redis::Client,
    feeds: Feeds,
    /// Channels to subscribe; the task is started on first use (it needs a Tokio runtime).
    commands: Mutex<Option<mpsc::UnboundedSender<String>>>,
}

impl Notifier {
    pub(crate) fn new(client: redis::Client) -> Self {
        Self {
            client,
            feeds: Arc::default(),
            commands: Mutex::new(None),
        }
    }

    /// A receiver of `event`'s change notices, subscribing the channel on first use.
    pub(crate) fn subscribe(&self, channel: &str) -> broadcast::Receiver<()> {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(channel) {
            return feed.subscribe();
        }
        let (feed, receiver) = broadcast::channel(FEED_CAPACITY);
        feeds.insert(channel.to_owned(), feed);
        drop(feeds);
        let mut commands = self.commands.lock().unwrap_or_else(|e| e.into_inner());
        let sender = commands.get_or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(self.client.clone(), self.feeds.clone(), rx));
            tx
        });
        let _ = sender.send(channel.to_owned());
        receiver
    }
}

fn wake_all(feeds: &Feeds) {
    for feed in feeds.lock().unwrap_or_else(|e| e.into_inner()).values() {
        let _ = feed.send(());
    }
}

/// Runs until the notifier is dropped.
async fn run(client: redis::Client, feeds: Feeds, mut commands: mpsc::UnboundedReceiver<String>) {
    loop {
        let connected =
            tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub()).await;
        let Ok(Ok(pubsub)) = connected else {
            tracing::debug!("waiting room: pub/sub connection failed, retrying");
            tokio::select! {
                _ = tokio::time::sleep(RECONNECT_DELAY) => continue,
                _ = wait_closed(&mut commands) => return,
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let channels: Vec<String> = feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        if !channels.is_empty() && sink.subscribe(&channels).await.is_err() {
            tokio::time::sleep(RECONNECT_DELAY).await;
            continue;
        }
        wake_all(&feeds);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None => return,
                    Some(channel) => {
                        if sink.subscribe(&channel).await.is_err() {
                            break;
                        }
                    }
                },
                message = stream.next() => match message {
                    None => {
                        tracing::warn!("waiting room: pub/sub connection lost, reconnecting");
                        break;
                    }
                    Some(message) => {
                        let feeds = feeds.lock().unwrap_or_else(|e| e.into_inner());
                        if let Some(feed) = feeds.get(message.get_channel_name()) {
                            let _ = feed.send(());
                        }
                    }
                },
            }
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// Drains subscribe commands while disconnected (the channels are already in `feeds` and get
/// subscribed on reconnect); returns once the notifier is gone.
async fn wait_closed(commands: &mut mpsc::UnboundedReceiver<String>) {
    while commands.recv().await.is_some() {}
}
