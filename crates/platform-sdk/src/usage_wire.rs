//! Wire types of usage analytics (SPEC §11): what `POST /api/agents/{id}/track` takes and answers,
//! and the metrics, activity and performance reads. Shared by the runtime that computes them, the
//! experience gateway that documents them, and the tests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `POST /api/agents/{id}/track`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrackRequest {
    /// `invocation`, `feedback`, `error` or `custom`.
    pub event_type: String,
    /// `success` or `failure`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// How long the invocation took, 0..=86 400 000 ms.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 86_400_000)]
    pub latency_ms: Option<i64>,
    /// 1..=5, only on `feedback`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// Free-form JSON object, at most 16 KiB serialized.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub details: Option<serde_json::Value>,
}

/// Answer of `POST /api/agents/{id}/track` (`202`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrackAccepted {
    /// The stored event (`trk_…`).
    pub event_id: String,
}

/// Latency percentiles of an agent's executions, ms; `null` when none was measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LatencyPercentiles {
    /// Time to first streamed token, median.
    pub ttft_p50: Option<i64>,
    /// Time to first streamed token, 95th percentile.
    pub ttft_p95: Option<i64>,
    /// Whole execution (created → ended), median.
    pub total_p50: Option<i64>,
    /// Whole execution, 95th percentile.
    pub total_p95: Option<i64>,
}

/// Tracked feedback in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedbackSummary {
    /// Feedback events.
    pub count: i64,
    /// Mean rating of the rated ones; `null` when none was rated.
    pub avg_rating: Option<f64>,
}

/// `GET /api/agents/{id}/metrics`: one agent's use by the caller's tenant in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentMetrics {
    /// The agent.
    pub agent_id: String,
    /// `1h`, `24h`, `7d` or `30d`.
    pub window: String,
    /// Executions that ended, plus tracked `invocation` events.
    pub invocations: i64,
    /// Executions completed.
    pub completed: i64,
    /// Executions failed (including by a lost runtime).
    pub failed: i64,
    /// Executions cancelled (by the user or a rejected approval).
    pub cancelled: i64,
    /// `completed / (completed + failed + cancelled)`; `null` when none ended.
    pub success_rate: Option<f64>,
    /// Latency percentiles of the executions.
    pub latency_ms: LatencyPercentiles,
    /// Distinct users whose executions ended in the window.
    pub unique_users: i64,
    /// Distinct conversations of those executions.
    pub conversations: i64,
    /// Tracked feedback.
    pub feedback: FeedbackSummary,
}

/// What an activity item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// An execution of the agent.
    Execution,
    /// A tracked event.
    Tracked,
    /// A deployment status change of a wrapper.
    Deployment,
    /// A policy violation (SPEC §10).
    Violation,
    /// An attestation (SPEC §10).
    Attestation,
}

impl ActivityKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Execution => "execution",
            Self::Tracked => "tracked",
            Self::Deployment => "deployment",
            Self::Violation => "violation",
            Self::Attestation => "attestation",
        }
    }
}

/// One item of an agent's activity feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActivityItem {
    /// When it happened, RFC 3339 UTC.
    pub at: String,
    /// What it is.
    pub kind: ActivityKind,
    /// One readable line.
    pub summary: String,
    /// The execution, for `execution` items.
    pub execution_id: Option<String>,
    /// Who did it, when known.
    pub user_id: Option<String>,
}

/// A page of an agent's activity, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActivityList {
    /// Items.
    pub items: Vec<ActivityItem>,
    /// Cursor of the next page, if any.
    pub next_cursor: Option<String>,
}

/// One time bucket of `GET /api/agents/{id}/performance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PerformanceBucket {
    /// Start of the UTC hour or day, RFC 3339.
    pub start: String,
    /// As in the metrics: executions that ended plus tracked invocations.
    pub invocations: i64,
    /// As in the metrics; `null` when no execution ended.
    pub success_rate: Option<f64>,
    /// Median execution latency, ms.
    pub total_p50_ms: Option<i64>,
    /// 95th percentile execution latency, ms.
    pub total_p95_ms: Option<i64>,
    /// Failed executions plus tracked failures (`error` events, failed `invocation`s).
    pub errors: i64,
}

/// `GET /api/agents/{id}/performance`: a window in hour or day buckets, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentPerformance {
    /// The agent.
    pub agent_id: String,
    /// `1h`, `24h`, `7d` or `30d`.
    pub window: String,
    /// `hour` or `day`.
    pub bucket: String,
    /// Every bucket of the window, empty ones included.
    pub buckets: Vec<PerformanceBucket>,
}

/// The intent action of `POST /api/agents/{id}/track`.
pub const TRACK_ACTION: &str = "track_agent_usage";
