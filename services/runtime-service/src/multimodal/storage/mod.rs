//! Multimodal requests, their results, artifacts and the tenants' policies in SQL (migration
//! `20261207000020_multimodal.sql`). Every read and write is scoped by tenant. A request's state
//! changes are conditional on the state they were decided from, so two racing moves (a cancel
//! and the run finishing) cannot both apply. Artifacts are content-addressed per tenant: storing
//! the same bytes twice keeps one row.
//!
//! This file: requests (and the processing ones whose execution ended without them);
//! [`results`]: one row per run; [`tenant`]: artifacts and policies.

mod results;
mod tenant;

pub use results::{download_url, finish_result, get_result, insert_result, Ending};
pub use tenant::{artifact, policy, put_artifact, put_policy};

use platform_sdk::multimodal_wire::{ArtifactRef, Modality, MultimodalRequest, RequestState};
use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

pub(super) fn decode_err(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

pub(super) fn state_of(text: &str) -> Result<RequestState, sqlx::Error> {
    RequestState::parse(text).ok_or_else(|| decode_err(format!("unknown state `{text}`")))
}

pub(super) fn bytes_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A stored request with what only the runtime reads.
#[derive(Debug, Clone)]
pub struct Stored {
    /// What clients see.
    pub record: MultimodalRequest,
    /// The execution of the latest run.
    pub execution_id: Option<String>,
    /// Creation time (epoch ms; the list's sort key).
    pub created_ms: i64,
}

const REQUEST_COLUMNS: &str = "id, tenant_id, requested_by, modality, input_text, input_sha256, \
    input_bytes, input_content_type, state, result_id, execution_id, error_message, \
    requested_timeout_seconds, created_at, updated_at";

fn request(r: &AnyRow) -> Result<Stored, sqlx::Error> {
    let modality: String = r.try_get(3)?;
    let sha: Option<String> = r.try_get(5)?;
    let input_bytes: Option<i64> = r.try_get(6)?;
    let content_type: Option<String> = r.try_get(7)?;
    let state: String = r.try_get(8)?;
    let created_ms: i64 = r.try_get(13)?;
    let updated_ms: i64 = r.try_get(14)?;
    Ok(Stored {
        record: MultimodalRequest {
            id: r.try_get(0)?,
            tenant_id: r.try_get(1)?,
            requested_by: r.try_get(2)?,
            modality: Modality::parse(&modality)
                .ok_or_else(|| decode_err(format!("unknown modality `{modality}`")))?,
            input_text: r.try_get(4)?,
            input_artifact: sha.map(|sha256| ArtifactRef {
                bytes: bytes_of(input_bytes.unwrap_or(0)),
                sha256,
                content_type: content_type.unwrap_or_default(),
            }),
            state: state_of(&state)?,
            result_id: r.try_get(9)?,
            error_message: r.try_get(11)?,
            requested_timeout_seconds: r.try_get(12)?,
            created_at: rfc3339_ms(created_ms),
            updated_at: rfc3339_ms(updated_ms),
        },
        execution_id: r.try_get(10)?,
        created_ms,
    })
}

/// Stores a new request (its artifact must be stored already).
pub async fn insert_request<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    r: &MultimodalRequest,
    now: i64,
) -> Result<(), sqlx::Error> {
    let artifact = r.input_artifact.as_ref();
    sqlx::query(
        "INSERT INTO multimodal_requests (id, tenant_id, requested_by, modality, input_text, \
         input_sha256, input_bytes, input_content_type, state, requested_timeout_seconds, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.requested_by)
    .bind(r.modality.as_str())
    .bind(r.input_text.as_deref())
    .bind(artifact.map(|a| a.sha256.as_str()))
    .bind(artifact.map(|a| i64::try_from(a.bytes).unwrap_or(i64::MAX)))
    .bind(artifact.map(|a| a.content_type.as_str()))
    .bind(r.state.as_str())
    .bind(r.requested_timeout_seconds)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// A request of a tenant.
pub async fn get_request<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM multimodal_requests WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(request)
    .transpose()
}

/// One page of a tenant's requests, newest first; `fetch` rows at most, after `after`.
pub async fn list_requests(
    pool: &AnyPool,
    tenant_id: &str,
    modality: Option<Modality>,
    state: Option<RequestState>,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM multimodal_requests WHERE tenant_id = $1 \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         AND ($4 IS NULL OR modality = $4) AND ($5 IS NULL OR state = $5) \
         ORDER BY created_at DESC, id DESC LIMIT $6"
    ))
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(modality.map(Modality::as_str))
    .bind(state.map(RequestState::as_str))
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(request)
    .collect()
}

/// A request's move from `from` to `to`; when `run` is given, the move starts a run with that
/// result and execution (and clears the last error).
pub struct Move<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Request id.
    pub id: &'a str,
    /// The state it was decided from.
    pub from: RequestState,
    /// The new state.
    pub to: RequestState,
    /// `(result_id, execution_id)` of a run being started.
    pub run: Option<(&'a str, &'a str)>,
    /// The error message of a failed or cancelled run.
    pub error: Option<&'a str>,
    /// Now, epoch ms.
    pub now: i64,
}

/// Applies a move if the request is still in `from`; false (nothing changed) otherwise.
pub async fn move_request<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    m: &Move<'_>,
) -> Result<bool, sqlx::Error> {
    let done = match m.run {
        Some((result_id, execution_id)) => {
            sqlx::query(
                "UPDATE multimodal_requests SET state = $1, result_id = $2, execution_id = $3, \
                 error_message = NULL, updated_at = $4 WHERE id = $5 AND tenant_id = $6 AND state = $7",
            )
            .bind(m.to.as_str())
            .bind(result_id)
            .bind(execution_id)
        }
        None => sqlx::query(
            "UPDATE multimodal_requests SET state = $1, error_message = COALESCE($2, error_message), \
             updated_at = $3 WHERE id = $4 AND tenant_id = $5 AND state = $6",
        )
        .bind(m.to.as_str())
        .bind(m.error),
    }
    .bind(m.now)
    .bind(m.id)
    .bind(m.tenant_id)
    .bind(m.from.as_str())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A processing request whose execution has ended without it (its runtime died or stopped).
pub struct Orphan {
    /// Tenant.
    pub tenant_id: String,
    /// Request id.
    pub id: String,
    /// The latest result.
    pub result_id: Option<String>,
    /// How its execution ended (`failed`, `cancelled`, ...).
    pub status: String,
    /// Its execution's error.
    pub error: Option<String>,
}

/// Processing requests whose execution has finished.
pub async fn orphans(pool: &AnyPool) -> Result<Vec<Orphan>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.tenant_id, r.id, r.result_id, e.status, e.error FROM multimodal_requests r \
         JOIN executions e ON e.id = r.execution_id WHERE r.state = 'processing' \
         AND e.status IN ('completed', 'failed', 'cancelled')",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Orphan {
                tenant_id: r.try_get(0)?,
                id: r.try_get(1)?,
                result_id: r.try_get(2)?,
                status: r.try_get(3)?,
                error: r.try_get(4)?,
            })
        })
        .collect()
}
