//! Executions in SQL. Status changes are conditional updates (`WHERE status = $expected`), so a
//! forbidden or racing transition changes nothing.

use platform_sdk::agent_wire::{ExecutionRecord, ExecutionStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

/// A new execution.
pub struct NewExecution<'a> {
    /// Id.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Session.
    pub session_id: &'a str,
    /// User, if any.
    pub user_id: Option<&'a str>,
    /// Conversation.
    pub conversation_id: &'a str,
    /// Agent id.
    pub agent_id: &'a str,
    /// Agent type.
    pub agent_type: &'a str,
    /// Pillar.
    pub pillar: Option<&'a str>,
    /// User text.
    pub input: &'a str,
    /// Now.
    pub now: i64,
}

const COLUMNS: &str = "id, tenant_id, session_id, conversation_id, agent_id, agent_type, pillar, status, error, created_at, updated_at";

fn execution(r: &AnyRow) -> Result<ExecutionRecord, sqlx::Error> {
    let status: String = r.try_get(7)?;
    Ok(ExecutionRecord {
        execution_id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        session_id: r.try_get(2)?,
        conversation_id: r.try_get(3)?,
        agent_id: r.try_get(4)?,
        agent_type: r.try_get(5)?,
        pillar: r.try_get(6)?,
        status: ExecutionStatus::parse(&status).unwrap_or(ExecutionStatus::Failed),
        error: r.try_get(8)?,
        created_at: r.try_get(9)?,
        updated_at: r.try_get(10)?,
    })
}

/// Inserts an execution in `created`.
pub async fn insert(pool: &AnyPool, e: &NewExecution<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO executions (id, tenant_id, session_id, user_id, conversation_id, agent_id, agent_type, \
         pillar, input, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'created', $10, $10)",
    )
    .bind(e.id)
    .bind(e.tenant_id)
    .bind(e.session_id)
    .bind(e.user_id)
    .bind(e.conversation_id)
    .bind(e.agent_id)
    .bind(e.agent_type)
    .bind(e.pillar)
    .bind(e.input)
    .bind(e.now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// One execution of a tenant.
pub async fn get(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Option<ExecutionRecord>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM executions WHERE id = $1 AND tenant_id = $2");
    sqlx::query(&sql)
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(execution)
        .transpose()
}

/// Moves an execution from `from` to `to`; false when it was not in `from`.
pub async fn transition(
    pool: &AnyPool,
    id: &str,
    from: ExecutionStatus,
    to: ExecutionStatus,
    error: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE executions SET status = $1, error = COALESCE($2, error), updated_at = $3 WHERE id = $4 AND status = $5")
        .bind(to.as_str())
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Executions left unfinished by a previous process (they can never finish now).
pub async fn unfinished(pool: &AnyPool) -> Result<Vec<ExecutionRecord>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM executions WHERE status IN ('created', 'executing', 'awaiting_approval')");
    sqlx::query(&sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(execution)
        .collect()
}
