//! Tenants, members, invitations and API keys (SPEC §5), routes → service → storage.
//!
//! - [`domain`]: names, role-change rules, secrets, the in-memory mirror of access changes, the
//!   per-key throttle, list cursors; no HTTP, no SQL.
//! - [`storage`]: the SQL (tenants, memberships, invitations, API keys, access changes).
//! - [`Tenants`] (`service`): the current tenant and its members; [`ApiKeys`] (`keys`): keys,
//!   including authenticating a presented key (used by the `AuthUser` extractor).
//! - [`routes`]: `/api/tenants/current/*`, thin handlers.
//! - every replica polls the `access_changes` table into its mirror (`crate::polled`).
//!
//! Invitations are accepted by `POST /api/auth/register` (identity), which calls
//! [`invitations`]; the tenant choice at login is identity's too. Decisions: ADR 0010.

pub mod domain;
pub mod dto;
pub mod invitations;
mod keys;
pub mod routes;
mod service;
pub mod storage;

use platform_sdk::time_util::now_ms;
use sqlx::AnyPool;

pub use keys::ApiKeys;
pub use service::Tenants;

use domain::changes::AccessChanges;

/// Loads every live access change (start-up), so a fresh replica knows what the others know.
pub async fn load_changes(pool: &AnyPool, changes: &AccessChanges) -> Result<(), sqlx::Error> {
    changes.apply(storage::changes::since(pool, 0, now_ms()).await?);
    Ok(())
}
