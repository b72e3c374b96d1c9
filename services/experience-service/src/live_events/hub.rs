//! One runtime follow per tenant per replica, fanned out to every SSE client of that tenant here
//! ([`Streams`], one per process).
//!
//! The first client of a tenant starts its [`Hub`]: one stream of the runtime's tenant log "from
//! now"; the join waits until the runtime has subscribed, so nothing after that is missed. Each
//! event is framed once and offered to every client that wants it (audience and subscriptions,
//! [`super::filter`]) with a non-blocking `try_send` into the client's bounded queue: a client
//! whose queue is full is dropped (its stream ends; it resumes with `Last-Event-ID`), so one slow
//! reader never holds the others back. A client costs an entry here and its queue: no task, no
//! timer. The hub reconnects from its cursor when the stream breaks and stops with its last
//! client.
//!
//! One background task per process does the rest: the `: keep-alive` comment every
//! `events.heartbeat_ms`, and dropping the clients whose session ended (logout, on the
//! revocation set's notice, i.e. within its 250 ms poll on other replicas), whose member was
//! removed or whose access token expired; a role change applies to the admin flag.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix_web::web::Bytes;
use platform_sdk::live_wire::{live_types, Subscription, TenantEvent};
use platform_sdk::runtime_client::RuntimeClient;
use platform_sdk::runtime_live::LiveItem;
use platform_sdk::time_util::now_secs;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::filter::{frame, Reader};
use crate::configuration::EventsSettings;
use crate::identity::domain::revocation::RevokedSessions;
use crate::tenants::domain::changes::{AccessChanges, Standing};

/// What a client's queue carries: the event id (`0` for comments and `EVENTS_LOST`, which are
/// never de-duplicated) and the bytes to write.
pub type Frame = (i64, Bytes);

const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// Who a client is, for the fan-out and the sweeps.
#[derive(Debug, Clone)]
pub struct Member {
    /// Whose events it sees.
    pub reader: Reader,
    /// The access token's session (its logout ends the stream).
    pub sid: String,
    /// The token's expiry, epoch seconds (the stream ends then).
    pub exp: i64,
    /// An API key (never an admin here, whatever its creator's role becomes).
    pub key: bool,
}

struct Client {
    id: u64,
    member: Member,
    /// `None` until loaded (or announced by a `subscriptions.changed` event).
    subscriptions: Option<Arc<Vec<Subscription>>>,
    tx: mpsc::Sender<Frame>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    Starting,
    Ready,
    Failed,
}

/// One tenant's follow and its clients.
pub struct Hub {
    tenant_id: String,
    clients: Mutex<Vec<Client>>,
    ready: watch::Receiver<Readiness>,
    task: Mutex<Option<JoinHandle<()>>>,
}

struct Inner {
    runtime: Arc<RuntimeClient>,
    hubs: Mutex<HashMap<String, Arc<Hub>>>,
    settings: EventsSettings,
    next_id: AtomicU64,
}

/// The live streams of this replica. Cheap to clone.
#[derive(Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

/// A client's place in its hub; leaving (drop) removes it, and the hub with its last client.
pub struct Joined {
    streams: Streams,
    hub: Arc<Hub>,
    id: u64,
}

impl Drop for Joined {
    fn drop(&mut self) {
        let empty = match self.hub.clients.lock() {
            Ok(mut clients) => {
                clients.retain(|c| c.id != self.id);
                clients.is_empty()
            }
            Err(_) => false,
        };
        if empty {
            self.streams.retire(&self.hub);
        }
    }
}

impl Joined {
    /// Sets the client's subscriptions unless an announcement already did (it is newer).
    pub fn load_subscriptions(&self, list: Vec<Subscription>) {
        if let Ok(mut clients) = self.hub.clients.lock() {
            if let Some(c) = clients.iter_mut().find(|c| c.id == self.id) {
                c.subscriptions.get_or_insert_with(|| Arc::new(list));
            }
        }
    }

    /// The client's current subscriptions (for the resume read).
    pub fn subscriptions(&self) -> Option<Arc<Vec<Subscription>>> {
        let clients = self.hub.clients.lock().ok()?;
        clients
            .iter()
            .find(|c| c.id == self.id)
            .and_then(|c| c.subscriptions.clone())
    }
}

impl Streams {
    /// No streams yet; starts the heartbeat and sweep task.
    pub fn new(
        runtime: Arc<RuntimeClient>,
        settings: EventsSettings,
        revoked: RevokedSessions,
        access: AccessChanges,
    ) -> Self {
        let streams = Self {
            inner: Arc::new(Inner {
                runtime,
                hubs: Mutex::new(HashMap::new()),
                settings,
                next_id: AtomicU64::new(1),
            }),
        };
        tokio::spawn(sweep_forever(
            Arc::downgrade(&streams.inner),
            revoked,
            access,
        ));
        streams
    }

    /// Open streams on this replica.
    pub fn count(&self) -> usize {
        let hubs: Vec<Arc<Hub>> = match self.inner.hubs.lock() {
            Ok(hubs) => hubs.values().cloned().collect(),
            Err(_) => return 0,
        };
        hubs.iter()
            .map(|h| h.clients.lock().map(|c| c.len()).unwrap_or(0))
            .sum()
    }

