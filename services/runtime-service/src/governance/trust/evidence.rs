//! What counts as evidence of which dimension (docs/adr/0020-trust-from-evidence.md): a finished
//! execution, a tracked event (SPEC §11), a policy violation. Pure functions; the hooks that call
//! them are `executions::storage::finish`, the usage track storage and the policy engine.

use platform_sdk::agent_wire::ExecutionStatus;

use super::model::Evidence;
use crate::usage::track::{EventType, Tracked};

/// The latency objective of an execution when none is configured (`agents.latency_slo_ms`).
pub const DEFAULT_SLO_MS: i64 = 10_000;

/// The reason the runner gives when the user cancelled an execution (the only cancellation
/// that is no evidence about the agent).
pub const CANCELLED_BY_USER: &str = "cancelled by the user";

/// How an execution ended, as the evidence needs it.
#[derive(Debug, Clone, Copy)]
pub struct Ending<'a> {
    /// `completed`, `failed` or `cancelled`.
    pub status: ExecutionStatus,
    /// Its error, or why it was cancelled.
    pub error: Option<&'a str>,
    /// Created → ended, ms.
    pub total_ms: i64,
    /// The latency objective, ms.
    pub slo_ms: i64,
    /// The answer of a completed execution.
    pub answer: Option<&'a str>,
    /// Whether that answer passed every output policy.
    pub output_clean: bool,
}

/// The evidence of a finished execution: completed → competence 1 and reliability 1 (0 when it
/// took longer than the SLO), transparency from its answer, honesty 1 when its answer passed
/// every output policy (one that did not was a violation, observed when decided); failed → competence 0, reliability
/// 0; cancelled by the system (a rejected approval, anything but the user) → reliability 0;
/// cancelled by the user, or for no stated reason → none.
pub fn of_execution(e: &Ending<'_>) -> Evidence {
    match e.status {
        ExecutionStatus::Completed => Evidence {
            competence: Some(1.0),
            reliability: Some(if e.total_ms > e.slo_ms { 0.0 } else { 1.0 }),
            honesty: e.output_clean.then_some(1.0),
            transparency: e.answer.map(transparency_of),
        },
        ExecutionStatus::Failed => Evidence {
            competence: Some(0.0),
            reliability: Some(0.0),
            ..Evidence::default()
        },
        ExecutionStatus::Cancelled => match e.error {
            Some(reason) if reason != CANCELLED_BY_USER => Evidence {
                reliability: Some(0.0),
                ..Evidence::default()
            },
            _ => Evidence::default(),
        },
        ExecutionStatus::Created
        | ExecutionStatus::Executing
        | ExecutionStatus::AwaitingApproval
        | ExecutionStatus::Paused => Evidence::default(),
    }
}

/// The evidence of a tracked event: an `invocation` with outcome `success` → reliability 1, with
/// `failure` → 0; an `error` → reliability 0; `feedback` rated `r` → competence `(r − 1) / 4`;
/// anything else → none.
pub fn of_tracked(t: &Tracked) -> Evidence {
    match t.event_type {
        EventType::Invocation => Evidence {
            reliability: t.success.map(|ok| if ok { 1.0 } else { 0.0 }),
            ..Evidence::default()
        },
        EventType::Error => Evidence {
            reliability: Some(0.0),
            ..Evidence::default()
        },
        EventType::Feedback => Evidence {
            competence: t.rating.map(|r| (r - 1) as f64 / 4.0),
            ..Evidence::default()
        },
        EventType::Custom => Evidence::default(),
    }
}

/// The honesty observation of a violation by severity: `high` 0.0, `medium` 0.3, `low` 0.6
/// (anything else counts as `high`).
pub fn honesty_of(severity: &str) -> f64 {
    match severity {
        "low" => 0.6,
        "medium" => 0.3,
        _ => 0.0,
    }
}

