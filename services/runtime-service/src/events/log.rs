//! The event log service: every event is appended to the durable per-session log first, then
//! fanned out live to the subscribers of its session in this process and, through the
//! [`super::bus`], to the other replicas. A per-session lock (striped) keeps this process's live
//! order equal to the `event_id` order; events of other replicas may arrive out of that order, so
//! a follower de-duplicates by id and fills any gap from the log. Reads of the log (pages, and the
//! live follow in [`super::follow`]) go through here too, so nothing outside this folder touches
//! its SQL.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex, OnceLock};

use std::time::Duration;

use futures_util::future::BoxFuture;
use platform_sdk::agent_wire::SessionEvent;
use platform_sdk::db::is_unique_violation;
use platform_sdk::state_surface::StateStore;
use platform_sdk::time_util::now_ms;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{broadcast, watch};

use super::bus::{self, Bus};
use super::{storage, StreamScope};
use crate::error::RuntimeError;

const STRIPES: usize = 256;
/// Live buffer per session; a subscriber further behind is told it lagged and re-reads the log.
const CHANNEL_CAPACITY: usize = 1024;

/// How often an append is retried when another replica took the same event ids.
const RETRIES: u32 = 20;

/// Statements run in the same transaction as appended events (see [`EventLog::append_with`]);
/// `Ok(false)` abandons the transaction.
pub type InTransaction<'w> = Box<
    dyn for<'c> FnMut(&'c mut AnyConnection) -> BoxFuture<'c, Result<bool, sqlx::Error>>
        + Send
        + 'w,
>;

/// Most events one page of a session's log holds.
const SESSION_PAGE: i64 = 1000;

/// What a session's live channel carries.
#[derive(Debug, Clone)]
pub(super) enum Live {
    /// An event, just appended here or on another replica.
    Event(SessionEvent),
    /// Events may have been missed (the bus was down): read the log.
    Resync,
}

/// Appends, fans out and reads events.
pub struct EventLog {
    pub(super) pool: AnyPool,
    channels: Mutex<HashMap<String, broadcast::Sender<Live>>>,
    /// Fan-out to other replicas; unset in the embedded default (one process).
    bus: OnceLock<Bus>,
    locks: Vec<tokio::sync::Mutex<()>>,
    /// Flips to `true` when the service shuts down: every live follow ends, so the graceful
    /// shutdown does not wait on streams that would otherwise stay open for good.
    closing: watch::Sender<bool>,
}

