//! Targets 11 / 11b: `GET /api/agents/{id}/metrics` over an agent with 100,000 executions, p50
//! and p99 at 32 clients, beside `GET /api/auth/me` driven the same way (interleaved).
//!
//! Seeding: 100,000 executions of the guide in one tenant, spread evenly over the last 30 days
//! (about 3,300 in the default 24-hour window), 90 % completed, 7 % failed, 3 % cancelled, with
//! latencies from 0.2 to 20 s, 1,000 users and 25,000 conversations. They are written straight
//! into the runtime's database, but through the runtime's own code path: each is inserted
//! executing (`executions::storage::insert`) and ended by `executions::storage::finish`, which
//! counts it in the usage counters exactly as a live turn is counted. Only the HTTP hop and the
//! runner are skipped, so the seeding takes seconds instead of hours. On PostgreSQL the seeded
//! tables are then vacuumed, as autovacuum would do shortly after such a burst.
//!
//! Goal (the usage-analytics brief): metrics p99 ≤ 20 ms at 32 clients.

use anyhow::{Context as _, Result};
use platform_sdk::agent_wire::ExecutionStatus;
use runtime_service::executions::storage::{self as executions, Finish, Guard, NewExecution};
use sqlx::AnyPool;

use super::{beside_me, Bench, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::http1::get_request;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: metrics p99 at most this many milliseconds.
const P99_MS: f64 = 20.0;
/// Executions seeded.
const EXECUTIONS: usize = 100_000;
/// Over this many days, ending now.
const DAYS: i64 = 30;
/// Distinct users of the executions.
const USERS: usize = 1_000;
/// Executions per conversation.
const TURNS_PER_CONVERSATION: usize = 4;
/// Writers seeding at once on PostgreSQL, each over its own slice of time, users and
/// conversations (so no two transactions wait on one another's counter rows). SQLite has one
/// writer at a time, so there it is one.
const PG_WRITERS: usize = 4;
/// Executions per transaction.
const BATCH: usize = 500;

/// A well-mixed number from `i` (splitmix64): reproducible "random" statuses and latencies.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seeds the executions of writer `w` of `writers` (its slice of the time span).
async fn seed_slice(
    pool: AnyPool,
    tenant_id: String,
    (w, writers): (usize, usize),
    now: i64,
) -> Result<()> {
    let span = DAYS * 24 * 3_600_000;
    let per = EXECUTIONS / writers;
    let session = uuid::Uuid::new_v4().to_string();
    let users: Vec<String> = (0..USERS / writers)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let mut conversation = String::new();
    for batch in 0..per.div_ceil(BATCH) {
        let mut tx = pool.begin().await?;
        for k in batch * BATCH..((batch + 1) * BATCH).min(per) {
            let i = w * per + k;
            let r = mix(i as u64);
            let created = now - span + (i as i64) * span / EXECUTIONS as i64;
            let total = 200 + (r % 19_800) as i64;
            let ttft = 50 + ((r >> 20) % 1_950) as i64;
            let status = match (r >> 40) % 100 {
                0..=89 => ExecutionStatus::Completed,
                90..=96 => ExecutionStatus::Failed,
                _ => ExecutionStatus::Cancelled,
            };
            if k % TURNS_PER_CONVERSATION == 0 {
                conversation = uuid::Uuid::new_v4().to_string();
            }
            let id = uuid::Uuid::new_v4().to_string();
            let new = NewExecution {
                id: &id,
                tenant_id: &tenant_id,
                session_id: &session,
                user_id: Some(&users[(r >> 50) as usize % users.len()]),
                conversation_id: &conversation,
                agent_id: "guide",
                agent_type: "guide",
                pillar: None,
                input: "seeded",
                now: created,
                owner_id: "bench-seed",
                lease_expires_at: created + 15_000,
                status: ExecutionStatus::Executing,
            };
            executions::insert(&mut *tx, &new).await?;
            let finish = Finish {
                id: &id,
                guard: Guard::From(ExecutionStatus::Executing),
                to: status,
                error: (status == ExecutionStatus::Failed).then_some("seeded failure"),
                now: created + total,
                first_delta_at: (status != ExecutionStatus::Failed).then_some(created + ttft),
                answer: None,
                output_clean: false,
                slo_ms: runtime_service::governance::trust::evidence::DEFAULT_SLO_MS,
            };
            anyhow::ensure!(
                executions::finish(&mut tx, &finish).await?,
                "seeded execution did not end"
            );
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Seeds [`EXECUTIONS`] executions of the guide in `tenant_id`.
async fn seed(stack: &Stack, tenant_id: &str) -> Result<()> {
    let pool = stack
        .runtime_database
        .pool()
        .await
        .context("opening the runtime database")?;
    let now = platform_sdk::time_util::now_ms();
    let n = match stack.runtime_database.settings.url {
        Some(_) => PG_WRITERS,
        None => 1,
    };
    let writers: Vec<_> = (0..n)
        .map(|w| tokio::spawn(seed_slice(pool.clone(), tenant_id.to_owned(), (w, n), now)))
        .collect();
    for writer in writers {
        writer.await??;
    }
    if n > 1 {
        // PostgreSQL: 100,000 ends in a minute leave the counter and last-seen rows with
        // hundreds of dead versions each; clean them up as autovacuum would within minutes in
        // steady operation, so the window measures reads, not the seeding's aftermath.
        sqlx::Executor::execute(
            &pool,
            "VACUUM ANALYZE agent_usage_hours, agent_usage_users, agent_usage_conversations, executions",
        )
        .await?;
    }
    pool.close().await;
    Ok(())
}

/// Measures target 11 or 11b (`which` names the section).
pub async fn run(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let account = api.register().await?;
    let started = std::time::Instant::now();
    seed(stack, &account.login.tenant_id).await?;
    let seeding = started.elapsed();
    let token = account.login.access_token.as_str();
    let metrics = vec![get_request(
        stack.experience,
        "/api/agents/guide/metrics",
        Some(token),
    )];
    let (m, baseline) = beside_me(
        bench,
        stack,
        token,
        ("GET /api/agents/guide/metrics", metrics),
    )
    .await?;
    let (m50, m99) = (median(&m.percentiles(50.0)), median(&m.percentiles(99.0)));
    let (b50, b99) = (
        median(&baseline.percentiles(50.0)),
        median(&baseline.percentiles(99.0)),
    );
    let status = Status::verdict(m99 <= P99_MS);
    let mut notes: Vec<String> = [m.error_note(), baseline.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Seeding {EXECUTIONS} executions through `executions::storage::finish` took {:.1} s.",
        seeding.as_secs_f64()
    ));
    Ok(Section {
        which,
        setup: format!(
            "Backends: {}. {EXECUTIONS} executions of the guide in one tenant over {DAYS} days \
             ({USERS} users, {TURNS_PER_CONVERSATION} turns per conversation), seeded into the \
             runtime's database through its own end-of-execution path (see the module doc). \
             {HTTP_CLIENTS} closed-loop keep-alive clients read the default 24 h window with the \
             tenant owner's token; `/api/auth/me` is measured the same way, interleaved.",
            stack.description
        ),
        rows: vec![
            Row::measured(
                "metrics p50",
                report::ms(m50),
                report::runs(&m.percentiles(50.0), report::ms),
            ),
            Row::judged(
                "metrics p99",
                report::ms(m99),
                report::runs(&m.percentiles(99.0), report::ms),
                &status,
            ),
            Row::measured(
                "metrics throughput",
                report::rate(median(&m.rates())),
                report::runs(&m.rates(), report::rate),
            ),
            Row::measured(
                "`/api/auth/me` p50 / p99",
                format!("{} / {}", report::ms(b50), report::ms(b99)),
                report::runs(&baseline.percentiles(99.0), report::ms),
            ),
        ],
        measured: format!(
            "p50 {} / p99 {} (`/me`: {} / {})",
            report::ms(m50),
            report::ms(m99),
            report::ms(b50),
            report::ms(b99)
        ),
        status,
        notes,
    })
}
