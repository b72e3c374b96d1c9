//! Agents: an agent is data — id, kind, system prompt, model provider (SPEC §4, §8).
//!
//! - [`catalog`]: the [`AgentCatalog`]: every agent the runtime can run, and the one place a
//!   client's agent type and pillar are resolved (or refused).
//! - [`pillar`]: the four pillars and their aliases.
//! - [`known`]: which agent ids a tenant can name (builtin ids and its own wrappers).
//! - [`classifier`]: what the guide thinks a request is about (pillar + confidence).
//! - [`builtin`]: the default, offline, deterministic provider, grounded in what each pillar does.
//! - [`openai`]: any OpenAI-compatible `/v1/chat/completions` endpoint, streamed.
//! - [`providers`]: which provider answers for an agent (platform, builtin, a tenant's server).

pub mod builtin;
pub mod catalog;
pub mod classifier;
pub mod known;
pub mod openai;
pub mod pillar;
pub mod providers;

use async_trait::async_trait;
use tokio::sync::mpsc;

pub use catalog::{Agent, AgentCatalog, AgentKind, AgentRequest};
pub use pillar::Pillar;
pub use providers::Providers;

/// What a provider is asked.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    /// The agent answering.
    pub agent: Agent,
    /// Earlier turns of the conversation, oldest first (`user` / `assistant`).
    pub history: Vec<(String, String)>,
    /// The user's message.
    pub text: String,
}

/// Why a provider failed; the message is shown to the user in `EXECUTION_FAILED`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProviderError {
    /// The provider could not be reached.
    #[error("the model provider could not be reached: {0}")]
    Unreachable(String),
    /// The provider answered with an error.
    #[error("the model provider returned an error: {0}")]
    Rejected(String),
    /// The provider stopped sending before the answer was complete.
    #[error("the model provider stalled for {0} seconds")]
    Stalled(u64),
    /// The provider sent something we could not read.
    #[error("the model provider sent an unreadable answer: {0}")]
    Protocol(String),
}

/// A model provider: streams answer chunks into `out` and returns the whole answer.
#[async_trait]
pub trait ModelProvider: Send + Sync {
    /// Produces the answer; each chunk is sent as soon as it exists.
    async fn stream(
        &self,
        request: ModelRequest,
        out: mpsc::Sender<String>,
    ) -> Result<String, ProviderError>;
}
