//! Wrappers and their deployment events in SQL (migration `20261203000020_agent_wrappers.sql`).
//! Every read and write is scoped by tenant; a status change is conditional on the status it was
//! decided from, so two racing requests cannot both move a wrapper, and it is written in the same
//! transaction as its `deployment.status` event.

use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use platform_sdk::wrapper_wire::{
    DeployedDefinition, DeploymentStatus, WrapperConfiguration, WrapperRecord,
};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

/// A stored wrapper with what only the runtime reads.
#[derive(Debug, Clone)]
pub struct Stored {
    /// What clients see.
    pub record: WrapperRecord,
    /// The definition the catalog serves, while deployed.
    pub deployed: Option<DeployedDefinition>,
    /// When it was deployed (epoch ms).
    pub deployed_at: Option<i64>,
    /// The last health check's result.
    pub health_ok: Option<bool>,
    /// When it ran (epoch ms).
    pub health_checked_at: Option<i64>,
    /// Creation time (epoch ms; the list's sort key).
    pub created_ms: i64,
}

const COLUMNS: &str =
    "id, tenant_id, created_by, name, description, version, supported_providers, \
    configuration, deployment_status, deployment_id, deployed_version, deployed_configuration, \
    deployed_at, health_ok, health_checked_at, last_error, created_at, updated_at";

fn json_column<T: serde::de::DeserializeOwned>(r: &AnyRow, i: usize) -> Result<T, sqlx::Error> {
    let text: String = r.try_get(i)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(e.into()))
}

fn stored(r: &AnyRow) -> Result<Stored, sqlx::Error> {
    let created_ms: i64 = r.try_get(16)?;
    let deployed: Option<String> = r.try_get(11)?;
    let deployed = deployed
        .map(|t| serde_json::from_str::<DeployedDefinition>(&t))
        .transpose()
        .map_err(|e| sqlx::Error::Decode(e.into()))?;
    let health_ok: Option<i64> = r.try_get(13)?;
    Ok(Stored {
        record: WrapperRecord {
            id: r.try_get(0)?,
            tenant_id: r.try_get(1)?,
            created_by: r.try_get(2)?,
            name: r.try_get(3)?,
            description: r.try_get(4)?,
            version: r.try_get(5)?,
            supported_providers: json_column(r, 6)?,
            configuration: json_column::<WrapperConfiguration>(r, 7)?,
            deployment_status: {
                let text: String = r.try_get(8)?;
                DeploymentStatus::parse(&text).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown deployment status `{text}`").into())
                })?
            },
            deployment_id: r.try_get(9)?,
            deployed_version: r.try_get(10)?,
            last_error: r.try_get(15)?,
            created_at: rfc3339_ms(created_ms),
            updated_at: rfc3339_ms(r.try_get(17)?),
        },
        deployed,
        deployed_at: r.try_get(12)?,
        health_ok: health_ok.map(|v| v != 0),
        health_checked_at: r.try_get(14)?,
        created_ms,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(e.into()))
}

/// Stores a new (draft) wrapper.
pub async fn insert<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    w: &WrapperRecord,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agent_wrappers (id, tenant_id, created_by, name, description, version, \
         supported_providers, configuration, deployment_status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&w.id)
    .bind(&w.tenant_id)
    .bind(&w.created_by)
    .bind(&w.name)
    .bind(&w.description)
    .bind(&w.version)
    .bind(to_json(&w.supported_providers)?)
    .bind(to_json(&w.configuration)?)
    .bind(w.deployment_status.as_str())
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// A wrapper of a tenant.
pub async fn get<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM agent_wrappers WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(stored)
    .transpose()
}

/// List filters.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    /// Only this deployment status.
    pub status: Option<DeploymentStatus>,
    /// Only names containing this (case-insensitive).
    pub name_contains: Option<&'a str>,
}

/// One page of a tenant's wrappers, newest first; `fetch` rows at most, after `after`.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    filter: &Filter<'_>,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    let like = filter.name_contains.map(|q| {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM agent_wrappers WHERE tenant_id = $1 \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         AND ($4 IS NULL OR deployment_status = $4) \
         AND ($5 IS NULL OR LOWER(name) LIKE $5 ESCAPE '\\') \
         ORDER BY created_at DESC, id DESC LIMIT $6"
    ))
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(filter.status.map(DeploymentStatus::as_str))
    .bind(like)
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(stored)
    .collect()
}

/// Replaces a wrapper's definition if its version is still `expected_version`; false when it
/// changed meanwhile (or is gone).
pub async fn update_definition<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    w: &WrapperRecord,
    expected_version: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE agent_wrappers SET name = $1, description = $2, version = $3, \
         supported_providers = $4, configuration = $5, updated_at = $6 \
         WHERE id = $7 AND tenant_id = $8 AND version = $9 AND deployment_status <> 'deploying'",
    )
    .bind(&w.name)
    .bind(&w.description)
    .bind(&w.version)
    .bind(to_json(&w.supported_providers)?)
    .bind(to_json(&w.configuration)?)
    .bind(now)
    .bind(&w.id)
    .bind(&w.tenant_id)
    .bind(expected_version)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A status change and what goes with it.
