//! A turn's governance (SPEC §10): its input — and the consequential action it asks for, if any
//! — decided in the transaction that accepts it, before the model runs; its output decided before
//! it is delivered, against the same policies, and recorded in the transaction that ends the turn
//! (no commit of its own between the answer and its delivery). What the runner does with each
//! decision is here: `POLICY_DECISION` for every non-`allow`, and a halt (`SAFETY_HALTED` then
//! `EXECUTION_FAILED`) for a `deny`.

use std::sync::Arc;

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, ExecutionStatus};
use serde_json::{json, Value};

use super::Executions;
use crate::error::RuntimeError;
use crate::governance::decide::{Ask, Decision, PolicySet, Verdict};
use crate::governance::{Decided, Governance, Origin};

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

/// The decision on a turn's answer, made in memory and recorded with the turn's end.
#[derive(Debug, Clone)]
pub struct OutputDecision {
    /// `dec_…`.
    pub id: String,
    /// The answer as the model gave it (hashed into the audit entry, never stored).
    pub answer: String,
    /// What was decided.
    pub verdict: Verdict,
}

impl OutputDecision {
    /// Records it on `conn`, inside the caller's transaction.
    pub async fn record(
        &self,
        governance: &Governance,
        conn: &mut sqlx::AnyConnection,
        record: &ExecutionRecord,
    ) -> Result<(), sqlx::Error> {
        let ask = Ask {
            agent_id: &record.agent_id,
            action_type: "agent_output",
            content: Some(&self.answer),
            action: None,
        };
        let origin = Origin {
            execution_id: Some(&record.execution_id),
            user_id: None,
            context: None,
        };
        governance
            .record_in(
                conn,
                &record.tenant_id,
                &self.id,
                &ask,
                self.verdict.clone(),
                origin,
            )
            .await
            .map(|_| ())
    }
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
pub fn policy_decision(id: &str, verdict: &Verdict, action_type: &str) -> Value {
    let policy_ids: Vec<&str> = verdict
        .failures
        .iter()
        .map(|f| f.policy_id.as_str())
        .collect();
    json!({
        "decision_id": id,
        "decision": verdict.decision.as_str(),
        "action_type": action_type,
        "policy_ids": policy_ids,
        "reasons": verdict.reasons,
    })
}

/// `SAFETY_HALTED` data of a denial.
pub fn halted(id: &str, verdict: &Verdict) -> Value {
    json!({
        "decision_id": id,
        "policy_id": verdict.deciding_policy(),
        "reasons": verdict.reasons,
    })
}

impl Executions {
    /// Emits `POLICY_DECISION` for a decision other than `allow`.
    pub(super) async fn announce(
        &self,
        record: &ExecutionRecord,
        id: &str,
        verdict: &Verdict,
        action_type: &str,
    ) -> Result<(), RuntimeError> {
        if verdict.decision != Decision::Allow {
            let data = policy_decision(id, verdict, action_type);
            self.emit(record, ev::POLICY_DECISION, data).await?;
        }
        Ok(())
    }

    /// Ends the execution on a denial: `POLICY_DECISION`, `SAFETY_HALTED`, `EXECUTION_FAILED` —
    /// and the output decision, when it is the one that denied — in one commit.
    pub(super) async fn halt(
        &self,
        record: &ExecutionRecord,
        (id, verdict): (&str, &Verdict),
        action_type: &str,
        output: Option<&OutputDecision>,
    ) -> Result<(), RuntimeError> {
        let error = format!("denied by policy: {}", verdict.reasons.join("; "));
        let events = vec![
            (
                ev::POLICY_DECISION,
                policy_decision(id, verdict, action_type),
            ),
            (ev::SAFETY_HALTED, halted(id, verdict)),
            (ev::EXECUTION_FAILED, json!({"error": error})),
        ];
        let to = (ExecutionStatus::Executing, ExecutionStatus::Failed);
        self.transition_with(record, to, Some(&error), events, None, output)
            .await
            .map(|_| ())
    }

    /// Records an output decision in a commit of its own (one that waits for a human).
    pub(super) async fn record_output(
        &self,
        record: &ExecutionRecord,
        output: &OutputDecision,
    ) -> Result<(), RuntimeError> {
        let mut tx = self.pool.begin().await?;
        output.record(&self.governance, &mut tx, record).await?;
        tx.commit().await?;
        Ok(())
    }
}
