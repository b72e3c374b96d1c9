//! Agent wrappers on the wire (SPEC §8): what a client sends to define one, and what both planes
//! answer with. The runtime validates and stores them; the experience gateway only forwards, and
//! documents these schemas in its `/openapi.json`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Reads a JSON integer, including one written with a fraction of zero (`2150.0` is the integer
/// 2150 to JSON Schema, so it is accepted as one).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(n) = Option::<f64>::deserialize(d)? else {
        return Ok(None);
    };
    if n.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&n) {
        return Err(serde::de::Error::custom(format!(
            "expected a whole number 0..={}, got {n}",
            u32::MAX
        )));
    }
    Ok(Some(n as u32))
}

/// A model provider a wrapper can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The platform's offline builtin provider.
    Builtin,
    /// An OpenAI-compatible chat-completions server.
    Openai,
}

/// A wrapper's deployment state (SPEC §8): `draft → deploying → active | failed`,
/// `failed → deploying`, `active → paused → active`, `active | paused → retired`,
/// `retired → deploying`; deploying an `active` wrapper is a redeploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentStatus {
    /// Defined, never deployed.
    Draft,
    /// A deployment is checking it.
    Deploying,
    /// Serving turns.
    Active,
    /// The last deployment failed; not serving.
    Failed,
    /// Deployed but not serving turns until resumed.
    Paused,
    /// Withdrawn; can be deployed again.
    Retired,
}

impl DeploymentStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Deploying => "deploying",
            Self::Active => "active",
            Self::Failed => "failed",
            Self::Paused => "paused",
            Self::Retired => "retired",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "draft" => Self::Draft,
            "deploying" => Self::Deploying,
            "active" => Self::Active,
            "failed" => Self::Failed,
            "paused" => Self::Paused,
            "retired" => Self::Retired,
            _ => return None,
        })
    }
}

impl Provider {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Openai => "openai",
        }
    }
}

/// How a wrapper's agent runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrapperConfiguration {
    /// System prompt, 1..=32 KiB (not only white space).
    #[schema(min_length = 1, max_length = 32768, pattern = r"\S")]
    pub system_prompt: String,
    /// `builtin` or `openai`; one of the wrapper's `supported_providers`.
    pub provider: Provider,
    /// Model name, 1..=100 characters (not only white space).
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub model: String,
    /// Sampling temperature, 0..=2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
    /// Answer length cap, 1..=32768 tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_number"
    )]
    #[schema(minimum = 1, maximum = 32768)]
    pub max_output_tokens: Option<u32>,
    /// Actions of this agent that pause for a human's approval (at most 20, each 1..=64
    /// characters).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub approval_actions: Vec<String>,
    /// `openai` only: an OpenAI-compatible server (`http://` or `https://`); the platform's
    /// configured model server when absent. The platform's API key is never sent to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048, pattern = r"^https?://\S+$")]
    pub base_url: Option<String>,
}

/// `POST /api/agents/wrappers` and `PUT /api/agents/wrappers/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrapperInput {
    /// Name, 1..=100 characters (not only white space).
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// Up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// Semantic version (`1.0.0` when absent on create; bumped by the runtime on update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$")]
    pub version: Option<String>,
    /// Providers this agent may run on; `configuration.provider` must be one of them.
    #[schema(min_items = 1, max_items = 2)]
    pub supported_providers: Vec<Provider>,
    /// How it runs.
    pub configuration: WrapperConfiguration,
}

/// A stored wrapper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WrapperRecord {
    /// `wrp_…`; also its agent id on the socket.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The user who created it.
    pub created_by: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Semantic version of the current definition.
    pub version: String,
    /// Providers it may run on.
    pub supported_providers: Vec<Provider>,
    /// The current definition (what the next deploy serves).
    pub configuration: WrapperConfiguration,
    /// The deployment state.
    pub deployment_status: DeploymentStatus,
    /// The latest deployment (`dep_…`), if any.
    pub deployment_id: Option<String>,
    /// The version the catalog serves, if deployed.
    pub deployed_version: Option<String>,
    /// Why the latest deployment failed.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// `GET /api/agents/wrappers`: one page (SPEC §7 list convention).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WrapperList {
    /// Newest first.
    pub items: Vec<WrapperRecord>,
    /// The `cursor` of the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `202` answer of `POST /api/agents/wrappers/{id}/deploy`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeploymentAccepted {
    /// `dep_…`.
    pub deployment_id: String,
    /// `deploying`.
    pub status: DeploymentStatus,
}

/// The last health check of a deployment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeploymentHealth {
    /// Whether it passed; `null` before the first check.
    pub ok: Option<bool>,
    /// RFC 3339; `null` before the first check.
    pub checked_at: Option<String>,
    /// Why it failed.
    pub last_error: Option<String>,
}

/// `GET /api/agents/wrappers/{id}/status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WrapperStatus {
    /// The deployment state.
    pub deployment_status: DeploymentStatus,
    /// The version the catalog serves; `null` when none.
    pub active_version: Option<String>,
    /// When the served version was deployed (RFC 3339).
    pub deployed_at: Option<String>,
    /// The latest deployment (`dep_…`).
    pub deployment_id: Option<String>,
    /// The last health check.
    pub health: DeploymentHealth,
    /// Turns run on this agent (executions, all time).
    pub invocations: i64,
}

/// A wrapper's definition as the catalog serves it (stored with a deployment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedDefinition {
    /// Name at deploy time.
    pub name: String,
    /// The configuration at deploy time.
    pub configuration: WrapperConfiguration,
}

/// The intent actions of the wrapper endpoints (signed by the experience gateway's rows,
/// verified by the runtime's handlers).
pub mod actions {
    /// `POST /api/agents/wrappers`.
    pub const CREATE: &str = "agents.wrappers.create";
    /// `PUT /api/agents/wrappers/{id}`.
    pub const UPDATE: &str = "agents.wrappers.update";
    /// `DELETE /api/agents/wrappers/{id}`.
    pub const DELETE: &str = "agents.wrappers.delete";
    /// `POST /api/agents/wrappers/{id}/deploy`.
    pub const DEPLOY: &str = "agents.wrappers.deploy";
    /// `POST /api/agents/wrappers/{id}/pause`.
    pub const PAUSE: &str = "agents.wrappers.pause";
    /// `POST /api/agents/wrappers/{id}/resume`.
    pub const RESUME: &str = "agents.wrappers.resume";
    /// `POST /api/agents/wrappers/{id}/retire`.
    pub const RETIRE: &str = "agents.wrappers.retire";
}
