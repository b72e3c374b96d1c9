//! Pending invitations (tokens stored as hashes only).

use sqlx::{AnyPool, Row as _};

use super::Tx;

/// A new invitation.
pub struct NewInvitation<'a> {
    /// Id (`inv_…`).
    pub id: &'a str,
    /// Inviting tenant.
    pub tenant_id: &'a str,
    /// Normalised email of the invitee.
    pub email: &'a str,
    /// Role they will get.
    pub role: &'a str,
    /// SHA-256 of the token.
    pub token_hash: &'a str,
    /// Who invited.
    pub invited_by: &'a str,
    /// Now, epoch ms.
    pub now: i64,
    /// Expiry, epoch ms.
    pub expires_at: i64,
}

/// A stored invitation.
#[derive(Debug, Clone)]
pub struct InvitationRow {
    /// Id.
    pub id: String,
    /// Inviting tenant.
    pub tenant_id: String,
    /// Invitee email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Expiry, epoch ms.
    pub expires_at: i64,
    /// When it was used, if it was.
    pub accepted_at: Option<i64>,
}

/// Stores an invitation.
pub async fn insert(tx: &mut Tx<'_>, inv: &NewInvitation<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(inv.id)
    .bind(inv.tenant_id)
    .bind(inv.email)
    .bind(inv.role)
    .bind(inv.token_hash)
    .bind(inv.invited_by)
    .bind(inv.now)
    .bind(inv.expires_at)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// The invitation with this token hash.
pub async fn find(pool: &AnyPool, token_hash: &str) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, tenant_id, email, role, expires_at, accepted_at FROM invitations WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?
    .map(|r| {
        Ok(InvitationRow {
            id: r.try_get(0)?,
            tenant_id: r.try_get(1)?,
            email: r.try_get(2)?,
            role: r.try_get(3)?,
            expires_at: r.try_get(4)?,
            accepted_at: r.try_get(5)?,
        })
    })
    .transpose()
}

/// Marks an invitation used, only if it is unused and unexpired; false otherwise (a concurrent
/// register won, or it expired meanwhile).
pub async fn accept(
    tx: &mut Tx<'_>,
    id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invitations SET accepted_at = $1, accepted_by = $2 \
         WHERE id = $3 AND accepted_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(user_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
