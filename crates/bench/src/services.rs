//! Starting and stopping the two planes as child processes.
//!
//! The benchmark measures the binaries users deploy, not a library linked into the harness, so
//! it runs `runtime-service` and `experience-service` from the directory next to its own
//! executable (`target/release` under `make bench`). Each stack gets port 0, a fresh data
//! directory, fresh random secrets, its own Postgres schemas and its own Redis key prefix, so a
//! run never collides with another run or with a developer's `make run`, and cleans up after
//! itself. Ports are read from the `listening` JSON log line; stdout and stderr keep being drained
//! (into a short tail kept for error messages) so a child never blocks on a full pipe. Children
//! are spawned with `kill_on_drop`, so an error or Ctrl-C anywhere in the harness still kills them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// How long a service may take to log `listening` (migrations included) and to become ready.
const STARTUP: Duration = Duration::from_secs(90);

/// Which SQL database the stack uses.
#[derive(Debug, Clone)]
pub enum Database {
    /// The embedded default: a SQLite file per service in the data directory.
    Sqlite,
    /// PostgreSQL at this URL, one fresh schema per service.
    Postgres(String),
}

/// How to start a stack.
#[derive(Debug, Clone)]
pub struct StackSpec {
    /// Directory holding the two binaries.
    pub bin_dir: PathBuf,
    /// SQL backend.
    pub database: Database,
    /// Redis URL: `Some` selects the Redis state backend, `None` the in-memory one.
    pub redis_url: Option<String>,
    /// `APP__DATABASE__MAX_CONNECTIONS`, when set.
    pub db_max_connections: Option<u32>,
}

impl StackSpec {
    /// "SQLite + in-memory state", "PostgreSQL + Redis", ...
    pub fn describe(&self) -> String {
        let sql = match self.database {
            Database::Sqlite => "SQLite",
            Database::Postgres(_) => "PostgreSQL",
        };
        let state = if self.redis_url.is_some() {
            "Redis"
        } else {
            "in-memory state"
        };
        format!("{sql} + {state}")
    }
}

/// Both planes, running.
pub struct Stack {
    /// The experience service's address.
    pub experience: SocketAddr,
    /// Backends, for the report.
    pub description: String,
    /// Prefix of every Redis key this stack writes.
    pub key_prefix: String,
    /// Redis URL, when the Redis backend is used.
    pub redis_url: Option<String>,
    runtime: Service,
    experience_service: Service,
    postgres: Option<(String, Vec<String>)>,
    data_dir: TempDir,
}

impl Stack {
    /// Starts the runtime, then the experience service pointed at it, and waits until both
    /// answer `/health/ready`.
    pub async fn start(spec: &StackSpec) -> Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tag = id.get(..12).unwrap_or(&id).to_owned();
        let data_dir = TempDir::create(std::env::temp_dir().join(format!("symphainy-bench-{id}")))?;
        let key_prefix = format!("bench-{}:", uuid::Uuid::new_v4());
        let service_secret = random_secret();
        let mut schemas = Vec::new();

        let common = |name: &str, schemas: &mut Vec<String>| {
            let mut env = vec![
                ("APP__SERVER__PORT".into(), "0".into()),
                ("APP__LOG__FORMAT".into(), "json".into()),
                (
                    "APP__LOG__LEVEL".into(),
                    "warn,runtime_service=info,experience_service=info".into(),
                ),
                (
                    "APP__DATA_DIR".into(),
                    data_dir.path.join(name).display().to_string(),
                ),
                (
                    "APP__SECURITY__SERVICE_SECRET".into(),
                    service_secret.clone(),
                ),
                ("APP__SECURITY__SERVICE_KID".into(), "svc-1".into()),
                ("APP__STATE__KEY_PREFIX".into(), key_prefix.clone()),
            ];
            if let Database::Postgres(url) = &spec.database {
                let schema = format!("bench_{tag}_{}", name.replace('-', "_"));
                env.push(("APP__DATABASE__URL".into(), url.clone()));
                env.push(("APP__DATABASE__SCHEMA".into(), schema.clone()));
                schemas.push(schema);
            }
            if let Some(max) = spec.db_max_connections {
                env.push(("APP__DATABASE__MAX_CONNECTIONS".into(), max.to_string()));
            }
            match &spec.redis_url {
                Some(url) => {
                    env.push(("APP__STATE__BACKEND".into(), "redis".into()));
                    env.push(("APP__REDIS__URL".into(), url.clone()));
                }
                None => env.push(("APP__STATE__BACKEND".into(), "memory".into())),
            }
            env
        };

