//! The adapters that do a run's work (SPEC §15), chosen by the runtime settings
//! (`multimodal.provider`, docs/adr/0022-multimodal.md):
//!
//! - [`builtin`]: offline and honest. It reads the real image ([`builtin`]) or WAV
//!   ([`speech`]) and reports what it measured, and renders text as a real WAV of tones; it never
//!   pretends to understand speech or images.
//! - [`openai`]: any OpenAI-compatible server (`/v1/audio/transcriptions`, `/v1/audio/speech`,
//!   `/v1/chat/completions` with an image part).
//!
//! An adapter answers an [`Output`] or an [`AdapterError`] whose text becomes the request's
//! `error_message`; the time limit and cancellation are the caller's (`super::run`).

pub mod builtin;
pub mod openai;
pub mod speech;

use platform_sdk::multimodal_wire::Modality;

/// What a run works on.
#[derive(Debug, Clone)]
pub struct Input {
    /// What is asked for.
    pub modality: Modality,
    /// The input text (text-to-speech) or prompt.
    pub text: Option<String>,
    /// The input artifact and its media type.
    pub artifact: Option<(Vec<u8>, String)>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// Text (a transcript, a description, or what the builtin adapter could tell).
    pub text: Option<String>,
    /// An artifact and its media type (text-to-speech audio).
    pub artifact: Option<(Vec<u8>, String)>,
    /// Measurements and provider details.
    pub data: serde_json::Value,
}

/// Why a run failed, as its `error_message` says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AdapterError(pub String);

impl AdapterError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The configured adapter.
#[derive(Clone)]
pub enum Adapter {
    /// The offline builtin adapter.
    Builtin,
    /// An OpenAI-compatible server.
    OpenAi(openai::OpenAiMedia),
}

impl Adapter {
    /// Runs `input` to its output.
    pub async fn run(&self, input: Input) -> Result<Output, AdapterError> {
        match self {
            Self::Builtin => builtin::run(input).await,
            Self::OpenAi(client) => client.run(input).await,
        }
    }

    /// `builtin` or `openai`, as results name it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::OpenAi(_) => "openai",
        }
    }
}

/// The artifact of an input, or the error of a modality that needs one.
pub(crate) fn artifact_of(input: &Input) -> Result<(&[u8], &str), AdapterError> {
    input
        .artifact
        .as_ref()
        .map(|(data, ct)| (data.as_slice(), ct.as_str()))
        .ok_or_else(|| AdapterError::new("this request has no input artifact"))
}

/// Rounds to `places` decimals (for figures meant to be read).
pub(crate) fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// The adapter the settings choose.
pub fn configured(
    settings: &crate::configuration::MultimodalSettings,
) -> Result<Adapter, AdapterError> {
    use crate::configuration::ProviderKind;
    Ok(match settings.provider {
        ProviderKind::Builtin => Adapter::Builtin,
        ProviderKind::Openai => {
            Adapter::OpenAi(openai::OpenAiMedia::new(openai::OpenAiMediaSettings {
                base_url: settings.base_url.clone(),
                api_key: settings.api_key.clone(),
                transcription_model: settings.transcription_model.clone(),
                speech_model: settings.speech_model.clone(),
                speech_voice: settings.speech_voice.clone(),
                vision_model: settings.vision_model.clone(),
                connect_timeout: std::time::Duration::from_secs(settings.connect_timeout_secs),
            })?)
        }
    })
}
