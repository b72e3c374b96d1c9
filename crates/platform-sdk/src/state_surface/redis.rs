//! Redis [`StateStore`]: the production backend, shared by every replica of the runtime plane.
//!
//! Connections come from a deadpool-redis pool of multiplexed connections whose wait, create and
//! recycle timeouts are all [`TIMEOUT`], so an unreachable Redis fails a request (and
//! `/health/ready`) within about two seconds instead of hanging it, and fails start-up the same
//! way ([`RedisStore::connect`] pings before returning). A multiplexed connection carries any
//! number of concurrent commands, so commands share one checked-out connection (a clone of it)
//! until it fails, instead of checking one out per command: every checkout costs a recycle round
//! trip (`UNWATCH` + `PING`), which was two of every three round trips to Redis on a turn. Each
//! command is bounded by [`TIMEOUT`] too; a failed or timed-out connection is dropped and the
//! next command takes a fresh one from the pool.
//!
//! Each primitive is one Redis command or one atomic unit: `SET … PX`/`SET … NX PX`, `DEL`,
//! `PTTL`, `PEXPIRE`, sets (`SADD`/`SREM`/`SMEMBERS`) for indexes, `PUBLISH`. The counter is a
//! small Lua script (`INCR`, then `PEXPIRE` only if the key has no TTL) so that concurrent callers
//! on a fresh key can never leave it without a TTL. A subscription owns a dedicated pub/sub
//! connection (a pooled connection cannot be put in subscriber mode); dropping the
//! [`Subscription`] closes it.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{Client, Msg, RedisError};
use async_trait::async_trait;
use deadpool_redis::{Manager, Pool, PoolError, Runtime};
use futures_util::StreamExt;

use super::{StateError, StateStore, Subscription};

/// Upper bound on waiting for a pooled connection, opening one, or opening a pub/sub connection.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// `INCR` plus "set the TTL if there is none", atomically. Checking `PTTL` rather than the
/// returned value also repairs a counter that somehow lost its TTL.
const INCR_WITH_TTL: &str = r"
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// A [`StateStore`] in Redis. Cloning it (or [`RedisStore::with_prefix`]) shares the pool.
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    client: Client,
    prefix: String,
    /// The connection commands share (see the module docs); `None` until first use and after
    /// a failure.
    shared: Arc<Mutex<Option<MultiplexedConnection>>>,
}

