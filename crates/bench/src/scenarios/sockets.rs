//! Target 6: 10,000 concurrent authenticated idle agent sockets, and what each costs the
//! experience service in resident memory.
//!
//! Idle sockets are the common case of a chat frontend (a tab left open), so their memory bounds
//! how many users one replica holds. Each run opens every socket from this process
//! ([`CONNECTS_IN_FLIGHT`] handshakes at a time; each one verifies the token and checks the
//! session with the runtime before the upgrade), requires `CONNECTION_ESTABLISHED` on each, then
//! holds them all for the window while reading (so the server's heartbeat pings are answered)
//! and samples both services' `VmRSS` every 250 ms. A socket counts as held when it was still
//! open, with nothing received, when the window ended; the service's own `open_sockets` gauge
//! (`/metrics`) is read at that moment as a cross-check. After closing them the harness waits
//! until that gauge is back to zero before the next run. The per-socket cost is
//! (peak RSS with the sockets open − RSS before the first socket of the whole target was
//! opened) ÷ sockets held: the baseline is taken once, so memory the allocator kept from an
//! earlier run is charged to every later run too (conservative). Each run connects from its own
//! loopback source address (127.0.0.2, .3, …) so it never waits on the previous run's TIME_WAIT
//! entries.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use tokio::sync::{mpsc, watch, Semaphore};

use super::agent::{self, CONNECTS_IN_FLIGHT};
use super::{Bench, Which};
use crate::api::Api;
use crate::fdlimit;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::{Rss, Stack};
use crate::ws::AgentSocket;

/// Goal: experience RSS per idle socket at most this many bytes (32 KB, KB = 1,024 bytes).
const GOAL_BYTES: f64 = 32.0 * 1024.0;
/// Sockets per login session.
const SOCKETS_PER_SESSION: usize = 100;
/// Descriptors this process needs besides the sockets.
const SPARE_FDS: u64 = 512;
/// Shortest hold, whatever `--seconds` says ("stays open for a few seconds").
const MIN_HOLD: Duration = Duration::from_secs(2);
/// How long the service may take to let go of closed sockets.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What one run saw.
#[derive(Debug, Clone)]
struct Run {
    /// Sockets that got `CONNECTION_ESTABLISHED`.
    established: usize,
    /// Sockets still open at the end of the window.
    held: usize,
    /// Handshakes that failed, and the first reason.
    refused: usize,
    /// Sockets that ended (or received a frame) during the window, and the first reason.
    dropped: usize,
    first_error: Option<String>,
    /// Time to open them all, seconds.
    open_seconds: f64,
    /// The service's `open_sockets` gauge at the end of the window.
    server_open: i64,
    /// Seconds until the gauge was back to zero after closing (`None`: it was not within
    /// [`DRAIN_TIMEOUT`]).
    drained: Option<f64>,
    /// Peak RSS of each service while they were open.
    peak: Rss,
    /// RSS once the service had let go of them (what the allocator kept).
    after: Option<Rss>,
}

enum Outcome {
    Refused(String),
    Dropped(String),
    Held,
}

