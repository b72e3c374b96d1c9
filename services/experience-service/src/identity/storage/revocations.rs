//! Revoked sessions, polled by every replica (see `domain::revocation`).

use sqlx::{AnyPool, Row as _};

use crate::identity::domain::revocation::RevokedSessions;
use crate::polled::Mirror;

/// Records that a session ended; its tokens are refused until `forget_after`.
pub async fn insert(
    pool: &AnyPool,
    tenant_id: &str,
    session_id: &str,
    now: i64,
    forget_after: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revoked_sessions (session_id, tenant_id, revoked_at, expires_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(session_id)
    .bind(tenant_id)
    .bind(now)
    .bind(forget_after)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Revocations recorded at or after `since` that still matter at `now`.
pub async fn since(
    pool: &AnyPool,
    since: i64,
    now: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query("SELECT session_id, expires_at FROM revoked_sessions WHERE revoked_at >= $1 AND expires_at > $2")
        .bind(since)
        .bind(now)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Deletes rows nobody needs any more.
pub async fn prune(pool: &AnyPool, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM revoked_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}

impl Mirror for RevokedSessions {
    const WHAT: &'static str = "session revocations";

    async fn refresh(&self, pool: &AnyPool, from: i64, now: i64) -> Result<(), sqlx::Error> {
        self.extend(since(pool, from, now).await?);
        Ok(())
    }

    async fn forget_expired(&self, pool: &AnyPool, now: i64) -> Result<(), sqlx::Error> {
        self.prune(now);
        prune(pool, now).await.map(|_| ())
    }
}
