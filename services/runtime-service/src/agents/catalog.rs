//! The agent catalog (SPEC §8): every agent the socket can reach, as data. In memory it holds the
//! builtin guide and one liaison per pillar; deployed wrappers live in SQL (the `agent_wrappers`
//! table is the durable deployed catalog, read per turn by `crate::wrappers::deployed_agent`, so
//! every replica serves the same ones). Which agent a turn is for is decided here and nowhere else:
//! [`AgentCatalog::deployed_named`] picks out turns for a deployed agent, [`AgentCatalog::resolve`]
//! validates agent types and pillars for the rest; the experience plane forwards what the client
//! said.

use platform_sdk::agent_wire::SubmitIntentPayload;

use super::Pillar;
use crate::configuration::ProviderKind;
use crate::error::RuntimeError;

/// What kind of agent it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    /// The guide: classifies and routes.
    Guide,
    /// A pillar's liaison.
    Liaison,
    /// A deployed specialist (a wrapper).
    Specialist,
}

impl AgentKind {
    /// The wire name (`agent_type` of executions and events).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guide => "guide",
            Self::Liaison => "liaison",
            Self::Specialist => "specialist",
        }
    }
}

/// An agent, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// `guide`, `liaison.<pillar>` or a wrapper id.
    pub agent_id: String,
    /// Guide, liaison or specialist.
    pub kind: AgentKind,
    /// Readable name.
    pub name: String,
    /// The system prompt given to the model provider.
    pub system_prompt: String,
    /// The provider that answers for it.
    pub provider: ProviderKind,
    /// The model it runs on (`builtin` for the builtin provider).
    pub model: String,
    /// Sampling temperature, when the agent sets one.
    pub temperature: Option<f32>,
    /// Answer length cap, when the agent sets one.
    pub max_output_tokens: Option<u32>,
    /// Actions of this agent that pause for a human, on top of the configured ones.
    pub approval_actions: Vec<String>,
    /// Version of the definition (a wrapper's semantic version; `1` for the builtin agents).
    pub version: String,
    /// The pillar a liaison serves.
    pub pillar: Option<Pillar>,
    /// A deployed `openai` agent's own model server; the platform's when `None`.
    pub base_url: Option<String>,
}

/// What the client asked for, raw (as the experience plane forwarded it).
#[derive(Debug, Clone, Copy, Default)]
pub struct AgentRequest<'a> {
    /// `guide`, `liaison`, `specialist`, anything else, or empty (not named).
    pub agent_type: &'a str,
    /// The pillar as the client named it.
    pub pillar: Option<&'a str>,
    /// The client's surface (`insights_pillar`, ...).
    pub surface: Option<&'a str>,
    /// A deployed agent's id (`metadata.agent_id`).
    pub agent_id: Option<&'a str>,
}

impl<'a> From<&'a SubmitIntentPayload> for AgentRequest<'a> {
    fn from(p: &'a SubmitIntentPayload) -> Self {
        Self {
            agent_type: &p.agent_type,
            pillar: p.pillar.as_deref(),
            surface: p.surface.as_deref(),
            agent_id: p.agent_id.as_deref(),
        }
    }
}

/// Every agent the runtime can run.
#[derive(Debug, Clone)]
pub struct AgentCatalog {
    guide: Agent,
    liaisons: [Agent; 4],
}

impl AgentCatalog {
    /// The builtin agents, served by `provider` on `model`.
    pub fn builtin(provider: ProviderKind, model: &str) -> Self {
        let agent = |agent_id: String, kind, name: String, system_prompt, pillar| Agent {
            agent_id,
            kind,
            name,
            system_prompt,
            provider,
            model: model.to_owned(),
            temperature: None,
            max_output_tokens: None,
            approval_actions: Vec::new(),
            version: "1".into(),
            pillar,
            base_url: None,
        };
        let guide = agent(
            "guide".into(),
            AgentKind::Guide,
            "Guide".into(),
            "You are the Symphainy guide. Work out what the user wants, answer briefly, and point \
             them to the right pillar: Content (files and data), Insights (analysis), Operations \
             (workflows and processes) or Business Outcomes (roadmaps and proposals)."
                .into(),
            None,
        );
        let liaisons = Pillar::ALL.map(|p| {
            agent(
                format!("liaison.{}", p.as_str()),
                AgentKind::Liaison,
                format!("{} liaison", p.title()),
                format!(
                    "You are the Symphainy {} liaison. Help the user get concrete work done in this pillar, step by step.",
                    p.title()
                ),
                Some(p),
            )
        });
        Self { guide, liaisons }
    }

