//! Executions in SQL. Status changes are conditional updates (`WHERE status = $expected`), so a
//! forbidden or racing transition changes nothing. Each unfinished execution carries its owner (a
//! runtime process) and a lease that owner renews (docs/adr/0013-replicas-and-leases.md). Ending
//! one is [`finish`], which counts it in the usage analytics, folds it into the agent's trust and
//! records its outcomes (SPEC §16) in the same transaction.

use platform_sdk::agent_wire::{ExecutionRecord, ExecutionStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

use crate::governance::trust;

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
    /// The runtime process that runs it.
    pub owner_id: &'a str,
    /// When its lease ends unless renewed (epoch ms).
    pub lease_expires_at: i64,
    /// Its first status.
    pub status: ExecutionStatus,
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

/// Inserts an execution in its first status.
pub async fn insert<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    e: &NewExecution<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO executions (id, tenant_id, session_id, user_id, conversation_id, agent_id, agent_type, \
         pillar, input, status, created_at, updated_at, owner_id, lease_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
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
    .bind(e.status.as_str())
    .bind(e.now)
    .bind(e.owner_id)
    .bind(e.lease_expires_at)
    .execute(db)
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

/// One execution, whatever its tenant (the caller already checked it).
pub async fn get_any(pool: &AnyPool, id: &str) -> Result<Option<ExecutionRecord>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM executions WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(execution)
        .transpose()
}

/// Moves an execution from `from` to `to`, between unfinished states (ending one is
/// [`finish`]); false when it was not in `from`.
pub async fn transition<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
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
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The statuses of an execution that has not finished.
/// (A paused one is unfinished: its lease keeps being renewed, and a lost one is swept.)
pub const UNFINISHED: &str = "('created', 'executing', 'awaiting_approval', 'paused')";

/// Extends the leases of `ids` owned by `owner` (unfinished ones only) to `until`; returns the ids
/// renewed. One missing from the answer is no longer this owner's to run (finished, or failed by
/// another replica's sweep).
pub async fn renew(
    pool: &AnyPool,
    owner: &str,
    ids: &[String],
    until: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut renewed = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "UPDATE executions SET lease_expires_at = $1 WHERE owner_id = $2 AND status IN {UNFINISHED} \
             AND id IN ({}) RETURNING id",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(until).bind(owner);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(pool).await? {
            renewed.push(row.try_get(0)?);
        }
    }
    Ok(renewed)
}

/// Unfinished executions whose lease ended before `now` (or that never had one): their owner is
/// gone.
pub async fn expired(pool: &AnyPool, now: i64) -> Result<Vec<ExecutionRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM executions WHERE status IN {UNFINISHED} \
         AND (lease_expires_at IS NULL OR lease_expires_at < $1)"
    );
    sqlx::query(&sql)
        .bind(now)
        .fetch_all(pool)
        .await?
        .iter()
        .map(execution)
        .collect()
}

/// Unfinished executions of `owner` (this process, when it stops).
pub async fn owned(pool: &AnyPool, owner: &str) -> Result<Vec<ExecutionRecord>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM executions WHERE owner_id = $1 AND status IN {UNFINISHED}");
    sqlx::query(&sql)
        .bind(owner)
        .fetch_all(pool)
        .await?
        .iter()
        .map(execution)
        .collect()
}

/// Which unfinished execution [`finish`] may end.
#[derive(Debug, Clone, Copy)]
pub enum Guard<'a> {
    /// One in this status.
    From(ExecutionStatus),
    /// One whose lease has expired (or that never had one): its owner is gone. Conditional on
    /// the lease still being expired, so exactly one sweeping replica wins.
    LeaseExpired,
    /// One this owner runs.
    OwnedBy(&'a str),
}

/// What ending an execution changes.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// Its id.
    pub id: &'a str,
    /// Which state it may end from.
    pub guard: Guard<'a>,
    /// `completed`, `failed` or `cancelled`.
    pub to: ExecutionStatus,
    /// The error of a failed one.
    pub error: Option<&'a str>,
    /// Now, epoch ms.
    pub now: i64,
    /// When its runner saw the first `AGENT_RESPONSE_DELTA`, if it did.
    pub first_delta_at: Option<i64>,
    /// The answer of a completed one (trust evidence: does it explain itself).
    pub answer: Option<&'a str>,
    /// Whether that answer passed every output policy (trust evidence: honesty; a failing one
    /// was already counted as a violation when it was decided).
    pub output_clean: bool,
    /// The latency objective, ms (trust evidence: a slower completion counts against
    /// reliability).
    pub slo_ms: i64,
}

