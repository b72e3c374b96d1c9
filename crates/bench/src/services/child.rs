//! One service as a child process: spawn it with a clean environment, read its port from the
//! `listening` JSON log line, keep draining its output into a short tail (for error messages),
//! wait for `/health/ready`, kill it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use super::STARTUP;

/// One child process and where it listens.
pub(super) struct Service {
    name: &'static str,
    child: Child,
    /// Where it listens.
    pub(super) addr: SocketAddr,
    log: Arc<LogTail>,
}

impl Service {
    /// Starts `name` from `bin_dir` with `env` and waits for its `listening` line.
    pub(super) async fn spawn(
        name: &'static str,
        bin_dir: &Path,
        env: Vec<(String, String)>,
    ) -> Result<Self> {
        let binary = bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if !binary.is_file() {
            bail!(
                "{} not found (build it first: `cargo build --release --bins`)",
                binary.display()
            );
        }
        let mut command = Command::new(&binary);
        // The caller's own APP__* settings must not leak into a measured service.
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text.starts_with("APP__")
                || key_text == "APP_CONFIG_FILE"
                || key_text == "RUST_LOG"
            {
                command.env_remove(&key);
            }
        }
        command
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let log = Arc::new(LogTail::default());
        let stdout = child.stdout.take().context("child stdout")?;
        let stderr = child.stderr.take().context("child stderr")?;
        tokio::spawn(drain(BufReader::new(stderr), Arc::clone(&log)));
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(STARTUP, async {
            while let Some(line) = lines.next_line().await? {
                log.push(&line);
                if let Some(addr) = listening_addr(&line) {
                    return Ok(addr);
                }
            }
            bail!("{name} closed its output before logging `listening`")
        })
        .await;
        let addr = match found {
            Ok(Ok(addr)) => addr,
            Ok(Err(error)) => {
                let status = child.try_wait().ok().flatten();
                bail!("{error:#} (exit status: {status:?})\n{}", log.text());
            }
            Err(_) => bail!(
                "{name} did not log `listening` within {STARTUP:?}\n{}",
                log.text()
            ),
        };
        tokio::spawn(drain(lines.into_inner(), Arc::clone(&log)));
        Ok(Self {
            name,
            child,
            addr,
            log,
        })
    }

    /// Waits until `/health/ready` answers 2xx.
    pub(super) async fn wait_ready(&self) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let url = format!("http://{}/health/ready", self.addr);
        let deadline = Instant::now() + STARTUP;
        let mut last = String::new();
        while Instant::now() < deadline {
            match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last = format!("HTTP {}", response.status()),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "{} not ready at {url} within {STARTUP:?} (last: {last})\n{}",
            self.name,
            self.log.text()
        )
    }

    /// Kills it and reaps it.
    pub(super) async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

impl Service {
    /// The last lines it wrote.
    pub(super) fn log_text(&self) -> String {
        self.log.text()
    }

    /// Its resident set size, bytes.
    pub(super) fn rss_bytes(&self) -> Result<u64> {
        let pid = self
            .child
            .id()
            .with_context(|| format!("{} has exited", self.name))?;
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        vm_rss(&status).with_context(|| format!("no VmRSS line in {path}"))
    }
}

/// The `VmRSS:   1234 kB` line of `/proc/<pid>/status`, in bytes.
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Finds `"message":"listening"` and `"addr":"127.0.0.1:PORT"` in a JSON log line, at the top
/// level (tracing's flattened events) or under `fields`.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    let field = |name: &str| {
        value
            .get(name)
            .or_else(|| value.get("fields").and_then(|fields| fields.get(name)))
            .and_then(serde_json::Value::as_str)
    };
    if field("message")? != "listening" {
        return None;
    }
    let addr = field("addr")?;
    let addr = addr.strip_prefix("http://").unwrap_or(addr);
    let mut parsed: SocketAddr = addr.trim_end_matches('/').parse().ok()?;
    if parsed.ip().is_unspecified() {
        parsed.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    Some(parsed)
}

/// The last lines a child wrote.
#[derive(Default)]
struct LogTail(Mutex<VecDeque<String>>);

impl LogTail {
    const KEEP: usize = 40;

    fn push(&self, line: &str) {
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == Self::KEEP {
                lines.pop_front();
            }
            lines.push_back(line.to_owned());
        }
    }

    fn text(&self) -> String {
        self.0
            .lock()
            .map(|lines| lines.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }
}

async fn drain(reader: impl AsyncRead + Unpin, log: Arc<LogTail>) {
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        log.push(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_listening_line_flat_or_nested() {
        let flat = r#"{"timestamp":"t","level":"INFO","message":"listening","addr":"127.0.0.1:4321","target":"x"}"#;
        assert_eq!(
            listening_addr(flat),
            Some("127.0.0.1:4321".parse().unwrap())
        );
        let nested = r#"{"level":"INFO","fields":{"message":"listening","addr":"0.0.0.0:99"}}"#;
        assert_eq!(
            listening_addr(nested),
            Some("127.0.0.1:99".parse().unwrap())
        );
        assert_eq!(
            listening_addr(r#"{"message":"migrated","addr":"127.0.0.1:1"}"#),
            None
        );
        assert_eq!(listening_addr("not json"), None);
    }

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t4\n";
        assert_eq!(vm_rss(status), Some(1234 * 1024));
        assert_eq!(vm_rss("Name: x\n"), None);
    }
}
