//! Which consequential action a turn asks an agent to take. Today one deterministic keyword rule:
//! an agent that can run workflows (the Operations liaison, and deployed specialists, which act
//! on what their tenant gave them) asked to run / execute / start / launch / deploy a workflow,
//! process or automation is about to `execute_workflow`.

use crate::agents::{Agent, AgentKind, Pillar};

/// Whether `agent` can run workflows at all.
fn runs_workflows(agent: &Agent) -> bool {
    agent.kind == AgentKind::Specialist || agent.pillar == Some(Pillar::Operations)
}

/// The action a turn asks the agent to take that a human may have to approve, if any.
pub fn requested_action(agent: &Agent, text: &str) -> Option<(&'static str, String)> {
    let lower = text.to_lowercase();
    let verb = ["run ", "execute", "start ", "launch", "deploy"]
        .iter()
        .any(|v| lower.contains(v));
    let object = ["workflow", "process", "automation"]
        .iter()
        .any(|o| lower.contains(o));
    (runs_workflows(agent) && verb && object).then(|| {
        (
            "execute_workflow",
            format!(
                "Run the workflow the user asked for: \"{}\"",
                text.chars().take(160).collect::<String>()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::AgentCatalog;
    use crate::configuration::ProviderKind;

    #[test]
    fn running_a_workflow_is_an_action_of_operations_and_specialists_only() {
        let catalog = AgentCatalog::builtin(ProviderKind::Builtin, "builtin");
        let operations = catalog.liaison(Pillar::Operations);
        assert!(requested_action(operations, "please run the onboarding workflow").is_some());
        assert!(requested_action(operations, "describe the onboarding workflow").is_none());
        assert!(requested_action(catalog.liaison(Pillar::Content), "run the workflow").is_none());
        let specialist = Agent {
            kind: AgentKind::Specialist,
            pillar: None,
            ..operations.clone()
        };
        assert!(requested_action(&specialist, "run the workflow").is_some());
    }
}
