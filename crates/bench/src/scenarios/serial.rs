//! Targets 9 and 10: what one client alone waits, closed loop at concurrency 1.
//!
//! The load targets (1–8) keep many requests in flight, so a server that holds each small write
//! back for ~40 ms (Nagle's algorithm meeting a delayed ACK) still shows good throughput and
//! only a fat tail. One client that sends its next request only when the previous answer
//! arrived sees every such stall in full: this is the measurement that found it (issue
//! "Scale-out and latency" §1).
//!
//! - **9 / 9b, agent turn**: one agent socket (its own login session), guide intents one after
//!   the other. Latency from sending the intent to the first `AGENT_RESPONSE_DELTA`, and to the
//!   `AGENT_RESPONSE` (the whole answer); the next intent goes once `EXECUTION_COMPLETED`
//!   arrived. Goal: first delta p50 ≤ 3 ms, p99 ≤ 10 ms.
//! - **10 / 10b, `GET /api/auth/me`**: one keep-alive connection, authenticated, beside the
//!   bare actix-web handler driven the same way (interleaved). Goal: p50 ≤ 0.5 ms.
//!
//! The "b" variants run the same on PostgreSQL + Redis. All four run on the agent stack
//! (cheap Argon2, socket message limit lifted: see [`super::agent`]); `/me` does not hash.

use std::sync::Arc;

use anyhow::Result;

use super::agent::{self, Priming};
use super::{get_load, interleaved, Bench, Series, Which};
use crate::api::Api;
use crate::baselines::BareServer;
use crate::http1::get_request;
use crate::load::{median, Plan, Sample, Window};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;
use crate::ws::AgentSocket;

/// Turn goal: intent → first delta p50 at most this many milliseconds...
const TURN_P50_MS: f64 = 3.0;
/// ...and p99 at most this many.
const TURN_P99_MS: f64 = 10.0;
/// `/me` goal: p50 at most this many milliseconds.
const ME_P50_MS: f64 = 0.5;

/// Measures target 9 or 9b (`which` names the section).
pub async fn turn(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let tokens = agent::sessions(&api, 1, 1).await?;
    let pool = agent::open_sockets(stack.experience, &tokens).await?;
    let priming = Priming::run(&pool).await?;
    let Some(slot) = pool.first() else {
        anyhow::bail!("no socket opened");
    };
    let mut socket = slot.lock().await;
    let (warm, _) = turns(&mut socket, bench.warm()).await;
    warm.require_success("agent turns (warm-up)")?;
    let (mut deltas, mut answers) = (Vec::new(), Vec::new());
    for _ in 0..bench.runs {
        let (delta, answer) = turns(&mut socket, bench.plan()).await;
        delta.require_success("agent turns")?;
        deltas.push(delta);
        answers.push(answer);
    }
    let deltas = Series::new("intent → first delta", deltas);
    let answers = Series::new("intent → AGENT_RESPONSE", answers);

    let (p50s, p99s) = (deltas.percentiles(50.0), deltas.percentiles(99.0));
    let (p50, p99) = (median(&p50s), median(&p99s));
    let p50_status = Status::verdict(p50 <= TURN_P50_MS);
    let p99_status = Status::verdict(p99 <= TURN_P99_MS);
    let status = Status::verdict(p50_status == Status::Pass && p99_status == Status::Pass);
    let (a50s, a99s) = (answers.percentiles(50.0), answers.percentiles(99.0));
    let mut notes: Vec<String> = deltas.error_note().into_iter().collect();
    notes.push(priming.note());
    notes.push(agent::stack_note());
    Ok(Section {
        which,
        setup: format!(
            "Backends: {}. One agent socket (its own login session), closed loop: the next \
             guide intent is sent when the previous turn's `EXECUTION_COMPLETED` arrived. \
             Latency from sending the intent to the first `AGENT_RESPONSE_DELTA`, and to the \
             `AGENT_RESPONSE`.",
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
                "intent → `AGENT_RESPONSE`, p50",
                report::ms(median(&a50s)),
                report::runs(&a50s, report::ms),
            ),
            Row::measured(
                "intent → `AGENT_RESPONSE`, p99",
                report::ms(median(&a99s)),
                report::runs(&a99s, report::ms),
            ),
            Row::measured(
                "turns/s (one client)",
                report::rate(median(&deltas.rates())),
                report::runs(&deltas.rates(), report::rate),
            ),
        ],
        measured: format!(
            "first delta p50 {} / p99 {}; answer p50 {}",
            report::ms(p50),
            report::ms(p99),
            report::ms(median(&a50s))
        ),
        status,
        notes,
    })
}

