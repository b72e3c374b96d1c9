//! The governance core's rule (SPEC §10), free of storage: the trust a plan is judged with is
//! the base (the agent's aggregate, or 0.75 without an agent), plus an operator's
//! `MODIFY_TRUST_SCORE` adjustment (applied first), plus the plan's `trust_factor`, clamped to
//! [0, 1]. `HALT_IMMEDIATE` rejects whatever the rest says. Otherwise the plan is rejected when
//! its trust is below 0.3 or it carries `reject_this_plan: true`, and accepted otherwise; an
//! operator's `FORCE_ACCEPT_PLAN` turns a rejection into `ACCEPTED_WITH_OVERRIDE` (on a plan that
//! is accepted anyway it changes nothing).

use platform_sdk::trust_wire::{OperatorOverride, PlanDetails};

/// The starting trust of a plan that names no agent.
pub const DEFAULT_TRUST: f64 = 0.75;
/// A plan judged with less trust than this is rejected.
pub const REJECT_BELOW: f64 = 0.3;

/// What the core decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The plan goes ahead.
    Accepted,
    /// It does not.
    Rejected,
    /// It would have been rejected; an operator accepted it.
    AcceptedWithOverride,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Rejected => "REJECTED",
            Self::AcceptedWithOverride => "ACCEPTED_WITH_OVERRIDE",
        }
    }
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The outcome.
    pub outcome: Outcome,
    /// One sentence.
    pub reason: String,
    /// The trust the plan was judged with.
    pub trust: f64,
    /// True when the outcome is the operator's, not the plan's.
    pub override_required: bool,
}

/// Judges a plan starting from `base` trust.
pub fn judge(base: f64, plan: &PlanDetails, signal: Option<&OperatorOverride>) -> Judgement {
    let of_type = |t: &str| signal.filter(|s| s.override_type == t);
    let adjustment = of_type("MODIFY_TRUST_SCORE")
        .and_then(|s| s.trust_score_adjustment)
        .unwrap_or(0.0);
    let trust = (base + adjustment + plan.trust_factor.unwrap_or(0.0)).clamp(0.0, 1.0);
    if let Some(halt) = of_type("HALT_IMMEDIATE") {
        return Judgement {
            outcome: Outcome::Rejected,
            reason: format!(
                "halted by operator {}: {}",
                halt.issuing_operator_id, halt.reason
            ),
            trust,
            override_required: true,
        };
    }
    let refusal = if plan.reject_this_plan == Some(true) {
        Some("the plan is marked reject_this_plan".to_owned())
    } else if trust < REJECT_BELOW {
        Some(format!("trust {trust:.4} is below {REJECT_BELOW}"))
    } else {
        None
    };
    match (refusal, of_type("FORCE_ACCEPT_PLAN")) {
        (Some(why), Some(force)) => Judgement {
            outcome: Outcome::AcceptedWithOverride,
            reason: format!(
                "{why}; accepted by operator {}: {}",
                force.issuing_operator_id, force.reason
            ),
            trust,
            override_required: true,
        },
        (Some(why), None) => Judgement {
            outcome: Outcome::Rejected,
            reason: why,
            trust,
            override_required: false,
        },
        (None, _) => Judgement {
            outcome: Outcome::Accepted,
            reason: format!("trust {trust:.4} is at least {REJECT_BELOW}"),
            trust,
            override_required: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(trust_factor: Option<f64>, reject: Option<bool>) -> PlanDetails {
        PlanDetails {
            trust_factor,
            reject_this_plan: reject,
            ..PlanDetails::default()
        }
    }

    fn signal(t: &str, adjustment: Option<f64>) -> OperatorOverride {
        OperatorOverride {
            override_signal_id: "o1".into(),
            override_type: t.into(),
            reason: "checked by hand".into(),
            issuing_operator_id: "op-7".into(),
            trust_score_adjustment: adjustment,
        }
    }

    #[test]
    fn trust_decides_a_plain_plan() {
        let j = judge(DEFAULT_TRUST, &plan(None, None), None);
        assert_eq!(
            (j.outcome, j.trust, j.override_required),
            (Outcome::Accepted, 0.75, false)
        );
        let j = judge(DEFAULT_TRUST, &plan(Some(-0.5), None), None);
        assert_eq!((j.outcome, j.trust), (Outcome::Rejected, 0.25));
        assert!(j.reason.contains("below 0.3"), "{}", j.reason);
        let j = judge(0.9, &plan(Some(0.5), None), None);
        assert_eq!(j.trust, 1.0, "clamped");
        let j = judge(0.1, &plan(Some(-0.5), None), None);
        assert_eq!(j.trust, 0.0, "clamped");
    }

    #[test]
    fn the_flag_rejects_and_force_accept_overrides_it() {
        let flagged = plan(None, Some(true));
        assert_eq!(judge(0.75, &flagged, None).outcome, Outcome::Rejected);
        let forced = judge(0.75, &flagged, Some(&signal("FORCE_ACCEPT_PLAN", None)));
        assert_eq!(forced.outcome, Outcome::AcceptedWithOverride);
        assert!(forced.override_required && forced.reason.contains("op-7"));
        let needless = judge(
            0.75,
            &plan(None, None),
            Some(&signal("FORCE_ACCEPT_PLAN", None)),
        );
        assert_eq!(
            (needless.outcome, needless.override_required),
            (Outcome::Accepted, false)
        );
    }

    #[test]
    fn halt_rejects_and_modify_adjusts_first() {
        let halted = judge(
            0.75,
            &plan(None, None),
            Some(&signal("HALT_IMMEDIATE", None)),
        );
        assert_eq!(
            (halted.outcome, halted.override_required),
            (Outcome::Rejected, true)
        );
        let lowered = judge(
            0.75,
            &plan(None, None),
            Some(&signal("MODIFY_TRUST_SCORE", Some(-0.5))),
        );
        assert_eq!((lowered.outcome, lowered.trust), (Outcome::Rejected, 0.25));
        let raised = judge(
            0.2,
            &plan(Some(0.05), None),
            Some(&signal("MODIFY_TRUST_SCORE", Some(0.25))),
        );
        assert_eq!(raised.outcome, Outcome::Accepted);
        assert!((raised.trust - 0.5).abs() < 1e-12);
    }
}
