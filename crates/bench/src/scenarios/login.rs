//! Target 2: logins/s vs raw Argon2id hashes/s at the same parameters.
//!
//! A login is dominated by one Argon2id verification (m=19456 KiB, t=2, p=1), and the service
//! caps concurrent hashes at one per core, so the ceiling is what `cores` threads hashing flat
//! out achieve in this same process. The ratio says how much of that ceiling the whole login path
//! (HTTP, JSON, the hash pool hand-off, token minting, the refresh family row, the signed intent
//! and the runtime session) keeps. Logins and raw hashing are measured interleaved.

use std::sync::Arc;

use anyhow::Result;

use super::{interleaved, Bench, Which};
use crate::api::{Account, Api};
use crate::baselines::{self, ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM};
use crate::load::{self, median, Plan, Sample};
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: logins/s reach this share of raw hashes/s.
const GOAL: f64 = 0.85;

/// Concurrent login clients: four per core, enough to keep the hash pool (one per core) full.
pub fn flood_clients(bench: &Bench) -> usize {
    4 * bench.cores
}

/// `clients` closed-loop tasks logging in, client `i` as `accounts[i % len]`.
pub async fn login_flood(
    api: &Api,
    accounts: &Arc<Vec<Account>>,
    clients: usize,
    plan: Plan,
) -> Result<Sample> {
    load::closed(clients, plan, |i, mut probe| {
        let api = api.clone();
        let accounts = Arc::clone(accounts);
        async move {
            if let Some(account) = accounts.get(i % accounts.len().max(1)) {
                while let Some(started) = probe.next().await {
                    let outcome = api
                        .login(&account.email, &account.password)
                        .await
                        .map(|_| ());
                    probe.record(started, outcome);
                }
            }
            probe
        }
    })
    .await
}

/// Raw hashing on `cores` threads for one window.
pub async fn raw_hashes(bench: &Bench, plan: Plan) -> Result<Sample> {
    let threads = bench.cores;
    tokio::task::spawn_blocking(move || baselines::argon2_hashes(threads, plan)).await?
}

/// Measures target 2.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let clients = flood_clients(bench);
    let accounts = Arc::new(api.register_many(clients, bench.cores).await?);
    let (logins, hashes) = interleaved(
        bench,
        ("POST /api/auth/login", async |plan| {
            login_flood(&api, &accounts, clients, plan).await
        }),
        ("raw Argon2id hashing", async |plan| {
            raw_hashes(bench, plan).await
        }),
    )
    .await?;

    let ratios = logins.rate_ratios(&hashes);
    let ratio = median(&ratios);
    let status = Status::verdict(ratio >= GOAL);
    let mut notes: Vec<String> = [logins.error_note(), hashes.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Login latency under this flood: p50 {} / p99 {}; one raw hash: p50 {} (medians of runs).",
        report::ms(median(&logins.percentiles(50.0))),
        report::ms(median(&logins.percentiles(99.0))),
        report::ms(median(&hashes.percentiles(50.0))),
    ));
    Ok(Section {
        which: Which::Login,
        setup: format!(
            "Backends: {}. {clients} closed-loop login clients over one `reqwest::Client`, each \
             logging in as its own user; raw hashing: {} threads in the harness, each hashing a \
             password with a fresh salt (`argon2` 0.5, Argon2id v19, m={ARGON2_MEMORY_KIB} KiB, \
             t={ARGON2_ITERATIONS}, p={ARGON2_PARALLELISM}).",
            stack.description, bench.cores
        ),
        rows: vec![
            Row::measured(
                format!("`POST /api/auth/login`, {clients} clients"),
                report::rate(median(&logins.rates())),
                report::runs(&logins.rates(), report::rate),
            ),
            Row::measured(
                format!("raw Argon2id hashes, {} threads", bench.cores),
                report::rate(median(&hashes.rates())),
                report::runs(&hashes.rates(), report::rate),
            ),
            Row::judged(
                "ratio logins / hashes (median of per-pair ratios)",
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
