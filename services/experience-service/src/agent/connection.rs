//! One agent socket, from `CONNECTION_ESTABLISHED` to close.
//!
//! The loop owns the socket and serves, in priority order: close requests (logout 4401,
//! shutdown 1001), slow-consumer detection (1013), runtime events to forward, error frames from
//! background runtime calls, client messages, and the heartbeat (ping; idle close).
//!
//! Events come from a follower task reading the runtime's session stream; it reconnects by itself
//! (from the last event it saw) when the runtime restarts. The follower hands events over through
//! a bounded queue: a client that leaves it full for `ws.slow_consumer_ms` is closed with 1013 —
//! its events stay in the durable log, so it resumes with its last `event_id`.
//! Forwarding de-duplicates by `event_id`, so each event reaches the client once, in order.

use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use platform_sdk::agent_wire::{event_types, SafetyAnswer, SessionEvent, SubmitIntentPayload};
use platform_sdk::runtime_client::{Follow, FollowEnd, RuntimeClient, RuntimeClientError};
use platform_sdk::time_util::rfc3339_now;
use tokio::sync::{mpsc, oneshot};

use super::protocol::{error_frame, event_frame, parse, pong_frame, ClientMessage};
use super::sockets::{CloseRequest, Registration};
use crate::configuration::WsSettings;

/// Who the socket belongs to.
pub struct Context {
    /// The runtime client.
    pub runtime: Arc<RuntimeClient>,
    /// Tenant.
    pub tenant_id: String,
    /// User.
    pub user_id: String,
    /// Runtime session the socket follows.
    pub session_id: String,
    /// Request id of the upgrade request (forwarded on runtime calls).
    pub request_id: String,
    /// Limits.
    pub settings: WsSettings,
    /// `last_event_id` given at connect: replay everything after it.
    pub resume_from: Option<i64>,
}

