//! Following a tenant's log: the events after a cursor, then every new one as it is woken up, as
//! a queue of [`FollowItem`]s (the route frames them as server-sent events).
//!
//! The follower registers for wake-ups *before* reading the log, so nothing committed after
//! that is missed; each wake-up reads the log after the cursor. Ids are gap-free and id `n + 1`
//! is only stored once `n` is committed (the primary key makes a writer wait for, then retry
//! past, an uncommitted `n`), so reading after the cursor never skips a late commit. A cursor
//! older than the retained log yields `EVENTS_LOST` and the feed continues from the oldest
//! retained event; one beyond the newest yields `EVENTS_LOST` and continues from the newest.

use std::time::Duration;

use platform_sdk::live_wire::{live_types, TenantEvent, AUDIENCE_TENANT};
use platform_sdk::time_util::rfc3339_now;
use tokio::sync::{mpsc, watch};

use super::{storage, Live};

/// Events read per query.
const PAGE: i64 = 500;

/// One item of a followed tenant log.
#[derive(Debug, Clone)]
pub enum FollowItem {
    /// The cursor the feed starts after (always the first item).
    Cursor(i64),
    /// An event (or `EVENTS_LOST`).
    Event(TenantEvent),
    /// Nothing happened for a while.
    Ping,
}

struct Feed {
    pool: sqlx::AnyPool,
    tenant_id: String,
    tx: mpsc::Sender<FollowItem>,
    cursor: i64,
}

impl Feed {
    /// Sends everything after the cursor; false when the receiver is gone.
    async fn backlog(&mut self) -> Result<bool, sqlx::Error> {
        loop {
            let page = storage::after(&self.pool, &self.tenant_id, self.cursor, PAGE).await?;
            let full = page.len() as i64 == PAGE;
            for event in page {
                self.cursor = event.event_id;
                if self.tx.send(FollowItem::Event(event)).await.is_err() {
                    return Ok(false);
                }
            }
            if !full {
                return Ok(true);
            }
        }
    }

    /// `EVENTS_LOST` when the cursor cannot be served, moving it where the feed continues.
    async fn check_lost(&mut self) -> Result<(), sqlx::Error> {
        if self.cursor == 0 {
            return Ok(());
        }
        let bounds = storage::bounds(&self.pool, &self.tenant_id).await?;
        if let Some(event) = lost(self.cursor, bounds) {
            self.cursor = event.data["resume_after"].as_i64().unwrap_or(self.cursor);
            let _ = self.tx.send(FollowItem::Event(event)).await;
        }
        Ok(())
    }

    async fn run(mut self, mut wakeups: watch::Receiver<u64>) -> Result<(), sqlx::Error> {
        self.check_lost().await?;
        let mut ping = tokio::time::interval(Duration::from_secs(15));
        ping.tick().await;
        loop {
            if !self.backlog().await? {
                return Ok(());
            }
            tokio::select! {
                changed = wakeups.changed() => if changed.is_err() { return Ok(()) },
                _ = ping.tick() => {
                    if self.tx.send(FollowItem::Ping).await.is_err() {
                        return Ok(());
                    }
                }
                _ = self.tx.closed() => return Ok(()),
            }
        }
    }
}

/// The `EVENTS_LOST` event for a cursor `requested` against the retained `bounds`, if it cannot
/// be served: older than the oldest retained event, or beyond the newest.
pub fn lost(requested: i64, bounds: Option<(i64, i64)>) -> Option<TenantEvent> {
    let (min, max) = bounds.unwrap_or((1, 0));
    let (event_id, resume_after, reason) = if bounds.is_some() && requested < min - 1 {
        (requested, min - 1, "older_than_log")
    } else if requested > max {
        (max, max, "ahead_of_log")
    } else {
        return None;
    };
    Some(TenantEvent {
        event_id,
        event_type: live_types::EVENTS_LOST.into(),
        audience: AUDIENCE_TENANT.into(),
        agent_id: None,
        context_id: None,
        data: serde_json::json!({
            "requested_after": requested,
            "oldest_available_event_id": bounds.map(|b| b.0),
            "latest_event_id": max,
            "resume_after": resume_after,
            "reason": reason,
        }),
        created_at: rfc3339_now(),
    })
}

impl Live {
    /// Follows a tenant's log after `after` (`< 0`: from now, the newest event at subscription
    /// time) until the receiver is dropped or the service shuts down.
    pub async fn follow(
        &self,
        tenant_id: &str,
        after: i64,
    ) -> Result<mpsc::Receiver<FollowItem>, sqlx::Error> {
        let wakeups = self.wakeups(tenant_id);
        let cursor = if after < 0 {
            storage::bounds(&self.inner.pool, tenant_id)
                .await?
                .map_or(0, |(_, max)| max)
        } else {
            after
        };
        let (tx, rx) = mpsc::channel(256);
        let _ = tx.try_send(FollowItem::Cursor(cursor));
        let feed = Feed {
            pool: self.inner.pool.clone(),
            tenant_id: tenant_id.to_owned(),
            tx,
            cursor,
        };
        let mut closing = self.inner.closing.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                ended = feed.run(wakeups) => if let Err(e) = ended {
                    tracing::warn!(error = %e, "tenant event stream ended with an error");
                },
                _ = closing.wait_for(|closed| *closed) => {}
            }
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::lost;

    #[test]
    fn lost_only_outside_the_retained_log() {
        assert!(lost(0, None).is_none());
        assert!(lost(4, Some((5, 9))).is_none());
        assert!(lost(9, Some((5, 9))).is_none());
        let old = lost(3, Some((5, 9))).unwrap();
        assert_eq!(old.data["resume_after"], 4);
        let ahead = lost(12, Some((5, 9))).unwrap();
        assert_eq!(
            (ahead.event_id, ahead.data["resume_after"].as_i64()),
            (9, Some(9))
        );
        assert_eq!(lost(3, None).unwrap().data["resume_after"], 0);
    }
}
