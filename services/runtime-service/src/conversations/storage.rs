//! Conversations and messages in SQL. Every read is scoped by tenant (and user, where a user owns
//! the conversation).

use platform_sdk::agent_wire::{ConversationRecord, MessageRecord};
use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::{AnyPool, Row as _};

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
pub async fn create_conversation<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
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
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Points a conversation of a tenant at an agent and marks it active.
pub async fn touch_conversation<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
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
    .execute(db)
    .await
    .map(|_| ())
}

/// Appends a message.
#[allow(clippy::too_many_arguments)]
pub async fn add_message<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
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
    .execute(db)
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

/// One page of a user's conversations in a tenant, most recently active first, each with its
/// sort key (`updated_at`, epoch ms); `fetch` rows at most, after `after` when given.
pub async fn conversations(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: &str,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<(ConversationRecord, i64)>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    sqlx::query(
        "SELECT id, agent_id, title, session_id, created_at, updated_at FROM conversations \
         WHERE tenant_id = $1 AND user_id = $2 AND (updated_at < $3 OR (updated_at = $3 AND id < $4)) \
         ORDER BY updated_at DESC, id DESC LIMIT $5",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(key)
    .bind(id)
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        let updated_at: i64 = r.try_get(5)?;
        Ok((
            ConversationRecord {
                conversation_id: r.try_get(0)?,
                agent_id: r.try_get(1)?,
                title: r.try_get(2)?,
                session_id: r.try_get(3)?,
                created_at: rfc3339_ms(r.try_get(4)?),
                updated_at: rfc3339_ms(updated_at),
            },
            updated_at,
        ))
    })
    .collect()
}

/// One page of the messages of a user's conversation, newest first, each with its sort key
/// (`created_at`, epoch ms); `None` when the conversation is not theirs.
pub async fn messages(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: &str,
    conversation_id: &str,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Option<Vec<(MessageRecord, i64)>>, sqlx::Error> {
    if conversation_agent(pool, tenant_id, Some(user_id), conversation_id)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let (key, id) = page::start_after(after);
    sqlx::query(
        "SELECT id, role, content, agent_id, execution_id, created_at FROM messages \
         WHERE conversation_id = $1 AND tenant_id = $2 AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5",
    )
    .bind(conversation_id)
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        let created_at: i64 = r.try_get(5)?;
        Ok((
            MessageRecord {
                message_id: r.try_get(0)?,
                role: r.try_get(1)?,
                content: r.try_get(2)?,
                agent_id: r.try_get(3)?,
                execution_id: r.try_get(4)?,
                created_at: rfc3339_ms(created_at),
            },
            created_at,
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .map(Some)
}
