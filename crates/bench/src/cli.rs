//! Command-line flags (hand-parsed: a handful of flags does not justify another dependency).

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};

use crate::scenarios::agent::AgentSizes;
use crate::scenarios::Which;

/// `--help` text (`--bin-dir`, `--sockets`, `--turn-sockets`, `--turn-rate` and `--turn-clients`
/// are left out on purpose: they exist for smoke runs against debug binaries or at small sizes,
/// whose numbers must not end up in the docs by accident).
pub const USAGE: &str = "\
symphainy-bench: the load harness behind `make bench`

Starts target/release/{runtime,experience}-service on loopback and measures the targets of the
performance issue; writes Markdown with medians and PASS/MISS verdicts.

USAGE: symphainy-bench [OPTIONS]

OPTIONS:
  --out PATH             Markdown output (default docs/benchmarks.md)
  --runs N               measurements (or A/B pairs) per target, median reported (default 5)
  --seconds S            length of each measurement window, seconds (default 3)
  --warmup S             warm-up before each target's first window, seconds (default 1)
  --only NAME[,NAME]     run only these: me, login, latency, refresh, session, sockets,
                         turn-latency, turn-latency-pg, turns, turn-c1, turn-c1-pg, me-c1,
                         me-c1-pg, wrappers, specialist-c1, metrics, metrics-pg,
                         policy-turn, policy-turn-pg, evaluate, multi-agent, outcomes,
                         outcomes-pg, multimodal-vision, operations-hub, sse-idle,
                         sse-fanout, sse-fanout-pg (or their numbers 1-21,
                         7b, 9b, 10b, 13b, 14b, 17b, 20b)
  --skip-postgres        do not use PostgreSQL (targets 4 and 7b are reported as skipped)
  --postgres-url URL     default postgres://postgres@127.0.0.1:5432/test
  --redis-url URL        default redis://127.0.0.1:6379
  --db-max-connections N pass APP__DATABASE__MAX_CONNECTIONS to both services
  -h, --help             this text
";

/// Parsed flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the Markdown goes.
    pub out: PathBuf,
    /// Runs per measurement.
    pub runs: usize,
    /// Window length, seconds.
    pub seconds: f64,
    /// Warm-up, seconds.
    pub warmup: f64,
    /// Selected targets (all when `--only` is absent).
    pub only: Vec<Which>,
    /// Leave PostgreSQL out.
    pub skip_postgres: bool,
    /// PostgreSQL for the production stack.
    pub postgres_url: String,
    /// Redis for the production stack.
    pub redis_url: String,
    /// Pool size passed to the services.
    pub db_max_connections: Option<u32>,
    /// Hidden: directory of the binaries (default: next to this executable).
    pub bin_dir: Option<PathBuf>,
    /// Hidden: sizes of targets 6–8 (default: the issue's).
    pub agent: AgentSizes,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run the benchmark.
    Run(Options),
    /// Print the usage.
    Help,
}

