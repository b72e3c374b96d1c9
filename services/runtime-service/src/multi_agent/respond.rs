//! `require_response` (SPEC §12): each recipient really runs — an execution of its catalog agent
//! ([`crate::executions::Executions::run_internal`], events under session id = the context id)
//! whose input is the context's history ending with the message — and its answer is stored as a
//! message from that agent to the sender (`in_reply_to`), governed like any other.
//!
//! - `parallel`: recipients run concurrently, each seeing the history as it was when the message
//!   was stored (not each other's answers);
//! - `sequential`, `shared_context`, `hierarchical`: recipients run one after another in the
//!   order they were named, each seeing the full history, so also the answers given before it.
//!
//! Only delivered (approved) messages are history: a blocked one reached nobody. A recipient
//! still running after `policies.max_response_time_ms` (default [`DEFAULT_RESPONSE_MS`], and
//! never past the exchange's [`EXCHANGE_BUDGET`]) is cancelled and reported `delivered: false,
//! error: "timed_out"`; one that fails or is cancelled reports that status instead. The
//! consequential action a recipient's turn asks for (an approval under the tenant's policies) is
//! read from the message alone, not from the history quoted in its input; one whose message does
//! ask for such an action waits for an approval nobody can give inside the exchange, until its
//! time limit.

use std::time::Duration;

use futures_util::future::join_all;
use platform_sdk::multi_agent_wire::{ContextRecord, DeliveryResult, MessageBody, StoredMessage};
use platform_sdk::traffic_cop::Contract;

use super::messages::Outgoing;
use super::service::MultiAgent;
use super::storage;
use crate::error::RuntimeError;
use crate::executions::service::MAX_INPUT_CHARS;
use crate::executions::{InternalOutcome, InternalTurn};

/// How long a recipient may take when the context sets no `max_response_time_ms`.
pub const DEFAULT_RESPONSE_MS: u64 = 60_000;
/// How long all the recipients of one message may take together: the POST is synchronous, and
/// the experience gateway waits a little longer than this for it (`gateway::rows::slow_action`).
/// A recipient whose turn comes after the budget is spent is `timed_out` without running.
pub const EXCHANGE_BUDGET: Duration = Duration::from_secs(120);
/// Most earlier messages an agent is shown.
const HISTORY_MESSAGES: usize = 20;

/// One line of history.
fn line(m: &StoredMessage) -> String {
    let kind = m.message.kind.as_deref().unwrap_or("message");
    let content = m.message.content.as_deref().unwrap_or("");
    format!(
        "{} -> {} ({kind}): {content}",
        m.from_agent_id,
        m.to_agent_ids.join(", ")
    )
}

/// The input of `recipient`: who it is, the history (oldest first, the newest
/// [`HISTORY_MESSAGES`], fitted into [`MAX_INPUT_CHARS`] by dropping the oldest), and the message
/// it answers.
pub fn input_for(
    context: &ContextRecord,
    recipient: &str,
    history: &[StoredMessage],
    message: &StoredMessage,
) -> String {
    let head = format!(
        "You are {recipient} in the multi-agent context \"{}\" ({}).\nConversation so far:\n",
        context.name, context.collaboration_model
    );
    let ask = format!(
        "\nAnswer the message from {}: {}",
        message.from_agent_id,
        message.message.content.as_deref().unwrap_or("")
    );
    let mut lines: Vec<String> = history
        .iter()
        .filter(|m| m.governance_data.approved && m.message_id != message.message_id)
        .map(line)
        .collect();
    let skip = lines.len().saturating_sub(HISTORY_MESSAGES);
    lines.drain(..skip);
    let size = |lines: &[String]| {
        head.chars().count()
            + ask.chars().count()
            + lines.iter().map(|l| l.chars().count() + 1).sum::<usize>()
    };
    while !lines.is_empty() && size(&lines) > MAX_INPUT_CHARS {
        lines.remove(0);
    }
    let text = format!("{head}{}{ask}", lines.join("\n"));
    text.chars().take(MAX_INPUT_CHARS).collect()
}

