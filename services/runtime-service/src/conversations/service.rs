//! Conversation rules: a client-chosen conversation id is kept when it is free or already the
//! caller's, otherwise the turn gets a fresh conversation; a conversation remembers the agent of
//! its last turn; history is readable only by its owner.

use platform_sdk::agent_wire::{ConversationList, MessageList};
use platform_sdk::page::{Cursor, PageRequest};
use sqlx::{AnyConnection, AnyPool};

use super::storage as store;
use crate::error::RuntimeError;

/// Who a conversation belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// User (none for an anonymous session).
    pub user_id: Option<&'a str>,
    /// Session the conversation started in.
    pub session_id: &'a str,
}

/// Conversation history over SQL.
#[derive(Clone)]
pub struct Conversations {
    pool: AnyPool,
}

/// True for an id a client may choose: 1..=128 of `[A-Za-z0-9_-]`.
fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Conversations {
    /// The service over a pool.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// The requested id if it is well-formed, and the agent that conversation sticks to when it
    /// exists and belongs to the owner.
    pub async fn requested<'a>(
        &self,
        owner: Owner<'_>,
        requested: Option<&'a str>,
    ) -> Result<(Option<&'a str>, Option<String>), RuntimeError> {
        let requested = requested.filter(|c| valid_id(c));
        let agent = match requested {
            Some(id) => {
                store::conversation_agent(&self.pool, owner.tenant_id, owner.user_id, id).await?
            }
            None => None,
        };
        Ok((requested, agent))
    }

    /// The conversation a turn is recorded in: the requested one (continued when `known`,
    /// created when free), else a fresh one; it now sticks to `agent_id`. Runs on `conn`, so a
    /// caller can make it part of its transaction.
    pub async fn open(
        conn: &mut AnyConnection,
        owner: Owner<'_>,
        requested: Option<&str>,
        known: bool,
        agent_id: &str,
        title: &str,
        now: i64,
    ) -> Result<String, RuntimeError> {
        match requested {
            Some(id) if known => {
                store::touch_conversation(&mut *conn, owner.tenant_id, id, agent_id, now).await?;
                return Ok(id.to_owned());
            }
            Some(id) => {
                if let Some(id) = create(conn, owner, id.to_owned(), agent_id, title, now).await? {
                    return Ok(id);
                }
            }
            None => {}
        }
        // No id, or one taken by someone else: a fresh conversation.
        let id = uuid::Uuid::new_v4().to_string();
        create(conn, owner, id.clone(), agent_id, title, now).await?;
        Ok(id)
    }

    /// The last `limit` `(role, content)` turns of a conversation, oldest first.
    pub async fn recent(
        &self,
        conversation_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, String)>, RuntimeError> {
        Ok(store::recent_messages(&self.pool, conversation_id, limit).await?)
    }

    /// One page of a user's conversations, most recently active first.
    pub async fn list(
        &self,
        tenant_id: &str,
        user_id: &str,
        page: &PageRequest,
    ) -> Result<ConversationList, RuntimeError> {
        let mut rows = store::conversations(
            &self.pool,
            tenant_id,
            user_id,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |(c, key)| Cursor {
            key: *key,
            id: c.conversation_id.clone(),
        });
        Ok(ConversationList {
            items: rows.into_iter().map(|(c, _)| c).collect(),
            next_cursor,
        })
    }

    /// One page of the messages of one of the user's conversations, newest first.
    pub async fn messages(
        &self,
        tenant_id: &str,
        user_id: &str,
        conversation_id: &str,
        page: &PageRequest,
    ) -> Result<MessageList, RuntimeError> {
        let mut rows = store::messages(
            &self.pool,
            tenant_id,
            user_id,
            conversation_id,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?
        .ok_or(RuntimeError::NotFound("conversation"))?;
        let next_cursor = page.finish(&mut rows, |(m, key)| Cursor {
            key: *key,
            id: m.message_id.clone(),
        });
        Ok(MessageList {
            items: rows.into_iter().map(|(m, _)| m).collect(),
            next_cursor,
        })
    }
}

/// Creates a conversation with this id; `None` when the id is taken.
async fn create(
    conn: &mut AnyConnection,
    owner: Owner<'_>,
    id: String,
    agent_id: &str,
    title: &str,
    now: i64,
) -> Result<Option<String>, RuntimeError> {
    let created = store::create_conversation(
        &mut *conn,
        &id,
        owner.tenant_id,
        owner.user_id,
        owner.session_id,
        agent_id,
        title,
        now,
    )
    .await?;
    Ok(created.then_some(id))
}
