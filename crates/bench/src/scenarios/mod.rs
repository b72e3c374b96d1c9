//! The targets of the performance issues, one module each, and what they share: the run
//! settings, interleaved A/B measurement, and GET load over the raw keep-alive client
//! ([`agent`] holds what the agent-socket targets 6–8 share).
//!
//! | # | module | goal |
//! |---|---|---|
//! | 1 | [`me`] | authenticated `GET /api/auth/me` ≥ 0.6 × a bare actix-web handler |
//! | 2 | [`login`] | logins/s ≥ 0.85 × raw Argon2id hashes/s |
//! | 3 | [`latency`] | p99 of authenticated GETs ≤ 10 ms while logins saturate the hash pool |
//! | 4 | [`refresh`] | ≥ 1,000 refreshes/s on PostgreSQL |
//! | 5 | [`session`] | `GET /api/session/{id}` p50/p99 at 32 clients beside a bare Redis GET |
//! | 6 | [`sockets`] | 10,000 idle agent sockets held, ≤ 32 KB experience RSS each |
//! | 7 | [`turn_latency`] | intent → first delta p50 ≤ 5 ms, p99 ≤ 25 ms at 200 turns/s over 1,000 sockets |
//! | 7b | [`turn_latency`] | the same on PostgreSQL + Redis (optional: when both are reachable) |
//! | 8 | [`turns`] | ≥ 800 agent turns/s at 64 sockets, beside a bare actix-ws echo |
//! | 9, 9b | [`serial`] | one client alone: intent → first delta p50 ≤ 3 ms, p99 ≤ 10 ms |
//! | 10, 10b | [`serial`] | one client alone: `GET /api/auth/me` p50 ≤ 0.5 ms |
//! | 11 | [`agents`] | `GET /api/agents/wrappers` (50 items) at 32 clients beside `/me` |
//! | 12 | [`agents`] | one client alone: a deployed specialist's turn within 10 % of a builtin one |
//! | 13, 13b | [`metrics`] | `GET /api/agents/{id}/metrics` over 100,000 executions: p99 ≤ 20 ms at 32 clients |
//! | 14, 14b | [`policy_turn`] | 50 ACTIVE policies add ≤ 1 ms to the first-delta p50 at 200 turns/s |
//! | 15 | [`governance`] | `POST /api/governance/evaluate` (50 policies) at 32 clients beside `/me` |
//! | 16 | [`sse_idle`] | 10,000 idle live-event streams held, ≤ 16 KiB experience RSS each |
//! | 17, 17b | [`sse_fanout`] | 1,000 streams of one tenant at 100 events/s: p50 ≤ 5 ms, p99 ≤ 50 ms, none lost or duplicated |
//! | 20, 20b | [`outcomes`] | `GET /v1/outcomes/dashboard` over 100,000 events: p99 ≤ 20 ms at 32 clients |
//! | 18 | [`multi_agent`] | a sequential 3-hop multi-agent exchange: overhead per hop beside a plain turn |
//! | 21 | [`multimodal`] | a 1 MB vision request (builtin adapter): create → completed p50/p99 |
//! | 19 | [`operations`] | `GET /v1/operations/hub` (10,000 + 100,000 executions): p99 ≤ 20 ms at 32 clients |

pub mod agent;
pub mod agents;
pub mod governance;
pub mod latency;
pub mod login;
pub mod me;
pub mod metrics;
pub mod multi_agent;
pub mod multimodal;
pub mod operations;
pub mod outcomes;
pub mod policy_turn;
pub mod refresh;
pub mod serial;
pub mod session;
pub mod sockets;
pub mod sse_fanout;
pub mod sse_idle;
pub mod turn_latency;
pub mod turns;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::http1::Http1;
use crate::load::{self, Plan, Sample};
use crate::report::Section;
use crate::services::Stack;
use agent::AgentSizes;

/// Concurrent clients of the throughput scenarios (targets 1, 4, 5).
pub const HTTP_CLIENTS: usize = 32;

