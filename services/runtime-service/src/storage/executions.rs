//! Executions, conversations and messages in SQL. Status changes are conditional updates
//! (`WHERE status = $expected`), so a forbidden or racing transition changes nothing.

use platform_sdk::agent_wire::{
    ConversationRecord, ExecutionRecord, ExecutionStatus, MessageRecord,
};
use platform_sdk::time_util::rfc3339_ms;
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

/// The agent a conversation sticks to, if the conversation exists for this tenant and user.
pub async fn conversation_agent(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: Option<&str>,
    conversation_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT agent_id FROM conversations WHERE id = $1 AND tenant_id = $2 AND \
         ((user_id IS NULL AND $3 IS NULL) OR user_id = $3)",
    )
    .bind(conversation_id)
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// Creates a conversation; false when the id is already taken (by anyone).
#[allow(clippy::too_many_arguments)]
pub async fn create_conversation(
    pool: &AnyPool,
    id: &str,
    tenant_id: &str,
    user_id: Option<&str>,
    session_id: &str,
    agent_id: &str,
    title: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO conversations (id, tenant_id, user_id, session_id, agent_id, title, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(user_id)
    .bind(session_id)
    .bind(agent_id)
    .bind(title)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Points a conversation of a tenant at an agent and marks it active.
pub async fn touch_conversation(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
    agent_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE conversations SET agent_id = $1, updated_at = $2 WHERE id = $3 AND tenant_id = $4",
    )
    .bind(agent_id)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Appends a message.
#[allow(clippy::too_many_arguments)]
pub async fn add_message(
    pool: &AnyPool,
    conversation_id: &str,
    tenant_id: &str,
    role: &str,
    content: &str,
    agent_id: Option<&str>,
    execution_id: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, tenant_id, role, content, agent_id, execution_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(conversation_id)
    .bind(tenant_id)
    .bind(role)
    .bind(content)
    .bind(agent_id)
    .bind(execution_id)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The last `limit` messages of a conversation, oldest first (the agent's context).
pub async fn recent_messages(
    pool: &AnyPool,
    conversation_id: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut rows: Vec<(String, String)> = sqlx::query(
        "SELECT role, content FROM messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(conversation_id)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    rows.reverse();
    Ok(rows)
}

/// A user's conversations in a tenant, newest first.
pub async fn conversations(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: &str,
) -> Result<Vec<ConversationRecord>, sqlx::Error> {
    sqlx::query(
        "SELECT id, agent_id, title, session_id, created_at, updated_at FROM conversations \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY updated_at DESC LIMIT 200",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(ConversationRecord {
            conversation_id: r.try_get(0)?,
            agent_id: r.try_get(1)?,
            title: r.try_get(2)?,
            session_id: r.try_get(3)?,
            created_at: rfc3339_ms(r.try_get(4)?),
            updated_at: rfc3339_ms(r.try_get(5)?),
        })
    })
    .collect()
}

/// Messages of a user's conversation, oldest first; `None` when it is not theirs.
pub async fn messages(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: &str,
    conversation_id: &str,
) -> Result<Option<Vec<MessageRecord>>, sqlx::Error> {
    if conversation_agent(pool, tenant_id, Some(user_id), conversation_id)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    sqlx::query(
        "SELECT id, role, content, agent_id, execution_id, created_at FROM messages \
         WHERE conversation_id = $1 AND tenant_id = $2 ORDER BY created_at, id",
    )
    .bind(conversation_id)
    .bind(tenant_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(MessageRecord {
            message_id: r.try_get(0)?,
            role: r.try_get(1)?,
            content: r.try_get(2)?,
            agent_id: r.try_get(3)?,
            execution_id: r.try_get(4)?,
            created_at: rfc3339_ms(r.try_get(5)?),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .map(Some)
}
