//! Which consequential action a turn asks an agent to take. Today one deterministic keyword rule:
//! an Operations liaison asked to run / execute / start / launch / deploy a workflow, process or
//! automation is about to `execute_workflow`.

use crate::agents::Pillar;

/// The action a turn asks the agent to take that a human may have to approve, if any.
pub fn requested_action(pillar: Option<Pillar>, text: &str) -> Option<(&'static str, String)> {
    let lower = text.to_lowercase();
    let verb = ["run ", "execute", "start ", "launch", "deploy"]
        .iter()
        .any(|v| lower.contains(v));
    let object = ["workflow", "process", "automation"]
        .iter()
        .any(|o| lower.contains(o));
    (pillar == Some(Pillar::Operations) && verb && object).then(|| {
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

    #[test]
    fn running_a_workflow_needs_approval_only_in_operations() {
        assert!(requested_action(
            Some(Pillar::Operations),
            "please run the onboarding workflow"
        )
        .is_some());
        assert!(
            requested_action(Some(Pillar::Operations), "describe the onboarding workflow")
                .is_none()
        );
        assert!(requested_action(Some(Pillar::Content), "run the workflow").is_none());
    }
}
