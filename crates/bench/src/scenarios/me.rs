//! Target 1: authenticated `GET /api/auth/me` throughput vs a bare actix-web handler.
//!
//! The bare handler (one route, a small JSON body, no middleware, as many workers as the
//! services' default) is what actix-web itself costs on this machine; the ratio says how much of
//! that the service keeps once request ids, metrics, logging, JWT verification and the session
//! check are in the path. Both sides are driven by the same raw keep-alive client with the same
//! number of connections, measured interleaved.

use std::sync::Arc;

use anyhow::Result;

use super::{get_load, interleaved, Bench, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::baselines::BareServer;
use crate::http1::get_request;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: the service keeps at least this share of the bare handler's throughput.
const GOAL: f64 = 0.6;
/// Distinct users whose tokens the clients present.
const USERS: usize = 8;

/// Measures target 1.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let accounts = api.register_many(USERS, bench.cores).await?;
    let me: Arc<Vec<Vec<u8>>> = Arc::new(
        accounts
            .iter()
            .map(|a| {
                get_request(
                    stack.experience,
                    "/api/auth/me",
                    Some(&a.login.access_token),
                )
            })
            .collect(),
    );
    let bare = BareServer::start(bench.cores)?;
    let bare_request = Arc::new(vec![get_request(bare.addr, BareServer::PATH, None)]);
    let measured = interleaved(
        bench,
        ("GET /api/auth/me", async |plan| {
            get_load(stack.experience, &me, HTTP_CLIENTS, plan, None).await
        }),
        ("bare actix-web handler", async |plan| {
            get_load(bare.addr, &bare_request, HTTP_CLIENTS, plan, None).await
        }),
    )
    .await;
    bare.stop().await;
    let (service, baseline) = measured?;

    let ratios = service.rate_ratios(&baseline);
    let ratio = median(&ratios);
    let status = Status::verdict(ratio >= GOAL);
    let mut notes: Vec<String> = [service.error_note(), baseline.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Latency at this load: `/api/auth/me` p50 {} / p99 {}; bare handler p50 {} / p99 {} (medians of runs).",
        report::ms(median(&service.percentiles(50.0))),
        report::ms(median(&service.percentiles(99.0))),
        report::ms(median(&baseline.percentiles(50.0))),
        report::ms(median(&baseline.percentiles(99.0))),
    ));
    Ok(Section {
        which: Which::Me,
        setup: format!(
            "Backends: {}. {HTTP_CLIENTS} keep-alive connections, closed loop, bearer tokens of \
             {USERS} users; the bare handler runs in the harness process with {} workers (the \
             services' default).",
            stack.description, bench.cores
        ),
        rows: vec![
            Row::measured(
                format!("`GET /api/auth/me`, {HTTP_CLIENTS} clients"),
                report::rate(median(&service.rates())),
                report::runs(&service.rates(), report::rate),
            ),
            Row::measured(
                format!("bare actix-web handler, {HTTP_CLIENTS} clients"),
                report::rate(median(&baseline.rates())),
                report::runs(&baseline.rates(), report::rate),
            ),
            Row::judged(
                "ratio me / bare (median of per-pair ratios)",
                report::ratio(ratio),
                report::runs(&ratios, report::ratio),
                &status,
            ),
        ],
        measured: format!("ratio {}", report::ratio(ratio)),
        status,
        notes,
    })
}
