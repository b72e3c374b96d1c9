//! Tables every replica mirrors in memory by polling: ended sessions (ADR 0004) and access
//! changes — role changes, removals, revoked API keys (ADR 0010).
//!
//! Access checks stay local (no database read per request), so whatever one replica writes must
//! reach the others: each polls the table every `auth.revocation_poll_ms`, re-reading a 5-second
//! overlap so a row committed late is not missed, and prunes expired entries once a minute.

use std::future::Future;
use std::time::Duration;

use platform_sdk::time_util::now_ms;
use sqlx::AnyPool;

/// How far back each poll re-reads, for rows whose commit lagged their timestamp.
const OVERLAP_MS: i64 = 5_000;
/// How often expired entries are forgotten.
const PRUNE_EVERY_MS: i64 = 60_000;

/// An in-memory mirror of a polled table.
pub trait Mirror: Send + Sync + 'static {
    /// What is mirrored, for the log.
    const WHAT: &'static str;

    /// Reads the rows recorded from `since` that still matter at `now` into the mirror.
    fn refresh(
        &self,
        pool: &AnyPool,
        since: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Forgets what expired by `now`, in the mirror and in the table.
    fn forget_expired(
        &self,
        pool: &AnyPool,
        now: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

/// Polls `mirror`'s table every `every`, forever (the caller aborts the task at shutdown).
pub async fn poll<M: Mirror>(pool: AnyPool, mirror: M, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = now_ms();
    let mut last_prune = last;
    loop {
        ticker.tick().await;
        let now = now_ms();
        match mirror.refresh(&pool, last - OVERLAP_MS, now).await {
            Ok(()) => last = now,
            Err(e) => tracing::warn!(error = %e, what = M::WHAT, "could not poll"),
        }
        if now - last_prune > PRUNE_EVERY_MS {
            if let Err(e) = mirror.forget_expired(&pool, now).await {
                tracing::warn!(error = %e, what = M::WHAT, "could not prune");
            }
            last_prune = now;
        }
    }
}
