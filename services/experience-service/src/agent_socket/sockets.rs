//! The registry of open agent sockets on this replica, by session. Logout and any other session
//! revocation (seen locally or through the revocation poller) closes the session's sockets with
//! 4401 (also the sockets opened with a token of that session on another session, e.g. an
//! upgraded anonymous one); shutdown closes every socket with 1001. It also holds the socket
//! limits (`ws.*`): the caps on open sockets per session and per user (checked before the
//! upgrade), the per-user turn budget shared by all of a user's sockets, and the shared session
//! streams ([`Hubs`]). Counts are per replica (ADR 0011).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use platform_sdk::metrics::Metrics;
use platform_sdk::runtime_client::RuntimeClient;
use tokio::sync::mpsc;

use super::hub::Hubs;
use super::rate::Bucket;
use crate::configuration::WsSettings;
use crate::error::ApiError;
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

/// Close code for an anonymous session's sockets once it was upgraded (or is gone).
pub const SESSION_UPGRADED: CloseRequest = CloseRequest {
    code: 4403,
    reason: "session upgraded or ended; reconnect with your access token",
};

/// Who a socket is, for the registry.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The session the socket is attached to (counted against `ws.max_sockets_per_session`).
    pub session_id: String,
    /// The token's own session when it differs (its logout closes this socket too).
    pub token_sid: Option<String>,
    /// The user, or `anon:{session}` for an anonymous session (`ws.max_sockets_per_user`).
    pub user_key: String,
}

#[derive(Default)]
struct Registry {
    /// Close channels by session id (a socket is listed under its session and its token's).
    by_session: HashMap<String, Vec<(u64, mpsc::Sender<CloseRequest>)>>,
    /// Open sockets per attached session.
    attached: HashMap<String, usize>,
    /// Open sockets per user key.
    per_user: HashMap<String, usize>,
    /// Turn buckets per user key (dropped with the user's last socket).
    turns: HashMap<String, Bucket>,
}

/// Open sockets by session id.
#[derive(Clone)]
pub struct Sockets {
    inner: Arc<Mutex<Registry>>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
    metrics: Metrics,
    settings: Arc<WsSettings>,
    hubs: Hubs,
}

/// Unregisters a socket when dropped.
pub struct Registration {
    sockets: Sockets,
    owner: Owner,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.sockets.remove(&self.owner, self.id);
    }
}

fn decrement(map: &mut HashMap<String, usize>, key: &str) -> usize {
    let left = map.get(key).copied().unwrap_or(0).saturating_sub(1);
    if left == 0 {
        map.remove(key);
    } else {
        map.insert(key.to_owned(), left);
    }
    left
}

impl Sockets {
    /// An empty registry that follows revocations; `settings` are the limits of its sockets and
    /// `runtime` feeds the shared session streams.
    pub fn new(
        revoked: &RevokedSessions,
        metrics: Metrics,
        settings: WsSettings,
        runtime: Arc<RuntimeClient>,
    ) -> Self {
        let sockets = Self {
            inner: Arc::default(),
            next_id: Arc::default(),
            metrics,
            hubs: Hubs::new(runtime, settings.send_queue),
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

    /// The shared session streams.
    pub fn hubs(&self) -> &Hubs {
        &self.hubs
    }

    /// Registers a socket unless its session or user already has the most sockets allowed
    /// (`429 too_many_sockets`); returns its close channel and a guard.
    pub fn register(
        &self,
        owner: Owner,
    ) -> Result<(mpsc::Receiver<CloseRequest>, Registration), ApiError> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(2);
        {
            let mut registry = self
                .inner
                .lock()
                .map_err(|_| ApiError::internal(anyhow::anyhow!("socket registry poisoned")))?;
            let on_session = registry.attached.get(&owner.session_id).copied();
            if on_session.unwrap_or(0) >= self.settings.max_sockets_per_session {
                return Err(ApiError::TooManySockets(
                    "this session has too many open sockets; close one first",
                ));
            }
            let of_user = registry.per_user.get(&owner.user_key).copied();
            if of_user.unwrap_or(0) >= self.settings.max_sockets_per_user {
                return Err(ApiError::TooManySockets(
                    "you have too many open sockets; close one first",
                ));
            }
            *registry
                .attached
                .entry(owner.session_id.clone())
                .or_default() += 1;
            *registry.per_user.entry(owner.user_key.clone()).or_default() += 1;
            for key in std::iter::once(&owner.session_id).chain(owner.token_sid.as_ref()) {
                registry
                    .by_session
                    .entry(key.clone())
                    .or_default()
                    .push((id, tx.clone()));
            }
        }
        self.metrics.gauge_add("open_sockets", 1);
        Ok((
            rx,
            Registration {
                sockets: self.clone(),
                owner,
                id,
            },
        ))
    }

    /// Takes one turn from the user's budget, shared by all their sockets on this replica.
    pub fn allow_turn(&self, user_key: &str) -> bool {
        let Ok(mut registry) = self.inner.lock() else {
            return false;
        };
        let (rate, burst) = (
            self.settings.user_turns_per_sec,
            self.settings.user_turn_burst,
        );
        registry
            .turns
            .entry(user_key.to_owned())
            .or_insert_with(|| Bucket::new(rate, burst))
            .allow()
    }

    fn remove(&self, owner: &Owner, id: u64) {
        if let Ok(mut registry) = self.inner.lock() {
            for key in std::iter::once(&owner.session_id).chain(owner.token_sid.as_ref()) {
                if let Some(list) = registry.by_session.get_mut(key) {
                    list.retain(|(i, _)| *i != id);
                    if list.is_empty() {
                        registry.by_session.remove(key);
                    }
                }
            }
            decrement(&mut registry.attached, &owner.session_id);
            if decrement(&mut registry.per_user, &owner.user_key) == 0 {
                registry.turns.remove(&owner.user_key);
            }
        }
        self.metrics.gauge_add("open_sockets", -1);
    }

    /// Closes every socket of a session (and every socket opened with a token of it).
    pub fn close_session(&self, session_id: &str, request: CloseRequest) {
        if let Ok(registry) = self.inner.lock() {
            for (_, tx) in registry.by_session.get(session_id).into_iter().flatten() {
                let _ = tx.try_send(request);
            }
        }
    }

    /// Closes every socket.
    pub fn close_all(&self, request: CloseRequest) {
        if let Ok(registry) = self.inner.lock() {
            for (_, tx) in registry.by_session.values().flatten() {
                let _ = tx.try_send(request);
            }
        }
    }

    /// Number of open sockets.
    pub fn count(&self) -> usize {
        self.inner
            .lock()
            .map(|r| r.attached.values().sum())
            .unwrap_or(0)
    }
}
