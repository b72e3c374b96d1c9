//! The intent gate: every runtime mutation arrives as a signed intent and is verified, claimed
//! once per contract, acted on and recorded here (SPEC §3).
//!
//! - [`gate`]: verify → claim (idempotency) → act → record → audit; returns a plain answer.
//! - [`routes`]: the one route helper that turns a gate answer into an HTTP response (status,
//!   `x-intent-replayed` on a replay) and reads intent payloads.
//! - [`storage`]: the intent audit log in SQL.

pub mod gate;
pub mod routes;
pub mod storage;

pub use gate::{IntentAnswer, IntentGate};