/// One of the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Which {
    /// 1. `/api/auth/me` vs bare handler.
    Me,
    /// 2. logins/s vs raw hashes/s.
    Login,
    /// 3. GET p99 under a login flood.
    Latency,
    /// 4. refreshes/s on Postgres.
    Refresh,
    /// 5. session GET vs bare Redis GET.
    Session,
    /// 6. idle agent sockets and their memory.
    Sockets,
    /// 7. agent turn latency at a steady rate.
    TurnLatency,
    /// 7b. the same on PostgreSQL + Redis.
    TurnLatencyProduction,
    /// 8. agent turns/s vs a bare actix-ws echo.
    Turns,
    /// 9. one client's agent turns, closed loop at concurrency 1.
    TurnSerial,
    /// 9b. the same on PostgreSQL + Redis.
    TurnSerialProduction,
    /// 10. one client's `GET /api/auth/me`, closed loop at concurrency 1.
    MeSerial,
    /// 10b. the same on PostgreSQL + Redis.
    MeSerialProduction,
    /// 11. the wrapper list (50 items) at 32 clients beside `/me`.
    Wrappers,
    /// 12. a deployed specialist's turn beside a builtin one, concurrency 1.
    SpecialistTurn,
    /// 13. agent metrics over 100,000 executions, beside `/me`.
    Metrics,
    /// 13b. the same on PostgreSQL + Redis.
    MetricsProduction,
    /// 14. turn latency with 50 ACTIVE policies vs none, at 200 turns/s.
    PolicyTurn,
    /// 14b. the same on PostgreSQL + Redis.
    PolicyTurnProduction,
    /// 15. `POST /api/governance/evaluate` with 50 policies at 32 clients beside `/me`.
    Evaluate,
    /// 16. idle live-event streams and their memory.
    SseIdle,
    /// 17. live events fanned out to 1,000 streams of one tenant.
    SseFanout,
    /// 17b. the same on PostgreSQL + Redis.
    SseFanoutProduction,
    /// 20. the outcomes dashboard over 100,000 events, beside `/me`.
    Outcomes,
    /// 20b. the same on PostgreSQL + Redis.
    OutcomesProduction,
    /// 18. a sequential 3-hop multi-agent exchange beside a plain turn.
    MultiAgentExchange,
    /// 21. a 1 MB vision request, create → completed, one client alone.
    MultimodalVision,
    /// 19. `GET /v1/operations/hub` over 10,000 + 100,000 executions, beside `/me`.
    OperationsHub,
}

impl Which {
    /// All targets, in report order.
    pub const ALL: [Self; 28] = [
        Self::Me,
        Self::Login,
        Self::Latency,
        Self::Refresh,
        Self::Session,
        Self::Sockets,
        Self::TurnLatency,
        Self::TurnLatencyProduction,
        Self::Turns,
        Self::TurnSerial,
        Self::TurnSerialProduction,
        Self::MeSerial,
        Self::MeSerialProduction,
        Self::Wrappers,
        Self::SpecialistTurn,
        Self::Metrics,
        Self::MetricsProduction,
        Self::PolicyTurn,
        Self::PolicyTurnProduction,
        Self::Evaluate,
        Self::SseIdle,
        Self::SseFanout,
        Self::SseFanoutProduction,
        Self::Outcomes,
        Self::OutcomesProduction,
        Self::MultiAgentExchange,
        Self::MultimodalVision,
        Self::OperationsHub,
    ];

