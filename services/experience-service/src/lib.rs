//! # experience-service
//!
//! The public plane (SPEC §2): identity (register, login, refresh, logout), tenants, roles and
//! scopes, and every user-facing API. It never writes runtime state itself: it builds signed
//! intents and calls the runtime over HTTP.
//!
//! - [`configuration`]: typed settings.
//! - [`startup`]: `Application::build` (binds first, runs later), background tasks, middleware.
//! - [`routes`]: thin handlers, one module per resource.
//! - [`agent`]: the agent WebSocket gateway (protocol, socket registry, connection loop).
//! - [`extractors`]: `AuthUser` and `RequireScope<S>`.
//! - [`identity`]: the flows (register, login, refresh, logout, sessions) tying domain rules,
//!   storage and the runtime client together.
//! - [`domain`]: parsed types and rules (emails, passwords, hashing, refresh tokens, throttling,
//!   revoked sessions); no HTTP, no SQL.
//! - [`storage`]: SQL (users, tenants, refresh families, revocations).
//! - [`error`]: the one error enum of this service, mapped to HTTP in one place.

pub mod agent;
pub mod configuration;
pub mod domain;
pub mod error;
pub mod extractors;
pub mod identity;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod storage;
