//! What clients send and what they receive on the agent socket.
//!
//! Parsing refuses only what is malformed (invalid JSON, an unknown message type, a missing or
//! mistyped field). Agent types and pillars are passed on as the client named them: the
//! runtime's agent catalog is the one place that validates them.

use platform_sdk::agent_wire::{SafetyAnswer, SessionEvent, SubmitIntentPayload};
use platform_sdk::time_util::rfc3339_now;
use serde_json::{json, Value};

/// A parsed client message.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// A turn for an agent: agent type, pillar and surface as the client named them (the
    /// runtime's agent catalog resolves them, or refuses with `unknown_agent` /
    /// `unknown_pillar`).
    Turn(SubmitIntentPayload),
    /// An answer to a safety hook (the runtime finds the hook within the session).
    Safety(SafetyAnswer),
    /// Cancel an execution.
    Cancel {
        /// The execution.
        execution_id: String,
    },
    /// Keep-alive.
    Ping,
    /// Replay events after this id.
    Resume {
        /// Last event id the client has.
        last_event_id: i64,
    },
}

/// Why a message was refused (sent back as an `error` frame; the socket stays open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `invalid_json`, `unknown_type`, `invalid_message`, `validation_failed`.
    pub code: &'static str,
    /// Readable explanation.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

fn owned(field: Option<&str>) -> Option<String> {
    field.map(str::to_owned)
}

fn text_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Longest accepted `client_message_id`, bytes (the runtime's `Idempotency-Key` limit).
const MAX_MESSAGE_ID_BYTES: usize = 200;

/// The `client_message_id` of a turn, if any: it becomes the submit's `Idempotency-Key` header,
/// so control characters and over-long ids are the client's mistake (`validation_failed`).
fn message_id(v: &Value) -> Result<Option<String>, Refusal> {
    let Some(id) = text_field(v, "client_message_id") else {
        return Ok(None);
    };
    if id.len() > MAX_MESSAGE_ID_BYTES || id.chars().any(char::is_control) {
        return Err(refuse(
            "validation_failed",
            format!(
                "`client_message_id` must be at most {MAX_MESSAGE_ID_BYTES} bytes without control characters"
            ),
        ));
    }
    Ok(Some(id.to_owned()))
}

/// Parses one text frame.
pub fn parse(frame: &str) -> Result<ClientMessage, Refusal> {
    let v: Value = serde_json::from_str(frame)
        .map_err(|_| refuse("invalid_json", "the message is not valid JSON"))?;
    // No text may hold U+0000 (docs/adr/0012): refused here, alike on both backends.
    if let Some(field) = frame
        .contains("\\u0000")
        .then(|| platform_sdk::json::nul_in_value(&v))
        .flatten()
    {
        return Err(refuse(
            "validation_failed",
            format!("`{field}` {}", platform_sdk::json::NUL_MESSAGE),
        ));
    }
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "intent" => {
            let text = text_field(&v, "intent")
                .ok_or_else(|| refuse("invalid_message", "`intent` must be a non-empty string"))?;
            let meta = v.get("metadata").cloned().unwrap_or(Value::Null);
            Ok(ClientMessage::Turn(SubmitIntentPayload {
                text: text.to_owned(),
                agent_type: text_field(&v, "agent_type").unwrap_or("guide").to_owned(),
                pillar: owned(text_field(&meta, "pillar")),
                surface: None,
                // The frontend's `session_id` field carries the conversation id.
                conversation_id: owned(
                    text_field(&meta, "conversation_id").or_else(|| text_field(&v, "session_id")),
                ),
                client_message_id: message_id(&meta)?,
                agent_id: owned(text_field(&meta, "agent_id")),
            }))
        }
        "agent.message" => {
            let payload = v.get("payload").cloned().unwrap_or(Value::Null);
            let text = text_field(&payload, "text").ok_or_else(|| {
                refuse(
                    "invalid_message",
                    "`payload.text` must be a non-empty string",
                )
            })?;
            let context = payload.get("context").cloned().unwrap_or(Value::Null);
            let explicit =
                text_field(&payload, "agent_type").or_else(|| text_field(&context, "agent_type"));
            Ok(ClientMessage::Turn(SubmitIntentPayload {
                text: text.to_owned(),
                agent_type: explicit.unwrap_or_default().to_owned(),
                pillar: owned(
                    text_field(&context, "pillar")
                        .or_else(|| text_field(&context, "content_pillar")),
                ),
                surface: owned(text_field(&context, "surface")),
                conversation_id: owned(text_field(&context, "conversation_id")),
                client_message_id: message_id(&payload)?,
                agent_id: owned(
                    text_field(&context, "agent_id").or_else(|| text_field(&payload, "agent_id")),
                ),
            }))
        }
        "safety_response" => Ok(ClientMessage::Safety(SafetyAnswer {
            hook_id: text_field(&v, "hook_id")
                .ok_or_else(|| refuse("invalid_message", "`hook_id` is required"))?
                .to_owned(),
            approved: v
                .get("approved")
                .and_then(Value::as_bool)
                .ok_or_else(|| refuse("invalid_message", "`approved` must be true or false"))?,
            rejection_reason: owned(text_field(&v, "rejection_reason")),
        })),
        "cancel" => Ok(ClientMessage::Cancel {
            execution_id: text_field(&v, "execution_id")
                .ok_or_else(|| refuse("invalid_message", "`execution_id` is required"))?
                .to_owned(),
        }),
        "ping" => Ok(ClientMessage::Ping),
        "resume" => Ok(ClientMessage::Resume {
            last_event_id: v
                .get("last_event_id")
                .and_then(Value::as_i64)
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    refuse(
                        "invalid_message",
                        "`last_event_id` must be a non-negative integer",
                    )
                })?,
        }),
        "" => Err(refuse("unknown_type", "the message has no `type`")),
        other => Err(refuse(
            "unknown_type",
            format!("unknown message type `{other}`"),
        )),
    }
}

