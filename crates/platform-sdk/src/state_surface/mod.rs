//! # State Surface
//!
//! Short-lived state the runtime plane shares between its replicas (SPEC §3): session records,
//! execution state, idempotency records, operation progress and file references, all with TTLs,
//! plus publish/subscribe for events that must reach a socket held by another replica (session
//! revocation, notifications).
//!
//! ## Why a trait with two backends
//!
//! Replicas are stateless, so this state has to live outside the process: in production that is
//! Redis ([`RedisStore`]). The embedded default (`make run` with nothing installed) and unit tests
//! must work without Redis, so [`MemoryStore`] implements the same primitives in one process. The
//! primitives in [`StateStore`] are deliberately few and map one-to-one onto Redis commands (SET
//! with PX/NX, an atomic fixed-window counter, sets as keyed indexes, PUBLISH/SUBSCRIBE); the
//! memory backend mirrors their semantics, and one test suite (`tests/state_surface.rs`) runs
//! against both, so code tested on one behaves the same on the other.
//!
//! Services hold the store as `Arc<dyn StateStore>` (built by [`connect`] from configuration) and
//! wrap it in a [`StateSurface`], which owns the key formats and JSON shapes of the typed records
//! in [`records`]. Nothing else should invent keys.
//!
//! Every backend puts its key prefix in front of every key, index and channel, so several
//! deployments, or several test runs, can share one Redis without seeing each other.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub mod channel;
pub mod journal;
pub mod memory;
pub mod records;
pub mod redis;

pub use self::channel::{Channel, Delivery};
pub use self::memory::MemoryStore;
pub use self::records::{FileRef, IdempotencyBegin, IdempotencyRecord, Progress};
pub use self::redis::RedisStore;

/// Why a State Surface operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The backend cannot be reached: connection refused or dropped, pool or connect timeout,
    /// missing Redis URL. Callers answer 503 and `/health/ready` reports not ready.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    /// The backend was reached but refused the command (wrong value type, counter overflow,
    /// script error).
    #[error("state store error: {0}")]
    Backend(String),
    /// A record could not be encoded to, or decoded from, its stored JSON.
    #[error("state record encoding failed: {0}")]
    Serialization(String),
    /// A record breaks an invariant (for example a progress above 100 %) and was not written.
    #[error("invalid state record: {0}")]
    Invalid(String),
}

/// Which [`StateStore`] implementation to run (`APP__STATE__BACKEND`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    /// In-process [`MemoryStore`]: the embedded default, one replica only.
    #[default]
    Memory,
    /// Shared [`RedisStore`]: production, any number of replicas.
    Redis,
}

/// Builds the configured store, with the memory backend journaled to `journal` when given (so
/// the embedded default keeps its state across restarts).
pub async fn connect_journaled(
    backend: StateBackend,
    redis_url: Option<&str>,
    key_prefix: &str,
    journal: Option<std::path::PathBuf>,
) -> Result<Arc<dyn StateStore>, StateError> {
    let store = connect(backend, redis_url, key_prefix).await?;
    match (backend, journal) {
        (StateBackend::Memory, Some(path)) => {
            Ok(Arc::new(journal::JournaledStore::open(store, path).await?))
        }
        _ => Ok(store),
    }
}

/// Builds the configured store. `redis_url` is required for [`StateBackend::Redis`], whose
/// connection is checked here so that a wrong URL fails start-up within about two seconds.
pub async fn connect(
    backend: StateBackend,
    redis_url: Option<&str>,
    key_prefix: &str,
) -> Result<Arc<dyn StateStore>, StateError> {
    match backend {
        StateBackend::Memory => Ok(Arc::new(MemoryStore::new(key_prefix))),
        StateBackend::Redis => {
            let url = redis_url.ok_or_else(|| {
                StateError::Unavailable(
                    "the redis state backend needs a Redis URL (APP__REDIS__URL)".to_owned(),
                )
            })?;
            Ok(Arc::new(RedisStore::connect(url, key_prefix).await?))
        }
    }
}

