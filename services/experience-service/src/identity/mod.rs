//! Identity (SPEC §2): register, login, refresh, logout, `me`, and ending one's own sessions.
//!
//! The feature, inside out:
//! - [`domain`]: parsed types and rules (emails, passwords, the hashing pool, refresh-token
//!   derivation, login throttling, the revoked-session set); no HTTP, no SQL.
//! - [`storage`]: the SQL of identity (users, tenants, memberships, refresh families,
//!   revocations).
//! - [`Identity`] (`service`, `login`, `refresh`, `logout`, `profile`): the flows tying rules,
//!   storage and the runtime client together; they return plain values or [`ApiError`].
//! - [`routes`]: `/api/auth/*`, thin handlers that extract, call one flow and shape the answer.
//!
//! Ordering rule for every flow that touches both planes: call the runtime first, write locally
//! second, and undo the runtime side if the local write fails. A runtime outage therefore
//! answers `503 runtime_unavailable` with nothing written anywhere.
//!
//! [`ApiError`]: crate::error::ApiError

mod abandon;
pub mod domain;
mod login;
mod logout;
mod profile;
mod refresh;
pub mod routes;
mod service;
pub mod storage;

pub use profile::ProfileCache;
pub use service::{Identity, IdentityParts};
