//! Refresh: rotate the token, with a grace window for lost responses and concurrent calls, and
//! reuse detection that ends the family and its session.

use platform_sdk::time_util::now_ms;
use platform_sdk::wire::LoginResponse;

use super::service::{Identity, Principal};
use crate::error::ApiError;
use crate::extractors::Caller;
use crate::identity::domain::refresh_token;
use crate::identity::storage;

impl Identity {
    /// Exchanges a refresh token for a new pair on the same session.
    pub async fn refresh(&self, caller: &Caller, token: &str) -> Result<LoginResponse, ApiError> {
        if !refresh_token::plausible(token) {
            return Err(ApiError::InvalidRefreshToken);
        }
        let hash = refresh_token::hash(token);
        let Some(row) = storage::refresh::find(&self.pool, &hash).await? else {
            return Err(ApiError::InvalidRefreshToken);
        };
        let now = now_ms();
        let Some(role) = row.role.clone() else {
            // The user left the tenant: the family cannot be used any more.
            return Err(ApiError::InvalidRefreshToken);
        };
        if row.revoked_at.is_some()
            || row.absolute_expires_at <= now
            || self.revoked.contains(&row.session_id)
        {
            return Err(ApiError::InvalidRefreshToken);
        }
        let grace_ms = self.settings.refresh_grace_secs * 1000;
        match row.rotated_at {
            Some(at) if now - at > grace_ms => return Err(self.reuse_detected(caller, &row).await),
            None if row.idle_expires_at <= now => return Err(ApiError::InvalidRefreshToken),
            _ => {}
        }
        // The session must still be alive in the runtime (this also slides its idle TTL). Asked
        // before rotating, so a runtime outage leaves the presented token unspent.
        let check = self
            .runtime
            .validate_session(
                &caller.request_id,
                &row.tenant_id,
                &row.user_id,
                &row.session_id,
            )
            .await?;
        if !check.valid {
            return Err(ApiError::InvalidRefreshToken);
        }
        let child = refresh_token::derive_child(&self.refresh_secret, token);
        if row.rotated_at.is_none() {
            let idle = (now + self.settings.refresh_idle_secs * 1000).min(row.absolute_expires_at);
            let child_hash = refresh_token::hash(&child);
            if !storage::refresh::rotate(&self.pool, &row, &hash, &child_hash, now, idle).await? {
                // Another request rotated it a moment ago; outside the grace that is reuse.
                let at = storage::refresh::rotated_at(&self.pool, &hash).await?;
                if at.is_some_and(|at| now_ms() - at > grace_ms) {
                    return Err(self.reuse_detected(caller, &row).await);
                }
            }
        }
        self.metrics.incr("refreshes");
        self.respond(
            Principal {
                user_id: &row.user_id,
                email: &row.email,
                name: row.name.clone(),
                tenant_id: &row.tenant_id,
                role: &role,
            },
            &row.session_id,
            child,
        )
    }

    async fn reuse_detected(&self, caller: &Caller, row: &storage::refresh::TokenRow) -> ApiError {
        tracing::warn!(
            family_id = %row.family_id,
            session_id = %row.session_id,
            user_id = %row.user_id,
            "rotated refresh token replayed after the grace window: ending the family and its session"
        );
        self.metrics.incr("refresh_reuse_detected");
        let sessions = vec![row.session_id.clone()];
        let revoked = storage::refresh::revoke(
            &self.pool,
            &row.tenant_id,
            &row.user_id,
            Some(&row.session_id),
            "reuse",
            now_ms(),
        )
        .await;
        if let Err(e) = revoked {
            return ApiError::internal(e);
        }
        if let Err(e) = self.revoke_sessions(&row.tenant_id, &sessions).await {
            return e;
        }
        self.end_runtime_sessions(caller, &row.tenant_id, &row.user_id, &sessions)
            .await;
        ApiError::RefreshTokenReused
    }
}
