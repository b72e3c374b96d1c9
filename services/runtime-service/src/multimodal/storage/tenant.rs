//! What a tenant keeps besides requests: artifacts (once per content) and its policy.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use platform_sdk::multimodal_wire::MultimodalPolicy;
use sqlx::{AnyPool, Row as _};

use super::{bytes_of, decode_err};

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
