//! # experience-service
//!
//! The public plane (SPEC §2): identity (register, login, refresh, logout), tenants, roles and
//! scopes, and every user-facing API. It never writes runtime state itself: it builds signed
//! intents and calls the runtime over HTTP.
//!
//! One folder per capability, each routes → service → storage:
//! - [`identity`]: `/api/auth/*`, the identity service, its domain types and its SQL.
//! - [`sessions`]: `/api/session/*` and the reads of runtime sessions on a caller's behalf.
//! - [`agent_socket`]: the agent WebSocket (follower, commands, rate limit, connection loop).
//! - [`tenants`]: `/api/tenants/current/*` (members, invitations, API keys) and the mirror of
//!   access changes every replica applies to live credentials.
//! - [`gateway`]: the declarative table of runtime-owned REST endpoints (conversation history
//!   today) and its one forwarding path.
//! - [`live_events`]: `GET /api/events/stream`, the caller's live events (server-sent events).
//!
//! Shared plumbing:
//! - [`configuration`]: typed settings.
//! - [`startup`]: `Application::build` (binds first, runs later), background tasks, middleware.
//! - [`extractors`]: `AuthUser` (access tokens and API keys), `RequireScope<S>`, `CallerInfo`.
//! - [`error`]: the one error enum of this service, mapped to HTTP in one place.
//! - [`polled`]: the tables every replica mirrors in memory (revocations, access changes).
//! - [`openapi`], [`health`]: `/openapi.json` and the readiness check.

pub mod agent_socket;
pub mod configuration;
pub mod error;
pub mod extractors;
pub mod gateway;
pub mod health;
pub mod identity;
pub mod live_events;
pub mod openapi;
pub mod polled;
pub mod sessions;
pub mod startup;
pub mod tenants;
