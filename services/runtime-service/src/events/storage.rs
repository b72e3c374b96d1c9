//! The durable per-session event log. `event_id` is `MAX + 1` within the session, guarded by the
//! primary key: a concurrent writer that loses the race gets a unique violation and retries.

use platform_sdk::agent_wire::SessionEvent;
use platform_sdk::db::is_unique_violation;
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

fn event(r: &AnyRow) -> Result<SessionEvent, sqlx::Error> {
    let data: String = r.try_get(3)?;
    Ok(SessionEvent {
        event_id: r.try_get(0)?,
        event_type: r.try_get(1)?,
        execution_id: r.try_get(2)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        timestamp: rfc3339_ms(r.try_get(4)?),
    })
}

/// Appends an event and returns it with its id.
pub async fn append(
    pool: &AnyPool,
    tenant_id: &str,
    session_id: &str,
    execution_id: Option<&str>,
    event_type: &str,
    data: &serde_json::Value,
    now: i64,
) -> Result<SessionEvent, sqlx::Error> {
    let text = data.to_string();
    let mut attempts = 0;
    loop {
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO session_events (session_id, event_id, tenant_id, execution_id, event_type, data, created_at) \
             SELECT $1, COALESCE(MAX(event_id), 0) + 1, $2, $3, $4, $5, $6 FROM session_events WHERE session_id = $1 \
             RETURNING event_id",
        )
        .bind(session_id)
        .bind(tenant_id)
        .bind(execution_id)
        .bind(event_type)
        .bind(&text)
        .bind(now)
        .fetch_one(pool)
        .await;
        match inserted {
            Ok(event_id) => {
                return Ok(SessionEvent {
                    event_id,
                    event_type: event_type.to_owned(),
                    execution_id: execution_id.map(str::to_owned),
                    data: data.clone(),
                    timestamp: rfc3339_ms(now),
                })
            }
            Err(e) if attempts < 20 && is_unique_violation(&e) => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Appends several events of one session in one transaction (one commit), in order.
pub async fn append_batch(
    pool: &AnyPool,
    tenant_id: &str,
    session_id: &str,
    execution_id: Option<&str>,
    events: &[(&str, serde_json::Value)],
    now: i64,
) -> Result<Vec<SessionEvent>, sqlx::Error> {
    let mut attempts = 0;
    loop {
        let mut tx = pool.begin().await?;
        let mut out = Vec::with_capacity(events.len());
        let mut failed = None;
        for (event_type, data) in events {
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO session_events (session_id, event_id, tenant_id, execution_id, event_type, data, created_at) \
                 SELECT $1, COALESCE(MAX(event_id), 0) + 1, $2, $3, $4, $5, $6 FROM session_events WHERE session_id = $1 \
                 RETURNING event_id",
            )
            .bind(session_id)
            .bind(tenant_id)
            .bind(execution_id)
            .bind(*event_type)
            .bind(data.to_string())
            .bind(now)
            .fetch_one(&mut *tx)
            .await;
            match inserted {
                Ok(event_id) => out.push(SessionEvent {
                    event_id,
                    event_type: (*event_type).to_owned(),
                    execution_id: execution_id.map(str::to_owned),
                    data: data.clone(),
                    timestamp: rfc3339_ms(now),
                }),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            None => {
                tx.commit().await?;
                return Ok(out);
            }
            Some(e) if attempts < 20 && is_unique_violation(&e) => {
                tx.rollback().await?;
                attempts += 1;
            }
            Some(e) => return Err(e),
        }
    }
}

/// Events of a session after `after`, in order (at most `limit`).
pub async fn after(
    pool: &AnyPool,
    tenant_id: &str,
    session_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<SessionEvent>, sqlx::Error> {
    sqlx::query(
        "SELECT event_id, event_type, execution_id, data, created_at FROM session_events \
         WHERE session_id = $1 AND tenant_id = $2 AND event_id > $3 ORDER BY event_id LIMIT $4",
    )
    .bind(session_id)
    .bind(tenant_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(event)
    .collect()
}

/// Events of one execution after `after`, in order.
pub async fn of_execution(
    pool: &AnyPool,
    tenant_id: &str,
    execution_id: &str,
    after: i64,
) -> Result<Vec<SessionEvent>, sqlx::Error> {
    sqlx::query(
        "SELECT event_id, event_type, execution_id, data, created_at FROM session_events \
         WHERE execution_id = $1 AND tenant_id = $2 AND event_id > $3 ORDER BY event_id LIMIT 10000",
    )
    .bind(execution_id)
    .bind(tenant_id)
    .bind(after)
    .fetch_all(pool)
    .await?
    .iter()
    .map(event)
    .collect()
}

/// The smallest and largest retained event ids of a session.
pub async fn bounds(
    pool: &AnyPool,
    tenant_id: &str,
    session_id: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query("SELECT MIN(event_id), MAX(event_id) FROM session_events WHERE session_id = $1 AND tenant_id = $2")
        .bind(session_id)
        .bind(tenant_id)
        .fetch_one(pool)
        .await?;
    let min: Option<i64> = row.try_get(0)?;
    let max: Option<i64> = row.try_get(1)?;
    Ok(min.zip(max))
}

/// Moves a session's events from one tenant to another (an upgraded anonymous session).
pub async fn move_session(
    pool: &AnyPool,
    session_id: &str,
    from_tenant: &str,
    to_tenant: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE session_events SET tenant_id = $3 WHERE session_id = $1 AND tenant_id = $2")
        .bind(session_id)
        .bind(from_tenant)
        .bind(to_tenant)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}

/// Deletes events older than `before` (retention), always keeping each session's newest event
/// so its ids keep counting up from where they were.
pub async fn prune(pool: &AnyPool, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "DELETE FROM session_events WHERE created_at < $1 AND event_id < \
         (SELECT MAX(e.event_id) FROM session_events e WHERE e.session_id = session_events.session_id)",
    )
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}
