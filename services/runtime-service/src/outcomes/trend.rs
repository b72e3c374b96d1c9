//! The trend rule of SPEC §16, as a pure function of a metric's latest values (oldest → newest):
//!
//! - fewer than 2 values → `stable`;
//! - split at `n / 2`: the older half has `floor(n/2)` values, the newer half the rest (one longer
//!   when `n` is odd);
//! - `delta = current_avg − previous_avg`, sign-flipped for `latency_ms` and `cost_usd` (lower is
//!   better);
//! - `ratio = delta / |previous_avg|`; when `previous_avg` is 0 the ratio is 1.0 with the sign of
//!   `delta` (so +1.0, −1.0, or 0 when nothing changed: a flat series of zeros is `stable`, and a
//!   latency rising from 0 is `declining`) — docs/adr/0021-outcomes.md;
//! - `ratio > 0.05` → `improving`, `ratio < −0.05` → `declining`, else `stable`.

use platform_sdk::outcome_wire::{Direction, MetricType};

/// Above this ratio a metric is improving (below its negation, declining).
pub const THRESHOLD: f64 = 0.05;

/// What the rule makes of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Improving, stable or declining.
    pub direction: Direction,
    /// Mean of the older half; `None` when it is empty (fewer than 2 values).
    pub previous_avg: Option<f64>,
    /// Mean of the newer half; `None` when there are no values.
    pub current_avg: Option<f64>,
}

/// True for the metrics where lower is better.
pub fn lower_is_better(metric: MetricType) -> bool {
    matches!(metric, MetricType::LatencyMs | MetricType::CostUsd)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Reads the direction of `values` (oldest → newest) of `metric`.
pub fn read(metric: MetricType, values: &[f64]) -> Reading {
    let (older, newer) = values.split_at(values.len() / 2);
    let previous_avg = mean(older);
    let current_avg = mean(newer);
    let direction = match (previous_avg, current_avg) {
        (Some(previous), Some(current)) if values.len() >= 2 => {
            let delta = match lower_is_better(metric) {
                true => previous - current,
                false => current - previous,
            };
            let ratio = match previous == 0.0 {
                true if delta == 0.0 => 0.0,
                true => delta.signum(),
                false => delta / previous.abs(),
            };
            if ratio > THRESHOLD {
                Direction::Improving
            } else if ratio < -THRESHOLD {
                Direction::Declining
            } else {
                Direction::Stable
            }
        }
        _ => Direction::Stable,
    };
    Reading {
        direction,
        previous_avg,
        current_avg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::*;
    use MetricType::*;

    fn direction(metric: MetricType, values: &[f64]) -> Direction {
        read(metric, values).direction
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn the_worked_examples_of_the_spec() {
        let r = read(SuccessRate, &[0.40, 0.45, 0.80, 0.90]);
        assert_eq!(r.direction, Improving);
        assert!(
            close(r.previous_avg, 0.425) && close(r.current_avg, 0.85),
            "{r:?}"
        );
        let r = read(LatencyMs, &[200.0, 200.0, 100.0, 100.0]);
        assert_eq!(r.direction, Improving);
        assert_eq!((r.previous_avg, r.current_avg), (Some(200.0), Some(100.0)));
    }

    #[test]
    fn lower_is_better_for_latency_and_cost_only() {
        let rising = [1.0, 1.0, 2.0, 2.0];
        assert_eq!(direction(SuccessRate, &rising), Improving);
        assert_eq!(direction(QualityScore, &rising), Improving);
        assert_eq!(direction(LatencyMs, &rising), Declining);
        assert_eq!(direction(CostUsd, &rising), Declining);
        let falling = [2.0, 2.0, 1.0, 1.0];
        assert_eq!(direction(CostUsd, &falling), Improving);
        assert_eq!(direction(QualityScore, &falling), Declining);
    }

    #[test]
    fn fewer_than_two_values_are_stable() {
        let r = read(SuccessRate, &[]);
        assert_eq!(
            (r.direction, r.previous_avg, r.current_avg),
            (Stable, None, None)
        );
        let r = read(SuccessRate, &[0.9]);
        assert_eq!(
            (r.direction, r.previous_avg, r.current_avg),
            (Stable, None, Some(0.9))
        );
    }

    #[test]
    fn odd_counts_give_the_newer_half_one_more() {
        // older [1, 1], newer [1, 2, 3]: 2.0 vs 1.0.
        let r = read(QualityScore, &[1.0, 1.0, 1.0, 2.0, 3.0]);
        assert_eq!((r.previous_avg, r.current_avg), (Some(1.0), Some(2.0)));
        assert_eq!(r.direction, Improving);
        // Two values: one each.
        let r = read(QualityScore, &[4.0, 2.0]);
        assert_eq!(
            (r.previous_avg, r.current_avg, r.direction),
            (Some(4.0), Some(2.0), Declining)
        );
        // Three: older [10], newer [0, 20] → equal means.
        assert_eq!(direction(QualityScore, &[10.0, 0.0, 20.0]), Stable);
    }

    #[test]
    fn a_zero_previous_mean_takes_the_sign_of_the_change() {
        assert_eq!(direction(SuccessRate, &[0.0, 0.0, 0.5, 0.5]), Improving);
        assert_eq!(direction(SuccessRate, &[0.0, 0.0, 0.0, 0.0]), Stable);
        assert_eq!(direction(LatencyMs, &[0.0, 0.0, 5.0, 5.0]), Declining);
        assert_eq!(direction(CostUsd, &[1.0, -1.0, -0.5, -0.5]), Improving);
        assert_eq!(direction(QualityScore, &[1.0, -1.0, -0.5, -0.5]), Declining);
    }

    #[test]
    fn the_threshold_is_strict_and_relative_to_the_magnitude() {
        // +5 % exactly: stable; a little more: improving.
        assert_eq!(direction(QualityScore, &[100.0, 105.0]), Stable);
        assert_eq!(direction(QualityScore, &[100.0, 105.5]), Improving);
        assert_eq!(direction(QualityScore, &[100.0, 95.0]), Stable);
        assert_eq!(direction(QualityScore, &[100.0, 94.5]), Declining);
        // A negative previous mean: the ratio divides by its magnitude.
        assert_eq!(direction(QualityScore, &[-10.0, -5.0]), Improving);
        assert_eq!(direction(CostUsd, &[-10.0, -5.0]), Declining);
    }
}