/// Measures target 6.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let n = bench.agent.idle_sockets;
    let limit = fdlimit::current()?;
    if limit.soft < n as u64 + SPARE_FDS {
        bail!(
            "the open-file limit is {} (hard {}), {n} sockets need about {}: raise `ulimit -n` \
             (the harness raises the soft limit to the hard one with `prlimit` when it can)",
            limit.soft,
            limit.hard,
            n as u64 + SPARE_FDS
        );
    }
    let api = Api::new(stack.experience)?;
    let sessions = n.div_ceil(SOCKETS_PER_SESSION).max(1);
    let tokens = agent::sessions(&api, sessions, bench.cores).await?;
    tokio::time::sleep(bench.settle()).await;
    let before = stack.rss()?;
    let hold = bench.measure.max(MIN_HOLD);
    let mut runs = Vec::new();
    for run in 0..bench.runs {
        let source = source_address(stack.experience, run);
        runs.push(hold_sockets(stack, &tokens, n, source, hold).await?);
        tokio::time::sleep(bench.settle()).await;
    }
    if runs.iter().all(|run| run.held == 0) {
        bail!(
            "no socket was held in any run; first error: {}",
            runs.iter()
                .find_map(|run| run.first_error.clone())
                .unwrap_or_default()
        );
    }

    let per_socket = |run: &Run, pick: fn(&Rss) -> u64| {
        (pick(&run.peak) as f64 - pick(&before) as f64) / run.held.max(1) as f64
    };
    let experience: Vec<f64> = runs
        .iter()
        .map(|r| per_socket(r, |rss| rss.experience))
        .collect();
    let runtime: Vec<f64> = runs
        .iter()
        .map(|r| per_socket(r, |rss| rss.runtime))
        .collect();
    let held: Vec<f64> = runs.iter().map(|r| r.held as f64).collect();
    let counted: Vec<f64> = runs.iter().map(|r| r.server_open as f64).collect();
    let failures: usize = runs.iter().map(|r| r.refused + r.dropped).sum();
    let bytes = median(&experience);
    let all_held = failures == 0 && runs.iter().all(|r| r.held == n);
    let status = Status::verdict(all_held && bytes <= GOAL_BYTES);
    let with: Vec<f64> = runs.iter().map(|r| mib(r.peak.experience)).collect();
    let after: Vec<f64> = runs
        .iter()
        .map(|r| r.after.map_or(f64::NAN, |rss| mib(rss.experience)))
        .collect();
    let opens: Vec<f64> = runs
        .iter()
        .map(|r| r.established as f64 / r.open_seconds)
        .collect();

    let mut notes = vec![
        format!(
            "RSS before the first socket: experience {:.1} MiB, runtime {:.1} MiB. Every run \
             is compared with that one baseline, so memory the service kept after an earlier \
             run (see \"RSS after they closed\") is charged to the later runs.",
            mib(before.experience),
            mib(before.runtime)
        ),
        format!(
            "Failures over all runs: {} handshakes refused or timed out, {} sockets closed or \
             sent something during the hold.{}",
            runs.iter().map(|r| r.refused).sum::<usize>(),
            runs.iter().map(|r| r.dropped).sum::<usize>(),
            runs.iter()
                .find_map(|r| r.first_error.as_deref())
                .map(|e| format!(" First: `{}`.", e.replace('`', "'")))
                .unwrap_or_default()
        ),
        drain_note(&runs),
        format!(
            "Open-file limit of the harness (inherited by the services): soft {}, hard {}.",
            limit.soft, limit.hard
        ),
        agent::stack_note(),
    ];
    if n != super::agent::AgentSizes::ISSUE.idle_sockets {
        notes.push(format!(
            "Run with {n} sockets instead of the issue's {}: the verdict does not apply.",
            super::agent::AgentSizes::ISSUE.idle_sockets
        ));
    }
    Ok(Section {
        which: Which::Sockets,
        setup: format!(
            "Backends: {}. {n} agent sockets opened from the harness ({CONNECTS_IN_FLIGHT} \
             handshakes in flight), spread over {sessions} login sessions of one user, held \
             idle for {} s per run while both services' `VmRSS` is sampled every 250 ms.",
            stack.description,
            report::seconds(hold.as_secs_f64())
        ),
        rows: vec![
            Row::measured(
                format!("sockets held (of {n})"),
                format!("{}", median(&held)),
                report::runs(&held, |v| format!("{v}")),
            ),
            Row::judged(
                "experience RSS per socket",
                report::bytes(bytes),
                report::runs(&experience, report::bytes),
                &status,
            ),
            Row::measured(
                "experience RSS with the sockets open (peak)",
                format!("{:.1} MiB", median(&with)),
                report::runs(&with, |v| format!("{v:.1} MiB")),
            ),
            Row::measured(
                "experience RSS after they closed",
                format!("{:.1} MiB", median(&after)),
                report::runs(&after, |v| format!("{v:.1} MiB")),
            ),
            Row::measured(
                "open sockets counted by the service at the end of the hold",
                format!("{}", median(&counted)),
                report::runs(&counted, |v| format!("{v}")),
            ),
            Row::measured(
                "runtime RSS change per socket",
                report::bytes(median(&runtime)),
                report::runs(&runtime, report::bytes),
            ),
            Row::measured(
                "handshakes/s while opening",
                report::rate(median(&opens)),
                report::runs(&opens, report::rate),
            ),
        ],
        measured: format!(
            "{} per socket, {} of {n} held",
            report::bytes(bytes),
            median(&held)
        ),
        status,
        notes,
    })
}

