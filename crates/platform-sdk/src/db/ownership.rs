//! Which service a schema belongs to. Both services keep their migration history in sqlx's
//! `_sqlx_migrations` table, so two *different* services on one schema would each find the
//! other's migrations and fail with a puzzling "previously applied but missing" error. Instead the
//! first service to open a schema records itself in `service_owner`, and any other service is
//! refused at start with a message that names the owner. A schema migrated before this marker
//! existed is claimed only if every migration it holds is one of the claiming service's own.

use std::collections::HashSet;

use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row as _};

use super::DbError;
use crate::time_util::now_ms;

/// Records `service` as the owner of the schema `pool` works in, or refuses when another service
/// owns it. `where_` names the schema in the error.
pub async fn claim(
    pool: &AnyPool,
    service: &str,
    migrator: &Migrator,
    where_: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS service_owner (id INTEGER PRIMARY KEY, service TEXT NOT NULL, claimed_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await?;
    let owner = current_owner(pool).await?;
    let foreign = |owner: String| DbError::ForeignSchema {
        where_: where_.to_owned(),
        owner,
    };
    match owner {
        Some(owner) if owner == service => return Ok(()),
        Some(owner) => return Err(foreign(owner)),
        None => {}
    }
    if holds_foreign_migrations(pool, migrator).await {
        return Err(foreign("unknown".to_owned()));
    }
    sqlx::query(
        "INSERT INTO service_owner (id, service, claimed_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(service)
    .bind(now_ms())
    .execute(pool)
    .await?;
    // Another process may have claimed it between the read and the insert (SQLite has no lock).
    match current_owner(pool).await? {
        Some(owner) if owner != service => Err(foreign(owner)),
        _ => Ok(()),
    }
}

async fn current_owner(pool: &AnyPool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT service FROM service_owner WHERE id = 1")
        .fetch_optional(pool)
        .await?
        .map(|row| row.try_get::<String, _>(0))
        .transpose()
}

/// True when `_sqlx_migrations` lists a migration this service does not have (same version and
/// description, or it is someone else's). No table means no migrations.
async fn holds_foreign_migrations(pool: &AnyPool, migrator: &Migrator) -> bool {
    let Ok(rows) = sqlx::query("SELECT version, description FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
    else {
        return false;
    };
    let ours: HashSet<(i64, String)> = migrator
        .iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    rows.iter().any(
        |row| match (row.try_get::<i64, _>(0), row.try_get::<String, _>(1)) {
            (Ok(version), Ok(description)) => !ours.contains(&(version, description)),
            _ => true,
        },
    )
}
