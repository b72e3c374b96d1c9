//! Multi-agent contexts as processes (SPEC §12, §14): listed from `multi_agent_contexts`, started
//! when created; the detail is the context as `GET /api/multi_agent/context/{id}` shows it.
//! Controls call the multi-agent service's own moves: `active ⇄ paused` (its update of
//! `status`), `cancel` → `terminated` (its terminate).

use platform_sdk::multi_agent_wire::{ContextRecord, UpdateContext};
use platform_sdk::operations_wire::{ControlAction, Process, ProcessType};
use platform_sdk::time_util::rfc3339_ms;
use platform_sdk::traffic_cop::Contract;
use serde_json::json;
use sqlx::{AnyPool, Row as _};

use super::super::service::Listed;
use crate::error::RuntimeError;
use crate::multi_agent::MultiAgent;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tenant's contexts in `states` created at or after `since`, newest first, at most `limit`.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    since: i64,
    states: &[&str],
    limit: i64,
) -> Result<Vec<Listed>, sqlx::Error> {
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, name, status, collaboration_model, agent_ids, created_at \
         FROM multi_agent_contexts WHERE tenant_id = $1 AND created_at >= $2 \
         AND status IN ({}) ORDER BY created_at DESC, id DESC LIMIT $3",
        placeholders(4, states.len())
    );
    let mut query = sqlx::query(&sql).bind(tenant_id).bind(since).bind(limit);
    for s in states {
        query = query.bind(*s);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let started: i64 = r.try_get(5)?;
            let agents: String = r.try_get(4)?;
            let agents: serde_json::Value = serde_json::from_str(&agents).unwrap_or(json!([]));
            let process = Process {
                id: r.try_get(0)?,
                process_type: ProcessType::MultiAgentContext,
                status: r.try_get(2)?,
                started_at: rfc3339_ms(started),
                name: r.try_get(1)?,
                metadata: json!({
                    "collaboration_model": r.try_get::<String, _>(3)?,
                    "agent_ids": agents,
                }),
            };
            Ok(Listed { started, process })
        })
        .collect()
}

/// How many of a tenant's contexts in `states` were created at or after `since`.
pub async fn count(
    pool: &AnyPool,
    tenant_id: &str,
    since: i64,
    states: &[&str],
) -> Result<i64, sqlx::Error> {
    if states.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM multi_agent_contexts WHERE tenant_id = $1 AND created_at >= $2 \
         AND status IN ({})",
        placeholders(3, states.len())
    );
    let mut query = sqlx::query_scalar::<_, i64>(&sql)
        .bind(tenant_id)
        .bind(since);
    for s in states {
        query = query.bind(*s);
    }
    query.fetch_one(pool).await
}

fn summary(c: &ContextRecord) -> Process {
    Process {
        id: c.context_id.clone(),
        process_type: ProcessType::MultiAgentContext,
        status: c.status.clone(),
        started_at: c.created_at.clone(),
        name: c.name.clone(),
        metadata: json!({
            "collaboration_model": c.collaboration_model,
            "agent_ids": c.agent_ids,
        }),
    }
}

/// One context of the tenant with its record; `None` when it has none.
pub async fn detail(
    contexts: &MultiAgent,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(Process, serde_json::Value)>, RuntimeError> {
    let record = match contexts.get(tenant_id, id).await {
        Ok(r) => r,
        Err(RuntimeError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let detail = serde_json::to_value(&record).map_err(|e| RuntimeError::Internal(e.into()))?;
    Ok(Some((summary(&record), detail)))
}

/// Pauses, resumes or terminates (`cancel`) a context through the multi-agent service; answers
/// its id and the move made.
pub async fn control(
    contexts: &MultiAgent,
    contract: &Contract,
    id: &str,
    action: ControlAction,
) -> Result<(String, String, String), RuntimeError> {
    let from = contexts.get(&contract.tenant_id, id).await?.status;
    let allowed = match action {
        ControlAction::Pause => from == "active",
        ControlAction::Resume => from == "paused",
        ControlAction::Cancel => matches!(from.as_str(), "active" | "paused"),
    };
    if !allowed {
        return Err(RuntimeError::InvalidTransition {
            what: "multi-agent context",
            current: from,
            action: action.as_str(),
        });
    }
    let status = |s: &str| UpdateContext {
        name: None,
        policies: None,
        metadata: None,
        status: Some(s.to_owned()),
    };
    let to = match action {
        ControlAction::Pause => {
            contexts
                .update(contract, id, status("paused"))
                .await?
                .status
        }
        ControlAction::Resume => {
            contexts
                .update(contract, id, status("active"))
                .await?
                .status
        }
        ControlAction::Cancel => {
            contexts.terminate(contract, id).await?;
            "terminated".to_owned()
        }
    };
    Ok((id.to_owned(), from, to))
}