/// The primitives every State Surface backend provides. Keys, indexes and channels are given
/// without the backend's prefix; the backend adds it.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// The string stored under `key`, `None` when absent or expired.
    async fn get(&self, key: &str) -> Result<Option<String>, StateError>;
    /// Stores `value`, replacing any previous value and TTL; no `ttl` means no expiry.
    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<(), StateError>;
    /// Stores `value` only when `key` is absent; true when the key was absent and is now set.
    async fn set_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<bool, StateError>;
    /// Removes `key` (a value or an index); true when something was deleted.
    async fn delete(&self, key: &str) -> Result<bool, StateError>;
    /// Atomic counter; `ttl` is applied only when the counter is created (fixed window). Returns
    /// the new value.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StateError>;
    /// Remaining TTL, `None` if the key is missing or has no TTL.
    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StateError>;
    /// Resets the TTL of an existing key (sliding expiry); false if the key is missing.
    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, StateError>;
    /// Adds `member` to the set stored under `index`; the index TTL is (re)set to `ttl` when
    /// given and left alone otherwise.
    async fn index_add(
        &self,
        index: &str,
        member: &str,
        ttl: Option<Duration>,
    ) -> Result<(), StateError>;
    /// Removes `member` from `index`; an index left empty disappears.
    async fn index_remove(&self, index: &str, member: &str) -> Result<(), StateError>;
    /// Members of `index`, empty when the index is missing. Order is unspecified.
    async fn index_members(&self, index: &str) -> Result<Vec<String>, StateError>;
    /// Delivers `message` to the current subscribers of `channel` (fire and forget).
    async fn publish(&self, channel: &str, message: &str) -> Result<(), StateError>;
    /// A live subscription: messages published after this returns are delivered, in order.
    async fn subscribe(&self, channel: &str) -> Result<Subscription, StateError>;
    /// Health check for `/health/ready`.
    async fn ping(&self) -> Result<(), StateError>;
}

/// Messages of one channel, in publish order, from [`StateStore::subscribe`].
///
/// [`Subscription::next`] returns `None` once the subscription has ended (store dropped or Redis
/// connection lost); a caller that still needs the channel subscribes again. A subscriber that
/// falls far behind loses messages rather than growing memory without bound, so messages are
/// notifications, never the only copy of durable data. Dropping the subscription unsubscribes.
pub struct Subscription {
    messages: BoxStream<'static, String>,
}

impl Subscription {
    /// Wraps a backend's message stream; for implementors of [`StateStore`].
    pub fn from_stream(messages: impl Stream<Item = String> + Send + 'static) -> Self {
        Self {
            messages: messages.boxed(),
        }
    }

    /// The next message, or `None` when the subscription has ended.
    pub async fn next(&mut self) -> Option<String> {
        self.messages.next().await
    }
}

impl Stream for Subscription {
    type Item = String;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        self.messages.poll_next_unpin(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

/// Typed access to the records of SPEC §3 on top of any [`StateStore`]. The record operations
/// (sessions, execution state, idempotency, progress, file references) live in [`records`].
#[derive(Clone)]
pub struct StateSurface {
    store: Arc<dyn StateStore>,
}

impl StateSurface {
    /// Wraps a store, usually the one built by [`connect`].
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self { store }
    }

    /// The underlying store, for raw primitives (counters, pub/sub, health checks).
    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    /// Stores `value` as JSON under `key`.
    async fn put_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        self.store.set(key, &encode(value)?, ttl).await
    }

    /// Reads and decodes the JSON stored under `key`.
    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StateError> {
        match self.store.get(key).await? {
            Some(raw) => serde_json::from_str(&raw)
                .map(Some)
                .map_err(|e| StateError::Serialization(format!("{key}: {e}"))),
            None => Ok(None),
        }
    }
}

impl fmt::Debug for StateSurface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateSurface").finish_non_exhaustive()
    }
}

/// Encodes a record as JSON.
fn encode<T: Serialize>(value: &T) -> Result<String, StateError> {
    serde_json::to_string(value).map_err(|e| StateError::Serialization(e.to_string()))
}
