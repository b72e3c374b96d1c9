//! A write-ahead journal that makes the in-memory store survive restarts (embedded default).
//!
//! [`JournaledStore`] wraps any [`StateStore`]: every mutation is applied to the inner store and
//! appended as one JSON line to a file in the data directory, flushed to the operating system
//! before the call returns (so a killed process loses nothing; a machine crash may lose the last
//! writes, which the embedded default accepts). At start-up the journal is replayed — expired
//! entries are dropped — and rewritten compacted. Publish/subscribe is not journaled: it is live
//! by nature.

use std::collections::HashMap;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{StateError, StateStore, Subscription};
use crate::time_util::now_ms;

/// One journaled mutation; instants are absolute epoch milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Set {
        key: String,
        value: String,
        until: Option<i64>,
    },
    Delete {
        key: String,
    },
    Expire {
        key: String,
        until: i64,
    },
    IndexAdd {
        index: String,
        member: String,
        until: Option<i64>,
    },
    IndexRemove {
        index: String,
        member: String,
    },
}

/// The compacted state: values and indexes with their expiry.
#[derive(Default)]
struct Model {
    values: HashMap<String, (String, Option<i64>)>,
    indexes: HashMap<String, (Vec<String>, Option<i64>)>,
}

impl Model {
    fn apply(&mut self, op: Op) {
        match op {
            Op::Set { key, value, until } => {
                self.values.insert(key, (value, until));
            }
            Op::Delete { key } => {
                self.values.remove(&key);
                self.indexes.remove(&key);
            }
            Op::Expire { key, until } => {
                if let Some(v) = self.values.get_mut(&key) {
                    v.1 = Some(until);
                }
                if let Some(i) = self.indexes.get_mut(&key) {
                    i.1 = Some(until);
                }
            }
            Op::IndexAdd {
                index,
                member,
                until,
            } => {
                let entry = self.indexes.entry(index).or_default();
                if !entry.0.contains(&member) {
                    entry.0.push(member);
                }
                if until.is_some() {
                    entry.1 = until;
                }
            }
            Op::IndexRemove { index, member } => {
                if let Some(entry) = self.indexes.get_mut(&index) {
                    entry.0.retain(|m| *m != member);
                }
            }
        }
    }

    fn live_ops(self, now: i64) -> Vec<Op> {
        let alive = |until: &Option<i64>| until.is_none_or(|u| u > now);
        let mut ops: Vec<Op> = self
            .values
            .into_iter()
            .filter(|(_, (_, until))| alive(until))
            .map(|(key, (value, until))| Op::Set { key, value, until })
            .collect();
        for (index, (members, until)) in self.indexes {
            if alive(&until) {
                ops.extend(members.into_iter().map(|member| Op::IndexAdd {
                    index: index.clone(),
                    member,
                    until,
                }));
            }
        }
        ops
    }
}

/// A store whose mutations are journaled to a file.
pub struct JournaledStore {
    inner: Arc<dyn StateStore>,
    file: Mutex<std::io::BufWriter<std::fs::File>>,
}

fn io_err(path: &Path, e: std::io::Error) -> StateError {
    StateError::Backend(format!("state journal {}: {e}", path.display()))
}

fn ttl_until(ttl: Option<Duration>) -> Option<i64> {
    ttl.map(|t| now_ms() + t.as_millis() as i64)
}

fn remaining(until: Option<i64>, now: i64) -> Option<Duration> {
    until.map(|u| Duration::from_millis((u - now).max(1) as u64))
}

impl JournaledStore {
    /// Replays `path` into `inner` (creating the file if needed) and journals from then on.
    pub async fn open(inner: Arc<dyn StateStore>, path: PathBuf) -> Result<Self, StateError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_err(&path, e))?;
        }
        let mut model = Model::default();
        if let Ok(file) = std::fs::File::open(&path) {
            for line in std::io::BufReader::new(file).lines() {
                let line = line.map_err(|e| io_err(&path, e))?;
                // A torn last line (killed mid-write) is skipped.
                if let Ok(op) = serde_json::from_str::<Op>(&line) {
                    model.apply(op);
                }
            }
        }
        let now = now_ms();
        let ops = model.live_ops(now);
        let compacted = path.with_extension("compacting");
        {
            let mut out = std::io::BufWriter::new(
                std::fs::File::create(&compacted).map_err(|e| io_err(&path, e))?,
            );
            for op in &ops {
                let line = serde_json::to_string(op)
                    .map_err(|e| StateError::Serialization(e.to_string()))?;
                writeln!(out, "{line}").map_err(|e| io_err(&path, e))?;
            }
            out.flush().map_err(|e| io_err(&path, e))?;
        }
        std::fs::rename(&compacted, &path).map_err(|e| io_err(&path, e))?;
        for op in ops {
            match op {
                Op::Set { key, value, until } => {
                    inner.set(&key, &value, remaining(until, now)).await?
                }
                Op::IndexAdd {
                    index,
                    member,
                    until,
                } => {
                    inner
                        .index_add(&index, &member, remaining(until, now))
                        .await?
                }
                _ => {}
            }
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        Ok(Self {
            inner,
            file: Mutex::new(std::io::BufWriter::new(file)),
        })
    }

    fn record(&self, op: &Op) -> Result<(), StateError> {
        let line =
            serde_json::to_string(op).map_err(|e| StateError::Serialization(e.to_string()))?;
        let mut file = self
            .file
            .lock()
            .map_err(|_| StateError::Backend("state journal lock poisoned".into()))?;
        writeln!(file, "{line}")
            .and_then(|_| file.flush())
            .map_err(|e| StateError::Backend(format!("state journal: {e}")))
    }
}

