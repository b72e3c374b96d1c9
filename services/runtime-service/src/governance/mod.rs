//! Governance: the policy decisions the runner asks for before an agent acts.
//!
//! Today there is one rule: an action named in the configured `approval_actions` (or in the
//! agent's own `approval_actions`) pauses for a human. SPEC §10 grows this folder into the policy
//! engine (policies, decisions on input and output, violations, trust), with its routes and
//! storage beside it; the runner already asks here, so it will not change shape.
//!
//! - [`service`]: [`Governance`], the question "does this step need a human?".
//! - [`actions`]: which consequential action a turn asks for.

pub mod actions;
pub mod chain;
pub mod service;

pub use service::{ApprovalRequired, Governance};
