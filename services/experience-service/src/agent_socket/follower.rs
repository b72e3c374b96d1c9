//! The socket's view of the session's event log: one [`Follower`] per socket, the only place that
//! knows the socket's event cursor.
//!
//! A socket normally reads its session's shared [`Hub`](super::hub::Hub) (joined before the
//! upgrade, so it sees every event of the session from then on). It reads a private stream
//! instead when it resumes (`last_event_id` at connect or a `resume` frame: the runtime replays
//! the log after that id) and when it fell too far behind the hub (it continues from its own
//! cursor). The private stream is a background task that reads the runtime's session stream
//! (SSE), drops anything at or below its cursor (so each event is handed over once, in order),
//! and pushes the rest into a bounded queue; when the stream breaks (a runtime restart) it
//! reconnects from its cursor. A consumer that leaves the queue full for `ws.slow_consumer_ms` is
//! reported as [`Followed::Stalled`] (the socket closes with 1013; the events stay in the durable
//! log, so the client resumes with its last `event_id`).

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::agent_wire::{event_types, SessionEvent};
use platform_sdk::runtime_client::RuntimeClientError;
use platform_sdk::runtime_stream::{SessionStream, StreamItem};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::connection::Context;
use super::hub::{HubItem, Subscription};

/// What the follower hands the connection.
#[derive(Debug)]
pub enum Followed {
    /// The next event to send.
    Event(SessionEvent),
    /// The client stopped reading: close with 1013.
    Stalled,
    /// The socket fell a whole shared buffer behind: a slow consumer (close with 1013).
    Lagged,
    /// The runtime no longer serves the session under the socket's tenant (ended, expired or
    /// upgraded): close the socket.
    Gone,
}

/// The task reading the stream, with the ends of its queues.
struct Running {
    events: mpsc::Receiver<SessionEvent>,
    stalled: mpsc::Receiver<()>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where the socket's events come from.
enum Source {
    /// Nothing yet (a resume the runtime could not serve at the time).
    Idle,
    /// The session's shared stream; the cursor de-duplicates.
    Shared(Subscription, i64),
    /// A private stream from a cursor.
    Private(Running),
}

/// The event follower of one socket.
pub struct Follower {
    ctx: Arc<Context>,
    source: Source,
    /// Where a follower that could not start yet should begin (a resume the runtime could not
    /// serve at the time); `None`: from now.
    start_after: Option<i64>,
}

impl Follower {
    /// A follower reading the session's shared stream, or not running yet when there is none
    /// (the context's `resume_from` is where it would begin).
    pub fn new(ctx: Arc<Context>, shared: Option<Subscription>) -> Self {
        let start_after = ctx.resume_from;
        let cursor = start_after.unwrap_or(0);
        Self {
            ctx,
            source: shared.map_or(Source::Idle, |s| Source::Shared(s, cursor)),
            start_after,
        }
    }

    /// Starts following unless it already does: from a resume point that could not be served
    /// before (when past event 0), else from now. False when the runtime could not be
    /// subscribed to.
    pub async fn ensure_running(&mut self) -> bool {
        if !matches!(self.source, Source::Idle) {
            return true;
        }
        self.restart(self.start_after.filter(|n| *n > 0)).await
    }

    /// (Re)starts following privately after `after` (`None`: from now) and waits until the
    /// runtime has subscribed, so no event after that point can be missed. Events still queued
    /// from before are dropped: the runtime replays the log after `after`.
    pub async fn restart(&mut self, after: Option<i64>) -> bool {
        self.source = Source::Idle;
        self.start_after = after;
        let (events_tx, events) = mpsc::channel(self.ctx.settings.send_queue.max(1));
        let (stalled_tx, stalled) = mpsc::channel(1);
        let (ready_tx, ready) = oneshot::channel();
        let task = tokio::spawn(follow(
            self.ctx.clone(),
            after.unwrap_or(-1),
            events_tx,
            stalled_tx,
            ready_tx,
        ));
        let running = Running {
            events,
            stalled,
            task,
        };
        if matches!(
            tokio::time::timeout(Duration::from_secs(5), ready).await,
            Ok(Ok(()))
        ) {
            self.source = Source::Private(running);
            return true;
        }
        false
    }