/// The transparency observation of an answer: 1.0 when it gives a rationale (the word `because`,
/// `since`, `therefore`, `reason(s)` or `reasoning`) or a stated confidence (the word
/// `confidence` / `confident`, or a percentage such as `80%`), else 0.0.
pub fn transparency_of(answer: &str) -> f64 {
    let lower = answer.to_lowercase();
    let words = lower.split(|c: char| !c.is_alphanumeric());
    let explained = words.into_iter().any(|w| {
        matches!(
            w,
            "because"
                | "since"
                | "therefore"
                | "reason"
                | "reasons"
                | "reasoning"
                | "confidence"
                | "confident"
        )
    });
    let percentage = lower
        .char_indices()
        .filter(|&(_, c)| c == '%')
        .any(|(i, _)| {
            lower[..i]
                .trim_end()
                .ends_with(|c: char| c.is_ascii_digit())
        });
    if explained || percentage {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(status: ExecutionStatus) -> Ending<'static> {
        Ending {
            status,
            error: None,
            total_ms: 800,
            slo_ms: DEFAULT_SLO_MS,
            answer: None,
            output_clean: false,
        }
    }

    #[test]
    fn executions_map_to_competence_and_reliability() {
        use ExecutionStatus::*;
        let done = of_execution(&Ending {
            answer: Some("Done."),
            ..ending(Completed)
        });
        assert_eq!(
            done,
            Evidence {
                competence: Some(1.0),
                reliability: Some(1.0),
                honesty: None,
                transparency: Some(0.0)
            }
        );
        let clean = of_execution(&Ending {
            answer: Some("Done."),
            output_clean: true,
            ..ending(Completed)
        });
        assert_eq!(clean.honesty, Some(1.0));
        let slow = of_execution(&Ending {
            total_ms: DEFAULT_SLO_MS + 1,
            ..ending(Completed)
        });
        assert_eq!((slow.competence, slow.reliability), (Some(1.0), Some(0.0)));
        let on_time = of_execution(&Ending {
            total_ms: DEFAULT_SLO_MS,
            ..ending(Completed)
        });
        assert_eq!(on_time.reliability, Some(1.0));
        let failed = of_execution(&ending(Failed));
        assert_eq!(
            (failed.competence, failed.reliability),
            (Some(0.0), Some(0.0))
        );
        let rejected = of_execution(&Ending {
            error: Some("not today"),
            ..ending(Cancelled)
        });
        assert_eq!(
            rejected,
            Evidence {
                reliability: Some(0.0),
                ..Evidence::default()
            }
        );
        let by_user = of_execution(&Ending {
            error: Some(CANCELLED_BY_USER),
            ..ending(Cancelled)
        });
        assert!(by_user.is_empty());
        assert!(of_execution(&ending(Cancelled)).is_empty());
    }

    #[test]
    fn tracked_events_map_to_reliability_and_competence() {
        let t = |event_type, success, rating| Tracked {
            event_type,
            success,
            latency_ms: None,
            rating,
            details: "{}".into(),
        };
        use EventType::*;
        assert_eq!(
            of_tracked(&t(Invocation, Some(true), None)).reliability,
            Some(1.0)
        );
        assert_eq!(
            of_tracked(&t(Invocation, Some(false), None)).reliability,
            Some(0.0)
        );
        assert!(of_tracked(&t(Invocation, None, None)).is_empty());
        assert_eq!(
            of_tracked(&t(Error, Some(true), None)).reliability,
            Some(0.0)
        );
        let ratings: Vec<Option<f64>> = (1..=5)
            .map(|r| of_tracked(&t(Feedback, None, Some(r))).competence)
            .collect();
        assert_eq!(ratings, [0.0, 0.25, 0.5, 0.75, 1.0].map(Some));
        assert!(of_tracked(&t(Feedback, None, None)).is_empty());
        assert!(of_tracked(&t(Custom, Some(false), None)).is_empty());
    }

    #[test]
    fn honesty_falls_with_severity() {
        assert_eq!(["high", "medium", "low"].map(honesty_of), [0.0, 0.3, 0.6]);
    }

    #[test]
    fn transparency_needs_a_rationale_or_a_confidence() {
        for explained in [
            "Use the Content pillar because your files are there.",
            "Since the data is monthly, chart it by month.",
            "Therefore: step two.",
            "The reason is the missing column.",
            "My reasoning: two sources agree.",
            "I am fairly confident this is right.",
            "Confidence: high.",
            "About 80% of the rows match.",
            "About 80 % of the rows match.",
        ] {
            assert_eq!(transparency_of(explained), 1.0, "{explained}");
        }
        for plain in [
            "Upload the files, then tag them.",
            "Streaming works: this answer arrives in twelve small pieces from the model.",
            "A reasonable plan, seasonally adjusted.",
        ] {
            assert_eq!(transparency_of(plain), 0.0, "{plain}");
        }
        assert_eq!(transparency_of("% without a number"), 0.0);
        assert_eq!(transparency_of(""), 0.0);
    }
}
