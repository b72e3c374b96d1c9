//! In-memory [`StateStore`]: the embedded default (one process, nothing to install) and a fast
//! backend for unit tests.
//!
//! It mirrors the Redis backend command for command: values and indexes share one keyspace (an
//! operation on a key of the other kind fails like Redis' `WRONGTYPE`), `set` without a TTL clears
//! the old one, the counter gets its TTL only when it has none, an index emptied by a removal
//! disappears. State is not shared between processes, which is why production runs Redis.
//!
//! Expiry is lazy: an operation that meets an expired entry treats it as absent and drops it. So
//! that keys nobody touches again do not pile up, a sweep drops every expired entry once the
//! number of writes since the last sweep reaches the number of entries (at least
//! [`SWEEP_MIN_WRITES`]), which keeps the cost amortised O(1) per write. The keyspace lock is a
//! `std` mutex held only for map operations, never across an `.await`.
//!
//! Pub/sub uses one `tokio::sync::broadcast` channel per channel name; a subscriber more than
//! [`CHANNEL_CAPACITY`] messages behind skips the oldest ones (logged), like a Redis client that
//! exceeds its output buffer.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::{StateError, StateStore, Subscription};

/// Writes between two sweeps of expired entries, at the least.
pub const SWEEP_MIN_WRITES: usize = 1024;

/// Messages a subscriber may fall behind before it loses the oldest ones.
pub const CHANNEL_CAPACITY: usize = 1024;

/// Subscribes between two sweeps of channels nobody listens to any more, at the least.
const CHANNEL_SWEEP_MIN: usize = 64;

/// A stored value: a string or an index (a set of members).
enum Value {
    Str(String),
    Set(BTreeSet<String>),
}

struct Entry {
    value: Value,
    expires_at: Option<Instant>,
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

#[derive(Default)]
struct Keyspace {
    entries: HashMap<String, Entry>,
    writes_since_sweep: usize,
}

impl Keyspace {
    /// The live entry under `key`; an expired one is dropped first.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if self.entries.get(key).is_some_and(|e| !e.is_live(now)) {
            self.entries.remove(key);
        }
        self.entries.get_mut(key)
    }

    /// Stores `entry`, counting the write towards the next sweep.
    fn insert(&mut self, key: String, entry: Entry, now: Instant) {
        self.entries.insert(key, entry);
        self.wrote(now);
    }

    /// Counts a write and sweeps expired entries when enough writes have accumulated.
    fn wrote(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= self.entries.len().max(SWEEP_MIN_WRITES) {
            self.writes_since_sweep = 0;
            self.entries.retain(|_, e| e.is_live(now));
        }
    }
}

#[derive(Default)]
struct Channels {
    senders: HashMap<String, broadcast::Sender<String>>,
    subscribes_since_sweep: usize,
}

#[derive(Default)]
struct Shared {
    keyspace: Mutex<Keyspace>,
    channels: Mutex<Channels>,
}

/// A [`StateStore`] held in this process. Cloning it (or [`MemoryStore::with_prefix`]) gives
/// another handle on the same data.
#[derive(Clone)]
pub struct MemoryStore {
    shared: Arc<Shared>,
    prefix: String,
}

impl MemoryStore {
    /// An empty store whose keys, indexes and channels all start with `key_prefix`.
    pub fn new(key_prefix: impl Into<String>) -> Self {
        Self {
            shared: Arc::default(),
            prefix: key_prefix.into(),
        }
    }