#[async_trait]
impl StateStore for JournaledStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StateError> {
        self.inner.get(key).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<(), StateError> {
        self.inner.set(key, value, ttl).await?;
        self.record(&Op::Set {
            key: key.into(),
            value: value.into(),
            until: ttl_until(ttl),
        })
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<bool, StateError> {
        let set = self.inner.set_if_absent(key, value, ttl).await?;
        if set {
            self.record(&Op::Set {
                key: key.into(),
                value: value.into(),
                until: ttl_until(ttl),
            })?;
        }
        Ok(set)
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        let deleted = self.inner.delete(key).await?;
        self.record(&Op::Delete { key: key.into() })?;
        Ok(deleted)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StateError> {
        let value = self.inner.incr(key, ttl).await?;
        let left = self.inner.ttl(key).await?;
        self.record(&Op::Set {
            key: key.into(),
            value: value.to_string(),
            until: ttl_until(left),
        })?;
        Ok(value)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StateError> {
        self.inner.ttl(key).await
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, StateError> {
        let done = self.inner.expire(key, ttl).await?;
        if done {
            self.record(&Op::Expire {
                key: key.into(),
                until: now_ms() + ttl.as_millis() as i64,
            })?;
        }
        Ok(done)
    }

    async fn index_add(
        &self,
        index: &str,
        member: &str,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        self.inner.index_add(index, member, ttl).await?;
        let until = match ttl {
            // The backends only ever raise an index TTL; journal what it is now.
            Some(_) => ttl_until(self.inner.ttl(index).await?),
            None => None,
        };
        self.record(&Op::IndexAdd {
            index: index.into(),
            member: member.into(),
            until,
        })
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<(), StateError> {
        self.inner.index_remove(index, member).await?;
        self.record(&Op::IndexRemove {
            index: index.into(),
            member: member.into(),
        })
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>, StateError> {
        self.inner.index_members(index).await
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), StateError> {
        self.inner.publish(channel, message).await
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StateError> {
        self.inner.subscribe(channel).await
    }

    async fn ping(&self) -> Result<(), StateError> {
        self.inner.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_surface::MemoryStore;

    #[tokio::test]
    async fn survives_a_restart_and_forgets_expired_entries() {
        let path = std::env::temp_dir().join(format!("journal-{}.log", uuid::Uuid::new_v4()));
        {
            let store = JournaledStore::open(Arc::new(MemoryStore::new("p:")), path.clone())
                .await
                .unwrap();
            store.set("kept", "1", None).await.unwrap();
            store
                .set("short", "2", Some(Duration::from_millis(1)))
                .await
                .unwrap();
            store.set("gone", "3", None).await.unwrap();
            store.delete("gone").await.unwrap();
            assert_eq!(
                store.incr("count", Duration::from_secs(60)).await.unwrap(),
                1
            );
            store
                .index_add("idx", "a", Some(Duration::from_secs(60)))
                .await
                .unwrap();
            store.index_add("idx", "b", None).await.unwrap();
            store.index_remove("idx", "a").await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let store = JournaledStore::open(Arc::new(MemoryStore::new("p:")), path.clone())
            .await
            .unwrap();
        assert_eq!(store.get("kept").await.unwrap().as_deref(), Some("1"));
        assert_eq!(store.get("short").await.unwrap(), None);
        assert_eq!(store.get("gone").await.unwrap(), None);
        assert_eq!(store.get("count").await.unwrap().as_deref(), Some("1"));
        assert!(store.ttl("count").await.unwrap().is_some());
        assert_eq!(
            store.index_members("idx").await.unwrap(),
            vec!["b".to_owned()]
        );
        let _ = std::fs::remove_file(path);
    }
}