/// Ends an execution on `conn` (run it inside the caller's transaction), counts it in the usage
/// counters ([`crate::usage::storage::count_ended`]) and folds it into the agent's trust
/// ([`crate::governance::trust::observe`]) and records its two outcomes
/// ([`crate::outcomes::service::of_execution`]) in the same commit: every way an execution ends goes
/// through here, so none is missed. False, and nothing changed, when the
/// guard did not hold (it ended or moved meanwhile).
pub async fn finish(conn: &mut AnyConnection, f: &Finish<'_>) -> Result<bool, sqlx::Error> {
    let guard = match f.guard {
        Guard::From(_) => "status = $5".to_owned(),
        Guard::LeaseExpired => format!(
            "status IN {UNFINISHED} AND (lease_expires_at IS NULL OR lease_expires_at < $3)"
        ),
        Guard::OwnedBy(_) => format!("owner_id = $5 AND status IN {UNFINISHED}"),
    };
    let sql = format!(
        "UPDATE executions SET status = $1, error = COALESCE($2, error), updated_at = $3 \
         WHERE id = $4 AND {guard} RETURNING tenant_id, agent_id, user_id, conversation_id, created_at, session_id"
    );
    let query = sqlx::query(&sql)
        .bind(f.to.as_str())
        .bind(f.error)
        .bind(f.now)
        .bind(f.id);
    let query = match f.guard {
        Guard::From(from) => query.bind(from.as_str()),
        Guard::LeaseExpired => query,
        Guard::OwnedBy(owner) => query.bind(owner),
    };
    let row = query.fetch_optional(&mut *conn).await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let ended = crate::usage::storage::Ended {
        tenant_id: row.try_get(0)?,
        agent_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        conversation_id: row.try_get(3)?,
        status: f.to,
        created_at: row.try_get(4)?,
        ended_at: f.now,
        first_delta_at: f.first_delta_at,
    };
    crate::usage::storage::count_ended(conn, &ended).await?;
    let evidence = trust::evidence::of_execution(&trust::evidence::Ending {
        status: f.to,
        error: f.error,
        total_ms: ended.ended_at - ended.created_at,
        slo_ms: f.slo_ms,
        answer: f.answer,
        output_clean: f.output_clean,
    });
    trust::observe(conn, &ended.tenant_id, &ended.agent_id, &evidence, f.now).await?;
    let outcomes = crate::outcomes::service::of_execution(&crate::outcomes::service::Finished {
        execution_id: f.id,
        tenant_id: &ended.tenant_id,
        agent_id: &ended.agent_id,
        user_id: ended.user_id.as_deref(),
        status: f.to,
        created_at: ended.created_at,
        ended_at: f.now,
    });
    crate::outcomes::storage::store(conn, &outcomes).await?;
    let session_id: String = row.try_get(5)?;
    let facts = crate::notifications::producers::ExecutionFacts {
        tenant_id: &ended.tenant_id,
        execution_id: f.id,
        user_id: ended.user_id.as_deref(),
        agent_id: &ended.agent_id,
        session_id: Some(&session_id),
        status: f.to.as_str(),
    };
    crate::notifications::producers::execution_in(conn, &facts).await?;
    Ok(true)
}

/// The replica that owns an execution (its lease holder), if any.
pub async fn owner_of(pool: &AnyPool, id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, Option<String>>("SELECT owner_id FROM executions WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map(Option::flatten)
}

/// Executions of a session waiting for a human, with their owners.
pub async fn awaiting_in_session(
    pool: &AnyPool,
    tenant_id: &str,
    session_id: &str,
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT id, owner_id FROM executions WHERE tenant_id = $1 AND session_id = $2 \
         AND status = 'awaiting_approval'",
    )
    .bind(tenant_id)
    .bind(session_id)
    .fetch_all(pool)
    .await
}
