//! Login throttling, on by default: per client address (every login/register attempt counts)
//! and per account (failed logins count, keyed by the normalised email whether or not such an
//! account exists, so the answer never reveals it). Fixed windows kept in the state store, so
//! all replicas share them when the store is Redis.

use std::time::Duration;

use platform_sdk::state_surface::{StateError, StateStore};
use sha2::{Digest as _, Sha256};

/// Throttle limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins per account per window.
    pub account_failures: i64,
    /// Window of the account counter.
    pub account_window: Duration,
    /// Attempts per address per window.
    pub ip_attempts: i64,
    /// Window of the address counter.
    pub ip_window: Duration,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allowed,
    /// Over the limit; retry after this many seconds.
    Limited(u64),
}

/// The throttle.
#[derive(Clone)]
pub struct Throttle {
    store: std::sync::Arc<dyn StateStore>,
    limits: Limits,
}

fn account_key(email: &str) -> String {
    // Hash the email so the store never holds addresses in clear.
    let digest = Sha256::digest(email.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("throttle:account:{hex}")
}

impl Throttle {
    /// A throttle over a store.
    pub fn new(store: std::sync::Arc<dyn StateStore>, limits: Limits) -> Self {
        Self { store, limits }
    }

    async fn retry_after(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        let left = self.store.ttl(key).await?.unwrap_or(window);
        Ok(left.as_secs().max(1))
    }

    /// Counts an attempt from `ip` and says whether it may proceed.
    pub async fn attempt_from(&self, ip: &str) -> Result<Verdict, StateError> {
        let key = format!("throttle:ip:{ip}");
        let count = self.store.incr(&key, self.limits.ip_window).await?;
        if count > self.limits.ip_attempts {
            return Ok(Verdict::Limited(
                self.retry_after(&key, self.limits.ip_window).await?,
            ));
        }
        Ok(Verdict::Allowed)
    }

    /// Whether the account may try to log in now.
    pub async fn account_allowed(&self, email: &str) -> Result<Verdict, StateError> {
        let key = account_key(email);
        let count = self
            .store
            .get(&key)
            .await?
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        if count >= self.limits.account_failures {
            return Ok(Verdict::Limited(
                self.retry_after(&key, self.limits.account_window).await?,
            ));
        }
        Ok(Verdict::Allowed)
    }

    /// Records a failed login for the account.
    pub async fn failed(&self, email: &str) -> Result<(), StateError> {
        self.store
            .incr(&account_key(email), self.limits.account_window)
            .await
            .map(|_| ())
    }

    /// Clears the account's failures after a successful login.
    pub async fn succeeded(&self, email: &str) -> Result<(), StateError> {
        self.store.delete(&account_key(email)).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform_sdk::state_surface::MemoryStore;

    fn throttle(account: i64, ip: i64) -> Throttle {
        Throttle::new(
            std::sync::Arc::new(MemoryStore::new("t:")),
            Limits {
                account_failures: account,
                account_window: Duration::from_secs(60),
                ip_attempts: ip,
                ip_window: Duration::from_secs(60),
            },
        )
    }

    #[tokio::test]
    async fn limits_accounts_after_failures_and_resets_on_success() {
        let t = throttle(2, 100);
        assert_eq!(t.account_allowed("a@x.io").await.unwrap(), Verdict::Allowed);
        t.failed("a@x.io").await.unwrap();
        t.failed("a@x.io").await.unwrap();
        assert!(
            matches!(t.account_allowed("a@x.io").await.unwrap(), Verdict::Limited(s) if s > 0 && s <= 60)
        );
        assert_eq!(t.account_allowed("b@x.io").await.unwrap(), Verdict::Allowed);
        t.succeeded("a@x.io").await.unwrap();
        assert_eq!(t.account_allowed("a@x.io").await.unwrap(), Verdict::Allowed);
    }

    #[tokio::test]
    async fn limits_addresses() {
        let t = throttle(100, 2);
        assert_eq!(t.attempt_from("1.2.3.4").await.unwrap(), Verdict::Allowed);
        assert_eq!(t.attempt_from("1.2.3.4").await.unwrap(), Verdict::Allowed);
        assert!(matches!(
            t.attempt_from("1.2.3.4").await.unwrap(),
            Verdict::Limited(_)
        ));
        assert_eq!(t.attempt_from("5.6.7.8").await.unwrap(), Verdict::Allowed);
    }
}
