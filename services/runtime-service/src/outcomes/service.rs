//! Outcome rules: recording a posted outcome, the outcomes of a finished execution, and the
//! reads (list, a metric's trend, the dashboard). Plain values in, plain values out.

use std::collections::BTreeSet;

use platform_sdk::agent_wire::ExecutionStatus;
use platform_sdk::outcome_wire::{
    MetricCounts, MetricType, OutcomeDashboard, OutcomeEvent, OutcomeList, OutcomeSource,
    OutcomeSummary, Trend,
};
use platform_sdk::page::{Cursor, PageRequest};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::Contract;
use sqlx::AnyPool;

use super::input::{self, Filter};
use super::storage::{self as store, Count, NewOutcome};
use super::trend;
use crate::error::RuntimeError;

/// Outcomes over SQL.
#[derive(Clone)]
pub struct Outcomes {
    pool: AnyPool,
}

/// What a finished execution leaves as outcomes.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    /// Its id.
    pub execution_id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Agent.
    pub agent_id: &'a str,
    /// Its user, if any.
    pub user_id: Option<&'a str>,
    /// `completed`, `failed` or `cancelled`.
    pub status: ExecutionStatus,
    /// Created, epoch ms.
    pub created_at: i64,
    /// Ended, epoch ms.
    pub ended_at: i64,
}

/// The two outcomes of a finished execution (SPEC §16): `success_rate` (1.0 when it completed,
/// 0.0 when it failed or was cancelled) and `latency_ms` (created → ended), under domain
/// `agent:<agent_id>` and event type `execution.<status>`, at the instant it ended.
pub fn of_execution(f: &Finished<'_>) -> [NewOutcome; 2] {
    let metadata = serde_json::json!({
        "execution_id": f.execution_id,
        "status": f.status.as_str(),
    })
    .to_string();
    let outcome = |metric_type, value| NewOutcome {
        id: store::new_id(),
        tenant_id: f.tenant_id.to_owned(),
        domain: format!("agent:{}", f.agent_id),
        event_type: format!("execution.{}", f.status.as_str()),
        metric_type,
        value,
        occurred_at: f.ended_at,
        metadata: metadata.clone(),
        user_id: f.user_id.map(str::to_owned),
        source: OutcomeSource::Execution,
        created_at: f.ended_at,
    };
    let success = f64::from(u8::from(f.status == ExecutionStatus::Completed));
    let latency = (f.ended_at - f.created_at).max(0) as f64;
    [
        outcome(MetricType::SuccessRate, success),
        outcome(MetricType::LatencyMs, latency),
    ]
}

/// Counter rows folded into the dashboard's summary.
fn summary(counts: &[Count]) -> OutcomeSummary {
    let mut metric_counts = MetricCounts::default();
    let (mut domains, mut event_types) = (BTreeSet::new(), BTreeSet::new());
    let mut total_events = 0;
    for c in counts.iter().filter(|c| c.events > 0) {
        total_events += c.events;
        domains.insert(c.domain.clone());
        event_types.insert(c.event_type.clone());
        *match c.metric_type {
            MetricType::SuccessRate => &mut metric_counts.success_rate,
            MetricType::QualityScore => &mut metric_counts.quality_score,
            MetricType::LatencyMs => &mut metric_counts.latency_ms,
            MetricType::CostUsd => &mut metric_counts.cost_usd,
        } += c.events;
    }
    OutcomeSummary {
        total_events,
        domains: domains.into_iter().collect(),
        event_types: event_types.into_iter().collect(),
        metric_counts,
    }
}

/// A trend from a metric's latest values, newest first (as read).
fn trend_of(metric: MetricType, domain: Option<&str>, window: u32, mut values: Vec<f64>) -> Trend {
    values.reverse();
    let reading = trend::read(metric, &values);
    Trend {
        metric_type: metric,
        domain: domain.unwrap_or("all").to_owned(),
        window,
        direction: reading.direction,
        sample_size: values.len() as u32,
        values,
        previous_avg: reading.previous_avg,
        current_avg: reading.current_avg,
    }
}

