//! The Markdown written to `docs/benchmarks.md`, and the short summary printed to stdout.
//!
//! A benchmark page is only worth keeping if a reader can tell what was run, on what, and how:
//! so it opens with the exact command, the date, the machine and the method, then gives one table
//! per target with every run's value beside the median, the goal, and an honest PASS/MISS.

mod format;

use std::fmt::Write as _;

use format::trim_float;
pub use format::{bytes, ms, rate, ratio, runs, seconds};

use crate::scenarios::Which;

/// The verdict of one target.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// The median met the goal.
    Pass,
    /// The median missed the goal.
    Miss,
    /// Reported for context; the issue sets no numeric goal.
    Info,
    /// Not run, and why.
    Skipped(String),
    /// The scenario failed, and why.
    Error(String),
}

impl Status {
    /// `Pass` when `met`, else `Miss`.
    pub fn verdict(met: bool) -> Self {
        if met {
            Self::Pass
        } else {
            Self::Miss
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Miss => "MISS",
            Self::Info => "info",
            Self::Skipped(_) => "SKIPPED",
            Self::Error(_) => "ERROR",
        }
    }
}

/// One table row.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// What was measured.
    pub measurement: String,
    /// Median of the runs.
    pub median: String,
    /// Every run's value, in order.
    pub runs: String,
    /// PASS / MISS on the row the goal applies to (the goal is printed beside it).
    pub result: String,
}

impl Row {
    /// A row without a goal.
    pub fn measured(measurement: impl Into<String>, median: String, runs: String) -> Self {
        Self {
            measurement: measurement.into(),
            median,
            runs,
            ..Self::default()
        }
    }

    /// A row carrying the goal and the verdict.
    pub fn judged(
        measurement: impl Into<String>,
        median: String,
        runs: String,
        status: &Status,
    ) -> Self {
        Self {
            measurement: measurement.into(),
            median,
            runs,
            result: status.label().to_owned(),
        }
    }
}

/// The outcome of one target.
#[derive(Debug, Clone)]
pub struct Section {
    /// Which target.
    pub which: Which,
    /// Backends, client counts, rates.
    pub setup: String,
    /// The table.
    pub rows: Vec<Row>,
    /// The verdict.
    pub status: Status,
    /// The headline number for the summary.
    pub measured: String,
    /// Remarks (errors seen, caveats).
    pub notes: Vec<String>,
}

impl Section {
    /// A target that was not run.
    pub fn skipped(which: Which, reason: impl Into<String>) -> Self {
        Self::empty(which, Status::Skipped(reason.into()))
    }

    /// A target whose scenario failed.
    pub fn error(which: Which, reason: impl Into<String>) -> Self {
        Self::empty(which, Status::Error(reason.into()))
    }

    fn empty(which: Which, status: Status) -> Self {
        Self {
            which,
            setup: String::new(),
            rows: Vec::new(),
            status,
            measured: "—".into(),
            notes: Vec::new(),
        }
    }
}

/// Facts about the machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// `std::thread::available_parallelism`.
    pub cores: usize,
    /// CPU model from /proc/cpuinfo.
    pub cpu: Option<String>,
    /// `uname -a`.
    pub uname: Option<String>,
    /// `rustc --version`.
    pub rustc: Option<String>,
}

impl Machine {
    /// Collects the facts (what cannot be found is left out).
    pub fn collect() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            });
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu,
            uname: command_output("uname", &["-a"]),
            rustc: command_output("rustc", &["--version"]),
        }
    }
}

/// Facts about the run.
#[derive(Debug, Clone)]
pub struct Context {
    /// UTC date and time of the run.
    pub date: String,
    /// The machine.
    pub machine: Machine,
    /// Where the measured binaries came from.
    pub bin_dir: String,
    /// Whether those are debug builds (numbers then mean little).
    pub debug_binaries: bool,
    /// Runs per measurement.
    pub runs: usize,
    /// Measurement window, seconds.
    pub seconds: f64,
    /// Warm-up, seconds.
    pub warmup: f64,
    /// Settle time before each window, seconds.
    pub settle: f64,
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// Renders the whole page.
pub fn render(context: &Context, sections: &[Section]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Symphainy benchmarks\n");
    let _ = writeln!(
        out,
        "Generated by `make bench` (`cargo build --release --bins && target/release/symphainy-bench \
         --out docs/benchmarks.md`) on {}. Re-run it to refresh this page; numbers from another \
         machine are not comparable, the ratios roughly are.\n",
        context.date
    );
    if context.debug_binaries {
        let _ = writeln!(
            out,
            "> **These numbers come from DEBUG binaries ({}) and say nothing about performance.** \
             They only show that every scenario runs end to end.\n",
            context.bin_dir
        );
    }
    render_machine(&mut out, context);
    render_method(&mut out, context);
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(out, "| # | target | measured (median) | goal | result |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for section in sections {
        let which = section.which;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            which.number(),
            which.title(),
            section.measured,
            which.goal(),
            section.status.label()
        );
    }
    out.push('\n');
    for section in sections {
        render_section(&mut out, section);
    }
    out
}

