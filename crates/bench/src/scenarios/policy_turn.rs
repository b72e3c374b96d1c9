//! Targets 14 / 14b (issue 10 "Performance"): what deciding a turn against 50 ACTIVE policies
//! adds to intent → first delta at 200 turns/s.
//!
//! Every turn is decided twice (its input before the model runs, its output before it is
//! delivered), so the policies sit on the path this measures. Two tenants on one stack, each
//! with target 7's setup (its own user, [`AgentSizes::turn_sockets`] sockets of their own login
//! sessions, one priming turn each): the *governed* tenant holds the
//! [`governance::POLICIES`] policies of [`governance::policies`] (none of which fails for the
//! bench's turn), the *plain* tenant only what every new tenant starts with. Both arms run on
//! the same processes, so they share caches, pools and the machine; what differs is only the
//! tenant's policies. Windows alternate governed, plain, governed, … (target 7's paced schedule
//! at [`AgentSizes::turn_rate`], each arm rotating over its own sockets) and the added latency
//! is the median of the per-pair differences. Goal: ≤ 1 ms added at p50. 14 runs on the
//! embedded default, 14b (optional: when both are reachable) on PostgreSQL + Redis.
//!
//! [`AgentSizes::turn_sockets`]: agent::AgentSizes::turn_sockets
//! [`AgentSizes::turn_rate`]: agent::AgentSizes::turn_rate

use std::sync::atomic::AtomicUsize;

use anyhow::Result;

use super::agent::{self, Priming};
use super::agents::row;
use super::governance::{self, Applicable, POLICIES};
use super::turn_latency::{paced_turns, sizes_note};
use super::{interleaved, Bench, Series, Which};
use crate::api::Api;
use crate::load::median;
use crate::report::{self, Row, Section, Status};
use crate::services::Stack;

/// Goal: milliseconds the policies may add to the first-delta p50.
const ADDED_P50_MS: f64 = 1.0;

/// Per-pair differences `a - b` of one percentile, milliseconds.
fn added(a: &Series, b: &Series, q: f64) -> Vec<f64> {
    a.percentiles(q)
        .iter()
        .zip(b.percentiles(q))
        .map(|(x, y)| x - y)
        .collect()
}

/// Measures target 14 or 14b (`which` names the section).
pub async fn run(which: Which, stack: &Stack, bench: &Bench) -> Result<Section> {
    let sizes = bench.agent;
    let (n, rate) = (sizes.turn_sockets, sizes.turn_rate);
    let api = Api::new(stack.experience)?;
    let governed_tokens = agent::sessions(&api, n, 2 * bench.cores).await?;
    let plain_tokens = agent::sessions(&api, n, 2 * bench.cores).await?;
    governance::seed(&api, &governed_tokens[0]).await?;
    let governed_scope = Applicable::read(&api, &governed_tokens[0]).await?;
    let plain_scope = Applicable::read(&api, &plain_tokens[0]).await?;
    let governed = agent::open_sockets(stack.experience, &governed_tokens).await?;
    let plain = agent::open_sockets(stack.experience, &plain_tokens).await?;
    let governed_priming = Priming::run(&governed).await?;
    let plain_priming = Priming::run(&plain).await?;
    let (governed_rotation, plain_rotation) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (with, without) = interleaved(
        bench,
        ("turns with the policies", async |plan| {
            paced_turns(&governed, rate, plan, &governed_rotation).await
        }),
        ("turns without them", async |plan| {
            paced_turns(&plain, rate, plan, &plain_rotation).await
        }),
    )
    .await?;

    let (added50s, added99s) = (added(&with, &without, 50.0), added(&with, &without, 99.0));
    let (added50, added99) = (median(&added50s), median(&added99s));
    let status = Status::verdict(added50 <= ADDED_P50_MS);
    let failed = |label: &str, series: &Series| {
        let errors: Vec<f64> = series.samples.iter().map(|s| s.errors as f64).collect();
        Row::measured(
            format!("failed turns, {label}"),
            format!("{}", median(&errors)),
            report::runs(&errors, |v| format!("{v}")),
        )
    };
    let mut notes: Vec<String> = [with.error_note(), without.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Policies evaluated per decision (`policies_evaluated` of `POST /api/governance/evaluate` \
         on the bench's intent / on the guide's answer, checked to decide `allow` before \
         measuring): governed tenant {} / {}, plain tenant {} / {}.",
        governed_scope.input, governed_scope.output, plain_scope.input, plain_scope.output
    ));
    notes.push(
        "Some of the governed tenant's STRICT policies have rules on the output, so its answers \
         are held whole and delivered as one delta after the output decision (ADR 0019); the \
         plain tenant's stream as they come. The builtin guide produces its answer at once, so \
         here the hold costs the output decision and nothing more; with a streaming model it \
         would add the whole generation time to the first delta."
            .to_owned(),
    );
    notes.push(format!("Governed tenant: {}", governed_priming.note()));
    notes.push(format!("Plain tenant: {}", plain_priming.note()));
    notes.push(agent::stack_note());
    notes.extend(sizes_note(&sizes));
    Ok(Section {
        which,
        setup: format!(
            "Backends: {}. Two tenants on one stack, each set up as target 7 ({n} agent sockets, \
             each its own login session of the tenant's one user, guide intents paced at {rate} \
             turns/s): the governed tenant has {POLICIES} ACTIVE policies of mixed conditions \
             (two rules each over `sensitive_data`, `blocked_terms`, `max_chars`, \
             `require_approval` and `deny_all`, on `agent_input`, `agent_output`, `*` and \
             `tool_call`, STRICT, MODERATE and ADVISORY; none fails for the bench's turn: see \
             `crates/bench/src/scenarios/governance.rs`), the plain tenant only what a new tenant \
             starts with. Windows alternate governed / plain; added latency = governed − plain, \
             the median of the per-pair differences. Latency: scheduled send → the first \
             `AGENT_RESPONSE_DELTA`; a turn counts once its `EXECUTION_COMPLETED` arrived, and \
             fails on any `POLICY_DECISION`.",
            stack.description
        ),
        rows: vec![
            row("with the policies: first delta p50", &with, 50.0),
            row("with the policies: first delta p99", &with, 99.0),
            row("without: first delta p50", &without, 50.0),
            row("without: first delta p99", &without, 99.0),
            Row::judged(
                "added p50 (median of per-pair differences)",
                report::ms(added50),
                report::runs(&added50s, report::ms),
                &status,
            ),
            Row::measured(
                "added p99 (median of per-pair differences)",
                report::ms(added99),
                report::runs(&added99s, report::ms),
            ),
            Row::measured(
                format!("turns completed/s with the policies (scheduled: {rate}/s)"),
                report::rate(median(&with.rates())),
                report::runs(&with.rates(), report::rate),
            ),
            failed("with the policies", &with),
            failed("without", &without),
        ],
        measured: format!(
            "added p50 {} / p99 {} (with: {} / {}; without: {} / {})",
            report::ms(added50),
            report::ms(added99),
            report::ms(median(&with.percentiles(50.0))),
            report::ms(median(&with.percentiles(99.0))),
            report::ms(median(&without.percentiles(50.0))),
            report::ms(median(&without.percentiles(99.0))),
        ),
        status,
        notes,
    })
}