#[derive(Debug)]
pub struct Move<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Wrapper.
    pub id: &'a str,
    /// The status it was decided from.
    pub from: &'a str,
    /// The new status.
    pub to: &'a str,
    /// Only if this is still the latest deployment (the deployment task's own moves).
    pub deployment_id: Option<&'a str>,
    /// Epoch ms.
    pub now: i64,
}

/// Moves a wrapper from `from` to `to`; false when it was no longer in `from` (or, for a
/// deployment's own move, when a newer deployment started).
pub async fn set_status<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    m: &Move<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE agent_wrappers SET deployment_status = $1, updated_at = $2 \
         WHERE id = $3 AND tenant_id = $4 AND deployment_status = $5 \
         AND ($6 IS NULL OR deployment_id = $6)",
    )
    .bind(m.to)
    .bind(m.now)
    .bind(m.id)
    .bind(m.tenant_id)
    .bind(m.from)
    .bind(m.deployment_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the start of a deployment (after [`set_status`] moved it to `deploying`).
pub async fn start_deployment<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
    deployment_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agent_wrappers SET deployment_id = $1, last_error = NULL WHERE id = $2 AND tenant_id = $3",
    )
    .bind(deployment_id)
    .bind(id)
    .bind(tenant_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// The outcome of a deployment's checks, written with its status move.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// Serving `definition` as `version`.
    Serving {
        /// Version.
        version: &'a str,
        /// What the catalog serves.
        definition: &'a DeployedDefinition,
    },
    /// Not serving; why.
    Failed(&'a str),
}

/// Writes a deployment's outcome (health and what is served).
pub async fn record_outcome<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
    outcome: &Outcome<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (ok, version, definition, deployed_at, error) = match outcome {
        Outcome::Serving {
            version,
            definition,
        } => (
            1_i64,
            Some(*version),
            Some(to_json(definition)?),
            Some(now),
            None,
        ),
        Outcome::Failed(error) => (0, None, None, None, Some(*error)),
    };
    sqlx::query(
        "UPDATE agent_wrappers SET health_ok = $1, health_checked_at = $2, deployed_version = $3, \
         deployed_configuration = $4, deployed_at = $5, last_error = $6 WHERE id = $7 AND tenant_id = $8",
    )
    .bind(ok)
    .bind(now)
    .bind(version)
    .bind(definition)
    .bind(deployed_at)
    .bind(error)
    .bind(id)
    .bind(tenant_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Stops serving (retire): the catalog forgets the deployed definition.
pub async fn withdraw<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE agent_wrappers SET deployed_version = NULL, deployed_configuration = NULL, \
         deployed_at = NULL WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(tenant_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Removes a wrapper (its deployment events and the executions that ran on it stay).
pub async fn delete<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM agent_wrappers WHERE id = $1 AND tenant_id = $2 AND deployment_status = 'retired'",
    )
    .bind(id)
    .bind(tenant_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One `deployment.status` event.
#[derive(Debug)]
pub struct StatusEvent<'a> {
    /// Wrapper.
    pub wrapper_id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// The deployment it belongs to.
    pub deployment_id: Option<&'a str>,
    /// The new status.
    pub status: &'a str,
    /// The version concerned.
    pub version: Option<&'a str>,
    /// Why it failed.
    pub error: Option<&'a str>,
    /// Who caused it (`None`: the runtime itself).
    pub actor_id: Option<&'a str>,
    /// Epoch ms.
    pub now: i64,
}

/// Appends a `deployment.status` event; every change after creation also goes live to the
/// wrapper's creator with a notification (SPEC §13), on the same transaction.
pub async fn add_event(
    conn: &mut sqlx::AnyConnection,
    e: &StatusEvent<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agent_deployment_events (id, wrapper_id, tenant_id, deployment_id, status, \
         version, error, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(format!("dev_{}", uuid::Uuid::new_v4().simple()))
    .bind(e.wrapper_id)
    .bind(e.tenant_id)
    .bind(e.deployment_id)
    .bind(e.status)
    .bind(e.version)
    .bind(e.error)
    .bind(e.actor_id)
    .bind(e.now)
    .execute(&mut *conn)
    .await?;
    if e.status == "draft" {
        return Ok(());
    }
    let producers = crate::notifications::producers::creator_of;
    let Some(creator) = producers(conn, e.tenant_id, e.wrapper_id).await? else {
        return Ok(());
    };
    let data = serde_json::json!({
        "agent_id": e.wrapper_id,
        "deployment_id": e.deployment_id,
        "status": e.status,
        "version": e.version,
        "error": e.error,
    });
    crate::notifications::producers::deployment_in(conn, e.tenant_id, &creator, data).await
}

/// Turns run on an agent of a tenant.
pub async fn invocations(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM executions WHERE tenant_id = $1 AND agent_id = $2")
        .bind(tenant_id)
        .bind(agent_id)
        .fetch_one(pool)
        .await
}

/// Deployments still `deploying` since before `cutoff` (their runtime stopped mid-way).
pub async fn stale_deployments(pool: &AnyPool, cutoff: i64) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM agent_wrappers WHERE deployment_status = 'deploying' AND updated_at < $1"
    ))
    .bind(cutoff)
    .fetch_all(pool)
    .await?
    .iter()
    .map(stored)
    .collect()
}