    /// Adds a client to its tenant's hub (starting it if needed) and waits until the hub follows
    /// the runtime (at most 5 s). `None` when the runtime could not be subscribed to.
    pub async fn join(
        &self,
        request_id: &str,
        tenant_id: &str,
        member: Member,
    ) -> Option<(Joined, mpsc::Receiver<Frame>)> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.inner.settings.client_queue.max(1));
        let hub = {
            let mut hubs = self.inner.hubs.lock().ok()?;
            let hub = hubs
                .get(tenant_id)
                .filter(|h| *h.ready.borrow() != Readiness::Failed)
                .cloned()
                .unwrap_or_else(|| {
                    let hub = self.start(request_id, tenant_id);
                    hubs.insert(tenant_id.to_owned(), hub.clone());
                    hub
                });
            hub.clients.lock().ok()?.push(Client {
                id,
                member,
                subscriptions: None,
                tx,
            });
            hub
        };
        let joined = Joined {
            streams: self.clone(),
            hub: hub.clone(),
            id,
        };
        let mut ready = hub.ready.clone();
        let waited = tokio::time::timeout(
            Duration::from_secs(5),
            ready.wait_for(|r| *r != Readiness::Starting),
        )
        .await;
        match waited {
            Ok(Ok(r)) if *r == Readiness::Ready => Some((joined, rx)),
            _ => None,
        }
    }

    fn start(&self, request_id: &str, tenant_id: &str) -> Arc<Hub> {
        let (ready_tx, ready) = watch::channel(Readiness::Starting);
        let hub = Arc::new(Hub {
            tenant_id: tenant_id.to_owned(),
            clients: Mutex::new(Vec::new()),
            ready,
            task: Mutex::new(None),
        });
        let task = tokio::spawn(follow(
            self.inner.runtime.clone(),
            request_id.to_owned(),
            Arc::downgrade(&hub),
            ready_tx,
        ));
        if let Ok(mut slot) = hub.task.lock() {
            *slot = Some(task);
        }
        hub
    }

    /// Stops a hub whose last client left (unless a client joined meanwhile).
    fn retire(&self, hub: &Arc<Hub>) {
        let Ok(mut hubs) = self.inner.hubs.lock() else {
            return;
        };
        let still_empty = hub.clients.lock().map(|c| c.is_empty()).unwrap_or(true);
        if !still_empty {
            return;
        }
        if hubs
            .get(&hub.tenant_id)
            .is_some_and(|h| Arc::ptr_eq(h, hub))
        {
            hubs.remove(&hub.tenant_id);
        }
        if let Ok(mut task) = hub.task.lock() {
            if let Some(task) = task.take() {
                task.abort();
            }
        }
    }
}

impl Hub {
    /// Offers one event to every client that wants it; drops the clients whose queue is full.
    fn deliver(&self, event: &TenantEvent) {
        let Ok(mut clients) = self.clients.lock() else {
            return;
        };
        if event.event_type == live_types::SUBSCRIPTIONS_CHANGED {
            let list: Vec<Subscription> = event
                .data
                .get("subscriptions")
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .unwrap_or_default();
            let list = Arc::new(list);
            for c in clients.iter_mut() {
                if c.member.reader.sees(&event.audience) {
                    c.subscriptions = Some(list.clone());
                }
            }
            return;
        }
        let lost = event.event_type == live_types::EVENTS_LOST;
        let bytes = frame(event);
        let id = if lost { 0 } else { event.event_id };
        clients.retain(|c| {
            !c.member
                .reader
                .wants(c.subscriptions.as_deref().map(Vec::as_slice), event)
                || c.tx.try_send((id, bytes.clone())).is_ok()
        });
    }

    /// Keep-alive for every client, and drops those `gone` says must go (`Some(admin)` updates
    /// the admin flag).
    fn sweep(&self, gone: &dyn Fn(&Member) -> Result<Option<bool>, ()>, keep_alive: bool) {
        let Ok(mut clients) = self.clients.lock() else {
            return;
        };
        clients.retain_mut(|c| match gone(&c.member) {
            Err(()) => false,
            Ok(admin) => {
                if let Some(admin) = admin {
                    c.member.reader.admin = admin;
                }
                !keep_alive || c.tx.try_send((0, Bytes::from_static(KEEP_ALIVE))).is_ok()
            }
        });
    }
}

