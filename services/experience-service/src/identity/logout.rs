//! Logout, `me`, and ending one of the user's sessions.

use std::sync::Arc;

use platform_sdk::security_guard::AccessClaims;
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::wire::{MeResponse, MeUser, TenantView};

use super::Identity;
use crate::error::ApiError;
use crate::extractors::Caller;
use crate::identity::storage;
use crate::sessions::owned_session;

impl Identity {
    /// Ends the current session, or every session of the user in the tenant. Idempotent.
    pub async fn logout(
        &self,
        caller: &Caller,
        claims: &AccessClaims,
        all_sessions: bool,
    ) -> Result<(), ApiError> {
        let now = now_ms();
        let mut sessions = if all_sessions {
            let mut ids = storage::refresh::revoke(
                &self.pool,
                &claims.tid,
                &claims.sub,
                None,
                "logout_all",
                now,
            )
            .await?;
            match self
                .runtime
                .list_sessions(&caller.request_id, &claims.tid, &claims.sub)
                .await
            {
                Ok(list) => ids.extend(list.sessions.into_iter().map(|s| s.session_id)),
                Err(e) => {
                    tracing::warn!(error = %e, "could not list runtime sessions during logout")
                }
            }
            ids
        } else {
            storage::refresh::revoke(
                &self.pool,
                &claims.tid,
                &claims.sub,
                Some(&claims.sid),
                "logout",
                now,
            )
            .await?;
            Vec::new()
        };
        sessions.push(claims.sid.clone());
        sessions.sort();
        sessions.dedup();
        self.revoke_sessions(&claims.tid, &sessions).await?;
        self.end_runtime_sessions(caller, &claims.tid, &claims.sub, &sessions)
            .await;
        self.metrics.incr("logouts");
        Ok(())
    }

    /// The caller's user and tenant (cached for 30 s); roles, scopes and session come from the
    /// token and are added by the caller.
    pub async fn profile(&self, claims: &AccessClaims) -> Result<Arc<MeResponse>, ApiError> {
        let now = now_ms();
        if let Some(hit) = self.profiles.get(&claims.tid, &claims.sub, now) {
            return Ok(hit);
        }
        let profile = storage::users::profile(&self.pool, &claims.tid, &claims.sub)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let fresh = Arc::new(MeResponse {
            user: MeUser {
                id: profile.user_id,
                email: profile.email,
                name: profile.name,
                created_at: rfc3339_ms(profile.created_at),
            },
            tenant: TenantView {
                id: profile.tenant_id,
                name: profile.tenant_name,
            },
            roles: vec![profile.role],
            scopes: Vec::new(),
            session_id: String::new(),
        });
        self.profiles
            .put(&claims.tid, &claims.sub, fresh.clone(), now);
        Ok(fresh)
    }

    /// Ends one of the user's own sessions.
    pub async fn end_session(
        &self,
        caller: &Caller,
        claims: &AccessClaims,
        session_id: &str,
    ) -> Result<(), ApiError> {
        let record = owned_session(&self.runtime, caller, claims, session_id).await?;
        let sessions = vec![record.session_id.clone()];
        storage::refresh::revoke(
            &self.pool,
            &claims.tid,
            &claims.sub,
            Some(session_id),
            "ended_by_user",
            now_ms(),
        )
        .await?;
        self.revoke_sessions(&claims.tid, &sessions).await?;
        self.end_runtime_sessions(caller, &claims.tid, &claims.sub, &sessions)
            .await;
        Ok(())
    }
}
