//! The sources of an agent's activity feed, each read newest first from its own table with its
//! own index: the agent's executions, its tracked events, and (for a wrapper) its deployment
//! status changes. Each answers at most one page after the feed's cursor; the service merges
//! them. Violations and attestations (SPEC §10) join as two more functions of this shape.

use platform_sdk::agent_wire::ExecutionStatus;
use platform_sdk::time_util::rfc3339_ms;
use platform_sdk::usage_wire::{ActivityItem, ActivityKind};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

/// One feed entry with its sort key: `at` (epoch ms), then `key` (`<kind>:<id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Epoch ms.
    pub at: i64,
    /// `<kind>:<row id>`, the tie-breaker (kind names are not prefixes of one another).
    pub key: String,
    /// The item.
    pub item: ActivityItem,
}

/// Where a source's page starts: rows with `(at, id) < (at, id)` of this bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    /// Epoch ms.
    pub at: i64,
    /// Row id.
    pub id: String,
}

fn entry(
    kind: ActivityKind,
    id: &str,
    at: i64,
    summary: String,
    execution: Option<String>,
    user: Option<String>,
) -> Entry {
    Entry {
        at,
        key: format!("{}:{id}", kind.as_str()),
        item: ActivityItem {
            at: rfc3339_ms(at),
            kind,
            summary,
            execution_id: execution,
            user_id: user,
        },
    }
}

/// One page of `table`'s rows of the agent in the tenant, newest first, after `before`: the
/// keyset query every source shares (`agent_column` names the agent; `created_at, id` order).
async fn page(
    pool: &AnyPool,
    columns_from: &str,
    agent_column: &str,
    (tenant_id, agent_id): (&str, &str),
    before: &Before,
    fetch: i64,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {columns_from} WHERE tenant_id = $1 AND {agent_column} = $2 \
         AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    );
    sqlx::query(&sql)
        .bind(tenant_id)
        .bind(agent_id)
        .bind(before.at)
        .bind(&before.id)
        .bind(fetch)
        .fetch_all(pool)
        .await
}

/// The agent's executions in the tenant.
pub async fn executions(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
    before: &Before,
    fetch: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = page(
        pool,
        "id, status, error, user_id, created_at, updated_at FROM executions",
        "agent_id",
        (tenant_id, agent_id),
        before,
        fetch,
    )
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            let status: String = r.try_get(1)?;
            let error: Option<String> = r.try_get(2)?;
            let (created, updated): (i64, i64) = (r.try_get(4)?, r.try_get(5)?);
            let summary = match ExecutionStatus::parse(&status) {
                Some(ExecutionStatus::Completed) => {
                    format!("execution completed in {} ms", updated - created)
                }
                Some(ExecutionStatus::Failed) => match error {
                    Some(error) => format!("execution failed: {error}"),
                    None => "execution failed".to_owned(),
                },
                _ => format!("execution {status}"),
            };
            Ok(entry(
                ActivityKind::Execution,
                &id,
                created,
                summary,
                Some(id.clone()),
                r.try_get(3)?,
            ))
        })
        .collect()
}

/// The events tracked for the agent in the tenant.
pub async fn tracked(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
    before: &Before,
    fetch: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = page(
        pool,
        "id, event_type, outcome, latency_ms, rating, user_id, created_at FROM agent_usage_events",
        "agent_id",
        (tenant_id, agent_id),
        before,
        fetch,
    )
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            let event_type: String = r.try_get(1)?;
            let mut parts = Vec::new();
            if let Some(outcome) = r.try_get::<Option<String>, _>(2)? {
                parts.push(outcome);
            }
            if let Some(ms) = r.try_get::<Option<i64>, _>(3)? {
                parts.push(format!("{ms} ms"));
            }
            if let Some(rating) = r.try_get::<Option<i64>, _>(4)? {
                parts.push(format!("rating {rating}"));
            }
            let summary = match parts.is_empty() {
                true => format!("tracked {event_type}"),
                false => format!("tracked {event_type}: {}", parts.join(", ")),
            };
            Ok(entry(
                ActivityKind::Tracked,
                &id,
                r.try_get(6)?,
                summary,
                None,
                r.try_get(5)?,
            ))
        })
        .collect()
}

/// The deployment status changes of the tenant's wrapper `agent_id` (none for a builtin agent).
pub async fn deployments(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
    before: &Before,
    fetch: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = page(
        pool,
        "id, status, version, error, actor_id, created_at FROM agent_deployment_events",
        "wrapper_id",
        (tenant_id, agent_id),
        before,
        fetch,
    )
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            let status: String = r.try_get(1)?;
            let mut summary = format!("deployment {status}");
            if let Some(version) = r.try_get::<Option<String>, _>(2)? {
                summary.push_str(&format!(" (version {version})"));
            }
            if let Some(error) = r.try_get::<Option<String>, _>(3)? {
                summary.push_str(&format!(": {error}"));
            }
            Ok(entry(
                ActivityKind::Deployment,
                &id,
                r.try_get(5)?,
                summary,
                None,
                r.try_get(4)?,
            ))
        })
        .collect()
}
