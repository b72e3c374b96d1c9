//! Sending a message into a context (SPEC §12): checked (members, live context), governed
//! ([`super::govern`]) and stored in one transaction — a blocked message is stored with
//! `approved: false`, delivered to nobody and still answered `201`. An approved one is
//! announced ([`super::announce`]) and, with `require_response`, each recipient runs and answers
//! ([`super::respond`]) before the request is answered: the POST is synchronous.

use platform_sdk::multi_agent_wire::{
    ContextRecord, DeliveryResult, MessageBody, MessageSent, SendMessage, StoredMessage,
};
use platform_sdk::time_util::rfc3339_ms;
use platform_sdk::traffic_cop::Contract;

use super::govern::{self, Subject};
use super::input;
use super::service::{new_id, MultiAgent, MESSAGE_PREFIX};
use super::storage::{self, NewMessage};
use crate::error::RuntimeError;

/// A message about to be governed and stored.
#[derive(Debug, Clone)]
pub(super) struct Outgoing<'a> {
    /// Its context.
    pub context: &'a ContextRecord,
    /// Sender.
    pub from_agent_id: &'a str,
    /// Recipients.
    pub to_agent_ids: &'a [String],
    /// What it says.
    pub body: &'a MessageBody,
    /// Whether recipients answer.
    pub require_response: bool,
    /// Priority.
    pub priority: &'a str,
    /// The message it answers.
    pub in_reply_to: Option<&'a str>,
    /// The user who asked.
    pub user_id: Option<&'a str>,
}

impl MultiAgent {
    /// Sends a message: `201` whether approved or blocked.
    pub async fn send(
        &self,
        contract: &Contract,
        body: SendMessage,
    ) -> Result<MessageSent, RuntimeError> {
        let tenant_id = &contract.tenant_id;
        if !body.context_id.starts_with(super::service::CONTEXT_PREFIX) {
            return Err(RuntimeError::NotFound("context"));
        }
        let context = self.get(tenant_id, &body.context_id).await?;
        if context.status != "active" {
            return Err(RuntimeError::InvalidTransition {
                what: "context",
                current: context.status,
                action: "send a message to",
            });
        }
        if !context.agent_ids.contains(&body.from_agent_id) {
            return Err(RuntimeError::invalid(
                "from_agent_id",
                "must be an agent of the context",
            ));
        }
        input::ids("to_agent_ids", &body.to_agent_ids)?;
        if let Some(stranger) = body
            .to_agent_ids
            .iter()
            .find(|id| !context.agent_ids.contains(id))
        {
            let shown: String = stranger.chars().take(200).collect();
            return Err(RuntimeError::invalid(
                "to_agent_ids",
                format!("`{shown}` is not an agent of the context"),
            ));
        }
        input::message(&body.message)?;
        let priority = input::priority(body.priority.as_deref())?;
        let outgoing = Outgoing {
            context: &context,
            from_agent_id: &body.from_agent_id,
            to_agent_ids: &body.to_agent_ids,
            body: &body.message,
            require_response: body.require_response,
            priority: &priority,
            in_reply_to: None,
            user_id: contract.user_id.as_deref(),
        };
        let stored = self.store(tenant_id, &outgoing).await?;
        let delivery_results = match stored.governance_data.approved && body.require_response {
            true => {
                let results = self.respond(contract, &context, &stored).await?;
                storage::set_delivery(&self.pool, tenant_id, &stored.message_id, &results).await?;
                results
            }
            false => stored.delivery_results.clone(),
        };
        Ok(MessageSent {
            message_id: stored.message_id,
            timestamp: stored.timestamp,
            delivery_results,
            governance_data: stored.governance_data,
        })
    }

    /// Governs and stores a message in one transaction, then announces it if it was delivered.
    /// Recipients of an approved message that must answer are recorded as not delivered yet
    /// (`error: "pending"`) until their answers are stored.
    pub(super) async fn store(
        &self,
        tenant_id: &str,
        m: &Outgoing<'_>,
    ) -> Result<StoredMessage, RuntimeError> {
        let enabled = m.context.governance_enabled;
        let inputs = govern::inputs(
            &self.pool,
            &self.governance,
            (tenant_id, m.from_agent_id),
            enabled,
        )
        .await?;
        let message_id = new_id(MESSAGE_PREFIX);
        let mut tx = self.pool.begin().await?;
        let subject = Subject {
            tenant_id,
            context_id: &m.context.context_id,
            message_id: &message_id,
            from_agent_id: m.from_agent_id,
            body: m.body,
            threshold: m.context.policies.governance_threshold,
            user_id: m.user_id,
        };
        let (governance_data, violations) =
            govern::decide_in(&mut tx, &self.governance, subject, &inputs).await?;
        let approved = governance_data.approved;
        let delivery_results = m
            .to_agent_ids
            .iter()
            .map(|recipient| DeliveryResult {
                recipient_id: recipient.clone(),
                delivered: approved && !m.require_response,
                response_message_id: None,
                error: match (approved, m.require_response) {
                    (false, _) => Some("blocked".into()),
                    (true, true) => Some("pending".into()),
                    (true, false) => None,
                },
            })
            .collect();
        let created_ms = self.stamp();
        let message = StoredMessage {
            message_id,
            context_id: m.context.context_id.clone(),
            from_agent_id: m.from_agent_id.to_owned(),
            to_agent_ids: m.to_agent_ids.to_vec(),
            message: m.body.clone(),
            require_response: m.require_response,
            priority: m.priority.to_owned(),
            in_reply_to: m.in_reply_to.map(str::to_owned),
            timestamp: rfc3339_ms(created_ms),
            governance_data,
            delivery_results,
        };
        let new = NewMessage {
            tenant_id,
            message: &message,
            violations,
            created_ms,
        };
        storage::insert_message(&mut tx, &new).await?;
        if approved {
            self.announce_in(&mut tx, tenant_id, m.context, &message, m.user_id)
                .await?;
        }
        tx.commit().await?;
        // What the transaction published (the message, a violation, notifications) goes out now.
        self.live.wake(tenant_id);
        Ok(message)
    }
}
