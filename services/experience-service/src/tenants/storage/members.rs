//! Tenants and their members.

use sqlx::{AnyPool, Row as _};

use super::Tx;
use platform_sdk::page::{self, Cursor};

/// A tenant.
#[derive(Debug, Clone)]
pub struct TenantRow {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation, epoch ms.
    pub created_at: i64,
}

/// A member of a tenant.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Role name.
    pub role: String,
    /// When they joined, epoch ms.
    pub joined_at: i64,
}

/// The tenant, if it exists.
pub async fn tenant(pool: &AnyPool, tenant_id: &str) -> Result<Option<TenantRow>, sqlx::Error> {
    sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(pool)
        .await?
        .map(|r| {
            Ok(TenantRow {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                created_at: r.try_get(2)?,
            })
        })
        .transpose()
}

/// Renames a tenant; false when it does not exist.
pub async fn rename(pool: &AnyPool, tenant_id: &str, name: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE tenants SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(tenant_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes the tenant's write lock for the rest of the transaction, so membership changes of one
/// tenant are serialised (two owners demoting each other cannot both pass the last-owner check).
pub async fn lock(tx: &mut Tx<'_>, tenant_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE tenants SET name = name WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

const MEMBER_COLUMNS: &str =
    "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id";

fn member_row(r: &sqlx::any::AnyRow) -> Result<MemberRow, sqlx::Error> {
    Ok(MemberRow {
        user_id: r.try_get(0)?,
        email: r.try_get(1)?,
        name: r.try_get(2)?,
        role: r.try_get(3)?,
        joined_at: r.try_get(4)?,
    })
}

/// One member of the tenant (none for another tenant's member).
pub async fn member(
    tx: &mut Tx<'_>,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<MemberRow>, sqlx::Error> {
    sqlx::query(&format!(
        "{MEMBER_COLUMNS} WHERE m.tenant_id = $1 AND m.user_id = $2"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| member_row(&r))
    .transpose()
}

/// A page of members, newest first, strictly after `after`.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    let rows = sqlx::query(&format!(
        "{MEMBER_COLUMNS} WHERE m.tenant_id = $1 \
         AND (m.created_at < $2 OR (m.created_at = $2 AND m.user_id < $3)) \
         ORDER BY m.created_at DESC, m.user_id DESC LIMIT $4"
    ))
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(member_row).collect()
}

/// Owners of the tenant.
pub async fn count_owners(tx: &mut Tx<'_>, tenant_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE tenant_id = $1 AND role = 'owner'")
        .bind(tenant_id)
        .fetch_one(&mut **tx)
        .await
}

/// Adds a member.
pub async fn insert(
    tx: &mut Tx<'_>,
    tenant_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Changes a member's role.
pub async fn set_role(
    tx: &mut Tx<'_>,
    tenant_id: &str,
    user_id: &str,
    role: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
        .bind(role)
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Removes a member.
pub async fn remove(tx: &mut Tx<'_>, tenant_id: &str, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// The registered user with this (normalised) email: id, email, name.
pub async fn user_by_email(
    tx: &mut Tx<'_>,
    email: &str,
) -> Result<Option<(String, String, Option<String>)>, sqlx::Error> {
    sqlx::query("SELECT id, email, name FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .transpose()
}

/// The user's role in the tenant, if a member (login's tenant choice).
pub async fn role_of(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
}
