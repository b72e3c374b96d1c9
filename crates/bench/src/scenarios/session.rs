//! Target 5: `GET /api/session/{id}` latency at 32 concurrent clients on the Redis backend,
//! beside a bare Redis GET at the same concurrency.
//!
//! A session read crosses both planes: experience verifies the bearer token, mints a service
//! token, calls the runtime, which checks it and reads the record from the state store. The bare
//! Redis GET (one multiplexed connection, 32 tasks, a value of a session record's size) is the
//! floor of that path on this machine; the difference is what the two hops and their checks
//! cost. The issue sets no numeric goal, so this target is reported, not judged.

use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::{get_load, interleaved, Bench, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::baselines::RedisGet;
use crate::http1::get_request;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Measures target 5.
pub async fn run(stack: &Stack, bench: &Bench) -> Result<Section> {
    let redis_url = stack
        .redis_url
        .as_deref()
        .context("the session scenario needs the Redis backend")?;
    let api = Api::new(stack.experience)?;
    let accounts = api.register_many(HTTP_CLIENTS, bench.cores).await?;
    let reads: Arc<Vec<Vec<u8>>> = Arc::new(
        accounts
            .iter()
            .map(|a| {
                let path = format!("/api/session/{}", a.login.session_id);
                get_request(stack.experience, &path, Some(&a.login.access_token))
            })
            .collect(),
    );
    let record = serde_json::json!({
        "session_id": uuid::Uuid::new_v4(),
        "tenant_id": uuid::Uuid::new_v4(),
        "user_id": uuid::Uuid::new_v4(),
        "status": "active",
        "created_at": "2026-01-01T00:00:00Z",
        "last_seen_at": "2026-01-01T00:00:00Z",
        "expires_at": "2026-01-02T00:00:00Z",
        "metadata": {},
    })
    .to_string();
    let redis = RedisGet::new(
        redis_url,
        format!("{}bench:bare-get", stack.key_prefix),
        &record,
    )
    .await?;
    let (sessions, bare) = interleaved(
        bench,
        ("GET /api/session/{id}", async |plan| {
            get_load(stack.experience, &reads, HTTP_CLIENTS, plan, None).await
        }),
        ("bare Redis GET", async |plan| {
            redis.load(HTTP_CLIENTS, plan).await
        }),
    )
    .await?;

    let (s50, s99) = (
        median(&sessions.percentiles(50.0)),
        median(&sessions.percentiles(99.0)),
    );
    let (r50, r99) = (
        median(&bare.percentiles(50.0)),
        median(&bare.percentiles(99.0)),
    );
    let notes: Vec<String> = [sessions.error_note(), bare.error_note()]
        .into_iter()
        .flatten()
        .collect();
    Ok(Section {
        which: Which::Session,
        setup: format!(
            "Backends: {}. {HTTP_CLIENTS} closed-loop keep-alive clients, each reading its own \
             user's session with its bearer token (experience → runtime → state store). Bare \
             Redis: {HTTP_CLIENTS} tasks sharing one multiplexed `redis` connection, GET of a \
             {}-byte value.",
            stack.description,
            record.len()
        ),
        rows: vec![
            Row::measured(
                "`GET /api/session/{id}` p50",
                report::ms(s50),
                report::runs(&sessions.percentiles(50.0), report::ms),
            ),
            Row::measured(
                "`GET /api/session/{id}` p99",
                report::ms(s99),
                report::runs(&sessions.percentiles(99.0), report::ms),
            ),
            Row::measured(
                "`GET /api/session/{id}` throughput",
                report::rate(median(&sessions.rates())),
                report::runs(&sessions.rates(), report::rate),
            ),
            Row::measured(
                "bare Redis GET p50",
                report::ms(r50),
                report::runs(&bare.percentiles(50.0), report::ms),
            ),
            Row::measured(
                "bare Redis GET p99",
                report::ms(r99),
                report::runs(&bare.percentiles(99.0), report::ms),
            ),
            Row::measured(
                "bare Redis GET throughput",
                report::rate(median(&bare.rates())),
                report::runs(&bare.rates(), report::rate),
            ),
        ],
        measured: format!(
            "p50 {} / p99 {} (Redis: {} / {})",
            report::ms(s50),
            report::ms(s99),
            report::ms(r50),
            report::ms(r99)
        ),
        status: Status::Info,
        notes,
    })
}
