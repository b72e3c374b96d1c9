//! Attestation keys in SQL: public halves in the clear, private halves only sealed.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

type Db<'c> = &'c mut sqlx::AnyConnection;

/// One attestation key as stored.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// Public key, base64url without padding.
    pub public_key: String,
    /// Sealed seed (see `crate::profiles::keys::Sealer`).
    pub sealed_seed: String,
    /// `active` or `retired`.
    pub status: String,
    /// Epoch ms.
    pub created_at: i64,
}

const KEY_COLUMNS: &str = "kid, public_key, sealed_seed, status, created_at";

fn key_row(r: &AnyRow) -> Result<KeyRow, sqlx::Error> {
    Ok(KeyRow {
        kid: r.try_get(0)?,
        public_key: r.try_get(1)?,
        sealed_seed: r.try_get(2)?,
        status: r.try_get(3)?,
        created_at: r.try_get(4)?,
    })
}

/// The tenant's active key.
pub async fn active_key(db: Db<'_>, tenant_id: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM attestation_keys WHERE tenant_id = $1 AND status = 'active'"
    ))
    .bind(tenant_id)
    .fetch_optional(db)
    .await?
    .map(|r| key_row(&r))
    .transpose()
}

/// Inserts a key; false (nothing written) when it would be a second active key of the tenant.
pub async fn insert_key(db: Db<'_>, tenant_id: &str, key: &KeyRow) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO attestation_keys (kid, tenant_id, public_key, sealed_seed, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&key.kid)
    .bind(tenant_id)
    .bind(&key.public_key)
    .bind(&key.sealed_seed)
    .bind(&key.status)
    .bind(key.created_at)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Retires the tenant's active key, if any.
pub async fn retire_active_key(db: Db<'_>, tenant_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE attestation_keys SET status = 'retired', retired_at = $1 \
         WHERE tenant_id = $2 AND status = 'active'",
    )
    .bind(now)
    .bind(tenant_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Every key of the tenant: the active one first, then the retired ones, newest first.
pub async fn keys(pool: &AnyPool, tenant_id: &str) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM attestation_keys WHERE tenant_id = $1 \
         ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END, created_at DESC, kid DESC"
    ))
    .bind(tenant_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(key_row)
    .collect()
}

/// One key of the tenant.
pub async fn key(
    pool: &AnyPool,
    tenant_id: &str,
    kid: &str,
) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM attestation_keys WHERE tenant_id = $1 AND kid = $2"
    ))
    .bind(tenant_id)
    .bind(kid)
    .fetch_optional(pool)
    .await?
    .map(|r| key_row(&r))
    .transpose()
}