        let runtime_env = common("runtime", &mut schemas);
        let mut experience_env = common("experience", &mut schemas);
        experience_env.extend([
            ("APP__JWT__SECRET".into(), random_secret()),
            ("APP__SECURITY__REFRESH_SECRET".into(), random_secret()),
            ("APP__AUTH__LOGIN_MAX_FAILURES".into(), "1000000".into()),
            ("APP__AUTH__IP_MAX_ATTEMPTS".into(), "100000000".into()),
        ]);
        let postgres = match &spec.database {
            Database::Postgres(url) => Some((url.clone(), schemas)),
            Database::Sqlite => None,
        };
        let started = async {
            let runtime = Service::spawn("runtime-service", &spec.bin_dir, runtime_env).await?;
            experience_env.push((
                "APP__RUNTIME__URL".into(),
                format!("http://{}", runtime.addr),
            ));
            let experience =
                Service::spawn("experience-service", &spec.bin_dir, experience_env).await?;
            runtime.wait_ready().await?;
            experience.wait_ready().await?;
            anyhow::Ok((runtime, experience))
        }
        .await;
        match started {
            Ok((runtime, experience_service)) => Ok(Self {
                experience: experience_service.addr,
                description: spec.describe(),
                key_prefix,
                redis_url: spec.redis_url.clone(),
                runtime,
                experience_service,
                postgres,
                data_dir,
            }),
            Err(error) => {
                // Children were killed on drop; remove what they may have created.
                cleanup(postgres.as_ref(), spec.redis_url.as_deref(), &key_prefix).await;
                Err(error)
            }
        }
    }

    /// The last log lines of both services (for diagnosing a failed scenario).
    pub fn log_tail(&self) -> String {
        format!(
            "--- runtime-service (last lines) ---\n{}\n--- experience-service (last lines) ---\n{}",
            self.runtime.log.text(),
            self.experience_service.log.text()
        )
    }

    /// Kills both services and removes what the stack created (data directory, Postgres
    /// schemas, Redis keys). Cleanup failures are warnings.
    pub async fn stop(mut self) {
        self.experience_service.kill().await;
        self.runtime.kill().await;
        cleanup(
            self.postgres.as_ref(),
            self.redis_url.as_deref(),
            &self.key_prefix,
        )
        .await;
        drop(self.data_dir);
    }
}

/// One child process and where it listens.
struct Service {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    log: Arc<LogTail>,
}

impl Service {
    async fn spawn(name: &'static str, bin_dir: &Path, env: Vec<(String, String)>) -> Result<Self> {
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

    async fn wait_ready(&self) -> Result<()> {
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

    async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
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

/// A directory removed on drop (also on error paths).
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn create(path: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Whether PostgreSQL at `url` accepts a connection.
pub async fn postgres_reachable(url: &str) -> Result<()> {
    let connect = sqlx::postgres::PgConnection::connect(url);
    let connection = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .context("timed out")??;
    connection.close().await?;
    Ok(())
}

/// Whether Redis at `url` answers PING.
pub async fn redis_reachable(url: &str) -> Result<()> {
    let ping = async {
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await?;
        anyhow::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(5), ping)
        .await
        .context("timed out")?
}

/// Drops the stack's Postgres schemas and deletes its Redis keys; failures are warnings.
async fn cleanup(postgres: Option<&(String, Vec<String>)>, redis_url: Option<&str>, prefix: &str) {
    if let Some((url, schemas)) = postgres {
        if let Err(error) = drop_schemas(url, schemas).await {
            eprintln!("warning: could not drop Postgres schemas {schemas:?}: {error:#}");
        }
    }
    if let Some(url) = redis_url {
        if let Err(error) = delete_keys(url, prefix).await {
            eprintln!("warning: could not delete Redis keys {prefix}*: {error:#}");
        }
    }
}

async fn drop_schemas(url: &str, schemas: &[String]) -> Result<()> {
    let mut connection = sqlx::postgres::PgConnection::connect(url).await?;
    for schema in schemas {
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut connection)
            .await?;
    }
    connection.close().await?;
    Ok(())
}

async fn delete_keys(url: &str, prefix: &str) -> Result<()> {
    let client = redis::Client::open(url)?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await?;
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .query_async::<()>(&mut connection)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
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
}
