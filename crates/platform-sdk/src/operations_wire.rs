//! The operations hub on the wire (SPEC §14): one view over the platform's own long-running work
//! (executions, multimodal requests, deployments, multi-agent contexts) and the controls an
//! operator has over it. The runtime answers these; the experience gateway forwards them and
//! documents these schemas.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The action of `POST /v1/operations/processes/{id}/control` (a signed intent).
pub const CONTROL_ACTION: &str = "operations.processes.control";

/// Longest `reason` of a control, characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The kinds of process the hub shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessType {
    /// An agent execution (SPEC §4).
    Execution,
    /// A multimodal request (SPEC §15).
    MultimodalRequest,
    /// A wrapper's deployment (SPEC §8).
    Deployment,
    /// A multi-agent context (SPEC §12).
    MultiAgentContext,
}

impl ProcessType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Execution => "execution",
            Self::MultimodalRequest => "multimodal_request",
            Self::Deployment => "deployment",
            Self::MultiAgentContext => "multi_agent_context",
        }
    }
}

/// One process, as the hub lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Process {
    /// Its id (an execution's bare UUID, `wrp_…`, `mmreq_…`, `ctx_…`).
    pub id: String,
    /// What kind of process it is.
    #[serde(rename = "type")]
    pub process_type: ProcessType,
    /// Its state, in its own state machine's words.
    pub status: String,
    /// When it started, RFC 3339 UTC with `Z`.
    pub started_at: String,
    /// A human name (the agent, the wrapper, the context, the modality).
    pub name: String,
    /// What else identifies it (agent, conversation, version, ...).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// `GET /v1/operations/hub`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Hub {
    /// When the hub was read, RFC 3339 UTC with `Z`.
    pub timestamp: String,
    /// How many live processes of the included types started since `since` (whatever `status`
    /// and `limit` say).
    pub active_count: i64,
    /// The processes that match, newest first, at most `limit`.
    pub processes: Vec<Process>,
}

/// What an operator can do to a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlAction {
    /// Stop it for now.
    Pause,
    /// Let a paused one go on.
    Resume,
    /// End it.
    Cancel,
}

impl ControlAction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
        }
    }
}

/// The body of a control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlRequest {
    /// `pause`, `resume` or `cancel`.
    pub action: ControlAction,
    /// Why; kept in the process's audit trail (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// One control of a process, as its audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ControlRecord {
    /// The action.
    pub action: ControlAction,
    /// The operator's reason, if given.
    pub reason: Option<String>,
    /// Who (the user of the signed intent).
    pub actor_user_id: Option<String>,
    /// The state before.
    pub from_status: String,
    /// The state after.
    pub to_status: String,
    /// When, RFC 3339 UTC with `Z`.
    pub at: String,
}

/// `GET /v1/operations/processes/{id}` and the answer of a control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProcessDetail {
    /// The process as the hub lists it.
    pub summary: Process,
    /// What only its own kind has: an execution's steps and last events, a deployment's health.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Its controls, newest first.
    pub controls: Vec<ControlRecord>,
}
