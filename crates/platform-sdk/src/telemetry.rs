//! Log set-up: `tracing` with JSON lines in production and readable lines locally.
//!
//! Both binaries log a `listening` event with the bound address once the socket is open; the
//! end-to-end tests and the benchmark read it to find services started on port 0.

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (production, machines).
    Json,
    /// Human-readable lines (local development).
    Pretty,
}

/// Installs the global subscriber. `level` is an `EnvFilter` directive (`info`,
/// `experience_service=debug,info`, ...); `RUST_LOG` wins when set.
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
