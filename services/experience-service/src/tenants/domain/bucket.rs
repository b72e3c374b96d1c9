//! The per-key request throttle: one token bucket per API key on each replica, refilled at
//! `tenants.api_key_requests_per_sec` up to `tenants.api_key_burst` (ADR 0010: per replica, so
//! no shared-store round trip is added to every keyed request).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Token buckets by key id.
#[derive(Debug)]
pub struct KeyBuckets {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Keys tracked at most; the map is cleared past it (every key starts full again).
const MAX_KEYS: usize = 100_000;

impl KeyBuckets {
    /// Buckets refilled at `rate` per second up to `burst`.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate: rate.max(0.0),
            burst: burst.max(1.0),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `key_id`; `Err(seconds)` to wait when there is none.
    pub fn take(&self, key_id: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() >= MAX_KEYS && !map.contains_key(key_id) {
            map.clear();
        }
        let (tokens, at) = map.entry(key_id.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait = if self.rate > 0.0 {
            ((1.0 - *tokens) / self.rate).ceil()
        } else {
            60.0
        };
        Err((wait as u64).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_429_per_key() {
        let buckets = KeyBuckets::new(0.5, 2.0);
        assert_eq!(buckets.take("a"), Ok(()));
        assert_eq!(buckets.take("a"), Ok(()));
        assert_eq!(buckets.take("a"), Err(2));
        assert_eq!(buckets.take("b"), Ok(()), "another key has its own bucket");
    }
}
