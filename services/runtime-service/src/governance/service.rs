//! The policy decisions of a turn. The runner asks [`Governance::approval_required`] before the
//! agent acts; the waiting and the timeout are the runner's business, the decision is made here.

use super::actions::requested_action;
use crate::agents::Agent;

/// A step that must wait for a human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequired {
    /// The action (`execute_workflow`).
    pub action: String,
    /// What the human is asked to approve.
    pub description: String,
}

/// Decides what a turn may do.
#[derive(Debug, Clone, Default)]
pub struct Governance {
    approval_actions: Vec<String>,
}

impl Governance {
    /// The rules: actions that always pause for a human (setting `agents.approval_actions`).
    pub fn new(approval_actions: Vec<String>) -> Self {
        Self { approval_actions }
    }

    /// Whether the turn `text` to `agent` must wait for a human first, and for what.
    pub fn approval_required(&self, agent: &Agent, text: &str) -> Option<ApprovalRequired> {
        let (action, description) = requested_action(agent, text)?;
        self.approval_actions
            .iter()
            .chain(&agent.approval_actions)
            .any(|a| a == action)
            .then(|| ApprovalRequired {
                action: action.to_owned(),
                description,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{AgentCatalog, Pillar};
    use crate::configuration::ProviderKind;

    const ASK: &str = "please run the invoice approval workflow";

    #[test]
    fn configured_and_agent_actions_need_approval() {
        let catalog = AgentCatalog::builtin(ProviderKind::Builtin, "builtin");
        let operations = catalog.liaison(Pillar::Operations).clone();
        let configured = Governance::new(vec!["execute_workflow".into()]);
        let pending = configured.approval_required(&operations, ASK);
        assert_eq!(pending.map(|p| p.action), Some("execute_workflow".into()));
        assert!(configured
            .approval_required(catalog.liaison(Pillar::Content), ASK)
            .is_none());
        assert!(configured
            .approval_required(&operations, "describe the workflow")
            .is_none());

        let none = Governance::new(Vec::new());
        assert!(none.approval_required(&operations, ASK).is_none());
        let strict = Agent {
            approval_actions: vec!["execute_workflow".into()],
            ..operations
        };
        assert!(none.approval_required(&strict, ASK).is_some());
    }
}
