//! Multimodal requests, their results, artifacts and the tenants' policies in SQL (migration
//! `20261207000020_multimodal.sql`). Every read and write is scoped by tenant. A request's state
//! changes are conditional on the state they were decided from, so two racing moves (a cancel
//! and the run finishing) cannot both apply. Artifacts are content-addressed per tenant: storing
//! the same bytes twice keeps one row.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use platform_sdk::multimodal_wire::{
    ArtifactRef, Modality, MultimodalPolicy, MultimodalRequest, MultimodalResult, OutputArtifact,
    RequestState,
};
use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

fn decode_err(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

fn state_of(text: &str) -> Result<RequestState, sqlx::Error> {
    RequestState::parse(text).ok_or_else(|| decode_err(format!("unknown state `{text}`")))
}

fn bytes_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Stores an artifact once per tenant and content; a second store of the same bytes is a no-op.
pub async fn put_artifact<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    sha256: &str,
    data: &[u8],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO multimodal_artifacts (tenant_id, sha256, bytes, data, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, sha256) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(sha256)
    .bind(i64::try_from(data.len()).unwrap_or(i64::MAX))
    .bind(STANDARD.encode(data))
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// The bytes of a tenant's artifact.
pub async fn artifact(
    pool: &AnyPool,
    tenant_id: &str,
    sha256: &str,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let text: Option<String> = sqlx::query_scalar(
        "SELECT data FROM multimodal_artifacts WHERE tenant_id = $1 AND sha256 = $2",
    )
    .bind(tenant_id)
    .bind(sha256)
    .fetch_optional(pool)
    .await?;
    text.map(|t| STANDARD.decode(t).map_err(|e| decode_err(e.to_string())))
        .transpose()
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

/// Starts a result row (`processing`).
pub async fn insert_result<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
    request_id: &str,
    execution_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO multimodal_results (id, request_id, tenant_id, execution_id, state, \
         output_data, started_at) VALUES ($1, $2, $3, $4, 'processing', '{}', $5)",
    )
    .bind(id)
    .bind(request_id)
    .bind(tenant_id)
    .bind(execution_id)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// How a run ended, for its result row.
pub struct Ending<'a> {
    /// `completed`, `failed` or `cancelled`.
    pub state: RequestState,
    /// Text produced.
    pub output_text: Option<&'a str>,
    /// `(sha256, bytes, content_type)` of an artifact produced (stored already).
    pub artifact: Option<(&'a str, u64, &'a str)>,
    /// Measurements and provider details (JSON).
    pub output_data: &'a serde_json::Value,
    /// Now, epoch ms.
    pub now: i64,
}

/// Ends a result still `processing`; false (nothing changed) otherwise.
pub async fn finish_result<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    id: &str,
    e: &Ending<'_>,
) -> Result<bool, sqlx::Error> {
    let data =
        serde_json::to_string(e.output_data).map_err(|err| sqlx::Error::Encode(err.into()))?;
    let done = sqlx::query(
        "UPDATE multimodal_results SET state = $1, output_text = $2, output_sha256 = $3, \
         output_bytes = $4, output_content_type = $5, output_data = $6, completed_at = $7 \
         WHERE id = $8 AND state = 'processing'",
    )
    .bind(e.state.as_str())
    .bind(e.output_text)
    .bind(e.artifact.map(|a| a.0))
    .bind(e.artifact.map(|a| i64::try_from(a.1).unwrap_or(i64::MAX)))
    .bind(e.artifact.map(|a| a.2))
    .bind(data)
    .bind(e.now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The public path of a result's artifact.
pub fn download_url(result_id: &str) -> String {
    format!("/v1/multimodal/results/{result_id}/download")
}

/// A result of a tenant.
pub async fn get_result(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Option<MultimodalResult>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, request_id, state, output_text, output_sha256, output_bytes, \
         output_content_type, output_data, started_at, completed_at FROM multimodal_results \
         WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let id: String = r.try_get(0)?;
    let state: String = r.try_get(2)?;
    let sha: Option<String> = r.try_get(4)?;
    let bytes: Option<i64> = r.try_get(5)?;
    let content_type: Option<String> = r.try_get(6)?;
    let data: String = r.try_get(7)?;
    let completed: Option<i64> = r.try_get(9)?;
    Ok(Some(MultimodalResult {
        output_artifact: sha.map(|sha256| OutputArtifact {
            bytes: bytes_of(bytes.unwrap_or(0)),
            sha256,
            content_type: content_type.unwrap_or_default(),
            download_url: download_url(&id),
        }),
        request_id: r.try_get(1)?,
        state: state_of(&state)?,
        output_text: r.try_get(3)?,
        output_data: serde_json::from_str(&data).map_err(|e| decode_err(e.to_string()))?,
        started_at: rfc3339_ms(r.try_get(8)?),
        completed_at: completed.map(rfc3339_ms),
        id,
    }))
}

/// A tenant's policy, if an admin ever set one.
pub async fn policy(
    pool: &AnyPool,
    tenant_id: &str,
) -> Result<Option<MultimodalPolicy>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT max_text_chars, max_artifact_bytes, max_timeout_seconds, allowed_modalities \
         FROM multimodal_policies WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let allowed: String = r.try_get(3)?;
    let number = |i: usize| -> Result<u32, sqlx::Error> {
        let v: i64 = r.try_get(i)?;
        u32::try_from(v).map_err(|e| decode_err(e.to_string()))
    };
    Ok(Some(MultimodalPolicy {
        max_text_chars: number(0)?,
        max_artifact_bytes: bytes_of(r.try_get(1)?),
        max_timeout_seconds: number(2)?,
        allowed_modalities: serde_json::from_str(&allowed)
            .map_err(|e| decode_err(e.to_string()))?,
    }))
}

/// Replaces a tenant's policy.
pub async fn put_policy(
    pool: &AnyPool,
    tenant_id: &str,
    p: &MultimodalPolicy,
    updated_by: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let allowed =
        serde_json::to_string(&p.allowed_modalities).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO multimodal_policies (tenant_id, max_text_chars, max_artifact_bytes, \
         max_timeout_seconds, allowed_modalities, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id) DO UPDATE SET \
         max_text_chars = $2, max_artifact_bytes = $3, max_timeout_seconds = $4, \
         allowed_modalities = $5, updated_by = $6, updated_at = $7",
    )
    .bind(tenant_id)
    .bind(i64::from(p.max_text_chars))
    .bind(i64::try_from(p.max_artifact_bytes).unwrap_or(i64::MAX))
    .bind(i64::from(p.max_timeout_seconds))
    .bind(allowed)
    .bind(updated_by)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
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
