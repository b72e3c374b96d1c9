//! Governance (SPEC §10, docs/adr/0019-governance-decisions.md): the tenant's policies decide
//! every agent turn — its input before the model runs, the consequential action it asks for, its
//! output before it is delivered — and every `POST /api/governance/evaluate`. Each decision is
//! appended to the tenant's hash-chained audit log and its failing policies become violations,
//! in the same transaction as what it decided about.
//!
//! - [`decide`]: the decision rule, pure; [`redact`]: the redactions (whole and streamed);
//!   [`policy`]: a policy checked, globs, the default policy; [`actions`]: which consequential
//!   action a turn asks for.
//! - [`service`]: [`Governance`]: the cached ACTIVE policies and recording decisions inside the
//!   caller's transaction; [`api`]: what the endpoints do; [`routes`]: the endpoints.
//! - [`chain`]: the audit chain (append under the tenant's lock, verify); [`storage`]: SQL.

pub mod actions;
pub mod api;
pub mod chain;
pub mod decide;
pub mod policy;
pub mod redact;
pub mod routes;
pub mod service;
pub mod storage;

pub use service::{Decided, Governance, Origin};
