//! The rules of tenants, members, invitations and API keys: no HTTP, no SQL.
//!
//! - [`names`]: tenant and key names (non-empty, ≤ 100 characters, no control characters).
//! - [`rules`]: who may change whose role, and the last-owner rule.
//! - [`secrets`]: API keys (`sk_…`) and invitation tokens: generated from 256 random bits,
//!   stored only as SHA-256 hashes.
//! - [`changes`]: the in-memory mirror of role changes, removals and key revocations that every
//!   replica applies to live credentials (ADR 0010).
//! - [`bucket`]: the per-key request throttle.

pub mod bucket;
pub mod changes;
pub mod names;
pub mod rules;
pub mod secrets;
