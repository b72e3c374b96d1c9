//! What the agent-socket targets (6–8) share: the settings of their stack, their sizes, sessions
//! to attach sockets to, opening sockets, and the priming turn.
//!
//! Sessions: every socket of a session receives every event of that session, so the latency and
//! throughput targets give each socket its own login (its own runtime session), and a turn's
//! frames reach exactly one client. Idle sockets receive nothing, so target 6 spreads its
//! sockets over a hundred sessions. The logins are of one user; each login creates a session.
//! These targets do not measure password hashing, so their stack runs Argon2 at cheap
//! parameters ([`ARGON2_MEMORY_KIB`], [`ARGON2_ITERATIONS`]) to get a thousand sessions in
//! seconds, and lifts the per-socket message rate limit (5/s by default) that a benchmark
//! client would otherwise hit on purpose.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use tokio::sync::Mutex;

use crate::api::Api;
use crate::load::median;
use crate::report;
use crate::ws::AgentSocket;

/// Argon2id memory of the agent stack, KiB (the services' default is 19456).
pub const ARGON2_MEMORY_KIB: u32 = 1024;
/// Argon2id passes of the agent stack (default 2).
pub const ARGON2_ITERATIONS: u32 = 1;
/// Handshakes in flight while opening many sockets (keeps the listen backlog from overflowing).
pub const CONNECTS_IN_FLIGHT: usize = 128;
/// Priming turns in flight.
const PRIMING_IN_FLIGHT: usize = 32;

/// Sizes of targets 6–8; the defaults are the issue's, smaller ones are for smoke runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentSizes {
    /// Target 6: idle sockets held at once.
    pub idle_sockets: usize,
    /// Target 7: sockets (one session each) the paced turns are spread over.
    pub turn_sockets: usize,
    /// Target 7: turns per second, in total.
    pub turn_rate: f64,
    /// Target 8: closed-loop sockets (one session each), and as many echo sockets.
    pub turn_clients: usize,
}

impl AgentSizes {
    /// The issue's sizes.
    pub const ISSUE: Self = Self {
        idle_sockets: 10_000,
        turn_sockets: 1_000,
        turn_rate: 200.0,
        turn_clients: 64,
    };
}

impl Default for AgentSizes {
    fn default() -> Self {
        Self::ISSUE
    }
}

