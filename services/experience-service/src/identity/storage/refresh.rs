//! Refresh families and tokens. Tokens are stored as hashes only; rotation is a conditional
//! update (`rotated_at IS NULL`) plus the child's insert in one transaction, so exactly one of
//! any number of concurrent refreshes rotates a token and the others see it rotated.

use sqlx::{AnyPool, Row as _};

/// A new family with its first token.
pub struct NewFamily<'a> {
    /// Family id.
    pub family_id: String,
    /// Tenant.
    pub tenant_id: &'a str,
    /// User.
    pub user_id: &'a str,
    /// Runtime session the family belongs to.
    pub session_id: &'a str,
    /// Hash of the first token.
    pub token_hash: String,
    /// Now, epoch ms.
    pub now: i64,
    /// Idle expiry of the first token, epoch ms.
    pub idle_expires_at: i64,
    /// Absolute expiry of the family, epoch ms.
    pub absolute_expires_at: i64,
}

/// A presented token with its family and the user's current standing in the tenant.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Family id.
    pub family_id: String,
    /// Generation of this token in its family (1 = issued at login).
    pub generation: i64,
    /// Idle expiry, epoch ms.
    pub idle_expires_at: i64,
    /// When it was rotated, if it was.
    pub rotated_at: Option<i64>,
    /// Tenant.
    pub tenant_id: String,
    /// User.
    pub user_id: String,
    /// Session.
    pub session_id: String,
    /// Family absolute expiry, epoch ms.
    pub absolute_expires_at: i64,
    /// Family revocation, if any.
    pub revoked_at: Option<i64>,
    /// User email.
    pub email: String,
    /// User name.
    pub name: Option<String>,
    /// Current role in the tenant (none if the membership is gone).
    pub role: Option<String>,
}

/// Inserts a family and its first token inside a transaction.
pub async fn insert_family(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    f: &NewFamily<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_families (id, tenant_id, user_id, session_id, created_at, absolute_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&f.family_id)
    .bind(f.tenant_id)
    .bind(f.user_id)
    .bind(f.session_id)
    .bind(f.now)
    .bind(f.absolute_expires_at)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, generation, created_at, idle_expires_at) \
         VALUES ($1, $2, 1, $3, $4)",
    )
    .bind(&f.token_hash)
    .bind(&f.family_id)
    .bind(f.now)
    .bind(f.idle_expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Looks a token up by hash.
pub async fn find(pool: &AnyPool, token_hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT t.family_id, t.generation, t.idle_expires_at, t.rotated_at, \
                f.tenant_id, f.user_id, f.session_id, f.absolute_expires_at, f.revoked_at, \
                u.email, u.name, m.role \
         FROM refresh_tokens t \
         JOIN refresh_families f ON f.id = t.family_id \
         JOIN users u ON u.id = f.user_id \
         LEFT JOIN memberships m ON m.tenant_id = f.tenant_id AND m.user_id = f.user_id \
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(TokenRow {
            family_id: r.try_get(0)?,
            generation: r.try_get(1)?,
            idle_expires_at: r.try_get(2)?,
            rotated_at: r.try_get(3)?,
            tenant_id: r.try_get(4)?,
            user_id: r.try_get(5)?,
            session_id: r.try_get(6)?,
            absolute_expires_at: r.try_get(7)?,
            revoked_at: r.try_get(8)?,
            email: r.try_get(9)?,
            name: r.try_get(10)?,
            role: r.try_get(11)?,
        })
    })
    .transpose()
}

/// Rotates `parent` into `child`; false when another request rotated it first.
pub async fn rotate(
    pool: &AnyPool,
    parent: &TokenRow,
    parent_hash: &str,
    child_hash: &str,
    now: i64,
    idle_expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL",
    )
    .bind(now)
    .bind(parent_hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, generation, created_at, idle_expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(child_hash)
    .bind(&parent.family_id)
    .bind(parent.generation + 1)
    .bind(now)
    .bind(idle_expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// When a token was rotated (re-read after losing a rotation race).
pub async fn rotated_at(pool: &AnyPool, token_hash: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map(Option::flatten)
}

/// Revokes the live families of a user's session(s); returns the sessions concerned.
/// `session_id = None` revokes every family of the user in the tenant.
pub async fn revoke(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: &str,
    session_id: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let sessions: Vec<String> = match session_id {
        Some(sid) => {
            sqlx::query(
                "SELECT session_id FROM refresh_families \
             WHERE tenant_id = $1 AND user_id = $2 AND session_id = $3 AND revoked_at IS NULL",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(sid)
            .fetch_all(&mut *tx)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT session_id FROM refresh_families \
             WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            )
            .bind(tenant_id)
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?
        }
    }
    .into_iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    let update = match session_id {
        Some(sid) => sqlx::query(
            "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 \
             WHERE tenant_id = $3 AND user_id = $4 AND session_id = $5 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(tenant_id)
        .bind(user_id)
        .bind(sid),
        None => sqlx::query(
            "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 \
             WHERE tenant_id = $3 AND user_id = $4 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(tenant_id)
        .bind(user_id),
    };
    update.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(sessions)
}