    /// Another handle on the same data, applying `key_prefix` instead of this handle's prefix.
    pub fn with_prefix(&self, key_prefix: impl Into<String>) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            prefix: key_prefix.into(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// The keyspace. A panic while the lock was held cannot leave a map half-updated in a way
    /// that matters here, so a poisoned lock is simply taken over.
    fn keyspace(&self) -> MutexGuard<'_, Keyspace> {
        self.shared
            .keyspace
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn channels(&self) -> MutexGuard<'_, Channels> {
        self.shared
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// When an entry written now with `ttl` expires; `None` (never) if that is beyond `Instant`'s
/// range. A zero TTL is raised to one millisecond, as Redis refuses `PX 0`.
fn deadline(now: Instant, ttl: Duration) -> Option<Instant> {
    now.checked_add(ttl.max(Duration::from_millis(1)))
}

fn wrong_type() -> StateError {
    StateError::Backend(
        "WRONGTYPE Operation against a key holding the wrong kind of value".to_owned(),
    )
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StateError> {
        let now = Instant::now();
        match self.keyspace().live(&self.key(key), now) {
            Some(Entry {
                value: Value::Str(s),
                ..
            }) => Ok(Some(s.clone())),
            Some(_) => Err(wrong_type()),
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<(), StateError> {
        let now = Instant::now();
        let entry = Entry {
            value: Value::Str(value.to_owned()),
            expires_at: ttl.and_then(|ttl| deadline(now, ttl)),
        };
        self.keyspace().insert(self.key(key), entry, now);
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<bool, StateError> {
        let now = Instant::now();
        let key = self.key(key);
        let mut keyspace = self.keyspace();
        if keyspace.live(&key, now).is_some() {
            return Ok(false);
        }
        let entry = Entry {
            value: Value::Str(value.to_owned()),
            expires_at: ttl.and_then(|ttl| deadline(now, ttl)),
        };
        keyspace.insert(key, entry, now);
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        let now = Instant::now();
        let key = self.key(key);
        let mut keyspace = self.keyspace();
        let existed = keyspace.live(&key, now).is_some();
        keyspace.entries.remove(&key);
        Ok(existed)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StateError> {
        let now = Instant::now();
        let key = self.key(key);
        let mut keyspace = self.keyspace();
        let next = match keyspace.live(&key, now) {
            Some(entry) => {
                let Value::Str(current) = &mut entry.value else {
                    return Err(wrong_type());
                };
                let next = current
                    .parse::<i64>()
                    .ok()
                    .and_then(|n| n.checked_add(1))
                    .ok_or_else(|| {
                        StateError::Backend(
                            "ERR value is not an integer or out of range".to_owned(),
                        )
                    })?;
                *current = next.to_string();
                if entry.expires_at.is_none() {
                    entry.expires_at = deadline(now, ttl);
                }
                next
            }
            None => {
                let entry = Entry {
                    value: Value::Str("1".to_owned()),
                    expires_at: deadline(now, ttl),
                };
                keyspace.insert(key, entry, now);
                1
            }
        };
        Ok(next)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StateError> {
        let now = Instant::now();
        Ok(self
            .keyspace()
            .live(&self.key(key), now)
            .and_then(|e| e.expires_at)
            .map(|at| at.saturating_duration_since(now)))
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, StateError> {
        let now = Instant::now();
        match self.keyspace().live(&self.key(key), now) {
            Some(entry) => {
                entry.expires_at = deadline(now, ttl);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn index_add(
        &self,
        index: &str,
        member: &str,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        let now = Instant::now();
        let key = self.key(index);
        let mut keyspace = self.keyspace();
        match keyspace.live(&key, now) {
            Some(entry) => {
                let Value::Set(members) = &mut entry.value else {
                    return Err(wrong_type());
                };
                members.insert(member.to_owned());
                if let Some(ttl) = ttl {
                    entry.expires_at = deadline(now, ttl);
                }
            }
            None => {
                let entry = Entry {
                    value: Value::Set(BTreeSet::from([member.to_owned()])),
                    expires_at: ttl.and_then(|ttl| deadline(now, ttl)),
                };
                keyspace.insert(key, entry, now);
            }
        }
        Ok(())
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<(), StateError> {
        let now = Instant::now();
        let key = self.key(index);
        let mut keyspace = self.keyspace();
        let emptied = match keyspace.live(&key, now) {
            Some(Entry {
                value: Value::Set(members),
                ..
            }) => {
                members.remove(member);
                members.is_empty()
            }
            Some(_) => return Err(wrong_type()),
            None => false,
        };
        if emptied {
            keyspace.entries.remove(&key);
        }
        Ok(())
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>, StateError> {
        let now = Instant::now();
        match self.keyspace().live(&self.key(index), now) {
            Some(Entry {
                value: Value::Set(members),
                ..
            }) => Ok(members.iter().cloned().collect()),
            Some(_) => Err(wrong_type()),
            None => Ok(Vec::new()),
        }
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), StateError> {
        let channel = self.key(channel);
        let mut channels = self.channels();
        let nobody_listens = channels
            .senders
            .get(&channel)
            .is_some_and(|tx| tx.send(message.to_owned()).is_err());
        if nobody_listens {
            channels.senders.remove(&channel);
        }
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StateError> {
        let channel = self.key(channel);
        let receiver = {
            let mut channels = self.channels();
            channels.subscribes_since_sweep += 1;
            if channels.subscribes_since_sweep >= channels.senders.len().max(CHANNEL_SWEEP_MIN) {
                channels.subscribes_since_sweep = 0;
                channels.senders.retain(|_, tx| tx.receiver_count() > 0);
            }
            channels
                .senders
                .entry(channel.clone())
                .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
                .subscribe()
        };
        let messages = futures_util::stream::unfold(
            (receiver, channel),
            |(mut receiver, channel)| async move {
                loop {
                    match receiver.recv().await {
                        Ok(message) => return Some((message, (receiver, channel))),
                        Err(broadcast::error::RecvError::Lagged(skipped)) => {
                            tracing::warn!(%channel, skipped, "slow subscriber lost messages");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        );
        Ok(Subscription::from_stream(messages))
    }

    async fn ping(&self) -> Result<(), StateError> {
        Ok(())
    }
}
