//! Execution ownership across runtime replicas (docs/adr/0013-replicas-and-leases.md). Every
//! runtime process has an owner id; the executions it runs carry that id and a lease it renews
//! every third of the lease. Every replica sweeps every half lease: an unfinished execution whose
//! lease has expired lost its process (killed, partitioned, stopped), so it is failed with
//! `EXECUTION_FAILED` — by exactly one replica, because the failing update is conditional on the
//! lease still being expired. The same sweep runs at start-up, so a restarting replica fails only
//! executions nobody renews, never another live replica's. A replica that stops gracefully fails
//! its own unfinished executions on the way out, so their clients need not wait for the lease.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use platform_sdk::agent_wire::{event_types, ExecutionRecord, ExecutionStatus};
use platform_sdk::time_util::now_ms;
use tokio::time::MissedTickBehavior;

use super::storage as store;
use super::Executions;
use crate::error::RuntimeError;

/// The error of an execution whose runtime went away.
pub const OWNER_LOST: &str = "the runtime that ran this execution stopped (restarted or lost)";

/// Milliseconds as a signed epoch offset.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Executions {
    /// When a lease taken or renewed now ends.
    pub(super) fn lease_until(&self) -> i64 {
        now_ms().saturating_add(millis(self.lease))
    }

    /// This process's owner id.
    pub fn owner_id(&self) -> &str {
        &self.owner_id
    }

    /// Fails every unfinished execution whose lease has expired; returns how many this replica
    /// failed (another replica may win some of them).
    pub async fn sweep_expired(&self) -> Result<usize, RuntimeError> {
        let now = now_ms();
        let mut failed = 0;
        for e in store::expired(&self.pool, now).await? {
            let guard = store::Guard::LeaseExpired;
            if self.fail_lost(&e.execution_id, guard, now).await? {
                failed += 1;
                self.metrics.incr("executions_owner_lost");
                self.report_lost(&e, "owner_lost").await?;
            }
        }
        Ok(failed)
    }

    /// Fails the executions this process still runs, when it stops: their clients learn it now
    /// instead of when the lease expires. Returns how many.
    pub async fn release_owned(&self) -> Result<usize, RuntimeError> {
        let mut failed = 0;
        for e in store::owned(&self.pool, &self.owner_id).await? {
            let guard = store::Guard::OwnedBy(&self.owner_id);
            if self.fail_lost(&e.execution_id, guard, now_ms()).await? {
                failed += 1;
                self.report_lost(&e, "owner_stopped").await?;
            }
        }
        Ok(failed)
    }

    /// Fails an execution whose runtime is gone, when `guard` still holds (one transaction).
    async fn fail_lost(
        &self,
        id: &str,
        guard: store::Guard<'_>,
        now: i64,
    ) -> Result<bool, RuntimeError> {
        let first_delta_at = self.control(id).and_then(|c| c.first_delta_at());
        let finish = store::Finish {
            id,
            guard,
            to: ExecutionStatus::Failed,
            error: Some(OWNER_LOST),
            now,
            first_delta_at,
            answer: None,
            output_clean: false,
            slo_ms: self.latency_slo_ms,
        };
        let mut tx = self.pool.begin().await?;
        let failed = store::finish(&mut tx, &finish).await?;
        tx.commit().await?;
        Ok(failed)
    }

    async fn report_lost(&self, e: &ExecutionRecord, reason: &str) -> Result<(), RuntimeError> {
        self.events
            .append(
                &e.tenant_id,
                &e.session_id,
                Some(&e.execution_id),
                event_types::EXECUTION_FAILED,
                serde_json::json!({
                    "execution_id": e.execution_id,
                    "conversation_id": e.conversation_id,
                    "agent_id": e.agent_id,
                    "error": OWNER_LOST,
                    "reason": reason,
                }),
            )
            .await?;
        Ok(())
    }

    /// Renews the leases of the executions running here. One whose lease could not be renewed is
    /// no longer this process's (another replica failed or cancelled it): it is stopped, and the
    /// conditional status updates keep it from reporting anything further.
    pub async fn renew_leases(&self) -> Result<(), RuntimeError> {
        let ids: Vec<String> = match self.active.lock() {
            Ok(active) => active.keys().cloned().collect(),
            Err(_) => {
                return Err(RuntimeError::Internal(anyhow::anyhow!(
                    "executions lock poisoned"
                )))
            }
        };
        if ids.is_empty() {
            return Ok(());
        }
        let renewed = store::renew(&self.pool, &self.owner_id, &ids, self.lease_until()).await?;
        let renewed: HashSet<&str> = renewed.iter().map(String::as_str).collect();
        for id in ids.iter().filter(|id| !renewed.contains(id.as_str())) {
            if let Some(control) = self.control(id) {
                let _ = control.cancel.send(true);
            }
        }
        Ok(())
    }

    /// Runs the renewer (every third of the lease) and the sweeper (every half lease) until the
    /// process ends.
    pub fn keep_leases(self: &Arc<Self>) {
        let renew_every = (self.lease / 3).max(Duration::from_millis(10));
        let sweep_every = (self.lease / 2).max(Duration::from_millis(10));
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(renew_every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = this.renew_leases().await {
                    tracing::warn!(error = %e, "could not renew execution leases");
                }
            }
        });
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(sweep_every);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick.tick().await; // start-up already swept
            loop {
                tick.tick().await;
                match this.sweep_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(count = n, "failed executions whose runtime was lost"),
                    Err(e) => tracing::warn!(error = %e, "could not sweep expired executions"),
                }
            }
        });
    }
}
