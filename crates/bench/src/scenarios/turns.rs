//! Target 8: agent turns/s at saturation, beside a bare actix-ws echo server driven the same way.
//!
//! Closed loop: 64 sockets (each its own session) each send their next intent as soon as the
//! previous turn's `EXECUTION_COMPLETED` arrived. The baseline is an actix-ws server in this
//! process that echoes text frames and does nothing else, driven by 64 sockets that send the
//! same intent bytes and wait for them to come back. The echo is the floor of "a message in, a
//! message out" over actix-ws on this machine; a turn is that plus two services, a signed intent,
//! SQL writes and eight streamed events, so the ratio says how much of the WebSocket ceiling the
//! agent path keeps. The two are measured interleaved. Goal (issue "Scale-out and latency" §1):
//! ≥ 800 turns/s with 64 sockets on the embedded default.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use tokio::sync::Mutex;

use super::agent::{self, Pool, Priming};

/// Turns per second the issue asks for at saturation.
const GOAL_TURNS_PER_SEC: f64 = 800.0;
use super::{interleaved, Bench, Which};
use crate::api::Api;
use crate::baselines::BareServer;
use crate::load::{self, median, Plan, Sample};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;
use crate::ws::{AgentSocket, EchoSocket};

/// Measures target 8.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let clients = bench.agent.turn_clients;
    let api = Api::new(stack.experience)?;
    let tokens = agent::sessions(&api, clients, 2 * bench.cores).await?;
    let pool = agent::open_sockets(stack.experience, &tokens).await?;
    let priming = Priming::run(&pool).await?;
    let echo = BareServer::echo(bench.cores)?;
    let measured = async {
        let echoes = open_echoes(&echo, clients).await?;
        interleaved(
            bench,
            ("agent turns", async |plan| closed_turns(&pool, plan).await),
            ("bare actix-ws echo", async |plan| {
                closed_echoes(&echoes, plan).await
            }),
        )
        .await
    }
    .await;
    echo.stop().await;
    let (turns, echoes) = measured?;

    let ratios = turns.rate_ratios(&echoes);
    let ratio = median(&ratios);
    let mut notes: Vec<String> = [turns.error_note(), echoes.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Latency at this load: a whole turn (intent → `EXECUTION_COMPLETED`) p50 {} / p99 {}; \
         an echo round trip p50 {} / p99 {} (medians of runs).",
        report::ms(median(&turns.percentiles(50.0))),
        report::ms(median(&turns.percentiles(99.0))),
        report::ms(median(&echoes.percentiles(50.0))),
        report::ms(median(&echoes.percentiles(99.0))),
    ));
    notes.push(format!(
        "The client parses the {} JSON frames of a turn (median of the priming turns) and \
         compares one frame per echo, on the same cores as the servers: its larger share on \
         the turn side pulls the ratio down a little.",
        priming.frames_per_turn()
    ));
    notes.push(priming.note());
    notes.push(agent::stack_note());
    let verdict = Status::verdict(median(&turns.rates()) >= GOAL_TURNS_PER_SEC);
    Ok(Section {
        which: Which::Turns,
        setup: format!(
            "Backends: {}. {clients} agent sockets, each its own login session, closed loop \
             (next guide intent when the previous turn's `EXECUTION_COMPLETED` arrived). \
             Baseline: an actix-ws echo server in the harness with {} workers (the services' \
             default), {clients} sockets each sending the same intent bytes and waiting for the \
             echo.",
            stack.description, bench.cores
        ),
        rows: vec![
            Row::judged(
                format!("agent turns/s, {clients} sockets"),
                report::rate(median(&turns.rates())),
                report::runs(&turns.rates(), report::rate),
                &verdict,
            ),
            Row::measured(
                format!("bare actix-ws echoes/s, {clients} sockets"),
                report::rate(median(&echoes.rates())),
                report::runs(&echoes.rates(), report::rate),
            ),
            Row::judged(
                "ratio turns / echoes (median of per-pair ratios)",
                report::ratio(ratio),
                report::runs(&ratios, report::ratio),
                &Status::Info,
            ),
        ],
        measured: format!(
            "{} turns vs {} echoes (ratio {})",
            report::rate(median(&turns.rates())),
            report::rate(median(&echoes.rates())),
            report::ratio(ratio)
        ),
        status: verdict,
        notes,
    })
}

async fn open_echoes(server: &BareServer, n: usize) -> Result<Pool<EchoSocket>> {
    let addr = server.addr;
    let sockets: Vec<EchoSocket> = stream::iter(0..n)
        .map(|i| async move {
            EchoSocket::connect(addr, BareServer::ECHO_PATH)
                .await
                .with_context(|| format!("opening echo socket {i}"))
        })
        .buffered(agent::CONNECTS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(Arc::new(sockets.into_iter().map(Mutex::new).collect()))
}

/// One closed-loop window of agent turns, one task per socket.
async fn closed_turns(pool: &Pool<AgentSocket>, plan: Plan) -> Result<Sample> {
    load::closed(pool.len(), plan, |i, mut probe| {
        let pool = Arc::clone(pool);
        async move {
            let Some(slot) = pool.get(i) else {
                return probe;
            };
            let mut socket = slot.lock().await;
            while let Some(started) = probe.next().await {
                let outcome = socket.turn().await.map(|_| ());
                probe.record(started, outcome);
            }
            probe
        }
    })
    .await
}

/// One closed-loop window of echo round trips, one task per socket.
async fn closed_echoes(pool: &Pool<EchoSocket>, plan: Plan) -> Result<Sample> {
    load::closed(pool.len(), plan, |i, mut probe| {
        let pool = Arc::clone(pool);
        async move {
            let Some(slot) = pool.get(i) else {
                return probe;
            };
            let mut socket = slot.lock().await;
            while let Some(started) = probe.next().await {
                let outcome = socket.round_trip().await;
                probe.record(started, outcome);
            }
            probe
        }
    })
    .await
}