impl MultiAgent {
    /// Runs every recipient of `message` as its context's model says; one result per recipient.
    pub(super) async fn respond(
        &self,
        contract: &Contract,
        context: &ContextRecord,
        message: &StoredMessage,
    ) -> Result<Vec<DeliveryResult>, RuntimeError> {
        let ms = context
            .policies
            .max_response_time_ms
            .and_then(|ms| u64::try_from(ms).ok())
            .unwrap_or(DEFAULT_RESPONSE_MS);
        let per_recipient = Duration::from_millis(ms);
        let deadline = tokio::time::Instant::now() + EXCHANGE_BUDGET;
        let timeout = per_recipient.min(EXCHANGE_BUDGET);
        let tenant_id = &contract.tenant_id;
        if context.collaboration_model == "parallel" {
            let history = self.history_shown(tenant_id, &context.context_id).await?;
            let runs = message.to_agent_ids.iter().map(|recipient| {
                let input = input_for(context, recipient, &history, message);
                async move {
                    self.answer(contract, context, message, recipient, &input, timeout)
                        .await
                }
            });
            return join_all(runs).await.into_iter().collect();
        }
        let mut results = Vec::with_capacity(message.to_agent_ids.len());
        for recipient in &message.to_agent_ids {
            let history = self.history_shown(tenant_id, &context.context_id).await?;
            let input = input_for(context, recipient, &history, message);
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                results.push(DeliveryResult {
                    recipient_id: recipient.clone(),
                    delivered: false,
                    response_message_id: None,
                    error: Some("timed_out".into()),
                });
                continue;
            }
            let timeout = per_recipient.min(left);
            results.push(
                self.answer(contract, context, message, recipient, &input, timeout)
                    .await?,
            );
        }
        Ok(results)
    }

    /// The history an answering agent is shown (one more than it keeps: the message it answers
    /// is among the newest and is left out of the history lines).
    async fn history_shown(
        &self,
        tenant_id: &str,
        context_id: &str,
    ) -> Result<Vec<StoredMessage>, RuntimeError> {
        let limit = HISTORY_MESSAGES as i64 + 1;
        Ok(storage::recent_delivered(&self.pool, tenant_id, context_id, limit).await?)
    }

    /// Runs one recipient and stores its answer.
    async fn answer(
        &self,
        contract: &Contract,
        context: &ContextRecord,
        message: &StoredMessage,
        recipient: &str,
        input: &str,
        timeout: Duration,
    ) -> Result<DeliveryResult, RuntimeError> {
        let turn = InternalTurn {
            tenant_id: &contract.tenant_id,
            user_id: contract.user_id.as_deref(),
            session_id: &context.context_id,
            agent_id: recipient,
            text: input,
            asked: message.message.content.as_deref().unwrap_or(""),
            timeout,
        };
        let not_delivered = |reason: String| DeliveryResult {
            recipient_id: recipient.to_owned(),
            delivered: false,
            response_message_id: None,
            error: Some(reason),
        };
        let text = match self.executions.run_internal(turn).await {
            Ok(InternalOutcome::Answered { text, .. }) => text,
            Ok(InternalOutcome::Ended { reason, .. }) => return Ok(not_delivered(reason)),
            Err(e @ RuntimeError::Internal(_)) | Err(e @ RuntimeError::StateUnavailable(_)) => {
                return Err(e)
            }
            Err(e) => {
                // Its agent stopped serving since the context was made (retired, paused).
                tracing::warn!(error = %e, recipient, "a multi-agent recipient could not run");
                return Ok(not_delivered("unavailable".into()));
            }
        };
        let body = MessageBody {
            kind: Some("response".into()),
            content: Some(text),
            task_id: message.message.task_id.clone(),
        };
        let to = [message.from_agent_id.clone()];
        let outgoing = Outgoing {
            context,
            from_agent_id: recipient,
            to_agent_ids: &to,
            body: &body,
            require_response: false,
            priority: &message.priority,
            in_reply_to: Some(&message.message_id),
            user_id: contract.user_id.as_deref(),
        };
        let answer = self.store(&contract.tenant_id, &outgoing).await?;
        Ok(DeliveryResult {
            recipient_id: recipient.to_owned(),
            delivered: true,
            response_message_id: Some(answer.message_id),
            error: None,
        })
    }
}
