//! Target 16: 10,000 idle live-event streams (`GET /api/events/stream`, SSE) held at once, and
//! what each costs the experience service in resident memory (docs/adr/0025: "a client costs an
//! entry in its hub and its queue — no task, no timer").
//!
//! An idle browser tab keeps its stream open all day, so this bounds how many tabs one replica
//! holds. Each run opens every stream from this process over raw TCP ([`crate::sse`], a small
//! read buffer each, [`OPENS_IN_FLIGHT`] at a time), all with one access token of one user (one
//! tenant, so one hub), then holds them for the window while reading and samples the services'
//! `VmRSS` every 250 ms. The stack's heartbeat is [`HEARTBEAT_MS`] instead of 15 s, so a stream
//! counts as held only when it got its `200` head, received at least one `: keep-alive` during
//! the hold (the server's sweep and heartbeat ran over it) and was still open at the end. Per
//! client = (peak experience RSS with the streams open − RSS before the first stream of the
//! target) ÷ streams held; the baseline is taken once (as target 6 does), so memory kept after
//! an earlier run is charged to the later runs. Each run connects from its own loopback source
//! address (the port range is then never short of free ports).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio::sync::{mpsc, watch, Semaphore};

use super::sockets::{mib, source_address};
use super::{agent, Bench, Which};
use crate::api::Api;
use crate::fdlimit;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::{Rss, Stack};
use crate::sse::SseStream;

/// Streams held at once (the number).
pub const STREAMS: usize = 10_000;
/// Goal: experience RSS per idle stream at most this many bytes (16 KiB).
const GOAL_BYTES: f64 = 16.0 * 1024.0;
/// The stack's `events.heartbeat_ms` for targets 16 and 17 (default 15,000).
pub const HEARTBEAT_MS: u64 = 1_000;
/// Stream requests in flight while opening (keeps the listen backlog from overflowing).
const OPENS_IN_FLIGHT: usize = 128;
/// Descriptors this process needs besides the streams.
const SPARE_FDS: u64 = 512;
/// Shortest hold: a few heartbeats.
const MIN_HOLD: Duration = Duration::from_millis(3 * HEARTBEAT_MS);

/// Phases of a run, told to every stream's task.
const HOLDING: u8 = 1;
const STOP: u8 = 2;

/// Extra settings of the experience service for targets 16 and 17 (on top of the agent
/// stack's: cheap Argon2 for the logins, socket caps lifted).
pub fn service_env() -> Vec<(String, String)> {
    let mut env = agent::service_env();
    env.push(("APP__EVENTS__HEARTBEAT_MS".into(), HEARTBEAT_MS.to_string()));
    env
}

/// What one run saw.
#[derive(Debug, Clone, Default)]
struct Run {
    opened: usize,
    held: usize,
    refused: usize,
    dropped: usize,
    first_error: Option<String>,
    open_seconds: f64,
    peak: Rss,
}

enum Outcome {
    Refused(String),
    Dropped(String),
    Held,
}

/// Measures target 16.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let n = bench.agent.idle_sockets;
    let limit = fdlimit::current()?;
    if limit.soft < n as u64 + SPARE_FDS {
        bail!(
            "the open-file limit is {} (hard {}), {n} streams need about {}: raise `ulimit -n`",
            limit.soft,
            limit.hard,
            n as u64 + SPARE_FDS
        );
    }
    let api = Api::new(stack.experience)?;
    let tokens = agent::sessions(&api, 1, 1).await?;
    let token: Arc<str> = Arc::from(tokens[0].as_str());
    tokio::time::sleep(bench.settle()).await;
    let before = stack.rss()?;
    let hold = bench.measure.max(MIN_HOLD);
    let mut runs = Vec::new();
    for run in 0..bench.runs {
        let source = source_address(stack.experience, run);
        runs.push(hold_streams(stack, &token, n, source, hold).await?);
        // Closed streams leave the hub at the next write (a heartbeat) at the latest.
        tokio::time::sleep(Duration::from_millis(3 * HEARTBEAT_MS) + bench.settle()).await;
    }
    if runs.iter().all(|run| run.held == 0) {
        bail!(
            "no stream was held in any run; first error: {}",
            runs.iter()
                .find_map(|run| run.first_error.clone())
                .unwrap_or_default()
        );
    }
    let per = |run: &Run, pick: fn(&Rss) -> u64| {
        (pick(&run.peak) as f64 - pick(&before) as f64) / run.held.max(1) as f64
    };
    let experience: Vec<f64> = runs.iter().map(|r| per(r, |rss| rss.experience)).collect();
    let runtime: Vec<f64> = runs.iter().map(|r| per(r, |rss| rss.runtime)).collect();
    let held: Vec<f64> = runs.iter().map(|r| r.held as f64).collect();
    let with: Vec<f64> = runs.iter().map(|r| mib(r.peak.experience)).collect();
    let opens: Vec<f64> = runs
        .iter()
        .map(|r| r.opened as f64 / r.open_seconds)
        .collect();
    let failures: usize = runs.iter().map(|r| r.refused + r.dropped).sum();
    let bytes = median(&experience);
    let all_held = failures == 0 && runs.iter().all(|r| r.held == n);
    let status = Status::verdict(all_held && bytes <= GOAL_BYTES);
    let mut notes = vec![
        format!(
            "RSS before the first stream: experience {:.1} MiB, runtime {:.1} MiB (one baseline \
             for every run).",
            mib(before.experience),
            mib(before.runtime)
        ),
        format!(
            "Failures over all runs: {} stream requests refused or failed, {} streams ended or \
             got no keep-alive during the hold.{}",
            runs.iter().map(|r| r.refused).sum::<usize>(),
            runs.iter().map(|r| r.dropped).sum::<usize>(),
            runs.iter()
                .find_map(|r| r.first_error.as_deref())
                .map(|e| format!(" First: `{}`.", e.replace('`', "'")))
                .unwrap_or_default()
        ),
        format!(
            "Open-file limit of the harness (inherited by the services): soft {}, hard {}.",
            limit.soft, limit.hard
        ),
        format!(
            "This stack runs `APP__EVENTS__HEARTBEAT_MS={HEARTBEAT_MS}` (default 15000) so every \
             stream sees heartbeats within the hold. {}",
            agent::stack_note()
        ),
    ];
    if n != STREAMS {
        notes.push(format!(
            "Run with {n} streams instead of the issue's {STREAMS}: the verdict does not apply."
        ));
    }
    Ok(Section {
        which: Which::SseIdle,
        setup: format!(
            "Backends: {}. {n} `GET /api/events/stream` requests over raw HTTP/1.1 from the \
             harness ({OPENS_IN_FLIGHT} in flight), one access token of one user (one tenant), \
             held idle for {} s per run while both services' `VmRSS` is sampled every 250 ms; \
             held = `200` head, ≥ 1 keep-alive during the hold, still open at its end.",
            stack.description,
            report::seconds(hold.as_secs_f64())
        ),
        rows: vec![
            Row::measured(
                format!("streams held (of {n})"),
                format!("{}", median(&held)),
                report::runs(&held, |v| format!("{v}")),
            ),
            Row::judged(
                "experience RSS per stream",
                report::bytes(bytes),
                report::runs(&experience, report::bytes),
                &status,
            ),
            Row::measured(
                "experience RSS with the streams open (peak)",
                format!("{:.1} MiB", median(&with)),
                report::runs(&with, |v| format!("{v:.1} MiB")),
            ),
            Row::measured(
                "runtime RSS change per stream",
                report::bytes(median(&runtime)),
                report::runs(&runtime, report::bytes),
            ),
            Row::measured(
                "streams opened/s",
                report::rate(median(&opens)),
                report::runs(&opens, report::rate),
            ),
        ],
        measured: format!(
            "{} per stream, {} of {n} held",
            report::bytes(bytes),
            median(&held)
        ),
        status,
        notes,
    })
}

