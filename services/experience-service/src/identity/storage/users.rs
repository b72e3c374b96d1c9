//! Users, tenants and memberships.

use sqlx::{AnyPool, Row as _};

/// Everything needed to create an account: tenant, user and owner membership in one transaction.
pub struct NewAccount<'a> {
    /// New user id.
    pub user_id: &'a str,
    /// New tenant id.
    pub tenant_id: &'a str,
    /// Tenant display name.
    pub tenant_name: &'a str,
    /// Normalised email.
    pub email: &'a str,
    /// Display name.
    pub name: Option<&'a str>,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Creation instant, epoch ms.
    pub now: i64,
}

/// What login needs about a user.
#[derive(Debug, Clone)]
pub struct LoginRow {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Stored hash.
    pub password_hash: String,
    /// The user's first tenant.
    pub tenant_id: String,
    /// Role there.
    pub role: String,
}

/// A user as seen in one tenant.
#[derive(Debug, Clone)]
pub struct Profile {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant name.
    pub tenant_name: String,
    /// Role in that tenant.
    pub role: String,
    /// User creation, epoch ms.
    pub created_at: i64,
}

/// Whether an email is registered.
pub async fn email_exists(pool: &AnyPool, email: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

/// Inserts tenant, user and owner membership inside the given transaction.
pub async fn insert_account(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account: &NewAccount<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(account.tenant_id)
        .bind(account.tenant_name)
        .bind(account.now)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account.user_id)
    .bind(account.email)
    .bind(account.name)
    .bind(account.password_hash)
    .bind(account.now)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
    )
    .bind(account.tenant_id)
    .bind(account.user_id)
    .bind(account.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts the user alone (an invited user joins an existing tenant; the membership is the
/// invitation's).
pub async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account: &NewAccount<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account.user_id)
    .bind(account.email)
    .bind(account.name)
    .bind(account.password_hash)
    .bind(account.now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// The user with this email and their first tenant.
pub async fn find_login(pool: &AnyPool, email: &str) -> Result<Option<LoginRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.password_hash, m.tenant_id, m.role \
         FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE u.email = $1 ORDER BY m.created_at, m.tenant_id LIMIT 1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(LoginRow {
            user_id: r.try_get(0)?,
            email: r.try_get(1)?,
            name: r.try_get(2)?,
            password_hash: r.try_get(3)?,
            tenant_id: r.try_get(4)?,
            role: r.try_get(5)?,
        })
    })
    .transpose()
}

/// The user as a member of the tenant (none if not a member).
pub async fn profile(
    pool: &AnyPool,
    tenant_id: &str,
    user_id: &str,
) -> Result<Option<Profile>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, t.id, t.name, m.role, u.created_at \
         FROM memberships m JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Profile {
            user_id: r.try_get(0)?,
            email: r.try_get(1)?,
            name: r.try_get(2)?,
            tenant_id: r.try_get(3)?,
            tenant_name: r.try_get(4)?,
            role: r.try_get(5)?,
            created_at: r.try_get(6)?,
        })
    })
    .transpose()
}
