//! Tenants, members, invitations and API keys (SPEC §5), routes → service → storage.
//!
//! - [`domain`]: names, role-change rules, secrets, the in-memory mirror of access changes, the
//!   per-key throttle, list cursors; no HTTP, no SQL.
//! - [`storage`]: the SQL (tenants, memberships, invitations, API keys, access changes).
//! - [`Tenants`] (`service`): the current tenant and its members; [`ApiKeys`] (`keys`): keys,
//!   including authenticating a presented key (used by the `AuthUser` extractor).
//! - [`routes`]: `/api/tenants/current/*`, thin handlers.
//! - [`poll_changes`]: every replica's poll of the `access_changes` table.
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

use std::time::Duration;

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

/// Reads access changes written by any replica, like the session revocations (ADR 0004): a
/// 5-second overlap so a row committed late is not missed; prunes once a minute.
pub async fn poll_changes(pool: AnyPool, changes: AccessChanges, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = now_ms();
    let mut last_prune = last;
    loop {
        ticker.tick().await;
        let now = now_ms();
        match storage::changes::since(&pool, last - 5_000, now).await {
            Ok(rows) => {
                changes.apply(rows);
                last = now;
            }
            Err(e) => tracing::warn!(error = %e, "could not poll access changes"),
        }
        if now - last_prune > 60_000 {
            changes.prune(now);
            if let Err(e) = storage::changes::prune(&pool, now).await {
                tracing::warn!(error = %e, "could not prune access changes");
            }
            last_prune = now;
        }
    }
}
