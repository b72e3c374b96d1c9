//! The guide's classifier: which domain a request is about, and how sure it is.
//! Deterministic keyword scoring — offline, explainable, and good enough to route a request.

use super::Pillar;

/// What the guide understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// `content`, `insights`, `operations`, `business_outcomes`, `navigation` or `general`.
    pub domain: &'static str,
    /// The pillar, when the domain is one.
    pub pillar: Option<Pillar>,
    /// 0..1, rounded to two decimals.
    pub confidence: f64,
    /// A short label of the intent (`upload_content`, `analyze_data`, ...).
    pub primary_intent: &'static str,
}

const RULES: &[(&str, &str, &[&str])] = &[
    (
        "content",
        "manage_content",
        &[
            "upload",
            "file",
            "document",
            "pdf",
            "csv",
            "spreadsheet",
            "content",
            "ingest",
            "parse",
            "data source",
            "import",
        ],
    ),
    (
        "insights",
        "analyze_data",
        &[
            "insight",
            "analy",
            "trend",
            "chart",
            "metric",
            "report",
            "dashboard",
            "visuali",
            "kpi",
            "anomal",
            "statistic",
        ],
    ),
    (
        "operations",
        "design_workflow",
        &[
            "workflow",
            "process",
            "sop",
            "procedure",
            "operation",
            "automat",
            "journey",
            "blueprint",
            "handoff",
            "approval",
        ],
    ),
    (
        "business_outcomes",
        "plan_outcomes",
        &[
            "outcome",
            "roadmap",
            "proposal",
            "roi",
            "business case",
            "strategy",
            "poc",
            "pilot",
            "value",
            "budget",
        ],
    ),
    (
        "navigation",
        "navigate",
        &[
            "where is",
            "where do",
            "how do i get",
            "navigate",
            "go to",
            "menu",
            "which page",
            "find the",
        ],
    ),
];

/// Rounds to two decimals, so the wire carries `0.85`, not `0.8500000000000001`.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Classifies a request.
pub fn classify(text: &str) -> Classification {
    let lower = text.to_lowercase();
    let mut best: Option<(&'static str, &'static str, usize)> = None;
    for (domain, intent, words) in RULES {
        let hits = words.iter().filter(|w| lower.contains(*w)).count();
        if hits > 0 && best.is_none_or(|(_, _, b)| hits > b) {
            best = Some((domain, intent, hits));
        }
    }
    match best {
        Some((domain, intent, hits)) => Classification {
            domain,
            pillar: Pillar::parse(domain),
            confidence: round2((0.55 + 0.15 * hits as f64).min(0.95)),
            primary_intent: intent,
        },
        None => Classification {
            domain: "general",
            pillar: None,
            confidence: 0.4,
            primary_intent: "general_question",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_domain() {
        assert_eq!(classify("I want to upload a PDF file").domain, "content");
        assert_eq!(
            classify("show me trends in this report").pillar,
            Some(Pillar::Insights)
        );
        assert_eq!(
            classify("automate our onboarding workflow").domain,
            "operations"
        );
        assert_eq!(
            classify("draft a roadmap and business case").domain,
            "business_outcomes"
        );
        assert_eq!(classify("where is the settings menu").domain, "navigation");
        let general = classify("hello there");
        assert_eq!(general.domain, "general");
        assert!(general.confidence < classify("upload a file").confidence);
    }

    #[test]
    fn confidences_have_two_decimals() {
        let two_hits = classify("upload a file");
        assert_eq!(two_hits.confidence, 0.85);
        assert_eq!(serde_json::json!(two_hits.confidence).to_string(), "0.85");
        for text in ["upload", "upload a file", "upload a pdf file", "hello"] {
            let c = classify(text).confidence;
            assert_eq!(c, round2(c), "{text}: {c}");
        }
    }
}
