//! Targets 20 / 20b: `GET /v1/outcomes/dashboard` over a tenant with 100,000 outcome events, p50
//! and p99 at 32 clients, beside `GET /api/auth/me` driven the same way (interleaved).
//!
//! Seeding: 100,000 events in one tenant over the last 30 days, every metric a quarter of them,
//! over 40 domains (8 of them `agent:…`) and 12 event types. They are written straight into the
//! runtime's database, but through the runtime's own storage path
//! (`outcomes::storage::store`, which keeps the per (domain, event type, metric) counters the
//! summary reads exactly as a posted outcome or a finished execution does), in batches; only the
//! HTTP hop is skipped, so seeding takes seconds. On PostgreSQL the seeded tables are then
//! vacuumed, as autovacuum would do shortly after such a burst.
//!
//! Goal (the outcomes brief): dashboard p99 ≤ 20 ms at 32 clients.

use anyhow::{Context as _, Result};
use platform_sdk::outcome_wire::{MetricType, OutcomeSource};
use runtime_service::outcomes::storage::{self as outcomes, NewOutcome};
use sqlx::AnyPool;

use super::{beside_me, Bench, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::http1::get_request;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: dashboard p99 at most this many milliseconds.
const P99_MS: f64 = 20.0;
/// Events seeded.
const EVENTS: usize = 100_000;
/// Over this many days, ending now.
const DAYS: i64 = 30;
/// Distinct domains (the first [`AGENT_DOMAINS`] are `agent:…`).
const DOMAINS: usize = 40;
/// Domains named `agent:<id>`, as finished executions record them.
const AGENT_DOMAINS: usize = 8;
/// Distinct event types.
const EVENT_TYPES: usize = 12;
/// Events per statement pair (one transaction).
const BATCH: usize = 100;

/// A well-mixed number from `i` (splitmix64): reproducible "random" choices and values.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `i`-th seeded event.
fn event(tenant_id: &str, i: usize, now: i64) -> NewOutcome {
    let span = DAYS * 24 * 3_600_000;
    let r = mix(i as u64);
    let metric_type = MetricType::ALL[i % 4];
    let value = match metric_type {
        MetricType::SuccessRate => f64::from(u8::from(r % 10 < 9)),
        MetricType::QualityScore => (r % 500) as f64 / 100.0,
        MetricType::LatencyMs => (100 + r % 9_900) as f64,
        MetricType::CostUsd => (r % 10_000) as f64 / 10_000.0,
    };
    let d = (r >> 20) as usize % DOMAINS;
    let domain = match d < AGENT_DOMAINS {
        true => format!("agent:bench-{d}"),
        false => format!("domain-{d}"),
    };
    let occurred_at = now - span + (i as i64) * span / EVENTS as i64;
    NewOutcome {
        id: outcomes::new_id(),
        tenant_id: tenant_id.to_owned(),
        domain,
        event_type: format!("event.{}", (r >> 40) as usize % EVENT_TYPES),
        metric_type,
        value,
        occurred_at,
        metadata: "{}".to_owned(),
        user_id: None,
        source: OutcomeSource::Api,
        created_at: occurred_at,
    }
}

/// Seeds [`EVENTS`] events in `tenant_id`.
async fn seed(stack: &Stack, tenant_id: &str) -> Result<()> {
    let pool: AnyPool = stack
        .runtime_database
        .pool()
        .await
        .context("opening the runtime database")?;
    let now = platform_sdk::time_util::now_ms();
    for batch in 0..EVENTS.div_ceil(BATCH) {
        let events: Vec<NewOutcome> = (batch * BATCH..((batch + 1) * BATCH).min(EVENTS))
            .map(|i| event(tenant_id, i, now))
            .collect();
        let mut tx = pool.begin().await?;
        outcomes::store(&mut tx, &events).await?;
        tx.commit().await?;
    }
    if stack.runtime_database.settings.url.is_some() {
        sqlx::Executor::execute(&pool, "VACUUM ANALYZE outcome_events, outcome_counts").await?;
    }
    pool.close().await;
    Ok(())
}

/// Measures target 20 or 20b (`which` names the section).
pub async fn run(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let account = api.register().await?;
    let started = std::time::Instant::now();
    seed(stack, &account.login.tenant_id).await?;
    let seeding = started.elapsed();
    let token = account.login.access_token.as_str();
    let dashboard = vec![get_request(
        stack.experience,
        "/v1/outcomes/dashboard",
        Some(token),
    )];
    let (m, baseline) = beside_me(
        bench,
        stack,
        token,
        ("GET /v1/outcomes/dashboard", dashboard),
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
        "Seeding {EVENTS} events through `outcomes::storage::store` took {:.1} s.",
        seeding.as_secs_f64()
    ));
    Ok(Section {
        which,
        setup: format!(
            "Backends: {}. {EVENTS} outcome events in one tenant over {DAYS} days (every metric \
             a quarter, {DOMAINS} domains, {EVENT_TYPES} event types), seeded into the runtime's \
             database through its own storage path (see the module doc). {HTTP_CLIENTS} \
             closed-loop keep-alive clients read the dashboard (all domains, window 20, 10 recent \
             events) with the tenant owner's token; `/api/auth/me` is measured the same way, \
             interleaved.",
            stack.description
        ),
        rows: vec![
            Row::measured(
                "dashboard p50",
                report::ms(m50),
                report::runs(&m.percentiles(50.0), report::ms),
            ),
            Row::judged(
                "dashboard p99",
                report::ms(m99),
                report::runs(&m.percentiles(99.0), report::ms),
                &status,
            ),
            Row::measured(
                "dashboard throughput",
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
