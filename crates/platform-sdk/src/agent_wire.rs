//! Wire types of agent executions and their event stream (SPEC §4), shared by the runtime that
//! produces them, the experience gateway that forwards them, and the tests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Event types (upper-case on the wire).
pub mod event_types {
    /// First frame on a socket.
    pub const CONNECTION_ESTABLISHED: &str = "CONNECTION_ESTABLISHED";
    /// An execution began.
    pub const EXECUTION_STARTED: &str = "EXECUTION_STARTED";
    /// An agent step began.
    pub const STEP_STARTED: &str = "STEP_STARTED";
    /// A chunk of the answer as it is produced.
    pub const AGENT_RESPONSE_DELTA: &str = "AGENT_RESPONSE_DELTA";
    /// The whole answer.
    pub const AGENT_RESPONSE: &str = "AGENT_RESPONSE";
    /// An agent step finished.
    pub const STEP_COMPLETED: &str = "STEP_COMPLETED";
    /// A step waits for a human review.
    pub const SAFETY_REVIEW_PENDING: &str = "SAFETY_REVIEW_PENDING";
    /// A step waits for a human approval.
    pub const SAFETY_APPROVAL_PENDING: &str = "SAFETY_APPROVAL_PENDING";
    /// A safety hook stopped the execution.
    pub const SAFETY_HALTED: &str = "SAFETY_HALTED";
    /// A governance decision other than `allow` (SPEC §10).
    pub const POLICY_DECISION: &str = "POLICY_DECISION";
    /// Finished successfully.
    pub const EXECUTION_COMPLETED: &str = "EXECUTION_COMPLETED";
    /// Finished with an error.
    pub const EXECUTION_FAILED: &str = "EXECUTION_FAILED";
    /// Cancelled.
    pub const EXECUTION_CANCELLED: &str = "EXECUTION_CANCELLED";
    /// The client's resume cursor is older than the retained log.
    pub const EVENTS_LOST: &str = "EVENTS_LOST";
    /// An operator paused the execution (SPEC §14): nothing more is emitted until it resumes.
    pub const EXECUTION_PAUSED: &str = "EXECUTION_PAUSED";
    /// A paused execution runs again, in the state it was paused in.
    pub const EXECUTION_RESUMED: &str = "EXECUTION_RESUMED";
}

/// One event of a session's durable log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionEvent {
    /// Monotonic per session.
    pub event_id: i64,
    /// Upper-case type.
    pub event_type: String,
    /// The execution it belongs to, if any.
    pub execution_id: Option<String>,
    /// Payload.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// RFC 3339 UTC with `Z`.
    pub timestamp: String,
}

/// Execution states (SPEC §4). Transitions are explicit; see the runtime's state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    /// Accepted, not started.
    Created,
    /// Running.
    Executing,
    /// Paused on a safety hook.
    AwaitingApproval,
    /// Finished successfully.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled by the user or a rejected hook.
    Cancelled,
    /// Paused by an operator (SPEC §14); resumes into the state it was paused in.
    Paused,
}

impl ExecutionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Executing => "executing",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Paused => "paused",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "created" => Self::Created,
            "executing" => Self::Executing,
            "awaiting_approval" => Self::AwaitingApproval,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "paused" => Self::Paused,
            _ => return None,
        })
    }

    /// True for `completed`, `failed` and `cancelled`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The transition map: `created → executing ⇄ awaiting_approval → completed | failed |
    /// cancelled` (and a created execution may fail or be cancelled before it starts);
    /// `executing | awaiting_approval → paused → (resume) the state it was paused in`, and a
    /// paused one may be cancelled (or fail, when its runtime is lost).
    pub fn can_become(self, next: Self) -> bool {
        use ExecutionStatus::*;
        matches!(
            (self, next),
            (Created, Executing | Failed | Cancelled)
                | (
                    Executing,
                    AwaitingApproval | Completed | Failed | Cancelled | Paused
                )
                | (AwaitingApproval, Executing | Failed | Cancelled | Paused)
                | (Paused, Executing | AwaitingApproval | Failed | Cancelled)
        )
    }
}

