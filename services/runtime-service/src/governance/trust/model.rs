//! The arithmetic of trust (SPEC §10, docs/adr/0020-trust-from-evidence.md), free of storage:
//! each dimension is an exponentially weighted mean `v ← (1 − α)·v + α·x` (α = 0.2) of its
//! observations `x ∈ [0, 1]`, starting at 0.5; confidence is `min(1, n / 20)` for `n` pieces of
//! evidence; the aggregate is the mean of the four dimensions. A step also says which
//! `trust.alert`s it raises: a dimension with evidence that *becomes* lower than 0.7 while
//! confidence is at least 0.5 (a dimension nothing has observed still holds the starting 0.5,
//! which is no finding about the agent), and an aggregate more than 0.1 below its peak since the
//! last such alert.

/// The weight of a new observation.
pub const ALPHA: f64 = 0.2;
/// Every dimension's value before any evidence (and the first peak).
pub const START: f64 = 0.5;
/// Pieces of evidence at which confidence reaches 1.
pub const FULL_CONFIDENCE_AT: i64 = 20;
/// A dimension under this (at enough confidence) raises an alert.
pub const ALERT_BELOW: f64 = 0.7;
/// The confidence from which a low dimension raises an alert.
pub const ALERT_CONFIDENCE: f64 = 0.5;
/// An aggregate more than this below its peak raises an alert.
pub const ALERT_DROP: f64 = 0.1;
/// Slack in the threshold comparisons, so that float rounding (0.6 − 0.5 = 0.0999…98) never
/// decides an alert: a value within it of a threshold counts as on the threshold.
const SLACK: f64 = 1e-9;

/// The dimensions' names, in the order of [`State::dims`] and [`Evidence::observed`].
pub const DIMENSIONS: [&str; 4] = ["competence", "reliability", "honesty", "transparency"];

/// One piece of evidence: each `Some(x)` is one observation `x ∈ [0, 1]` of that dimension.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Evidence {
    /// Did the agent do the job.
    pub competence: Option<f64>,
    /// Did it finish, in time.
    pub reliability: Option<f64>,
    /// Did it keep to the policies.
    pub honesty: Option<f64>,
    /// Did it explain itself.
    pub transparency: Option<f64>,
}

impl Evidence {
    /// The observations in [`DIMENSIONS`] order.
    pub fn observed(&self) -> [Option<f64>; 4] {
        [
            self.competence,
            self.reliability,
            self.honesty,
            self.transparency,
        ]
    }

    /// True when it observes nothing (then it is no evidence at all).
    pub fn is_empty(&self) -> bool {
        self.observed().iter().all(Option::is_none)
    }
}

/// An agent's trust.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    /// The dimensions in [`DIMENSIONS`] order.
    pub dims: [f64; 4],
    /// Which dimensions have had at least one observation.
    pub observed: [bool; 4],
    /// Pieces of evidence so far.
    pub count: i64,
    /// The highest aggregate since the last aggregate alert.
    pub peak: f64,
}

impl State {
    /// Before any evidence.
    pub fn initial() -> Self {
        Self {
            dims: [START; 4],
            observed: [false; 4],
            count: 0,
            peak: START,
        }
    }

    /// The mean of the dimensions.
    pub fn aggregate(&self) -> f64 {
        self.dims.iter().sum::<f64>() / self.dims.len() as f64
    }

    /// `min(1, count / 20)`.
    pub fn confidence(&self) -> f64 {
        (self.count as f64 / FULL_CONFIDENCE_AT as f64).min(1.0)
    }

    /// True when dimension `i` has evidence and is low enough, at enough confidence, to be
    /// alerted on.
    fn alarming(&self, i: usize) -> bool {
        self.observed[i]
            && self.dims[i] < ALERT_BELOW - SLACK
            && self.confidence() >= ALERT_CONFIDENCE - SLACK
    }

    /// [`Self::observed`] as bits (bit `i` for dimension `i`), as stored.
    pub fn observed_mask(&self) -> i64 {
        (0..4).filter(|&i| self.observed[i]).map(|i| 1 << i).sum()
    }

    /// [`Self::observed`] from its stored bits.
    pub fn observed_from(mask: i64) -> [bool; 4] {
        [0, 1, 2, 3].map(|i| mask & (1 << i) != 0)
    }
}

/// A `trust.alert` raised by a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Alert {
    /// A dimension fell below 0.7 at confidence ≥ 0.5.
    Dimension {
        /// Which one.
        name: &'static str,
        /// Its value now.
        value: f64,
        /// Its value before.
        previous: f64,
    },
    /// The aggregate dropped more than 0.1 below its peak.
    Aggregate {
        /// The aggregate now.
        value: f64,
        /// The peak it dropped from.
        peak: f64,
    },
}