/// One closed-loop window of turns on one socket: (intent → first delta, intent → answer).
/// A failed turn counts as an error in both.
async fn turns(socket: &mut AgentSocket, plan: Plan) -> (Sample, Sample) {
    let window = Window::start(plan);
    let (mut delta, mut answer) = (window.probe(), window.probe());
    while let Some(started) = delta.next_now() {
        match socket.turn().await {
            Ok(turn) => {
                delta.record_until(started, turn.first_delta, Ok(()));
                answer.record_until(started, turn.response, Ok(()));
            }
            Err(error) => {
                answer.record(started, Err(anyhow::anyhow!("{error:#}")));
                delta.record(started, Err(error));
            }
        }
    }
    (Sample::merge(plan, [delta]), Sample::merge(plan, [answer]))
}

/// Measures target 10 or 10b (`which` names the section).
pub async fn me(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let account = api.register().await?;
    let me = Arc::new(vec![get_request(
        stack.experience,
        "/api/auth/me",
        Some(&account.login.access_token),
    )]);
    let bare = BareServer::start(bench.cores)?;
    let bare_request = Arc::new(vec![get_request(bare.addr, BareServer::PATH, None)]);
    let measured = interleaved(
        bench,
        ("GET /api/auth/me", async |plan| {
            get_load(stack.experience, &me, 1, plan, None).await
        }),
        ("bare actix-web handler", async |plan| {
            get_load(bare.addr, &bare_request, 1, plan, None).await
        }),
    )
    .await;
    bare.stop().await;
    let (service, baseline) = measured?;

    let (p50s, p99s) = (service.percentiles(50.0), service.percentiles(99.0));
    let p50 = median(&p50s);
    let status = Status::verdict(p50 <= ME_P50_MS);
    let (b50s, b99s) = (baseline.percentiles(50.0), baseline.percentiles(99.0));
    let notes: Vec<String> = [service.error_note(), baseline.error_note()]
        .into_iter()
        .flatten()
        .collect();
    Ok(Section {
        which,
        setup: format!(
            "Backends: {}. One keep-alive connection, closed loop, one user's bearer token; \
             beside it, interleaved, the bare actix-web handler of target 1 ({} workers) driven \
             the same way.",
            stack.description, bench.cores
        ),
        rows: vec![
            Row::judged(
                "`GET /api/auth/me`, p50",
                report::ms(p50),
                report::runs(&p50s, report::ms),
                &status,
            ),
            Row::measured(
                "`GET /api/auth/me`, p99",
                report::ms(median(&p99s)),
                report::runs(&p99s, report::ms),
            ),
            Row::measured(
                "bare actix-web handler, p50",
                report::ms(median(&b50s)),
                report::runs(&b50s, report::ms),
            ),
            Row::measured(
                "bare actix-web handler, p99",
                report::ms(median(&b99s)),
                report::runs(&b99s, report::ms),
            ),
            Row::measured(
                "`GET /api/auth/me`/s (one client)",
                report::rate(median(&service.rates())),
                report::runs(&service.rates(), report::rate),
            ),
        ],
        measured: format!(
            "p50 {} (bare handler {})",
            report::ms(p50),
            report::ms(median(&b50s))
        ),
        status,
        notes,
    })
}
