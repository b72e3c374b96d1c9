//! The load runner: N concurrent tasks, a settle period, one fixed measurement window.
//!
//! Every scenario is built from this one loop so all numbers in the report mean the same thing:
//!
//! - **closed loop** ([`closed`]): each task sends its next request as soon as the previous one
//!   answered. An operation counts when it *completes* inside the window, so throughput is
//!   completions / window length (unbiased in steady state, whatever the operation's latency).
//! - **paced** ([`paced`]): tasks send on a fixed schedule (open loop, a steady total rate). The
//!   latency is taken from the *scheduled* send time, so a stalled server is charged for the
//!   requests it delayed (no coordinated omission), and an operation counts when it was
//!   *scheduled* inside the window.
//!
//! Latencies are kept as microseconds in a `Vec<u32>` and percentiles are read after sorting.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Result;

/// One measurement: a settle period (connections open, queues fill) then the counted window.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Time at the start that is run but not counted.
    pub settle: Duration,
    /// The counted window.
    pub measure: Duration,
}

/// The absolute instants of a plan started now.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    start: Instant,
    measure_from: Instant,
    end: Instant,
}

impl Window {
    /// Starts `plan` now.
    pub fn start(plan: Plan) -> Self {
        let start = Instant::now();
        let measure_from = start + plan.settle;
        Self {
            start,
            measure_from,
            end: measure_from + plan.measure,
        }
    }

    /// A closed-loop probe for this window.
    pub fn probe(&self) -> Probe {
        Probe {
            window: *self,
            pace: None,
            latencies: Vec::new(),
            errors: 0,
            first_error: None,
        }
    }

    fn paced_probe(&self, first: Instant, every: Duration) -> Probe {
        Probe {
            pace: Some((first, every)),
            ..self.probe()
        }
    }
}

/// What one task owns while it runs: when to send next, and what it has recorded.
#[derive(Debug)]
pub struct Probe {
    window: Window,
    /// Next scheduled send and the interval, for paced tasks.
    pace: Option<(Instant, Duration)>,
    latencies: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

impl Probe {
    /// The start time of the next operation, or `None` once the window is over. Paced probes
    /// sleep until the next slot and return the slot (not the wake-up time).
    pub async fn next(&mut self) -> Option<Instant> {
        match &mut self.pace {
            None => self.next_now(),
            Some((slot, every)) => {
                let scheduled = *slot;
                if scheduled >= self.window.end {
                    return None;
                }
                *slot += *every;
                tokio::time::sleep_until(scheduled.into()).await;
                Some(scheduled)
            }
        }
    }

    /// Closed-loop `next` for blocking (non-async) tasks.
    pub fn next_now(&mut self) -> Option<Instant> {
        let now = Instant::now();
        (now < self.window.end).then_some(now)
    }

    /// Records the outcome of an operation started (or scheduled) at `started`. Every error is
    /// counted; successes only inside the window.
    pub fn record(&mut self, started: Instant, outcome: Result<()>) {
        self.record_until(started, Instant::now(), outcome);
    }

    /// Like [`Probe::record`], for an operation whose latency ends at `until` (a milestone
    /// before its completion, e.g. an agent turn's first streamed delta) rather than now. Where
    /// it counts is decided as in `record`: by `started` when paced, by completion (now) when
    /// closed-loop.
    pub fn record_until(&mut self, started: Instant, until: Instant, outcome: Result<()>) {
        let now = Instant::now();
        match outcome {
            Ok(()) => {
                let at = if self.pace.is_some() { started } else { now };
                if at >= self.window.measure_from && at <= self.window.end {
                    let micros = until.saturating_duration_since(started).as_micros();
                    self.latencies
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                }
            }
            Err(error) => {
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(format!("{error:#}"));
                }
            }
        }
    }
}

/// The merged result of one window.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Successful operations counted in the window.
    pub ok: u64,
    /// Failed operations (anywhere in the run).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Length of the counted window, seconds.
    pub seconds: f64,
    /// Sorted latencies, microseconds.
    latencies: Vec<u32>,
}

