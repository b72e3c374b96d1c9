//! Access changes (role changes, removals, key revocations), polled by every replica (see
//! `tenants::domain::changes`).

use platform_sdk::security_guard::Role;
use platform_sdk::time_util::now_ms;
use sqlx::{AnyPool, Row as _};

use super::Tx;
use crate::polled::Mirror;
use crate::tenants::domain::changes::{AccessChanges, Change, Dated};

/// The next `changed_at` for a subject: now, or one past its latest change (so the order of a
/// member's changes never depends on which replica's clock wrote them).
pub async fn next_instant(
    tx: &mut Tx<'_>,
    tenant_id: &str,
    subject: &str,
) -> Result<i64, sqlx::Error> {
    let latest: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(changed_at) FROM access_changes WHERE tenant_id = $1 AND subject = $2",
    )
    .bind(tenant_id)
    .bind(subject)
    .fetch_one(&mut **tx)
    .await?;
    let now = now_ms();
    Ok(latest.map_or(now, |l| now.max(l + 1)))
}

/// Records a change inside the transaction that makes it.
pub async fn record(tx: &mut Tx<'_>, tenant_id: &str, dated: &Dated) -> Result<(), sqlx::Error> {
    let (kind, subject, role) = match &dated.change {
        Change::Member { user_id, role, .. } => {
            ("member", user_id.as_str(), role.map(Role::as_str))
        }
        Change::KeyRevoked { key_id } => ("api_key", key_id.as_str(), None),
    };
    sqlx::query(
        "INSERT INTO access_changes (id, kind, tenant_id, subject, role, changed_at, recorded_at, forget_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(kind)
    .bind(tenant_id)
    .bind(subject)
    .bind(role)
    .bind(dated.changed_at)
    .bind(now_ms())
    .bind(dated.forget_after)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Changes recorded at or after `since` that still matter at `now`.
pub async fn since(pool: &AnyPool, since: i64, now: i64) -> Result<Vec<Dated>, sqlx::Error> {
    sqlx::query(
        "SELECT kind, tenant_id, subject, role, changed_at, forget_after FROM access_changes \
         WHERE recorded_at >= $1 AND forget_after > $2",
    )
    .bind(since)
    .bind(now)
    .fetch_all(pool)
    .await?
    .into_iter()
    .filter_map(|r| {
        let row = || -> Result<Option<Dated>, sqlx::Error> {
            let kind: String = r.try_get(0)?;
            let tenant_id: String = r.try_get(1)?;
            let subject: String = r.try_get(2)?;
            let role: Option<String> = r.try_get(3)?;
            let change = match kind.as_str() {
                "member" => Change::Member {
                    tenant_id,
                    user_id: subject,
                    role: role.as_deref().and_then(Role::parse),
                },
                "api_key" => Change::KeyRevoked { key_id: subject },
                _ => return Ok(None),
            };
            Ok(Some(Dated {
                change,
                changed_at: r.try_get(4)?,
                forget_after: r.try_get(5)?,
            }))
        };
        row().transpose()
    })
    .collect()
}

/// Deletes rows nobody needs any more.
pub async fn prune(pool: &AnyPool, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM access_changes WHERE forget_after <= $1")
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}

impl Mirror for AccessChanges {
    const WHAT: &'static str = "access changes";

    async fn refresh(&self, pool: &AnyPool, from: i64, now: i64) -> Result<(), sqlx::Error> {
        self.apply(since(pool, from, now).await?);
        Ok(())
    }

    async fn forget_expired(&self, pool: &AnyPool, now: i64) -> Result<(), sqlx::Error> {
        self.prune(now);
        prune(pool, now).await.map(|_| ())
    }
}
