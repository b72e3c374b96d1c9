//! Typed settings of the runtime plane: defaults here, then the optional YAML file, then
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
    /// HTTP listener (default 127.0.0.1:8000).
    pub server: ServerSettings,
    /// SQL database (default: SQLite in the data directory).
    pub database: DatabaseSettings,
    /// State store backend.
    pub state: StateSettings,
    /// Redis, when the state backend is `redis`.
    pub redis: RedisSettings,
    /// Logging.
    pub log: LogSettings,
    /// Where local files (SQLite, generated secrets) live.
    pub data_dir: PathBuf,
    /// Service credentials.
    pub security: SecuritySettings,
    /// Session lifetimes.
    pub sessions: SessionSettings,
    /// Agents, safety hooks and the event log.
    pub agents: AgentSettings,
    /// The OpenAI-compatible model endpoint (provider `openai`).
    pub llm: LlmSettings,
    /// Execution ownership across replicas.
    pub executions: ExecutionSettings,
    /// Multimodal requests: which adapter runs them.
    pub multimodal: MultimodalSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Local,
            server: ServerSettings::with_port(8000),
            // The runtime's writes are the event log's hot path; see docs/adr/0007.
            database: DatabaseSettings {
                synchronous_commit: false,
                ..DatabaseSettings::default()
            },
            state: StateSettings::default(),
            redis: RedisSettings::default(),
            log: LogSettings::default(),
            data_dir: PathBuf::from("data"),
            security: SecuritySettings::default(),
            sessions: SessionSettings::default(),
            agents: AgentSettings::default(),
            llm: LlmSettings::default(),
            executions: ExecutionSettings::default(),
            multimodal: MultimodalSettings::default(),
        }
    }
}

/// The shared service secret (intents and service tokens).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SecuritySettings {
    /// The active service secret (≥32 bytes). Generated locally when absent.
    pub service_secret: Option<SecretString>,
    /// Its key id.
    pub service_kid: String,
    /// Older keys that still verify: `kid:secret,kid:secret`.
    pub previous_service_keys: Option<SecretString>,
    /// Clock-skew allowance for intent windows, milliseconds.
    pub clock_skew_ms: i64,
    /// The longest service-token lifetime accepted (`exp - iat` and `exp - now`), seconds;
    /// longer-lived tokens answer `401` (default 300; the SDK mints 60-second tokens).
    pub service_token_max_lifetime_secs: i64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            service_secret: None,
            service_kid: "svc-1".into(),
            previous_service_keys: None,
            clock_skew_ms: 5_000,
            service_token_max_lifetime_secs:
                platform_sdk::security_guard::service::DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECS,
        }
    }
}

/// Session lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SessionSettings {
    /// Sliding idle lifetime, seconds (default 24 h).
    pub idle_ttl_secs: u64,
    /// Absolute lifetime, seconds (default 30 days).
    pub absolute_ttl_secs: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_ttl_secs: 24 * 3600,
            absolute_ttl_secs: 30 * 24 * 3600,
        }
    }
}

/// Execution ownership across replicas (docs/adr/0013-replicas-and-leases.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ExecutionSettings {
    /// How long an execution's lease lasts, milliseconds (default 15 000). Its runtime renews it
    /// every third of that; any replica fails an unfinished execution whose lease has expired.
    pub lease_ms: u64,
}

impl Default for ExecutionSettings {
    fn default() -> Self {
        Self { lease_ms: 15_000 }
    }
}

/// Which model provider answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Deterministic, offline (default).
    Builtin,
    /// An OpenAI-compatible endpoint.
    Openai,
}

/// Agents, safety hooks and the event log.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AgentSettings {
    /// `builtin` (default) or `openai`.
    pub provider: ProviderKind,
    /// Comma-separated actions that pause for a human approval.
    pub approval_actions: String,
    /// How long an approval may take, seconds.
    pub approval_timeout_secs: u64,
    /// How long session events are kept for resume, seconds (default a day; under an hour breaks
    /// the resume guarantee and is only meant for tests).
    pub event_retention_secs: u64,
    /// The latency objective of an execution, ms (default 10 000): one that completes slower is
    /// evidence against the agent's reliability (SPEC §10, docs/adr/0020).
    pub latency_slo_ms: u64,
}

impl Default for AgentSettings {
    fn default() -> Self {
        Self {
            provider: ProviderKind::Builtin,
            approval_actions: "execute_workflow".into(),
            approval_timeout_secs: 300,
            event_retention_secs: 24 * 3600,
            latency_slo_ms: crate::governance::trust::evidence::DEFAULT_SLO_MS as u64,
        }
    }
}

/// The OpenAI-compatible endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LlmSettings {
    /// Base URL (`https://api.openai.com`, `http://127.0.0.1:11434`, ...).
    pub base_url: String,
    /// API key.
    pub api_key: Option<SecretString>,
    /// Model name.
    pub model: String,
    /// Longest silence inside a stream, seconds.
    pub stall_timeout_secs: u64,
    /// Connect / first-byte timeout, seconds.
    pub connect_timeout_secs: u64,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com".into(),
            api_key: None,
            model: "gpt-4o-mini".into(),
            stall_timeout_secs: 30,
            connect_timeout_secs: 10,
        }
    }
}

/// Multimodal requests (SPEC §15, docs/adr/0022-multimodal.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MultimodalSettings {
    /// `builtin` (default: offline, measures real media) or `openai`.
    pub provider: ProviderKind,
    /// Base URL of the OpenAI-compatible server (`/v1/...` is appended).
    pub base_url: String,
    /// Its API key.
    pub api_key: Option<SecretString>,
    /// Model of `/v1/audio/transcriptions`.
    pub transcription_model: String,
    /// Model of `/v1/audio/speech`.
    pub speech_model: String,
    /// Voice of `/v1/audio/speech`.
    pub speech_voice: String,
    /// Model of `/v1/chat/completions` with an image.
    pub vision_model: String,
    /// Connect timeout, seconds (a run's own limit is its `requested_timeout_seconds`).
    pub connect_timeout_secs: u64,
}

impl Default for MultimodalSettings {
    fn default() -> Self {
        Self {
            provider: ProviderKind::Builtin,
            base_url: "https://api.openai.com".into(),
            api_key: None,
            transcription_model: "whisper-1".into(),
            speech_model: "tts-1".into(),
            speech_voice: "alloy".into(),
            vision_model: "gpt-4o-mini".into(),
            connect_timeout_secs: 10,
        }
    }
}

impl Settings {
    /// Loads settings from the YAML file (if `APP_CONFIG_FILE` is set) and the environment.
    pub fn load() -> anyhow::Result<Self> {
        let settings: Self = platform_sdk::settings::load()
            .map_err(|e| anyhow::anyhow!("invalid runtime-service configuration: {e}"))?;
        let ttl = platform_sdk::security_guard::service::SERVICE_TOKEN_TTL_SECS;
        if settings.security.service_token_max_lifetime_secs < ttl {
            anyhow::bail!(
                "invalid runtime-service configuration: security.service_token_max_lifetime_secs \
                 must be at least {ttl} (the lifetime of the tokens the experience plane mints)"
            );
        }
        Ok(settings)
    }
}