/// Extra settings of the experience service for targets 6–8.
pub fn service_env() -> Vec<(String, String)> {
    [
        ("APP__WS__MESSAGES_PER_SEC", "100000".to_owned()),
        ("APP__WS__MESSAGE_BURST", "100000".to_owned()),
        // One user holds every socket of the bench (100 per session): lift the socket caps and
        // the per-user turn budget too.
        ("APP__WS__MAX_SOCKETS_PER_SESSION", "1000000".to_owned()),
        ("APP__WS__MAX_SOCKETS_PER_USER", "1000000".to_owned()),
        ("APP__WS__USER_TURNS_PER_SEC", "100000".to_owned()),
        ("APP__WS__USER_TURN_BURST", "100000".to_owned()),
        (
            "APP__AUTH__ARGON2_MEMORY_KIB",
            ARGON2_MEMORY_KIB.to_string(),
        ),
        (
            "APP__AUTH__ARGON2_ITERATIONS",
            ARGON2_ITERATIONS.to_string(),
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

/// The method note every agent section carries.
pub fn stack_note() -> String {
    format!(
        "This stack runs Argon2id at m={ARGON2_MEMORY_KIB} KiB, t={ARGON2_ITERATIONS} (the \
         sessions are set up by logging in; hashing is not what is measured here) and with the \
         per-socket message limit, the per-user turn budget and the socket caps lifted \
         (`APP__WS__MESSAGES_PER_SEC`/`MESSAGE_BURST`/`USER_TURNS_PER_SEC`/`USER_TURN_BURST` = \
         100000, `APP__WS__MAX_SOCKETS_PER_SESSION`/`PER_USER` = 1000000)."
    )
}

/// `n` access tokens, each of its own session: one user registered, then logged in `n - 1`
/// more times, `parallel` at a time.
pub async fn sessions(api: &Api, n: usize, parallel: usize) -> Result<Arc<Vec<String>>> {
    let account = api.register().await?;
    let first = account.login.access_token.clone();
    let others: Vec<String> = stream::iter(1..n.max(1))
        .map(|_| async {
            api.login(&account.email, &account.password)
                .await
                .map(|login| login.access_token)
        })
        .buffer_unordered(parallel.max(1))
        .try_collect()
        .await?;
    Ok(Arc::new(std::iter::once(first).chain(others).collect()))
}

/// Sockets the harness keeps across windows; a window's task locks the one it drives.
pub type Pool<T> = Arc<Vec<Mutex<T>>>;

/// Opens one agent socket per token; the first failure fails the lot.
pub async fn open_sockets(addr: SocketAddr, tokens: &[String]) -> Result<Pool<AgentSocket>> {
    let sockets: Vec<AgentSocket> = stream::iter(tokens.iter().enumerate())
        .map(|(i, token)| async move {
            AgentSocket::connect(addr, token, None)
                .await
                .with_context(|| format!("opening agent socket {i}"))
        })
        .buffered(CONNECTS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(Arc::new(sockets.into_iter().map(Mutex::new).collect()))
}

/// The first turn of every socket, which is not like the others: the server subscribes the
/// socket to its session's event stream on the runtime on the first intent. Measured (intent
/// sent → first delta) and reported apart; never mixed into the steady-state numbers.
#[derive(Debug, Clone)]
pub struct Priming {
    latencies: Vec<f64>,
    frames: Vec<f64>,
    failures: usize,
    first_error: Option<String>,
}

impl Priming {
    /// Runs one turn on every socket.
    pub async fn run(pool: &Pool<AgentSocket>) -> Result<Self> {
        let outcomes: Vec<Result<(Duration, usize)>> = stream::iter(pool.iter())
            .map(|slot| async move {
                let mut socket = slot.lock().await;
                let sent = Instant::now();
                let turn = socket.turn().await?;
                Ok((
                    turn.first_delta.saturating_duration_since(sent),
                    turn.frames,
                ))
            })
            .buffer_unordered(PRIMING_IN_FLIGHT)
            .collect()
            .await;
        let mut priming = Self {
            latencies: Vec::new(),
            frames: Vec::new(),
            failures: 0,
            first_error: None,
        };
        for outcome in outcomes {
            match outcome {
                Ok((latency, frames)) => {
                    priming.latencies.push(latency.as_secs_f64() * 1000.0);
                    priming.frames.push(frames as f64);
                }
                Err(error) => {
                    priming.failures += 1;
                    priming.first_error.get_or_insert(format!("{error:#}"));
                }
            }
        }
        if priming.latencies.is_empty() {
            anyhow::bail!(
                "no agent turn succeeded ({} failed; first: {})",
                priming.failures,
                priming.first_error.as_deref().unwrap_or("none")
            );
        }
        Ok(priming)
    }

    /// Median number of frames a turn sends the client.
    pub fn frames_per_turn(&self) -> f64 {
        median(&self.frames)
    }

    /// A sentence for the notes.
    pub fn note(&self) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort_by(f64::total_cmp);
        let p99 = sorted
            .get(((sorted.len() as f64 * 0.99).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN);
        let mut note = format!(
            "Before measuring, every socket ran one priming turn ({PRIMING_IN_FLIGHT} at a time; \
             the first intent on a socket also subscribes it to its session's event stream on \
             the runtime): intent → first delta p50 {} / p99 {}.",
            report::ms(median(&self.latencies)),
            report::ms(p99),
        );
        if self.failures > 0 {
            note.push_str(&format!(
                " {} priming turns failed; first: `{}`.",
                self.failures,
                self.first_error
                    .as_deref()
                    .unwrap_or_default()
                    .replace('`', "'")
            ));
        }
        note
    }
}
