//! Multi-agent contexts (SPEC §12, docs/adr/0024-multi-agent-contexts.md): a tenant's agents
//! exchanging messages inside a context, each message governed (a compliance score from the
//! sender's trust, the tenant's policies, its attestations and the message's form) and, when
//! asked, answered by the recipients really running as executions of their catalog agents.
//!
//! - [`routes`]: the endpoints (signed intents for changes, service token for reads).
//! - [`service`]: [`MultiAgent`]: contexts, their lifecycle and their persisted state.
//! - [`messages`]: sending a message (checked, governed, stored in one transaction).
//! - [`govern`]: the compliance score and what a blocked message records.
//! - [`respond`]: `require_response`: running the recipients and storing their answers.
//! - [`figures`]: history, metrics and agents, computed from the stored messages.
//! - [`announce`]: the live-events hook (one place where a delivered message is announced).
//! - [`input`]: checking request bodies; [`storage`]: the SQL.

pub mod announce;
pub mod figures;
pub mod govern;
pub mod input;
pub mod messages;
pub mod respond;
pub mod routes;
pub mod service;
pub mod storage;

pub use service::MultiAgent;
