//! Agent executions as processes (SPEC §4, §14): listed from the `executions` table, detailed
//! with their steps and last events from the event log, controlled through
//! [`crate::executions::Executions::operate`] (pause and resume really stop and restart the
//! running turn, wherever it runs).

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, SessionEvent};
use platform_sdk::operations_wire::{ControlAction, Process, ProcessType};
use platform_sdk::time_util::rfc3339_ms;
use serde_json::{json, Value};
use sqlx::{AnyPool, Row as _};

use super::super::service::Listed;
use crate::error::RuntimeError;
use crate::executions::Executions;

/// Executions that run a multimodal request: the hub shows the request instead.
const NOT_MULTIMODAL: &str = "agent_type <> 'multimodal'";

/// How many of its last events an execution's detail shows.
const LAST_EVENTS: usize = 20;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The hub's view of an execution.
pub fn summary(r: &ExecutionRecord) -> Process {
    Process {
        id: r.execution_id.clone(),
        process_type: ProcessType::Execution,
        status: r.status.as_str().to_owned(),
        started_at: rfc3339_ms(r.created_at),
        name: r.agent_id.clone(),
        metadata: json!({
            "agent_id": r.agent_id,
            "agent_type": r.agent_type,
            "pillar": r.pillar,
            "conversation_id": r.conversation_id,
            "session_id": r.session_id,
            "updated_at": rfc3339_ms(r.updated_at),
            "error": r.error,
        }),
    }
}

/// A tenant's executions in `states` started at or after `since`, newest first, at most `limit`.
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
    // One index walk per state (`executions_tenant_status`, newest first, `limit` rows at
    // most), merged: no sort of every row of the window.
    let per_state: Vec<String> = (0..states.len())
        .map(|i| {
            format!(
                "SELECT * FROM (SELECT id, session_id, conversation_id, agent_id, agent_type, \
                 pillar, status, error, created_at, updated_at FROM executions \
                 WHERE tenant_id = $1 AND status = ${} AND created_at >= $2 AND {NOT_MULTIMODAL} \
                 ORDER BY created_at DESC, id DESC LIMIT $3) AS s{i}",
                i + 4
            )
        })
        .collect();
    let sql = format!(
        "{} ORDER BY created_at DESC, id DESC LIMIT $3",
        per_state.join(" UNION ALL ")
    );
    let mut query = sqlx::query(&sql).bind(tenant_id).bind(since).bind(limit);
    for s in states {
        query = query.bind(*s);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get(6)?;
            let created: i64 = r.try_get(8)?;
            let updated: i64 = r.try_get(9)?;
            let agent_id: String = r.try_get(3)?;
            let process = Process {
                id: r.try_get(0)?,
                process_type: ProcessType::Execution,
                status,
                started_at: rfc3339_ms(created),
                name: agent_id.clone(),
                metadata: json!({
                    "agent_id": agent_id,
                    "agent_type": r.try_get::<String, _>(4)?,
                    "pillar": r.try_get::<Option<String>, _>(5)?,
                    "conversation_id": r.try_get::<String, _>(2)?,
                    "session_id": r.try_get::<String, _>(1)?,
                    "updated_at": rfc3339_ms(updated),
                    "error": r.try_get::<Option<String>, _>(7)?,
                }),
            };
            Ok(Listed {
                started: created,
                process,
            })
        })
        .collect()
}

/// How many of a tenant's executions in `states` started at or after `since`.
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
        "SELECT COUNT(*) FROM executions WHERE tenant_id = $1 AND created_at >= $2 \
         AND status IN ({}) AND {NOT_MULTIMODAL}",
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

/// The steps of an execution, from its `STEP_STARTED` / `STEP_COMPLETED` events and the safety
/// hooks it waited on.
fn steps(events: &[SessionEvent]) -> Vec<Value> {
    let mut steps: Vec<Value> = Vec::new();
    for e in events {
        match e.event_type.as_str() {
            ev::STEP_STARTED => steps.push(json!({
                "step": e.data["step"],
                "status": "started",
                "started_at": e.timestamp,
                "completed_at": null,
            })),
            ev::STEP_COMPLETED => {
                let open = steps
                    .iter_mut()
                    .rev()
                    .find(|s| s["step"] == e.data["step"] && s["status"] == "started");
                if let Some(step) = open {
                    step["status"] = json!("completed");
                    step["completed_at"] = json!(e.timestamp);
                }
            }
            ev::SAFETY_APPROVAL_PENDING => steps.push(json!({
                "step": format!("approval:{}", e.data["action"].as_str().unwrap_or("")),
                "status": "awaiting_approval",
                "started_at": e.timestamp,
                "completed_at": null,
            })),
            _ => {}
        }
    }
    steps
}

/// An execution of the tenant with its steps and last events; `None` when it has none.
pub async fn detail(
    executions: &Executions,
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(Process, Value)>, RuntimeError> {
    let record = match executions.get(tenant_id, id).await {
        Ok(r) => r,
        Err(RuntimeError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let events = crate::events::storage::of_execution(pool, tenant_id, id, 0).await?;
    let last: Vec<&SessionEvent> = events
        .iter()
        .skip(events.len().saturating_sub(LAST_EVENTS))
        .collect();
    let detail = json!({
        "steps": steps(&events),
        "event_count": events.len(),
        "last_events": last,
    });
    Ok(Some((summary(&record), detail)))
}

/// Pauses, resumes or cancels an execution; answers its id and the move made.
pub async fn control(
    executions: &Executions,
    tenant_id: &str,
    id: &str,
    action: ControlAction,
    reason: Option<&str>,
) -> Result<(String, String, String), RuntimeError> {
    let (from, after) = executions.operate(tenant_id, id, action, reason).await?;
    Ok((
        id.to_owned(),
        from.as_str().to_owned(),
        after.status.as_str().to_owned(),
    ))
}
