//! Following the event log live, for a whole session or one execution: the backlog after a
//! cursor, then live events, as a queue of [`FeedItem`]s (the routes frame them as server-sent
//! events).
//!
//! The follower subscribes to the live bus *before* reading the backlog, then de-duplicates by
//! `event_id`, so nothing falls between the two. A cursor older than the retained log yields an
//! `EVENTS_LOST` event (the client reloads history) and the feed continues from the oldest
//! retained event; a cursor beyond the newest event (an id the session never issued) yields
//! `EVENTS_LOST` too and the feed continues from the newest event, so nothing after it is lost.
//!
//! Ids are gap-free per session, and id `n + 1` is only ever stored after `n` is committed, so a
//! live event beyond `cursor + 1` (another replica's event overtaken by ours, or one the bus
//! lost) means the ones in between are in the log already: the follower reads them from there
//! first. A follower that lags behind the live buffer, or is told the bus was down, re-reads
//! from the log too. A [`FeedItem::Ping`] every 15 s keeps idle connections alive through
//! proxies.

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::agent_wire::{event_types, SessionEvent};
use platform_sdk::time_util::rfc3339_now;
use tokio::sync::{broadcast, mpsc};

use super::log::Live;
use super::{storage, EventLog};
use crate::error::RuntimeError;

/// What a follow carries.
#[derive(Debug, Clone)]
pub enum StreamScope {
    /// Every event of the session.
    Session,
    /// The events of one execution; the feed ends after its final event.
    Execution(String),
}

/// One item of a followed log.
#[derive(Debug, Clone)]
pub enum FeedItem {
    /// The cursor the feed starts after (always the first item).
    Cursor(i64),
    /// An event (including `EVENTS_LOST` when the cursor was older than the log).
    Event(SessionEvent),
    /// Nothing happened for a while: keep the connection alive.
    Ping,
}

fn is_final(event: &SessionEvent) -> bool {
    matches!(
        event.event_type.as_str(),
        event_types::EXECUTION_COMPLETED
            | event_types::EXECUTION_FAILED
            | event_types::EXECUTION_CANCELLED
    )
}

struct Feed {
    pool: sqlx::AnyPool,
    tenant_id: String,
    session_id: String,
    scope: StreamScope,
    tx: mpsc::Sender<FeedItem>,
    cursor: i64,
}

impl Feed {
    /// Sends one event if it is in scope; false when the stream should end.
    async fn send(&mut self, event: &SessionEvent) -> bool {
        if event.event_id <= self.cursor {
            return true;
        }
        self.cursor = event.event_id;
        let wanted = match &self.scope {
            StreamScope::Session => true,
            StreamScope::Execution(id) => event.execution_id.as_deref() == Some(id.as_str()),
        };
        if !wanted {
            return true;
        }
        if self.tx.send(FeedItem::Event(event.clone())).await.is_err() {
            return false;
        }
        !(matches!(self.scope, StreamScope::Execution(_)) && is_final(event))
    }

    /// Sends everything in the log after the cursor; false when the stream should end.
    async fn backlog(&mut self) -> Result<bool, sqlx::Error> {
        loop {
            let page = storage::after(
                &self.pool,
                &self.tenant_id,
                &self.session_id,
                self.cursor,
                500,
            )
            .await?;
            let full = page.len() == 500;
            for event in &page {
                if !self.send(event).await {
                    return Ok(false);
                }
            }
            if !full {
                return Ok(true);
            }
        }
    }

    /// Tells the client its cursor cannot be served, and moves it where the feed continues:
    /// older than the retained log → to the oldest retained event; beyond the newest event
    /// (an id the session never issued) → to the newest one, so no later event is swallowed.
    /// The `EVENTS_LOST` event says where the feed continues (`resume_after`).
    async fn check_lost(&mut self) -> Result<(), sqlx::Error> {
        if self.cursor == 0 || matches!(self.scope, StreamScope::Execution(_)) {
            return Ok(());
        }
        let bounds = storage::bounds(&self.pool, &self.tenant_id, &self.session_id).await?;
        let (min, max) = bounds.unwrap_or((1, 0));
        let requested = self.cursor;
        let (event_id, resume_after, reason) = if bounds.is_some() && requested < min - 1 {
            (requested, min - 1, "older_than_log")
        } else if requested > max {
            (max, max, "ahead_of_log")
        } else {
            return Ok(());
        };
        let event = SessionEvent {
            event_id,
            event_type: event_types::EVENTS_LOST.into(),
            execution_id: None,
            data: serde_json::json!({
                "requested_after": requested,
                "oldest_available_event_id": min,
                "latest_event_id": max,
                "resume_after": resume_after,
                "reason": reason,
            }),
            timestamp: rfc3339_now(),
        };
        let _ = self.tx.send(FeedItem::Event(event)).await;
        self.cursor = resume_after;
        Ok(())
    }

    async fn run(mut self, mut live: broadcast::Receiver<Live>) -> Result<(), sqlx::Error> {
        self.check_lost().await?;
        if !self.backlog().await? {
            return Ok(());
        }
        let mut ping = tokio::time::interval(Duration::from_secs(15));
        ping.tick().await;
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(Live::Event(event)) => {
                        let gap = event.event_id > self.cursor + 1;
                        if gap && !self.backlog().await? {
                            return Ok(());
                        }
                        if !self.send(&event).await {
                            return Ok(());
                        }
                    }
                    Ok(Live::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !self.backlog().await? {
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                _ = ping.tick() => {
                    if self.tx.send(FeedItem::Ping).await.is_err() {
                        return Ok(());
                    }
                }
                _ = self.tx.closed() => return Ok(()),
            }
        }
    }
}

impl EventLog {
    /// Follows a session's log after `after`: the backlog, then live events, until the receiver
    /// is dropped (or, for one execution, after its final event). `after < 0` means "from now":
    /// the cursor is the session's newest event at subscription time.
    pub async fn follow(
        self: &Arc<Self>,
        tenant_id: &str,
        session_id: &str,
        after: i64,
        scope: StreamScope,
    ) -> Result<mpsc::Receiver<FeedItem>, RuntimeError> {
        let live = self.subscribe(session_id);
        let cursor = if after < 0 {
            storage::bounds(&self.pool, tenant_id, session_id)
                .await?
                .map(|(_, max)| max)
                .unwrap_or(0)
        } else {
            after
        };
        let (tx, rx) = mpsc::channel::<FeedItem>(256);
        let _ = tx.try_send(FeedItem::Cursor(cursor));
        let feed = Feed {
            pool: self.pool.clone(),
            tenant_id: tenant_id.to_owned(),
            session_id: session_id.to_owned(),
            scope,
            tx,
            cursor,
        };
        let closed = self.closed();
        tokio::spawn(async move {
            tokio::select! {
                ended = feed.run(live) => if let Err(e) = ended {
                    tracing::warn!(error = %e, "event stream ended with an error");
                },
                () = closed => {}
            }
        });
        Ok(rx)
    }
}
