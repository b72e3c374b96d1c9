//! The durable per-session event log. `event_id` is `MAX + 1` within the session, guarded by the
//! primary key: a concurrent writer that loses the race gets a unique violation and retries. A
//! batch of events is one statement (one `VALUES` row per event).

use platform_sdk::agent_wire::SessionEvent;
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

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

/// Appends events of one session, in order, with one statement on `conn` (a pooled connection
/// or an open transaction): ids continue from the session's largest. A concurrent writer that
/// took the same ids makes this fail with a unique violation; the caller retries.
pub async fn insert(
    conn: &mut AnyConnection,
    tenant_id: &str,
    session_id: &str,
    execution_id: Option<&str>,
    events: &[(&str, serde_json::Value)],
    now: i64,
) -> Result<Vec<SessionEvent>, sqlx::Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<String> = (0..events.len())
        .map(|i| format!("({}, ${}, ${})", i + 1, 2 * i + 5, 2 * i + 6))
        .collect();
    let sql = format!(
        "INSERT INTO session_events (session_id, event_id, tenant_id, execution_id, event_type, data, created_at) \
         SELECT $1, b.n + v.column1, $2, $3, v.column2, v.column3, $4 \
         FROM (SELECT COALESCE(MAX(event_id), 0) AS n FROM session_events WHERE session_id = $1) AS b, \
         (VALUES {}) AS v RETURNING event_id",
        rows.join(", ")
    );
    let mut query = sqlx::query_scalar::<_, i64>(&sql)
        .bind(session_id)
        .bind(tenant_id)
        .bind(execution_id)
        .bind(now);
    for (event_type, data) in events {
        query = query.bind(*event_type).bind(data.to_string());
    }
    let mut ids = query.fetch_all(&mut *conn).await?;
    ids.sort_unstable();
    Ok(ids
        .into_iter()
        .zip(events)
        .map(|(event_id, (event_type, data))| SessionEvent {
            event_id,
            event_type: (*event_type).to_owned(),
            execution_id: execution_id.map(str::to_owned),
            data: data.clone(),
            timestamp: rfc3339_ms(now),
        })
        .collect())
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
