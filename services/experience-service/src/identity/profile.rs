//! A short-lived cache of `me` profiles, so the hottest authenticated read is answered from the
//! token and memory instead of a database round trip. Entries live 30 seconds: a renamed user or
//! a changed role shows up within that time (a changed role also needs a new access token).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use platform_sdk::wire::MeResponse;

const TTL_MS: i64 = 30_000;
const MAX_ENTRIES: usize = 100_000;

type Entry = (Arc<MeResponse>, i64);

/// Cached profiles by user id (the entry remembers its tenant; a lookup for another tenant
/// misses), so a lookup borrows the id instead of building a key.
#[derive(Clone, Default)]
pub struct ProfileCache {
    inner: Arc<RwLock<HashMap<String, Entry>>>,
}

impl ProfileCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh entry, if any.
    pub fn get(&self, tenant_id: &str, user_id: &str, now: i64) -> Option<Arc<MeResponse>> {
        let map = self.inner.read().ok()?;
        let (value, expires) = map.get(user_id)?;
        (*expires > now && value.tenant.id == tenant_id).then(|| value.clone())
    }

    /// Stores an entry (clearing the cache when it grows past its bound).
    pub fn put(&self, tenant_id: &str, user_id: &str, value: Arc<MeResponse>, now: i64) {
        if let Ok(mut map) = self.inner.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            debug_assert_eq!(value.tenant.id, tenant_id);
            map.insert(user_id.to_owned(), (value, now + TTL_MS));
        }
    }
}