/// Opens `n` streams, holds them for `hold`, and closes them.
async fn hold_streams(
    stack: &Stack,
    token: &Arc<str>,
    n: usize,
    source: Option<IpAddr>,
    hold: Duration,
) -> Result<Run> {
    // 0: opening, HOLDING, STOP.
    let (phase_tx, phase_rx) = watch::channel(0u8);
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel::<bool>();
    let gate = Arc::new(Semaphore::new(OPENS_IN_FLIGHT));
    let started = Instant::now();
    let addr = stack.experience;
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (token, gate, mut phase, opened) = (
                Arc::clone(token),
                Arc::clone(&gate),
                phase_rx.clone(),
                opened_tx.clone(),
            );
            tokio::spawn(async move {
                let permit = gate.acquire_owned().await;
                let connected = SseStream::open(addr, &token, source, None).await;
                drop(permit);
                let _ = opened.send(connected.is_ok());
                let mut stream = match connected {
                    Ok(stream) => stream,
                    Err(error) => return Outcome::Refused(format!("{error:#}")),
                };
                // Keep-alives seen during the hold (it starts once every stream is open).
                let mut beats = 0u32;
                loop {
                    tokio::select! {
                        changed = phase.changed() => {
                            if changed.is_err() || *phase.borrow() == STOP {
                                break;
                            }
                        }
                        frame = stream.next() => match frame {
                            Ok(Some(f)) if f.comment.as_deref() == Some("keep-alive") => {
                                beats += u32::from(*phase.borrow() == HOLDING);
                            }
                            Ok(Some(_)) => {}
                            Ok(None) => return Outcome::Dropped("the server ended the stream".into()),
                            Err(error) => return Outcome::Dropped(format!("{error:#}")),
                        }
                    }
                }
                match beats {
                    0 => Outcome::Dropped("no keep-alive during the hold".into()),
                    _ => Outcome::Held,
                }
            })
        })
        .collect();
    drop(opened_tx);
    let mut run = Run::default();
    for _ in 0..n {
        match opened_rx.recv().await {
            Some(ok) => run.opened += usize::from(ok),
            None => break,
        }
    }
    run.open_seconds = started.elapsed().as_secs_f64().max(f64::EPSILON);
    let _ = phase_tx.send(HOLDING);
    run.peak = stack.rss()?;
    let until = Instant::now() + hold;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        tokio::time::sleep(left.min(Duration::from_millis(250))).await;
        let now = stack.rss()?;
        run.peak.experience = run.peak.experience.max(now.experience);
        run.peak.runtime = run.peak.runtime.max(now.runtime);
    }
    let _ = phase_tx.send(STOP);
    for task in tasks {
        match task.await? {
            Outcome::Held => run.held += 1,
            Outcome::Refused(error) => {
                run.refused += 1;
                run.first_error.get_or_insert(error);
            }
            Outcome::Dropped(error) => {
                run.dropped += 1;
                run.first_error.get_or_insert(error);
            }
        }
    }
    Ok(run)
}
