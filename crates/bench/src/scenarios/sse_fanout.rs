//! Targets 17 and 17b: one tenant's live events fanned out to 1,000 SSE clients at 100 events/s
//! — delivery latency publish → client, and whether every client got every event exactly once
//! (docs/adr/0025).
//!
//! One user subscribes to `multi_agent.message`, then opens [`CLIENTS`] streams with the same
//! access token over raw TCP ([`crate::sse`], one task each). Each run publishes at
//! [`RATE`]/s for the window: `POST /api/multi_agent/message` (no `require_response`) on a
//! context of that user whose governance threshold is 0, so every message is approved and
//! announced as one `multi_agent.message` live event (audience: the tenant) with an immediate
//! wake. Each POST is sent at its scheduled time whatever the earlier ones are doing
//! (open-loop). Publish time is the event's stored `created_at` (ADR 0025: it includes the
//! producer's commit and the wake-up; stored with millisecond precision, so each latency reads
//! up to 1 ms high); receive time is this process's wall clock when the frame was parsed (same
//! machine, same clock). After the window the harness waits until every client has as many
//! events as there were accepted POSTs (or [`DRAIN`] passed), then counts per client by SSE
//! id: lost = accepted POSTs − distinct ids received, duplicated = frames − distinct ids. A
//! stream the server ends (its queue of 64 frames was full: ADR 0025 drops a slow reader) is
//! resumed with `Last-Event-ID` as a browser would; such resumes are counted and reported.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::{agent, Bench, Which};
use crate::api::Api;
use crate::load::{median, percentile_us};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;
use crate::sse::SseStream;

/// Streams of the one tenant.
pub const CLIENTS: usize = 1_000;
/// Events published per second.
const RATE: f64 = 100.0;
/// How long to wait for the last deliveries after the window.
const DRAIN: Duration = Duration::from_secs(10);
/// Streams opened at a time.
const OPENS_IN_FLIGHT: usize = 64;
const EVENT: &str = "multi_agent.message";
/// Goals: p50 and p99 at most, milliseconds; zero lost, zero duplicated.
const GOAL_P50_MS: f64 = 5.0;
const GOAL_P99_MS: f64 = 50.0;

/// One client's deliveries of the current run: (SSE id, latency µs).
type Deliveries = Arc<Mutex<Vec<(i64, u32)>>>;

/// What one run saw.
#[derive(Debug, Clone, Default)]
struct Run {
    published: usize,
    rejected: usize,
    first_error: Option<String>,
    /// Distinct ids over all clients.
    distinct: usize,
    lost: usize,
    duplicated: usize,
    /// Streams the server ended during the run (each resumed with `Last-Event-ID`).
    ended: usize,
    p50: f64,
    p99: f64,
    max: f64,
    deliveries: usize,
}

/// Measures target 17 or 17b.
pub async fn run(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let tokens = agent::sessions(&api, 1, 1).await?;
    let token = tokens[0].clone();
    let context = api
        .call(
            Method::POST,
            "/api/multi_agent/context",
            &token,
            Some(
                &json!({"name": "bench live", "agent_ids": ["guide", "liaison.content"],
                "collaboration_model": "sequential", "policies": {"governance_threshold": 0.0}}),
            ),
            StatusCode::CREATED,
        )
        .await?;
    let context_id = context["context_id"].as_str().context("context_id")?;
    api.call(
        Method::POST,
        "/api/events/subscribe",
        &token,
        Some(&json!({"event_types": [EVENT]})),
        StatusCode::CREATED,
    )
    .await?;
    let body = json!({"context_id": context_id, "from_agent_id": "guide",
        "to_agent_ids": ["liaison.content"], "message": {"type": "task", "content": "bench"}});

    let (clients, ended) = open_clients(stack, &token).await?;
    // Warm-up: one window's worth of events, not counted.
    publish(
        &api,
        &token,
        &body,
        bench.warmup.max(Duration::from_millis(200)),
    )
    .await;
    wait_idle(&clients).await;
    let mut runs = Vec::new();
    for _ in 0..bench.runs {
        for client in clients.iter() {
            lock(client).clear();
        }
        ended.store(0, std::sync::atomic::Ordering::Relaxed);
        let (published, rejected, first_error) = publish(&api, &token, &body, bench.measure).await;
        let deadline = Instant::now() + DRAIN;
        while Instant::now() < deadline && clients.iter().any(|c| lock(c).len() < published) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut run = count(&clients, published);
        run.rejected = rejected;
        run.first_error = first_error;
        run.ended = ended.swap(0, std::sync::atomic::Ordering::Relaxed);
        runs.push(run);
        tokio::time::sleep(bench.settle()).await;
    }
    if runs.iter().all(|r| r.deliveries == 0) {
        bail!(
            "no event reached any client; first publish error: {}",
            runs.iter()
                .find_map(|r| r.first_error.clone())
                .unwrap_or_else(|| "none (the POSTs succeeded)".into())
        );
    }
    Ok(section(which, stack, bench, &runs))
}

