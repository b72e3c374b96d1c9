//! Wake-ups across runtime replicas (SPEC §17): when a replica publishes a tenant event, every
//! other replica is told "tenant T has news" over one State Surface channel (Redis pub/sub in
//! production) and its followers of T read the log. The message carries no event: the log is
//! the truth, so a lost message only delays delivery until the next wake-up (the publisher's
//! delayed ones, or the resubscription after the bus was down, which wakes every follower).

use std::sync::Arc;

use platform_sdk::state_surface::{Channel, Delivery, StateStore};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::Live;

/// The channel (the store adds its key prefix).
const CHANNEL: &str = "tenant-events";

#[derive(Serialize, Deserialize)]
struct Wake {
    /// The replica that published (which woke its own followers already).
    origin: String,
    tenant_id: String,
}

/// The publishing half.
pub(super) struct Bus {
    origin: String,
    queue: mpsc::UnboundedSender<String>,
}

impl Bus {
    /// Queues a wake-up of `tenant_id` for the other replicas (never blocks on the store).
    pub(super) fn publish(&self, tenant_id: &str) {
        let wake = Wake {
            origin: self.origin.clone(),
            tenant_id: tenant_id.to_owned(),
        };
        if let Ok(text) = serde_json::to_string(&wake) {
            let _ = self.queue.send(text);
        }
    }
}

/// Starts the publisher and the subscriber of `live` over `store`.
pub(super) fn start(live: &Live, store: Arc<dyn StateStore>, origin: String) -> Bus {
    let (queue, mut outgoing) = mpsc::unbounded_channel::<String>();
    let publisher = store.clone();
    tokio::spawn(async move {
        while let Some(text) = outgoing.recv().await {
            if let Err(e) = publisher.publish(CHANNEL, &text).await {
                tracing::warn!(error = %e, "could not publish a tenant event wake-up");
            }
        }
    });
    let weak = Arc::downgrade(&live.inner);
    let own = origin.clone();
    tokio::spawn(async move {
        let mut channel = Channel::later(store, CHANNEL);
        loop {
            let delivery = channel.next().await;
            let Some(inner) = weak.upgrade() else { return };
            let live = Live { inner };
            match delivery {
                Delivery::Resubscribed => live.wake_all_here(),
                Delivery::Message(text) => match serde_json::from_str::<Wake>(&text) {
                    Ok(wake) if wake.origin != own => live.wake_here(&wake.tenant_id),
                    Ok(_) => {}
                    Err(_) => tracing::warn!("dropped an unreadable tenant event wake-up"),
                },
            }
        }
    });
    Bus { origin, queue }
}