/// A token bucket for the per-connection message rate.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl Bucket {
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Reads the runtime's session stream into `events`, reconnecting from the last event seen.
/// A client that leaves the queue full for `stall` is reported through `slow`.
#[allow(clippy::too_many_arguments)]
async fn follow(
    runtime: Arc<RuntimeClient>,
    tenant_id: String,
    session_id: String,
    after: i64,
    events: mpsc::Sender<SessionEvent>,
    slow: mpsc::Sender<()>,
    ready: oneshot::Sender<i64>,
    stall: Duration,
) {
    let cursor = AtomicI64::new(after);
    let mut ready = Some(ready);
    let mut delay = Duration::from_millis(50);
    loop {
        let from = cursor.load(std::sync::atomic::Ordering::Acquire);
        let result = runtime
            .follow_session(
                Follow {
                    tenant_id: &tenant_id,
                    session_id: &session_id,
                    after: from,
                    stall,
                },
                &cursor,
                ready.take(),
                &events,
            )
            .await;
        match result {
            Ok(FollowEnd::ConsumerStalled) => {
                let _ = slow.try_send(());
                return;
            }
            Ok(FollowEnd::ConsumerGone) => return,
            Ok(FollowEnd::Ended) => delay = Duration::from_millis(50),
            Err(e) => {
                tracing::debug!(error = %e, session_id = %session_id, "session stream interrupted; reconnecting")
            }
        }
        if events.is_closed() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

fn runtime_error_frame(e: &RuntimeClientError) -> String {
    match e {
        RuntimeClientError::Unavailable(_) => error_frame(
            "runtime_unavailable",
            "the runtime is unavailable; retry shortly",
        ),
        RuntimeClientError::Rejected { body, .. } => {
            error_frame(&body.error.code, &body.error.message)
        }
        RuntimeClientError::Protocol(_) => {
            error_frame("internal_error", "something went wrong on our side")
        }
    }
}

struct Socket {
    ctx: Context,
    session: Session,
    /// Created with the follower: an idle socket allocates no event queue.
    events_tx: Option<mpsc::Sender<SessionEvent>>,
    slow_tx: mpsc::Sender<()>,
    /// Created with the first background call.
    errors_tx: Option<mpsc::Sender<String>>,
    follower: Option<tokio::task::JoinHandle<()>>,
    cursor: i64,
    hooks: HashMap<String, String>,
    bucket: Bucket,
}

impl Socket {
    async fn send(&mut self, frame: String) -> bool {
        self.session.text(frame).await.is_ok()
    }

    /// Starts following the session stream after `after` and waits until the runtime subscribed.
    async fn start_follower(
        &mut self,
        after: i64,
        events_rx: &mut Option<mpsc::Receiver<SessionEvent>>,
    ) -> bool {
        if let Some(old) = self.follower.take() {
            old.abort();
        }
        let events_tx = match &self.events_tx {
            Some(tx) => tx.clone(),
            None => {
                let (tx, rx) = mpsc::channel(self.ctx.settings.send_queue.max(1));
                self.events_tx = Some(tx.clone());
                *events_rx = Some(rx);
                tx
            }
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        self.follower = Some(tokio::spawn(follow(
            self.ctx.runtime.clone(),
            self.ctx.tenant_id.clone(),
            self.ctx.session_id.clone(),
            after,
            events_tx,
            self.slow_tx.clone(),
            ready_tx,
            Duration::from_millis(self.ctx.settings.slow_consumer_ms),
        )));
        match tokio::time::timeout(Duration::from_secs(5), ready_rx).await {
            Ok(Ok(start)) => {
                if after < 0 {
                    self.cursor = self.cursor.max(start);
                }
                true
            }
            _ => {
                if let Some(f) = self.follower.take() {
                    f.abort();
                }
                false
            }
        }
    }

    /// Runs a runtime call in the background; its failure comes back as an `error` frame.
    fn background<F>(&mut self, call: F, errors_rx: &mut Option<mpsc::Receiver<String>>)
    where
        F: std::future::Future<Output = Result<(), RuntimeClientError>> + 'static,
    {
        let errors = match &self.errors_tx {
            Some(tx) => tx.clone(),
            None => {
                let (tx, rx) = mpsc::channel(16);
                self.errors_tx = Some(tx.clone());
                *errors_rx = Some(rx);
                tx
            }
        };
        actix_web::rt::spawn(async move {
            if let Err(e) = call.await {
                let _ = errors.send(runtime_error_frame(&e)).await;
            }
        });
    }

    async fn forward(&mut self, event: SessionEvent) -> bool {
        let lost = event.event_type == event_types::EVENTS_LOST;
        if !lost && event.event_id <= self.cursor {
            return true;
        }
        if event.event_type == event_types::SAFETY_APPROVAL_PENDING {
            if let (Some(hook), Some(execution)) = (
                event.data["hook_id"].as_str(),
                event.execution_id.as_deref(),
            ) {
                self.hooks.insert(hook.to_owned(), execution.to_owned());
            }
        }
        self.cursor = self.cursor.max(event.event_id);
        self.send(event_frame(&event)).await
    }

    async fn handle(&mut self, text: &str, queues: &mut Queues) -> bool {
        if text.len() > self.ctx.settings.max_message_bytes {
            let message = format!(
                "messages are limited to {} bytes",
                self.ctx.settings.max_message_bytes
            );
            return self.send(error_frame("message_too_large", &message)).await;
        }
        if !self.bucket.allow() {
            return self
                .send(error_frame("rate_limited", "too many messages; slow down"))
                .await;
        }
        let message = match parse(text) {
            Ok(m) => m,
            Err(refusal) => return self.send(error_frame(refusal.code, &refusal.message)).await,
        };
        let runtime = self.ctx.runtime.clone();
        let (tenant, user, session, rid) = (
            self.ctx.tenant_id.clone(),
            self.ctx.user_id.clone(),
            self.ctx.session_id.clone(),
            self.ctx.request_id.clone(),
        );
        match message {
            ClientMessage::Turn {
                text,
                agent_type,
                pillar,
                conversation_id,
                client_message_id,
            } => {
                if self.follower.is_none()
                    && !self
                        .start_follower(
                            if self.cursor > 0 { self.cursor } else { -1 },
                            &mut queues.events,
                        )
                        .await
                {
                    return self
                        .send(error_frame(
                            "runtime_unavailable",
                            "the runtime is unavailable; retry shortly",
                        ))
                        .await;
                }
                let payload = SubmitIntentPayload {
                    text,
                    agent_type,
                    pillar,
                    conversation_id,
                    client_message_id: client_message_id.clone(),
                    surface: None,
                };
                self.background(
                    async move {
                        runtime
                            .submit_intent(
                                &rid,
                                &tenant,
                                Some(&user),
                                &session,
                                &payload,
                                client_message_id.as_deref(),
                            )
                            .await
                            .map(|_| ())
                    },
                    &mut queues.errors,
                );
                true
            }
            ClientMessage::Safety {
                hook_id,
                approved,
                rejection_reason,
            } => {
                let Some(execution) = self.hooks.get(&hook_id).cloned() else {
                    return self
                        .send(error_frame(
                            "unknown_hook",
                            "no pending safety hook has this id",
                        ))
                        .await;
                };
                let answer = SafetyAnswer {
                    hook_id,
                    approved,
                    rejection_reason,
                };
                self.background(
                    async move {
                        runtime
                            .answer_safety(
                                &rid,
                                &tenant,
                                Some(&user),
                                &session,
                                &execution,
                                &answer,
                            )
                            .await
                            .map(|_| ())
                    },
                    &mut queues.errors,
                );
                true
            }
            ClientMessage::Cancel { execution_id } => {
                self.background(
                    async move {
                        runtime
                            .cancel_execution(&rid, &tenant, Some(&user), &session, &execution_id)
                            .await
                            .map(|_| ())
                    },
                    &mut queues.errors,
                );
                true
            }
            ClientMessage::Ping => self.send(pong_frame()).await,
            ClientMessage::Resume { last_event_id } => {
                self.cursor = last_event_id;
                if !self.start_follower(last_event_id, &mut queues.events).await {
                    return self
                        .send(error_frame(
                            "runtime_unavailable",
                            "the runtime is unavailable; retry shortly",
                        ))
                        .await;
                }
                true
            }
        }
    }
}

/// The receiving ends of a socket's queues, created on first use.
#[derive(Default)]
struct Queues {
    events: Option<mpsc::Receiver<SessionEvent>>,
    errors: Option<mpsc::Receiver<String>>,
}

/// The next item of a queue that may not exist yet (never resolves while it does not).
async fn next_of<T>(queue: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match queue {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Serves one socket until it closes.
pub async fn serve(
    ctx: Context,
    session: Session,
    messages: MessageStream,
    mut closes: mpsc::Receiver<CloseRequest>,
    registration: Registration,
) {
    let settings = ctx.settings.clone();
    let mut messages =
        messages.max_frame_size(settings.max_message_bytes.saturating_mul(4).max(1 << 16));
    let (slow_tx, mut slow_rx) = mpsc::channel(1);
    let mut queues = Queues::default();
    let resume_from = ctx.resume_from;
    let mut socket = Socket {
        cursor: resume_from.unwrap_or(0),
        bucket: Bucket {
            tokens: settings.message_burst,
            rate: settings.messages_per_sec,
            burst: settings.message_burst,
            at: Instant::now(),
        },
        ctx,
        session,
        events_tx: None,
        slow_tx,
        errors_tx: None,
        follower: None,
        hooks: HashMap::new(),
    };
    let established = SessionEvent {
        event_id: socket.cursor,
        event_type: event_types::CONNECTION_ESTABLISHED.into(),
        execution_id: None,
        data: serde_json::json!({
            "session_id": socket.ctx.session_id,
            "user_id": socket.ctx.user_id,
            "resumed_from": resume_from,
            "server_time": rfc3339_now(),
        }),
        timestamp: rfc3339_now(),
    };
    let mut open = socket.send(event_frame(&established)).await;
    if open {
        if let Some(after) = resume_from {
            if !socket.start_follower(after, &mut queues.events).await {
                open = socket
                    .send(error_frame(
                        "runtime_unavailable",
                        "could not resume; retry shortly",
                    ))
                    .await;
            }
        }
    }
    let mut heartbeat = tokio::time::interval(Duration::from_secs(settings.heartbeat_secs.max(1)));
    heartbeat.tick().await;
    let idle = Duration::from_secs(settings.idle_timeout_secs.max(1));
    let mut last_heard = Instant::now();
    let close = loop {
        if !open {
            break None;
        }
        tokio::select! {
            biased;
            Some(request) = closes.recv() => break Some(request),
            Some(()) = slow_rx.recv() => break Some(CloseRequest { code: 1013, reason: "slow consumer; resume with your last event_id" }),
            Some(event) = next_of(&mut queues.events) => open = socket.forward(event).await,
            Some(frame) = next_of(&mut queues.errors) => open = socket.send(frame).await,
            message = messages.recv() => match message {
                Some(Ok(message)) => {
                    last_heard = Instant::now();
                    open = match message {
                        Message::Text(text) => socket.handle(&text, &mut queues).await,
                        Message::Binary(_) => socket.send(error_frame("unsupported_frame", "send JSON text frames")).await,
                        Message::Ping(bytes) => socket.session.pong(&bytes).await.is_ok(),
                        Message::Close(_) => false,
                        _ => true,
                    };
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket protocol error");
                    break Some(CloseRequest { code: 1009, reason: "protocol error or frame too large" });
                }
                None => break None,
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > idle {
                    break Some(CloseRequest { code: 1000, reason: "idle timeout" });
                }
                open = socket.session.ping(b"").await.is_ok();
            }
        }
    };
    if let Some(follower) = socket.follower.take() {
        follower.abort();
    }
    if let Some(request) = close {
        let reason = CloseReason {
            code: CloseCode::from(request.code),
            description: Some(request.reason.to_owned()),
        };
        // A slow client may not read for a while; do not hold the worker hostage.
        let session = socket.session.clone();
        let _ = tokio::time::timeout(Duration::from_secs(5), session.close(Some(reason))).await;
    }
    drop(registration);
}
