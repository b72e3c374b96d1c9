//! Wrapper deployments as processes (SPEC §8, §14). A deployment process is the wrapper (its id
//! `wrp_…`; the current deployment's `dep_…` names it too), started when its serving deployment
//! went live (or, before that, at its last status change). Detail: the wrapper's status and health
//! as `GET …/wrappers/{id}/status` reports them. Controls call the wrappers service's own
//! transitions: `active ⇄ paused`, `cancel` → `retired`.

use platform_sdk::operations_wire::{ControlAction, Process, ProcessType};
use platform_sdk::time_util::rfc3339_ms;
use platform_sdk::traffic_cop::Contract;
use serde_json::json;
use sqlx::{AnyPool, Row as _};

use super::super::service::Listed;
use crate::error::RuntimeError;
use crate::wrappers::rules::Action;
use crate::wrappers::Wrappers;

/// When a deployment process started.
const STARTED: &str = "COALESCE(deployed_at, updated_at)";

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tenant's deployments in `states` started at or after `since`, newest first, at most `limit`.
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
        "SELECT id, name, deployment_status, deployment_id, deployed_version, version, \
         {STARTED} AS started FROM agent_wrappers WHERE tenant_id = $1 AND {STARTED} >= $2 \
         AND deployment_status IN ({}) ORDER BY started DESC, id DESC LIMIT $3",
        placeholders(4, states.len())
    );
    let mut query = sqlx::query(&sql).bind(tenant_id).bind(since).bind(limit);
    for s in states {
        query = query.bind(*s);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let started: i64 = r.try_get(6)?;
            let process = Process {
                id: r.try_get(0)?,
                process_type: ProcessType::Deployment,
                status: r.try_get(2)?,
                started_at: rfc3339_ms(started),
                name: r.try_get(1)?,
                metadata: json!({
                    "deployment_id": r.try_get::<Option<String>, _>(3)?,
                    "active_version": r.try_get::<Option<String>, _>(4)?,
                    "version": r.try_get::<String, _>(5)?,
                }),
            };
            Ok(Listed { started, process })
        })
        .collect()
}

/// How many of a tenant's deployments in `states` started at or after `since`.
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
        "SELECT COUNT(*) FROM agent_wrappers WHERE tenant_id = $1 AND {STARTED} >= $2 \
         AND deployment_status IN ({})",
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

/// The wrapper a process id names (`wrp_…`, or its current deployment's `dep_…`).
pub async fn wrapper_of(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    if id.starts_with(crate::wrappers::ID_PREFIX) {
        return Ok(Some(id.to_owned()));
    }
    sqlx::query("SELECT id FROM agent_wrappers WHERE tenant_id = $1 AND deployment_id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|r| r.try_get(0))
        .transpose()
}

/// One deployment process with its health; `None` when the tenant has no such wrapper.
pub async fn detail(
    wrappers: &Wrappers,
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(Process, serde_json::Value)>, RuntimeError> {
    let Some(wrapper_id) = wrapper_of(pool, tenant_id, id).await? else {
        return Ok(None);
    };
    let record = match wrappers.get(tenant_id, &wrapper_id).await {
        Ok(r) => r,
        Err(RuntimeError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let status = wrappers.status(tenant_id, &wrapper_id).await?;
    let started = status
        .deployed_at
        .clone()
        .unwrap_or_else(|| record.updated_at.clone());
    let process = Process {
        id: record.id.clone(),
        process_type: ProcessType::Deployment,
        status: record.deployment_status.as_str().to_owned(),
        started_at: started,
        name: record.name.clone(),
        metadata: json!({
            "deployment_id": record.deployment_id,
            "active_version": record.deployed_version,
            "version": record.version,
        }),
    };
    let detail = serde_json::to_value(&status).map_err(|e| RuntimeError::Internal(e.into()))?;
    Ok(Some((process, detail)))
}

/// Pauses, resumes or retires (`cancel`) a deployment through the wrappers service; answers the
/// wrapper id and the move made.
pub async fn control(
    wrappers: &Wrappers,
    pool: &AnyPool,
    contract: &Contract,
    id: &str,
    action: ControlAction,
) -> Result<(String, String, String), RuntimeError> {
    let tenant_id = &contract.tenant_id;
    let Some(wrapper_id) = wrapper_of(pool, tenant_id, id).await? else {
        return Err(RuntimeError::NotFound("process"));
    };
    let from = wrappers
        .get(tenant_id, &wrapper_id)
        .await?
        .deployment_status;
    let (allowed, move_) = match action {
        ControlAction::Pause => (from.as_str() == "active", Action::Pause),
        ControlAction::Resume => (from.as_str() == "paused", Action::Resume),
        ControlAction::Cancel => (matches!(from.as_str(), "active" | "paused"), Action::Retire),
    };
    if !allowed {
        return Err(RuntimeError::InvalidTransition {
            what: "deployment",
            current: from.as_str().to_owned(),
            action: action.as_str(),
        });
    }
    let after = wrappers.apply(contract, &wrapper_id, move_).await?;
    Ok((
        wrapper_id,
        from.as_str().to_owned(),
        after.deployment_status.as_str().to_owned(),
    ))
}