/// Opens `n` sockets, holds them for `hold`, and closes them.
async fn hold_sockets(
    stack: &Stack,
    tokens: &Arc<Vec<String>>,
    n: usize,
    source: Option<IpAddr>,
    hold: Duration,
) -> Result<Run> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel::<bool>();
    let gate = Arc::new(Semaphore::new(CONNECTS_IN_FLIGHT));
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (tokens, gate, stop, opened) = (
                Arc::clone(tokens),
                Arc::clone(&gate),
                stop_rx.clone(),
                opened_tx.clone(),
            );
            let addr = stack.experience;
            tokio::spawn(async move {
                let permit = gate.acquire_owned().await;
                let token = tokens.get(i % tokens.len().max(1)).cloned();
                let connected = match token {
                    Some(token) => AgentSocket::connect(addr, &token, source).await,
                    None => Err(anyhow::anyhow!("no session to attach to")),
                };
                drop(permit);
                let _ = opened.send(connected.is_ok());
                match connected {
                    Err(error) => Outcome::Refused(format!("{error:#}")),
                    Ok(socket) => match socket.hold(stop).await {
                        Ok(()) => Outcome::Held,
                        Err(error) => Outcome::Dropped(format!("{error:#}")),
                    },
                }
            })
        })
        .collect();
    drop(opened_tx);
    let mut established = 0;
    for _ in 0..n {
        match opened_rx.recv().await {
            Some(ok) => established += usize::from(ok),
            None => break,
        }
    }
    let open_seconds = started.elapsed().as_secs_f64();

    let mut peak = stack.rss()?;
    let until = Instant::now() + hold;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        tokio::time::sleep(left.min(Duration::from_millis(250))).await;
        let now = stack.rss()?;
        peak.experience = peak.experience.max(now.experience);
        peak.runtime = peak.runtime.max(now.runtime);
    }
    let server_open = open_sockets(stack.experience).await?;
    let _ = stop_tx.send(true);

    let mut run = Run {
        established,
        held: 0,
        refused: 0,
        dropped: 0,
        first_error: None,
        open_seconds: open_seconds.max(f64::EPSILON),
        server_open,
        drained: None,
        peak,
        after: None,
    };
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
    let closed = Instant::now();
    while closed.elapsed() < DRAIN_TIMEOUT {
        if open_sockets(stack.experience).await? == 0 {
            run.drained = Some(closed.elapsed().as_secs_f64());
            run.after = Some(stack.rss()?);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(run)
}

/// The experience service's `symphainy_open_sockets` gauge (0 before its first socket).
async fn open_sockets(addr: SocketAddr) -> Result<i64> {
    let text = reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let line = text
        .lines()
        .find(|line| line.starts_with("symphainy_open_sockets"));
    match line {
        None => Ok(0),
        Some(line) => line
            .rsplit(' ')
            .next()
            .and_then(|value| value.trim().parse().ok())
            .with_context(|| format!("unreadable metric line {line:?}")),
    }
}

/// 127.0.0.2, 127.0.0.3, … per run when the service listens on IPv4 loopback and such an
/// address can be bound here (Linux routes all of 127/8 to `lo`); otherwise the default.
pub(super) fn source_address(server: SocketAddr, run: usize) -> Option<IpAddr> {
    if !server.ip().is_loopback() || !server.is_ipv4() {
        return None;
    }
    let last = u8::try_from(2 + run % 250).unwrap_or(2);
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
    let bindable = std::net::TcpListener::bind(SocketAddr::new(ip, 0)).is_ok();
    bindable.then_some(ip)
}

/// How long the service took to count the closed sockets as gone.
fn drain_note(runs: &[Run]) -> String {
    let times: Vec<String> = runs
        .iter()
        .map(|run| match run.drained {
            Some(seconds) => format!("{seconds:.1} s"),
            None => format!("not within {} s", DRAIN_TIMEOUT.as_secs()),
        })
        .collect();
    format!(
        "After the harness closed its sockets, the service's `open_sockets` gauge was back to \
         zero after: {} (per run; the next run starts only then).",
        times.join(" · ")
    )
}

pub(super) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
