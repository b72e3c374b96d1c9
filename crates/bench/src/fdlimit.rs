//! The open-file limit, raised for the socket scenarios.
//!
//! Ten thousand idle sockets need ten thousand descriptors in this process (the clients) and as
//! many in experience-service (the server side); a thousand busy sockets need two thousand
//! there (each also follows its session's stream on the runtime). Many shells start programs
//! with a soft limit of 1,024. An unprivileged process may raise its own soft limit up to its hard limit;
//! the workspace forbids `unsafe`, so instead of calling `setrlimit` through libc the harness asks
//! util-linux's `prlimit` to do it for its own pid. It does so before it spawns any service, so
//! the children inherit the raised limit.

use std::process::Command;

use anyhow::{bail, Context as _, Result};

/// The soft limit the harness asks for when the hard limit allows it.
const WANTED: u64 = 65_536;

/// Soft and hard `RLIMIT_NOFILE` of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The limit in force.
    pub soft: u64,
    /// The ceiling an unprivileged process may raise it to.
    pub hard: u64,
}

/// Reads this process's limit from `/proc/self/limits`.
pub fn current() -> Result<Limit> {
    let text = std::fs::read_to_string("/proc/self/limits").context("reading /proc/self/limits")?;
    parse(&text).context("no `Max open files` line in /proc/self/limits")
}

/// Raises the soft limit towards [`WANTED`] (never above the hard limit, never down) and returns
/// the limit now in force.
pub fn raise() -> Result<Limit> {
    let before = current()?;
    let target = WANTED.min(before.hard);
    if before.soft >= target {
        return Ok(before);
    }
    let pid = std::process::id().to_string();
    let output = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={target}:{}", before.hard)])
        .output()
        .context("running `prlimit` (util-linux)")?;
    if !output.status.success() {
        bail!(
            "`prlimit` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    current()
}

fn parse(limits: &str) -> Option<Limit> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    let mut numbers = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .map(|value| match value {
            "unlimited" => Some(u64::MAX),
            number => number.parse().ok(),
        });
    Some(Limit {
        soft: numbers.next()??,
        hard: numbers.next()??,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             63704                63704                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(
            parse(text),
            Some(Limit {
                soft: 1024,
                hard: 524_288
            })
        );
        assert_eq!(parse("Max processes 1 2 processes\n"), None);
    }

    #[test]
    fn reads_its_own_limit() {
        let limit = current().unwrap();
        assert!(limit.soft > 0 && limit.soft <= limit.hard);
    }
}