/// A `runtime_event` frame.
pub fn event_frame(event: &SessionEvent) -> String {
    json!({
        "type": "runtime_event",
        "event_type": event.event_type,
        "event_id": event.event_id,
        "data": event.data,
        "timestamp": event.timestamp,
    })
    .to_string()
}

/// An `error` frame.
pub fn error_frame(code: &str, message: &str) -> String {
    json!({"type": "error", "code": code, "message": message, "timestamp": rfc3339_now()})
        .to_string()
}

/// The answer to `ping`.
pub fn pong_frame() -> String {
    json!({"type": "pong", "timestamp": rfc3339_now()}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(frame: &str) -> SubmitIntentPayload {
        match parse(frame).unwrap() {
            ClientMessage::Turn(payload) => payload,
            other => panic!("not a turn: {other:?}"),
        }
    }

    #[test]
    fn parses_both_formats_and_passes_names_on_raw() {
        let frontend = turn(
            r#"{"type":"intent","intent":"hi","session_id":"c1","agent_type":"liaison","metadata":{"pillar":"journey","client_message_id":"m1"}}"#,
        );
        assert_eq!(
            frontend,
            SubmitIntentPayload {
                text: "hi".into(),
                agent_type: "liaison".into(),
                pillar: Some("journey".into()),
                surface: None,
                conversation_id: Some("c1".into()),
                client_message_id: Some("m1".into()),
                agent_id: None,
            }
        );
        let specialist = turn(
            r#"{"type":"intent","intent":"hi","agent_type":"specialist","metadata":{"agent_id":"wrp_1"}}"#,
        );
        assert_eq!(specialist.agent_type, "specialist");
        assert_eq!(specialist.agent_id.as_deref(), Some("wrp_1"));
        assert_eq!(
            turn(r#"{"type":"intent","intent":"hi"}"#).agent_type,
            "guide"
        );
        let legacy = turn(
            r#"{"type":"agent.message","payload":{"text":"hello","context":{"surface":"content_pillar"}}}"#,
        );
        assert_eq!(legacy.agent_type, "");
        assert_eq!(legacy.pillar, None);
        assert_eq!(legacy.surface.as_deref(), Some("content_pillar"));
        let named = turn(
            r#"{"type":"agent.message","payload":{"text":"hello","agent_type":"liaison","context":{"content_pillar":"insights"}}}"#,
        );
        assert_eq!(named.agent_type, "liaison");
        assert_eq!(named.pillar.as_deref(), Some("insights"));
    }

    #[test]
    fn refuses_only_malformed_frames() {
        assert_eq!(parse("{oops").unwrap_err().code, "invalid_json");
        assert_eq!(
            parse(r#"{"type":"dance"}"#).unwrap_err().code,
            "unknown_type"
        );
        // Unknown agents and pillars are the runtime catalog's to refuse.
        assert_eq!(turn(r#"{"type":"intent","intent":"x","agent_type":"liaison","metadata":{"pillar":"finance"}}"#).pillar.as_deref(), Some("finance"));
        assert_eq!(
            turn(r#"{"type":"intent","intent":"x","agent_type":"wizard"}"#).agent_type,
            "wizard"
        );
        for id in ["a\\nb", "x\\u0000y", "tab\\there"] {
            let frame = format!(
                r#"{{"type":"intent","intent":"hi","metadata":{{"client_message_id":"{id}"}}}}"#
            );
            assert_eq!(parse(&frame).unwrap_err().code, "validation_failed", "{id}");
        }
        let long = format!(
            r#"{{"type":"agent.message","payload":{{"text":"hi","client_message_id":"{}"}}}}"#,
            "m".repeat(201)
        );
        assert_eq!(parse(&long).unwrap_err().code, "validation_failed");
        assert_eq!(
            parse(r#"{"type":"resume","last_event_id":-1}"#)
                .unwrap_err()
                .code,
            "invalid_message"
        );
        assert_eq!(
            parse(r#"{"type":"resume","last_event_id":7}"#).unwrap(),
            ClientMessage::Resume { last_event_id: 7 }
        );
    }
}
