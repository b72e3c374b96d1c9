//! The kinds of process the hub shows, one module each. A source answers three things: its
//! processes of a tenant (`list`: started since, in some states, newest first, at most `limit`,
//! plus how many are live), one process with its detail (`detail`), and an operator's control
//! (`control`: the move its own state machine allows, or `409 invalid_transition`). The hub
//! ([`super::service`]) only merges and dispatches.
//!
//! The live states of every kind are defined here and nowhere else.

pub mod contexts;
pub mod deployments;
pub mod executions;
pub mod multimodal;

use platform_sdk::operations_wire::ProcessType;

/// A kind of process: its `include` name, wire type, states and live states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Agent executions (SPEC §4).
    Executions,
    /// Multimodal requests (SPEC §15).
    Multimodal,
    /// Wrapper deployments (SPEC §8).
    Deployments,
    /// Multi-agent contexts (SPEC §12).
    Contexts,
}

impl Kind {
    /// Every kind, in `include` order.
    pub const ALL: [Kind; 4] = [
        Kind::Executions,
        Kind::Multimodal,
        Kind::Deployments,
        Kind::Contexts,
    ];

    /// Its name in `include`.
    pub fn include_name(self) -> &'static str {
        match self {
            Self::Executions => "executions",
            Self::Multimodal => "multimodal",
            Self::Deployments => "deployments",
            Self::Contexts => "contexts",
        }
    }

    /// The kind an `include` item names.
    pub fn from_include(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.include_name() == name)
    }

    /// Its `type` on the wire.
    pub fn process_type(self) -> ProcessType {
        match self {
            Self::Executions => ProcessType::Execution,
            Self::Multimodal => ProcessType::MultimodalRequest,
            Self::Deployments => ProcessType::Deployment,
            Self::Contexts => ProcessType::MultiAgentContext,
        }
    }

    /// The states in which its processes are live (what the hub shows without `status`).
    pub fn live(self) -> &'static [&'static str] {
        match self {
            Self::Executions => &["created", "executing", "awaiting_approval", "paused"],
            Self::Deployments => &["deploying", "active", "paused"],
            Self::Multimodal => &["pending", "processing"],
            Self::Contexts => &["active", "paused"],
        }
    }

    /// Every state its processes can be in.
    pub fn states(self) -> &'static [&'static str] {
        match self {
            Self::Executions => &[
                "created",
                "executing",
                "awaiting_approval",
                "paused",
                "completed",
                "failed",
                "cancelled",
            ],
            Self::Deployments => &[
                "draft",
                "deploying",
                "active",
                "failed",
                "paused",
                "retired",
            ],
            Self::Multimodal => &["pending", "processing", "completed", "failed", "cancelled"],
            Self::Contexts => &["active", "paused", "terminated"],
        }
    }

    /// The kind a process id names: `wrp_…`/`dep_…` deployments, `mmreq_…` multimodal requests,
    /// `ctx_…` contexts, a bare UUID an execution.
    pub fn of_id(id: &str) -> Option<Self> {
        if id.starts_with(crate::wrappers::ID_PREFIX) || id.starts_with("dep_") {
            Some(Self::Deployments)
        } else if id.starts_with("mmreq_") {
            Some(Self::Multimodal)
        } else if id.starts_with("ctx_") {
            Some(Self::Contexts)
        } else if uuid::Uuid::parse_str(id).is_ok() {
            Some(Self::Executions)
        } else {
            None
        }
    }
}

/// Whether `status` is one of `kind`'s states.
pub fn is_state(status: &str) -> bool {
    Kind::ALL.iter().any(|k| k.states().contains(&status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_kind() {
        assert_eq!(Kind::of_id("wrp_0123"), Some(Kind::Deployments));
        assert_eq!(Kind::of_id("dep_0123"), Some(Kind::Deployments));
        assert_eq!(Kind::of_id("mmreq_1"), Some(Kind::Multimodal));
        assert_eq!(Kind::of_id("ctx_1"), Some(Kind::Contexts));
        assert_eq!(
            Kind::of_id("5f0c6d3e-8d8f-4b5e-9d6e-0c1f2a3b4c5d"),
            Some(Kind::Executions)
        );
        assert_eq!(Kind::of_id("nope"), None);
    }

    #[test]
    fn live_states_are_states() {
        for kind in Kind::ALL {
            assert!(kind.live().iter().all(|s| kind.states().contains(s)));
        }
    }
}
