//! The per-connection message rate limit (SPEC §4: over it → `error` code `rate_limited`): a
//! token bucket refilled at `ws.messages_per_sec` up to `ws.message_burst`.

use std::time::Instant;

/// A token bucket.
#[derive(Debug)]
pub struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            tokens: burst,
            rate,
            burst,
            at: Instant::now(),
        }
    }

    /// Takes a token if there is one.
    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusals() {
        let mut bucket = Bucket::new(0.0, 2.0);
        assert!(bucket.allow());
        assert!(bucket.allow());
        assert!(!bucket.allow());
    }
}
