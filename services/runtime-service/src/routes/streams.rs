//! Server-sent event streams of the durable event log, for a whole session or one execution.
//!
//! The stream subscribes to the live bus *before* reading the backlog, then de-duplicates by
//! `event_id`, so nothing falls between the two. A cursor older than the retained log yields an
//! `EVENTS_LOST` event (the client reloads history) and the stream continues from the oldest
//! retained event. A subscriber that lags behind the live buffer re-reads from the log. Comments
//! (`: ping`) every 15 s keep idle connections alive through proxies.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use platform_sdk::agent_wire::{event_types, SessionEvent};
use platform_sdk::time_util::rfc3339_now;
use tokio::sync::{broadcast, mpsc};

use crate::startup::AppState;
use crate::storage;

/// What a stream carries.
#[derive(Debug, Clone)]
pub enum StreamScope {
    /// Every event of the session.
    Session,
    /// The events of one execution; the stream ends after its final event.
    Execution(String),
}

/// The `Last-Event-ID` header, if present and numeric.
pub fn last_event_id(req: &HttpRequest) -> Option<i64> {
    req.headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn frame(event: &SessionEvent) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        event.event_id, event.event_type, data
    ))
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
    tx: mpsc::Sender<Bytes>,
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
        if self.tx.send(frame(event)).await.is_err() {
            return false;
        }
        !(matches!(self.scope, StreamScope::Execution(_)) && is_final(event))
    }

    /// Sends everything in the log after the cursor; false when the stream should end.
    async fn backlog(&mut self) -> Result<bool, sqlx::Error> {
        loop {
            let page = storage::events::after(
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

    /// Tells the client its cursor is older than the log, and moves it to the oldest event.
    async fn check_lost(&mut self) -> Result<(), sqlx::Error> {
        if self.cursor == 0 || matches!(self.scope, StreamScope::Execution(_)) {
            return Ok(());
        }
        let oldest = storage::events::bounds(&self.pool, &self.tenant_id, &self.session_id).await?;
        let lost = match oldest {
            Some((min, _)) => self.cursor < min - 1,
            None => false,
        };
        if lost {
            let min = oldest.map(|(m, _)| m).unwrap_or(1);
            let event = SessionEvent {
                event_id: self.cursor,
                event_type: event_types::EVENTS_LOST.into(),
                execution_id: None,
                data: serde_json::json!({"requested_after": self.cursor, "oldest_available_event_id": min}),
                timestamp: rfc3339_now(),
            };
            let _ = self.tx.send(frame(&event)).await;
            self.cursor = min - 1;
        }
        Ok(())
    }

    async fn run(mut self, mut live: broadcast::Receiver<SessionEvent>) -> Result<(), sqlx::Error> {
        self.check_lost().await?;
        if !self.backlog().await? {
            return Ok(());
        }
        let mut ping = tokio::time::interval(Duration::from_secs(15));
        ping.tick().await;
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(event) => {
                        if !self.send(&event).await {
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !self.backlog().await? {
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                _ = ping.tick() => {
                    if self.tx.send(Bytes::from_static(b": ping\n\n")).await.is_err() {
                        return Ok(());
                    }
                }
                _ = self.tx.closed() => return Ok(()),
            }
        }
    }
}

/// Builds the SSE response. `after < 0` means "from now": the cursor is the session's newest
/// event at subscription time, announced to the client as a `: cursor N` comment.
pub async fn sse(
    state: &AppState,
    tenant_id: &str,
    session_id: &str,
    after: i64,
    scope: StreamScope,
) -> Result<HttpResponse, sqlx::Error> {
    let live = state.bus.subscribe(session_id);
    let cursor = if after < 0 {
        storage::events::bounds(&state.pool, tenant_id, session_id)
            .await?
            .map(|(_, max)| max)
            .unwrap_or(0)
    } else {
        after
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let _ = tx.try_send(Bytes::from(format!(": cursor {cursor}\n\n")));
    let feed = Feed {
        pool: state.pool.clone(),
        tenant_id: tenant_id.to_owned(),
        session_id: session_id.to_owned(),
        scope,
        tx,
        cursor,
    };
    tokio::spawn(async move {
        if let Err(e) = feed.run(live).await {
            tracing::warn!(error = %e, "event stream ended with an error");
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, actix_web::Error>(bytes), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
