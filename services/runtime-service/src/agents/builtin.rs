//! The builtin provider: deterministic, offline, and useful. It answers from what each pillar of
//! the platform does, shaped by what the user asked (the classifier's reading and the terms they
//! used), and streams the answer in small chunks exactly like a model would.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::classifier::classify;
use super::Pillar;
use super::{Agent, AgentKind, ModelProvider, ModelRequest, ProviderError};

/// What each pillar is for, and the first concrete steps in it.
fn pillar_brief(pillar: Pillar) -> (&'static str, &'static [&'static str]) {
    match pillar {
        Pillar::Content => (
            "The Content pillar is where your material enters the platform: files, documents and data \
             sources are uploaded, parsed into structured form and kept with their metadata so the other \
             pillars can use them.",
            &[
                "upload the files (PDF, Word, spreadsheets, CSV or JSON) or connect the data source",
                "check the parsed preview: tables, text blocks and detected fields",
                "tag each file with what it describes so Insights and Operations can find it",
            ],
        ),
        Pillar::Insights => (
            "The Insights pillar turns parsed content into understanding: summaries, trends, anomalies and \
             charts, with the numbers traced back to their source rows.",
            &[
                "pick the dataset or documents to analyse (they must be in Content first)",
                "state the question: a trend over time, a comparison, or what stands out",
                "review the findings and save the ones worth sharing as a report",
            ],
        ),
        Pillar::Operations => (
            "The Operations pillar maps how work gets done: it turns SOPs and process descriptions into \
             workflows, shows hand-offs and bottlenecks, and can run a workflow once a person approves it.",
            &[
                "describe the process or upload its SOP",
                "review the generated workflow: steps, owners and hand-offs",
                "mark the steps to automate and ask me to run the workflow when it is ready",
            ],
        ),
        Pillar::BusinessOutcomes => (
            "The Business Outcomes pillar connects the work to value: it assembles roadmaps, proposals and \
             business cases from what Content, Insights and Operations produced.",
            &[
                "name the outcome you are after and who it is for",
                "pull in the insights and workflows that support it",
                "generate the roadmap or proposal and refine its phases, costs and risks",
            ],
        ),
    }
}

/// The few content words of the request, to show it was read (not echoed).
fn key_terms(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "the", "a", "an", "and", "or", "to", "of", "in", "on", "for", "with", "my", "our", "me",
        "i", "we", "you", "is", "are", "be", "can", "how", "what", "do", "it", "this", "that",
        "please", "want", "would", "like", "help", "need", "some", "from", "about", "could",
    ];
    let mut terms: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.len() > 2 && !STOP.contains(&w.as_str()))
    {
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == 3 {
            break;
        }
    }
    terms
}

