//! Runtime sessions as the experience plane shows them (SPEC §3): anonymous sessions for the
//! session-first web flow, a user's own sessions (read from the runtime, tenant- and
//! user-checked), and the check the agent socket makes before it upgrades.
//!
//! - [`Sessions`] (`service`): the rules; returns plain values or `ApiError`.
//! - [`routes`]: `/api/session/*`, thin handlers.
//!
//! Ending a session is identity's (it also revokes the refresh family and the access tokens):
//! see `identity::Identity::end_session`.

pub mod routes;
mod service;

pub use service::{owned_session, Sessions};
