//! The live-events hook: the ONE place where a stored, delivered (approved) multi-agent message
//! is announced (SPEC §13): a `multi_agent.message` live event for the tenant (subscriptions
//! filter it by context and by the sending agent), and a notification to the context's creator
//! when someone else's request put the message there (their own messages would only echo back).
//! It runs in the message's transaction, so a message that is not stored announces nothing; the
//! caller wakes the followers after the commit.

use platform_sdk::live_wire::{live_types, AUDIENCE_TENANT};
use platform_sdk::multi_agent_wire::{ContextRecord, StoredMessage};
use serde_json::json;
use sqlx::AnyConnection;

use super::MultiAgent;
use crate::live::LiveEvent;
use crate::notifications::{create_in, Note, To};

/// The longest excerpt of a message's content a notification quotes, characters.
const EXCERPT_CHARS: usize = 200;

impl MultiAgent {
    /// Announces a delivered message of `context` inside the transaction that stores it (called
    /// once per approved message, answers included); `user_id` asked for it.
    pub(super) async fn announce_in(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        context: &ContextRecord,
        message: &StoredMessage,
        user_id: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let data = json!({
            "context_id": context.context_id,
            "context_name": context.name,
            "message_id": message.message_id,
            "from_agent_id": message.from_agent_id,
            "to_agent_ids": message.to_agent_ids,
            "message": message.message,
            "in_reply_to": message.in_reply_to,
            "timestamp": message.timestamp,
        });
        let event = LiveEvent {
            tenant_id,
            event_type: live_types::MULTI_AGENT_MESSAGE,
            audience: AUDIENCE_TENANT.to_owned(),
            agent_id: Some(&message.from_agent_id),
            context_id: Some(&context.context_id),
            data: data.clone(),
        };
        self.live.publish_in(conn, event).await?;
        if user_id == Some(context.created_by.as_str()) {
            return Ok(());
        }
        let excerpt: String = message
            .message
            .content
            .as_deref()
            .unwrap_or_default()
            .chars()
            .take(EXCERPT_CHARS)
            .collect();
        let note = Note {
            tenant_id,
            kind: live_types::MULTI_AGENT_MESSAGE,
            title: format!("New message in \"{}\"", context.name),
            body: format!("{} wrote: {excerpt}", message.from_agent_id),
            severity: "info",
            data,
            agent_id: Some(&message.from_agent_id),
        };
        create_in(conn, &note, To::User(&context.created_by)).await?;
        Ok(())
    }
}
