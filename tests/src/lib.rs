//! Harness for the cross-service end-to-end tests: starts the real `runtime-service` and
//! `experience-service` binaries as child processes on port 0, each with its own SQLite files
//! (embedded backend) or its own PostgreSQL schema and Redis key prefix (production backend),
//! and finds their ports from the `listening` log line.
//!
//! The binaries are taken from the cargo target directory next to the test executable; build
//! them first (`cargo build --bins`, which `make test` does).
//!
//! Production-backend tests live in modules named `production` so that `make test` can skip them
//! (and say so) on a machine without PostgreSQL/Redis; under `CI=true` nothing is skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod attest;
pub mod fake_llm;
pub mod fake_media;
pub mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use platform_sdk::security_guard::KeyRing;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Which storage set-up the services run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files + in-memory state store.
    Embedded,
    /// PostgreSQL (own schema) + Redis (own key prefix).
    Production,
}

/// Runs each named async test fn (taking a [`Backend`]) once per backend, in modules
/// `embedded` and `production`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Embedded).await
                }
            )*
        }
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Production).await
                }
            )*
        }
    };
}

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The Redis server tests use.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --bins` first (make test does)",
        path.display()
    );
    path
}

fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A running service process.
pub struct Service {
    child: Child,
    /// Its address.
    pub addr: SocketAddr,
    /// A runtime's replica id (the owner id of its execution leases), from its start-up log.
    pub replica_id: Option<String>,
    name: &'static str,
    env: Vec<(String, String)>,
}

impl Service {
    /// Starts a binary with the environment and waits for its `listening` line.
    pub async fn start(name: &'static str, env: Vec<(String, String)>) -> Self {
        let mut cmd = Command::new(bin(name));
        cmd.envs(env.iter().cloned())
            .env("APP__LOG__FORMAT", "json")
            .env(
                "APP__LOG__LEVEL",
                "warn,runtime_service=info,experience_service=info",
            )
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn service");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut replica_id = None;
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let field = |k: &str| {
                    v.get(k)
                        .or_else(|| v.get("fields").and_then(|f| f.get(k)))
                        .cloned()
                };
                if let Some(owner) = field("owner_id").and_then(|o| o.as_str().map(str::to_owned)) {
                    replica_id = Some(owner);
                }
                if field("message")
                    .and_then(|m| m.as_str().map(str::to_owned))
                    .as_deref()
                    == Some("listening")
                {
                    let addr = field("addr")
                        .and_then(|a| a.as_str().map(str::to_owned))
                        .expect("addr field");
                    return addr.parse::<SocketAddr>().expect("socket address");
                }
            }
            panic!("{name} exited before listening");
        })
        .await
        .unwrap_or_else(|_| panic!("{name} did not start within 60 s"));
        // Keep draining so the child never blocks on a full pipe (E2E_LOGS=1 shows the lines).
        let show = std::env::var_os("E2E_LOGS").is_some();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if show {
                    eprintln!("[{name}] {line}");
                }
            }
        });
        Self {
            child,
            addr,
            replica_id,
            name,
            env,
        }
    }

    /// Starts a binary that is expected to refuse to start: waits (up to 60 s) for it to exit and
    /// returns its exit status and everything it wrote (stdout and stderr).
    pub async fn start_expecting_exit(
        name: &'static str,
        env: Vec<(String, String)>,
    ) -> (std::process::ExitStatus, String) {
        let mut cmd = Command::new(bin(name));
        cmd.envs(env)
            .env("APP__LOG__FORMAT", "json")
            .env("APP__LOG__LEVEL", "warn")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("spawn service");
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{name} kept running; expected it to refuse to start"))
            .expect("wait for the service");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status, text)
    }

    /// Base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends SIGTERM (graceful shutdown) and waits for the process to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
        }
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("exit within 30 s after SIGTERM")
            .expect("exit status")
    }

    /// Sends a signal (`STOP`, `CONT`, ...) to the process.
    pub async fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("service still running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .await
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Freezes the process (SIGSTOP): it keeps its port but answers nothing until [`Self::resume`].
    pub async fn pause(&self) {
        self.signal("STOP").await;
    }

    /// Lets a paused process run again (SIGCONT).
    pub async fn resume(&self) {
        self.signal("CONT").await;
    }

    /// Kills the process and waits for it to exit.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts the same binary again with the same environment on the same port.
    pub async fn restart(&mut self) {
        self.kill().await;
        let mut env = self.env.clone();
        env.retain(|(k, _)| k != "APP__SERVER__PORT");
        env.push(("APP__SERVER__PORT".into(), self.addr.port().to_string()));
        *self = Service::start(self.name, env).await;
    }
}

/// Extra settings for one stack.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra experience environment (`APP__…`).
    pub experience_env: Vec<(String, String)>,
    /// Point experience at this runtime URL instead of the started runtime, and do not start one.
    pub runtime_url: Option<String>,
    /// Extra runtime environment (`APP__…`).
    pub runtime_env: Vec<(String, String)>,
}

/// Both services of one test, with their own storage.
pub struct Stack {
    /// The runtime plane (absent when `Options::runtime_url` was given).
    pub runtime: Option<Service>,
    /// The experience plane.
    pub experience: Service,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// Which backend.
    pub backend: Backend,
    /// The JWT secret experience signs with (tests forge tokens with it).
    pub jwt_secret: String,
    /// The service secret (tests sign intents and service tokens with it).
    pub service_secret: String,
    /// The temp dir holding this stack's files.
    pub dir: PathBuf,
    experience_env: Vec<(String, String)>,
    runtime_env: Vec<(String, String)>,
}

fn storage_env(
    backend: Backend,
    dir: &std::path::Path,
    id: &str,
    service: &str,
) -> Vec<(String, String)> {
    let mut env = vec![(
        "APP__DATA_DIR".to_owned(),
        dir.join(service).display().to_string(),
    )];
    if backend == Backend::Production {
        env.extend([
            ("APP__DATABASE__URL".to_owned(), postgres_url()),
            (
                "APP__DATABASE__SCHEMA".to_owned(),
                format!("t_{id}_{}", &service[..3]),
            ),
            ("APP__DATABASE__MAX_CONNECTIONS".to_owned(), "8".to_owned()),
            ("APP__STATE__BACKEND".to_owned(), "redis".to_owned()),
            ("APP__REDIS__URL".to_owned(), redis_url()),
            (
                "APP__STATE__KEY_PREFIX".to_owned(),
                format!("test-{id}-{service}:"),
            ),
        ]);
    }
    env
}

impl Stack {
    /// Starts both services with default test settings.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Options::default()).await
    }

    /// Starts both services with extra settings.
    pub async fn start_with(backend: Backend, options: Options) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let dir = std::env::temp_dir().join(format!("symphainy-e2e-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        let service_secret = random_secret();
        let jwt_secret = random_secret();
        let common = vec![
            ("APP__SERVER__PORT".to_owned(), "0".to_owned()),
            ("APP__SERVER__WORKERS".to_owned(), "2".to_owned()),
            (
                "APP__SECURITY__SERVICE_SECRET".to_owned(),
                service_secret.clone(),
            ),
        ];
        let mut runtime_env = common.clone();
        runtime_env.extend(storage_env(backend, &dir, &id, "runtime"));
        runtime_env.extend(options.runtime_env.iter().cloned());
        let runtime = match options.runtime_url {
            Some(_) => None,
            None => Some(Service::start("runtime-service", runtime_env.clone()).await),
        };
        let runtime_url = options
            .runtime_url
            .clone()
            .unwrap_or_else(|| runtime.as_ref().unwrap().url(""));
        let mut env = common;
        env.extend(storage_env(backend, &dir, &id, "experience"));
        env.extend([
            ("APP__RUNTIME__URL".to_owned(), runtime_url),
            ("APP__JWT__SECRET".to_owned(), jwt_secret.clone()),
            ("APP__SECURITY__REFRESH_SECRET".to_owned(), random_secret()),
            // Fast hashes in tests; the production defaults are exercised by `make bench`.
            ("APP__AUTH__ARGON2_MEMORY_KIB".to_owned(), "1024".to_owned()),
            ("APP__AUTH__ARGON2_ITERATIONS".to_owned(), "1".to_owned()),
            ("APP__AUTH__IP_MAX_ATTEMPTS".to_owned(), "10000".to_owned()),
        ]);
        env.extend(options.experience_env.iter().cloned());
        let experience = Service::start("experience-service", env.clone()).await;
        Self {
            runtime,
            experience,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            backend,
            jwt_secret,
            service_secret,
            dir,
            experience_env: env,
            runtime_env,
        }
    }

    /// Starts another experience replica sharing this stack's database, store and runtime.
    pub async fn another_experience(&self) -> Service {
        let mut env = self.experience_env.clone();
        env.retain(|(k, _)| k != "APP__SERVER__PORT");
        env.push(("APP__SERVER__PORT".into(), "0".into()));
        Service::start("experience-service", env).await
    }

    /// Starts another experience replica sharing this stack's database and store, calling these
    /// runtime replicas (a round-robin list, SPEC §17).
    pub async fn experience_for(&self, runtimes: &[&Service]) -> Service {
        let urls: Vec<String> = runtimes.iter().map(|r| r.url("")).collect();
        let env = with_env(&self.experience_env(), "APP__RUNTIME__URL", &urls.join(","));
        Service::start("experience-service", env).await
    }

    /// Starts another runtime replica sharing this stack's database and store (on port 0).
    pub async fn another_runtime(&self) -> Service {
        Service::start("runtime-service", self.runtime_env()).await
    }

    /// The environment the runtime was started with (port 0), to start variants of it.
    pub fn runtime_env(&self) -> Vec<(String, String)> {
        with_port_zero(&self.runtime_env)
    }

    /// The environment experience was started with (port 0), to start variants of it.
    pub fn experience_env(&self) -> Vec<(String, String)> {
        with_port_zero(&self.experience_env)
    }

    /// An experience URL.
    pub fn exp(&self, path: &str) -> String {
        self.experience.url(path)
    }

    /// A runtime URL.
    pub fn rt(&self, path: &str) -> String {
        self.runtime.as_ref().expect("runtime started").url(path)
    }

    /// The service key ring (to sign intents and service tokens as experience does).
    pub fn service_ring(&self) -> KeyRing {
        KeyRing::new(
            "svc-1",
            &SecretString::from(self.service_secret.clone()),
            None,
        )
        .unwrap()
    }

    /// The JWT key ring experience signs with.
    pub fn jwt_ring(&self) -> KeyRing {
        KeyRing::new("jwt-1", &SecretString::from(self.jwt_secret.clone()), None).unwrap()
    }

    /// Sends a JSON request and returns status, headers and body (`Value::Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, headers, body)
    }

    /// POST JSON to experience.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, b) = self
            .call(Method::POST, &self.exp(path), None, Some(body))
            .await;
        (s, b)
    }

    /// Sends `method path` to experience with a bearer token and an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (s, _, b) = self.call(method, &self.exp(path), Some(token), body).await;
        (s, b)
    }

    /// GET on experience with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let (s, _, b) = self
            .call(Method::GET, &self.exp(path), Some(token), None)
            .await;
        (s, b)
    }

    /// Registers a fresh user; returns (email, password, login response).
    pub async fn register(&self) -> (String, String, Value) {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        let (status, body) = self
            .post(
                "/api/auth/register",
                json!({"email": email, "password": password, "name": "Test User"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register: {body}");
        (email, password, body)
    }

    /// Logs in; returns the login response.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login: {body}");
        body
    }

    /// The runtime's database as a test sees it, and the prefix its tables need (`""` on
    /// SQLite, `"<schema>."` on PostgreSQL): for reading what the API does not show and for
    /// tampering with it.
    pub async fn runtime_db(&self) -> (sqlx::AnyPool, String) {
        sqlx::any::install_default_drivers();
        match self.backend {
            Backend::Embedded => {
                let file = self.dir.join("runtime").join("runtime.db");
                let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", file.display()))
                    .await
                    .unwrap();
                (pool, String::new())
            }
            Backend::Production => {
                let schema = self
                    .runtime_env()
                    .into_iter()
                    .find(|(k, _)| k == "APP__DATABASE__SCHEMA")
                    .unwrap()
                    .1;
                let pool = sqlx::AnyPool::connect(&postgres_url()).await.unwrap();
                (pool, format!("{schema}."))
            }
        }
    }

    /// Reads a session straight from the runtime with a service token.
    pub async fn runtime_session(&self, tenant_id: &str, session_id: &str) -> (StatusCode, Value) {
        let (token, _) = platform_sdk::security_guard::service::mint(&self.service_ring()).unwrap();
        let url = self.rt(&format!("/api/session/{session_id}?tenant_id={tenant_id}"));
        let (s, _, b) = self.call(Method::GET, &url, Some(&token), None).await;
        (s, b)
    }
}

fn with_port_zero(env: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<_> = env
        .iter()
        .filter(|(k, _)| k != "APP__SERVER__PORT")
        .cloned()
        .collect();
    env.push(("APP__SERVER__PORT".into(), "0".into()));
    env
}

/// `env` with `key` set to `value` (replaced if present).
pub fn with_env(env: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut env: Vec<_> = env.iter().filter(|(k, _)| k != key).cloned().collect();
    env.push((key.to_owned(), value.to_owned()));
    env
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A string field of a JSON value.
pub fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{key}` in {v}"))
        .to_owned()
}

/// Binds and releases a port, for a service that must be down.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
