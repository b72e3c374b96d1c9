//! Conversation history (SPEC §4): a conversation sticks to one agent and keeps its messages,
//! readable over REST by their owner.
//!
//! - [`routes`]: `GET /api/conversations`, `GET /api/conversations/{id}/messages`.
//! - [`service`]: [`Conversations`]: reading history, and the writes an execution makes (opening
//!   the conversation of a turn, appending its messages).
//! - [`storage`]: conversations and messages in SQL.

pub mod routes;
pub mod service;
pub mod storage;

pub use service::Conversations;
