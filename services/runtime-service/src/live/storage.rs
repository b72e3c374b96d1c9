//! The `tenant_events` table: the durable per-tenant event log. `event_id` is `MAX + 1` within
//! the tenant, guarded by the primary key: a concurrent writer that loses the race gets a unique
//! violation and retries (see [`super::Live::publish_in`]).

use platform_sdk::live_wire::TenantEvent;
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

use super::LiveEvent;

const COLUMNS: &str = "event_id, event_type, audience, agent_id, context_id, data, created_at";

fn event(r: &AnyRow) -> Result<TenantEvent, sqlx::Error> {
    let data: String = r.try_get(5)?;
    Ok(TenantEvent {
        event_id: r.try_get(0)?,
        event_type: r.try_get(1)?,
        audience: r.try_get(2)?,
        agent_id: r.try_get(3)?,
        context_id: r.try_get(4)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        created_at: rfc3339_ms(r.try_get(6)?),
    })
}

/// Appends one event on `conn`; its id continues from the tenant's largest. A concurrent writer
/// that took the same id makes this fail with a unique violation.
pub async fn insert(
    conn: &mut AnyConnection,
    event: &LiveEvent<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO tenant_events (tenant_id, event_id, event_type, audience, agent_id, context_id, data, created_at) \
         SELECT $1, COALESCE(MAX(event_id), 0) + 1, $2, $3, $4, $5, $6, $7 \
         FROM tenant_events WHERE tenant_id = $1 RETURNING event_id",
    )
    .bind(event.tenant_id)
    .bind(event.event_type)
    .bind(&event.audience)
    .bind(event.agent_id)
    .bind(event.context_id)
    .bind(event.data.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
}

/// Events of a tenant after `after`, in order (at most `limit`).
pub async fn after(
    pool: &AnyPool,
    tenant_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<TenantEvent>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_events WHERE tenant_id = $1 AND event_id > $2 \
         ORDER BY event_id LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(event)
    .collect()
}

/// The smallest and largest retained event ids of a tenant.
pub async fn bounds(pool: &AnyPool, tenant_id: &str) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row =
        sqlx::query("SELECT MIN(event_id), MAX(event_id) FROM tenant_events WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(pool)
            .await?;
    let min: Option<i64> = row.try_get(0)?;
    let max: Option<i64> = row.try_get(1)?;
    Ok(min.zip(max))
}

/// Deletes events older than `before`, always keeping each tenant's newest event so its ids keep
/// counting up from where they were.
pub async fn prune(pool: &AnyPool, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "DELETE FROM tenant_events WHERE created_at < $1 AND event_id < \
         (SELECT MAX(e.event_id) FROM tenant_events e WHERE e.tenant_id = tenant_events.tenant_id)",
    )
    .bind(before)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
}

/// The newest event id of every tenant with events stored since `since`.
pub async fn recent_tips(pool: &AnyPool, since: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT tenant_id, MAX(event_id) FROM tenant_events WHERE created_at >= $1 GROUP BY tenant_id",
    )
    .bind(since)
    .fetch_all(pool)
    .await
}
