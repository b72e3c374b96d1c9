//! Settings sections both services share, and the rule for secrets.
//!
//! Each service composes these into its own `Settings` (defaults in code → optional YAML file →
//! `APP__SECTION__KEY` environment variables). Secrets are `SecretString` and never printed.
//! In the `local` environment a missing secret is generated once and kept under the data
//! directory (so restarts keep tokens valid and both services on one machine share the service
//! secret); in `production` a missing secret stops start-up with a message naming the key.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::state_surface::StateBackend;
use crate::telemetry::LogFormat;

/// Where the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer machine: generated secrets allowed, readable logs.
    #[default]
    Local,
    /// Production: every secret explicit, JSON logs.
    Production,
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Bind address.
    pub host: String,
    /// Port (0 picks a free one; the `listening` log line tells which).
    pub port: u16,
    /// Largest accepted request body, bytes.
    pub body_limit_bytes: usize,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Seconds in-flight requests get to finish on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Seconds between SIGTERM and the start of the shutdown during which `/health/ready`
    /// answers 503 `draining` while everything is still served, so a load balancer stops sending
    /// new work first (default 0: stop at once).
    pub drain_secs: u64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Kernel send buffer per accepted connection, bytes (default: the OS's auto-tuning). A
    /// small value bounds the memory a stalled client can pin and makes a slow consumer visible
    /// sooner.
    pub socket_send_buffer_bytes: Option<usize>,
}

impl ServerSettings {
    /// Defaults for a service listening on `port`.
    pub fn with_port(port: u16) -> Self {
        Self {
            host: "127.0.0.1".into(),
            port,
            body_limit_bytes: 64 * 1024,
            workers: None,
            shutdown_timeout_secs: 30,
            drain_secs: 0,
            trust_forwarded_for: false,
            socket_send_buffer_bytes: None,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self::with_port(0)
    }
}

/// The SQL database.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; default: a SQLite file in the data directory.
    pub url: Option<String>,
    /// PostgreSQL schema to use (created if missing); lets several deployments or test runs share
    /// one database.
    pub schema: Option<String>,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection, milliseconds.
    pub acquire_timeout_ms: u64,
    /// PostgreSQL `synchronous_commit`. `false` lets a commit return before its WAL record is
    /// flushed: far more commits per second, at the price of the last few hundred milliseconds of
    /// commits if PostgreSQL itself (not the service) crashes. Never corrupts data.
    pub synchronous_commit: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            schema: None,
            max_connections: 16,
            acquire_timeout_ms: 3_000,
            synchronous_commit: true,
        }
    }
}

/// The state store.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StateSettings {
    /// `memory` (default) or `redis`.
    pub backend: StateBackend,
    /// Prefix put before every key and channel.
    pub key_prefix: String,
}

impl Default for StateSettings {
    fn default() -> Self {
        Self {
            backend: StateBackend::Memory,
            key_prefix: "symphainy:".into(),
        }
    }
}

/// Redis connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    /// `redis://host:port/db`.
    pub url: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `json` or `pretty`; default: pretty locally, json in production.
    pub format: Option<LogFormat>,
    /// Filter directive.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: None,
            level: "info".into(),
        }
    }
}

impl LogSettings {
    /// The format to use in an environment.
    pub fn effective_format(&self, env: Environment) -> LogFormat {
        self.format.unwrap_or(match env {
            Environment::Local => LogFormat::Pretty,
            Environment::Production => LogFormat::Json,
        })
    }
}

/// Why a secret could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Production requires the secret to be configured.
    #[error("setting `{0}` is required in production (set the environment variable {1})")]
    Missing(String, String),
    /// The generated-secret file could not be read or written.
    #[error("could not read or create the secret file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Returns the configured secret, or (locally) the one kept in `data_dir/secrets/<name>`,
/// generating it on first use. `key` is the setting's dotted name, for the error message.
pub fn resolve_secret(
    configured: Option<SecretString>,
    env: Environment,
    data_dir: &Path,
    key: &str,
    name: &str,
) -> Result<SecretString, SecretError> {
    if let Some(secret) = configured {
        return Ok(secret);
    }
    if env == Environment::Production {
        let var = format!("APP__{}", key.to_uppercase().replace('.', "__"));
        return Err(SecretError::Missing(key.to_owned(), var));
    }
    let dir = data_dir.join("secrets");
    let path = dir.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| SecretError::Io(dir.clone(), e))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            let secret = crate::security_guard::keys::generate_secret();
            file.write_all(secret.as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(|e| SecretError::Io(path.clone(), e))?;
            Ok(SecretString::from(secret))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another process may be writing it right now; a short file is not yet complete.
            for _ in 0..50 {
                let text =
                    std::fs::read_to_string(&path).map_err(|e| SecretError::Io(path.clone(), e))?;
                if text.trim().len() >= crate::security_guard::keys::MIN_SECRET_LEN {
                    return Ok(SecretString::from(text.trim().to_owned()));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(SecretError::Io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "secret file is too short"),
            ))
        }
        Err(e) => Err(SecretError::Io(path, e)),
    }
}

/// Loads a service's settings: defaults (the type's `Default`), then the YAML file named by
/// `APP_CONFIG_FILE` if set, then `APP__SECTION__KEY` variables.
pub fn load<T: serde::de::DeserializeOwned>() -> Result<T, config::ConfigError> {
    let mut builder = config::Config::builder();
    if let Ok(file) = std::env::var("APP_CONFIG_FILE") {
        builder = builder.add_source(config::File::with_name(&file).required(true));
    }
    builder
        .add_source(
            config::Environment::with_prefix("APP")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()?
        .try_deserialize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    #[test]
    fn local_secrets_are_generated_once_and_production_ones_are_required() {
        let dir = std::env::temp_dir().join(format!("sdk-secret-{}", uuid::Uuid::new_v4()));
        let a = resolve_secret(None, Environment::Local, &dir, "jwt.secret", "jwt").unwrap();
        let b = resolve_secret(None, Environment::Local, &dir, "jwt.secret", "jwt").unwrap();
        assert_eq!(a.expose_secret(), b.expose_secret());
        let err =
            resolve_secret(None, Environment::Production, &dir, "jwt.secret", "jwt").unwrap_err();
        assert!(err.to_string().contains("APP__JWT__SECRET"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
