//! Wire types of multi-agent contexts (SPEC §12): contexts of agents that exchange governed
//! messages, their history, metrics and persisted state. Shared by the runtime that owns them,
//! the experience gateway that documents them, and the tests.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The runtime actions (signed intents) of multi-agent contexts.
pub mod actions {
    /// `POST /api/multi_agent/context`.
    pub const CREATE_CONTEXT: &str = "create_multi_agent_context";
    /// `PUT /api/multi_agent/context/{id}`.
    pub const UPDATE_CONTEXT: &str = "update_multi_agent_context";
    /// `DELETE /api/multi_agent/context/{id}`.
    pub const TERMINATE_CONTEXT: &str = "terminate_multi_agent_context";
    /// `POST /api/multi_agent/message`.
    pub const SEND_MESSAGE: &str = "send_multi_agent_message";
    /// `POST /api/multi_agent/context/{id}/persist`.
    pub const PERSIST_STATE: &str = "persist_multi_agent_state";
}

/// A context's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextPolicies {
    /// The compliance score a message needs to be approved, 0..=1 (default 0.7); also the trust
    /// aggregate a sender needs for the trust check.
    #[serde(default = "default_threshold")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub governance_threshold: f64,
    /// Recorded; consensus is not enforced by the runtime (docs/adr/0024).
    #[serde(default)]
    pub require_consensus: bool,
    /// Longest a recipient may take to answer (require_response), 1..=600 000 ms; one that takes
    /// longer is cancelled and reported `delivered: false, error: "timed_out"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 600_000)]
    pub max_response_time_ms: Option<i64>,
}

fn default_threshold() -> f64 {
    0.7
}

impl Default for ContextPolicies {
    fn default() -> Self {
        Self {
            governance_threshold: default_threshold(),
            require_consensus: false,
            max_response_time_ms: None,
        }
    }
}

/// Body of `POST /api/multi_agent/context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateContext {
    /// 1..=200 characters.
    pub name: String,
    /// The agents taking part: non-empty, unique, each a builtin agent (`guide`,
    /// `liaison.<pillar>`) or one of the tenant's active deployed wrappers (`wrp_…`).
    pub agent_ids: Vec<String>,
    /// `shared_context`, `sequential`, `parallel` or `hierarchical`.
    #[schema(pattern = "^(shared_context|sequential|parallel|hierarchical)$")]
    pub collaboration_model: String,
    /// The context's rules (defaults when absent).
    #[serde(default)]
    pub policies: Option<ContextPolicies>,
    /// Whether messages are governed (default true).
    #[serde(default)]
    pub governance_enabled: Option<bool>,
    /// Free-form JSON object.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Body of `PUT /api/multi_agent/context/{id}`: only the fields present change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UpdateContext {
    /// 1..=200 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Replaces the rules.
    #[serde(default)]
    pub policies: Option<ContextPolicies>,
    /// Replaces the metadata (a JSON object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// `active` or `paused` (terminating is `DELETE`).
    #[serde(default)]
    #[schema(pattern = "^(active|paused)$")]
    pub status: Option<String>,
}

/// A context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextRecord {
    /// `ctx_…`.
    pub context_id: String,
    /// Name.
    pub name: String,
    /// The agents taking part.
    pub agent_ids: Vec<String>,
    /// `shared_context`, `sequential`, `parallel` or `hierarchical`.
    pub collaboration_model: String,
    /// Rules.
    pub policies: ContextPolicies,
    /// Whether messages are governed.
    pub governance_enabled: bool,
    /// Free-form JSON object.
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// `active`, `paused` or `terminated`.
    pub status: String,
    /// The user who created it.
    pub created_by: String,
    /// The version of its persisted state (0 before the first persist).
    pub state_version: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// One page of contexts, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextList {
    /// The contexts.
    pub items: Vec<ContextRecord>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct MessageBody {
    /// The message type (`task`, `question`, ...), at most 100 characters.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The text, at most 8 000 characters.
    #[serde(default)]
    pub content: Option<String>,
    /// A task this message belongs to.
    #[serde(default)]
    pub task_id: Option<String>,
}

/// Body of `POST /api/multi_agent/message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SendMessage {
    /// The context (`ctx_…`).
    pub context_id: String,
    /// The sending agent: a member of the context.
    pub from_agent_id: String,
    /// The recipients: non-empty, unique members of the context.
    pub to_agent_ids: Vec<String>,
    /// What it says.
    pub message: MessageBody,
    /// Whether each recipient runs and answers (default false).
    #[serde(default)]
    pub require_response: bool,
    /// `low`, `normal` (default) or `high`.
    #[serde(default)]
    #[schema(pattern = "^(low|normal|high)$")]
    pub priority: Option<String>,
}

/// The checks of a message's compliance score; `null` when governance is disabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GovernanceChecks {
    /// The sender's trust aggregate ≥ the threshold (weight 0.4).
    pub trust: Option<bool>,
    /// The tenant's ACTIVE policies allow the content as a `multi_agent_message` (weight 0.3).
    pub content_policy: Option<bool>,
    /// The sender has a profile with an ACTIVE attestation (weight 0.2).
    pub governance_identity: Option<bool>,
    /// The message has a type or content (weight 0.1).
    pub protocol: Option<bool>,
}