    /// The `--only` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Me => "me",
            Self::Login => "login",
            Self::Latency => "latency",
            Self::Refresh => "refresh",
            Self::Session => "session",
            Self::Sockets => "sockets",
            Self::TurnLatency => "turn-latency",
            Self::TurnLatencyProduction => "turn-latency-pg",
            Self::Turns => "turns",
            Self::TurnSerial => "turn-c1",
            Self::TurnSerialProduction => "turn-c1-pg",
            Self::MeSerial => "me-c1",
            Self::MeSerialProduction => "me-c1-pg",
            Self::Wrappers => "wrappers",
            Self::SpecialistTurn => "specialist-c1",
            Self::Metrics => "metrics",
            Self::MetricsProduction => "metrics-pg",
            Self::PolicyTurn => "policy-turn",
            Self::PolicyTurnProduction => "policy-turn-pg",
            Self::Evaluate => "evaluate",
            Self::SseIdle => "sse-idle",
            Self::SseFanout => "sse-fanout",
            Self::SseFanoutProduction => "sse-fanout-pg",
            Self::Outcomes => "outcomes",
            Self::OutcomesProduction => "outcomes-pg",
            Self::MultiAgentExchange => "multi-agent",
            Self::MultimodalVision => "multimodal-vision",
            Self::OperationsHub => "operations-hub",
        }
    }

    /// Its number in the issue ("7b": target 7 again on other backends).
    pub fn number(self) -> &'static str {
        match self {
            Self::Me => "1",
            Self::Login => "2",
            Self::Latency => "3",
            Self::Refresh => "4",
            Self::Session => "5",
            Self::Sockets => "6",
            Self::TurnLatency => "7",
            Self::TurnLatencyProduction => "7b",
            Self::Turns => "8",
            Self::TurnSerial => "9",
            Self::TurnSerialProduction => "9b",
            Self::MeSerial => "10",
            Self::MeSerialProduction => "10b",
            Self::Wrappers => "11",
            Self::SpecialistTurn => "12",
            Self::Metrics => "13",
            Self::MetricsProduction => "13b",
            Self::PolicyTurn => "14",
            Self::PolicyTurnProduction => "14b",
            Self::Evaluate => "15",
            Self::SseIdle => "16",
            Self::SseFanout => "17",
            Self::SseFanoutProduction => "17b",
            Self::Outcomes => "20",
            Self::OutcomesProduction => "20b",
            Self::MultiAgentExchange => "18",
            Self::MultimodalVision => "21",
            Self::OperationsHub => "19",
        }
    }

    /// Heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::Me => "Authenticated GET throughput vs a bare actix-web handler",
            Self::Login => "Logins/s vs raw Argon2id hashes/s",
            Self::Latency => "Authenticated GET p99 while logins saturate the hash pool",
            Self::Refresh => "Refresh-token rotations/s on PostgreSQL",
            Self::Session => "Session read vs a bare Redis GET",
            Self::Sockets => "10,000 idle agent sockets: experience memory per socket",
            Self::TurnLatency => "Agent turn latency (intent → first delta) at 200 turns/s",
            Self::TurnLatencyProduction => {
                "Agent turn latency at 200 turns/s on PostgreSQL + Redis"
            }
            Self::Turns => "Agent turns/s at saturation vs a bare actix-ws echo",
            Self::TurnSerial => "One client alone: agent turn latency at concurrency 1",
            Self::TurnSerialProduction => {
                "One client alone: agent turn latency at concurrency 1 on PostgreSQL + Redis"
            }
            Self::MeSerial => "One client alone: `GET /api/auth/me` at concurrency 1",
            Self::MeSerialProduction => {
                "One client alone: `GET /api/auth/me` at concurrency 1 on PostgreSQL + Redis"
            }
            Self::Wrappers => "`GET /api/agents/wrappers` (50 items) at 32 clients beside `/me`",
            Self::SpecialistTurn => {
                "One client alone: a deployed specialist's turn vs a guide turn"
            }
            Self::Metrics => "Agent metrics over 100,000 executions at 32 clients",
            Self::MetricsProduction => {
                "Agent metrics over 100,000 executions at 32 clients on PostgreSQL + Redis"
            }
            Self::PolicyTurn => {
                "Policy evaluation in the turn: 50 ACTIVE policies vs none at 200 turns/s"
            }
            Self::PolicyTurnProduction => {
                "Policy evaluation in the turn at 200 turns/s on PostgreSQL + Redis"
            }
            Self::Evaluate => {
                "`POST /api/governance/evaluate` (50 policies) at 32 clients beside `/me`"
            }
            Self::SseIdle => "10,000 idle live-event streams (SSE): experience memory per stream",
            Self::SseFanout => "Live events to 1,000 SSE streams of one tenant at 100 events/s",
            Self::SseFanoutProduction => {
                "Live events to 1,000 SSE streams of one tenant at 100 events/s on PostgreSQL + Redis"
            }
            Self::Outcomes => "Outcomes dashboard over 100,000 events at 32 clients",
            Self::OutcomesProduction => {
                "Outcomes dashboard over 100,000 events at 32 clients on PostgreSQL + Redis"
            }
            Self::MultiAgentExchange => {
                "A sequential multi-agent exchange (3 hops): overhead per hop beside a plain turn"
            }
            Self::MultimodalVision => {
                "One client alone: a 1 MB vision request (builtin), create → completed"
            }
            Self::OperationsHub => {
                "`GET /v1/operations/hub` over 10,000 + 100,000 executions at 32 clients beside `/me`"
            }
        }
    }

    /// The goal, as written in the issue.
    pub fn goal(self) -> &'static str {
        match self {
            Self::Me => "ratio ≥ 0.60",
            Self::Login => "ratio ≥ 0.85",
            Self::Latency => "p99 ≤ 10 ms",
            Self::Refresh => "≥ 1,000/s",
            Self::Session => "reported beside bare Redis (no numeric goal)",
            Self::Sockets => "all held, ≤ 32 KB (32,768 B) RSS per socket",
            Self::TurnLatency | Self::TurnLatencyProduction => "p50 ≤ 5 ms, p99 ≤ 25 ms",
            Self::Turns => "≥ 800 turns/s (64 sockets, embedded), echo beside it",
            Self::TurnSerial | Self::TurnSerialProduction => "first delta p50 ≤ 3 ms, p99 ≤ 10 ms",
            Self::MeSerial | Self::MeSerialProduction => "p50 ≤ 0.5 ms",
            Self::Wrappers => "reported beside `/me` (no numeric goal)",
            Self::SpecialistTurn => "specialist first-delta p50 ≤ 1.10 × guide",
            Self::Metrics | Self::MetricsProduction => "p99 ≤ 20 ms",
            Self::PolicyTurn | Self::PolicyTurnProduction => "≤ 1 ms added to the first-delta p50",
            Self::Evaluate => "reported beside `/me` (no numeric goal)",
            Self::SseIdle => "all held, ≤ 16 KiB (16,384 B) RSS per stream",
            Self::SseFanout | Self::SseFanoutProduction => {
                "p50 ≤ 5 ms, p99 ≤ 50 ms, zero lost, zero duplicated"
            }
            Self::Outcomes | Self::OutcomesProduction => "p99 ≤ 20 ms",
            Self::MultiAgentExchange => {
                "overhead per hop reported beside a plain turn (no numeric goal)"
            }
            Self::MultimodalVision => "median and p99 reported (no numeric goal)",
            Self::OperationsHub => "p99 ≤ 20 ms",
        }
    }

    /// Parses an `--only` name (or the number).
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|which| which.name() == text || which.number() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|w| w.name()).collect();
                anyhow::anyhow!("unknown scenario {text:?} (one of: {})", names.join(", "))
            })
    }
}

