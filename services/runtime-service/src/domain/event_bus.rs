//! The event bus: every event is appended to the durable per-session log first, then fanned out
//! live to the subscribers of its session in this process. A per-session lock (striped) keeps the
//! live order equal to the `event_id` order, so a subscriber that reads the log and then the live
//! feed can de-duplicate by id alone.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};

use platform_sdk::agent_wire::SessionEvent;
use platform_sdk::time_util::now_ms;
use sqlx::AnyPool;
use tokio::sync::broadcast;

use crate::storage;

const STRIPES: usize = 256;
/// Live buffer per session; a subscriber further behind is told it lagged and re-reads the log.
const CHANNEL_CAPACITY: usize = 1024;

/// Appends and fans out events.
pub struct EventBus {
    pool: AnyPool,
    channels: Mutex<HashMap<String, broadcast::Sender<SessionEvent>>>,
    locks: Vec<tokio::sync::Mutex<()>>,
}

impl EventBus {
    /// A bus over the log's pool.
    pub fn new(pool: AnyPool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            channels: Mutex::new(HashMap::new()),
            locks: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        })
    }

    /// The pool (readers of the log use it).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    fn stripe(&self, session_id: &str) -> &tokio::sync::Mutex<()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        session_id.hash(&mut h);
        &self.locks[(h.finish() as usize) % STRIPES]
    }

    /// Appends an event to the session's log and delivers it to live subscribers.
    pub async fn emit(
        &self,
        tenant_id: &str,
        session_id: &str,
        execution_id: Option<&str>,
        event_type: &str,
        data: serde_json::Value,
    ) -> Result<SessionEvent, sqlx::Error> {
        let _ordered = self.stripe(session_id).lock().await;
        let event = storage::events::append(
            &self.pool,
            tenant_id,
            session_id,
            execution_id,
            event_type,
            &data,
            now_ms(),
        )
        .await?;
        if let Ok(mut channels) = self.channels.lock() {
            if let Some(tx) = channels.get(session_id) {
                if tx.send(event.clone()).is_err() {
                    channels.remove(session_id);
                }
            }
        }
        Ok(event)
    }

    /// Appends several events of one session in one transaction and delivers them in order.
    pub async fn emit_batch(
        &self,
        tenant_id: &str,
        session_id: &str,
        execution_id: Option<&str>,
        events: &[(&str, serde_json::Value)],
    ) -> Result<Vec<SessionEvent>, sqlx::Error> {
        let _ordered = self.stripe(session_id).lock().await;
        let stored = storage::events::append_batch(
            &self.pool,
            tenant_id,
            session_id,
            execution_id,
            events,
            now_ms(),
        )
        .await?;
        if let Ok(mut channels) = self.channels.lock() {
            if let Some(tx) = channels.get(session_id) {
                for event in &stored {
                    if tx.send(event.clone()).is_err() {
                        channels.remove(session_id);
                        break;
                    }
                }
            }
        }
        Ok(stored)
    }

    /// Live events of a session from now on.
    pub fn subscribe(&self, session_id: &str) -> broadcast::Receiver<SessionEvent> {
        match self.channels.lock() {
            Ok(mut channels) => channels
                .entry(session_id.to_owned())
                .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
                .subscribe(),
            Err(_) => broadcast::channel(1).1,
        }
    }
}