fn render_machine(out: &mut String, context: &Context) {
    let _ = writeln!(out, "## Machine\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| cores (`available_parallelism`) | {} |",
        context.machine.cores
    );
    if let Some(cpu) = &context.machine.cpu {
        let _ = writeln!(out, "| CPU | {cpu} |");
    }
    if let Some(uname) = &context.machine.uname {
        let _ = writeln!(out, "| `uname -a` | `{uname}` |");
    }
    if let Some(rustc) = &context.machine.rustc {
        let _ = writeln!(out, "| rustc | `{rustc}` |");
    }
    let _ = writeln!(out, "| binaries | `{}` |", context.bin_dir);
    let _ = writeln!(
        out,
        "| runs × window | {} × {} s, {} s settle before each window, {} s warm-up per measurement |\n",
        context.runs,
        trim_float(context.seconds),
        trim_float(context.settle),
        trim_float(context.warmup)
    );
}

fn render_method(out: &mut String, context: &Context) {
    let _ = writeln!(
        out,
        "## Method\n\n\
         - The harness starts the release binaries of both planes itself, as child processes on \
         127.0.0.1 port 0 (ports read from their `listening` log line), with a fresh data \
         directory, fresh secrets, fresh Postgres schemas and a fresh Redis key prefix, and removes \
         them afterwards. Throttles are raised for load; Argon2 stays at its defaults \
         (m=19456 KiB, t=2, p=1) and the concurrent-hash cap at its default (one per core), \
         except on the stack of targets 6–8 (below).\n\
         - Load is **closed-loop**: N tasks in this process, each sending its next request when the \
         previous one answered. After a warm-up, each measurement is a {settle} s settle period \
         followed by a fixed {seconds} s window; an operation counts when it completes inside the \
         window. Latencies are recorded per operation in microseconds; p50/p99 are nearest-rank \
         percentiles of the window's sorted latencies.\n\
         - The steady-rate probes of targets 3 and 7 are **open-loop**: requests are sent on a fixed \
         schedule and latency is measured from the scheduled time, so a stalled server is charged \
         for the requests it delayed; such an operation counts when it was *scheduled* inside the \
         window.\n\
         - Every measurement is repeated {runs} times and the **median** of the runs is reported \
         (every run is listed). A ratio compares two measurements taken **interleaved** in the same \
         run (A, B, A, B, …) and reports the median of the per-pair ratios.\n\
         - GET load goes through a minimal HTTP/1.1 keep-alive client (pre-built request, one \
         response read), POST load (login, refresh) through one shared `reqwest::Client`. The load \
         generator runs on the same {cores} cores as the servers; it costs the same per request on \
         both sides of a comparison, which makes a throughput ratio lean towards 1, never away \
         from it.\n\
         - Targets 9–10 are **one client alone** (concurrency 1, closed loop): the load targets \
         keep many requests in flight and hide per-request stalls such as Nagle's algorithm \
         meeting a delayed ACK; a single client pays each one in full.\n\
         - Targets 6–10 (agent WebSocket, and the concurrency-1 targets) run on their own \
         embedded stack (SQLite + in-memory state, builtin agent provider; 7b, 9b, 10b: the same \
         on PostgreSQL + Redis, when both are reachable) whose experience service has the \
         per-socket message \
         limit lifted and Argon2id lowered to m={argon_m} KiB, t={argon_t}: their sessions come \
         from logins, and hashing is not what they measure. The sockets are \
         `tokio-tungstenite` clients in this process; each latency or throughput socket has its \
         own login session, so it receives only its own turns. Memory is the services' \
         `VmRSS` from `/proc/<pid>/status`. Before the first window every socket runs one \
         priming turn, reported apart (the first intent on a socket subscribes it to its \
         session's event stream).\n",
        settle = trim_float(context.settle),
        seconds = trim_float(context.seconds),
        runs = context.runs,
        cores = context.machine.cores,
        argon_m = crate::scenarios::agent::ARGON2_MEMORY_KIB,
        argon_t = crate::scenarios::agent::ARGON2_ITERATIONS,
    );
}

fn render_section(out: &mut String, section: &Section) {
    let which = section.which;
    let _ = writeln!(out, "## {}. {}\n", which.number(), which.title());
    let _ = writeln!(out, "Goal: {}.\n", which.goal());
    match &section.status {
        Status::Skipped(reason) => {
            let _ = writeln!(out, "**Skipped:** {reason}\n");
            return;
        }
        Status::Error(reason) => {
            let _ = writeln!(
                out,
                "**Error:** the scenario failed:\n\n```text\n{reason}\n```\n"
            );
            return;
        }
        Status::Pass | Status::Miss | Status::Info => {}
    }
    if !section.setup.is_empty() {
        let _ = writeln!(out, "{}\n", section.setup);
    }
    let _ = writeln!(out, "| measurement | median | runs | goal | result |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for row in &section.rows {
        let target = if row.result.is_empty() {
            ""
        } else {
            which.goal()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            row.measurement, row.median, row.runs, target, row.result
        );
    }
    out.push('\n');
    for note in &section.notes {
        let _ = writeln!(out, "- {note}");
    }
    if !section.notes.is_empty() {
        out.push('\n');
    }
}

/// The lines printed to stdout at the end.
pub fn summary(sections: &[Section]) -> String {
    let mut out = String::new();
    for section in sections {
        let which = section.which;
        let detail = match &section.status {
            Status::Skipped(reason) | Status::Error(reason) => {
                reason.lines().next().unwrap_or_default().to_owned()
            }
            Status::Pass | Status::Miss | Status::Info => {
                format!("{} (goal: {})", section.measured, which.goal())
            }
        };
        let _ = writeln!(
            out,
            "{:<7} {}. {:<12} {}",
            section.status.label(),
            which.number(),
            which.name(),
            detail
        );
    }
    out
}
