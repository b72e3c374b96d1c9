//! Contexts and their messages in SQL (migration `20261207000040_multi_agent.sql`). Every read
//! and write is scoped by tenant; a status change or a persist is conditional on what it was
//! decided from (status, state version), so two racing requests cannot both apply. The one read
//! of another feature's tables, [`has_active_attestation`], is the profiles' (SPEC §9).

use platform_sdk::multi_agent_wire::{
    ContextPolicies, ContextRecord, DeliveryResult, GovernanceData, MessageBody, StoredMessage,
};
use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

/// A stored context with what only the runtime reads.
#[derive(Debug, Clone)]
pub struct Stored {
    /// What clients see.
    pub record: ContextRecord,
    /// Its persisted state.
    pub persistent_data: Value,
    /// When the state was last persisted (epoch ms).
    pub state_updated_ms: i64,
    /// Creation time (epoch ms; the list's sort key).
    pub created_ms: i64,
}

const COLUMNS: &str = "id, name, agent_ids, collaboration_model, policies, governance_enabled, \
    metadata, status, created_by, state_version, persistent_data, state_updated_at, created_at, \
    updated_at";

fn json_column<T: serde::de::DeserializeOwned>(r: &AnyRow, i: usize) -> Result<T, sqlx::Error> {
    let text: String = r.try_get(i)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(e.into()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(e.into()))
}

fn stored(r: &AnyRow) -> Result<Stored, sqlx::Error> {
    let created_ms: i64 = r.try_get(12)?;
    let enabled: i64 = r.try_get(5)?;
    Ok(Stored {
        record: ContextRecord {
            context_id: r.try_get(0)?,
            name: r.try_get(1)?,
            agent_ids: json_column(r, 2)?,
            collaboration_model: r.try_get(3)?,
            policies: json_column::<ContextPolicies>(r, 4)?,
            governance_enabled: enabled != 0,
            metadata: json_column(r, 6)?,
            status: r.try_get(7)?,
            created_by: r.try_get(8)?,
            state_version: r.try_get(9)?,
            created_at: rfc3339_ms(created_ms),
            updated_at: rfc3339_ms(r.try_get(13)?),
        },
        persistent_data: json_column(r, 10)?,
        state_updated_ms: r.try_get(11)?,
        created_ms,
    })
}

/// Stores a new context (`record` as answered; `now` its creation time).
pub async fn insert(
    pool: &AnyPool,
    tenant_id: &str,
    c: &ContextRecord,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO multi_agent_contexts ({COLUMNS}, tenant_id) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&c.context_id)
    .bind(&c.name)
    .bind(to_json(&c.agent_ids)?)
    .bind(&c.collaboration_model)
    .bind(to_json(&c.policies)?)
    .bind(i64::from(c.governance_enabled))
    .bind(to_json(&c.metadata)?)
    .bind(&c.status)
    .bind(&c.created_by)
    .bind(c.state_version)
    .bind("{}")
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(tenant_id)
    .execute(pool)
    .await
    .map(|_| ())
}

/// A context of a tenant.
pub async fn get(pool: &AnyPool, tenant_id: &str, id: &str) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM multi_agent_contexts WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(stored)
    .transpose()
}

/// One page of a tenant's contexts, newest first; `fetch` rows at most, after `after`.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    status: Option<&str>,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM multi_agent_contexts WHERE tenant_id = $1 \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         AND ($4 IS NULL OR status = $4) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(status)
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(stored)
    .collect()
}

/// Replaces name, policies, metadata and status if the status is still `from`; false when it
/// changed meanwhile.
pub async fn update(
    pool: &AnyPool,
    tenant_id: &str,
    c: &ContextRecord,
    from: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE multi_agent_contexts SET name = $1, policies = $2, metadata = $3, status = $4, \
         updated_at = $5 WHERE id = $6 AND tenant_id = $7 AND status = $8",
    )
    .bind(&c.name)
    .bind(to_json(&c.policies)?)
    .bind(to_json(&c.metadata)?)
    .bind(&c.status)
    .bind(now)
    .bind(&c.context_id)
    .bind(tenant_id)
    .bind(from)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes the persisted state if its version is still `expected`; false when it moved on.
pub async fn persist(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
    (expected, data): (i64, &Value),
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE multi_agent_contexts SET persistent_data = $1, state_version = state_version + 1, \
         state_updated_at = $2, updated_at = $2 WHERE id = $3 AND tenant_id = $4 \
         AND state_version = $5 AND status <> 'terminated'",
    )
    .bind(to_json(data)?)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .bind(expected)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// True when `agent_id` has a profile of the tenant with an ACTIVE, unexpired attestation.
