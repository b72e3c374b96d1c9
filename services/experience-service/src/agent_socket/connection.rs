//! One agent socket, from `CONNECTION_ESTABLISHED` to close: a loop that only selects.
//!
//! In priority order it serves close requests (logout 4401, shutdown 1001), the [`Follower`]
//! (a stall closes with 1013; an event becomes a `runtime_event` frame), the outcomes of runtime
//! calls from [`Commands`] (a refusal becomes an `error` frame), client frames (handed to
//! `Commands`), and the heartbeat (ping; idle close). What each branch does lives with its owner.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use platform_sdk::agent_wire::{event_types, SessionEvent};
use platform_sdk::runtime_client::RuntimeClient;
use platform_sdk::time_util::rfc3339_now;
use tokio::sync::mpsc;

use super::commands::Commands;
use super::follower::{Followed, Follower};
use super::hub::Subscription;
use super::protocol::{error_frame, event_frame};
use super::sockets::{CloseRequest, Registration, Sockets, SESSION_ENDED, SESSION_UPGRADED};
use crate::configuration::WsSettings;

/// Who the socket belongs to.
pub struct Context {
    /// The runtime client.
    pub runtime: Arc<RuntimeClient>,
    /// Tenant.
    pub tenant_id: String,
    /// User; `None` on an anonymous session (guide only).
    pub user_id: Option<String>,
    /// Whose turn-rate budget the socket spends (the user, or the anonymous session).
    pub rate_key: String,
    /// The socket registry (shared per-user turn rate).
    pub sockets: Sockets,
    /// Runtime session the socket follows.
    pub session_id: String,
    /// Request id of the upgrade request (forwarded on runtime calls).
    pub request_id: String,
    /// Limits.
    pub settings: WsSettings,
    /// `last_event_id` given at connect: replay everything after it.
    pub resume_from: Option<i64>,
}

const SLOW: CloseRequest = CloseRequest {
    code: 1013,
    reason: "slow consumer; resume with your last event_id",
};

/// What a socket starts with besides its context.
pub struct Opened {
    /// The client side of the upgraded connection.
    pub session: Session,
    /// Client frames.
    pub messages: MessageStream,
    /// Close requests (logout, shutdown, upgrade).
    pub closes: mpsc::Receiver<CloseRequest>,
    /// The socket's place in the registry (released on drop).
    pub registration: Registration,
    /// The session's shared stream, joined before the upgrade (absent when resuming).
    pub shared: Option<Subscription>,
}

/// Serves one socket until it closes.
pub async fn serve(ctx: Context, opened: Opened) {
    let Opened {
        mut session,
        messages,
        mut closes,
        registration,
        shared,
    } = opened;
    let ctx = Arc::new(ctx);
    let settings = ctx.settings.clone();
    // Frames up to the hard cap are read (and refused with an `error` frame when over
    // `max_message_bytes`); only a frame above the cap is a protocol error (1009).
    let mut messages = messages.max_frame_size(
        settings
            .max_frame_hard_bytes
            .max(settings.max_message_bytes)
            .max(1 << 16),
    );
    let mut follower = Follower::new(ctx.clone(), shared);
    let mut commands = Commands::new(ctx.clone());
    let mut open = session.text(event_frame(&established(&ctx))).await.is_ok();
    if open && ctx.resume_from.is_some() && !follower.restart(ctx.resume_from).await {
        let frame = error_frame("runtime_unavailable", "could not resume; retry shortly");
        open = session.text(frame).await.is_ok();
    }
    let mut heartbeat = tokio::time::interval(Duration::from_secs(settings.heartbeat_secs.max(1)));
    heartbeat.tick().await;
    let idle = Duration::from_secs(settings.idle_timeout_secs.max(1));
    let mut last_heard = Instant::now();
    let close = loop {
        if !open {
            break None;
        }
        let frame = tokio::select! {
            biased;
            Some(request) = closes.recv() => break Some(request),
            Some(followed) = follower.next() => match followed {
                Followed::Stalled => break Some(SLOW),
                Followed::Gone if ctx.user_id.is_none() => break Some(SESSION_UPGRADED),
                Followed::Gone => break Some(SESSION_ENDED),
                // A full shared buffer behind: a slow consumer (it resumes from the log).
                Followed::Lagged => break Some(SLOW),
                Followed::Event(event) => Some(event_frame(&event)),
            },
            Some(outcome) = commands.next() => outcome.frame(),
            message = messages.recv() => match message {
                Some(Ok(message)) => {
                    last_heard = Instant::now();
                    match message {
                        Message::Text(text) => commands.handle(&text, &mut follower).await,
                        Message::Binary(_) => Some(error_frame("unsupported_frame", "send JSON text frames")),
                        Message::Ping(bytes) => {
                            open = session.pong(&bytes).await.is_ok();
                            None
                        }
                        Message::Close(_) => break None,
                        _ => None,
                    }
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
                open = session.ping(b"").await.is_ok();
                None
            }
        };
        if let Some(frame) = frame {
            open = open && session.text(frame).await.is_ok();
        }
    };
    drop(follower);
    if let Some(request) = close {
        let reason = CloseReason {
            code: CloseCode::from(request.code),
            description: Some(request.reason.to_owned()),
        };
        // A slow client may not read for a while; do not hold the worker hostage.
        let _ = tokio::time::timeout(Duration::from_secs(5), session.close(Some(reason))).await;
    }
    drop(registration);
}

/// The first frame: where the socket starts in the session's log.
fn established(ctx: &Context) -> SessionEvent {
    SessionEvent {
        event_id: ctx.resume_from.unwrap_or(0),
        event_type: event_types::CONNECTION_ESTABLISHED.into(),
        execution_id: None,
        data: serde_json::json!({
            "session_id": ctx.session_id,
            "user_id": ctx.user_id,
            "resumed_from": ctx.resume_from,
            "server_time": rfc3339_now(),
        }),
        timestamp: rfc3339_now(),
    }
}