impl Sample {
    /// Merges the probes of one window.
    pub fn merge(plan: Plan, probes: impl IntoIterator<Item = Probe>) -> Self {
        let mut sample = Self {
            ok: 0,
            errors: 0,
            first_error: None,
            seconds: plan.measure.as_secs_f64(),
            latencies: Vec::new(),
        };
        for probe in probes {
            sample.errors += probe.errors;
            if sample.first_error.is_none() {
                sample.first_error = probe.first_error;
            }
            sample.latencies.extend(probe.latencies);
        }
        sample.latencies.sort_unstable();
        sample.ok = sample.latencies.len() as u64;
        sample
    }

    /// Successful operations per second.
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The `q`-th percentile latency (nearest rank), milliseconds; NaN when nothing was counted.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        percentile_us(&self.latencies, q).map_or(f64::NAN, |us| f64::from(us) / 1000.0)
    }

    /// Fails when nothing succeeded: the endpoint under test does not work, so no number from
    /// this scenario would mean anything.
    pub fn require_success(&self, what: &str) -> Result<()> {
        if self.ok == 0 {
            anyhow::bail!(
                "{what}: no successful operation in the window ({} errors; first: {})",
                self.errors,
                self.first_error.as_deref().unwrap_or("none")
            );
        }
        Ok(())
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile_us(sorted: &[u32], q: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Median of a list (mean of the two middle values for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Runs `tasks` closed-loop tasks for one window. `task(i, probe)` loops on `probe.next()` and
/// returns the probe when it is done.
pub async fn closed<F, Fut>(tasks: usize, plan: Plan, task: F) -> Result<Sample>
where
    F: Fn(usize, Probe) -> Fut,
    Fut: Future<Output = Probe> + Send + 'static,
{
    let window = Window::start(plan);
    let handles: Vec<_> = (0..tasks)
        .map(|i| tokio::spawn(task(i, window.probe())))
        .collect();
    join(plan, handles).await
}

/// Runs `tasks` paced tasks sending `rate` operations per second in total, their slots spread
/// evenly over the interval.
pub async fn paced<F, Fut>(tasks: usize, rate: f64, plan: Plan, task: F) -> Result<Sample>
where
    F: Fn(usize, Probe) -> Fut,
    Fut: Future<Output = Probe> + Send + 'static,
{
    let window = Window::start(plan);
    let every = Duration::from_secs_f64(tasks as f64 / rate);
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let first = window.start + every.mul_f64(i as f64 / tasks as f64);
            tokio::spawn(task(i, window.paced_probe(first, every)))
        })
        .collect();
    join(plan, handles).await
}

async fn join(plan: Plan, handles: Vec<tokio::task::JoinHandle<Probe>>) -> Result<Sample> {
    let mut probes = Vec::with_capacity(handles.len());
    for handle in handles {
        probes.push(handle.await?);
    }
    Ok(Sample::merge(plan, probes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile_us(&values, 50.0), Some(50));
        assert_eq!(percentile_us(&values, 99.0), Some(99));
        assert_eq!(percentile_us(&values, 100.0), Some(100));
        assert_eq!(percentile_us(&[7], 99.0), Some(7));
        assert_eq!(percentile_us(&[], 50.0), None);
    }

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[tokio::test]
    async fn closed_loop_counts_only_the_window() {
        let plan = Plan {
            settle: Duration::from_millis(20),
            measure: Duration::from_millis(60),
        };
        let sample = closed(2, plan, |_, mut probe| async move {
            while let Some(started) = probe.next().await {
                tokio::time::sleep(Duration::from_millis(5)).await;
                probe.record(started, Ok(()));
            }
            probe
        })
        .await
        .unwrap();
        // Two tasks at ~5 ms per op over 60 ms: about 24 ops, never the ~32 of the whole run.
        assert!(sample.ok > 5 && sample.ok <= 26, "ok = {}", sample.ok);
        assert!(sample.percentile_ms(50.0) >= 5.0);
    }

    #[tokio::test]
    async fn paced_runs_at_the_given_rate() {
        let plan = Plan {
            settle: Duration::ZERO,
            measure: Duration::from_millis(200),
        };
        let sample = paced(4, 100.0, plan, |_, mut probe| async move {
            while let Some(started) = probe.next().await {
                probe.record(started, Ok(()));
            }
            probe
        })
        .await
        .unwrap();
        assert!((18..=22).contains(&sample.ok), "ok = {}", sample.ok);
    }
}
