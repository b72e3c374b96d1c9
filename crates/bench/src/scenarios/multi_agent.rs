//! Target 18: what a multi-agent hop costs beyond the agent turn it contains (SPEC §12,
//! docs/adr/0024). One client alone: a `sequential` exchange — `POST /api/multi_agent/message`
//! from the guide to three builtin liaisons with `require_response`, answered once all three
//! have run and their answers are stored — interleaved window by window with plain guide turns
//! on an agent socket (intent → `AGENT_RESPONSE`). Per hop = exchange latency / 3; the overhead
//! per hop = that minus the plain turn, per run, medians. Reported, not judged (no number is
//! set).

use anyhow::{Context as _, Result};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::agents::row;
use super::{agent, interleaved, Bench, Which};
use crate::api::Api;
use crate::load::{median, Plan, Sample, Window};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;
use crate::ws::AgentSocket;

/// Recipients answering in turn: the hops of one exchange.
pub const HOPS: usize = 3;

/// One closed-loop window of plain turns: intent → the whole answer.
async fn turns(socket: &Mutex<AgentSocket>, plan: Plan) -> Result<Sample> {
    let mut socket = socket.lock().await;
    let window = Window::start(plan);
    let mut probe = window.probe();
    while let Some(started) = probe.next_now() {
        match socket.turn().await {
            Ok(turn) => probe.record_until(started, turn.response, Ok(())),
            Err(error) => probe.record(started, Err(error)),
        }
    }
    Ok(Sample::merge(plan, [probe]))
}

/// One closed-loop window of exchanges; an exchange counts only when every hop answered.
async fn exchanges(api: &Api, token: &str, body: &Value, plan: Plan) -> Result<Sample> {
    let window = Window::start(plan);
    let mut probe = window.probe();
    while let Some(started) = probe.next_now() {
        let sent = api
            .call(
                Method::POST,
                "/api/multi_agent/message",
                token,
                Some(body),
                StatusCode::CREATED,
            )
            .await;
        let outcome = sent.and_then(|sent| {
            let answered = sent["delivery_results"]
                .as_array()
                .is_some_and(|r| r.len() == HOPS && r.iter().all(|d| d["delivered"] == true));
            match answered {
                true => Ok(()),
                false => Err(anyhow::anyhow!("not every hop answered: {sent}")),
            }
        });
        probe.record(started, outcome);
    }
    Ok(Sample::merge(plan, [probe]))
}

/// Measures target 18.
pub async fn exchange(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let tokens = agent::sessions(&api, 1, 1).await?;
    let token = tokens[0].clone();
    let recipients = ["liaison.content", "liaison.insights", "liaison.operations"];
    let context = api
        .call(
            Method::POST,
            "/api/multi_agent/context",
            &token,
            Some(&json!({"name": "bench", "agent_ids": ["guide", recipients[0], recipients[1], recipients[2]],
                "collaboration_model": "sequential", "policies": {"governance_threshold": 0.0}})),
            StatusCode::CREATED,
        )
        .await?;
    let context_id = context["context_id"]
        .as_str()
        .context("context_id")?
        .to_owned();
    let body = json!({"context_id": context_id, "from_agent_id": "guide", "to_agent_ids": recipients,
        "require_response": true, "message": {"type": "task", "content": "How do I prepare the data for analysis?"}});
    let pool = agent::open_sockets(stack.experience, &tokens).await?;
    let (plain, exchange) = interleaved(
        bench,
        ("plain guide turn", async |plan| turns(&pool[0], plan).await),
        ("sequential exchange", async |plan| {
            exchanges(&api, &token, &body, plan).await
        }),
    )
    .await?;
    let per_hop: Vec<f64> = exchange
        .percentiles(50.0)
        .iter()
        .map(|p| p / HOPS as f64)
        .collect();
    let overheads: Vec<f64> = per_hop
        .iter()
        .zip(plain.percentiles(50.0))
        .map(|(hop, turn)| hop - turn)
        .collect();
    let overhead = median(&overheads);
    let mut notes: Vec<String> = [plain.error_note(), exchange.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(agent::stack_note());
    Ok(Section {
        which: Which::MultiAgentExchange,
        setup: format!(
            "Backends: {}. One user alone. A `sequential` context of the guide and three builtin \
             liaisons (governance on, threshold 0): each exchange is `POST /api/multi_agent/message` \
             from the guide to the three liaisons with `require_response` (each runs as an \
             execution and its answer is stored before the next one runs; the POST answers after \
             the third), interleaved window by window with plain guide turns on an agent socket \
             (intent → `AGENT_RESPONSE`). Per hop = exchange p50 / {HOPS}; overhead per hop = per \
             hop − plain turn p50, per run.",
            stack.description
        ),
        rows: vec![
            row("plain guide turn p50", &plain, 50.0),
            row("sequential exchange (3 hops) p50", &exchange, 50.0),
            row("sequential exchange (3 hops) p99", &exchange, 99.0),
            Row::measured(
                "per hop p50",
                report::ms(median(&per_hop)),
                report::runs(&per_hop, report::ms),
            ),
            Row::measured(
                "overhead per hop (per hop − plain turn)",
                report::ms(overhead),
                report::runs(&overheads, report::ms),
            ),
        ],
        measured: format!("overhead per hop {}", report::ms(overhead)),
        status: Status::Info,
        notes,
    })
}
