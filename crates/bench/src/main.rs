//! `symphainy-bench`: the load harness behind `make bench`.
//!
//! It starts the release binaries of both planes as child processes on loopback (port 0, fresh
//! data directory, fresh secrets, fresh Postgres schemas and Redis key prefix), drives them from
//! this process, measures each target of the performance issue next to a baseline taken in the
//! same run (a bare actix-web handler, a bare actix-ws echo, raw Argon2id hashing, a bare Redis
//! GET), and writes the medians with PASS/MISS verdicts to `docs/benchmarks.md`. Measuring the baseline in the same run
//! on the same machine is what makes the ratios meaningful on a small, shared box.
//!
//! Layout: [`cli`] flags; [`services`] child processes; [`load`] the closed-loop / paced runner
//! and percentiles; [`http1`] the raw keep-alive GET client; [`api`] the identity API over
//! reqwest; [`ws`] the agent-socket and echo clients; [`fdlimit`] the open-file limit;
//! [`baselines`]; [`scenarios`] one module per target; [`report`] the Markdown.

mod api;
mod baselines;
mod cli;
mod fdlimit;
mod http1;
mod load;
mod report;
mod scenarios;
mod services;
mod sse;
mod ws;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};

use crate::cli::{Options, Parsed};
use crate::report::{Section, Status};
use crate::scenarios::{Bench, Which};
use crate::services::{Database, Janitor, Stack, StackSpec};

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("symphainy-bench: {error:#}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    // Ctrl-C drops the run: every child was spawned with kill_on_drop, and the janitor still
    // knows which Postgres schemas and Redis keys the dropped stacks had created.
    let janitor = Janitor::default();
    let outcome = tokio::select! {
        outcome = run(options, &janitor) => outcome,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted: stopping the services and removing their schemas and keys");
            tokio::time::sleep(Duration::from_millis(500)).await;
            janitor.sweep().await;
            Err(anyhow!("interrupted"))
        }
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("symphainy-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the selected targets and writes the report; `Ok(false)` when a scenario failed (a MISS is
/// a result, not a failure).
async fn run(options: Options, janitor: &Janitor) -> Result<bool> {
    let agent_targets = [
        Which::Sockets,
        Which::TurnLatency,
        Which::TurnLatencyProduction,
        Which::Turns,
        Which::PolicyTurn,
        Which::PolicyTurnProduction,
        Which::SseIdle,
    ];
    if agent_targets.iter().any(|w| options.only.contains(w)) {
        // Thousands of sockets, and a runtime stream per socket in use. Raised before any child
        // is spawned: the services inherit the limit.
        match fdlimit::raise() {
            Ok(limit) => println!(
                "open-file limit: soft {}, hard {} (inherited by the services)",
                limit.soft, limit.hard
            ),
            Err(error) => eprintln!("warning: could not raise the open-file limit: {error:#}"),
        }
    }
    let bin_dir = match &options.bin_dir {
        Some(dir) => dir.clone(),
        None => default_bin_dir()?,
    };
    let machine = report::Machine::collect();
    let bench = Bench {
        runs: options.runs,
        measure: Duration::from_secs_f64(options.seconds),
        warmup: Duration::from_secs_f64(options.warmup),
        cores: machine.cores,
        agent: options.agent,
    };
    let selected = |group: &[Which]| -> Vec<Which> {
        group
            .iter()
            .copied()
            .filter(|w| options.only.contains(w))
            .collect()
    };
    let mut sections = Vec::new();

    // Targets 1-3, 13, 19 and 20 on the embedded default: what `make run` starts.
    let embedded = selected(&[
        Which::Me,
        Which::Login,
        Which::Latency,
        Which::Metrics,
        Which::Outcomes,
        Which::OperationsHub,
    ]);
    if !embedded.is_empty() {
        let spec = StackSpec {
            bin_dir: bin_dir.clone(),
            database: Database::Sqlite,
            redis_url: None,
            db_max_connections: options.db_max_connections,
            experience_env: Vec::new(),
        };
        run_on_stack(&spec, janitor, &embedded, &bench, &mut sections).await;
    }

    // Targets 4-5 on the production backends.
    let mut production = selected(&[Which::Refresh, Which::Session]);
    if !production.is_empty() {
        let postgres = postgres_check(&options).await;
        if let Err(reason) = redis_check(&options).await {
            sections.extend(
                production
                    .iter()
                    .map(|w| Section::skipped(*w, reason.clone())),
            );
            production.clear();
        }
        if let Err(reason) = &postgres {
            if production.contains(&Which::Refresh) {
                sections.push(Section::skipped(Which::Refresh, reason.clone()));
                production.retain(|w| *w != Which::Refresh);
            }
        }
        if !production.is_empty() {
            let spec = StackSpec {
                bin_dir: bin_dir.clone(),
                database: match postgres {
                    Ok(()) => Database::Postgres(options.postgres_url.clone()),
                    Err(_) => Database::Sqlite,
                },
                redis_url: Some(options.redis_url.clone()),
                db_max_connections: options.db_max_connections,
                experience_env: Vec::new(),
            };
            run_on_stack(&spec, janitor, &production, &bench, &mut sections).await;
        }
    }

    // Targets 6-8 (agent WebSocket), the concurrency-1 targets 9-10, the agent-management
    // targets 11-12 and the governance targets 14-15 on the embedded default, on a stack of
    // their own.
    let agent = selected(&[
        Which::Sockets,
        Which::TurnLatency,
        Which::Turns,
        Which::TurnSerial,
        Which::MeSerial,
        Which::Wrappers,
        Which::SpecialistTurn,
        Which::PolicyTurn,
        Which::Evaluate,
        Which::MultiAgentExchange,
        Which::MultimodalVision,
    ]);
    if !agent.is_empty() {
        let spec = StackSpec {
            bin_dir: bin_dir.clone(),
            database: Database::Sqlite,
            redis_url: None,
            db_max_connections: options.db_max_connections,
            experience_env: scenarios::agent::service_env(),
        };
        run_on_stack(&spec, janitor, &agent, &bench, &mut sections).await;
    }

    // Targets 16-17 (live events, SSE) on the embedded default, and 17b on the production
    // backends (optional: only when both are reachable), on stacks of their own.
    let live = selected(&[Which::SseIdle, Which::SseFanout]);
    if !live.is_empty() {
        let spec = StackSpec {
            bin_dir: bin_dir.clone(),
            database: Database::Sqlite,
            redis_url: None,
            db_max_connections: options.db_max_connections,
            experience_env: scenarios::sse_idle::service_env(),
        };
        run_on_stack(&spec, janitor, &live, &bench, &mut sections).await;
    }
    let live_production = selected(&[Which::SseFanoutProduction]);
    if !live_production.is_empty() {
        match (postgres_check(&options).await, redis_check(&options).await) {
            (Err(reason), _) | (_, Err(reason)) => sections.extend(
                live_production
                    .iter()
                    .map(|w| Section::skipped(*w, reason.clone())),
            ),
            (Ok(()), Ok(())) => {
                let spec = StackSpec {
                    bin_dir: bin_dir.clone(),
                    database: Database::Postgres(options.postgres_url.clone()),
                    redis_url: Some(options.redis_url.clone()),
                    db_max_connections: options.db_max_connections,
                    experience_env: scenarios::sse_idle::service_env(),
                };
                run_on_stack(&spec, janitor, &live_production, &bench, &mut sections).await;
            }
        }
    }

    // Targets 7, 9, 10, 13, 14 and 20 again on the production backends (optional: only when both
    // are reachable).
    let agent_production = selected(&[
        Which::TurnLatencyProduction,
        Which::TurnSerialProduction,
        Which::MeSerialProduction,
        Which::MetricsProduction,
        Which::PolicyTurnProduction,
        Which::OutcomesProduction,
    ]);
    if !agent_production.is_empty() {
        match (postgres_check(&options).await, redis_check(&options).await) {
            (Err(reason), _) | (_, Err(reason)) => sections.extend(
                agent_production
                    .iter()
                    .map(|w| Section::skipped(*w, reason.clone())),
            ),
            (Ok(()), Ok(())) => {
                let spec = StackSpec {
                    bin_dir: bin_dir.clone(),
                    database: Database::Postgres(options.postgres_url.clone()),
                    redis_url: Some(options.redis_url.clone()),
                    db_max_connections: options.db_max_connections,
                    experience_env: scenarios::agent::service_env(),
                };
                run_on_stack(&spec, janitor, &agent_production, &bench, &mut sections).await;
            }
        }
    }
    sections.sort_by_key(|section| section.which);

    let context = report::Context {
        date: now_utc(),
        machine,
        bin_dir: bin_dir.display().to_string(),
        debug_binaries: bin_dir.ends_with("debug"),
        runs: options.runs,
        seconds: options.seconds,
        warmup: options.warmup,
        settle: bench.settle().as_secs_f64(),
    };
    let markdown = report::render(&context, &sections);
    if let Some(parent) = options.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&options.out, markdown)
        .with_context(|| format!("writing {}", options.out.display()))?;
    println!("\n{}", report::summary(&sections));
    println!("report written to {}", options.out.display());
    Ok(!sections
        .iter()
        .any(|s| matches!(s.status, Status::Error(_))))
}

/// Starts one stack, runs `which` on it in order, stops it. A failure becomes an `Error` section
/// (with the services' last log lines on stderr) and the other targets still run.
async fn run_on_stack(
    spec: &StackSpec,
    janitor: &Janitor,
    which: &[Which],
    bench: &Bench,
    sections: &mut Vec<Section>,
) {
    println!(
        "starting services ({}) from {}",
        spec.describe(),
        spec.bin_dir.display()
    );
    let stack = match Stack::start(spec, janitor).await {
        Ok(stack) => stack,
        Err(error) => {
            eprintln!("could not start the services: {error:#}");
            let reason = format!(
                "the services did not start ({}): {error:#}",
                spec.describe()
            );
            sections.extend(which.iter().map(|w| Section::error(*w, reason.clone())));
            return;
        }
    };
    for &target in which {
        println!("running {target} ({}) ...", target.name());
        match scenarios::run(target, &stack, bench).await {
            Ok(section) => sections.push(section),
            Err(error) => {
                eprintln!("{target} failed: {error:#}\n{}", stack.log_tail());
                sections.push(Section::error(target, format!("{error:#}")));
            }
        }
    }
    stack.stop().await;
}

/// Whether the production stack may use PostgreSQL; the reason for the report when not.
async fn postgres_check(options: &Options) -> std::result::Result<(), String> {
    if options.skip_postgres {
        return Err("PostgreSQL left out with `--skip-postgres`.".to_owned());
    }
    services::postgres_reachable(&options.postgres_url)
        .await
        .map_err(|e| {
            format!(
                "PostgreSQL unreachable at `{}`: {e:#}",
                options.postgres_url
            )
        })
}

/// Whether Redis is reachable; the reason for the report when not.
async fn redis_check(options: &Options) -> std::result::Result<(), String> {
    services::redis_reachable(&options.redis_url)
        .await
        .map_err(|e| format!("Redis unreachable at `{}`: {e:#}", options.redis_url))
}

/// `target/release` under `make bench`: the directory of this executable.
fn default_bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the benchmark executable")?;
    exe.parent()
        .map(PathBuf::from)
        .context("the benchmark executable has no parent directory")
}

fn now_utc() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "unknown date".into())
}
