//! SQL connection set-up shared by both services: one `sqlx::AnyPool` over PostgreSQL or SQLite.
//!
//! Both backends run the same queries (portable SQL: `TEXT` ids, `BIGINT` epoch-millisecond
//! instants, nullable columns instead of booleans, `$n` placeholders which SQLite also accepts), so
//! there is one storage implementation and one test suite for both. See
//! `docs/adr/0002-storage-backends.md`.
//!
//! [`open`] also runs a service's migrations. Replicas starting together on one PostgreSQL schema
//! serialise schema creation, the ownership check and the migrations under an advisory lock, and
//! a schema belongs to one service (see [`ownership`] and `docs/adr/0013-replicas-and-leases.md`).

pub mod ownership;

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection as _, Executor as _};

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
    /// The schema holds another service's tables.
    #[error("{where_} holds the migrations of another service ({owner}); give each service its own `database.schema` (or database)")]
    ForeignSchema {
        /// `schema X` or `the database`.
        where_: String,
        /// The service that owns it, as far as known.
        owner: String,
    },
    /// A migration failed.
    #[error("running the migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
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

/// The advisory-lock key of a schema: FNV-1a of its name, so every replica of every version
/// derives the same key.
pub fn schema_lock_key(schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("symphainy-schema:{schema}").bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Opens the pool of `service` and brings its schema up to date: on PostgreSQL, under an advisory
/// lock on the schema held on one dedicated connection, it creates the schema, checks that the
/// schema is this service's ([`ownership::claim`]) and runs `migrator`, so replicas starting at
/// once take turns instead of racing.
pub async fn open(
    settings: &DatabaseSettings,
    default_sqlite: &Path,
    service: &str,
    migrator: &Migrator,
) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let url = effective_url(settings, default_sqlite);
    let schema_name = settings.schema.clone().unwrap_or_else(|| "public".into());
    let mut lock = None;
    if is_postgres(&url) {
        let mut conn = AnyConnection::connect(&url).await?;
        let key = schema_lock_key(&schema_name);
        // `pg_advisory_lock` returns `void`, which the Any driver cannot decode: select around it.
        sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_lock($1)) AS l")
            .bind(key)
            .execute(&mut conn)
            .await?;
        lock = Some((conn, key));
    }
    let pool = connect(settings, default_sqlite).await?;
    let where_ = match (&settings.schema, lock.is_some()) {
        (Some(schema), true) => format!("schema `{schema}`"),
        _ => "the database".to_owned(),
    };
    ownership::claim(&pool, service, migrator, &where_).await?;
    migrator.run(&pool).await?;
    if let Some((mut conn, key)) = lock {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .execute(&mut conn)
            .await?;
        conn.close().await?;
    }
    Ok(pool)
}

/// Opens the pool (creating the SQLite file or the PostgreSQL schema if needed). Services use
/// [`open`], which also serialises replicas and runs the migrations.
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
        // No ping before every checkout: it doubled the round trips of every statement (one to
        // PostgreSQL over the network, one to SQLite's worker thread). A connection that broke
        // while idle fails its next statement once and is dropped; idle ones are closed after a
        // minute, so few are stale after a database restart.
        .test_before_acquire(false)
        .idle_timeout(Some(Duration::from_secs(60)))
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
                    // Reads through a memory map instead of a `pread` per page, and a page
                    // cache per connection large enough for the hot indexes.
                    conn.execute("PRAGMA mmap_size = 268435456").await?;
                    conn.execute("PRAGMA cache_size = -16384").await?;
                    // Checkpoints run once a second in the background (see `checkpoint_forever`)
                    // instead of on whichever commit finds the WAL over 1000 pages.
                    conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    if !postgres {
        tokio::spawn(checkpoint_forever(pool.clone()));
    }
    Ok(pool)
}

/// How often the SQLite WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the SQLite WAL once a second until the pool closes (ADR 0015).
///
/// SQLite's own automatic checkpoint runs inside the commit that finds the WAL over 1000 pages.
/// Under steady load with concurrent readers the WAL cannot restart from the beginning, so it
/// stays over the threshold and nearly every commit runs a checkpoint with two `fsync`s (measured:
/// ~160 `fsync`/s at 250 turns/s). One passive checkpoint a second does the same work once, off
/// the request path, and also bounds what a power loss can take with `synchronous = NORMAL` (the
/// WAL is synced at each checkpoint) to about a second of commits; a killed process loses nothing.
async fn checkpoint_forever(pool: AnyPool) {
    let mut ticker = tokio::time::interval(CHECKPOINT_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::debug!(error = %e, "WAL checkpoint");
        }
    }
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
