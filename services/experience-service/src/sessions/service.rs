//! The sessions service: every read of a runtime session the experience plane makes on a
//! caller's behalf, with the ownership rule applied once (another user's or tenant's session
//! answers `404`, or `403` on the socket), plus the session-first flow of the web frontend:
//! anonymous sessions read by id without a token, and their upgrade at login (ADR 0011).

use std::sync::Arc;

use platform_sdk::runtime_client::{Actor, RuntimeClient, RuntimeClientError, ANONYMOUS_TENANT};
use platform_sdk::security_guard::AccessClaims;
use platform_sdk::wire::{AnonymousSession, MySessions, SessionRecord, SessionStatus};

use crate::error::ApiError;
use crate::extractors::Caller;
use crate::identity::domain::throttle::{Throttle, Verdict};

/// The sessions service; one per process.
pub struct Sessions {
    runtime: Arc<RuntimeClient>,
    throttle: Throttle,
}

/// One of the caller's own sessions (another user's or tenant's, or a malformed id: `404`).
pub async fn owned_session(
    runtime: &RuntimeClient,
    caller: &Caller,
    claims: &AccessClaims,
    session_id: &str,
) -> Result<SessionRecord, ApiError> {
    if uuid::Uuid::parse_str(session_id).is_err() {
        return Err(ApiError::NotFound("session"));
    }
    let record = runtime
        .get_session(&caller.request_id, &claims.tid, session_id)
        .await?;
    if record.user_id.as_deref() != Some(claims.sub.as_str()) {
        return Err(ApiError::NotFound("session"));
    }
    Ok(record)
}

impl Sessions {
    /// The service over the shared runtime client; `throttle` limits anonymous creation per
    /// client address.
    pub fn new(runtime: Arc<RuntimeClient>, throttle: Throttle) -> Self {
        Self { runtime, throttle }
    }

    /// Creates an anonymous session (guide agent only); throttled per client address.
    pub async fn create_anonymous(&self, caller: &Caller) -> Result<AnonymousSession, ApiError> {
        if let Verdict::Limited(retry_after_secs) = self.throttle.attempt_from(&caller.ip).await? {
            return Err(ApiError::RateLimited { retry_after_secs });
        }
        let session_id = uuid::Uuid::new_v4().to_string();
        let actor = Actor {
            tenant_id: ANONYMOUS_TENANT,
            user_id: None,
            session_id: &session_id,
        };
        let session = self
            .runtime
            .create_session(&caller.request_id, actor, caller.session_metadata())
            .await?;
        Ok(AnonymousSession {
            session_id,
            session,
        })
    }

    /// One of the caller's own sessions.
    pub async fn own(
        &self,
        caller: &Caller,
        claims: &AccessClaims,
        session_id: &str,
    ) -> Result<SessionRecord, ApiError> {
        owned_session(&self.runtime, caller, claims, session_id).await
    }

    /// The runtime client (the agent socket's commands use it).
    pub fn runtime(&self) -> Arc<RuntimeClient> {
        self.runtime.clone()
    }

    /// An anonymous session by its id, read without a token: the unguessable id is the
    /// capability. Anything else (a user's session, a malformed or unknown id) → `401`: without
    /// a token nothing about other sessions is revealed.
    pub async fn anonymous(
        &self,
        caller: &Caller,
        session_id: &str,
    ) -> Result<SessionRecord, ApiError> {
        if uuid::Uuid::parse_str(session_id).is_err() {
            return Err(ApiError::Unauthenticated);
        }
        match self
            .runtime
            .get_session(&caller.request_id, ANONYMOUS_TENANT, session_id)
            .await
        {
            Ok(record) if record.user_id.is_none() => Ok(record),
            Ok(_) => Err(ApiError::Unauthenticated),
            Err(e) if e.is_not_found() => Err(ApiError::Unauthenticated),
            Err(e) => Err(e.into()),
        }
    }

    /// Attaches the caller to an anonymous session (signed `upgrade_session`; identity from the
    /// token only) and answers the session, same id. Unknown, malformed or someone else's →
    /// `404`; ended → `409`. A retry by the same user answers the upgraded session again.
    pub async fn upgrade(
        &self,
        caller: &Caller,
        claims: &AccessClaims,
        session_id: &str,
    ) -> Result<SessionRecord, ApiError> {
        if uuid::Uuid::parse_str(session_id).is_err() {
            return Err(ApiError::NotFound("session"));
        }
        let actor = Actor {
            tenant_id: &claims.tid,
            user_id: Some(&claims.sub),
            session_id,
        };
        self.runtime
            .upgrade_session(&caller.request_id, actor)
            .await
            .map_err(ApiError::forwarded)
    }

    /// Checks that an anonymous session may open the agent socket without a token: it is an
    /// active anonymous session (`403` when it ended; `401` when there is no such anonymous
    /// session, since a token would be needed; `503` when the runtime cannot be asked).
    pub async fn check_anonymous_socket(
        &self,
        caller: &Caller,
        session_id: &str,
    ) -> Result<(), ApiError> {
        let record = self.anonymous(caller, session_id).await?;
        if record.status != SessionStatus::Active {
            return Err(ApiError::Forbidden("this session cannot be used"));
        }
        Ok(())
    }

    /// The caller's active sessions.
    pub async fn list(
        &self,
        caller: &Caller,
        claims: &AccessClaims,
    ) -> Result<MySessions, ApiError> {
        let list = self
            .runtime
            .list_sessions(&caller.request_id, &claims.tid, &claims.sub)
            .await?;
        Ok(MySessions {
            sessions: list.sessions,
            current_session_id: claims.sid.clone(),
        })
    }

    /// Checks that the caller may open the agent socket on `session_id`: it exists, is active and
    /// is theirs (`403 forbidden` otherwise; `503` when the runtime cannot be asked).
    pub async fn check_socket(
        &self,
        caller: &Caller,
        claims: &AccessClaims,
        session_id: &str,
    ) -> Result<(), ApiError> {
        let refused = ApiError::Forbidden("this session cannot be used");
        if uuid::Uuid::parse_str(session_id).is_err() {
            return Err(refused);
        }
        match self
            .runtime
            .get_session(&caller.request_id, &claims.tid, session_id)
            .await
        {
            Ok(s)
                if s.status == SessionStatus::Active
                    && s.user_id.as_deref() == Some(claims.sub.as_str()) =>
            {
                Ok(())
            }
            Ok(_) => Err(refused),
            Err(e) if e.is_not_found() => Err(refused),
            Err(RuntimeClientError::Unavailable(_)) => Err(ApiError::RuntimeUnavailable),
            Err(e) => Err(e.into()),
        }
    }
}
