//! Live events (SPEC §13): a durable, ordered per-tenant event log that producers append to
//! inside their own transaction, woken up live across replicas, and followed by the experience
//! plane (one follow per tenant per experience replica, fanned out there to its SSE clients).
//!
//! - [`Live`]: [`Live::publish_in`] (append on the caller's transaction), [`Live::wake`] (after
//!   the commit), reads, the follow engine ([`follow`]) and retention.
//! - [`bus`]: wake-ups across runtime replicas over the State Surface's publish/subscribe.
//! - [`subscriptions`]: a user's event subscriptions (the stream's filters).
//! - [`routes`]: the internal page and stream (service token) and the subscription endpoints.
//! - [`storage`]: the `tenant_events` table.
//!
//! Why wake-ups and not events on the bus: an event is appended inside its producer's
//! transaction, so it exists only once that commits; the log is the one truth and a wake-up only
//! says "read the log after your cursor". A producer that can call [`Live::wake`] after its
//! commit gets its event delivered at once; a producer deep inside another feature's transaction
//! needs nothing more than [`publish_in`] on that transaction: each replica's watcher
//! ([`Live::watch_forever`]) finds new events of the tenants it follows within `live.poll_ms`.
//! A rolled-back change never shows (its row never existed).

mod bus;
pub mod follow;
pub mod routes;
pub mod storage;
pub mod subscriptions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use platform_sdk::db::is_unique_violation;
use platform_sdk::live_wire::TenantEvent;
use platform_sdk::state_surface::StateStore;
use platform_sdk::time_util::now_ms;
use sqlx::{AnyConnection, AnyPool, Connection as _};
use tokio::sync::watch;

pub use follow::FollowItem;

/// How often an append is retried when another writer took the same id.
const RETRIES: u32 = 50;

/// An event to publish. `audience`: `tenant`, `admins` (admins and owners), `admins!<user>`
/// (admins except that user, who got a personal copy) or `user:<id>`.
#[derive(Debug, Clone)]
pub struct LiveEvent<'a> {
    /// The tenant whose log it joins.
    pub tenant_id: &'a str,
    /// Its type (`platform_sdk::live_wire::live_types`).
    pub event_type: &'a str,
    /// Who may see it.
    pub audience: String,
    /// The agent concerned, if any (subscriptions filter on it).
    pub agent_id: Option<&'a str>,
    /// The context (multi-agent context or session) concerned, if any.
    pub context_id: Option<&'a str>,
    /// The event's fields.
    pub data: serde_json::Value,
}

/// The one-user audience of `user_id`.
pub fn user_audience(user_id: &str) -> String {
    format!("{}{user_id}", platform_sdk::live_wire::AUDIENCE_USER_PREFIX)
}

