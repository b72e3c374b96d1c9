//! The live event stream (SPEC §13): `GET /api/events/stream`, server-sent events of the
//! caller's tenant log, filtered to what the caller may see and subscribed to, resumable with
//! `Last-Event-ID` (docs/adr/0025).
//!
//! - [`hub`]: one runtime follow per tenant per replica, fanned out to its clients, with the
//!   heartbeat and the logout / removal / expiry sweep.
//! - [`filter`]: who sees which event; framing.
//! - [`route`]: the endpoint: credentials, the resume replay, the client's stream.

pub mod filter;
pub mod hub;
pub mod route;

pub use hub::Streams;
