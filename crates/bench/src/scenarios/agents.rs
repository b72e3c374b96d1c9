//! Targets 11 and 12 (issue "Agent management"): the wrapper list under load, and what a turn on
//! a deployed specialist costs next to a builtin one.
//!
//! - **11**: `GET /api/agents/wrappers` returning 50 items (one tenant with 50 wrappers) at 32
//!   closed-loop clients, interleaved with `GET /api/auth/me` by the same clients: the list's
//!   p50/p99 beside the cheapest authenticated read of the same plane. Reported, not judged (the
//!   issue sets no number for the list).
//! - **12**: one client alone, closed loop: turns on a deployed `builtin`-provider wrapper
//!   (`agent_type: specialist`, `metadata.agent_id`) interleaved window by window with guide
//!   turns on a second socket of the same user. Goal: the specialist's first-delta p50 within
//!   10 % of the builtin one (ratio ≤ 1.10), from the same run.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::agent;
use super::{beside_me, interleaved, Bench, Series, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::http1::get_request;
use crate::load::{median, Plan, Sample, Window};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;
use crate::ws::AgentSocket;

/// Wrappers of the listed tenant (one full default page).
const WRAPPERS: usize = 50;
/// Goal of target 12: specialist first-delta p50 / builtin first-delta p50.
const SPECIALIST_RATIO: f64 = 1.10;

fn definition(i: usize) -> serde_json::Value {
    json!({
        "name": format!("Bench agent {i:02}"),
        "description": "A deployed agent of the benchmark.",
        "supported_providers": ["builtin"],
        "configuration": {"system_prompt": "You are a concise specialist.", "provider": "builtin", "model": "builtin"},
    })
}

/// Creates a wrapper, deploys it and waits until it is `active`; returns its id.
async fn deployed(api: &Api, token: &str) -> Result<String> {
    let wrapper = api
        .call(
            Method::POST,
            "/api/agents/wrappers",
            token,
            Some(&definition(0)),
            StatusCode::CREATED,
        )
        .await?;
    let id = wrapper["id"].as_str().context("wrapper id")?.to_owned();
    let deploy = format!("/api/agents/wrappers/{id}/deploy");
    api.call(Method::POST, &deploy, token, None, StatusCode::ACCEPTED)
        .await?;
    let status = format!("/api/agents/wrappers/{id}/status");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = api
            .call(Method::GET, &status, token, None, StatusCode::OK)
            .await?;
        match answer["deployment_status"].as_str() {
            Some("active") => return Ok(id),
            Some("deploying") if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            other => bail!("deployment ended {other:?}: {answer}"),
        }
    }
}

/// Measures target 11.
pub async fn list(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let account = api.register().await?;
    let token = account.login.access_token.clone();
    for i in 0..WRAPPERS {
        api.call(
            Method::POST,
            "/api/agents/wrappers",
            &token,
            Some(&definition(i)),
            StatusCode::CREATED,
        )
        .await
        .with_context(|| format!("creating wrapper {i}"))?;
    }
    let page = api
        .call(
            Method::GET,
            "/api/agents/wrappers",
            &token,
            None,
            StatusCode::OK,
        )
        .await?;
    let items = page["items"].as_array().map_or(0, Vec::len);
    if items != WRAPPERS {
        bail!("the list answered {items} items, not {WRAPPERS}");
    }
    let list = vec![get_request(
        stack.experience,
        "/api/agents/wrappers",
        Some(&token),
    )];
    let (wrappers, baseline) =
        beside_me(bench, stack, &token, ("GET /api/agents/wrappers", list)).await?;
    let (l50, l99) = (
        median(&wrappers.percentiles(50.0)),
        median(&wrappers.percentiles(99.0)),
    );
    let (m50, m99) = (
        median(&baseline.percentiles(50.0)),
        median(&baseline.percentiles(99.0)),
    );
    Ok(Section {
        which: Which::Wrappers,
        setup: format!(
            "Backends: {}. One tenant with {WRAPPERS} wrappers; {HTTP_CLIENTS} closed-loop \
             keep-alive clients with its owner's bearer token read the first page (all {WRAPPERS}, \
             experience gateway → runtime → SQL), interleaved window by window with \
             `GET /api/auth/me` by the same clients.",
            stack.description
        ),
        rows: vec![
            row("`GET /api/agents/wrappers` (50 items) p50", &wrappers, 50.0),
            row("`GET /api/agents/wrappers` (50 items) p99", &wrappers, 99.0),
            rate("`GET /api/agents/wrappers` throughput", &wrappers),
            row("`GET /api/auth/me` p50", &baseline, 50.0),
            row("`GET /api/auth/me` p99", &baseline, 99.0),
            rate("`GET /api/auth/me` throughput", &baseline),
        ],
        measured: format!(
            "list p50 {} / p99 {} (`/me`: {} / {})",
            report::ms(l50),
            report::ms(l99),
            report::ms(m50),
            report::ms(m99)
        ),
        status: Status::Info,
        notes: [wrappers.error_note(), baseline.error_note()]
            .into_iter()
            .flatten()
            .collect(),
    })
}

