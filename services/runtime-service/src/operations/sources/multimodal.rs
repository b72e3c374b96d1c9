//! Multimodal requests as processes (SPEC §15, §14): listed from `multimodal_requests`, started
//! when created; the detail is the request as `GET /v1/multimodal/requests/{id}` shows it.
//! Controls: `cancel` from `pending | processing` through the multimodal service's own cancel
//! (a running one stops at once); pause and resume are refused (`409`): a request cannot wait.

use platform_sdk::multimodal_wire::{MultimodalRequest, RequestState};
use platform_sdk::operations_wire::{ControlAction, Process, ProcessType};
use platform_sdk::time_util::rfc3339_ms;
use serde_json::json;
use sqlx::{AnyPool, Row as _};

use super::super::service::Listed;
use crate::error::RuntimeError;
use crate::multimodal::Multimodal;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tenant's requests in `states` created at or after `since`, newest first, at most `limit`.
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
        "SELECT id, modality, state, requested_by, execution_id, created_at \
         FROM multimodal_requests WHERE tenant_id = $1 AND created_at >= $2 \
         AND state IN ({}) ORDER BY created_at DESC, id DESC LIMIT $3",
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
            let modality: String = r.try_get(1)?;
            let process = Process {
                id: r.try_get(0)?,
                process_type: ProcessType::MultimodalRequest,
                status: r.try_get(2)?,
                started_at: rfc3339_ms(started),
                name: modality.clone(),
                metadata: json!({
                    "modality": modality,
                    "requested_by": r.try_get::<String, _>(3)?,
                    "execution_id": r.try_get::<Option<String>, _>(4)?,
                }),
            };
            Ok(Listed { started, process })
        })
        .collect()
}

/// How many of a tenant's requests in `states` were created at or after `since`.
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
        "SELECT COUNT(*) FROM multimodal_requests WHERE tenant_id = $1 AND created_at >= $2 \
         AND state IN ({})",
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

fn summary(r: &MultimodalRequest) -> Process {
    Process {
        id: r.id.clone(),
        process_type: ProcessType::MultimodalRequest,
        status: r.state.as_str().to_owned(),
        started_at: r.created_at.clone(),
        name: r.modality.as_str().to_owned(),
        metadata: json!({
            "modality": r.modality.as_str(),
            "requested_by": r.requested_by,
        }),
    }
}

/// One request of the tenant with its record; `None` when it has none.
pub async fn detail(
    requests: &Multimodal,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(Process, serde_json::Value)>, RuntimeError> {
    let record = match requests.get(tenant_id, id).await {
        Ok(r) => r,
        Err(RuntimeError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let detail = serde_json::to_value(&record).map_err(|e| RuntimeError::Internal(e.into()))?;
    Ok(Some((summary(&record), detail)))
}

/// Cancels a request (pause and resume: `409`); answers its id and the move made.
pub async fn control(
    requests: &Multimodal,
    tenant_id: &str,
    id: &str,
    action: ControlAction,
    reason: Option<&str>,
) -> Result<(String, String, String), RuntimeError> {
    let from = requests.get(tenant_id, id).await?.state;
    let allowed = action == ControlAction::Cancel
        && matches!(from, RequestState::Pending | RequestState::Processing);
    if !allowed {
        return Err(RuntimeError::InvalidTransition {
            what: "multimodal request",
            current: from.as_str().to_owned(),
            action: action.as_str(),
        });
    }
    let after = requests.cancel(tenant_id, id, reason).await?;
    Ok((
        id.to_owned(),
        from.as_str().to_owned(),
        after.state.as_str().to_owned(),
    ))
}
