//! Sessions: creation (user or anonymous), upgrade, validation with a sliding idle TTL capped by
//! an absolute lifetime, listing by user, and ending.
//!
//! Records live in the state surface under `session:{tenant_id}:{session_id}` with a per-user
//! index; the store's TTL is the session's remaining life, so an expired session simply is not
//! there. An ended session stays readable (status `ended`) for a day, then disappears.

use std::time::Duration;

use platform_sdk::runtime_client::ANONYMOUS_TENANT;
use platform_sdk::state_surface::StateSurface;
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::Contract;
use platform_sdk::wire::{
    CreateSessionPayload, SessionRecord, SessionStatus, UpgradeSessionPayload,
    ValidateSessionResponse,
};

use crate::error::RuntimeError;

/// How long an ended session stays readable.
const ENDED_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Session rules over the state surface.
#[derive(Clone)]
pub struct Sessions {
    surface: StateSurface,
    idle_ms: i64,
    absolute_ms: i64,
}

/// A UUID-shaped id check: ids end up inside state keys, so only plain ids are accepted.
pub fn check_id(field: &'static str, value: &str) -> Result<(), RuntimeError> {
    uuid::Uuid::parse_str(value)
        .map(|_| ())
        .map_err(|_| RuntimeError::Validation {
            field,
            message: "must be a UUID".into(),
        })
}

fn tenant_ok(field: &'static str, value: &str) -> Result<(), RuntimeError> {
    if value == ANONYMOUS_TENANT {
        Ok(())
    } else {
        check_id(field, value)
    }
}

impl Sessions {
    /// Rules with the configured lifetimes.
    pub fn new(surface: StateSurface, idle: Duration, absolute: Duration) -> Self {
        Self {
            surface,
            idle_ms: idle.as_millis() as i64,
            absolute_ms: absolute.as_millis() as i64,
        }
    }

    fn ttl(record: &SessionRecord, now: i64) -> Duration {
        Duration::from_millis((record.expires_at - now).max(1) as u64)
    }

    fn fresh(
        &self,
        contract: &Contract,
        tenant_id: &str,
        user_id: Option<String>,
    ) -> Result<SessionRecord, RuntimeError> {
        let payload: CreateSessionPayload = serde_json::from_value(contract.payload.clone())
            .map_err(|e| RuntimeError::Validation {
                field: "payload",
                message: e.to_string(),
            })?;
        let now = now_ms();
        let absolute = now + self.absolute_ms;
        Ok(SessionRecord {
            session_id: contract.session_id.clone(),
            tenant_id: tenant_id.to_owned(),
            user_id,
            status: SessionStatus::Active,
            created_at: now,
            last_seen_at: now,
            expires_at: (now + self.idle_ms).min(absolute),
            absolute_expires_at: absolute,
            metadata: if payload.metadata.is_null() {
                serde_json::json!({})
            } else {
                payload.metadata
            },
        })
    }

    async fn insert(&self, record: SessionRecord) -> Result<SessionRecord, RuntimeError> {
        let ttl = Self::ttl(&record, record.created_at);
        if self.surface.create_session_if_absent(&record, ttl).await? {
            return Ok(record);
        }
        // The id is taken: the same owner asking again gets the session, anyone else a conflict.
        match self
            .surface
            .get_session(&record.tenant_id, &record.session_id)
            .await?
        {
            Some(existing) if existing.user_id == record.user_id => Ok(existing),
            _ => Err(RuntimeError::Conflict("session id already in use".into())),
        }
    }

    /// Creates the user session the contract names.
    pub async fn create(&self, contract: &Contract) -> Result<SessionRecord, RuntimeError> {
        check_id("session_id", &contract.session_id)?;
        check_id("tenant_id", &contract.tenant_id)?;
        let user = contract.user_id.clone().ok_or(RuntimeError::Validation {
            field: "user_id",
            message: "a user session needs a user".into(),
        })?;
        check_id("user_id", &user)?;
        let record = self.fresh(contract, &contract.tenant_id, Some(user))?;
        self.insert(record).await
    }

    /// Creates an anonymous session in the public tenant.
    pub async fn create_anonymous(
        &self,
        contract: &Contract,
    ) -> Result<SessionRecord, RuntimeError> {
        check_id("session_id", &contract.session_id)?;
        if contract.tenant_id != ANONYMOUS_TENANT || contract.user_id.is_some() {
            return Err(RuntimeError::Validation {
                field: "tenant_id",
                message: format!(
                    "anonymous sessions belong to tenant `{ANONYMOUS_TENANT}` and no user"
                ),
            });
        }
        let record = self.fresh(contract, ANONYMOUS_TENANT, None)?;
        self.insert(record).await
    }

