//! Accepting an invitation at registration (SPEC §5): the token must be known, unused,
//! unexpired and issued for the registering email. [`check`] answers before anything is
//! written; [`accept`] marks it used inside register's transaction, conditionally, so two
//! concurrent registrations with one token cannot both join.

use platform_sdk::time_util::now_ms;
use sqlx::AnyPool;

use super::domain::secrets;
use super::storage::{self, invitations::InvitationRow, Tx};
use crate::error::ApiError;

/// The invitation behind `token`, if `email` may use it now.
pub async fn check(pool: &AnyPool, token: &str, email: &str) -> Result<InvitationRow, ApiError> {
    if !secrets::plausible(token) || secrets::is_api_key(token) {
        return Err(ApiError::InvitationInvalid);
    }
    let row = storage::invitations::find(pool, &secrets::hash(token))
        .await?
        .ok_or(ApiError::InvitationInvalid)?;
    if row.accepted_at.is_some() {
        return Err(ApiError::InvitationUsed);
    }
    if row.expires_at <= now_ms() {
        return Err(ApiError::InvitationExpired);
    }
    if row.email != email {
        return Err(ApiError::InvitationEmailMismatch);
    }
    Ok(row)
}

/// Marks the invitation used by `user_id` and adds the membership, inside `tx`. `Ok(false)`
/// when another registration used it first (or it expired meanwhile): roll back.
pub async fn accept(
    tx: &mut Tx<'_>,
    invitation: &InvitationRow,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    if !storage::invitations::accept(tx, &invitation.id, user_id, now).await? {
        return Ok(false);
    }
    storage::members::insert(tx, &invitation.tenant_id, user_id, &invitation.role, now).await?;
    Ok(true)
}
