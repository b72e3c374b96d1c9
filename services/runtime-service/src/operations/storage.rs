//! The operators' controls of processes in SQL (`operations_audit`, migration
//! `20261207000030_operations.sql`): what a process's detail lists as its audit trail.

use platform_sdk::operations_wire::{ControlAction, ControlRecord};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::{AnyPool, Row as _};

/// Most controls a detail lists.
const MAX_CONTROLS: i64 = 100;

/// One control to keep.
pub struct NewControl<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// The process (its canonical id).
    pub process_id: &'a str,
    /// Its `type`.
    pub process_type: &'a str,
    /// What was done.
    pub action: ControlAction,
    /// Why.
    pub reason: Option<&'a str>,
    /// Who.
    pub actor_user_id: Option<&'a str>,
    /// State before.
    pub from_status: &'a str,
    /// State after.
    pub to_status: &'a str,
    /// When (epoch ms).
    pub now: i64,
}

/// Keeps a control.
pub async fn insert(pool: &AnyPool, c: &NewControl<'_>) -> Result<(), sqlx::Error> {
    let id = format!("opa_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO operations_audit (id, tenant_id, process_id, process_type, action, reason, \
         actor_user_id, from_status, to_status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(c.tenant_id)
    .bind(c.process_id)
    .bind(c.process_type)
    .bind(c.action.as_str())
    .bind(c.reason)
    .bind(c.actor_user_id)
    .bind(c.from_status)
    .bind(c.to_status)
    .bind(c.now)
    .execute(pool)
    .await
    .map(|_| ())
}

fn action(name: &str) -> ControlAction {
    match name {
        "pause" => ControlAction::Pause,
        "resume" => ControlAction::Resume,
        _ => ControlAction::Cancel,
    }
}

/// The controls of a process, newest first.
pub async fn of_process(
    pool: &AnyPool,
    tenant_id: &str,
    process_id: &str,
) -> Result<Vec<ControlRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT action, reason, actor_user_id, from_status, to_status, created_at \
         FROM operations_audit WHERE tenant_id = $1 AND process_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(tenant_id)
    .bind(process_id)
    .bind(MAX_CONTROLS)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ControlRecord {
                action: action(&r.try_get::<String, _>(0)?),
                reason: r.try_get(1)?,
                actor_user_id: r.try_get(2)?,
                from_status: r.try_get(3)?,
                to_status: r.try_get(4)?,
                at: rfc3339_ms(r.try_get(5)?),
            })
        })
        .collect()
}
