//! The registry of open agent sockets on this replica, by session. Logout and any other session
//! revocation (seen locally or through the revocation poller) closes the session's sockets with
//! 4401; shutdown closes every socket with 1001. It also holds the socket limits (`ws.*`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use platform_sdk::metrics::Metrics;
use tokio::sync::mpsc;

use crate::configuration::WsSettings;
use crate::identity::domain::revocation::RevokedSessions;

/// A close request for a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseRequest {
    /// WebSocket close code.
    pub code: u16,
    /// Why.
    pub reason: &'static str,
}

/// Close code after logout / session end.
pub const SESSION_ENDED: CloseRequest = CloseRequest {
    code: 4401,
    reason: "session ended",
};
/// Close code on shutdown.
pub const GOING_AWAY: CloseRequest = CloseRequest {
    code: 1001,
    reason: "server shutting down",
};

type Entry = (u64, mpsc::Sender<CloseRequest>);

/// Open sockets by session id.
#[derive(Clone)]
pub struct Sockets {
    inner: Arc<Mutex<HashMap<String, Vec<Entry>>>>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
    metrics: Metrics,
    settings: Arc<WsSettings>,
}

/// Unregisters a socket when dropped.
pub struct Registration {
    sockets: Sockets,
    session_id: String,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.sockets.remove(&self.session_id, self.id);
    }
}

impl Sockets {
    /// An empty registry that follows revocations; `settings` are the limits of its sockets.
    pub fn new(revoked: &RevokedSessions, metrics: Metrics, settings: WsSettings) -> Self {
        let sockets = Self {
            inner: Arc::default(),
            next_id: Arc::default(),
            metrics,
            settings: Arc::new(settings),
        };
        let mut watch = revoked.watch();
        let closer = sockets.clone();
        tokio::spawn(async move {
            loop {
                match watch.recv().await {
                    Ok(ids) => ids
                        .iter()
                        .for_each(|id| closer.close_session(id, SESSION_ENDED)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        sockets
    }

    /// The limits every socket of this replica runs with.
    pub fn settings(&self) -> &WsSettings {
        &self.settings
    }

    /// Registers a socket of a session; returns its close channel and a guard.
    pub fn register(&self, session_id: &str) -> (mpsc::Receiver<CloseRequest>, Registration) {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(2);
        if let Ok(mut map) = self.inner.lock() {
            map.entry(session_id.to_owned()).or_default().push((id, tx));
        }
        self.metrics.gauge_add("open_sockets", 1);
        (
            rx,
            Registration {
                sockets: self.clone(),
                session_id: session_id.to_owned(),
                id,
            },
        )
    }

    fn remove(&self, session_id: &str, id: u64) {
        if let Ok(mut map) = self.inner.lock() {
            if let Some(list) = map.get_mut(session_id) {
                list.retain(|(i, _)| *i != id);
                if list.is_empty() {
                    map.remove(session_id);
                }
            }
        }
        self.metrics.gauge_add("open_sockets", -1);
    }

    /// Closes every socket of a session.
    pub fn close_session(&self, session_id: &str, request: CloseRequest) {
        if let Ok(map) = self.inner.lock() {
            for (_, tx) in map.get(session_id).into_iter().flatten() {
                let _ = tx.try_send(request);
            }
        }
    }

    /// Closes every socket.
    pub fn close_all(&self, request: CloseRequest) {
        if let Ok(map) = self.inner.lock() {
            for (_, tx) in map.values().flatten() {
                let _ = tx.try_send(request);
            }
        }
    }

    /// Number of open sockets.
    pub fn count(&self) -> usize {
        self.inner
            .lock()
            .map(|m| m.values().map(Vec::len).sum())
            .unwrap_or(0)
    }
}
