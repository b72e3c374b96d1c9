//! One runtime event stream per session per replica, fanned out in-process to every socket of
//! that session (ADR 0011).
//!
//! A socket joins its session's [`Hub`] before the upgrade, so it sees every event of the session
//! from the moment it is open, whether or not it has sent a turn (two tabs on one session both
//! see everything). The first socket of a session starts the hub: one SSE stream to the runtime
//! "from now", and the join waits until the runtime has subscribed, so no event after that can
//! be missed. Later sockets only subscribe to the in-process broadcast: an idle socket costs a
//! broadcast receiver, not a runtime connection. The hub owns its cursor, reconnects from it
//! when the stream breaks, and ends (telling its sockets [`HubItem::Gone`]) when the runtime no
//! longer knows the session under that tenant (ended and expired, or upgraded). It stops when
//! its last socket leaves. A socket that falls more than `ws.send_queue` events behind is a slow
//! consumer: it is closed with 1013 and resumes from the durable log (see [`super::follower`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use platform_sdk::agent_wire::SessionEvent;
use platform_sdk::runtime_client::{RuntimeClient, RuntimeClientError};
use platform_sdk::runtime_stream::StreamItem;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::follower::lost_resume_point;

/// What a hub hands its sockets.
#[derive(Debug, Clone)]
pub enum HubItem {
    /// The next event of the session.
    Event(SessionEvent),
    /// The runtime no longer serves this session under this tenant: close the socket.
    Gone,
}

/// Where a starting hub stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    Starting,
    Ready,
    Failed,
}

type Key = (String, String);
type Map = Arc<Mutex<HashMap<Key, Weak<Hub>>>>;

/// The session streams of this replica.
#[derive(Clone)]
pub struct Hubs {
    map: Map,
    runtime: Arc<RuntimeClient>,
    capacity: usize,
}

/// One session's stream and its fan-out.
pub struct Hub {
    key: Key,
    tx: broadcast::Sender<HubItem>,
    ready: watch::Receiver<Readiness>,
    task: JoinHandle<()>,
    map: Map,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
        if let Ok(mut map) = self.map.lock() {
            if map.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
                map.remove(&self.key);
            }
        }
    }
}

/// A socket's membership of a hub: keep the hub alive, read from the receiver.
pub struct Subscription {
    /// The hub (alive while any socket holds it).
    pub hub: Arc<Hub>,
    /// This socket's view of the fan-out.
    pub rx: broadcast::Receiver<HubItem>,
}

impl Hubs {
    /// No hubs yet; each buffers `capacity` events for its slowest socket.
    pub fn new(runtime: Arc<RuntimeClient>, capacity: usize) -> Self {
        Self {
            map: Arc::default(),
            runtime,
            capacity: capacity.max(1),
        }
    }

    /// Joins the session's hub, starting it if needed, and waits until it follows the runtime
    /// (at most 5 s). `None` when the runtime could not be subscribed to.
    pub async fn join(
        &self,
        request_id: &str,
        tenant_id: &str,
        session_id: &str,
    ) -> Option<Subscription> {
        let key = (tenant_id.to_owned(), session_id.to_owned());
        let (hub, rx) = {
            let mut map = self.map.lock().ok()?;
            let live = map
                .get(&key)
                .and_then(Weak::upgrade)
                .filter(|h| !h.task.is_finished());
            let hub = match live {
                Some(hub) => hub,
                None => {
                    let hub = self.start(request_id, key.clone());
                    map.insert(key, Arc::downgrade(&hub));
                    hub
                }
            };
            let rx = hub.tx.subscribe();
            (hub, rx)
        };
        let mut ready = hub.ready.clone();
        let waited = tokio::time::timeout(
            Duration::from_secs(5),
            ready.wait_for(|r| *r != Readiness::Starting),
        )
        .await;
        match waited {
            Ok(Ok(r)) if *r == Readiness::Ready => Some(Subscription { hub, rx }),
            _ => None,
        }
    }

    fn start(&self, request_id: &str, key: Key) -> Arc<Hub> {
        let (tx, _) = broadcast::channel(self.capacity);
        let (ready_tx, ready) = watch::channel(Readiness::Starting);
        let task = tokio::spawn(run(
            self.runtime.clone(),
            request_id.to_owned(),
            key.clone(),
            tx.clone(),
            ready_tx,
        ));
        Arc::new(Hub {
            key,
            tx,
            ready,
            task,
            map: self.map.clone(),
        })
    }
}

/// Follows the session from now, reconnecting from the cursor, until the runtime no longer
/// knows the session (or, before the first subscription, cannot be reached).
async fn run(
    runtime: Arc<RuntimeClient>,
    request_id: String,
    (tenant_id, session_id): Key,
    tx: broadcast::Sender<HubItem>,
    ready: watch::Sender<Readiness>,
) {
    let mut cursor = -1_i64;
    let mut delay = Duration::from_millis(50);
    loop {
        let opened = runtime
            .follow_session(&request_id, &tenant_id, &session_id, cursor)
            .await;
        let broke = match opened {
            Ok(mut stream) => loop {
                match stream.next().await {
                    Some(Ok(StreamItem::Cursor(start))) => {
                        cursor = if cursor < 0 { start } else { cursor.max(start) };
                        ready.send_replace(Readiness::Ready);
                        delay = Duration::from_millis(50);
                    }
                    Some(Ok(StreamItem::Event(event))) => {
                        let lost = lost_resume_point(&event);
                        if lost.is_none() && event.event_id <= cursor {
                            continue;
                        }
                        cursor = lost.unwrap_or(cursor.max(event.event_id));
                        // No receiver right now is fine: sockets come and go.
                        let _ = tx.send(HubItem::Event(event));
                    }
                    Some(Err(e)) => break Some(e),
                    None => break None,
                }
            },
            Err(e) => Some(e),
        };
        if let Some(e) = &broke {
            let gone = matches!(e, RuntimeClientError::Rejected { .. });
            if gone || *ready.borrow() == Readiness::Starting {
                tracing::debug!(error = %e, %session_id, "session stream unavailable; hub ends");
                ready.send_replace(Readiness::Failed);
                let _ = tx.send(HubItem::Gone);
                return;
            }
            tracing::debug!(error = %e, %session_id, "session stream interrupted; reconnecting");
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}
