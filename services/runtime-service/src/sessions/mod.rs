//! Sessions (SPEC §3): a user's or an anonymous visitor's session, kept in the state surface.
//!
//! - [`routes`]: the session endpoints (signed intents for mutations, service token for reads).
//! - [`service`]: the session rules (TTLs, ownership, upgrade); storage is the state surface
//!   itself, so this feature has no SQL.

pub mod routes;
pub mod service;

pub use service::Sessions;