impl std::fmt::Display for Which {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}. {}", self.number(), self.title())
    }
}

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Bench {
    /// Measurements (or pairs) per target.
    pub runs: usize,
    /// Counted window.
    pub measure: Duration,
    /// Warm-up before a target's first window.
    pub warmup: Duration,
    /// Cores of this machine (worker counts, hashing threads, flood size).
    pub cores: usize,
    /// Sizes of the agent-socket targets.
    pub agent: AgentSizes,
}

impl Bench {
    /// Settle time before each window: a tenth of it, between 50 ms and 500 ms.
    pub fn settle(&self) -> Duration {
        self.measure
            .mul_f64(0.1)
            .clamp(Duration::from_millis(50), Duration::from_millis(500))
    }

    /// A measured window.
    pub fn plan(&self) -> Plan {
        Plan {
            settle: self.settle(),
            measure: self.measure,
        }
    }

    /// A warm-up window (its result is only checked for success).
    pub fn warm(&self) -> Plan {
        Plan {
            settle: Duration::ZERO,
            measure: self.warmup,
        }
    }
}

/// Runs one target against a running stack.
pub async fn run(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    match which {
        Which::Me => me::run(stack, bench).await,
        Which::Login => login::run(stack, bench).await,
        Which::Latency => latency::run(stack, bench).await,
        Which::Refresh => refresh::run(stack, bench).await,
        Which::Session => session::run(stack, bench).await,
        Which::Sockets => sockets::run(stack, bench).await,
        Which::TurnLatency | Which::TurnLatencyProduction => {
            turn_latency::run(which, stack, bench).await
        }
        Which::Turns => turns::run(stack, bench).await,
        Which::TurnSerial | Which::TurnSerialProduction => serial::turn(which, stack, bench).await,
        Which::MeSerial | Which::MeSerialProduction => serial::me(which, stack, bench).await,
        Which::Wrappers => agents::list(stack, bench).await,
        Which::SpecialistTurn => agents::specialist(stack, bench).await,
        Which::Metrics | Which::MetricsProduction => metrics::run(which, stack, bench).await,
        Which::PolicyTurn | Which::PolicyTurnProduction => {
            policy_turn::run(which, stack, bench).await
        }
        Which::Evaluate => governance::evaluate(stack, bench).await,
        Which::SseIdle => sse_idle::run(stack, bench).await,
        Which::SseFanout | Which::SseFanoutProduction => sse_fanout::run(which, stack, bench).await,
        Which::Outcomes | Which::OutcomesProduction => outcomes::run(which, stack, bench).await,
        Which::MultiAgentExchange => multi_agent::exchange(stack, bench).await,
        Which::MultimodalVision => multimodal::vision(stack, bench).await,
        Which::OperationsHub => operations::run(which, stack, bench).await,
    }
}