    /// The next event, or what the connection must do; never resolves while not running.
    pub async fn next(&mut self) -> Option<Followed> {
        match &mut self.source {
            Source::Idle => std::future::pending().await,
            Source::Private(running) => tokio::select! {
                biased;
                Some(()) = running.stalled.recv() => Some(Followed::Stalled),
                event = running.events.recv() => Some(event.map_or(Followed::Gone, Followed::Event)),
            },
            Source::Shared(subscription, cursor) => loop {
                let event = match subscription.rx.recv().await {
                    Ok(HubItem::Event(event)) => event,
                    Ok(HubItem::Gone) | Err(broadcast::error::RecvError::Closed) => {
                        return Some(Followed::Gone)
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => return Some(Followed::Lagged),
                };
                let lost = lost_resume_point(&event);
                if lost.is_none() && event.event_id <= *cursor {
                    continue;
                }
                *cursor = lost.unwrap_or((*cursor).max(event.event_id));
                return Some(Followed::Event(event));
            },
        }
    }
}

/// How one connection to the session stream ended.
enum Pumped {
    /// The consumer is gone or stalled: stop following.
    Done,
    /// The runtime ended the stream (e.g. it is shutting down).
    Ended,
    /// The stream broke.
    Broken(RuntimeClientError),
}

/// Reads the session stream into `out` from `cursor`, reconnecting from the cursor (with a
/// growing delay while the runtime is away); returns when the consumer is gone or stalled.
async fn follow(
    ctx: Arc<Context>,
    mut cursor: i64,
    out: mpsc::Sender<SessionEvent>,
    stalled: mpsc::Sender<()>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut delay = Duration::from_millis(50);
    loop {
        let opened = ctx
            .runtime
            .follow_session(&ctx.request_id, &ctx.tenant_id, &ctx.session_id, cursor)
            .await;
        let ended = match opened {
            Ok(mut stream) => {
                pump(&ctx, &mut stream, &mut cursor, &out, &stalled, &mut ready).await
            }
            Err(e) => Pumped::Broken(e),
        };
        match ended {
            Pumped::Done => return,
            // The session is gone under this tenant: dropping `out` tells the socket.
            Pumped::Broken(RuntimeClientError::Rejected { .. }) => return,
            Pumped::Ended => delay = Duration::from_millis(50),
            Pumped::Broken(e) => {
                tracing::debug!(error = %e, session_id = %ctx.session_id, "session stream interrupted; reconnecting")
            }
        }
        if out.is_closed() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Moves one stream's items into `out`, advancing the cursor past each event handed over.
async fn pump(
    ctx: &Context,
    stream: &mut SessionStream,
    cursor: &mut i64,
    out: &mpsc::Sender<SessionEvent>,
    stalled: &mpsc::Sender<()>,
    ready: &mut Option<oneshot::Sender<()>>,
) -> Pumped {
    let stall = Duration::from_millis(ctx.settings.slow_consumer_ms);
    while let Some(item) = stream.next().await {
        let event = match item {
            Ok(StreamItem::Event(event)) => event,
            Ok(StreamItem::Cursor(start)) => {
                *cursor = (*cursor).max(start);
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                continue;
            }
            Err(e) => return Pumped::Broken(e),
        };
        let lost = lost_resume_point(&event);
        if lost.is_none() && event.event_id <= *cursor {
            continue;
        }
        let id = event.event_id;
        match tokio::time::timeout(stall, out.send(event)).await {
            // After `EVENTS_LOST` the runtime continues from the point it names, which may be
            // below a cursor the session never issued.
            Ok(Ok(())) => *cursor = lost.unwrap_or((*cursor).max(id)),
            Ok(Err(_)) => return Pumped::Done,
            Err(_) => {
                let _ = stalled.try_send(());
                return Pumped::Done;
            }
        }
    }
    Pumped::Ended
}

/// For an `EVENTS_LOST` event, where the runtime's feed continues (`data.resume_after`, else
/// the event's own id); `None` for any other event.
pub fn lost_resume_point(event: &SessionEvent) -> Option<i64> {
    (event.event_type == event_types::EVENTS_LOST).then(|| {
        event
            .data
            .get("resume_after")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(event.event_id)
    })
}
