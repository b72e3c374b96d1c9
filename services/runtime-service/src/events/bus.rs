//! Live fan-out across runtime replicas (SPEC §17): every event one replica appends is published
//! on one State Surface channel (Redis pub/sub in production), and every other replica delivers
//! it to its own followers of that session. The embedded default has one process and no bus.
//!
//! Pub/sub is a notification, never the only copy: the durable log is the source of truth. A
//! follower that sees an id beyond the one it expects re-reads the log (see [`super::follow`]),
//! and when the subscription drops (Redis restarted, connection lost) every local follower is
//! told to re-read the log once the bus is back, so nothing published in between is missed.
//!
//! One channel for the whole deployment, not one per session: a replica keeps one subscriber
//! connection however many sessions it follows, at the cost of receiving events of sessions it
//! does not follow (dropped after a map lookup). Publishing goes through an ordered queue, so an
//! append never waits on Redis and a replica's events of one session are published in id order.

use std::sync::{Arc, Weak};

use platform_sdk::agent_wire::SessionEvent;
use platform_sdk::state_surface::{Channel, Delivery, StateStore};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::EventLog;

/// The channel (the store adds its key prefix, so deployments sharing a Redis stay apart).
const CHANNEL: &str = "session-events";

/// One published event. `origin` stays the first field (see `receive_forever`).
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The replica that appended it (which does not deliver it twice).
    origin: String,
    session_id: String,
    /// The event; `None` when the session moved to another tenant (its followers end).
    event: Option<SessionEvent>,
}

/// The publishing half, held by the [`EventLog`].
pub(super) struct Bus {
    origin: String,
    queue: mpsc::UnboundedSender<String>,
}

impl Bus {
    /// Queues an event for publication (never blocks on the store); `None`: the session moved.
    pub(super) fn publish(&self, session_id: &str, event: Option<&SessionEvent>) {
        let envelope = Envelope {
            origin: self.origin.clone(),
            session_id: session_id.to_owned(),
            event: event.cloned(),
        };
        if let Ok(text) = serde_json::to_string(&envelope) {
            let _ = self.queue.send(text);
        }
    }
}

/// Starts the bus of `log` over `store`: a publisher task draining the queue in order and a
/// subscriber task delivering other replicas' events. `origin` names this replica.
pub(super) fn start(log: &Arc<EventLog>, store: Arc<dyn StateStore>, origin: String) -> Bus {
    let (queue, mut outgoing) = mpsc::unbounded_channel::<String>();
    let publisher = store.clone();
    tokio::spawn(async move {
        while let Some(text) = outgoing.recv().await {
            if let Err(e) = publisher.publish(CHANNEL, &text).await {
                // Followers on other replicas see the gap at the next event and read the log.
                tracing::warn!(error = %e, "could not publish a session event");
            }
        }
    });
    tokio::spawn(receive_forever(Arc::downgrade(log), store, origin.clone()));
    Bus { origin, queue }
}

/// Delivers other replicas' events until the log is dropped; after every (re)subscription the
/// local followers re-read the log.
async fn receive_forever(log: Weak<EventLog>, store: Arc<dyn StateStore>, origin: String) {
    // This replica's own events (delivered already) are skipped without decoding them: `origin`
    // is the envelope's first field. (Were one decoded anyway, followers drop it by its id.)
    let own = format!("{{\"origin\":{},", serde_json::Value::String(origin));
    let mut channel = Channel::later(store, CHANNEL);
    loop {
        let delivery = channel.next().await;
        let Some(log) = log.upgrade() else { return };
        let text = match delivery {
            Delivery::Resubscribed => {
                log.resync_all();
                continue;
            }
            Delivery::Message(text) if text.starts_with(&own) => continue,
            Delivery::Message(text) => text,
        };
        match serde_json::from_str::<Envelope>(&text) {
            Ok(Envelope {
                session_id,
                event: Some(event),
                ..
            }) => log.deliver(&session_id, event),
            Ok(Envelope {
                session_id,
                event: None,
                ..
            }) => log.end_follows(&session_id),
            Err(_) => tracing::warn!("dropped an unreadable session event message"),
        }
    }
}
