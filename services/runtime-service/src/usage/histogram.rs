//! Latency histograms: a fixed log scale, two buckets per doubling of milliseconds, so one hour's
//! latencies fit in [`BUCKETS`] counters that add up across hours, and a percentile over any
//! window is read from the summed counters. Within a bucket the estimate interpolates by rank;
//! it is then clamped into the window's exact `[min, max]`, so it always lies between the
//! measured extremes (and is exact when all values are equal). The relative error before the
//! clamp is at most one bucket's width, about 41 %, and far less in practice.

/// Buckets per histogram; the last holds everything from about 3.3 hours up.
pub const BUCKETS: usize = 48;

/// The bucket of a latency: `floor(2 · log2(ms + 1))`, capped at the last one.
pub fn bucket(ms: i64) -> usize {
    let ms = ms.max(0) as f64;
    let b = (2.0 * (ms + 1.0).log2()).floor() as usize;
    b.min(BUCKETS - 1)
}

/// The smallest latency of bucket `b`, ms (the inverse of [`bucket`]).
fn lower(b: usize) -> f64 {
    (2f64.powf(b as f64 / 2.0) - 1.0).max(0.0)
}

/// One histogram with its exact extremes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Histogram {
    /// Count per bucket.
    pub counts: Vec<i64>,
    /// Smallest value seen.
    pub min: Option<i64>,
    /// Largest value seen.
    pub max: Option<i64>,
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            min: None,
            max: None,
        }
    }

    /// Adds another histogram's counts and extremes.
    pub fn add(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = self.max.max(other.max);
    }

    /// The estimated `p`-quantile (0 < p ≤ 1), in whole ms; `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<i64> {
        let total: i64 = self.counts.iter().sum();
        let (min, max) = (self.min?, self.max?);
        if total <= 0 {
            return None;
        }
        // The 1-based rank of the wanted value.
        let rank = ((p * total as f64).ceil() as i64).clamp(1, total);
        let mut before = 0;
        for (b, &count) in self.counts.iter().enumerate() {
            if count > 0 && before + count >= rank {
                let (lo, hi) = (lower(b), lower(b + 1));
                let within = ((rank - before) as f64 - 0.5) / count as f64;
                let estimate = (lo + (hi - lo) * within).round() as i64;
                return Some(estimate.clamp(min, max));
            }
            before += count;
        }
        Some(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[i64]) -> Histogram {
        let mut h = Histogram::new();
        for &v in values {
            h.counts[bucket(v)] += 1;
            h.min = Some(h.min.map_or(v, |m| m.min(v)));
            h.max = Some(h.max.map_or(v, |m| m.max(v)));
        }
        h
    }

    #[test]
    fn buckets_grow_by_half_doublings_and_cap() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(-5), 0);
        assert_eq!(bucket(1), 2);
        assert_eq!(bucket(3), 4);
        assert_eq!(bucket(1023), 20);
        assert_eq!(bucket(86_400_000), BUCKETS - 1);
        for ms in [0, 1, 2, 7, 100, 999, 12_345, 1_000_000] {
            let b = bucket(ms);
            assert!(
                lower(b) <= ms as f64 && (ms as f64) < lower(b + 1),
                "{ms} in {b}"
            );
        }
    }

    #[test]
    fn percentiles_stay_within_the_extremes_and_near_the_truth() {
        assert_eq!(Histogram::new().percentile(0.5), None);
        assert_eq!(of(&[250]).percentile(0.95), Some(250));
        assert_eq!(of(&[40, 40, 40]).percentile(0.5), Some(40));
        let values: Vec<i64> = (1..=1000).collect();
        let h = of(&values);
        let p50 = h.percentile(0.5).unwrap();
        let p95 = h.percentile(0.95).unwrap();
        assert!((400..=600).contains(&p50), "{p50}");
        assert!((850..=1000).contains(&p95), "{p95}");
        let skewed = of(&[120, 130, 9_000]);
        let p95 = skewed.percentile(0.95).unwrap();
        assert!((120..=9_000).contains(&p95));
        assert_eq!(skewed.percentile(1.0), Some(9_000));
    }

    #[test]
    fn adding_merges_counts_and_extremes() {
        let mut a = of(&[10, 20]);
        a.add(&of(&[5, 400]));
        a.add(&Histogram::new());
        assert_eq!(a.counts.iter().sum::<i64>(), 4);
        assert_eq!((a.min, a.max), (Some(5), Some(400)));
    }
}
