//! Multimodal requests on the wire (SPEC §15): what a client sends to ask for speech-to-text,
//! text-to-speech or an image analysis, and what both planes answer with. The runtime validates,
//! stores and runs them; the experience gateway only forwards, and documents these schemas.
//!
//! An input artifact travels once, base64 in the create body; every answer refers to it by
//! `{bytes, sha256, content_type}` and never carries its data.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Intent actions of the multimodal endpoints.
pub mod actions {
    /// Create a request (`POST /v1/multimodal/requests`).
    pub const CREATE: &str = "multimodal.create";
    /// Run (or retry) a request.
    pub const EXECUTE: &str = "multimodal.execute";
    /// Cancel a request.
    pub const CANCEL: &str = "multimodal.cancel";
    /// Replace the tenant's multimodal policy.
    pub const UPDATE_POLICY: &str = "multimodal.policy.update";
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Audio in, text (and measurements) out.
    SpeechToText,
    /// Text in, audio out.
    TextToSpeech,
    /// Image in, a description (and measurements) out.
    VisionAnalysis,
}

impl Modality {
    /// Every modality, in the documented order.
    pub const ALL: [Modality; 3] = [Self::SpeechToText, Self::TextToSpeech, Self::VisionAnalysis];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SpeechToText => "speech_to_text",
            Self::TextToSpeech => "text_to_speech",
            Self::VisionAnalysis => "vision_analysis",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// A request's state: `pending → processing → completed | failed`, `pending | processing →
/// cancelled`, `failed → processing` (a retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Created, not run yet.
    Pending,
    /// Running.
    Processing,
    /// Finished with a result.
    Completed,
    /// The run failed (or timed out); it can be retried.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl RequestState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Processing,
            Self::Completed,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// The body of `POST /v1/multimodal/requests`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MultimodalRequestInput {
    /// What is asked for.
    pub modality: Modality,
    /// The text to speak (`text_to_speech`, required) or a prompt (the other modalities).
    #[serde(default)]
    pub input_text: Option<String>,
    /// The input artifact, standard base64 with padding (`speech_to_text`: audio,
    /// `vision_analysis`: an image; required for both).
    #[serde(default)]
    pub input_artifact_base64: Option<String>,
    /// The artifact's media type (default: sniffed from its bytes).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub content_type: Option<String>,
    /// How long a run may take, seconds (default 60; at most the policy's
    /// `max_timeout_seconds`); a run that takes longer fails with "timed out after N s".
    #[serde(default)]
    #[schema(minimum = 1)]
    pub requested_timeout_seconds: Option<i64>,
    /// Run at once (default true); otherwise the request waits, `pending`, for `…/execute`.
    #[serde(default)]
    pub execute_now: Option<bool>,
}

/// A stored artifact, by reference (its data is never echoed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArtifactRef {
    /// Its size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of its bytes (artifacts are stored once per tenant and content).
    pub sha256: String,
    /// Its media type.
    pub content_type: String,
}

/// A produced artifact, with where to download it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutputArtifact {
    /// Its size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// Its media type.
    pub content_type: String,
    /// `GET` this (same credentials) for the bytes.
    pub download_url: String,
}

/// A multimodal request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MultimodalRequest {
    /// `mmreq_…`.
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// The user who created it.
    pub requested_by: String,
    /// What is asked for.
    pub modality: Modality,
    /// The input text, if any.
    pub input_text: Option<String>,
    /// The input artifact, by reference.
    pub input_artifact: Option<ArtifactRef>,
    /// Where it is in its lifecycle.
    pub state: RequestState,
    /// The latest run's result (`mmres_…`), once run.
    pub result_id: Option<String>,
    /// Why the latest run failed (or was cancelled).
    pub error_message: Option<String>,
    /// The enforced time limit of a run, seconds.
    pub requested_timeout_seconds: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A page of requests, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MultimodalRequestList {
    /// The requests.
    pub items: Vec<MultimodalRequest>,
    /// The cursor of the next page, if any.
    pub next_cursor: Option<String>,
}

/// The result of a request's latest run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MultimodalResult {
    /// `mmres_…`.
    pub id: String,
    /// The request.
    pub request_id: String,
    /// The run's state (`processing`, `completed`, `failed`, `cancelled`).
    pub state: RequestState,
    /// Text produced (a transcript, a description, or what the builtin adapter could tell).
    pub output_text: Option<String>,
    /// An artifact produced (text-to-speech audio).
    pub output_artifact: Option<OutputArtifact>,
    /// Measurements and provider details.
    #[schema(value_type = Object)]
    pub output_data: serde_json::Value,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, once finished.
    pub completed_at: Option<String>,
}

/// A tenant's multimodal policy (the defaults until an admin replaces it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MultimodalPolicy {
    /// Longest `input_text`, characters (default 5000).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_text_chars: u32,
    /// Largest decoded input artifact, bytes (default 5 000 000, which is also the most).
    #[schema(minimum = 1, maximum = 5_000_000)]
    pub max_artifact_bytes: u64,
    /// Largest `requested_timeout_seconds` (default 300).
    #[schema(minimum = 1, maximum = 3600)]
    pub max_timeout_seconds: u32,
    /// Modalities the tenant may request (default all three).
    pub allowed_modalities: Vec<Modality>,
}

impl Default for MultimodalPolicy {
    fn default() -> Self {
        Self {
            max_text_chars: 5000,
            max_artifact_bytes: 5_000_000,
            max_timeout_seconds: 300,
            allowed_modalities: Modality::ALL.to_vec(),
        }
    }
}

/// The body of `POST /v1/multimodal/requests/{id}/cancel` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CancelInput {
    /// Why; kept as the request's `error_message` (default "cancelled by the user").
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}