    /// Attaches a user of the contract's tenant to an anonymous session, keeping its id.
    pub async fn upgrade(
        &self,
        session_id: &str,
        contract: &Contract,
    ) -> Result<SessionRecord, RuntimeError> {
        check_id("session_id", session_id).map_err(|_| RuntimeError::NotFound("session"))?;
        check_id("tenant_id", &contract.tenant_id)?;
        let payload: UpgradeSessionPayload = serde_json::from_value(contract.payload.clone())
            .map_err(|e| RuntimeError::Validation {
                field: "payload",
                message: e.to_string(),
            })?;
        if contract.session_id != session_id
            || contract.user_id.as_deref() != Some(payload.user_id.as_str())
        {
            return Err(RuntimeError::Validation {
                field: "session_id",
                message: "the contract does not name this session and user".into(),
            });
        }
        let Some(anonymous) = self
            .surface
            .get_session(ANONYMOUS_TENANT, session_id)
            .await?
        else {
            // Already upgraded by this user (a retry): answer with the upgraded session.
            return match self
                .surface
                .get_session(&contract.tenant_id, session_id)
                .await?
            {
                Some(s) if s.user_id.as_deref() == Some(payload.user_id.as_str()) => Ok(s),
                _ => Err(RuntimeError::NotFound("session")),
            };
        };
        if anonymous.status != SessionStatus::Active {
            return Err(RuntimeError::Conflict("the session has ended".into()));
        }
        let now = now_ms();
        let upgraded = SessionRecord {
            tenant_id: contract.tenant_id.clone(),
            user_id: Some(payload.user_id),
            last_seen_at: now,
            expires_at: (now + self.idle_ms).min(anonymous.absolute_expires_at),
            ..anonymous
        };
        let upgraded = self.insert(upgraded).await?;
        self.surface
            .store()
            .delete(&format!("session:{ANONYMOUS_TENANT}:{session_id}"))
            .await?;
        Ok(upgraded)
    }

    /// Reads a session of a tenant.
    pub async fn get(
        &self,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<SessionRecord, RuntimeError> {
        tenant_ok("tenant_id", tenant_id)?;
        // A malformed id in a path names nothing that exists.
        check_id("session_id", session_id).map_err(|_| RuntimeError::NotFound("session"))?;
        self.surface
            .get_session(tenant_id, session_id)
            .await?
            .ok_or(RuntimeError::NotFound("session"))
    }

    /// Validates ownership and activity; a valid session's idle TTL slides forward.
    pub async fn validate(
        &self,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<ValidateSessionResponse, RuntimeError> {
        let invalid = |reason: &str| ValidateSessionResponse {
            valid: false,
            reason: Some(reason.to_owned()),
            session: None,
        };
        let record = match self.get(tenant_id, session_id).await {
            Ok(record) => record,
            Err(RuntimeError::NotFound(_)) => return Ok(invalid("not_found")),
            Err(e) => return Err(e),
        };
        if record.user_id.as_deref() != Some(user_id) {
            return Ok(invalid("wrong_user"));
        }
        if record.status == SessionStatus::Ended {
            return Ok(invalid("ended"));
        }
        let now = now_ms();
        let touched = SessionRecord {
            last_seen_at: now,
            expires_at: (now + self.idle_ms).min(record.absolute_expires_at),
            ..record
        };
        self.surface
            .put_session(&touched, Self::ttl(&touched, now))
            .await?;
        Ok(ValidateSessionResponse {
            valid: true,
            reason: None,
            session: Some(touched),
        })
    }

    /// Lists a user's active sessions, newest first (and drops stale index entries).
    pub async fn list(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Vec<SessionRecord>, RuntimeError> {
        check_id("tenant_id", tenant_id)?;
        check_id("user_id", user_id)?;
        let mut sessions = Vec::new();
        for id in self.surface.session_ids_of_user(tenant_id, user_id).await? {
            match self.surface.get_session(tenant_id, &id).await? {
                Some(s) if s.status == SessionStatus::Active => sessions.push(s),
                _ => {
                    self.surface
                        .remove_from_user_index(tenant_id, user_id, &id)
                        .await?
                }
            }
        }
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    /// Ends a session of the contract's tenant (idempotent: ending an ended session is fine).
    pub async fn end(
        &self,
        session_id: &str,
        contract: &Contract,
    ) -> Result<SessionRecord, RuntimeError> {
        if contract.session_id != session_id {
            return Err(RuntimeError::Validation {
                field: "session_id",
                message: "the contract does not name this session".into(),
            });
        }
        let record = self.get(&contract.tenant_id, session_id).await?;
        if let Some(user) = &contract.user_id {
            if record.user_id.as_deref() != Some(user.as_str()) {
                return Err(RuntimeError::NotFound("session"));
            }
        }
        let ended = SessionRecord {
            status: SessionStatus::Ended,
            ..record
        };
        self.surface.put_session(&ended, ENDED_RETENTION).await?;
        if let Some(user) = &ended.user_id {
            self.surface
                .remove_from_user_index(&ended.tenant_id, user, session_id)
                .await?;
        }
        Ok(ended)
    }
}