pub async fn has_active_attestation(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT 1 FROM attestations a JOIN agent_profiles p ON p.id = a.profile_id \
         WHERE p.tenant_id = $1 AND p.agent_id = $2 AND a.tenant_id = $1 \
         AND a.revocation_status = 'ACTIVE' AND a.expires_at > $3 LIMIT 1",
    )
    .bind(tenant_id)
    .bind(agent_id)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// A message being stored.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// The message as it will be read back.
    pub message: &'a StoredMessage,
    /// Violation rows recorded for it.
    pub violations: i64,
    /// Epoch ms.
    pub created_ms: i64,
}

/// Stores a message on `conn` (inside the caller's transaction).
pub async fn insert_message(
    conn: &mut AnyConnection,
    m: &NewMessage<'_>,
) -> Result<(), sqlx::Error> {
    let msg = m.message;
    sqlx::query(
        "INSERT INTO multi_agent_messages (id, tenant_id, context_id, from_agent_id, to_agent_ids, \
         message_type, content, task_id, priority, require_response, in_reply_to, approved, \
         trust_score, governance, delivery, violations, created_at) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&msg.message_id)
    .bind(m.tenant_id)
    .bind(&msg.context_id)
    .bind(&msg.from_agent_id)
    .bind(to_json(&msg.to_agent_ids)?)
    .bind(msg.message.kind.as_deref())
    .bind(msg.message.content.as_deref())
    .bind(msg.message.task_id.as_deref())
    .bind(&msg.priority)
    .bind(i64::from(msg.require_response))
    .bind(msg.in_reply_to.as_deref())
    .bind(i64::from(msg.governance_data.approved))
    .bind(msg.governance_data.trust_score)
    .bind(to_json(&msg.governance_data)?)
    .bind(to_json(&msg.delivery_results)?)
    .bind(m.violations)
    .bind(m.created_ms)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Replaces a message's delivery results (answers arrive after it was stored).
pub async fn set_delivery(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
    delivery: &[DeliveryResult],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE multi_agent_messages SET delivery = $1 WHERE id = $2 AND tenant_id = $3")
        .bind(to_json(&delivery)?)
        .bind(id)
        .bind(tenant_id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// A stored message with its figures.
#[derive(Debug, Clone)]
pub struct Row {
    /// The message.
    pub message: StoredMessage,
    /// Violation rows recorded for it.
    pub violations: i64,
    /// Epoch ms.
    pub created_ms: i64,
}

fn message(r: &AnyRow) -> Result<Row, sqlx::Error> {
    let created_ms: i64 = r.try_get(16)?;
    let require: i64 = r.try_get(9)?;
    Ok(Row {
        message: StoredMessage {
            message_id: r.try_get(0)?,
            context_id: r.try_get(1)?,
            from_agent_id: r.try_get(2)?,
            to_agent_ids: json_column(r, 3)?,
            message: MessageBody {
                kind: r.try_get(4)?,
                content: r.try_get(5)?,
                task_id: r.try_get(6)?,
            },
            priority: r.try_get(7)?,
            in_reply_to: r.try_get(8)?,
            require_response: require != 0,
            timestamp: rfc3339_ms(created_ms),
            governance_data: json_column::<GovernanceData>(r, 10)?,
            delivery_results: json_column(r, 11)?,
        },
        violations: r.try_get(12)?,
        created_ms,
    })
}

const MESSAGE_COLUMNS: &str = "id, context_id, from_agent_id, to_agent_ids, message_type, \
    content, task_id, priority, in_reply_to, require_response, governance, delivery, violations, \
    approved, trust_score, tenant_id, created_at";

/// Every message of a context, oldest first.
pub async fn messages(
    pool: &AnyPool,
    tenant_id: &str,
    context_id: &str,
) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM multi_agent_messages \
         WHERE tenant_id = $1 AND context_id = $2 ORDER BY created_at, id"
    ))
    .bind(tenant_id)
    .bind(context_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(message)
    .collect()
}

/// The newest `limit` delivered (approved) messages of a context, oldest first: what an agent
/// answering in it is shown.
pub async fn recent_delivered(
    pool: &AnyPool,
    tenant_id: &str,
    context_id: &str,
    limit: i64,
) -> Result<Vec<StoredMessage>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM multi_agent_messages \
         WHERE tenant_id = $1 AND context_id = $2 AND approved = 1 \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(context_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut messages = rows
        .iter()
        .map(|r| message(r).map(|row| row.message))
        .collect::<Result<Vec<_>, _>>()?;
    messages.reverse();
    Ok(messages)
}