/// Opens the streams; each one's task records its deliveries until the stream ends.
async fn open_clients(
    stack: &Stack,
    token: &str,
) -> Result<(Vec<Deliveries>, Arc<std::sync::atomic::AtomicUsize>)> {
    let ended = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::with_capacity(CLIENTS);
    let mut opening = JoinSet::new();
    for i in 0..CLIENTS {
        if opening.len() >= OPENS_IN_FLIGHT {
            opening.join_next().await.context("opening")???;
        }
        let deliveries: Deliveries = Arc::default();
        clients.push(Arc::clone(&deliveries));
        let (addr, token, ended) = (stack.experience, token.to_owned(), Arc::clone(&ended));
        opening.spawn(async move {
            let mut stream = SseStream::open(addr, &token, None, None)
                .await
                .with_context(|| format!("opening stream {i}"))?;
            tokio::spawn(async move {
                // A stream the server ends (a full queue drops a slow client) is resumed with
                // `Last-Event-ID`, as a browser's EventSource does; each resume is counted.
                let mut last = None;
                loop {
                    while let Ok(Some(frame)) = stream.next().await {
                        let received = now_us();
                        if frame.id.is_some_and(|id| id > 0) {
                            last = frame.id;
                        }
                        if frame.event.as_deref() != Some(EVENT) {
                            continue;
                        }
                        let (Some(id), Some(data)) = (frame.id, frame.data) else {
                            continue;
                        };
                        let latency = created_at_us(&data).map_or(u32::MAX, |at| {
                            u32::try_from(received.saturating_sub(at)).unwrap_or(u32::MAX)
                        });
                        lock(&deliveries).push((id, latency));
                    }
                    ended.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    match SseStream::open(addr, &token, None, last).await {
                        Ok(again) => stream = again,
                        Err(_) => return,
                    }
                }
            });
            anyhow::Ok(())
        });
    }
    while let Some(opened) = opening.join_next().await {
        opened??;
    }
    Ok((clients, ended))
}

/// Publishes at [`RATE`]/s for `length`; (accepted, rejected, first error).
async fn publish(
    api: &Api,
    token: &str,
    body: &Value,
    length: Duration,
) -> (usize, usize, Option<String>) {
    let count = (length.as_secs_f64() * RATE).round().max(1.0) as usize;
    let started = tokio::time::Instant::now();
    let mut sends = JoinSet::new();
    for i in 0..count {
        tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / RATE)).await;
        let (api, token, body) = (api.clone(), token.to_owned(), body.clone());
        sends.spawn(async move {
            api.call(
                Method::POST,
                "/api/multi_agent/message",
                &token,
                Some(&body),
                StatusCode::CREATED,
            )
            .await
        });
    }
    let (mut accepted, mut rejected, mut first) = (0, 0, None);
    while let Some(sent) = sends.join_next().await {
        match sent.map_err(anyhow::Error::from).and_then(|r| r) {
            Ok(_) => accepted += 1,
            Err(error) => {
                rejected += 1;
                first.get_or_insert(format!("{error:#}"));
            }
        }
    }
    (accepted, rejected, first)
}

/// Waits until no client received anything for a while (the warm-up's events are through).
async fn wait_idle(clients: &[Deliveries]) {
    let total = || clients.iter().map(|c| lock(c).len()).sum::<usize>();
    let deadline = Instant::now() + DRAIN;
    let mut last = total();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = total();
        if now == last {
            return;
        }
        last = now;
    }
}

