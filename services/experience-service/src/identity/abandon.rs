//! Sessions a login gave up on.
//!
//! A login (or registration) creates its runtime session first. When that call times out, the
//! client gets `503` and no token, but the runtime may still create the session later (it was
//! slow, not down): an active session nobody holds, listed in `GET /api/auth/sessions`. So a
//! session whose creation had an unknown outcome is *abandoned*: in the background we repeat the
//! (idempotent: same session id, same user) create until the runtime gives a definite answer,
//! then end the session, again until a definite answer. The repeated create is what makes this
//! safe in every order: if the original create arrives after the end, it finds the ended record
//! and does not bring it back (docs/adr/0012).

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::metrics::Metrics;
use platform_sdk::runtime_client::{Actor, RuntimeClient, RuntimeClientError};
use tokio::time::Instant;

use super::Identity;
use crate::error::ApiError;
use crate::extractors::Caller;

/// How long we keep trying before leaving the session to its idle TTL.
const GIVE_UP_AFTER: Duration = Duration::from_secs(600);
/// The first pause between attempts; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// The longest pause between attempts.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// A session whose creation had an unknown outcome.
#[derive(Debug, Clone)]
pub struct Abandoned {
    /// Request id of the login that gave up (for the log and the runtime's audit).
    pub request_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// User.
    pub user_id: String,
    /// The session id the login chose.
    pub session_id: String,
}

/// True when a failed runtime call may still have taken effect.
pub fn outcome_unknown(e: &RuntimeClientError) -> bool {
    matches!(
        e,
        RuntimeClientError::Unavailable(_) | RuntimeClientError::Protocol(_)
    )
}

impl Identity {
    /// Creates the runtime session of a login; when the outcome is unknown (timeout), answers
    /// the error and abandons the session (see the module docs).
    pub(super) async fn create_runtime_session(
        &self,
        caller: &Caller,
        actor: Actor<'_>,
    ) -> Result<(), ApiError> {
        match self
            .runtime
            .create_session(&caller.request_id, actor, caller.session_metadata())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                if let (true, Some(user_id)) = (outcome_unknown(&e), actor.user_id) {
                    end_later(
                        self.runtime.clone(),
                        self.metrics.clone(),
                        Abandoned {
                            request_id: caller.request_id.clone(),
                            tenant_id: actor.tenant_id.to_owned(),
                            user_id: user_id.to_owned(),
                            session_id: actor.session_id.to_owned(),
                        },
                    );
                }
                Err(e.into())
            }
        }
    }
}

/// Starts the background clean-up of an abandoned session.
pub fn end_later(runtime: Arc<RuntimeClient>, metrics: Metrics, session: Abandoned) {
    tokio::spawn(async move {
        let deadline = Instant::now() + GIVE_UP_AFTER;
        let ended = reconcile(&runtime, &session, deadline).await;
        if ended {
            metrics.incr("abandoned_sessions_ended");
            tracing::info!(session_id = %session.session_id, request_id = %session.request_id,
                "ended a session whose login had timed out");
        } else {
            tracing::warn!(session_id = %session.session_id, request_id = %session.request_id,
                "could not end a session whose login had timed out; it expires by its idle TTL");
        }
    });
}

/// Creates (idempotently) then ends the session; true once it is known to be ended.
async fn reconcile(runtime: &RuntimeClient, s: &Abandoned, deadline: Instant) -> bool {
    let actor = || Actor {
        tenant_id: &s.tenant_id,
        user_id: Some(&s.user_id),
        session_id: &s.session_id,
    };
    let rid = s.request_id.as_str();
    let created = retry(deadline, || async {
        runtime
            .create_session(rid, actor(), serde_json::json!({}))
            .await
            .map(|_| ())
    })
    .await;
    if let Err(e) = created {
        tracing::warn!(session_id = %s.session_id, error = %e, "abandoned session: create not settled");
        return false;
    }
    match retry(deadline, || async {
        match runtime.end_session(rid, actor()).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(|_| ()),
        }
    })
    .await
    {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(session_id = %s.session_id, error = %e, "abandoned session: end not settled");
            false
        }
    }
}

/// Repeats `call` while its outcome is unknown, with a growing pause, until `deadline`.
async fn retry<F, Fut>(deadline: Instant, call: F) -> Result<(), RuntimeClientError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), RuntimeClientError>>,
{
    let mut pause = FIRST_PAUSE;
    loop {
        match call().await {
            Err(e) if outcome_unknown(&e) && Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            other => return other,
        }
    }
}
