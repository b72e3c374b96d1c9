//! # runtime-service
//!
//! The internal plane (SPEC §3–§4): it owns sessions, the State Surface, agent executions and
//! their event log. Nothing here trusts its caller by network position: every mutation arrives as
//! a signed intent verified by the traffic cop, every read carries a service token.
//!
//! Each capability is one feature folder (SPEC §7): `routes.rs` (thin HTTP handlers) → a service
//! (plain values and [`error::RuntimeError`], no HTTP) → `storage.rs` (the only SQL).
//!
//! - [`sessions`]: session records in the state surface (create, upgrade, validate, end).
//! - [`executions`]: agent turns: submit, cancel, safety answers, and the runner of one turn.
//! - [`events`]: the durable per-session event log, its live fan-out and resumable streams.
//! - [`conversations`]: conversation history (conversations and messages).
//! - [`agents`]: the agent catalog, the model providers and the guide's classifier.
//! - [`wrappers`]: tenants' own agents (SPEC §8): definitions, deployments, the deployed catalog.
//! - [`profiles`]: agent profiles, signed attestations and the tenants' attestation keys.
//! - [`governance`]: policy decisions the runner asks for before a step (approvals, for now).
//! - [`intents`]: the verify → replay-guard → act → record gate every mutation goes through.
//! - [`usage`]: usage analytics: tracked events and per-hour counters of every agent's executions.
//! - [`outcomes`]: outcome events (posted, and two per finished execution), trends, dashboard.
//! - [`multi_agent`]: multi-agent contexts: governed messages between agents, their answers and figures.
//! - [`multimodal`]: speech-to-text, text-to-speech and image analysis requests, run as executions.
//! - [`live`]: the durable per-tenant live event log, its wake-ups and follows, event subscriptions.
//! - [`notifications`]: notifications and their per-reader read state (SPEC §13).
//! - [`operations`]: the operations hub: every long-running process, paused, resumed, cancelled.
//!
//! Shared plumbing: [`configuration`], [`startup`] (`Application::build` and the middleware
//! stack), [`auth`] (the service-token extractor), [`error`] (the one error enum, mapped to HTTP
//! in one place), [`openapi`] and [`health`].

pub mod agents;
pub mod auth;
pub mod configuration;
pub mod conversations;
pub mod error;
pub mod events;
pub mod executions;
pub mod governance;
pub mod health;
pub mod intents;
pub mod live;
pub mod multi_agent;
pub mod multimodal;
pub mod notifications;
pub mod openapi;
pub mod operations;
pub mod outcomes;
pub mod profiles;
pub mod sessions;
pub mod startup;
pub mod usage;
pub mod wrappers;
