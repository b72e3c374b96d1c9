//! Typed settings of the experience plane: defaults here, then the optional YAML file, then
//! `APP__SECTION__KEY` environment variables (see `platform_sdk::settings`).

use std::path::PathBuf;

use platform_sdk::settings::{
    DatabaseSettings, Environment, LogSettings, RedisSettings, ServerSettings, StateSettings,
};
use secrecy::SecretString;
use serde::Deserialize;

/// All settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `local` or `production`.
    pub environment: Environment,
    /// HTTP listener (default 127.0.0.1:8001).
    pub server: ServerSettings,
    /// SQL database (default: SQLite in the data directory).
    pub database: DatabaseSettings,
    /// State store (throttle counters).
    pub state: StateSettings,
    /// Redis, when the state backend is `redis`.
    pub redis: RedisSettings,
    /// Logging.
    pub log: LogSettings,
    /// Where local files (SQLite, generated secrets) live.
    pub data_dir: PathBuf,
    /// How to reach the runtime plane.
    pub runtime: RuntimeSettings,
    /// Access-token signing.
    pub jwt: JwtSettings,
    /// Service and refresh secrets.
    pub security: SecuritySettings,
    /// Passwords, throttling and refresh-token lifetimes.
    pub auth: AuthSettings,
    /// The agent WebSocket.
    pub ws: WsSettings,
    /// Tenants: invitations and API keys.
    pub tenants: TenantsSettings,
    /// The live event stream (`GET /api/events/stream`).
    pub events: EventsSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Local,
            server: ServerSettings::with_port(8001),
            database: DatabaseSettings::default(),
            state: StateSettings::default(),
            redis: RedisSettings::default(),
            log: LogSettings::default(),
            data_dir: PathBuf::from("data"),
            runtime: RuntimeSettings::default(),
            jwt: JwtSettings::default(),
            security: SecuritySettings::default(),
            auth: AuthSettings::default(),
            ws: WsSettings::default(),
            events: EventsSettings::default(),
            tenants: TenantsSettings::default(),
        }
    }
}

/// The runtime plane.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RuntimeSettings {
    /// Base URL; several runtime replicas separated by commas (calls go round robin and move
    /// to the next replica when one cannot be reached).
    pub url: String,
    /// Timeout of every call, milliseconds.
    pub timeout_ms: u64,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8000".into(),
            timeout_ms: 2_000,
        }
    }
}

/// Access tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct JwtSettings {
    /// Active HS256 secret (≥32 bytes). Generated locally when absent.
    pub secret: Option<SecretString>,
    /// Its key id.
    pub kid: String,
    /// Older keys that still verify: `kid:secret,kid:secret`.
    pub previous_keys: Option<SecretString>,
    /// `iss` claim.
    pub issuer: String,
    /// `aud` claim.
    pub audience: String,
    /// Access-token lifetime, seconds (default 15 min).
    pub access_ttl_secs: i64,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            secret: None,
            kid: "jwt-1".into(),
            previous_keys: None,
            issuer: "symphainy-experience".into(),
            audience: "symphainy".into(),
            access_ttl_secs: 15 * 60,
        }
    }
}

/// Secrets shared with the runtime, and the refresh-token derivation key.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SecuritySettings {
    /// The service secret shared with the runtime (≥32 bytes). Generated locally when absent.
    pub service_secret: Option<SecretString>,
    /// Its key id.
    pub service_kid: String,
    /// Older service keys: `kid:secret,...`.
    pub previous_service_keys: Option<SecretString>,
    /// Key from which a rotated refresh token's child is derived (≥32 bytes).
    pub refresh_secret: Option<SecretString>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            service_secret: None,
            service_kid: "svc-1".into(),
            previous_service_keys: None,
            refresh_secret: None,
        }
    }
}

