//! Target 4: refresh-token rotations per second on PostgreSQL (services on Postgres + Redis).
//!
//! A refresh is the hottest write path of the identity plane: look up the token by hash, check
//! its family, insert the child and mark the parent rotated, in one transaction. Each client
//! keeps its own chain from its own registration and always presents the newest token, as a real
//! client does; a failed rotation ends that client's chain (re-presenting a rotated token would
//! rightly revoke the family).

use std::sync::Arc;

use anyhow::Result;
use tokio::sync::Mutex;

use super::{repeated, Bench, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::load::{self, median};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: at least this many rotations per second.
const GOAL: f64 = 1_000.0;

/// Measures target 4.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let accounts = api.register_many(HTTP_CLIENTS, bench.cores).await?;
    let chains: Arc<Vec<Mutex<String>>> = Arc::new(
        accounts
            .into_iter()
            .map(|a| Mutex::new(a.login.refresh_token))
            .collect(),
    );
    let refreshes = repeated(bench, "POST /api/auth/refresh", async |plan| {
        load::closed(HTTP_CLIENTS, plan, |i, mut probe| {
            let api = api.clone();
            let chains = Arc::clone(&chains);
            async move {
                if let Some(chain) = chains.get(i) {
                    let mut token = chain.lock().await;
                    while let Some(started) = probe.next().await {
                        match api.refresh(&token).await {
                            Ok(rotated) => {
                                *token = rotated.refresh_token;
                                probe.record(started, Ok(()));
                            }
                            Err(error) => {
                                probe.record(started, Err(error));
                                break;
                            }
                        }
                    }
                }
                probe
            }
        })
        .await
    })
    .await?;

    let rate = median(&refreshes.rates());
    let status = Status::verdict(rate >= GOAL);
    let mut notes: Vec<String> = refreshes.error_note().into_iter().collect();
    notes.push(format!(
        "Refresh latency at this load: p50 {} / p99 {} (medians of runs).",
        report::ms(median(&refreshes.percentiles(50.0))),
        report::ms(median(&refreshes.percentiles(99.0))),
    ));
    Ok(Section {
        which: Which::Refresh,
        setup: format!(
            "Backends: {}. {HTTP_CLIENTS} closed-loop clients over one `reqwest::Client`, each \
             rotating its own refresh-token chain.",
            stack.description
        ),
        rows: vec![Row::judged(
            format!("`POST /api/auth/refresh`, {HTTP_CLIENTS} clients"),
            report::rate(rate),
            report::runs(&refreshes.rates(), report::rate),
            &status,
        )],
        measured: report::rate(rate),
        status,
        notes,
    })
}