fn steps(list: &[&str]) -> String {
    list.iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {}", i + 1, capitalise(s)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// The guide's answer.
pub fn guide_answer(text: &str) -> String {
    let reading = classify(text);
    let about = match key_terms(text).as_slice() {
        [] => String::new(),
        terms => format!(" about {}", terms.join(", ")),
    };
    match reading.pillar {
        Some(pillar) => {
            let (brief, first) = pillar_brief(pillar);
            format!(
                "Your request{about} belongs to the {} pillar. {brief}\n\nTo get going:\n{}\n\nThe {} liaison \
                 can take you through it step by step; I recommend continuing with them.",
                pillar.title(),
                steps(first),
                pillar.title()
            )
        }
        None if reading.domain == "navigation" => format!(
            "Here is how the platform is laid out{about}: Content (upload and parse files and data), \
             Insights (analyse them), Operations (turn processes into workflows and run them) and Business \
             Outcomes (roadmaps and proposals). Each has its own page in the main menu and its own liaison \
             agent; tell me what you want to do and I will point you to the right one."
        ),
        None => format!(
            "I am the guide{about}. I can point you to the right place: Content for files and data, \
             Insights for analysis, Operations for workflows and processes, and Business Outcomes for \
             roadmaps and proposals. What are you trying to get done?"
        ),
    }
}

/// A liaison's answer.
pub fn liaison_answer(pillar: Pillar, text: &str, approved_action: Option<&str>) -> String {
    let (brief, first) = pillar_brief(pillar);
    if let Some(action) = approved_action {
        return format!(
            "Approved: {action} is under way. I will report each step as it completes; you can cancel it \
             at any time from this conversation."
        );
    }
    let focus = match key_terms(text).as_slice() {
        [] => String::new(),
        terms => format!("For {}, here", terms.join(", ")),
    };
    let lead = if focus.is_empty() {
        "Here".to_owned()
    } else {
        focus
    };
    format!(
        "{brief}\n\n{lead} is how I would proceed:\n{}\n\nTell me which step you want to start with.",
        steps(first)
    )
}

/// A deployed specialist's answer on the builtin provider: honest about being the offline model
/// (it cannot follow a prompt), and shaped by the agent's own name and brief and what was asked.
pub fn specialist_answer(agent: &Agent, text: &str, approved_action: Option<&str>) -> String {
    if let Some(action) = approved_action {
        return format!(
            "Approved: {action} is under way. I will report each step as it completes; you can cancel it \
             at any time from this conversation."
        );
    }
    let about = match key_terms(text).as_slice() {
        [] => "your question".to_owned(),
        terms => format!("your question about {}", terms.join(", ")),
    };
    let brief: String = agent
        .system_prompt
        .split_inclusive(['.', '\n'])
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(160)
        .collect();
    format!(
        "{} here (version {}). I have {about}. My brief: \"{brief}\" I am running on the platform's \
         offline builtin model, which answers from fixed knowledge and does not follow a prompt; deploy \
         me with the `openai` provider for answers from a real model.",
        agent.name, agent.version
    )
}

/// Splits an answer into stream chunks of about a line (64+ bytes), keeping every character.
pub fn chunks(answer: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for piece in answer.split_inclusive(' ') {
        current.push_str(piece);
        if current.len() >= 64 {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The provider.
pub struct BuiltinProvider;

#[async_trait]
impl ModelProvider for BuiltinProvider {
    async fn stream(
        &self,
        request: ModelRequest,
        out: mpsc::Sender<String>,
    ) -> Result<String, ProviderError> {
        let approved = request.history.last().and_then(|(role, content)| {
            (role == "system" && content.starts_with("approved:"))
                .then(|| content.trim_start_matches("approved:").to_owned())
        });
        let agent = &request.agent;
        let answer = match (agent.kind, agent.pillar) {
            (AgentKind::Specialist, _) => {
                specialist_answer(agent, &request.text, approved.as_deref())
            }
            (_, Some(pillar)) => liaison_answer(pillar, &request.text, approved.as_deref()),
            (_, None) => guide_answer(&request.text),
        };
        for chunk in chunks(&answer) {
            if out.send(chunk).await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_grounded_and_chunks_rebuild_them() {
        let guide = guide_answer("I need to upload our quarterly sales spreadsheet");
        assert!(guide.contains("Content pillar"));
        assert!(guide.contains("quarterly"));
        assert!(!guide.contains("I need to upload our quarterly sales spreadsheet"));
        let ops = liaison_answer(Pillar::Operations, "map the invoice approval process", None);
        assert!(ops.contains("workflow"));
        assert_eq!(chunks(&ops).concat(), ops);
        assert!(chunks(&ops).len() > 3);
        let specialist = Agent {
            agent_id: "wrp_1".into(),
            kind: AgentKind::Specialist,
            name: "Invoice helper".into(),
            system_prompt: "You are the invoice specialist. Be brief.".into(),
            version: "1.2.0".into(),
            ..crate::agents::AgentCatalog::builtin(
                crate::configuration::ProviderKind::Builtin,
                "builtin",
            )
            .guide()
            .clone()
        };
        let answer = specialist_answer(&specialist, "how do I file a supplier invoice?", None);
        assert!(
            answer.starts_with("Invoice helper here (version 1.2.0)"),
            "{answer}"
        );
        assert!(
            answer.contains("\"You are the invoice specialist.\""),
            "{answer}"
        );
        assert!(answer.contains("supplier"), "{answer}");
    }
}
