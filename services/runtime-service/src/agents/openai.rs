//! The `openai` provider: any OpenAI-compatible `/v1/chat/completions` endpoint (OpenAI, vLLM,
//! Ollama, llama.cpp server) with `stream: true`. Server-sent `data:` lines are parsed as they
//! arrive; each `choices[0].delta.content` becomes a chunk. A connection failure, an error status
//! or a stream that goes quiet longer than `stall_timeout` fails the turn with a readable error —
//! never a hang.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{ModelProvider, ModelRequest, ProviderError};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// Base URL, e.g. `https://api.openai.com` or `http://127.0.0.1:11434` (`/v1/...` is appended).
    pub base_url: String,
    /// API key, if the endpoint needs one.
    pub api_key: Option<SecretString>,
    /// Longest silence tolerated inside a stream.
    pub stall_timeout: Duration,
    /// Connect / first-byte timeout.
    pub connect_timeout: Duration,
}

/// The provider.
pub struct OpenAiProvider {
    http: reqwest::Client,
    settings: OpenAiSettings,
}

impl OpenAiProvider {
    /// Builds the client.
    pub fn new(settings: OpenAiSettings) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ProviderError::Protocol(e.to_string()))?;
        Ok(Self { http, settings })
    }

    fn url(&self) -> String {
        let base = self.settings.base_url.trim_end_matches('/');
        if base.ends_with("/v1") {
            format!("{base}/chat/completions")
        } else {
            format!("{base}/v1/chat/completions")
        }
    }
}

/// Extracts the text of one `data:` payload; `None` for `[DONE]` or chunks without text.
fn delta_of(payload: &str) -> Result<Option<String>, ProviderError> {
    if payload == "[DONE]" {
        return Ok(None);
    }
    let value: Value =
        serde_json::from_str(payload).map_err(|e| ProviderError::Protocol(e.to_string()))?;
    if let Some(err) = value.get("error") {
        let message = err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        return Err(ProviderError::Rejected(message.to_owned()));
    }
    Ok(value["choices"][0]["delta"]["content"]
        .as_str()
        .map(str::to_owned))
}

#[async_trait]
impl ModelProvider for OpenAiProvider {
    async fn stream(
        &self,
        request: ModelRequest,
        out: mpsc::Sender<String>,
    ) -> Result<String, ProviderError> {
        let mut messages = vec![json!({"role": "system", "content": request.agent.system_prompt})];
        for (role, content) in &request.history {
            if role == "user" || role == "assistant" {
                messages.push(json!({"role": role, "content": content}));
            }
        }
        messages.push(json!({"role": "user", "content": request.text}));
        let mut body = json!({"model": request.agent.model, "messages": messages, "stream": true});
        if let Some(t) = request.agent.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = request.agent.max_output_tokens {
            body["max_tokens"] = json!(m);
        }
        let mut call = self.http.post(self.url()).json(&body);
        if let Some(key) = &self.settings.api_key {
            call = call.bearer_auth(key.expose_secret());
        }
        let response = tokio::time::timeout(self.settings.connect_timeout, call.send())
            .await
            .map_err(|_| ProviderError::Unreachable("no answer before the connect timeout".into()))?
            .map_err(|e| ProviderError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let detail = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| body.chars().take(200).collect());
            return Err(ProviderError::Rejected(format!(
                "status {}: {detail}",
                status.as_u16()
            )));
        }
        let mut bytes = response.bytes_stream();
        let mut buffer = String::new();
        let mut answer = String::new();
        let stall = self.settings.stall_timeout;
        loop {
            let next = tokio::time::timeout(stall, bytes.next())
                .await
                .map_err(|_| ProviderError::Stalled(stall.as_secs()))?;
            let Some(chunk) = next else { break };
            let chunk =
                chunk.map_err(|e| ProviderError::Unreachable(e.without_url().to_string()))?;
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find('\n') {
                let line: String = buffer.drain(..=end).collect();
                let Some(payload) = line.trim().strip_prefix("data:") else {
                    continue;
                };
                let payload = payload.trim();
                if payload == "[DONE]" {
                    return Ok(answer);
                }
                if let Some(text) = delta_of(payload)? {
                    answer.push_str(&text);
                    if out.send(text).await.is_err() {
                        return Ok(answer);
                    }
                }
            }
        }
        if answer.is_empty() {
            return Err(ProviderError::Protocol(
                "the stream ended without an answer".into(),
            ));
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_deltas_errors_and_done() {
        assert_eq!(
            delta_of(r#"{"choices":[{"delta":{"content":"Hi"}}]}"#).unwrap(),
            Some("Hi".into())
        );
        assert_eq!(
            delta_of(r#"{"choices":[{"delta":{"role":"assistant"}}]}"#).unwrap(),
            None
        );
        assert_eq!(delta_of("[DONE]").unwrap(), None);
        assert!(
            matches!(delta_of(r#"{"error":{"message":"overloaded"}}"#), Err(ProviderError::Rejected(m)) if m == "overloaded")
        );
        assert!(matches!(delta_of("{nope"), Err(ProviderError::Protocol(_))));
    }
}
