//! SQL connection set-up shared by both services: one `sqlx::AnyPool` over PostgreSQL or SQLite.
//!
//! Both backends run the same queries (portable SQL: `TEXT` ids, `BIGINT` epoch-millisecond
//! instants, nullable columns instead of booleans, `$n` placeholders which SQLite also accepts), so
//! there is one storage implementation and one test suite for both. See
//! `docs/adr/0002-storage-backends.md`.

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor as _};

use crate::settings::DatabaseSettings;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The schema name is not a plain identifier.
    #[error("setting `database.schema` must match [a-z_][a-z0-9_]*")]
    BadSchema,
    /// Connecting failed.
    #[error("could not connect to the database: {0}")]
    Connect(#[from] sqlx::Error),
    /// The data directory could not be created.
    #[error("could not create the data directory: {0}")]
    DataDir(#[from] std::io::Error),
}

fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// The effective URL: the configured one, or a SQLite file at `default_sqlite`.
pub fn effective_url(settings: &DatabaseSettings, default_sqlite: &Path) -> String {
    settings
        .url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", default_sqlite.display()))
}

/// True when the URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the pool (creating the SQLite file or the PostgreSQL schema if needed).
pub async fn connect(
    settings: &DatabaseSettings,
    default_sqlite: &Path,
) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let url = effective_url(settings, default_sqlite);
    let postgres = is_postgres(&url);
    if !postgres && settings.url.is_none() {
        if let Some(parent) = default_sqlite.parent() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let schema = match (&settings.schema, postgres) {
        (Some(schema), true) => {
            if !valid_schema(schema) {
                return Err(DbError::BadSchema);
            }
            let setup = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            setup
                .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                .await?;
            setup.close().await;
            Some(schema.clone())
        }
        _ => None,
    };
    let synchronous_commit = settings.synchronous_commit;
    let pool = AnyPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        .after_connect(move |conn, _meta| {
            let schema = schema.clone();
            Box::pin(async move {
                if postgres && !synchronous_commit {
                    conn.execute("SET synchronous_commit = off").await?;
                }
                if let Some(schema) = schema {
                    conn.execute(format!("SET search_path TO {schema}").as_str())
                        .await?;
                } else if !postgres {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    Ok(pool)
}

/// True when `e` is a unique-constraint violation (on either backend): the caller lost a race
/// for a key and may retry or report a conflict.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Readiness probe: one round trip.
pub async fn ping(pool: &AnyPool) -> Result<(), sqlx::Error> {
    pool.execute("SELECT 1").await.map(|_| ())
}