impl Outcomes {
    /// The service over a pool.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Stores an outcome posted by the contract's user.
    pub async fn record(&self, contract: &Contract) -> Result<OutcomeEvent, RuntimeError> {
        let posted = input::parse(&contract.payload)?;
        let now = now_ms();
        let new = NewOutcome {
            id: store::new_id(),
            tenant_id: contract.tenant_id.clone(),
            domain: posted.domain,
            event_type: posted.event_type,
            metric_type: posted.metric_type,
            value: posted.value,
            occurred_at: posted.occurred_at.unwrap_or(now),
            metadata: posted.metadata,
            user_id: contract.user_id.clone(),
            source: OutcomeSource::Api,
            created_at: now,
        };
        store::insert(&self.pool, &new).await?;
        Ok(OutcomeEvent {
            id: new.id,
            domain: new.domain,
            event_type: new.event_type,
            metric_type: new.metric_type,
            value: new.value,
            occurred_at: platform_sdk::time_util::rfc3339_ms(new.occurred_at),
            metadata: serde_json::from_str(&new.metadata)
                .map_err(|e| RuntimeError::Internal(e.into()))?,
            user_id: new.user_id,
            source: new.source,
            created_at: platform_sdk::time_util::rfc3339_ms(now),
        })
    }

    /// One page of the tenant's events, newest first.
    pub async fn list(
        &self,
        tenant_id: &str,
        filter: &Filter<'_>,
        page: &PageRequest,
    ) -> Result<OutcomeList, RuntimeError> {
        let mut rows = store::list(
            &self.pool,
            tenant_id,
            filter,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |r| Cursor {
            key: r.occurred_at,
            id: r.event.id.clone(),
        });
        Ok(OutcomeList {
            items: rows.into_iter().map(|r| r.event).collect(),
            next_cursor,
        })
    }

    /// A metric's trend over its latest `window` values (of one domain, or all).
    pub async fn trend(
        &self,
        tenant_id: &str,
        metric: MetricType,
        domain: Option<&str>,
        window: u32,
    ) -> Result<Trend, RuntimeError> {
        let mut latest =
            store::latest_values(&self.pool, tenant_id, domain, &[metric], window).await?;
        let values = latest.pop().map(|(_, v)| v).unwrap_or_default();
        Ok(trend_of(metric, domain, window, values))
    }

    /// Every metric's trend, the latest events and the totals (of one domain, or all).
    pub async fn dashboard(
        &self,
        tenant_id: &str,
        domain: Option<&str>,
        window: u32,
        recent_limit: u32,
    ) -> Result<OutcomeDashboard, RuntimeError> {
        let latest =
            store::latest_values(&self.pool, tenant_id, domain, &MetricType::ALL, window).await?;
        let trends = latest
            .into_iter()
            .map(|(metric, values)| trend_of(metric, domain, window, values))
            .collect();
        let recent_events = match recent_limit {
            0 => Vec::new(),
            n => {
                let filter = Filter {
                    domain,
                    ..Filter::default()
                };
                store::list(&self.pool, tenant_id, &filter, None, i64::from(n))
                    .await?
                    .into_iter()
                    .map(|r| r.event)
                    .collect()
            }
        };
        let counts = store::counts(&self.pool, tenant_id, domain).await?;
        Ok(OutcomeDashboard {
            trends,
            recent_events,
            summary: summary(&counts),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_leaves_its_success_and_latency() {
        let f = Finished {
            execution_id: "e1",
            tenant_id: "t",
            agent_id: "guide",
            user_id: Some("u"),
            status: ExecutionStatus::Failed,
            created_at: 1_000,
            ended_at: 1_250,
        };
        let [success, latency] = of_execution(&f);
        assert_eq!(
            (success.metric_type, success.value),
            (MetricType::SuccessRate, 0.0)
        );
        assert_eq!(
            (latency.metric_type, latency.value),
            (MetricType::LatencyMs, 250.0)
        );
        assert_eq!(
            (success.domain.as_str(), success.event_type.as_str()),
            ("agent:guide", "execution.failed")
        );
        assert_eq!(latency.occurred_at, 1_250);
        assert!(success.id.starts_with("outc_") && success.id != latency.id);
        let done = Finished {
            status: ExecutionStatus::Completed,
            ..f
        };
        assert_eq!(of_execution(&done)[0].value, 1.0);
    }

    #[test]
    fn the_summary_has_every_metric_and_sorted_names() {
        let count = |d: &str, e: &str, m, n| Count {
            domain: d.into(),
            event_type: e.into(),
            metric_type: m,
            events: n,
        };
        let s = summary(&[
            count("b", "x", MetricType::CostUsd, 3),
            count("a", "y", MetricType::CostUsd, 2),
            count("a", "x", MetricType::LatencyMs, 1),
        ]);
        assert_eq!(s.total_events, 6);
        assert_eq!(s.domains, ["a", "b"]);
        assert_eq!(s.event_types, ["x", "y"]);
        assert_eq!(
            s.metric_counts,
            MetricCounts {
                success_rate: 0,
                quality_score: 0,
                latency_ms: 1,
                cost_usd: 5
            }
        );
    }
}