/// A row: the median over the runs of the throughput of `series`, with every run listed.
pub(super) fn rate(name: &str, series: &Series) -> Row {
    let rates = series.rates();
    Row::measured(
        name,
        report::rate(median(&rates)),
        report::runs(&rates, report::rate),
    )
}

/// A row: the median over the runs of one percentile of `series`, with every run listed.
pub(super) fn row(name: &str, series: &Series, q: f64) -> Row {
    let values = series.percentiles(q);
    Row::measured(
        name,
        report::ms(median(&values)),
        report::runs(&values, report::ms),
    )
}

/// One closed-loop window of turns on one socket: intent → first delta.
async fn window(socket: &tokio::sync::Mutex<AgentSocket>, plan: Plan) -> Result<Sample> {
    let mut socket = socket.lock().await;
    let window = Window::start(plan);
    let mut probe = window.probe();
    while let Some(started) = probe.next_now() {
        match socket.turn().await {
            Ok(turn) => probe.record_until(started, turn.first_delta, Ok(())),
            Err(error) => probe.record(started, Err(error)),
        }
    }
    Ok(Sample::merge(plan, [probe]))
}

/// Measures target 12.
pub async fn specialist(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let tokens = agent::sessions(&api, 2, 1).await?;
    let agent_id = deployed(&api, &tokens[0]).await?;
    let pool = agent::open_sockets(stack.experience, &tokens).await?;
    let (builtin, specialist) = (&pool[0], &pool[1]);
    specialist.lock().await.talk_to(&agent_id);
    let (guide, deployed_agent) = interleaved(
        bench,
        ("guide turn", async |plan| window(builtin, plan).await),
        ("specialist turn", async |plan| {
            window(specialist, plan).await
        }),
    )
    .await?;
    let (g50s, s50s) = (guide.percentiles(50.0), deployed_agent.percentiles(50.0));
    let ratios: Vec<f64> = s50s.iter().zip(&g50s).map(|(s, g)| s / g).collect();
    let ratio = median(&ratios);
    let status = Status::verdict(ratio <= SPECIALIST_RATIO);
    let mut notes: Vec<String> = [guide.error_note(), deployed_agent.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(agent::stack_note());
    Ok(Section {
        which: Which::SpecialistTurn,
        setup: format!(
            "Backends: {}. Two agent sockets of one user, one client alone on each in turn: \
             guide turns on one, turns on a deployed `builtin`-provider wrapper \
             (`agent_type: specialist`, `metadata.agent_id`) on the other, interleaved window by \
             window; each turn waits for the previous `EXECUTION_COMPLETED`. Latency from \
             sending the intent to the first `AGENT_RESPONSE_DELTA`.",
            stack.description
        ),
        rows: vec![
            row("guide turn, first delta p50", &guide, 50.0),
            row("guide turn, first delta p99", &guide, 99.0),
            row("specialist turn, first delta p50", &deployed_agent, 50.0),
            row("specialist turn, first delta p99", &deployed_agent, 99.0),
            Row::judged(
                "specialist p50 / guide p50",
                report::ratio(ratio),
                report::runs(&ratios, report::ratio),
                &status,
            ),
        ],
        measured: format!(
            "specialist / guide first-delta p50 = {}",
            report::ratio(ratio)
        ),
        status,
        notes,
    })
}
