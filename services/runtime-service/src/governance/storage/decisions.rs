//! Decisions and violations in SQL, and the audit chain's pages. A decision's rows are written
//! inside the caller's transaction, beside its audit entry.

use platform_sdk::governance_wire::{AuditEntry, Violation};
use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use serde_json::{json, Value};
use sqlx::{AnyConnection, AnyPool, Row as _};

use crate::governance::decide::Verdict;

/// A decision being stored.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    /// `dec_…`.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Acting agent.
    pub agent_id: &'a str,
    /// Action type.
    pub action_type: &'a str,
    /// The execution it was made in, if any.
    pub execution_id: Option<&'a str>,
    /// What was decided.
    pub verdict: &'a Verdict,
    /// Its audit entry, canonical JSON (chained later).
    pub entry: &'a str,
    /// Epoch ms.
    pub now: i64,
}

/// Stores the decision and one violation per failing policy; answers the violations' ids, in
/// the order of the verdict's failures.
pub async fn insert(conn: &mut AnyConnection, d: &Stored<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO governance_decisions (id, tenant_id, agent_id, action_type, decision, \
         execution_id, created_at, entry) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(d.id)
    .bind(d.tenant_id)
    .bind(d.agent_id)
    .bind(d.action_type)
    .bind(d.verdict.decision.as_str())
    .bind(d.execution_id)
    .bind(d.now)
    .bind(d.entry)
    .execute(&mut *conn)
    .await?;
    let mut ids = Vec::with_capacity(d.verdict.failures.len());
    for failure in &d.verdict.failures {
        let details = json!({
            "action_type": d.action_type,
            "reason": failure.reason,
            "policy_name": failure.policy_name,
            "decision": d.verdict.decision.as_str(),
        });
        let violation_id = format!("vio_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(
            "INSERT INTO governance_violations (id, tenant_id, agent_id, policy_id, \
             violation_type, severity, decision_id, execution_id, details, occurred_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&violation_id)
        .bind(d.tenant_id)
        .bind(d.agent_id)
        .bind(&failure.policy_id)
        .bind(failure.condition)
        .bind(failure.severity)
        .bind(d.id)
        .bind(d.execution_id)
        .bind(details.to_string())
        .bind(d.now)
        .execute(&mut *conn)
        .await?;
        ids.push(violation_id);
    }
    Ok(ids)
}

/// A violation that is not a failing policy (a multi-agent message under its context's
/// governance threshold, SPEC §12), tied to the decision made about the same content.
#[derive(Debug, Clone, Copy)]
pub struct Extra<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// The acting agent.
    pub agent_id: &'a str,
    /// What it breaks (`multi_agent:governance_threshold`), in place of a policy id.
    pub policy_id: &'a str,
    /// The violation type.
    pub violation_type: &'a str,
    /// `high`, `medium` or `low`.
    pub severity: &'a str,
    /// The decision it belongs to.
    pub decision_id: &'a str,
    /// Details (a JSON object).
    pub details: &'a Value,
    /// Epoch ms.
    pub now: i64,
}

/// Stores one violation that no policy raised (see [`Extra`]), inside the caller's transaction;
/// its id.
pub async fn insert_violation(
    conn: &mut AnyConnection,
    v: &Extra<'_>,
) -> Result<String, sqlx::Error> {
    let id = format!("vio_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO governance_violations (id, tenant_id, agent_id, policy_id, \
         violation_type, severity, decision_id, execution_id, details, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)",
    )
    .bind(&id)
    .bind(v.tenant_id)
    .bind(v.agent_id)
    .bind(v.policy_id)
    .bind(v.violation_type)
    .bind(v.severity)
    .bind(v.decision_id)
    .bind(v.details.to_string())
    .bind(v.now)
    .execute(conn)
    .await
    .map(|_| id)
}

/// The tenant's decisions not chained yet, oldest first: `(id, entry)`.
pub async fn unchained(
    conn: &mut AnyConnection,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, entry FROM governance_decisions WHERE tenant_id = $1 AND chained_seq IS NULL \
         ORDER BY created_at, id LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Notes where a decision sits in the chain.
pub async fn mark_chained(conn: &mut AnyConnection, id: &str, seq: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE governance_decisions SET chained_seq = $1 WHERE id = $2")
        .bind(seq)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Tenants with decisions waiting to be chained.
pub async fn tenants_waiting(pool: &AnyPool, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT tenant_id FROM governance_decisions WHERE chained_seq IS NULL LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Filters of the violations list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViolationFilter<'a> {
    /// One agent.
    pub agent_id: Option<&'a str>,
    /// One severity.
    pub severity: Option<&'a str>,
    /// One policy.
    pub policy_id: Option<&'a str>,
    /// At or after, epoch ms.
    pub since: Option<i64>,
}

/// A page of the tenant's violations, newest first.
pub async fn violations(
    pool: &AnyPool,
    tenant_id: &str,
    filter: &ViolationFilter<'_>,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<(i64, Violation)>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    let rows = sqlx::query(
        "SELECT id, agent_id, policy_id, violation_type, severity, decision_id, execution_id, \
         details, occurred_at FROM governance_violations WHERE tenant_id = $1 \
         AND (occurred_at < $2 OR (occurred_at = $2 AND id < $3)) \
         AND ($4 IS NULL OR agent_id = $4) AND ($5 IS NULL OR severity = $5) \
         AND ($6 IS NULL OR policy_id = $6) AND occurred_at >= $7 \
         ORDER BY occurred_at DESC, id DESC LIMIT $8",
    )
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(filter.agent_id)
    .bind(filter.severity)
    .bind(filter.policy_id)
    .bind(filter.since.unwrap_or(0))
    .bind(fetch)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let details: String = row.try_get(7)?;
            let at: i64 = row.try_get(8)?;
            Ok((
                at,
                Violation {
                    id: row.try_get(0)?,
                    agent_id: row.try_get(1)?,
                    policy_id: row.try_get(2)?,
                    violation_type: row.try_get(3)?,
                    severity: row.try_get(4)?,
                    decision_id: row.try_get(5)?,
                    execution_id: row.try_get(6)?,
                    details: serde_json::from_str(&details).unwrap_or(Value::Null),
                    occurred_at: rfc3339_ms(at),
                },
            ))
        })
        .collect()
}

/// A page of the tenant's audit chain, newest first; the cursor's key is the `seq`.
pub async fn audit(
    pool: &AnyPool,
    tenant_id: &str,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let before = after.map_or(i64::MAX, |c| c.key);
    let rows = sqlx::query(
        "SELECT seq, entry_id, kind, entry, previous_hash, entry_hash, created_at \
         FROM governance_audit WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(tenant_id)
    .bind(before)
    .bind(fetch)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let entry: String = row.try_get(3)?;
            Ok(AuditEntry {
                seq: row.try_get(0)?,
                entry_id: row.try_get(1)?,
                kind: row.try_get(2)?,
                entry: serde_json::from_str(&entry).unwrap_or(Value::String(entry)),
                previous_entry_hash: row.try_get(4)?,
                entry_hash: row.try_get(5)?,
                created_at: rfc3339_ms(row.try_get(6)?),
            })
        })
        .collect()
}
