//! The agents the platform ships with and how a client names them.

use serde::Deserialize;

/// The four pillars a liaison can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pillar {
    /// Files, documents, data sources.
    Content,
    /// Analysis, trends, reports.
    Insights,
    /// Workflows, SOPs, processes.
    Operations,
    /// Roadmaps, proposals, business value.
    BusinessOutcomes,
}

impl Pillar {
    /// Every pillar.
    pub const ALL: [Pillar; 4] = [
        Pillar::Content,
        Pillar::Insights,
        Pillar::Operations,
        Pillar::BusinessOutcomes,
    ];

    /// Resolves a pillar name or alias (`journey` → operations, `outcomes` → business_outcomes,
    /// `*_pillar` surfaces, any case).
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match platform_sdk::agent_wire::pillar_name(raw)? {
            "content" => Self::Content,
            "insights" => Self::Insights,
            "operations" => Self::Operations,
            _ => Self::BusinessOutcomes,
        })
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Content => "content",
            Self::Insights => "insights",
            Self::Operations => "operations",
            Self::BusinessOutcomes => "business_outcomes",
        }
    }

    /// A readable name.
    pub fn title(self) -> &'static str {
        match self {
            Self::Content => "Content",
            Self::Insights => "Insights",
            Self::Operations => "Operations",
            Self::BusinessOutcomes => "Business Outcomes",
        }
    }
}

/// An agent: id, type, pillar and system prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    /// `guide` or `liaison.<pillar>`.
    pub id: String,
    /// `guide` or `liaison`.
    pub agent_type: &'static str,
    /// The liaison's pillar.
    pub pillar: Option<Pillar>,
    /// The system prompt given to a model provider.
    pub system_prompt: String,
}

/// Why an agent could not be resolved.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AgentError {
    /// The agent type is not one we run.
    #[error("unknown agent type `{0}` (expected guide or liaison)")]
    UnknownAgent(String),
    /// A liaison needs a known pillar.
    #[error("unknown pillar `{0}` (expected content, insights, operations or business_outcomes)")]
    UnknownPillar(String),
}

/// The guide.
pub fn guide() -> AgentSpec {
    AgentSpec {
        id: "guide".into(),
        agent_type: "guide",
        pillar: None,
        system_prompt: "You are the Symphainy guide. Work out what the user wants, answer briefly, and point \
                        them to the right pillar: Content (files and data), Insights (analysis), Operations \
                        (workflows and processes) or Business Outcomes (roadmaps and proposals)."
            .into(),
    }
}

/// The liaison of a pillar.
pub fn liaison(pillar: Pillar) -> AgentSpec {
    AgentSpec {
        id: format!("liaison.{}", pillar.as_str()),
        agent_type: "liaison",
        pillar: Some(pillar),
        system_prompt: format!(
            "You are the Symphainy {} liaison. Help the user get concrete work done in this pillar, step by step.",
            pillar.title()
        ),
    }
}

/// Resolves an agent from the client's `agent_type` and pillar.
pub fn resolve(agent_type: &str, pillar: Option<&str>) -> Result<AgentSpec, AgentError> {
    match agent_type {
        "guide" => Ok(guide()),
        "liaison" | "specialist" => {
            let raw = pillar.unwrap_or_default();
            let pillar =
                Pillar::parse(raw).ok_or_else(|| AgentError::UnknownPillar(raw.to_owned()))?;
            Ok(liaison(pillar))
        }
        other => Err(AgentError::UnknownAgent(other.to_owned())),
    }
}

/// Resolves a stored agent id (`guide`, `liaison.operations`).
pub fn by_id(id: &str) -> Option<AgentSpec> {
    match id.strip_prefix("liaison.") {
        Some(p) => Pillar::parse(p).map(liaison),
        None if id == "guide" => Some(guide()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_aliases() {
        assert_eq!(Pillar::parse("journey"), Some(Pillar::Operations));
        assert_eq!(Pillar::parse("outcomes"), Some(Pillar::BusinessOutcomes));
        assert_eq!(Pillar::parse("Content_Pillar"), Some(Pillar::Content));
        assert_eq!(Pillar::parse("insights_pillar"), Some(Pillar::Insights));
        assert_eq!(Pillar::parse("finance"), None);
        assert_eq!(
            resolve("liaison", Some("journey")).unwrap().id,
            "liaison.operations"
        );
        assert!(matches!(
            resolve("liaison", None),
            Err(AgentError::UnknownPillar(_))
        ));
        assert!(matches!(
            resolve("wizard", None),
            Err(AgentError::UnknownAgent(_))
        ));
        assert_eq!(
            by_id("liaison.business_outcomes").unwrap().pillar,
            Some(Pillar::BusinessOutcomes)
        );
    }
}
