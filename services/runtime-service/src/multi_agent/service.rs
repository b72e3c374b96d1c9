//! [`MultiAgent`]: contexts (create, read, update, terminate, list) and their persisted state.
//! Messages are in [`super::messages`], answers in [`super::respond`], figures in
//! [`super::figures`].
//!
//! States: `active ⇄ paused`, `active | paused → terminated` (terminal). Every refused move is
//! `409 invalid_transition` naming the current state and the action; nothing changes.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use platform_sdk::multi_agent_wire::{
    ContextList, ContextRecord, ContextState, CreateContext, PersistState, UpdateContext,
};
use platform_sdk::page::{Cursor, PageRequest};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::traffic_cop::Contract;
use serde_json::Value;
use sqlx::AnyPool;

use super::{input, storage};
use crate::error::RuntimeError;
use crate::executions::Executions;
use crate::governance::Governance;
use crate::live::Live;

/// The prefix of context ids.
pub const CONTEXT_PREFIX: &str = "ctx_";
/// The prefix of message ids.
pub const MESSAGE_PREFIX: &str = "msg_";

/// Contexts, messages and their figures.
pub struct MultiAgent {
    pub(super) pool: AnyPool,
    pub(super) governance: Arc<Governance>,
    pub(super) executions: Arc<Executions>,
    /// The tenant live event log (delivered messages are announced there).
    pub(super) live: Live,
    /// The last message timestamp given out (epoch ms): messages of one process get strictly
    /// increasing timestamps, so a context's history has one order.
    last_stamp: AtomicI64,
}

/// A new prefixed id.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

fn refused(current: &str, action: &'static str) -> RuntimeError {
    RuntimeError::InvalidTransition {
        what: "context",
        current: current.to_owned(),
        action,
    }
}

impl MultiAgent {
    /// The service.
    pub fn new(
        pool: AnyPool,
        governance: Arc<Governance>,
        executions: Arc<Executions>,
        live: Live,
    ) -> Self {
        Self {
            pool,
            governance,
            executions,
            live,
            last_stamp: AtomicI64::new(0),
        }
    }

    /// A message timestamp: now, or just after the previous one.
    pub(super) fn stamp(&self) -> i64 {
        let now = now_ms();
        let previous = self
            .last_stamp
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        now.max(previous + 1)
    }

    /// Creates a context (`active`) whose agents are all in the tenant's catalog.
    pub async fn create(
        &self,
        contract: &Contract,
        body: CreateContext,
    ) -> Result<ContextRecord, RuntimeError> {
        let name = input::name(&body.name)?;
        input::ids("agent_ids", &body.agent_ids)?;
        let collaboration_model = input::model(&body.collaboration_model)?;
        let policies = input::policies(body.policies.unwrap_or_default())?;
        let metadata = input::object("metadata", body.metadata)?;
        input::in_catalog(&self.pool, &contract.tenant_id, &body.agent_ids).await?;
        let now = now_ms();
        let record = ContextRecord {
            context_id: new_id(CONTEXT_PREFIX),
            name,
            agent_ids: body.agent_ids,
            collaboration_model,
            policies,
            governance_enabled: body.governance_enabled.unwrap_or(true),
            metadata,
            status: "active".into(),
            created_by: contract.user_id.clone().unwrap_or_default(),
            state_version: 0,
            created_at: rfc3339_ms(now),
            updated_at: rfc3339_ms(now),
        };
        storage::insert(&self.pool, &contract.tenant_id, &record, now).await?;
        Ok(record)
    }

    /// A context of the tenant with its stored state (`404` for another tenant's).
    pub async fn stored(&self, tenant_id: &str, id: &str) -> Result<storage::Stored, RuntimeError> {
        storage::get(&self.pool, tenant_id, id)
            .await?
            .ok_or(RuntimeError::NotFound("context"))
    }

    /// A context of the tenant.
    pub async fn get(&self, tenant_id: &str, id: &str) -> Result<ContextRecord, RuntimeError> {
        Ok(self.stored(tenant_id, id).await?.record)
    }

    /// One page of the tenant's contexts, newest first (optionally of one status).
    pub async fn list(
        &self,
        tenant_id: &str,
        status: Option<&str>,
        page: &PageRequest,
    ) -> Result<ContextList, RuntimeError> {
        let after = page.after.as_ref();
        let mut rows = storage::list(&self.pool, tenant_id, status, after, page.fetch()).await?;
        let next_cursor = page.finish(&mut rows, |c| Cursor {
            key: c.created_ms,
            id: c.record.context_id.clone(),
        });
        Ok(ContextList {
            items: rows.into_iter().map(|c| c.record).collect(),
            next_cursor,
        })
    }

