//! Results: one row per run of a request; the request's `result_id` names the latest.

use platform_sdk::multimodal_wire::{MultimodalResult, OutputArtifact, RequestState};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::{AnyPool, Row as _};

use super::{bytes_of, decode_err, state_of};

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