/// Appends `event` to its tenant's log on `conn` (the caller's open transaction, or a pooled
/// connection) and answers its id. Nothing shows before the caller commits; after the commit,
/// [`Live::wake`] delivers it at once (without it, the log's watcher finds it within
/// `live.poll_ms`). A concurrent writer that took the same id makes it retry under a savepoint,
/// so the caller's transaction survives.
pub async fn publish_in(
    conn: &mut AnyConnection,
    event: LiveEvent<'_>,
) -> Result<i64, sqlx::Error> {
    let mut attempts = 0;
    loop {
        let mut savepoint = conn.begin().await?;
        match storage::insert(&mut savepoint, &event, now_ms()).await {
            Ok(id) => {
                savepoint.commit().await?;
                return Ok(id);
            }
            Err(e) if attempts < RETRIES && is_unique_violation(&e) => {
                savepoint.rollback().await?;
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

struct Inner {
    pool: AnyPool,
    /// Wake-up counters of the tenants followed in this process.
    wakers: Mutex<HashMap<String, watch::Sender<u64>>>,
    bus: OnceLock<bus::Bus>,
    /// Flips to `true` at shutdown: every follow ends.
    closing: watch::Sender<bool>,
}

/// The tenant event log: publish, wake, read, follow, prune. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

impl Live {
    /// A log over its pool.
    pub fn new(pool: AnyPool) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                wakers: Mutex::new(HashMap::new()),
                bus: OnceLock::new(),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// Shares wake-ups with the other replicas over `store` (Redis); `origin` names this replica.
    pub fn connect_bus(&self, store: Arc<dyn StateStore>, origin: String) {
        let _ = self.inner.bus.set(bus::start(self, store, origin));
    }

    /// Appends `event` to its tenant's log on `conn` (see [`publish_in`]).
    pub async fn publish_in(
        &self,
        conn: &mut AnyConnection,
        event: LiveEvent<'_>,
    ) -> Result<i64, sqlx::Error> {
        publish_in(conn, event).await
    }

    /// Publishes one event on its own (no surrounding transaction) and wakes its followers.
    pub async fn publish(&self, event: LiveEvent<'_>) -> Result<i64, sqlx::Error> {
        let tenant_id = event.tenant_id.to_owned();
        let mut conn = self.inner.pool.acquire().await?;
        let id = publish_in(&mut conn, event).await?;
        self.wake(&tenant_id);
        Ok(id)
    }

    /// Tells the tenant's followers, here and on every replica, to read the log.
    pub fn wake(&self, tenant_id: &str) {
        self.wake_here(tenant_id);
        if let Some(bus) = self.inner.bus.get() {
            bus.publish(tenant_id);
        }
    }

    /// Wakes the tenant's followers in this process.
    fn wake_here(&self, tenant_id: &str) {
        if let Ok(mut wakers) = self.inner.wakers.lock() {
            if let Some(tx) = wakers.get(tenant_id) {
                if tx.receiver_count() == 0 {
                    wakers.remove(tenant_id);
                } else {
                    tx.send_modify(|n| *n = n.wrapping_add(1));
                }
            }
        }
    }

    /// Wakes every follower in this process (the bus was down: events may have been missed).
    fn wake_all_here(&self) {
        if let Ok(mut wakers) = self.inner.wakers.lock() {
            wakers.retain(|_, tx| tx.receiver_count() > 0);
            for tx in wakers.values() {
                tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }

    /// This process's wake-ups of a tenant.
    fn wakeups(&self, tenant_id: &str) -> watch::Receiver<u64> {
        match self.inner.wakers.lock() {
            Ok(mut wakers) => wakers
                .entry(tenant_id.to_owned())
                .or_insert_with(|| watch::channel(0).0)
                .subscribe(),
            Err(_) => watch::channel(0).1,
        }
    }

    /// Events of a tenant after `after` (at most `limit`, oldest first) and the retained bounds.
    pub async fn page(
        &self,
        tenant_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<TenantEvent>, Option<(i64, i64)>), sqlx::Error> {
        let bounds = storage::bounds(&self.inner.pool, tenant_id).await?;
        let events = storage::after(&self.inner.pool, tenant_id, after, limit).await?;
        Ok((events, bounds))
    }

    /// Wakes the followed tenants whose log grew, every `every`, forever: the safety net of
    /// producers that publish inside another feature's transaction and cannot call
    /// [`Self::wake`] after its commit. One query per round for all tenants (events of the last
    /// 5 s; only while something is followed here).
    pub async fn watch_forever(self, every: Duration) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen: HashMap<String, i64> = HashMap::new();
        loop {
            ticker.tick().await;
            let followed = self
                .inner
                .wakers
                .lock()
                .map(|w| !w.is_empty())
                .unwrap_or(false);
            if !followed {
                seen.clear();
                continue;
            }
            match storage::recent_tips(&self.inner.pool, now_ms() - 5_000).await {
                Ok(tips) => {
                    let mut next = HashMap::with_capacity(tips.len());
                    for (tenant_id, tip) in tips {
                        if seen.get(&tenant_id).is_none_or(|last| *last < tip) {
                            self.wake_here(&tenant_id);
                        }
                        next.insert(tenant_id, tip);
                    }
                    seen = next;
                }
                Err(e) => tracing::warn!(error = %e, "could not watch the tenant event log"),
            }
        }
    }

    /// Ends every follow (shutdown).
    pub fn close_follows(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Deletes events older than the retention, every half retention (at most hourly); forever.
    pub async fn prune_forever(self, retention: Duration) {
        let every = (retention / 2).clamp(Duration::from_millis(500), Duration::from_secs(3600));
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            let before = now_ms() - retention.as_millis() as i64;
            match storage::prune(&self.inner.pool, before).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned old tenant events"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not prune tenant events"),
            }
        }
    }

    /// The pool (the notification and subscription stores share it).
    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }
}
