//! The `openai` adapter: any OpenAI-compatible server. Speech-to-text posts the audio as
//! `multipart/form-data` to `/v1/audio/transcriptions` (`{text}` back); text-to-speech posts
//! `{model, input, voice, response_format: "wav"}` to `/v1/audio/speech` (audio bytes back);
//! vision posts one user message with a text part and an `image_url` part (a `data:` URL) to
//! `/v1/chat/completions` (non-streaming). The multipart body is written here (a few lines)
//! rather than by enabling another HTTP-client feature for one call.
//!
//! The time limit of a run is enforced by its caller; here only connecting is bounded.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use platform_sdk::multimodal_wire::Modality;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{json, Value};

use super::{artifact_of, AdapterError, Input, Output};

/// What the adapter calls, and with which models.
#[derive(Debug, Clone)]
pub struct OpenAiMediaSettings {
    /// Base URL (`/v1/...` is appended unless it already ends in `/v1`).
    pub base_url: String,
    /// API key, if the server needs one.
    pub api_key: Option<SecretString>,
    /// Model of `/v1/audio/transcriptions`.
    pub transcription_model: String,
    /// Model of `/v1/audio/speech`.
    pub speech_model: String,
    /// Voice of `/v1/audio/speech`.
    pub speech_voice: String,
    /// Model of `/v1/chat/completions` with an image.
    pub vision_model: String,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

/// The adapter over one HTTP client.
#[derive(Debug, Clone)]
pub struct OpenAiMedia {
    http: reqwest::Client,
    settings: OpenAiMediaSettings,
}

/// The most of a provider's error body quoted in an error message.
const QUOTED: usize = 200;

impl OpenAiMedia {
    /// Builds the client.
    pub fn new(settings: OpenAiMediaSettings) -> Result<Self, AdapterError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| AdapterError::new(e.to_string()))?;
        Ok(Self { http, settings })
    }

    fn url(&self, path: &str) -> String {
        let base = self.settings.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        format!("{base}/v1/{path}")
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.post(self.url(path));
        match &self.settings.api_key {
            Some(key) => req.bearer_auth(key.expose_secret()),
            None => req,
        }
    }

    /// Runs `input` on the server.
    pub async fn run(&self, input: Input) -> Result<Output, AdapterError> {
        match input.modality {
            Modality::SpeechToText => self.transcribe(&input).await,
            Modality::TextToSpeech => self.speak(&input).await,
            Modality::VisionAnalysis => self.look(&input).await,
        }
    }

    async fn transcribe(&self, input: &Input) -> Result<Output, AdapterError> {
        let (data, content_type) = artifact_of(input)?;
        let model = &self.settings.transcription_model;
        let boundary = format!("symphainy-{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::with_capacity(data.len() + 512);
        let mut field = |name: &str, value: &str| {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        };
        field("model", model);
        field("response_format", "json");
        if let Some(prompt) = &input.text {
            field("prompt", prompt);
        }
        let extension = content_type.rsplit('/').next().unwrap_or("bin");
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"audio.{extension}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let res = self
            .post("audio/transcriptions")
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .map_err(unreachable_provider)?;
        let answer: Value = json_of(res).await?;
        let text = answer["text"]
            .as_str()
            .ok_or_else(|| AdapterError::new("the provider's transcription has no `text`"))?;
        Ok(Output {
            text: Some(text.to_owned()),
            artifact: None,
            data: json!({"adapter": "openai", "model": model, "language": answer.get("language"), "duration_seconds": answer.get("duration")}),
        })
    }

    async fn speak(&self, input: &Input) -> Result<Output, AdapterError> {
        let text = input.text.as_deref().unwrap_or_default();
        let (model, voice) = (&self.settings.speech_model, &self.settings.speech_voice);
        let res = self
            .post("audio/speech")
            .json(&json!({"model": model, "input": text, "voice": voice, "response_format": "wav"}))
            .send()
            .await
            .map_err(unreachable_provider)?;
        let res = checked(res).await?;
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.starts_with("audio/"))
            .unwrap_or("audio/wav")
            .to_owned();
        let audio = res.bytes().await.map_err(unreachable_provider)?;
        if audio.is_empty() {
            return Err(AdapterError::new("the provider answered no audio"));
        }
        Ok(Output {
            text: None,
            data: json!({"adapter": "openai", "model": model, "voice": voice, "characters": text.chars().count()}),
            artifact: Some((audio.to_vec(), content_type)),
        })
    }

    async fn look(&self, input: &Input) -> Result<Output, AdapterError> {
        let (data, content_type) = artifact_of(input)?;
        let model = &self.settings.vision_model;
        let prompt = input
            .text
            .as_deref()
            .unwrap_or("Describe this image: what it shows, its main colours and any text in it.");
        let url = format!("data:{content_type};base64,{}", STANDARD.encode(data));
        let res = self
            .post("chat/completions")
            .json(&json!({
                "model": model,
                "stream": false,
                "messages": [{"role": "user", "content": [
                    {"type": "text", "text": prompt},
                    {"type": "image_url", "image_url": {"url": url}},
                ]}],
            }))
            .send()
            .await
            .map_err(unreachable_provider)?;
        let answer: Value = json_of(res).await?;
        let text = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| AdapterError::new("the provider's answer has no message content"))?;
        Ok(Output {
            text: Some(text.to_owned()),
            artifact: None,
            data: json!({"adapter": "openai", "model": model, "usage": answer.get("usage")}),
        })
    }
}

fn unreachable_provider(e: reqwest::Error) -> AdapterError {
    AdapterError::new(format!("the provider could not be reached: {e}"))
}

/// The response if its status is a success; otherwise an error quoting the provider.
async fn checked(res: reqwest::Response) -> Result<reqwest::Response, AdapterError> {
    let status = res.status();
    if status.is_success() {
        return Ok(res);
    }
    let body = res.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or(body);
    let quoted: String = message.chars().take(QUOTED).collect();
    Err(AdapterError::new(format!(
        "the provider answered {}: {quoted}",
        status.as_u16()
    )))
}

async fn json_of(res: reqwest::Response) -> Result<Value, AdapterError> {
    checked(res)
        .await?
        .json()
        .await
        .map_err(|e| AdapterError::new(format!("the provider's answer is not JSON: {e}")))
}
