//! API keys (stored as hashes only).

use sqlx::{AnyPool, Row as _};

use platform_sdk::page::{self, Cursor};

/// A new key.
pub struct NewKey<'a> {
    /// Id (`key_…`).
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// The user it acts as.
    pub created_by: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Space-separated scopes.
    pub scopes: &'a str,
    /// SHA-256 of the key.
    pub key_hash: &'a str,
    /// The part shown in lists.
    pub key_prefix: &'a str,
    /// Now, epoch ms.
    pub now: i64,
    /// Expiry, epoch ms.
    pub expires_at: Option<i64>,
}

/// A stored key (never its material).
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Creator (the user it acts as).
    pub created_by: String,
    /// Display name.
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Shown part.
    pub key_prefix: String,
    /// Creation, epoch ms.
    pub created_at: i64,
    /// Expiry, epoch ms.
    pub expires_at: Option<i64>,
    /// Revocation, epoch ms.
    pub revoked_at: Option<i64>,
    /// The creator's current role in the tenant (none when they left it).
    pub creator_role: Option<String>,
}

const COLUMNS: &str = "SELECT k.id, k.tenant_id, k.created_by, k.name, k.scopes, k.key_prefix, \
     k.created_at, k.expires_at, k.revoked_at, m.role FROM api_keys k \
     LEFT JOIN memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.created_by";

fn key_row(r: &sqlx::any::AnyRow) -> Result<KeyRow, sqlx::Error> {
    Ok(KeyRow {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        created_by: r.try_get(2)?,
        name: r.try_get(3)?,
        scopes: r.try_get(4)?,
        key_prefix: r.try_get(5)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
        creator_role: r.try_get(9)?,
    })
}

/// Stores a key.
pub async fn insert(pool: &AnyPool, key: &NewKey<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, created_by, name, scopes, key_hash, key_prefix, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(key.id)
    .bind(key.tenant_id)
    .bind(key.created_by)
    .bind(key.name)
    .bind(key.scopes)
    .bind(key.key_hash)
    .bind(key.key_prefix)
    .bind(key.now)
    .bind(key.expires_at)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The key with this hash.
pub async fn find_by_hash(pool: &AnyPool, key_hash: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query(&format!("{COLUMNS} WHERE k.key_hash = $1"))
        .bind(key_hash)
        .fetch_optional(pool)
        .await?
        .map(|r| key_row(&r))
        .transpose()
}

/// A page of the tenant's keys, newest first, strictly after `after`.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<KeyRow>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    let rows = sqlx::query(&format!(
        "{COLUMNS} WHERE k.tenant_id = $1 \
         AND (k.created_at < $2 OR (k.created_at = $2 AND k.id < $3)) \
         ORDER BY k.created_at DESC, k.id DESC LIMIT $4"
    ))
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_row).collect()
}

/// Revokes the tenant's key inside `tx`: `None` when the tenant has no such key, `Some(false)`
/// when it was revoked already.
pub async fn revoke(
    tx: &mut super::Tx<'_>,
    tenant_id: &str,
    key_id: &str,
    now: i64,
) -> Result<Option<bool>, sqlx::Error> {
    let exists: Option<Option<i64>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_keys WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(key_id)
            .fetch_optional(&mut **tx)
            .await?;
    match exists {
        None => Ok(None),
        Some(Some(_)) => Ok(Some(false)),
        Some(None) => {
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(now)
                .bind(tenant_id)
                .bind(key_id)
                .execute(&mut **tx)
                .await?;
            Ok(Some(true))
        }
    }
}
