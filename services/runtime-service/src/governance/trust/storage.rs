//! Trust in SQL: [`observe`] folds one piece of evidence into an agent's row inside the caller's
//! transaction (the one that ends an execution, stores a tracked event or records a violation),
//! so the trust moves exactly when what it is evidence of is committed.
//!
//! Race-free on both backends without `SELECT … FOR UPDATE`: the first statement is an upsert that
//! bumps `evidence_count` and returns the values before this evidence; it locks the row
//! (PostgreSQL) or takes the database write lock (SQLite) until the transaction ends, so a
//! concurrent observation waits and then starts from this one's result. The new values are
//! computed in Rust ([`super::model::step`]) and written back by a second statement.

use sqlx::{AnyConnection, AnyPool, Row as _};

use super::model::{step, Alert, Evidence, State, START};

/// History points the trust answer shows.
pub const HISTORY_SHOWN: i64 = 50;

/// Folds `evidence` into the trust of `agent_id` in `tenant_id` on `conn` (run it inside the
/// caller's transaction): the new dimensions, a history point and any `trust.alert`s. Evidence
/// that observes nothing changes nothing.
pub async fn observe(
    conn: &mut AnyConnection,
    tenant_id: &str,
    agent_id: &str,
    evidence: &Evidence,
    now: i64,
) -> Result<(), sqlx::Error> {
    if evidence.is_empty() {
        return Ok(());
    }
    let row = sqlx::query(
        "INSERT INTO agent_trust (tenant_id, agent_id, competence, reliability, honesty, \
         transparency, observed, evidence_count, peak, updated_at) \
         VALUES ($1, $2, $3, $3, $3, $3, 0, 1, $3, $4) \
         ON CONFLICT (tenant_id, agent_id) DO UPDATE SET \
         evidence_count = agent_trust.evidence_count + 1, updated_at = excluded.updated_at \
         RETURNING competence, reliability, honesty, transparency, observed, evidence_count, peak",
    )
    .bind(tenant_id)
    .bind(agent_id)
    .bind(START)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let count: i64 = row.try_get(5)?;
    let before = State {
        dims: [
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        ],
        observed: State::observed_from(row.try_get(4)?),
        count: count - 1,
        peak: row.try_get(6)?,
    };
    let (next, alerts) = step(&before, evidence);
    sqlx::query(
        "UPDATE agent_trust SET competence = $1, reliability = $2, honesty = $3, \
         transparency = $4, observed = $5, peak = $6 WHERE tenant_id = $7 AND agent_id = $8",
    )
    .bind(next.dims[0])
    .bind(next.dims[1])
    .bind(next.dims[2])
    .bind(next.dims[3])
    .bind(next.observed_mask())
    .bind(next.peak)
    .bind(tenant_id)
    .bind(agent_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO agent_trust_history (tenant_id, agent_id, seq, aggregate, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant_id)
    .bind(agent_id)
    .bind(next.count)
    .bind(next.aggregate())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for alert in alerts {
        let (kind, dimension, value, previous) = match alert {
            Alert::Dimension {
                name,
                value,
                previous,
            } => ("dimension", Some(name), value, previous),
            Alert::Aggregate { value, peak } => ("aggregate", None, value, peak),
        };
        tracing::info!(
            tenant_id,
            agent_id,
            kind,
            dimension,
            value,
            previous,
            "trust.alert"
        );
        let alert_id = format!("tal_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(
            "INSERT INTO trust_alerts (id, tenant_id, agent_id, kind, dimension, value, previous, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&alert_id)
        .bind(tenant_id)
        .bind(agent_id)
        .bind(kind)
        .bind(dimension)
        .bind(value)
        .bind(previous)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let data = serde_json::json!({
            "alert_id": alert_id,
            "agent_id": agent_id,
            "kind": kind,
            "dimension": dimension,
            "value": value,
            "previous": previous,
        });
        crate::notifications::producers::trust_alert_in(conn, tenant_id, agent_id, data).await?;
    }
    Ok(())
}

/// An agent's stored trust: its state and when it last changed.
pub struct Stored {
    /// The state.
    pub state: State,
    /// Last changed, epoch ms.
    pub updated_at: i64,
}

/// The trust of `agent_id` in `tenant_id`, if it has received evidence.
pub async fn get(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
) -> Result<Option<Stored>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT competence, reliability, honesty, transparency, observed, evidence_count, peak, \
         updated_at FROM agent_trust WHERE tenant_id = $1 AND agent_id = $2",
    )
    .bind(tenant_id)
    .bind(agent_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Stored {
        state: State {
            dims: [
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            ],
            observed: State::observed_from(row.try_get(4)?),
            count: row.try_get(5)?,
            peak: row.try_get(6)?,
        },
        updated_at: row.try_get(7)?,
    }))
}

/// The last [`HISTORY_SHOWN`] history points of an agent, oldest first: `(at, aggregate)`.
pub async fn history(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
) -> Result<Vec<(i64, f64)>, sqlx::Error> {
    let mut points = sqlx::query_as::<_, (i64, f64)>(
        "SELECT at, aggregate FROM agent_trust_history WHERE tenant_id = $1 AND agent_id = $2 \
         ORDER BY seq DESC LIMIT $3",
    )
    .bind(tenant_id)
    .bind(agent_id)
    .bind(HISTORY_SHOWN)
    .fetch_all(pool)
    .await?;
    points.reverse();
    Ok(points)
}
