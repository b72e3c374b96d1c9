//! Target 19: `GET /v1/operations/hub` for a tenant with 10,000 executions while other tenants
//! hold 100,000 more, p50 and p99 at 32 clients, beside `GET /api/auth/me` driven the same way
//! (interleaved, [`beside_me`]).
//!
//! Seeding: executions written straight into the runtime's database with its own insert
//! (`executions::storage::insert`), spread over the last 7 days; in every tenant 5 % are live
//! (`executing`, `awaiting_approval`, `paused`, with a lease that outlives the run, so no sweep
//! ends them) and the rest `completed` or `failed`. The clients read, round robin, the default hub
//! (live processes of the last 24 h, 50 at most) and the last day's finished ones (`status=
//! completed,failed&limit=100`).
//!
//! Goal (the operations-hub brief): hub p99 ≤ 20 ms at 32 clients.

use anyhow::{Context as _, Result};
use platform_sdk::agent_wire::ExecutionStatus;
use runtime_service::executions::storage::{self as executions, NewExecution};
use sqlx::AnyPool;

use super::{beside_me, Bench, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::http1::get_request;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: hub p99 at most this many milliseconds.
const P99_MS: f64 = 20.0;
/// Executions of the measured tenant.
const OWN: usize = 10_000;
/// Executions of the other tenants.
const OTHERS: usize = 100_000;
/// How many other tenants share them.
const OTHER_TENANTS: usize = 20;
/// Over this many days, ending now.
const DAYS: i64 = 7;
/// Executions per transaction.
const BATCH: usize = 1_000;

/// The status of the `i`-th seeded execution: 5 % live, the rest finished.
fn status(i: usize) -> ExecutionStatus {
    match i % 100 {
        0 | 1 => ExecutionStatus::Executing,
        2 | 3 => ExecutionStatus::AwaitingApproval,
        4 => ExecutionStatus::Paused,
        5..=12 => ExecutionStatus::Failed,
        _ => ExecutionStatus::Completed,
    }
}

/// Seeds `n` executions of `tenant_id` over [`DAYS`] days ending at `now`.
async fn seed_tenant(pool: &AnyPool, tenant_id: &str, n: usize, now: i64) -> Result<()> {
    let span = DAYS * 24 * 3_600_000;
    let session = uuid::Uuid::new_v4().to_string();
    let conversation = uuid::Uuid::new_v4().to_string();
    for batch in 0..n.div_ceil(BATCH) {
        let mut tx = pool.begin().await?;
        for i in batch * BATCH..((batch + 1) * BATCH).min(n) {
            let id = uuid::Uuid::new_v4().to_string();
            let created = now - span + (i as i64) * span / n as i64;
            let new = NewExecution {
                id: &id,
                tenant_id,
                session_id: &session,
                user_id: None,
                conversation_id: &conversation,
                agent_id: "guide",
                agent_type: "guide",
                pillar: None,
                input: "seeded",
                now: created,
                owner_id: "bench-seed",
                lease_expires_at: now + 24 * 3_600_000,
                status: status(i),
            };
            executions::insert(&mut *tx, &new).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn seed(stack: &Stack, tenant_id: &str) -> Result<()> {
    let pool = stack
        .runtime_database
        .pool()
        .await
        .context("opening the runtime database")?;
    let now = platform_sdk::time_util::now_ms();
    seed_tenant(&pool, tenant_id, OWN, now).await?;
    for _ in 0..OTHER_TENANTS {
        let other = uuid::Uuid::new_v4().to_string();
        seed_tenant(&pool, &other, OTHERS / OTHER_TENANTS, now).await?;
    }
    if stack.runtime_database.settings.url.is_some() {
        sqlx::Executor::execute(&pool, "VACUUM ANALYZE executions").await?;
    }
    pool.close().await;
    Ok(())
}

/// Measures target 19.
pub async fn run(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let account = api.register().await?;
    let started = std::time::Instant::now();
    seed(stack, &account.login.tenant_id).await?;
    let seeding = started.elapsed();
    let token = account.login.access_token.as_str();
    let requests = vec![
        get_request(stack.experience, "/v1/operations/hub", Some(token)),
        get_request(
            stack.experience,
            "/v1/operations/hub?status=completed,failed&limit=100",
            Some(token),
        ),
    ];
    let (h, baseline) =
        beside_me(bench, stack, token, ("GET /v1/operations/hub", requests)).await?;
    let (h50, h99) = (median(&h.percentiles(50.0)), median(&h.percentiles(99.0)));
    let (b50, b99) = (
        median(&baseline.percentiles(50.0)),
        median(&baseline.percentiles(99.0)),
    );
    let status = Status::verdict(h99 <= P99_MS);
    let mut notes: Vec<String> = [h.error_note(), baseline.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Seeding {} executions took {:.1} s.",
        OWN + OTHERS,
        seeding.as_secs_f64()
    ));
    Ok(Section {
        which,
        setup: format!(
            "Backends: {}. {OWN} executions in the measured tenant and {OTHERS} in \
             {OTHER_TENANTS} other tenants over {DAYS} days, 5 % live, seeded into the runtime's \
             database (see the module doc). {HTTP_CLIENTS} closed-loop keep-alive clients read \
             the default hub and the last day's finished processes, round robin; `/api/auth/me` \
             is measured the same way, interleaved.",
            stack.description
        ),
        rows: vec![
            Row::measured(
                "hub p50",
                report::ms(h50),
                report::runs(&h.percentiles(50.0), report::ms),
            ),
            Row::judged(
                "hub p99",
                report::ms(h99),
                report::runs(&h.percentiles(99.0), report::ms),
                &status,
            ),
            Row::measured(
                "hub throughput",
                report::rate(median(&h.rates())),
                report::runs(&h.rates(), report::rate),
            ),
            Row::measured(
                "`/api/auth/me` p50 / p99",
                format!("{} / {}", report::ms(b50), report::ms(b99)),
                report::runs(&baseline.percentiles(99.0), report::ms),
            ),
        ],
        measured: format!(
            "p50 {} / p99 {} (`/me`: {} / {})",
            report::ms(h50),
            report::ms(h99),
            report::ms(b50),
            report::ms(b99)
        ),
        status,
        notes,
    })
}
