//! Agent wrappers (SPEC §8): a tenant's own agent definitions, deployed into the agent catalog
//! and callable on the socket as `specialist` agents (`metadata.agent_id`).
//!
//! - [`rules`]: what a valid definition is, and the deployment state machine.
//! - [`service`]: [`Wrappers`] (definitions and deployment moves) and [`deployed_agent`], the
//!   catalog lookup a turn makes.
//! - [`deploy`]: a deployment's checks (one real health call for `openai`) and outcome.
//! - [`routes`]: the endpoints the experience gateway forwards to.
//! - [`storage`]: wrappers and their `deployment.status` events in SQL.
//!
//! The catalog of deployed agents is the `agent_wrappers` table itself: a turn reads the
//! deployed definition when it is accepted, so every replica serves the same agents and a
//! restart loses none (docs/adr/0016-agent-wrappers.md).

pub mod deploy;
pub mod routes;
pub mod rules;
pub mod service;
pub mod storage;

pub use service::{deployed_agent, Wrappers};

/// The prefix of wrapper ids (and so of deployed agents' ids).
pub const ID_PREFIX: &str = "wrp_";
