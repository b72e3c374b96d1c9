//! Wire types of outcomes (SPEC §16): what `POST /v1/outcomes/events` takes and answers, the
//! event list, a metric's trend and the dashboard. Shared by the runtime that stores and computes
//! them, the experience gateway that documents the endpoints, and the tests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Intent action of `POST /v1/outcomes/events`.
pub const RECORD_OUTCOME_ACTION: &str = "record_outcome";

/// What an outcome measures. Higher is better for `success_rate` and `quality_score`, lower for
/// `latency_ms` and `cost_usd` (a trend flips their sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    /// A success ratio (automatic outcomes: 1.0 for a completed execution, 0.0 otherwise).
    SuccessRate,
    /// A quality score.
    QualityScore,
    /// A latency, milliseconds.
    LatencyMs,
    /// A cost, US dollars.
    CostUsd,
}

impl MetricType {
    /// Every metric, in the order the dashboard lists their trends.
    pub const ALL: [Self; 4] = [
        Self::SuccessRate,
        Self::QualityScore,
        Self::LatencyMs,
        Self::CostUsd,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuccessRate => "success_rate",
            Self::QualityScore => "quality_score",
            Self::LatencyMs => "latency_ms",
            Self::CostUsd => "cost_usd",
        }
    }

    /// The metric of a stored or wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// Body of `POST /v1/outcomes/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// What the outcome is about (`support`, `agent:guide`): 1..=200 characters, not blank.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub domain: String,
    /// What happened (`ticket.resolved`): 1..=200 characters, not blank.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub event_type: String,
    /// What is measured.
    pub metric_type: MetricType,
    /// The measured value, a finite number.
    pub value: f64,
    /// When it happened (RFC 3339); default now.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
    /// Free-form JSON object, at most 16 KiB serialized.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Option<serde_json::Value>,
}

/// Where an outcome came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeSource {
    /// Posted to `POST /v1/outcomes/events`.
    Api,
    /// Recorded by the runtime when an execution finished.
    Execution,
}

/// One stored outcome event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeEvent {
    /// Id (`outc_…`).
    pub id: String,
    /// What it is about (`agent:<agent_id>` for an execution's outcomes).
    pub domain: String,
    /// What happened (`execution.completed` for an execution's outcomes).
    pub event_type: String,
    /// What is measured.
    pub metric_type: MetricType,
    /// The value.
    pub value: f64,
    /// When it happened (RFC 3339 UTC).
    pub occurred_at: String,
    /// Free-form JSON object (an execution's outcomes: `execution_id`, `status`).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Who posted it (an execution's outcomes: its user), if anyone.
    pub user_id: Option<String>,
    /// Posted, or recorded from an execution.
    pub source: OutcomeSource,
    /// When it was stored (RFC 3339 UTC).
    pub created_at: String,
}

/// A page of outcome events, newest `occurred_at` first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeList {
    /// Events.
    pub items: Vec<OutcomeEvent>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Which way a metric is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Better by more than 5 % of the older half's mean.
    Improving,
    /// Within 5 %, or fewer than 2 values.
    Stable,
    /// Worse by more than 5 %.
    Declining,
}

/// `GET /v1/outcomes/trends/{metric_type}`: the last `window` values of a metric and where
/// they are going (SPEC §16).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Trend {
    /// The metric.
    pub metric_type: MetricType,
    /// The domain asked for, or `all`.
    pub domain: String,
    /// How many of the latest values were asked for.
    pub window: u32,
    /// Improving, stable or declining.
    pub direction: Direction,
    /// How many values there were (at most `window`).
    pub sample_size: u32,
    /// The values, oldest → newest by `occurred_at`.
    pub values: Vec<f64>,
    /// Mean of the older half (`floor(n/2)` values); `null` when that half is empty.
    pub previous_avg: Option<f64>,
    /// Mean of the newer half (one longer when `n` is odd); `null` when there are no values.
    pub current_avg: Option<f64>,
}

/// How many events of each metric.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct MetricCounts {
    /// `success_rate` events.
    pub success_rate: i64,
    /// `quality_score` events.
    pub quality_score: i64,
    /// `latency_ms` events.
    pub latency_ms: i64,
    /// `cost_usd` events.
    pub cost_usd: i64,
}

/// The dashboard's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeSummary {
    /// Events (of the domain asked for, or all).
    pub total_events: i64,
    /// Their distinct domains, sorted.
    pub domains: Vec<String>,
    /// Their distinct event types, sorted.
    pub event_types: Vec<String>,
    /// Events per metric, every metric present.
    pub metric_counts: MetricCounts,
}

/// `GET /v1/outcomes/dashboard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeDashboard {
    /// One trend per metric: success_rate, quality_score, latency_ms, cost_usd.
    pub trends: Vec<Trend>,
    /// The latest events, newest first.
    pub recent_events: Vec<OutcomeEvent>,
    /// Totals.
    pub summary: OutcomeSummary,
}
