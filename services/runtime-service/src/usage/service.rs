//! Usage rules: which agent a caller may ask about (any agent id its tenant can name, else 404),
//! tracking an event, and reading metrics, performance and activity from the counters and the
//! feed sources. Plain values in, plain values out.

use platform_sdk::page::PageRequest;
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::traffic_cop::Contract;
use platform_sdk::usage_wire::{
    ActivityList, AgentMetrics, AgentPerformance, FeedbackSummary, LatencyPercentiles,
    PerformanceBucket, TrackAccepted,
};
use sqlx::AnyPool;

use super::counts::Counts;
use super::feed;
use super::storage::{self as store, activity};
use super::window::{Bucket, Window};
use crate::error::RuntimeError;
use platform_sdk::usage_wire::ActivityKind;

/// Usage analytics over SQL.
#[derive(Clone)]
pub struct Usage {
    pool: AnyPool,
}

impl Usage {
    /// The service over a pool.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    async fn known(&self, tenant_id: &str, agent_id: &str) -> Result<(), RuntimeError> {
        match crate::agents::known::is_known(&self.pool, tenant_id, agent_id).await? {
            true => Ok(()),
            false => Err(RuntimeError::NotFound("agent")),
        }
    }

    /// Stores a tracked event for an agent of the contract's tenant.
    pub async fn track(
        &self,
        contract: &Contract,
        agent_id: &str,
    ) -> Result<TrackAccepted, RuntimeError> {
        self.known(&contract.tenant_id, agent_id).await?;
        let event = super::track::parse(&contract.payload)?;
        let id = format!("trk_{}", uuid::Uuid::new_v4().simple());
        let new = store::NewTracked {
            id: &id,
            tenant_id: &contract.tenant_id,
            agent_id,
            user_id: contract.user_id.as_deref(),
            event: &event,
            now: now_ms(),
        };
        store::insert_tracked(&self.pool, &new).await?;
        Ok(TrackAccepted { event_id: id })
    }

    /// An agent's metrics over a window ending now.
    pub async fn metrics(
        &self,
        tenant_id: &str,
        agent_id: &str,
        window: Window,
    ) -> Result<AgentMetrics, RuntimeError> {
        self.known(tenant_id, agent_id).await?;
        let hours = window.hours_until(now_ms());
        let totals = store::window_totals(&self.pool, tenant_id, agent_id, hours).await?;
        let c = &totals.counts;
        Ok(AgentMetrics {
            agent_id: agent_id.to_owned(),
            window: window.as_str().to_owned(),
            invocations: c.invocations(),
            completed: c.completed,
            failed: c.failed,
            cancelled: c.cancelled,
            success_rate: c.success_rate(),
            latency_ms: LatencyPercentiles {
                ttft_p50: c.ttft.percentile(0.5),
                ttft_p95: c.ttft.percentile(0.95),
                total_p50: c.total.percentile(0.5),
                total_p95: c.total.percentile(0.95),
            },
            unique_users: totals.unique_users,
            conversations: totals.conversations,
            feedback: FeedbackSummary {
                count: c.feedback_count,
                avg_rating: c.avg_rating(),
            },
        })
    }

    /// An agent's window in hour or day buckets, oldest first, empty buckets included.
    pub async fn performance(
        &self,
        tenant_id: &str,
        agent_id: &str,
        window: Window,
        bucket: Bucket,
    ) -> Result<AgentPerformance, RuntimeError> {
        self.known(tenant_id, agent_id).await?;
        let now = now_ms();
        let hours = window.hours_until(now);
        let mut buckets: Vec<(i64, Counts)> = bucket
            .starts(hours.first, now)
            .into_iter()
            .map(|start| (start, Counts::default()))
            .collect();
        let sums =
            store::per_bucket(&self.pool, tenant_id, agent_id, hours, bucket.millis()).await?;
        for (start, counts) in sums {
            if let Ok(i) = buckets.binary_search_by_key(&start, |(s, _)| *s) {
                buckets[i].1 = counts;
            }
        }
        Ok(AgentPerformance {
            agent_id: agent_id.to_owned(),
            window: window.as_str().to_owned(),
            bucket: bucket.as_str().to_owned(),
            buckets: buckets
                .into_iter()
                .map(|(start, c)| PerformanceBucket {
                    start: rfc3339_ms(start),
                    invocations: c.invocations(),
                    success_rate: c.success_rate(),
                    total_p50_ms: c.total.percentile(0.5),
                    total_p95_ms: c.total.percentile(0.95),
                    errors: c.errors(),
                })
                .collect(),
        })
    }

    /// One page of an agent's activity, newest first: its executions, tracked events and
    /// deployment changes. Violations and attestations (SPEC §10) are added here as sources
    /// once they are stored.
    pub async fn activity(
        &self,
        tenant_id: &str,
        agent_id: &str,
        page: &PageRequest,
    ) -> Result<ActivityList, RuntimeError> {
        self.known(tenant_id, agent_id).await?;
        let (pool, after, fetch) = (&self.pool, page.after.as_ref(), page.fetch());
        let at = |kind| feed::before(kind, after);
        let mut entries = Vec::new();
        let executions = at(ActivityKind::Execution);
        entries.extend(activity::executions(pool, tenant_id, agent_id, &executions, fetch).await?);
        let tracked = at(ActivityKind::Tracked);
        entries.extend(activity::tracked(pool, tenant_id, agent_id, &tracked, fetch).await?);
        let deployments = at(ActivityKind::Deployment);
        entries
            .extend(activity::deployments(pool, tenant_id, agent_id, &deployments, fetch).await?);
        let mut entries = feed::merge(entries);
        let next_cursor = page.finish(&mut entries, feed::cursor);
        Ok(ActivityList {
            items: entries.into_iter().map(|e| e.item).collect(),
            next_cursor,
        })
    }
}
