//! What each client message does, and how the runtime's answer comes back.
//!
//! [`Commands::handle`] checks a frame (size, rate, parse: local refusals become an `error`
//! frame at once), then acts: a turn spends one of the user's shared turn budget, makes sure the
//! [`Follower`] runs and submits the turn (retried under one idempotency key until the runtime
//! answers definitely, see [`submit`]); a
//! safety answer and a cancel go to the runtime as they are (the runtime finds the hook or the
//! execution within the session, nothing is remembered here). Runtime calls run in the
//! background so events keep flowing meanwhile; each call's [`Outcome`] comes back through
//! [`Commands::next`] (the command path), and the loop turns a refusal into an `error` frame
//! carrying the runtime's code and message. Events arrive on the event path (the follower) only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use platform_sdk::agent_wire::{SafetyAnswer, SubmitIntentPayload};
use platform_sdk::runtime_client::{Actor, RuntimeClientError};
use tokio::sync::mpsc;

use super::connection::Context;
use super::follower::Follower;
use super::protocol::{error_frame, parse, pong_frame, ClientMessage};
use super::rate::Bucket;

/// How the runtime answered a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (its effects arrive as events).
    Accepted,
    /// Refused, with the code and message for the `error` frame.
    Refused {
        /// Error code (the runtime's, e.g. `unknown_agent`, `unknown_hook`).
        code: String,
        /// Readable message.
        message: String,
    },
}

impl Outcome {
    fn of<T>(result: Result<T, RuntimeClientError>) -> Self {
        let (code, message) = match result {
            Ok(_) => return Self::Accepted,
            Err(RuntimeClientError::Unavailable(cause)) => {
                tracing::warn!(%cause, "runtime unavailable for a socket command");
                (
                    "runtime_unavailable".to_owned(),
                    "the runtime is unavailable; retry shortly".to_owned(),
                )
            }
            Err(RuntimeClientError::Rejected { status, body }) => {
                // A 4xx about the client's request is expected; anything else is ours to see.
                if !(400..500).contains(&status) || status == 401 || status == 403 {
                    tracing::warn!(status, code = %body.error.code, message = %body.error.message, "runtime refused a socket command unexpectedly");
                } else {
                    tracing::debug!(status, code = %body.error.code, "runtime refused a socket command");
                }
                (body.error.code, body.error.message)
            }
            Err(RuntimeClientError::Protocol(cause)) => {
                tracing::error!(%cause, "could not make or read a runtime call for a socket command");
                (
                    "internal_error".to_owned(),
                    "something went wrong on our side".to_owned(),
                )
            }
        };
        Self::Refused { code, message }
    }

    /// The `error` frame of a refusal; nothing for an accepted command.
    pub fn frame(&self) -> Option<String> {
        match self {
            Self::Accepted => None,
            Self::Refused { code, message } => Some(error_frame(code, message)),
        }
    }
}

/// A runtime call a client message turned into.
enum Call {
    Submit(SubmitIntentPayload),
    Safety(SafetyAnswer),
    Cancel(String),
}

/// The command side of one socket.
pub struct Commands {
    ctx: Arc<Context>,
    bucket: Bucket,
    /// Created with the first runtime call: an idle socket allocates no queue.
    outcomes: Option<(mpsc::Sender<Outcome>, mpsc::Receiver<Outcome>)>,
}

impl Commands {
    /// The commands of a socket.
    pub fn new(ctx: Arc<Context>) -> Self {
        let bucket = Bucket::new(ctx.settings.messages_per_sec, ctx.settings.message_burst);
        Self {
            ctx,
            bucket,
            outcomes: None,
        }
    }