impl EventLog {
    /// A log over its pool.
    pub fn new(pool: AnyPool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            channels: Mutex::new(HashMap::new()),
            locks: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            bus: OnceLock::new(),
            closing: watch::channel(false).0,
        })
    }

    /// Shares live events with the other replicas over `store`'s publish/subscribe; `origin`
    /// names this replica. Call once, at start, when the store is shared (Redis).
    pub fn connect_bus(self: &Arc<Self>, store: Arc<dyn StateStore>, origin: String) {
        let _ = self.bus.set(bus::start(self, store, origin));
    }

    /// Delivers an event appended by another replica to this process's followers.
    pub(super) fn deliver(&self, session_id: &str, event: SessionEvent) {
        self.deliver_here(session_id, std::slice::from_ref(&event));
    }

    /// Hands events to this process's followers of the session, in order.
    fn deliver_here(&self, session_id: &str, events: &[SessionEvent]) {
        if let Ok(mut channels) = self.channels.lock() {
            if let Some(tx) = channels.get(session_id) {
                for event in events {
                    if tx.send(Live::Event(event.clone())).is_err() {
                        channels.remove(session_id);
                        break;
                    }
                }
            }
        }
    }

    /// Tells every follower in this process to re-read the log (events may have been missed).
    pub(super) fn resync_all(&self) {
        if let Ok(mut channels) = self.channels.lock() {
            channels.retain(|_, tx| tx.send(Live::Resync).is_ok());
        }
    }

    /// Delivers freshly stored events here and publishes them to the other replicas. Called
    /// under the session's stripe lock, so both keep the id order.
    fn fan_out(&self, session_id: &str, stored: &[SessionEvent]) {
        self.deliver_here(session_id, stored);
        if let Some(bus) = self.bus.get() {
            for event in stored {
                bus.publish(session_id, Some(event));
            }
        }
    }

    /// Ends every live follow (shutdown); appends and reads keep working.
    pub fn close_follows(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once [`Self::close_follows`] was called.
    pub(super) fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }

    fn stripe(&self, session_id: &str) -> &tokio::sync::Mutex<()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        session_id.hash(&mut h);
        &self.locks[(h.finish() as usize) % STRIPES]
    }

    /// Appends an event to the session's log and delivers it to live subscribers.
    pub async fn append(
        &self,
        tenant_id: &str,
        session_id: &str,
        execution_id: Option<&str>,
        event_type: &str,
        data: serde_json::Value,
    ) -> Result<SessionEvent, RuntimeError> {
        let mut stored = self
            .append_batch(tenant_id, session_id, execution_id, &[(event_type, data)])
            .await?;
        stored
            .pop()
            .ok_or_else(|| RuntimeError::Internal(anyhow::anyhow!("no event stored")))
    }

    /// Appends several events of one session in one statement and delivers them in order.
    pub async fn append_batch(
        &self,
        tenant_id: &str,
        session_id: &str,
        execution_id: Option<&str>,
        events: &[(&str, serde_json::Value)],
    ) -> Result<Vec<SessionEvent>, RuntimeError> {
        let _ordered = self.stripe(session_id).lock().await;
        let mut attempts = 0;
        let stored = loop {
            let mut conn = self.pool.acquire().await?;
            let now = now_ms();
            match storage::insert(&mut conn, tenant_id, session_id, execution_id, events, now).await
            {
                Ok(stored) => break stored,
                Err(e) if attempts < RETRIES && is_unique_violation(&e) => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        };
        self.fan_out(session_id, &stored);
        Ok(stored)
    }

    /// Runs `work` and appends `events` in one transaction (one commit), then delivers them.
    /// `work` returning `false` abandons both (nothing is written); it may run more than once
    /// (when another replica took the same event ids, everything is retried).
    pub async fn append_with(
        &self,
        tenant_id: &str,
        session_id: &str,
        execution_id: Option<&str>,
        events: &[(&str, serde_json::Value)],
        mut work: InTransaction<'_>,
    ) -> Result<Option<Vec<SessionEvent>>, RuntimeError> {
        let _ordered = self.stripe(session_id).lock().await;
        let mut attempts = 0;
        let stored = loop {
            let mut tx = self.pool.begin().await?;
            if !work(&mut tx).await? {
                tx.rollback().await?;
                return Ok(None);
            }
            let now = now_ms();
            match storage::insert(&mut tx, tenant_id, session_id, execution_id, events, now).await {
                Ok(stored) => {
                    tx.commit().await?;
                    break stored;
                }
                Err(e) if attempts < RETRIES && is_unique_violation(&e) => {
                    tx.rollback().await?;
                    attempts += 1;
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.fan_out(session_id, &stored);
        Ok(Some(stored))
    }

    /// Live events of a session from now on.
    pub(super) fn subscribe(&self, session_id: &str) -> broadcast::Receiver<Live> {
        match self.channels.lock() {
            Ok(mut channels) => channels
                .entry(session_id.to_owned())
                .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
                .subscribe(),
            Err(_) => broadcast::channel(1).1,
        }
    }

    /// The durable events in `scope` of a session after `after` (a session's: at most one page).
    pub async fn page(
        &self,
        tenant_id: &str,
        session_id: &str,
        scope: &StreamScope,
        after: i64,
    ) -> Result<Vec<SessionEvent>, RuntimeError> {
        Ok(match scope {
            StreamScope::Session => {
                storage::after(&self.pool, tenant_id, session_id, after, SESSION_PAGE).await?
            }
            StreamScope::Execution(id) => {
                storage::of_execution(&self.pool, tenant_id, id, after).await?
            }
        })
    }

    /// Moves a session's log to another tenant (an anonymous session upgraded to a user's) and
    /// ends its live followers: they followed it under the old tenant, where it no longer is,
    /// so they reconnect and are told it is gone. Idempotent.
    pub async fn move_session(
        &self,
        session_id: &str,
        from_tenant: &str,
        to_tenant: &str,
    ) -> Result<(), RuntimeError> {
        let _ordered = self.stripe(session_id).lock().await;
        storage::move_session(&self.pool, session_id, from_tenant, to_tenant).await?;
        self.end_follows(session_id);
        if let Some(bus) = self.bus.get() {
            bus.publish(session_id, None);
        }
        Ok(())
    }

    /// Ends this process's live followers of a session.
    pub(super) fn end_follows(&self, session_id: &str) {
        if let Ok(mut channels) = self.channels.lock() {
            channels.remove(session_id);
        }
    }

    /// Deletes events older than the retention, every half retention (at most hourly); runs
    /// forever.
    pub async fn prune_forever(self: std::sync::Arc<Self>, retention: Duration) {
        let every = (retention / 2).clamp(Duration::from_millis(500), Duration::from_secs(3600));
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            let before = now_ms() - retention.as_millis() as i64;
            match storage::prune(&self.pool, before).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned old session events"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not prune session events"),
            }
        }
    }
}