/// How a message was governed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GovernanceData {
    /// Delivered (score ≥ threshold, or governance disabled).
    pub approved: bool,
    /// The compliance score, 0..=1; `null` when governance is disabled.
    pub compliance_score: Option<f64>,
    /// `high` (≥ 0.9), `standard` (≥ 0.7), `low` (≥ 0.5), `non_compliant`; `not_evaluated`
    /// when governance is disabled.
    pub compliance_level: String,
    /// The sender's trust aggregate when it was sent.
    pub trust_score: f64,
    /// The checks.
    pub checks: GovernanceChecks,
    /// Whether the context governs its messages.
    pub governance_enabled: bool,
    /// The content-policy decision (`dec_…`, in the audit chain); `null` when not evaluated.
    pub decision_id: Option<String>,
}

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryResult {
    /// The recipient agent.
    pub recipient_id: String,
    /// Whether it received the message (and, with require_response, answered).
    pub delivered: bool,
    /// Its stored answer (`msg_…`), with require_response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_message_id: Option<String>,
    /// Why not: `blocked`, `timed_out`, `failed`, `cancelled`, `awaiting_approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Answer of `POST /api/multi_agent/message` (`201`, blocked messages included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageSent {
    /// `msg_…`.
    pub message_id: String,
    /// RFC 3339.
    pub timestamp: String,
    /// One per recipient.
    pub delivery_results: Vec<DeliveryResult>,
    /// How it was governed.
    pub governance_data: GovernanceData,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoredMessage {
    /// `msg_…`.
    pub message_id: String,
    /// The context.
    pub context_id: String,
    /// Sender.
    pub from_agent_id: String,
    /// Recipients.
    pub to_agent_ids: Vec<String>,
    /// What it says.
    pub message: MessageBody,
    /// Whether recipients were asked to answer.
    pub require_response: bool,
    /// `low`, `normal` or `high`.
    pub priority: String,
    /// The message this one answers (an agent's answer).
    pub in_reply_to: Option<String>,
    /// RFC 3339.
    pub timestamp: String,
    /// How it was governed.
    pub governance_data: GovernanceData,
    /// One per recipient.
    pub delivery_results: Vec<DeliveryResult>,
}

/// `GET /api/multi_agent/context/{id}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextHistory {
    /// The context.
    pub context_id: String,
    /// The matching messages, oldest first (the newest `limit` of them).
    pub messages: Vec<StoredMessage>,
    /// All messages of the context.
    pub total_messages: i64,
    /// Messages matching the filters (before `limit`).
    pub filtered_count: i64,
    /// The context's collaboration model.
    pub collaboration_model: String,
}

/// One agent's figures in a context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextAgentMetrics {
    /// The agent.
    pub agent_id: String,
    /// Messages it sent (its answers included).
    pub messages_sent: i64,
    /// Messages delivered to it.
    pub messages_received: i64,
    /// messages_sent / total_messages (0 when there are none).
    pub participation_rate: f64,
    /// Mean ms between a message asking it to answer and its answer; `null` when it answered
    /// none.
    pub avg_response_ms: Option<f64>,
}

/// Governance figures of a context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GovernanceMetrics {
    /// Approved messages / all messages (0 when there are none).
    pub approval_rate: f64,
    /// Mean sender trust of the messages; `null` when there are none.
    pub average_trust_score: Option<f64>,
    /// Violations recorded for the context's messages.
    pub violations: i64,
}

/// `GET /api/multi_agent/context/{id}/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextMetrics {
    /// The context.
    pub context_id: String,
    /// All messages.
    pub total_messages: i64,
    /// Agents that sent a message in the last 5 minutes.
    pub active_agents: i64,
    /// Mean participation_rate of the context's agents (0 when there are no messages).
    pub average_participation: f64,
    /// One per agent of the context.
    pub agent_metrics: Vec<ContextAgentMetrics>,
    /// Governance figures.
    pub governance_metrics: GovernanceMetrics,
}

/// One agent of a context with its figures and trust.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextAgent {
    /// The agent.
    pub agent_id: String,
    /// Messages it sent (its answers included).
    pub messages_sent: i64,
    /// Messages delivered to it.
    pub messages_received: i64,
    /// messages_sent / total_messages (0 when there are none).
    pub participation_rate: f64,
    /// Mean ms from a message asking it to answer to its answer; `null` when it answered none.
    pub avg_response_ms: Option<f64>,
    /// Its trust aggregate in the tenant (SPEC §10).
    pub trust_score: f64,
    /// How sure that trust is, 0..=1.
    pub trust_confidence: f64,
}

/// `GET /api/multi_agent/context/{id}/agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextAgents {
    /// The context.
    pub context_id: String,
    /// Its agents, in the context's order.
    pub agents: Vec<ContextAgent>,
}

/// Body of `POST /api/multi_agent/context/{id}/persist`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PersistState {
    /// A JSON object, at most 64 KiB serialized.
    #[schema(value_type = Object)]
    pub data: Value,
    /// true (default): shallow merge into the stored object; false: replace it.
    #[serde(default = "yes")]
    pub merge: bool,
}

fn yes() -> bool {
    true
}

/// A context's persisted state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContextState {
    /// The context.
    pub context_id: String,
    /// Grows by one with every persist (0 before the first).
    pub version: i64,
    /// The stored JSON object.
    #[schema(value_type = Object)]
    pub persistent_data: Value,
    /// RFC 3339.
    pub updated_at: String,
}