/// GET load: `clients` keep-alive connections, client `i` sending `requests[i % len]` and
/// expecting `200`. Closed-loop, or paced at `rate` requests/s in total. Any pre-built request
/// works (target 15 sends governance evaluations, POSTs answered `200`).
pub async fn get_load(
    addr: SocketAddr,
    requests: &Arc<Vec<Vec<u8>>>,
    clients: usize,
    plan: Plan,
    rate: Option<f64>,
) -> Result<Sample> {
    if requests.is_empty() {
        bail!("no requests to send");
    }
    let task = |i: usize, mut probe: load::Probe| {
        let requests = Arc::clone(requests);
        async move {
            let request = &requests[i % requests.len()];
            let mut client = Http1::new(addr);
            while let Some(started) = probe.next().await {
                let outcome = client.expect(request, 200).await;
                probe.record(started, outcome);
            }
            probe
        }
    };
    match rate {
        None => load::closed(clients, plan, task).await,
        Some(rate) => load::paced(clients, rate, plan, task).await,
    }
}

/// `requests` (sent round-robin by [`HTTP_CLIENTS`] closed-loop clients) interleaved window by
/// window with `GET /api/auth/me` by the same clients and `token`: the series of the load and of
/// `/me`, measured side by side (targets 11, 13, 15, 20).
pub async fn beside_me(
    bench: &Bench,
    stack: &Stack,
    token: &str,
    (name, requests): (&str, Vec<Vec<u8>>),
) -> Result<(Series, Series)> {
    let requests = Arc::new(requests);
    let me = Arc::new(vec![crate::http1::get_request(
        stack.experience,
        "/api/auth/me",
        Some(token),
    )]);
    interleaved(
        bench,
        (name, async |plan| {
            get_load(stack.experience, &requests, HTTP_CLIENTS, plan, None).await
        }),
        ("GET /api/auth/me", async |plan| {
            get_load(stack.experience, &me, HTTP_CLIENTS, plan, None).await
        }),
    )
    .await
}

/// Warms both sides up, then measures A, B, A, B, … `bench.runs` pairs.
pub async fn interleaved(
    bench: &Bench,
    (name_a, a): (&str, impl AsyncFn(Plan) -> Result<Sample>),
    (name_b, b): (&str, impl AsyncFn(Plan) -> Result<Sample>),
) -> Result<(Series, Series)> {
    a(bench.warm()).await?.require_success(name_a)?;
    b(bench.warm()).await?.require_success(name_b)?;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..bench.runs {
        let x = a(bench.plan()).await?;
        x.require_success(name_a)?;
        xs.push(x);
        let y = b(bench.plan()).await?;
        y.require_success(name_b)?;
        ys.push(y);
    }
    Ok((Series::new(name_a, xs), Series::new(name_b, ys)))
}

/// Warms up, then measures `bench.runs` windows.
pub async fn repeated(
    bench: &Bench,
    name: &str,
    a: impl AsyncFn(Plan) -> Result<Sample>,
) -> Result<Series> {
    a(bench.warm()).await?.require_success(name)?;
    let mut xs = Vec::new();
    for _ in 0..bench.runs {
        let x = a(bench.plan()).await?;
        x.require_success(name)?;
        xs.push(x);
    }
    Ok(Series::new(name, xs))
}

/// The windows of one measurement.
#[derive(Debug, Clone)]
pub struct Series {
    name: String,
    /// One sample per run.
    pub samples: Vec<Sample>,
}

impl Series {
    /// A series of `name` made of `samples`.
    pub fn new(name: &str, samples: Vec<Sample>) -> Self {
        Self {
            name: name.to_owned(),
            samples,
        }
    }

    /// Throughput of each run.
    pub fn rates(&self) -> Vec<f64> {
        self.samples.iter().map(Sample::per_second).collect()
    }

    /// A latency percentile of each run, milliseconds.
    pub fn percentiles(&self, q: f64) -> Vec<f64> {
        self.samples.iter().map(|s| s.percentile_ms(q)).collect()
    }

    /// Per-run ratios of this series' throughput to `other`'s.
    pub fn rate_ratios(&self, other: &Self) -> Vec<f64> {
        self.rates()
            .iter()
            .zip(other.rates())
            .map(|(a, b)| a / b)
            .collect()
    }

    /// A note when some operations failed (they are not counted in any number).
    pub fn error_note(&self) -> Option<String> {
        let errors: u64 = self.samples.iter().map(|s| s.errors).sum();
        let first = self.samples.iter().find_map(|s| s.first_error.clone());
        (errors > 0).then(|| {
            format!(
                "{}: {errors} failed operations over all runs (not counted); first: `{}`",
                self.name,
                first.unwrap_or_default().replace('`', "'")
            )
        })
    }
}