/// Per-client counts and the latency percentiles of one run.
fn count(clients: &[Deliveries], published: usize) -> Run {
    let mut run = Run {
        published,
        ..Run::default()
    };
    let mut all_ids = std::collections::BTreeSet::new();
    let mut latencies = Vec::new();
    for client in clients {
        let got = lock(client).clone();
        let mut ids: Vec<i64> = got.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        run.duplicated += got.len() - ids.len();
        run.lost += published.saturating_sub(ids.len());
        all_ids.extend(ids);
        latencies.extend(got.iter().map(|(_, us)| *us));
    }
    run.distinct = all_ids.len();
    run.deliveries = latencies.len();
    latencies.sort_unstable();
    let ms = |q: f64| percentile_us(&latencies, q).map_or(f64::NAN, |us| f64::from(us) / 1000.0);
    (run.p50, run.p99, run.max) = (ms(50.0), ms(99.0), ms(100.0));
    run
}

fn section(which: Which, stack: &Stack, bench: &Bench, runs: &[Run]) -> Section {
    let pick = |f: fn(&Run) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    let (p50, p99, max) = (pick(|r| r.p50), pick(|r| r.p99), pick(|r| r.max));
    let lost = pick(|r| r.lost as f64);
    let duplicated = pick(|r| r.duplicated as f64);
    let published = pick(|r| r.published as f64);
    let exact = runs
        .iter()
        .all(|r| r.lost == 0 && r.duplicated == 0 && r.distinct == r.published && r.rejected == 0);
    let status =
        Status::verdict(exact && median(&p50) <= GOAL_P50_MS && median(&p99) <= GOAL_P99_MS);
    let count_row = |name: &str, values: &[f64]| {
        Row::measured(
            name,
            format!("{}", median(values)),
            report::runs(values, |v| format!("{v}")),
        )
    };
    let mut notes = vec![format!(
        "Per run: distinct ids over all clients {} (should equal the accepted POSTs); \
         rejected POSTs {}; streams the server ended (each resumed with `Last-Event-ID`; a full client queue drops a slow reader) {}.{}",
        runs.iter()
            .map(|r| r.distinct.to_string())
            .collect::<Vec<_>>()
            .join(" · "),
        runs.iter()
            .map(|r| r.rejected.to_string())
            .collect::<Vec<_>>()
            .join(" · "),
        runs.iter()
            .map(|r| r.ended.to_string())
            .collect::<Vec<_>>()
            .join(" · "),
        runs.iter()
            .find_map(|r| r.first_error.as_deref())
            .map(|e| format!(" First publish error: `{}`.", e.replace('`', "'")))
            .unwrap_or_default()
    )];
    notes.push(format!(
        "Publish time is the event's stored `created_at` (millisecond precision: each latency \
         reads up to 1 ms high). {}",
        agent::stack_note()
    ));
    Section {
        which,
        setup: format!(
            "Backends: {}. {CLIENTS} SSE streams of one user (one tenant, subscribed to \
             `{EVENT}`) over raw HTTP/1.1; {RATE} `POST /api/multi_agent/message`/s (open-loop, \
             no `require_response`) for {} s per run; latency = client receive time − the \
             event's stored `created_at`, over every (client, event) delivery.",
            stack.description,
            report::seconds(bench.measure.as_secs_f64())
        ),
        rows: vec![
            Row::judged(
                "delivery latency p50",
                report::ms(median(&p50)),
                report::runs(&p50, report::ms),
                &status,
            ),
            Row::judged(
                "delivery latency p99",
                report::ms(median(&p99)),
                report::runs(&p99, report::ms),
                &status,
            ),
            Row::measured(
                "delivery latency max",
                report::ms(median(&max)),
                report::runs(&max, report::ms),
            ),
            count_row("events published (accepted POSTs)", &published),
            count_row(
                "lost (client, event) deliveries: missing after the drain",
                &lost,
            ),
            count_row("duplicated (client, event) deliveries", &duplicated),
        ],
        measured: format!(
            "p50 {}, p99 {}, lost {}, duplicated {}",
            report::ms(median(&p50)),
            report::ms(median(&p99)),
            runs.iter().map(|r| r.lost).sum::<usize>(),
            runs.iter().map(|r| r.duplicated).sum::<usize>()
        ),
        status,
        notes,
    }
}

fn lock(deliveries: &Deliveries) -> std::sync::MutexGuard<'_, Vec<(i64, u32)>> {
    deliveries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The top-level `created_at` of a `TenantEvent` JSON (its last field), µs since the epoch.
fn created_at_us(data: &str) -> Option<u64> {
    const KEY: &str = "\"created_at\":\"";
    let start = data.rfind(KEY)? + KEY.len();
    let text = &data[start..start + data[start..].find('"')?];
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(at.unix_timestamp_nanos() / 1000).ok()
}
