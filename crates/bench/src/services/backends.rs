//! The external backends of the production stack: reachability checks before a run, and removal
//! of what a stack created there (its Postgres schemas, its Redis keys) after it, including
//! after an interrupt.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result};
use sqlx::Connection as _;

/// Whether PostgreSQL at `url` accepts a connection.
pub async fn postgres_reachable(url: &str) -> Result<()> {
    let connect = sqlx::postgres::PgConnection::connect(url);
    let connection = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .context("timed out")??;
    connection.close().await?;
    Ok(())
}

/// Whether Redis at `url` answers PING.
pub async fn redis_reachable(url: &str) -> Result<()> {
    let ping = async {
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await?;
        anyhow::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(5), ping)
        .await
        .context("timed out")?
}

/// What a stack creates outside its data directory: Postgres schemas and Redis keys.
#[derive(Debug, Clone)]
pub(super) struct Leftovers {
    /// The stack's id.
    pub(super) id: String,
    /// Postgres URL and the schemas created there.
    pub(super) postgres: Option<(String, Vec<String>)>,
    /// Redis URL and the key prefix used there.
    pub(super) redis: Option<(String, String)>,
}

impl Leftovers {
    /// Drops the schemas and deletes the keys; failures are warnings.
    pub(super) async fn remove(&self) {
        if let Some((url, schemas)) = &self.postgres {
            if let Err(error) = drop_schemas(url, schemas).await {
                eprintln!("warning: could not drop Postgres schemas {schemas:?}: {error:#}");
            }
        }
        if let Some((url, prefix)) = &self.redis {
            if let Err(error) = delete_keys(url, prefix).await {
                eprintln!("warning: could not delete Redis keys {prefix}*: {error:#}");
            }
        }
    }
}

/// The leftovers of stacks still running, where `main` can reach them after an interrupt has
/// dropped the stacks themselves (their children die with them; schemas and keys do not).
#[derive(Debug, Clone, Default)]
pub struct Janitor(Arc<Mutex<Vec<Leftovers>>>);

impl Janitor {
    /// Remembers a stack's leftovers.
    pub(super) fn register(&self, leftovers: Leftovers) {
        if let Ok(mut all) = self.0.lock() {
            all.push(leftovers);
        }
    }

    /// Forgets them once removed.
    pub(super) fn forget(&self, id: &str) {
        if let Ok(mut all) = self.0.lock() {
            all.retain(|leftovers| leftovers.id != id);
        }
    }

    /// Removes everything still registered (after an interrupt).
    pub async fn sweep(&self) {
        let pending = self
            .0
            .lock()
            .map(|mut all| std::mem::take(&mut *all))
            .unwrap_or_default();
        for leftovers in pending {
            leftovers.remove().await;
        }
    }
}

async fn drop_schemas(url: &str, schemas: &[String]) -> Result<()> {
    let mut connection = sqlx::postgres::PgConnection::connect(url).await?;
    for schema in schemas {
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut connection)
            .await?;
    }
    connection.close().await?;
    Ok(())
}

async fn delete_keys(url: &str, prefix: &str) -> Result<()> {
    let client = redis::Client::open(url)?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await?;
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .query_async::<()>(&mut connection)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
