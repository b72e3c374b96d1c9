//! The set of ended sessions whose access tokens must be refused.
//!
//! Access tokens are verified locally (no round trip per request), so ending a session must
//! reach every replica: the ending replica writes a row (see `storage::revocations`) and adds the
//! id here at once; every replica polls the table every `revocation_poll_ms` (default 250 ms) and
//! adds what it has not seen. An entry is kept until every access token of that session has
//! expired, then pruned.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Revoked session ids with the instant (epoch ms) after which they can be forgotten.
#[derive(Clone)]
pub struct RevokedSessions {
    inner: Arc<RwLock<HashMap<String, i64>>>,
    newly: tokio::sync::broadcast::Sender<Vec<String>>,
}

impl Default for RevokedSessions {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            newly: tokio::sync::broadcast::channel(64).0,
        }
    }
}

impl RevokedSessions {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ids as they are revoked (the WebSocket registry closes their sockets with 4401).
    pub fn watch(&self) -> tokio::sync::broadcast::Receiver<Vec<String>> {
        self.newly.subscribe()
    }

    /// True when the session was ended.
    pub fn contains(&self, session_id: &str) -> bool {
        self.inner
            .read()
            .map(|set| set.contains_key(session_id))
            .unwrap_or(true)
    }

    /// Adds ended sessions.
    pub fn extend(&self, entries: impl IntoIterator<Item = (String, i64)>) {
        let mut added = Vec::new();
        if let Ok(mut set) = self.inner.write() {
            for (id, until) in entries {
                if set.insert(id.clone(), until).is_none() {
                    added.push(id);
                }
            }
        }
        if !added.is_empty() {
            let _ = self.newly.send(added);
        }
    }

    /// Forgets entries whose tokens have all expired.
    pub fn prune(&self, now_ms: i64) {
        if let Ok(mut set) = self.inner.write() {
            set.retain(|_, forget_after| *forget_after > now_ms);
        }
    }

    /// Number of entries (metrics).
    pub fn len(&self) -> usize {
        self.inner.read().map(|s| s.len()).unwrap_or(0)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_prunes() {
        let set = RevokedSessions::new();
        set.extend([("a".to_owned(), 10), ("b".to_owned(), 30)]);
        assert!(set.contains("a"));
        set.prune(20);
        assert!(!set.contains("a"));
        assert!(set.contains("b"));
        assert_eq!(set.len(), 1);
    }
}
