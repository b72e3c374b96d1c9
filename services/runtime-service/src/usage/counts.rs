//! The counters of one hour (or of a sum of hours) and the figures derived from them. This is
//! where the definitions live: an invocation is an execution that ended (completed, failed or
//! cancelled) or a tracked `invocation` event; the success rate is over ended executions only;
//! errors are failed executions plus tracked failures.

use super::histogram::Histogram;

/// Counters of an agent over some hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Executions completed.
    pub completed: i64,
    /// Executions failed.
    pub failed: i64,
    /// Executions cancelled.
    pub cancelled: i64,
    /// Tracked `invocation` events.
    pub tracked_invocations: i64,
    /// Tracked `error` events and failed `invocation` events.
    pub tracked_failures: i64,
    /// Tracked `feedback` events.
    pub feedback_count: i64,
    /// Of those, the ones with a rating.
    pub rated_count: i64,
    /// Sum of their ratings.
    pub rating_sum: i64,
    /// Time to first token of executions that streamed one.
    pub ttft: Histogram,
    /// Created → ended of every ended execution.
    pub total: Histogram,
}

impl Default for Counts {
    fn default() -> Self {
        Self {
            completed: 0,
            failed: 0,
            cancelled: 0,
            tracked_invocations: 0,
            tracked_failures: 0,
            feedback_count: 0,
            rated_count: 0,
            rating_sum: 0,
            ttft: Histogram::new(),
            total: Histogram::new(),
        }
    }
}

impl Counts {
    /// Adds another hour's counters.
    pub fn add(&mut self, other: &Counts) {
        self.completed += other.completed;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.tracked_invocations += other.tracked_invocations;
        self.tracked_failures += other.tracked_failures;
        self.feedback_count += other.feedback_count;
        self.rated_count += other.rated_count;
        self.rating_sum += other.rating_sum;
        self.ttft.add(&other.ttft);
        self.total.add(&other.total);
    }

    /// Executions that ended plus tracked invocations.
    pub fn invocations(&self) -> i64 {
        self.ended() + self.tracked_invocations
    }

    fn ended(&self) -> i64 {
        self.completed + self.failed + self.cancelled
    }

    /// `completed / ended`; `None` when no execution ended.
    pub fn success_rate(&self) -> Option<f64> {
        let ended = self.ended();
        (ended > 0).then(|| self.completed as f64 / ended as f64)
    }

    /// Failed executions plus tracked failures.
    pub fn errors(&self) -> i64 {
        self.failed + self.tracked_failures
    }

    /// The mean rating; `None` when nothing was rated.
    pub fn avg_rating(&self) -> Option<f64> {
        (self.rated_count > 0).then(|| self.rating_sum as f64 / self.rated_count as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_figures() {
        let empty = Counts::default();
        assert_eq!((empty.success_rate(), empty.avg_rating()), (None, None));
        let mut a = Counts {
            completed: 3,
            failed: 1,
            tracked_invocations: 2,
            tracked_failures: 1,
            feedback_count: 3,
            rated_count: 2,
            rating_sum: 7,
            ..Counts::default()
        };
        a.add(&Counts {
            cancelled: 1,
            ..Counts::default()
        });
        assert_eq!(a.invocations(), 7);
        assert_eq!(a.success_rate(), Some(0.6));
        assert_eq!(a.errors(), 2);
        assert_eq!(a.avg_rating(), Some(3.5));
    }
}