    /// Changes name, policies, metadata and status (`active` / `paused`) of a live context.
    pub async fn update(
        &self,
        contract: &Contract,
        id: &str,
        body: UpdateContext,
    ) -> Result<ContextRecord, RuntimeError> {
        let tenant_id = &contract.tenant_id;
        let mut record = self.get(tenant_id, id).await?;
        let from = record.status.clone();
        if from == "terminated" {
            return Err(refused(&from, "update"));
        }
        if let Some(name) = body.name {
            record.name = input::name(&name)?;
        }
        if let Some(policies) = body.policies {
            record.policies = input::policies(policies)?;
        }
        if body.metadata.is_some() {
            record.metadata = input::object("metadata", body.metadata)?;
        }
        if let Some(status) = body.status {
            if !matches!(status.as_str(), "active" | "paused") {
                return Err(RuntimeError::invalid(
                    "status",
                    "must be active or paused (DELETE terminates)",
                ));
            }
            record.status = status;
        }
        let now = now_ms();
        if !storage::update(&self.pool, tenant_id, &record, &from, now).await? {
            let current = self.get(tenant_id, id).await?.status;
            return Err(refused(&current, "update"));
        }
        record.updated_at = rfc3339_ms(now);
        Ok(record)
    }

    /// Terminates a context (terminal): later messages, updates and persists are refused.
    pub async fn terminate(&self, contract: &Contract, id: &str) -> Result<(), RuntimeError> {
        let tenant_id = &contract.tenant_id;
        let mut record = self.get(tenant_id, id).await?;
        let from = record.status.clone();
        if from == "terminated" {
            return Err(refused(&from, "terminate"));
        }
        record.status = "terminated".into();
        if !storage::update(&self.pool, tenant_id, &record, &from, now_ms()).await? {
            let current = self.get(tenant_id, id).await?.status;
            return Err(refused(&current, "terminate"));
        }
        Ok(())
    }

    /// The context's persisted state.
    pub async fn state(&self, tenant_id: &str, id: &str) -> Result<ContextState, RuntimeError> {
        let stored = self.stored(tenant_id, id).await?;
        Ok(ContextState {
            context_id: stored.record.context_id,
            version: stored.record.state_version,
            persistent_data: stored.persistent_data,
            updated_at: rfc3339_ms(stored.state_updated_ms),
        })
    }

    /// Persists state: a shallow merge into the stored object (`merge`) or a replacement, at
    /// version + 1. `if_match` (the `If-Match` header) must name the current version (`412`
    /// otherwise); without it the write is unconditional (docs/adr/0024).
    pub async fn persist(
        &self,
        contract: &Contract,
        id: &str,
        body: PersistState,
        if_match: Option<&str>,
    ) -> Result<ContextState, RuntimeError> {
        let tenant_id = &contract.tenant_id;
        let data = input::object("data", Some(body.data))?;
        let stored = self.stored(tenant_id, id).await?;
        if stored.record.status == "terminated" {
            return Err(refused(&stored.record.status, "persist state of"));
        }
        let current = stored.record.state_version;
        if let Some(expected) = if_match {
            if !version_matches(expected, current) {
                return Err(RuntimeError::PreconditionFailed(format!(
                    "If-Match `{}` does not name the current state version {current}",
                    expected.chars().take(40).collect::<String>()
                )));
            }
        }
        let data = match (body.merge, stored.persistent_data, data) {
            (true, Value::Object(mut old), Value::Object(new)) => {
                old.extend(new);
                Value::Object(old)
            }
            (_, _, new) => new,
        };
        if data.to_string().len() > input::MAX_OBJECT_BYTES {
            return Err(RuntimeError::invalid(
                "data",
                "the merged state must be at most 64 KiB",
            ));
        }
        let now = now_ms();
        if !storage::persist(&self.pool, tenant_id, id, (current, &data), now).await? {
            return Err(RuntimeError::PreconditionFailed(format!(
                "the state changed meanwhile (it was version {current})"
            )));
        }
        Ok(ContextState {
            context_id: id.to_owned(),
            version: current + 1,
            persistent_data: data,
            updated_at: rfc3339_ms(now),
        })
    }
}

/// True when an `If-Match` value (`3`, `"3"`, `W/"3"` or `*`) names `version`.
fn version_matches(raw: &str, version: i64) -> bool {
    let raw = raw.trim();
    if raw == "*" {
        return true;
    }
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    let raw = raw.trim_matches('"');
    raw.parse::<i64>().is_ok_and(|v| v == version)
}

#[cfg(test)]
mod tests {
    use super::version_matches;

    #[test]
    fn if_match_forms() {
        assert!(version_matches("3", 3));
        assert!(version_matches("\"3\"", 3));
        assert!(version_matches("W/\"3\"", 3));
        assert!(version_matches("*", 9));
        assert!(!version_matches("2", 3));
        assert!(!version_matches("x", 3));
    }
}
