//! The identity service object: what the flows share (pool, hasher, throttle, token issuer,
//! runtime client, revoked set), the login response they all answer with, and the two steps
//! every session-ending flow takes (revoke locally and for every replica, then end the runtime
//! sessions).

use std::sync::Arc;

use platform_sdk::metrics::Metrics;
use platform_sdk::runtime_client::{Actor, RuntimeClient};
use platform_sdk::security_guard::tokens::AccessGrant;
use platform_sdk::security_guard::{Role, ScopeSet, TokenIssuer};
use platform_sdk::time_util::now_ms;
use platform_sdk::wire::{LoginResponse, LoginUser};
use sqlx::AnyPool;

use super::ProfileCache;
use crate::configuration::AuthSettings;
use crate::error::ApiError;
use crate::extractors::Caller;
use crate::identity::domain::hasher::{HashError, PasswordHasher};
use crate::identity::domain::revocation::RevokedSessions;
use crate::identity::domain::throttle::{Throttle, Verdict};
use crate::identity::storage;
use crate::tenants::domain::changes::AccessChanges;

/// The user a login response is for.
pub(super) struct Principal<'a> {
    pub(super) user_id: &'a str,
    pub(super) email: &'a str,
    pub(super) name: Option<String>,
    pub(super) tenant_id: &'a str,
    pub(super) role: &'a str,
}

/// The identity service; one per process, shared by all workers.
pub struct Identity {
    pub(super) pool: AnyPool,
    pub(super) hasher: PasswordHasher,
    pub(super) throttle: Throttle,
    pub(super) tokens: TokenIssuer,
    pub(super) runtime: Arc<RuntimeClient>,
    pub(super) revoked: RevokedSessions,
    pub(super) refresh_secret: Vec<u8>,
    pub(super) settings: AuthSettings,
    pub(super) profiles: ProfileCache,
    pub(super) metrics: Metrics,
    pub(super) access: AccessChanges,
}

/// The pieces [`Identity`] is made of.
pub struct IdentityParts {
    /// SQL pool.
    pub pool: AnyPool,
    /// Password hasher.
    pub hasher: PasswordHasher,
    /// Login throttle.
    pub throttle: Throttle,
    /// Access-token issuer.
    pub tokens: TokenIssuer,
    /// Runtime client.
    pub runtime: Arc<RuntimeClient>,
    /// Revoked sessions.
    pub revoked: RevokedSessions,
    /// Refresh derivation key.
    pub refresh_secret: Vec<u8>,
    /// Auth settings.
    pub settings: AuthSettings,
    /// Metrics.
    pub metrics: Metrics,
}

impl Identity {
    /// Assembles the service.
    pub fn new(parts: IdentityParts) -> Self {
        Self {
            pool: parts.pool,
            hasher: parts.hasher,
            throttle: parts.throttle,
            tokens: parts.tokens,
            runtime: parts.runtime,
            revoked: parts.revoked,
            refresh_secret: parts.refresh_secret,
            settings: parts.settings,
            profiles: ProfileCache::new(),
            metrics: parts.metrics,
            access: AccessChanges::new(),
        }
    }

    /// The access-token issuer (the auth extractor verifies with it).
    pub fn tokens(&self) -> &TokenIssuer {
        &self.tokens
    }

    /// The revoked-session set (the auth extractor consults it).
    pub fn revoked(&self) -> &RevokedSessions {
        &self.revoked
    }

    /// Role changes, removals and key revocations (the auth extractor applies them; ADR 0010).
    pub fn access(&self) -> &AccessChanges {
        &self.access
    }

    /// Ends every session of a member removed from a tenant: their refresh families there are
    /// revoked, their access tokens refused on every replica, their sockets closed (4401).
    pub async fn end_member_sessions(
        &self,
        caller: &Caller,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<(), ApiError> {
        let sessions =
            storage::refresh::revoke(&self.pool, tenant_id, user_id, None, "removed", now_ms())
                .await?;
        self.revoke_sessions(tenant_id, &sessions).await?;
        self.end_runtime_sessions(caller, tenant_id, user_id, &sessions)
            .await;
        Ok(())
    }

    pub(super) async fn check_ip(&self, caller: &Caller) -> Result<(), ApiError> {
        match self.throttle.attempt_from(&caller.ip).await? {
            Verdict::Allowed => Ok(()),
            Verdict::Limited(retry_after_secs) => Err(ApiError::RateLimited { retry_after_secs }),
        }
    }

    /// Builds the login response for a session.
    pub(super) fn respond(
        &self,
        who: Principal<'_>,
        session_id: &str,
        refresh_token: String,
    ) -> Result<LoginResponse, ApiError> {
        let Principal {
            user_id,
            email,
            name,
            tenant_id,
            role,
        } = who;
        let roles = vec![role.to_owned()];
        let scopes = ScopeSet::for_roles(&Role::parse(role).into_iter().collect::<Vec<_>>());
        let (access_token, _) = self
            .tokens
            .issue(&AccessGrant {
                user_id,
                tenant_id,
                session_id,
                roles: &roles,
                scopes: &scopes,
            })
            .map_err(ApiError::internal)?;
        let permissions = scopes.as_slice().to_vec();
        Ok(LoginResponse {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: self.tokens.ttl_secs(),
            session_id: session_id.to_owned(),
            user: LoginUser {
                id: user_id.to_owned(),
                email: email.to_owned(),
                name,
                tenant_id: tenant_id.to_owned(),
                roles: roles.clone(),
                permissions: permissions.clone(),
            },
            user_id: user_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            roles,
            permissions,
        })
    }

    /// Marks sessions revoked locally (at once) and for every replica (the table they poll).
    pub(super) async fn revoke_sessions(
        &self,
        tenant_id: &str,
        sessions: &[String],
    ) -> Result<(), ApiError> {
        let now = now_ms();
        // Tokens of these sessions live at most this long; keep the entries a little longer.
        let forget_after = now + (self.tokens.ttl_secs() + 60) * 1000;
        for sid in sessions {
            storage::revocations::insert(&self.pool, tenant_id, sid, now, forget_after).await?;
        }
        self.revoked
            .extend(sessions.iter().map(|s| (s.clone(), forget_after)));
        Ok(())
    }

    /// Ends sessions in the runtime, best effort: access is already refused locally, and a
    /// session the runtime could not be told about expires by its idle TTL.
    pub(super) async fn end_runtime_sessions(
        &self,
        caller: &Caller,
        tenant_id: &str,
        user_id: &str,
        sessions: &[String],
    ) {
        for sid in sessions {
            let actor = Actor {
                tenant_id,
                user_id: Some(user_id),
                session_id: sid,
            };
            match self.runtime.end_session(&caller.request_id, actor).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    tracing::warn!(session_id = %sid, error = %e, "could not end the runtime session")
                }
            }
        }
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => ApiError::Busy,
            HashError::Failed(cause) => ApiError::Internal(anyhow::anyhow!(cause)),
        }
    }
}
