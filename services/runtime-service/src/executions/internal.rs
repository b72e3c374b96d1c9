//! Turns the runtime starts itself, without a user's socket (SPEC §12: a multi-agent recipient
//! asked to answer). [`Executions::run_internal`] accepts and runs the turn exactly like a
//! submitted one — the catalog agent, governance on its input and output, the event log, trust
//! evidence — and waits for it to end. Its events are logged under the session id it is given
//! (the multi-agent context id), so they can be read and followed like a session's.

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::agent_wire::{ExecutionStatus, SubmitIntentPayload};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::Contract;

use super::Executions;
use crate::error::RuntimeError;

/// A turn the runtime runs for itself.
#[derive(Debug, Clone, Copy)]
pub struct InternalTurn<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// The user on whose behalf it runs (owner of its conversation).
    pub user_id: Option<&'a str>,
    /// The session id its events and conversation are filed under.
    pub session_id: &'a str,
    /// The catalog agent (`guide`, `liaison.<pillar>`, `wrp_…`).
    pub agent_id: &'a str,
    /// Its input.
    pub text: &'a str,
    /// The part of the input that asks something (the message it answers): the consequential
    /// action the turn asks for is read from this only, not from the history it quotes.
    pub asked: &'a str,
    /// Longest it may take; it is cancelled then.
    pub timeout: Duration,
}

/// How an internal turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InternalOutcome {
    /// It answered: the delivered (decided) text.
    Answered {
        /// The execution.
        execution_id: String,
        /// The answer.
        text: String,
    },
    /// It ended without an answer: `failed`, `cancelled`, `timed_out`, or the status it was
    /// left in.
    Ended {
        /// The execution.
        execution_id: String,
        /// Why.
        reason: String,
    },
}

/// The turn payload that names `agent_id` as a client would.
fn payload_for(agent_id: &str, text: &str) -> SubmitIntentPayload {
    let (agent_type, pillar, deployed) = match agent_id.strip_prefix("liaison.") {
        Some(pillar) => ("liaison", Some(pillar.to_owned()), None),
        None if agent_id.starts_with(crate::wrappers::ID_PREFIX) => {
            ("specialist", None, Some(agent_id.to_owned()))
        }
        None => (agent_id, None, None),
    };
    SubmitIntentPayload {
        text: text.to_owned(),
        agent_type: agent_type.to_owned(),
        pillar,
        surface: None,
        conversation_id: None,
        client_message_id: None,
        agent_id: deployed,
    }
}

impl Executions {
    /// Accepts and runs one turn of `turn.agent_id` (a new conversation under `turn.session_id`)
    /// and waits until it has ended; one still running after `turn.timeout` is cancelled
    /// (`Ended { reason: "timed_out" }`).
    pub async fn run_internal(
        self: &Arc<Self>,
        turn: InternalTurn<'_>,
    ) -> Result<InternalOutcome, RuntimeError> {
        let now = now_ms();
        let contract = Contract {
            contract_id: uuid::Uuid::new_v4().to_string(),
            action: "internal_turn".into(),
            tenant_id: turn.tenant_id.to_owned(),
            user_id: turn.user_id.map(str::to_owned),
            session_id: turn.session_id.to_owned(),
            issued_at: now,
            expires_at: now,
            nonce: uuid::Uuid::new_v4().to_string(),
            issuer: "runtime".into(),
            audience: "runtime".into(),
            payload: serde_json::Value::Null,
        };
        let payload = payload_for(turn.agent_id, turn.text);
        let (record, agent, gate) = self
            .accept(&contract, &payload, (turn.text, turn.asked))
            .await?;
        let id = record.execution_id.clone();
        let conversation_id = record.conversation_id.clone();
        let mut running = self.start(record, agent, gate, turn.text.to_owned(), None);
        let timed_out = tokio::time::timeout(turn.timeout, &mut running)
            .await
            .is_err();
        if timed_out {
            if let Some(control) = self.control(&id) {
                let _ = control.cancel.send(true);
            }
            let _ = running.await;
        }
        let ended = self.get(turn.tenant_id, &id).await?;
        if ended.status == ExecutionStatus::Completed {
            let last = self.conversations.recent(&conversation_id, 1).await?;
            if let Some((_, text)) = last.into_iter().find(|(role, _)| role == "assistant") {
                return Ok(InternalOutcome::Answered {
                    execution_id: id,
                    text,
                });
            }
        }
        let reason = match timed_out {
            true => "timed_out".to_owned(),
            false => ended.status.as_str().to_owned(),
        };
        Ok(InternalOutcome::Ended {
            execution_id: id,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::payload_for;

    #[test]
    fn agents_are_named_as_a_client_names_them() {
        let p = payload_for("liaison.content", "x");
        assert_eq!(
            (p.agent_type.as_str(), p.pillar.as_deref()),
            ("liaison", Some("content"))
        );
        let p = payload_for("guide", "x");
        assert_eq!((p.agent_type.as_str(), p.pillar), ("guide", None));
        let p = payload_for("wrp_1", "x");
        assert_eq!(
            (p.agent_type.as_str(), p.agent_id.as_deref()),
            ("specialist", Some("wrp_1"))
        );
    }
}