impl Options {
    /// Parses the arguments after the program name (`--flag value` or `--flag=value`).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed> {
        let mut options = Self {
            out: PathBuf::from("docs/benchmarks.md"),
            runs: 5,
            seconds: 3.0,
            warmup: 1.0,
            only: Which::ALL.to_vec(),
            skip_postgres: false,
            postgres_url: "postgres://postgres@127.0.0.1:5432/test".into(),
            redis_url: "redis://127.0.0.1:6379".into(),
            db_max_connections: None,
            bin_dir: None,
            agent: AgentSizes::ISSUE,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = || -> Result<String> {
                match inline.clone() {
                    Some(value) => Ok(value),
                    None => args.next().with_context(|| format!("{flag} needs a value")),
                }
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Parsed::Help),
                "--out" => options.out = PathBuf::from(value()?),
                "--runs" => options.runs = value()?.parse().context("--runs")?,
                "--seconds" => options.seconds = value()?.parse().context("--seconds")?,
                "--warmup" => options.warmup = value()?.parse().context("--warmup")?,
                "--only" => {
                    options.only = value()?
                        .split(',')
                        .filter(|name| !name.trim().is_empty())
                        .map(Which::parse)
                        .collect::<Result<_>>()?;
                }
                "--skip-postgres" => options.skip_postgres = true,
                "--postgres-url" => options.postgres_url = value()?,
                "--redis-url" => options.redis_url = value()?,
                "--db-max-connections" => {
                    options.db_max_connections =
                        Some(value()?.parse().context("--db-max-connections")?);
                }
                "--bin-dir" => options.bin_dir = Some(PathBuf::from(value()?)),
                "--sockets" => {
                    options.agent.idle_sockets = value()?.parse().context("--sockets")?;
                }
                "--turn-sockets" => {
                    options.agent.turn_sockets = value()?.parse().context("--turn-sockets")?;
                }
                "--turn-rate" => {
                    options.agent.turn_rate = value()?.parse().context("--turn-rate")?;
                }
                "--turn-clients" => {
                    options.agent.turn_clients = value()?.parse().context("--turn-clients")?;
                }
                other => bail!("unknown argument {other:?}"),
            }
        }
        if options.runs == 0 {
            bail!("--runs must be at least 1");
        }
        if !(options.seconds.is_finite() && options.seconds > 0.0) {
            bail!("--seconds must be positive");
        }
        if !(options.warmup.is_finite() && options.warmup >= 0.0) {
            bail!("--warmup must not be negative");
        }
        let agent = options.agent;
        if agent.idle_sockets == 0 || agent.turn_sockets == 0 || agent.turn_clients == 0 {
            bail!("--sockets, --turn-sockets and --turn-clients must be at least 1");
        }
        if !(agent.turn_rate.is_finite() && agent.turn_rate > 0.0) {
            bail!("--turn-rate must be positive");
        }
        if options.only.is_empty() {
            bail!("--only names no scenario");
        }
        options.only.sort();
        options.only.dedup();
        Ok(Parsed::Run(options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        match Options::parse(args.iter().map(|a| (*a).to_owned()))? {
            Parsed::Run(options) => Ok(options),
            Parsed::Help => bail!("help"),
        }
    }

    #[test]
    fn defaults_and_flags() {
        let options = parse(&[]).unwrap();
        assert_eq!((options.runs, options.seconds), (5, 3.0));
        assert_eq!(options.only, Which::ALL.to_vec());
        let options = parse(&[
            "--runs",
            "2",
            "--seconds=0.5",
            "--only",
            "session,me",
            "--skip-postgres",
        ])
        .unwrap();
        assert_eq!((options.runs, options.seconds), (2, 0.5));
        assert_eq!(options.only, vec![Which::Me, Which::Session]);
        assert!(options.skip_postgres);
        assert_eq!(options.agent, AgentSizes::ISSUE);
        let options = parse(&[
            "--only",
            "turns,6,turn-latency",
            "--sockets=500",
            "--turn-sockets",
            "50",
            "--turn-rate",
            "20",
            "--turn-clients=8",
        ])
        .unwrap();
        assert_eq!(
            options.only,
            vec![Which::Sockets, Which::TurnLatency, Which::Turns]
        );
        assert_eq!(
            options.agent,
            AgentSizes {
                idle_sockets: 500,
                turn_sockets: 50,
                turn_rate: 20.0,
                turn_clients: 8
            }
        );
        let options = parse(&["--only", "evaluate,14b,policy-turn"]).unwrap();
        assert_eq!(
            options.only,
            vec![
                Which::PolicyTurn,
                Which::PolicyTurnProduction,
                Which::Evaluate
            ]
        );
        let options = parse(&["--only", "17b,sse-idle,sse-fanout"]).unwrap();
        assert_eq!(
            options.only,
            vec![Which::SseIdle, Which::SseFanout, Which::SseFanoutProduction]
        );
        let options = parse(&["--only", "turn-c1,10b,9b,me-c1"]).unwrap();
        assert_eq!(
            options.only,
            vec![
                Which::TurnSerial,
                Which::TurnSerialProduction,
                Which::MeSerial,
                Which::MeSerialProduction
            ]
        );
        assert!(parse(&["--turn-rate", "0"]).is_err());
        assert!(parse(&["--sockets", "0"]).is_err());
        assert!(parse(&["--only", "nope"]).is_err());
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--seconds"]).is_err());
        assert!(matches!(
            Options::parse(vec!["-h".to_owned()]),
            Ok(Parsed::Help)
        ));
    }
}
