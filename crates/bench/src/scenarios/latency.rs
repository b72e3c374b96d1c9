//! Target 3: p99 of authenticated GETs at a modest steady rate while logins saturate the hash
//! pool.
//!
//! This is the "a login flood must not starve other requests" rule of SPEC §2 made measurable:
//! Argon2 runs off the async workers behind a cap, so `/api/auth/me` should keep its latency
//! while every hash slot is busy. The GETs are paced (open loop, latency from the scheduled send
//! time) so a stall shows up in full; the flood is the closed-loop login load of target 2. Each
//! run with the flood is paired with a run of the same probe without it, for context.

use std::sync::Arc;

use anyhow::Result;

use super::login::{flood_clients, login_flood};
use super::{get_load, Bench, Series, Which};
use crate::api::Api;
use crate::http1::get_request;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: p99 at most this many milliseconds.
const GOAL_MS: f64 = 10.0;
/// The steady probe: total requests per second...
const STEADY_RATE: f64 = 200.0;
/// ...spread over this many keep-alive connections.
const STEADY_CONNECTIONS: usize = 8;

/// Measures target 3.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let clients = flood_clients(bench);
    let flooders = Arc::new(api.register_many(clients, bench.cores).await?);
    let readers = api.register_many(STEADY_CONNECTIONS, bench.cores).await?;
    let me: Arc<Vec<Vec<u8>>> = Arc::new(
        readers
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
    let steady = async |plan| {
        get_load(
            stack.experience,
            &me,
            STEADY_CONNECTIONS,
            plan,
            Some(STEADY_RATE),
        )
        .await
    };
    let flooded = async |plan| {
        let (probe, flood) =
            tokio::join!(steady(plan), login_flood(&api, &flooders, clients, plan));
        Ok::<_, anyhow::Error>((probe?, flood?))
    };

    let (probe, flood) = flooded(bench.warm()).await?;
    probe.require_success("GET /api/auth/me under the login flood")?;
    flood.require_success("login flood")?;
    steady(bench.warm())
        .await?
        .require_success("GET /api/auth/me")?;
    let (mut under, mut floods, mut quiet) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..bench.runs {
        let (probe, flood) = flooded(bench.plan()).await?;
        probe.require_success("GET /api/auth/me under the login flood")?;
        under.push(probe);
        floods.push(flood);
        let alone = steady(bench.plan()).await?;
        alone.require_success("GET /api/auth/me")?;
        quiet.push(alone);
    }
    let under = Series::new("GET /api/auth/me under the login flood", under);
    let floods = Series::new("login flood", floods);
    let quiet = Series::new("GET /api/auth/me without flood", quiet);

    let p99s = under.percentiles(99.0);
    let p99 = median(&p99s);
    let status = Status::verdict(p99 <= GOAL_MS);
    let worst = p99s.iter().copied().fold(f64::NAN, f64::max);
    let mut notes: Vec<String> = [under.error_note(), floods.error_note(), quiet.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Worst run's p99 under the flood: {}. Logins completed during the flood: {} (median; \
         compare with target 2 to see the hash pool was saturated).",
        report::ms(worst),
        report::rate(median(&floods.rates())),
    ));
    Ok(Section {
        which: Which::Latency,
        setup: format!(
            "Backends: {}. Probe: `GET /api/auth/me` paced at {STEADY_RATE} requests/s over \
             {STEADY_CONNECTIONS} keep-alive connections (latency from the scheduled send time). \
             Flood: {clients} closed-loop login clients (hash pool: one slot per core, {} cores).",
            stack.description, bench.cores
        ),
        rows: vec![
            Row::measured(
                "probe p50, with login flood",
                report::ms(median(&under.percentiles(50.0))),
                report::runs(&under.percentiles(50.0), report::ms),
            ),
            Row::judged(
                "probe p99, with login flood",
                report::ms(p99),
                report::runs(&p99s, report::ms),
                &status,
            ),
            Row::measured(
                "probe p99, same rate without flood",
                report::ms(median(&quiet.percentiles(99.0))),
                report::runs(&quiet.percentiles(99.0), report::ms),
            ),
            Row::measured(
                "logins/s during the flood",
                report::rate(median(&floods.rates())),
                report::runs(&floods.rates(), report::rate),
            ),
        ],
        measured: format!("p99 {}", report::ms(p99)),
        status,
        notes,
    })
}
