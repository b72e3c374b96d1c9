//! Wire types of trust, compliance and the governance loop (SPEC §10): what
//! `GET /api/governance/trust/{agent_id}`, `GET /api/governance/compliance/{agent_id}` answer, and
//! what `POST /loop/execute` takes and answers. Shared by the runtime that computes them, the
//! experience gateway that documents them, and the tests. Policies, decisions and the audit chain
//! are in [`crate::governance_wire`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::ErrorDetails;

/// Intent action of `POST /loop/execute`.
pub const LOOP_ACTION: &str = "execute_governance_loop";

/// The four dimensions of an agent's trust, each an exponentially weighted mean in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrustDimensions {
    /// Does it do the job: completed executions, feedback ratings.
    pub competence: f64,
    /// Does it finish, in time: failures, system cancellations, latency above the SLO.
    pub reliability: f64,
    /// Does it keep to the policies: violations by severity.
    pub honesty: f64,
    /// Does it explain itself: answers that give a rationale or a confidence.
    pub transparency: f64,
}

/// One point of an agent's trust history (one per piece of evidence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrustPoint {
    /// When the evidence arrived, RFC 3339.
    pub at: String,
    /// The aggregate after it.
    pub aggregate: f64,
}

/// `GET /api/governance/trust/{agent_id}`: an agent's trust in the caller's tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentTrust {
    /// The agent.
    pub agent_id: String,
    /// Each dimension (0.5 before any evidence of it).
    pub dimensions: TrustDimensions,
    /// Mean of the four dimensions.
    pub aggregate: f64,
    /// `min(1, evidence_count / 20)`.
    pub confidence: f64,
    /// Pieces of evidence received.
    pub evidence_count: i64,
    /// When these figures were last changed (now, for an agent without evidence), RFC 3339.
    pub calculated_at: String,
    /// The aggregate after each of the last 50 pieces of evidence, oldest first.
    pub history: Vec<TrustPoint>,
}

/// Decisions made about an agent in a window, by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct DecisionCounts {
    /// `allow`.
    pub allow: i64,
    /// `deny`.
    pub deny: i64,
    /// `modify`.
    pub modify: i64,
    /// `log`.
    pub log: i64,
    /// `require_approval`.
    pub require_approval: i64,
}

/// Violations of an agent in a window, by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct ViolationCounts {
    /// Of STRICT policies.
    pub high: i64,
    /// Of MODERATE policies.
    pub medium: i64,
    /// Of ADVISORY policies.
    pub low: i64,
}

/// `GET /api/governance/compliance/{agent_id}`: the decisions and violations of an agent in the
/// caller's tenant over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentCompliance {
    /// The agent.
    pub agent_id: String,
    /// `1h`, `24h`, `7d` or `30d`.
    pub window: String,
    /// Decisions made (the sum of `decisions`).
    pub evaluated: i64,
    /// By outcome.
    pub decisions: DecisionCounts,
    /// `allow / evaluated`; `null` when nothing was evaluated.
    pub compliance_rate: Option<f64>,
    /// By severity.
    pub violations: ViolationCounts,
}

/// `plan_input.plan_details`: any fields of the plan, two of which the loop reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct PlanDetails {
    /// Added to the trust the plan is judged with, -1..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1.0, maximum = 1.0)]
    pub trust_factor: Option<f64>,
    /// Rejects the plan whatever the trust (an operator's `FORCE_ACCEPT_PLAN` still accepts it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_this_plan: Option<bool>,
    /// Anything else about the plan (recorded in the justification; at most 16 KiB in all).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// `plan_input`: the plan to decide on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// The plan's id, 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub plan_id: String,
    /// The plan.
    pub plan_details: PlanDetails,
    /// The agent that would carry it out; its trust aggregate is the starting trust (else 0.75).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    pub agent_id: Option<String>,
}

/// `operator_override_signal`: an operator stepping in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorOverride {
    /// The signal's id, 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub override_signal_id: String,
    /// `HALT_IMMEDIATE`, `FORCE_ACCEPT_PLAN` or `MODIFY_TRUST_SCORE`.
    #[schema(pattern = "^(HALT_IMMEDIATE|FORCE_ACCEPT_PLAN|MODIFY_TRUST_SCORE)$")]
    pub override_type: String,
    /// Why, 1..=2 000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// Who, 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub issuing_operator_id: String,
    /// Added to the trust before the plan is judged, -1..=1: required with `MODIFY_TRUST_SCORE`,
    /// refused with the other types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1.0, maximum = 1.0)]
    pub trust_score_adjustment: Option<f64>,
}

/// Body of `POST /loop/execute`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoopRequest {
    /// The caller's id of this request (a UUID), echoed in the answer.
    #[schema(format = Uuid)]
    pub request_id: String,
    /// The plan.
    pub plan_input: PlanInput,
    /// An operator's override, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_override_signal: Option<OperatorOverride>,
}

/// What the governance core decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CoreOutput {
    /// `ACCEPTED`, `REJECTED` or `ACCEPTED_WITH_OVERRIDE`.
    pub status: String,
    /// Why, one sentence.
    pub reason: String,
    /// The trust the plan was judged with, in [0, 1].
    pub trust_score: f64,
    /// The plan.
    pub plan_id: String,
}

/// The decision's entry in the tenant's audit chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JustificationLog {
    /// `jst_…`.
    pub entry_id: String,
    /// The decided status (as `governance_core_output.status`).
    pub decision_outcome: String,
    /// The trust the plan was judged with.
    pub trust_score_at_decision: f64,
    /// True when the outcome is the operator's, not the plan's: a rejection turned into
    /// `ACCEPTED_WITH_OVERRIDE`, or `HALT_IMMEDIATE`.
    pub override_required: bool,
    /// `sha256:…` over the previous hash and the canonical entry.
    pub entry_sha256_hash: String,
    /// The previous entry's hash (`sha256:000…` for the tenant's first).
    pub previous_entry_hash: String,
}

/// Answer of `POST /loop/execute` (`200`, whether the plan was accepted or not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoopResponse {
    /// The request's `request_id`.
    pub request_id: String,
    /// `SUCCESS` (accepted, with or without override) or `REJECTED`.
    pub execution_status: String,
    /// The decision.
    pub governance_core_output: CoreOutput,
    /// Its audit entry.
    pub justification_log: JustificationLog,
    /// Always `null` here; a request that breaks the schema is a `400` whose error body carries
    /// `error_details`.
    pub error_details: Option<ErrorDetails>,
}