/// Payload of a `submit_intent` contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubmitIntentPayload {
    /// What the user said.
    pub text: String,
    /// The agent type as the client named it (`guide`, `liaison`, `specialist`, ...; empty when
    /// it named none: the conversation's agent, or one chosen from `pillar` / `surface`). The
    /// runtime's agent catalog validates it.
    pub agent_type: String,
    /// Pillar for a liaison, as the client named it (the runtime's agent catalog resolves
    /// aliases and refuses unknown ones).
    #[serde(default)]
    pub pillar: Option<String>,
    /// The client's surface (original backend format): names a liaison when it is a pillar and
    /// neither `agent_type` nor `pillar` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface: Option<String>,
    /// Conversation to continue (a new one is created when absent or unknown).
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Client-side id of the message, echoed in events.
    #[serde(default)]
    pub client_message_id: Option<String>,
    /// A deployed agent (`wrp_…`, SPEC §8) for `agent_type` `specialist`: the client's
    /// `metadata.agent_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// A stored execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionRecord {
    /// Execution id.
    pub execution_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Session.
    pub session_id: String,
    /// Conversation.
    pub conversation_id: String,
    /// Agent id (`guide`, `liaison.content`, ...).
    pub agent_id: String,
    /// Agent type.
    pub agent_type: String,
    /// Pillar, if any.
    pub pillar: Option<String>,
    /// State.
    pub status: ExecutionStatus,
    /// Readable error when failed; why, when cancelled (`cancelled by the user`, or the reason
    /// an approval was rejected).
    pub error: Option<String>,
    /// Creation, epoch ms.
    pub created_at: i64,
    /// Last change, epoch ms.
    pub updated_at: i64,
}

/// Events of an execution.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    /// Events after the cursor, in order.
    pub events: Vec<SessionEvent>,
}

/// Payload of an `answer_safety` intent (`POST /api/session/{id}/safety`): the runtime finds the
/// pending hook by its id within the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SafetyAnswer {
    /// The hook being answered.
    pub hook_id: String,
    /// Approve or reject.
    pub approved: bool,
    /// Why it was rejected.
    #[serde(default)]
    pub rejection_reason: Option<String>,
}

/// A conversation as listed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationRecord {
    /// Conversation id.
    pub conversation_id: String,
    /// The agent it sticks to.
    pub agent_id: String,
    /// Title (start of the first message).
    pub title: String,
    /// Session it began in.
    pub session_id: String,
    /// Creation, RFC 3339.
    pub created_at: String,
    /// Last activity, RFC 3339.
    pub updated_at: String,
}

/// A stored message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageRecord {
    /// Message id.
    pub message_id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
    /// Answering agent (assistant messages).
    pub agent_id: Option<String>,
    /// Execution that produced or consumed it.
    pub execution_id: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// `GET /api/conversations`: one page (SPEC §7 list convention, see [`crate::page`]).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    /// Most recently active first.
    pub items: Vec<ConversationRecord>,
    /// The `cursor` of the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /api/conversations/{id}/messages`: one page (SPEC §7 list convention).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageList {
    /// Newest first.
    pub items: Vec<MessageRecord>,
    /// The `cursor` of the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::ExecutionStatus::*;

    #[test]
    fn transition_map_is_explicit() {
        assert!(Created.can_become(Executing));
        assert!(Executing.can_become(AwaitingApproval));
        assert!(AwaitingApproval.can_become(Executing));
        assert!(!Completed.can_become(Executing));
        assert!(!Cancelled.can_become(Completed));
        assert!(!Created.can_become(Completed));
        assert!(!AwaitingApproval.can_become(Completed));
        assert!(Executing.can_become(Paused));
        assert!(AwaitingApproval.can_become(Paused));
        assert!(Paused.can_become(AwaitingApproval));
        assert!(Paused.can_become(Cancelled));
        assert!(!Paused.can_become(Completed));
        assert!(!Created.can_become(Paused));
        assert_eq!(super::ExecutionStatus::parse("paused"), Some(Paused));
    }
}