    /// The guide.
    pub fn guide(&self) -> &Agent {
        &self.guide
    }

    /// The liaison of a pillar.
    pub fn liaison(&self, pillar: Pillar) -> &Agent {
        &self.liaisons[pillar.index()]
    }

    /// A builtin agent by its id.
    pub fn get(&self, agent_id: &str) -> Option<&Agent> {
        if agent_id == self.guide.agent_id {
            return Some(&self.guide);
        }
        self.liaisons.iter().find(|a| a.agent_id == agent_id)
    }

    fn liaison_of(&self, raw: &str) -> Result<&Agent, RuntimeError> {
        Pillar::parse(raw)
            .map(|p| self.liaison(p))
            .ok_or_else(|| RuntimeError::UnknownPillar(Some(raw.to_owned())))
    }

    /// The deployed agent (`wrp_…`) a turn is for, if it is for one: `metadata.agent_id` of a
    /// `specialist` (or unnamed) turn, else the conversation's own deployed agent when the client
    /// named nothing. Its definition is then read from the deployed catalog in SQL
    /// (`crate::wrappers::deployed_agent`); every other turn goes to [`Self::resolve`].
    pub fn deployed_named<'a>(
        request: AgentRequest<'a>,
        existing: Option<&'a str>,
    ) -> Option<&'a str> {
        let named = request.agent_id.map(str::trim).filter(|id| !id.is_empty());
        match request.agent_type.trim() {
            "specialist" => named,
            "" => named.or_else(|| {
                let unnamed = request.pillar.is_none() && request.surface.is_none();
                existing.filter(|id| unnamed && id.starts_with(crate::wrappers::ID_PREFIX))
            }),
            _ => None,
        }
    }

    /// The agent a turn goes to. `guide` → the guide; `liaison`/`specialist` → the liaison of
    /// the pillar (else of the surface, when it is a pillar); nothing named → the pillar's or
    /// surface's liaison, else the conversation's `existing` agent, else the guide. An anonymous
    /// session talks to the guide only.
    pub fn resolve(
        &self,
        request: AgentRequest<'_>,
        existing: Option<&str>,
        anonymous: bool,
    ) -> Result<&Agent, RuntimeError> {
        let pillar = request.pillar.map(str::trim).filter(|p| !p.is_empty());
        let surface = request.surface.and_then(Pillar::parse);
        let agent = match (request.agent_type.trim(), pillar, surface) {
            ("guide", _, _) => &self.guide,
            ("liaison" | "specialist" | "", Some(raw), _) => self.liaison_of(raw)?,
            ("liaison" | "specialist" | "", None, Some(p)) => self.liaison(p),
            ("liaison" | "specialist", None, None) => {
                return Err(RuntimeError::UnknownPillar(None))
            }
            ("", None, None) => existing.and_then(|id| self.get(id)).unwrap_or(&self.guide),
            (other, _, _) => return Err(RuntimeError::UnknownAgent(other.to_owned())),
        };
        if anonymous && agent.kind != AgentKind::Guide {
            return Err(RuntimeError::Validation {
                field: "agent_type",
                message: "anonymous sessions may only talk to the guide".into(),
            });
        }
        Ok(agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> AgentCatalog {
        AgentCatalog::builtin(ProviderKind::Builtin, "builtin")
    }

    fn ask<'a>(
        agent_type: &'a str,
        pillar: Option<&'a str>,
        surface: Option<&'a str>,
    ) -> AgentRequest<'a> {
        AgentRequest {
            agent_type,
            pillar,
            surface,
            agent_id: None,
        }
    }

    fn resolved(request: AgentRequest<'_>, existing: Option<&str>) -> Result<String, String> {
        catalog()
            .resolve(request, existing, false)
            .map(|a| a.agent_id.clone())
            .map_err(|e| format!("{}: {e}", e.code()))
    }

    #[test]
    fn resolution_table() {
        let ok = |id: &str| Ok::<String, String>(id.to_owned());
        let cases: Vec<(AgentRequest<'_>, Option<&str>, Result<String, String>)> = vec![
            (
                ask("guide", Some("content"), None),
                Some("liaison.insights"),
                ok("guide"),
            ),
            (
                ask("liaison", Some("journey"), None),
                None,
                ok("liaison.operations"),
            ),
            (
                ask("specialist", Some("Outcomes"), None),
                None,
                ok("liaison.business_outcomes"),
            ),
            (
                ask("liaison", None, Some("content_pillar")),
                None,
                ok("liaison.content"),
            ),
            (
                ask("liaison", Some(" "), Some("insights_pillar")),
                None,
                ok("liaison.insights"),
            ),
            (
                ask("liaison", None, None),
                None,
                Err("unknown_pillar: a liaison needs metadata.pillar".into()),
            ),
            (
                ask("liaison", None, Some("home")),
                None,
                Err("unknown_pillar: a liaison needs metadata.pillar".into()),
            ),
            (
                ask("liaison", Some("finance"), None),
                None,
                Err("unknown_pillar: unknown pillar `finance`".into()),
            ),
            (
                ask("wizard", Some("content"), None),
                None,
                Err("unknown_agent: unknown agent type `wizard`".into()),
            ),
            (
                ask("", Some("insights"), None),
                Some("guide"),
                ok("liaison.insights"),
            ),
            (
                ask("", Some("finance"), None),
                None,
                Err("unknown_pillar: unknown pillar `finance`".into()),
            ),
            (
                ask("", None, Some("operations_pillar")),
                Some("guide"),
                ok("liaison.operations"),
            ),
            (
                ask("", None, Some("home")),
                Some("liaison.content"),
                ok("liaison.content"),
            ),
            (
                ask("", None, None),
                Some("liaison.insights"),
                ok("liaison.insights"),
            ),
            (ask("", None, None), Some("retired-agent"), ok("guide")),
            (ask("", None, None), None, ok("guide")),
        ];
        for (request, existing, expected) in cases {
            assert_eq!(
                resolved(request, existing),
                expected,
                "{request:?} {existing:?}"
            );
        }
    }

    #[test]
    fn anonymous_sessions_talk_to_the_guide_only() {
        let catalog = catalog();
        assert!(catalog
            .resolve(ask("guide", None, None), None, true)
            .is_ok());
        assert!(matches!(
            catalog.resolve(ask("liaison", Some("content"), None), None, true),
            Err(RuntimeError::Validation {
                field: "agent_type",
                ..
            })
        ));
        assert!(matches!(
            catalog.resolve(ask("", None, None), Some("liaison.content"), true),
            Err(RuntimeError::Validation { .. })
        ));
    }

    #[test]
    fn deployed_agents_are_named_by_id_or_by_the_conversation() {
        let with_id = |agent_type, agent_id| AgentRequest {
            agent_type,
            agent_id,
            ..AgentRequest::default()
        };
        let named = AgentCatalog::deployed_named;
        assert_eq!(
            named(with_id("specialist", Some("wrp_1")), None),
            Some("wrp_1")
        );
        assert_eq!(
            named(with_id("", Some(" wrp_1 ")), Some("guide")),
            Some("wrp_1")
        );
        assert_eq!(named(with_id("", None), Some("wrp_2")), Some("wrp_2"));
        assert_eq!(named(with_id("", None), Some("liaison.content")), None);
        assert_eq!(named(with_id("guide", Some("wrp_1")), Some("wrp_2")), None);
        assert_eq!(named(with_id("specialist", None), Some("wrp_2")), None);
        let pillar = AgentRequest {
            pillar: Some("content"),
            ..AgentRequest::default()
        };
        assert_eq!(named(pillar, Some("wrp_2")), None, "a named pillar wins");
    }

    #[test]
    fn every_builtin_agent_is_found_by_its_id() {
        let catalog = catalog();
        assert_eq!(catalog.get("guide").map(|a| a.kind), Some(AgentKind::Guide));
        for p in Pillar::ALL {
            let liaison = catalog.get(&format!("liaison.{}", p.as_str()));
            assert_eq!(liaison.and_then(|a| a.pillar), Some(p));
        }
        assert!(catalog.get("liaison.finance").is_none());
    }
}
