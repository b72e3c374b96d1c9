//! # runtime-service
//!
//! The internal plane (SPEC §3): it owns sessions, the State Surface and (later) executions.
//! Nothing here trusts its caller by network position: every mutation arrives as a signed
//! intent verified by the traffic cop, every read carries a service token.
//!
//! - [`configuration`]: typed settings.
//! - [`startup`]: `Application::build` (binds first, runs later) and the middleware stack.
//! - [`routes`]: thin HTTP handlers, one module per resource.
//! - [`intents`]: the verify → replay-guard → act → record pipeline every mutation goes through.
//! - [`domain`]: session rules (TTLs, ownership, upgrade) over the state surface.
//! - [`auth`]: the service-token extractor for reads.
//! - [`error`]: the one error enum of this service, mapped to HTTP in one place.

pub mod agents;
pub mod auth;
pub mod configuration;
pub mod domain;
pub mod error;
pub mod intents;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod storage;
