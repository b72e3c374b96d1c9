//! Governance: the policy decisions the runner asks for before an agent acts.
//!
//! Today there is one rule: an action named in the configured `approval_actions` (or in the
//! agent's own `approval_actions`) pauses for a human. SPEC §10 grows this folder into the policy
//! engine (policies, decisions on input and output, violations, trust), with its routes and
//! storage beside it; the runner already asks here, so it will not change shape.
//!
//! - [`service`]: [`Governance`], the question "does this step need a human?".
//! - [`actions`]: which consequential action a turn asks for.
//! - [`chain`]: the tenant's hash-chained audit log.
//! - [`trust`]: trust from evidence, per agent; [`compliance`]: decisions and violations per
//!   agent and window; [`plans`]: the governance loop (`POST /loop/execute`).

pub mod actions;
pub mod chain;
pub mod compliance;
pub mod plans;
pub mod service;
pub mod trust;

pub use service::{ApprovalRequired, Governance};
