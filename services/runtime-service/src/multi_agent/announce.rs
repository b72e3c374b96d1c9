//! The live-events hook: the ONE place where a stored, delivered (approved) multi-agent message
//! is announced. SPEC §13 makes it a `multi_agent.message` live event and a notification to the
//! context's creator (`ContextRecord::created_by`); those are wired here when the live events
//! exist. For now it only logs: nothing in this feature waits on it, and it must never fail the
//! message (it runs after the message is committed).

use platform_sdk::multi_agent_wire::{ContextRecord, StoredMessage};

use super::MultiAgent;

impl MultiAgent {
    /// Announces a delivered message of `context` (called once per approved message, answers
    /// included, after it is committed). A method of the service so what it needs (the event bus,
    /// the notifications) can be added to [`MultiAgent`] without touching its callers.
    pub(super) fn announce(
        &self,
        tenant_id: &str,
        context: &ContextRecord,
        message: &StoredMessage,
    ) {
        tracing::debug!(
            tenant_id,
            context_id = %context.context_id,
            created_by = %context.created_by,
            message_id = %message.message_id,
            from_agent_id = %message.from_agent_id,
            recipients = message.to_agent_ids.len(),
            "multi_agent.message"
        );
    }
}