/// Follows the tenant from now, reconnecting from the cursor, until the hub is gone (or, before
/// the first subscription, the runtime cannot be reached).
async fn follow(
    runtime: Arc<RuntimeClient>,
    request_id: String,
    hub: Weak<Hub>,
    ready: watch::Sender<Readiness>,
) {
    let Some(tenant_id) = hub.upgrade().map(|h| h.tenant_id.clone()) else {
        return;
    };
    let mut cursor = -1_i64;
    let mut delay = Duration::from_millis(50);
    loop {
        let broke = match runtime.follow_tenant(&request_id, &tenant_id, cursor).await {
            Ok(mut stream) => loop {
                match stream.next().await {
                    Some(Ok(LiveItem::Cursor(start))) => {
                        cursor = if cursor < 0 { start } else { cursor.max(start) };
                        ready.send_replace(Readiness::Ready);
                        delay = Duration::from_millis(50);
                    }
                    Some(Ok(LiveItem::Event(event))) => {
                        let lost = (event.event_type == live_types::EVENTS_LOST)
                            .then(|| event.data["resume_after"].as_i64())
                            .flatten();
                        if lost.is_none() && event.event_id <= cursor {
                            continue;
                        }
                        cursor = lost.unwrap_or(event.event_id);
                        let Some(hub) = hub.upgrade() else { return };
                        hub.deliver(&event);
                    }
                    Some(Err(e)) => break Some(e),
                    None => break None,
                }
            },
            Err(e) => Some(e),
        };
        if let Some(e) = &broke {
            if *ready.borrow() == Readiness::Starting {
                tracing::debug!(error = %e, %tenant_id, "tenant stream unavailable");
                ready.send_replace(Readiness::Failed);
                return;
            }
            tracing::debug!(error = %e, %tenant_id, "tenant stream interrupted; reconnecting");
        }
        if hub.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Heartbeats and drops the clients whose session ended, member was removed or token expired.
async fn sweep_forever(inner: Weak<Inner>, revoked: RevokedSessions, access: AccessChanges) {
    let every = match inner.upgrade() {
        Some(i) => Duration::from_millis(i.settings.heartbeat_ms.max(10)),
        None => return,
    };
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    let mut ended = revoked.watch();
    loop {
        let keep_alive = tokio::select! {
            _ = ticker.tick() => true,
            _ = ended.recv() => false,
        };
        let Some(inner) = inner.upgrade() else { return };
        let hubs: Vec<Arc<Hub>> = match inner.hubs.lock() {
            Ok(hubs) => hubs.values().cloned().collect(),
            Err(_) => continue,
        };
        let now = now_secs();
        for hub in hubs {
            let gone = |m: &Member| -> Result<Option<bool>, ()> {
                if revoked.contains(&m.sid) || m.exp <= now {
                    return Err(());
                }
                match access.standing(&hub.tenant_id, &m.reader.user_id) {
                    Standing::Unchanged => Ok(None),
                    Standing::Removed => Err(()),
                    Standing::Role(role) => {
                        Ok(Some(!m.key && matches!(role.as_str(), "admin" | "owner")))
                    }
                }
            };
            hub.sweep(&gone, keep_alive);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> Hub {
        Hub {
            tenant_id: "t".into(),
            clients: Mutex::new(Vec::new()),
            ready: watch::channel(Readiness::Ready).1,
            task: Mutex::new(None),
        }
    }

    fn client(hub: &Hub, id: u64, user: &str, queue: usize) -> mpsc::Receiver<Frame> {
        let (tx, rx) = mpsc::channel(queue);
        let member = Member {
            reader: Reader {
                user_id: user.into(),
                admin: false,
            },
            sid: format!("sid-{id}"),
            exp: i64::MAX,
            key: false,
        };
        hub.clients.lock().unwrap().push(Client {
            id,
            member,
            subscriptions: None,
            tx,
        });
        rx
    }

    fn notification(id: i64, audience: &str) -> TenantEvent {
        TenantEvent {
            event_id: id,
            event_type: live_types::NOTIFICATION_CREATED.into(),
            audience: audience.into(),
            agent_id: None,
            context_id: None,
            data: serde_json::json!({}),
            created_at: "t".into(),
        }
    }

    #[test]
    fn a_full_queue_drops_only_that_client_and_audiences_filter() {
        let hub = hub();
        let mut slow = client(&hub, 1, "u1", 1);
        let mut fast = client(&hub, 2, "u2", 8);
        for id in 1..=3 {
            hub.deliver(&notification(id, "tenant"));
        }
        hub.deliver(&notification(4, "user:u1"));
        hub.deliver(&notification(5, "user:u2"));
        let ids: Vec<u64> = hub.clients.lock().unwrap().iter().map(|c| c.id).collect();
        assert_eq!(ids, [2]);
        assert_eq!(slow.try_recv().unwrap().0, 1);
        assert!(slow.try_recv().is_err(), "dropped: its queue is closed");
        let got: Vec<i64> = std::iter::from_fn(|| fast.try_recv().ok().map(|f| f.0)).collect();
        assert_eq!(got, [1, 2, 3, 5]);
    }

    #[test]
    fn sweeps_drop_ended_sessions_and_send_keep_alives() {
        let hub = hub();
        let mut a = client(&hub, 1, "u1", 4);
        let _b = client(&hub, 2, "u2", 4);
        hub.sweep(
            &|m| {
                if m.sid == "sid-2" {
                    Err(())
                } else {
                    Ok(Some(true))
                }
            },
            true,
        );
        let clients = hub.clients.lock().unwrap();
        assert_eq!(clients.len(), 1);
        assert!(clients[0].member.reader.admin);
        assert_eq!(a.try_recv().unwrap().1, Bytes::from_static(KEEP_ALIVE));
    }
}