/// Passwords, throttling and refresh tokens. The defaults are the strict production values;
/// tests and benchmarks may lift the limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Argon2id memory, KiB (OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// Argon2id passes (OWASP: 2).
    pub argon2_iterations: u32,
    /// Argon2id lanes (OWASP: 1).
    pub argon2_parallelism: u32,
    /// Hashes computed at once (default: one per core).
    pub max_concurrent_hashes: Option<usize>,
    /// Hash requests allowed to wait for a slot before `503 busy`.
    pub max_queued_hashes: usize,
    /// Failed logins per account per window before `429`.
    pub login_max_failures: i64,
    /// Window of the per-account counter, seconds.
    pub login_failure_window_secs: u64,
    /// Login/register attempts per client address per window before `429`.
    pub ip_max_attempts: i64,
    /// Window of the per-address counter, seconds.
    pub ip_window_secs: u64,
    /// A refresh token unused this long expires, seconds (7 days).
    pub refresh_idle_secs: i64,
    /// A refresh family ends this long after login whatever happens, seconds (30 days).
    pub refresh_absolute_secs: i64,
    /// A just-rotated token presented again within this many seconds gets the same child.
    pub refresh_grace_secs: i64,
    /// How often each replica reads new session revocations, milliseconds.
    pub revocation_poll_ms: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_concurrent_hashes: None,
            max_queued_hashes: 512,
            login_max_failures: 5,
            login_failure_window_secs: 15 * 60,
            ip_max_attempts: 30,
            ip_window_secs: 60,
            refresh_idle_secs: 7 * 24 * 3600,
            refresh_absolute_secs: 30 * 24 * 3600,
            refresh_grace_secs: 10,
            revocation_poll_ms: 250,
        }
    }
}

/// The agent WebSocket (`/api/runtime/agent`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WsSettings {
    /// Largest accepted client message, bytes (bigger ones get an `error` frame).
    pub max_message_bytes: usize,
    /// Events buffered for a client.
    pub send_queue: usize,
    /// A client that leaves the buffer full this long is closed as a slow consumer (1013), ms.
    pub slow_consumer_ms: u64,
    /// Seconds between server pings.
    pub heartbeat_secs: u64,
    /// A socket silent this long is closed, seconds.
    pub idle_timeout_secs: u64,
    /// Client messages per second allowed (sustained).
    pub messages_per_sec: f64,
    /// Burst of client messages allowed.
    pub message_burst: f64,
    /// A frame above this many bytes closes the socket with 1009; between `max_message_bytes`
    /// and this it gets an `error` frame and the socket stays open.
    pub max_frame_hard_bytes: usize,
    /// Open sockets allowed on one session per replica (over it: `429` before the upgrade).
    pub max_sockets_per_session: usize,
    /// Open sockets allowed per user (or anonymous session) per replica.
    pub max_sockets_per_user: usize,
    /// Agent turns per second per user, shared by all their sockets on a replica (sustained).
    pub user_turns_per_sec: f64,
    /// Burst of agent turns per user.
    pub user_turn_burst: f64,
    /// How long a turn's submit is retried (same idempotency key) for a definite answer
    /// before the client is told the outcome is unknown, ms.
    pub submit_deadline_ms: u64,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            send_queue: 256,
            slow_consumer_ms: 5_000,
            heartbeat_secs: 20,
            idle_timeout_secs: 120,
            messages_per_sec: 5.0,
            message_burst: 20.0,
            max_frame_hard_bytes: 1024 * 1024,
            max_sockets_per_session: 8,
            max_sockets_per_user: 32,
            user_turns_per_sec: 5.0,
            user_turn_burst: 20.0,
            submit_deadline_ms: 10_000,
        }
    }
}

/// Tenants, invitations and API keys (SPEC §5).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TenantsSettings {
    /// How long an invitation token stays valid, seconds (7 days).
    pub invitation_ttl_secs: i64,
    /// Requests per second one API key may make on one replica (sustained).
    pub api_key_requests_per_sec: f64,
    /// Burst of requests one API key may make.
    pub api_key_burst: f64,
}

impl Default for TenantsSettings {
    fn default() -> Self {
        Self {
            invitation_ttl_secs: 7 * 24 * 3600,
            api_key_requests_per_sec: 10.0,
            api_key_burst: 50.0,
        }
    }
}

impl Settings {
    /// Loads settings from the YAML file (if `APP_CONFIG_FILE` is set) and the environment.
    pub fn load() -> anyhow::Result<Self> {
        platform_sdk::settings::load()
            .map_err(|e| anyhow::anyhow!("invalid experience-service configuration: {e}"))
    }
}

/// The live event stream (`GET /api/events/stream`, SPEC §13, docs/adr/0025).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EventsSettings {
    /// Milliseconds between `: keep-alive` comments (default 15 000).
    pub heartbeat_ms: u64,
    /// Frames queued for one client; a client whose queue is full is dropped (it resumes with
    /// `Last-Event-ID`). Default 64.
    pub client_queue: usize,
}

impl Default for EventsSettings {
    fn default() -> Self {
        Self {
            heartbeat_ms: 15_000,
            client_queue: 64,
        }
    }
}