impl RedisStore {
    /// Connects to `url` (`redis://[:password@]host:port[/db]`) and checks the connection with a
    /// `PING`. Every key, index and channel gets `key_prefix` in front. The URL may carry a
    /// password, so it never appears in errors or logs.
    pub async fn connect(url: &str, key_prefix: impl Into<String>) -> Result<Self, StateError> {
        let client = Client::open(url)
            .map_err(|e| StateError::Unavailable(format!("invalid Redis URL: {e}")))?;
        let manager = Manager::new(client.get_connection_info().clone())
            .map_err(|e| StateError::Unavailable(format!("invalid Redis URL: {e}")))?;
        let pool = Pool::builder(manager)
            .wait_timeout(Some(TIMEOUT))
            .create_timeout(Some(TIMEOUT))
            .recycle_timeout(Some(TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StateError::Unavailable(format!("cannot build the Redis pool: {e}")))?;
        let store = Self {
            pool,
            client,
            prefix: key_prefix.into(),
            shared: Arc::new(Mutex::new(None)),
        };
        store.ping().await?;
        tracing::info!(prefix = %store.prefix, "connected to the Redis state store");
        Ok(store)
    }

    /// Another handle on the same Redis and pool, applying `key_prefix` instead of this one's.
    pub fn with_prefix(&self, key_prefix: impl Into<String>) -> Self {
        Self {
            pool: self.pool.clone(),
            client: self.client.clone(),
            prefix: key_prefix.into(),
            shared: self.shared.clone(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// The shared connection, taken from the pool when there is none.
    async fn conn(&self) -> Result<MultiplexedConnection, StateError> {
        if let Some(conn) = self.shared.lock().ok().and_then(|c| c.clone()) {
            return Ok(conn);
        }
        let pooled = self.pool.get().await.map_err(pool_error)?;
        let conn: MultiplexedConnection = (*pooled).clone();
        if let Ok(mut shared) = self.shared.lock() {
            *shared = Some(conn.clone());
        }
        Ok(conn)
    }

    /// Runs one command on the shared connection, within [`TIMEOUT`].
    async fn query<T: ::redis::FromRedisValue>(&self, cmd: &::redis::Cmd) -> Result<T, StateError> {
        let mut conn = self.conn().await?;
        let answer = tokio::time::timeout(TIMEOUT, cmd.query_async(&mut conn)).await;
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let error = redis_error(e);
                if matches!(error, StateError::Unavailable(_)) {
                    self.forget_connection();
                }
                Err(error)
            }
            Err(_) => {
                self.forget_connection();
                Err(StateError::Unavailable(
                    "Redis did not answer in time".into(),
                ))
            }
        }
    }

    fn forget_connection(&self) {
        if let Ok(mut shared) = self.shared.lock() {
            *shared = None;
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn pool_error(e: PoolError) -> StateError {
    match e {
        PoolError::Backend(e) => redis_error(e),
        other => StateError::Unavailable(other.to_string()),
    }
}

/// Connection trouble is `Unavailable` (callers answer 503); anything Redis itself refused is
/// `Backend`.
fn redis_error(e: RedisError) -> StateError {
    if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() || e.is_timeout() {
        StateError::Unavailable(e.to_string())
    } else {
        StateError::Backend(e.to_string())
    }
}

/// A TTL in milliseconds for `PX`/`PEXPIRE`, at least 1 (Redis refuses 0).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl StateStore for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StateError> {
        self.query(::redis::cmd("GET").arg(self.key(key))).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<(), StateError> {
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(millis(ttl));
        }
        self.query(&cmd).await
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<bool, StateError> {
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("NX");
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(millis(ttl));
        }
        let reply: Option<String> = self.query(&cmd).await?;
        Ok(reply.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        let deleted: i64 = self.query(::redis::cmd("DEL").arg(self.key(key))).await?;
        Ok(deleted > 0)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StateError> {
        let mut cmd = ::redis::cmd("EVAL");
        cmd.arg(INCR_WITH_TTL)
            .arg(1)
            .arg(self.key(key))
            .arg(millis(ttl));
        self.query(&cmd).await
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StateError> {
        // -2: no such key, -1: no TTL.
        let ms: i64 = self.query(::redis::cmd("PTTL").arg(self.key(key))).await?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, StateError> {
        let mut cmd = ::redis::cmd("PEXPIRE");
        cmd.arg(self.key(key)).arg(millis(ttl));
        let set: i64 = self.query(&cmd).await?;
        Ok(set == 1)
    }

    async fn index_add(
        &self,
        index: &str,
        member: &str,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        let key = self.key(index);
        let mut pipe = ::redis::pipe();
        pipe.atomic().cmd("SADD").arg(&key).arg(member).ignore();
        if let Some(ttl) = ttl {
            pipe.cmd("PEXPIRE").arg(&key).arg(millis(ttl)).ignore();
        }
        let mut conn = self.conn().await?;
        match tokio::time::timeout(TIMEOUT, pipe.query_async(&mut conn)).await {
            Ok(answer) => answer.map_err(redis_error),
            Err(_) => {
                self.forget_connection();
                Err(StateError::Unavailable(
                    "Redis did not answer in time".into(),
                ))
            }
        }
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<(), StateError> {
        let mut cmd = ::redis::cmd("SREM");
        cmd.arg(self.key(index)).arg(member);
        let _removed: i64 = self.query(&cmd).await?;
        Ok(())
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>, StateError> {
        self.query(::redis::cmd("SMEMBERS").arg(self.key(index)))
            .await
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), StateError> {
        let mut cmd = ::redis::cmd("PUBLISH");
        cmd.arg(self.key(channel)).arg(message);
        let _receivers: i64 = self.query(&cmd).await?;
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StateError> {
        let channel = self.key(channel);
        let timed_out =
            || StateError::Unavailable("timed out opening a Redis subscription".to_owned());
        let mut pubsub = tokio::time::timeout(TIMEOUT, self.client.get_async_pubsub())
            .await
            .map_err(|_| timed_out())?
            .map_err(redis_error)?;
        // Returns once Redis has confirmed the subscription, so later publishes are delivered.
        tokio::time::timeout(TIMEOUT, pubsub.subscribe(&channel))
            .await
            .map_err(|_| timed_out())?
            .map_err(redis_error)?;
        let messages = pubsub.into_on_message().filter_map(move |msg: Msg| {
            let payload = msg.get_payload::<String>();
            if let Err(e) = &payload {
                tracing::warn!(channel = %msg.get_channel_name(), error = %e, "dropped a non-text message");
            }
            futures_util::future::ready(payload.ok())
        });
        Ok(Subscription::from_stream(messages))
    }

    async fn ping(&self) -> Result<(), StateError> {
        let _pong: String = self.query(&::redis::cmd("PING")).await?;
        Ok(())
    }
}