/// The state after one piece of evidence, and the alerts it raises.
pub fn step(before: &State, evidence: &Evidence) -> (State, Vec<Alert>) {
    let mut next = *before;
    next.count += 1;
    for (i, seen) in evidence.observed().into_iter().enumerate() {
        if let Some(x) = seen {
            next.dims[i] = (1.0 - ALPHA) * next.dims[i] + ALPHA * x.clamp(0.0, 1.0);
            next.observed[i] = true;
        }
    }
    let mut alerts: Vec<Alert> = (0..DIMENSIONS.len())
        .filter(|&i| next.alarming(i) && !before.alarming(i))
        .map(|i| Alert::Dimension {
            name: DIMENSIONS[i],
            value: next.dims[i],
            previous: before.dims[i],
        })
        .collect();
    let aggregate = next.aggregate();
    if before.peak - aggregate > ALERT_DROP + SLACK {
        alerts.push(Alert::Aggregate {
            value: aggregate,
            peak: before.peak,
        });
        next.peak = aggregate;
    } else {
        next.peak = before.peak.max(aggregate);
    }
    (next, alerts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    const FAILED: Evidence = Evidence {
        competence: Some(0.0),
        reliability: Some(0.0),
        honesty: None,
        transparency: None,
    };

    #[test]
    fn each_observed_dimension_moves_a_fifth_of_the_way() {
        let (s, alerts) = step(&State::initial(), &FAILED);
        assert_eq!(s.dims, [0.4, 0.4, 0.5, 0.5]);
        assert_eq!((s.count, s.confidence()), (1, 0.05));
        assert!(close(s.aggregate(), 0.45));
        assert!(
            alerts.is_empty(),
            "confidence is too low and the drop too small"
        );
        let ok = Evidence {
            competence: Some(1.0),
            transparency: Some(1.0),
            ..Evidence::default()
        };
        let (s, _) = step(&s, &ok);
        assert!(close(s.dims[0], 0.52) && close(s.dims[3], 0.6));
        assert_eq!((s.dims[1], s.dims[2]), (0.4, 0.5), "unobserved: unchanged");
    }

    #[test]
    fn confidence_saturates_at_twenty() {
        let mut s = State::initial();
        for _ in 0..25 {
            s = step(&s, &Evidence::default()).0;
        }
        assert_eq!((s.count, s.confidence()), (25, 1.0));
        assert_eq!(s.dims, [START; 4]);
    }

    #[test]
    fn the_aggregate_alerts_on_a_drop_of_more_than_a_tenth_then_resets_its_peak() {
        let (s1, a1) = step(&State::initial(), &FAILED); // 0.45
        let (s2, a2) = step(&s1, &FAILED); // 0.41
        assert!(a1.is_empty() && a2.is_empty());
        assert!(close(s2.aggregate(), 0.41) && close(s2.peak, 0.5));
        let (s3, a3) = step(&s2, &FAILED); // 0.378
        assert_eq!(a3.len(), 1);
        let Alert::Aggregate { value, peak } = a3[0] else {
            panic!("{a3:?}")
        };
        assert!(close(value, 0.378) && close(peak, 0.5));
        assert!(close(s3.peak, 0.378), "the peak resets");
        let (_, a4) = step(&s3, &FAILED);
        assert!(a4.is_empty(), "0.3524 is not 0.1 below the new peak");
    }

    #[test]
    fn a_dimension_alerts_once_when_it_becomes_low_at_enough_confidence() {
        let mut s = State {
            dims: [0.9, 0.9, 0.9, 0.9],
            observed: [true; 4],
            count: 9,
            peak: 0.9,
        };
        // 0.9 → 0.72: not low yet; confidence reaches 0.5 on this step.
        let (next, alerts) = step(
            &s,
            &Evidence {
                reliability: Some(0.0),
                ..Evidence::default()
            },
        );
        assert!(alerts.is_empty(), "{alerts:?}");
        s = next;
        // 0.72 → 0.576: it becomes low.
        let (next, alerts) = step(
            &s,
            &Evidence {
                reliability: Some(0.0),
                ..Evidence::default()
            },
        );
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert!(matches!(
            alerts[0],
            Alert::Dimension {
                name: "reliability",
                ..
            }
        ));
        s = next;
        // It stays low: no new alert.
        let (next, alerts) = step(
            &s,
            &Evidence {
                reliability: Some(0.0),
                ..Evidence::default()
            },
        );
        assert!(alerts.iter().all(|a| !matches!(a, Alert::Dimension { .. })));
        // It recovers above 0.7, then falls again: a new alert.
        let mut s = next;
        for _ in 0..6 {
            s = step(
                &s,
                &Evidence {
                    reliability: Some(1.0),
                    ..Evidence::default()
                },
            )
            .0;
        }
        assert!(s.dims[1] > ALERT_BELOW);
        let mut raised = 0;
        for _ in 0..3 {
            let (next, alerts) = step(
                &s,
                &Evidence {
                    reliability: Some(0.0),
                    ..Evidence::default()
                },
            );
            raised += alerts
                .iter()
                .filter(|a| matches!(a, Alert::Dimension { .. }))
                .count();
            s = next;
        }
        assert_eq!(raised, 1);
    }

    #[test]
    fn a_low_dimension_alerts_when_confidence_reaches_a_half() {
        let s = State {
            dims: [0.2, 0.9, 0.9, 0.9],
            observed: [true; 4],
            count: 9,
            peak: 0.725,
        };
        let (_, alerts) = step(
            &s,
            &Evidence {
                honesty: Some(1.0),
                ..Evidence::default()
            },
        );
        assert!(matches!(
            alerts[..],
            [Alert::Dimension {
                name: "competence",
                ..
            }]
        ));
    }

    #[test]
    fn a_dimension_without_evidence_never_alerts() {
        let mut s = State::initial();
        let mut raised = Vec::new();
        for _ in 0..12 {
            let (next, alerts) = step(
                &s,
                &Evidence {
                    competence: Some(1.0),
                    ..Evidence::default()
                },
            );
            raised.extend(alerts);
            s = next;
        }
        assert!(raised.is_empty(), "{raised:?}");
        assert_eq!(s.observed, [true, false, false, false]);
        assert_eq!(State::observed_from(s.observed_mask()), s.observed);
        let (_, alerts) = step(
            &s,
            &Evidence {
                honesty: Some(0.0),
                ..Evidence::default()
            },
        );
        assert!(
            matches!(
                alerts[..],
                [Alert::Dimension {
                    name: "honesty",
                    ..
                }]
            ),
            "{alerts:?}"
        );
    }
}
