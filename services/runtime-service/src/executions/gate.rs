//! A turn's governance (SPEC §10): its input — and the consequential action it asks for, if any
//! — decided in the transaction that accepts it, before the model runs; its output decided before
//! it is delivered, against the same policies. What the runner does with each decision is here:
//! `POLICY_DECISION` for every non-`allow`, and a halt (`SAFETY_HALTED` then `EXECUTION_FAILED`)
//! for a `deny`.

use std::sync::Arc;

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, ExecutionStatus};
use serde_json::{json, Value};

use super::Executions;
use crate::error::RuntimeError;
use crate::governance::decide::{Decision, PolicySet};
use crate::governance::Decided;

/// What the conversation keeps of a user message its input decision denied.
pub const WITHHELD: &str = "[message withheld: denied by policy]";

/// The consequential action a turn asks for, decided.
#[derive(Debug, Clone)]
pub struct ToolStep {
    /// `execute_workflow`.
    pub action: String,
    /// What a human is asked to approve.
    pub description: String,
    /// Its decision.
    pub decided: Decided,
}

/// The governance of one accepted turn.
#[derive(Debug, Clone)]
pub struct TurnGate {
    /// The ACTIVE policies the turn's input was decided with; its output is decided with them.
    pub policies: Arc<PolicySet>,
    /// The input's decision.
    pub input: Decided,
    /// The tool call's, when the turn asks for one.
    pub tool: Option<ToolStep>,
}

/// The text the model sees and the conversation keeps for a user message.
pub fn decided_text(text: &str, input: &Decided) -> String {
    match input.verdict.decision {
        Decision::Deny => WITHHELD.to_owned(),
        Decision::Modify => input.verdict.modified_content.clone().unwrap_or_default(),
        _ => text.to_owned(),
    }
}

/// `POLICY_DECISION` data.
pub fn policy_decision(decided: &Decided, action_type: &str) -> Value {
    let policy_ids: Vec<&str> = decided
        .verdict
        .failures
        .iter()
        .map(|f| f.policy_id.as_str())
        .collect();
    json!({
        "decision_id": decided.id,
        "decision": decided.verdict.decision.as_str(),
        "action_type": action_type,
        "policy_ids": policy_ids,
        "reasons": decided.verdict.reasons,
    })
}

/// `SAFETY_HALTED` data of a denial.
pub fn halted(decided: &Decided) -> Value {
    json!({
        "decision_id": decided.id,
        "policy_id": decided.verdict.deciding_policy(),
        "reasons": decided.verdict.reasons,
    })
}

impl Executions {
    /// Emits `POLICY_DECISION` for a decision other than `allow`.
    pub(super) async fn announce(
        &self,
        record: &ExecutionRecord,
        decided: &Decided,
        action_type: &str,
    ) -> Result<(), RuntimeError> {
        if decided.verdict.decision != Decision::Allow {
            self.emit(
                record,
                ev::POLICY_DECISION,
                policy_decision(decided, action_type),
            )
            .await?;
        }
        Ok(())
    }

    /// Ends the execution on a denial: `POLICY_DECISION`, `SAFETY_HALTED`, `EXECUTION_FAILED` in
    /// one commit.
    pub(super) async fn halt(
        &self,
        record: &ExecutionRecord,
        decided: &Decided,
        action_type: &str,
    ) -> Result<(), RuntimeError> {
        let error = format!("denied by policy: {}", decided.verdict.reasons.join("; "));
        let events = vec![
            (ev::POLICY_DECISION, policy_decision(decided, action_type)),
            (ev::SAFETY_HALTED, halted(decided)),
            (ev::EXECUTION_FAILED, json!({"error": error})),
        ];
        let to = (ExecutionStatus::Executing, ExecutionStatus::Failed);
        self.transition_with(record, to, Some(&error), events, None)
            .await
            .map(|_| ())
    }
}
