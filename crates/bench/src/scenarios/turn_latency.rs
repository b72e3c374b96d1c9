//! Target 7: how soon an agent turn starts streaming, at a steady 200 turns/s spread over 1,000
//! open sockets.
//!
//! This is what a user feels: the time from sending an intent to the first token. A turn goes
//! socket → experience (parse, rate limit, signed intent) → runtime (verify, execution row,
//! conversation, events) → the session's event stream → experience → socket. Each socket has its
//! own session, so it receives only its own turns. The turns are paced (open loop, latency from
//! the scheduled send time, so a stall is charged in full); a socket runs one turn at a time,
//! and a turn counts as completed on `EXECUTION_COMPLETED`. Each window starts its schedule on
//! the sockets after the ones the previous window used, so over the runs the load really is
//! spread over all of them. Target 7 runs on the embedded default; 7b, optional, runs the same
//! on PostgreSQL + Redis, where events travel through Redis pub/sub.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Result;

use super::agent::{self, Pool, Priming};
use super::{repeated, Bench, Which};
use crate::api::Api;
use crate::load::{self, median, Plan, Sample};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;
use crate::ws::AgentSocket;

/// Goal: p50 of intent → first delta at most this many milliseconds...
const GOAL_P50_MS: f64 = 5.0;
/// ...and p99 at most this many.
const GOAL_P99_MS: f64 = 25.0;

/// Measures target 7 (or 7b: `which` names the section).
pub async fn run(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let sizes = bench.agent;
    let (n, rate) = (sizes.turn_sockets, sizes.turn_rate);
    let api = Api::new(stack.experience)?;
    let tokens = agent::sessions(&api, n, 2 * bench.cores).await?;
    let pool = agent::open_sockets(stack.experience, &tokens).await?;
    let priming = Priming::run(&pool).await?;
    let rotation = AtomicUsize::new(0);
    let turns = repeated(bench, "agent turns", async |plan| {
        paced_turns(&pool, rate, plan, &rotation).await
    })
    .await?;

    let (p50s, p99s) = (turns.percentiles(50.0), turns.percentiles(99.0));
    let (p50, p99) = (median(&p50s), median(&p99s));
    let p50_status = Status::verdict(p50 <= GOAL_P50_MS);
    let p99_status = Status::verdict(p99 <= GOAL_P99_MS);
    let status = Status::verdict(p50_status == Status::Pass && p99_status == Status::Pass);
    let errors: Vec<f64> = turns.samples.iter().map(|s| s.errors as f64).collect();
    let mut notes: Vec<String> = turns.error_note().into_iter().collect();
    notes.push(priming.note());
    notes.push(agent::stack_note());
    notes.extend(sizes_note(&sizes));
    Ok(Section {
        which,
        setup: format!(
            "Backends: {}. {n} agent sockets, each its own login session, all open for the \
             whole target; guide intents paced at {rate} turns/s in total (each socket one \
             turn at a time, continuing its own conversation). Latency: scheduled send → the \
             first `AGENT_RESPONSE_DELTA` on that socket; a turn counts once its \
             `EXECUTION_COMPLETED` arrived.",
            stack.description
        ),
        rows: vec![
            Row::judged(
                "intent → first delta, p50",
                report::ms(p50),
                report::runs(&p50s, report::ms),
                &p50_status,
            ),
            Row::judged(
                "intent → first delta, p99",
                report::ms(p99),
                report::runs(&p99s, report::ms),
                &p99_status,
            ),
            Row::measured(
                format!("turns completed/s (scheduled: {rate}/s)"),
                report::rate(median(&turns.rates())),
                report::runs(&turns.rates(), report::rate),
            ),
            Row::measured(
                "failed turns",
                format!("{}", median(&errors)),
                report::runs(&errors, |v| format!("{v}")),
            ),
        ],
        measured: format!("p50 {} / p99 {}", report::ms(p50), report::ms(p99)),
        status,
        notes,
    })
}

/// A note when the run's sockets or rate are not the issue's (the verdict then does not apply).
pub(super) fn sizes_note(sizes: &agent::AgentSizes) -> Option<String> {
    let issue = agent::AgentSizes::ISSUE;
    (sizes.turn_sockets != issue.turn_sockets || sizes.turn_rate != issue.turn_rate).then(|| {
        format!(
            "Run with {} sockets at {} turns/s instead of the issue's {} at {}: the verdict \
             does not apply.",
            sizes.turn_sockets, sizes.turn_rate, issue.turn_sockets, issue.turn_rate
        )
    })
}

/// One paced window over the pool. Task `i` drives socket `(i + shift) % n`; `shift` moves on
/// by the number of turns a window schedules, so consecutive windows use different sockets.
pub(super) async fn paced_turns(
    pool: &Pool<AgentSocket>,
    rate: f64,
    plan: Plan,
    rotation: &AtomicUsize,
) -> Result<Sample> {
    let n = pool.len().max(1);
    let scheduled = (rate * (plan.settle + plan.measure).as_secs_f64()).ceil() as usize;
    let shift = rotation.fetch_add(scheduled, Ordering::Relaxed);
    load::paced(n, rate, plan, |i, mut probe| {
        let pool = Arc::clone(pool);
        async move {
            let Some(slot) = pool.get((i + shift) % n) else {
                return probe;
            };
            let mut socket = slot.lock().await;
            while let Some(started) = probe.next().await {
                match socket.turn().await {
                    Ok(turn) => probe.record_until(started, turn.first_delta, Ok(())),
                    Err(error) => probe.record(started, Err(error)),
                }
            }
            probe
        }
    })
    .await
}