    /// Handles one text frame; returns the frame to answer with at once, if any.
    pub async fn handle(&mut self, text: &str, follower: &mut Follower) -> Option<String> {
        let limit = self.ctx.settings.max_message_bytes;
        if text.len() > limit {
            let message = format!("messages are limited to {limit} bytes");
            return Some(error_frame("message_too_large", &message));
        }
        if !self.bucket.allow() {
            return Some(error_frame("rate_limited", "too many messages; slow down"));
        }
        let message = match parse(text) {
            Ok(message) => message,
            Err(refusal) => return Some(error_frame(refusal.code, &refusal.message)),
        };
        match message {
            ClientMessage::Turn(payload) => {
                if !self.ctx.sockets.allow_turn(&self.ctx.rate_key) {
                    return Some(error_frame(
                        "rate_limited",
                        "too many turns across your sockets; slow down",
                    ));
                }
                if !follower.ensure_running().await {
                    return Some(unavailable());
                }
                self.spawn(Call::Submit(payload));
            }
            ClientMessage::Safety(answer) => self.spawn(Call::Safety(answer)),
            ClientMessage::Cancel { execution_id } => self.spawn(Call::Cancel(execution_id)),
            ClientMessage::Ping => return Some(pong_frame()),
            ClientMessage::Resume { last_event_id } => {
                if !follower.restart(Some(last_event_id)).await {
                    return Some(unavailable());
                }
            }
        }
        None
    }

    /// The next outcome of a runtime call; never resolves before the first call.
    pub async fn next(&mut self) -> Option<Outcome> {
        match self.outcomes.as_mut() {
            Some((_, rx)) => rx.recv().await,
            None => std::future::pending().await,
        }
    }

    fn spawn(&mut self, call: Call) {
        let tx = self
            .outcomes
            .get_or_insert_with(|| mpsc::channel(16))
            .0
            .clone();
        let ctx = self.ctx.clone();
        actix_web::rt::spawn(async move {
            let outcome = run(&ctx, call).await;
            let _ = tx.send(outcome).await;
        });
    }
}

async fn run(ctx: &Context, call: Call) -> Outcome {
    let runtime = &ctx.runtime;
    let rid = ctx.request_id.as_str();
    let actor = Actor {
        tenant_id: &ctx.tenant_id,
        user_id: ctx.user_id.as_deref(),
        session_id: &ctx.session_id,
    };
    match call {
        Call::Submit(payload) => submit(ctx, actor, &payload).await,
        Call::Safety(answer) => Outcome::of(runtime.answer_safety(rid, actor, &answer).await),
        Call::Cancel(execution_id) => {
            Outcome::of(runtime.cancel_execution(rid, actor, &execution_id).await)
        }
    }
}

fn unavailable() -> String {
    error_frame(
        "runtime_unavailable",
        "the runtime is unavailable; retry shortly",
    )
}

/// Submits a turn until the runtime gives a definite answer, within `ws.submit_deadline_ms`.
///
/// Every attempt carries the same `Idempotency-Key` (the client's `client_message_id`, else one
/// minted for this turn), so a retry can never start a second execution: the runtime answers it
/// with the execution the first delivered attempt started. No answer in time (a paused or
/// overloaded runtime) or `intent_in_progress` is retried; when the deadline passes and any
/// attempt may have reached the runtime, the client hears `outcome_unknown` — the turn may still
/// run, and its events then arrive on the socket like any other. Only when no attempt was ever
/// delivered is the answer `runtime_unavailable` (nothing can run).
async fn submit(ctx: &Context, actor: Actor<'_>, payload: &SubmitIntentPayload) -> Outcome {
    let minted;
    let key = match payload.client_message_id.as_deref() {
        Some(key) => key,
        None => {
            minted = format!("turn-{}", uuid::Uuid::new_v4());
            &minted
        }
    };
    let deadline = Instant::now() + Duration::from_millis(ctx.settings.submit_deadline_ms);
    let mut delay = Duration::from_millis(100);
    let mut maybe_delivered = false;
    loop {
        let result = ctx
            .runtime
            .submit_intent(&ctx.request_id, actor, payload, Some(key))
            .await;
        let retry = match &result {
            Err(e @ RuntimeClientError::Unavailable(_)) => {
                maybe_delivered |= !e.not_delivered();
                true
            }
            Err(RuntimeClientError::Rejected { body, .. }) => {
                body.error.code == "intent_in_progress"
            }
            _ => false,
        };
        if !retry {
            return Outcome::of(result);
        }
        if Instant::now() + delay >= deadline {
            if !maybe_delivered {
                return Outcome::of(result);
            }
            tracing::warn!(session_id = %ctx.session_id, idempotency_key = %key, "no definite answer to a turn in time; outcome unknown");
            return Outcome::Refused {
                code: "outcome_unknown".into(),
                message: "the runtime did not confirm this turn in time; it may still run, and \
                          if it does its events arrive on this socket"
                    .into(),
            };
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}
