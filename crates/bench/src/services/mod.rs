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
//!
//! [`child`] runs one process and finds its port; [`backends`] checks Postgres and Redis and
//! removes what a stack created there.

mod backends;
mod child;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};

use backends::Leftovers;
pub use backends::{postgres_reachable, redis_reachable, Janitor};
use child::Service;

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
    /// Extra settings for the experience service only (the agent-socket scenarios lift the
    /// per-socket message limit and cheapen Argon2, which they do not measure).
    pub experience_env: Vec<(String, String)>,
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
    /// Where the runtime keeps its SQL (the metrics target seeds it directly).
    pub runtime_database: RuntimeDatabase,
    runtime: Service,
    experience_service: Service,
    leftovers: Leftovers,
    janitor: Janitor,
    data_dir: TempDir,
}

impl Stack {
    /// Starts the runtime, then the experience service pointed at it, and waits until both
    /// answer `/health/ready`. What it creates outside its data directory is registered with
    /// `janitor` until [`Stack::stop`] has removed it.
    pub async fn start(spec: &StackSpec, janitor: &Janitor) -> Result<Self> {
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
        let runtime_database = RuntimeDatabase {
            settings: platform_sdk::settings::DatabaseSettings {
                url: match &spec.database {
                    Database::Postgres(url) => Some(url.clone()),
                    Database::Sqlite => None,
                },
                schema: schemas.first().cloned(),
                ..Default::default()
            },
            sqlite_file: data_dir.path.join("runtime").join("runtime.db"),
        };
        let mut experience_env = common("experience", &mut schemas);
        experience_env.extend([
            ("APP__JWT__SECRET".into(), random_secret()),
            ("APP__SECURITY__REFRESH_SECRET".into(), random_secret()),
            ("APP__AUTH__LOGIN_MAX_FAILURES".into(), "1000000".into()),
            ("APP__AUTH__IP_MAX_ATTEMPTS".into(), "100000000".into()),
        ]);
        experience_env.extend(spec.experience_env.iter().cloned());
        let leftovers = Leftovers {
            id: id.clone(),
            postgres: match &spec.database {
                Database::Postgres(url) => Some((url.clone(), schemas)),
                Database::Sqlite => None,
            },
            redis: spec.redis_url.clone().map(|url| (url, key_prefix.clone())),
        };
        janitor.register(leftovers.clone());
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
                runtime_database,
                runtime,
                experience_service,
                leftovers,
                janitor: janitor.clone(),
                data_dir,
            }),
            Err(error) => {
                // Children were killed on drop; remove what they may have created.
                leftovers.remove().await;
                janitor.forget(&leftovers.id);
                Err(error)
            }
        }
    }

    /// The last log lines of both services (for diagnosing a failed scenario).
    pub fn log_tail(&self) -> String {
        format!(
            "--- runtime-service (last lines) ---\n{}\n--- experience-service (last lines) ---\n{}",
            self.runtime.log_text(),
            self.experience_service.log_text()
        )
    }

    /// Resident memory of both services right now (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss(&self) -> Result<Rss> {
        Ok(Rss {
            experience: self.experience_service.rss_bytes()?,
            runtime: self.runtime.rss_bytes()?,
        })
    }

    /// Kills both services and removes what the stack created (data directory, Postgres
    /// schemas, Redis keys). Cleanup failures are warnings.
    pub async fn stop(mut self) {
        self.experience_service.kill().await;
        self.runtime.kill().await;
        self.leftovers.remove().await;
        self.janitor.forget(&self.leftovers.id);
        drop(self.data_dir);
    }
}

/// The runtime's database, as its settings name it.
#[derive(Debug, Clone)]
pub struct RuntimeDatabase {
    /// URL and schema (no URL: the SQLite file below).
    pub settings: platform_sdk::settings::DatabaseSettings,
    /// The runtime's default SQLite file.
    pub sqlite_file: PathBuf,
}

impl RuntimeDatabase {
    /// A pool on it, beside the running runtime.
    pub async fn pool(&self) -> Result<sqlx::AnyPool> {
        Ok(platform_sdk::db::connect(&self.settings, &self.sqlite_file).await?)
    }
}

/// Resident set sizes of the two services, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rss {
    /// experience-service.
    pub experience: u64,
    /// runtime-service.
    pub runtime: u64,
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
