//! What clients send and what they receive on the agent socket.

use platform_sdk::agent_wire::{pillar_name, SessionEvent};
use platform_sdk::time_util::rfc3339_now;
use serde_json::{json, Value};

/// A parsed client message.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// A turn for an agent.
    Turn {
        /// The user's text.
        text: String,
        /// `guide` or `liaison`.
        agent_type: String,
        /// Canonical pillar for a liaison.
        pillar: Option<String>,
        /// Conversation to continue.
        conversation_id: Option<String>,
        /// Client id of the message (also the idempotency key of the submit).
        client_message_id: Option<String>,
    },
    /// An answer to a safety hook.
    Safety {
        /// The hook.
        hook_id: String,
        /// Approve or reject.
        approved: bool,
        /// Why rejected.
        rejection_reason: Option<String>,
    },
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
    /// `invalid_json`, `unknown_type`, `invalid_message`, `unknown_agent`, `unknown_pillar`, ...
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

fn text_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Resolves agent type and pillar: `guide`; `liaison` (or `specialist`) with a known pillar.
fn agent(agent_type: &str, pillar: Option<&str>) -> Result<(String, Option<String>), Refusal> {
    match agent_type {
        "guide" => Ok(("guide".into(), None)),
        "liaison" | "specialist" => {
            let raw = pillar
                .ok_or_else(|| refuse("unknown_pillar", "a liaison needs metadata.pillar"))?;
            let pillar = pillar_name(raw)
                .ok_or_else(|| refuse("unknown_pillar", format!("unknown pillar `{raw}`")))?;
            Ok(("liaison".into(), Some(pillar.into())))
        }
        other => Err(refuse(
            "unknown_agent",
            format!("unknown agent type `{other}`"),
        )),
    }
}

/// Parses one text frame.
pub fn parse(frame: &str) -> Result<ClientMessage, Refusal> {
    let v: Value = serde_json::from_str(frame)
        .map_err(|_| refuse("invalid_json", "the message is not valid JSON"))?;
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "intent" => {
            let text = text_field(&v, "intent")
                .ok_or_else(|| refuse("invalid_message", "`intent` must be a non-empty string"))?;
            let meta = v.get("metadata").cloned().unwrap_or(Value::Null);
            let agent_type = text_field(&v, "agent_type").unwrap_or("guide");
            let (agent_type, pillar) = agent(agent_type, text_field(&meta, "pillar"))?;
            Ok(ClientMessage::Turn {
                text: text.to_owned(),
                agent_type,
                pillar,
                // The frontend's `session_id` field carries the conversation id.
                conversation_id: text_field(&meta, "conversation_id")
                    .or_else(|| text_field(&v, "session_id"))
                    .map(str::to_owned),
                client_message_id: text_field(&meta, "client_message_id").map(str::to_owned),
            })
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
            let pillar = text_field(&context, "pillar")
                .or_else(|| text_field(&context, "surface").filter(|s| pillar_name(s).is_some()))
                .or_else(|| text_field(&context, "content_pillar"));
            let explicit =
                text_field(&payload, "agent_type").or_else(|| text_field(&context, "agent_type"));
            let agent_type = explicit.unwrap_or(if pillar.is_some() { "liaison" } else { "guide" });
            let (agent_type, pillar) = agent(agent_type, pillar)?;
            Ok(ClientMessage::Turn {
                text: text.to_owned(),
                agent_type,
                pillar,
                conversation_id: text_field(&context, "conversation_id").map(str::to_owned),
                client_message_id: text_field(&payload, "client_message_id").map(str::to_owned),
            })
        }
        "safety_response" => Ok(ClientMessage::Safety {
            hook_id: text_field(&v, "hook_id")
                .ok_or_else(|| refuse("invalid_message", "`hook_id` is required"))?
                .to_owned(),
            approved: v
                .get("approved")
                .and_then(Value::as_bool)
                .ok_or_else(|| refuse("invalid_message", "`approved` must be true or false"))?,
            rejection_reason: text_field(&v, "rejection_reason").map(str::to_owned),
        }),
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

    #[test]
    fn parses_both_formats_and_aliases() {
        let turn = parse(r#"{"type":"intent","intent":"hi","session_id":"c1","agent_type":"liaison","metadata":{"pillar":"journey","client_message_id":"m1"}}"#).unwrap();
        assert_eq!(
            turn,
            ClientMessage::Turn {
                text: "hi".into(),
                agent_type: "liaison".into(),
                pillar: Some("operations".into()),
                conversation_id: Some("c1".into()),
                client_message_id: Some("m1".into()),
            }
        );
        let legacy = parse(r#"{"type":"agent.message","payload":{"text":"hello","context":{"surface":"content_pillar"}}}"#).unwrap();
        assert!(
            matches!(legacy, ClientMessage::Turn { ref pillar, ref agent_type, .. } if pillar.as_deref() == Some("content") && agent_type == "liaison")
        );
        let guide = parse(
            r#"{"type":"agent.message","payload":{"text":"hello","context":{"surface":"home"}}}"#,
        )
        .unwrap();
        assert!(
            matches!(guide, ClientMessage::Turn { ref agent_type, .. } if agent_type == "guide")
        );
    }

    #[test]
    fn refuses_with_codes() {
        assert_eq!(parse("{oops").unwrap_err().code, "invalid_json");
        assert_eq!(
            parse(r#"{"type":"dance"}"#).unwrap_err().code,
            "unknown_type"
        );
        assert_eq!(parse(r#"{"type":"intent","intent":"x","agent_type":"liaison","metadata":{"pillar":"finance"}}"#).unwrap_err().code, "unknown_pillar");
        assert_eq!(
            parse(r#"{"type":"intent","intent":"x","agent_type":"wizard"}"#)
                .unwrap_err()
                .code,
            "unknown_agent"
        );
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
