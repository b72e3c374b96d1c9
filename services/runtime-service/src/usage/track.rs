//! A tracked event, parsed: the body of `POST /api/agents/{id}/track` becomes a [`Tracked`] or a
//! `422` naming the field that is wrong. Nothing else checks these rules.

use serde_json::{Map, Value};

use crate::error::RuntimeError;

/// Largest `details`, bytes of compact JSON.
pub const MAX_DETAILS_BYTES: usize = 16 * 1024;
/// Largest `latency_ms` (one day).
pub const MAX_LATENCY_MS: i64 = 86_400_000;

/// What a caller reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The agent was invoked (outside the runtime's own executions).
    Invocation,
    /// A user rated or commented an answer.
    Feedback,
    /// Something went wrong.
    Error,
    /// Anything else worth keeping.
    Custom,
}

impl EventType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invocation => "invocation",
            Self::Feedback => "feedback",
            Self::Error => "error",
            Self::Custom => "custom",
        }
    }
}

/// A valid tracked event.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// What it reports.
    pub event_type: EventType,
    /// `Some(true)` for `success`, `Some(false)` for `failure`.
    pub success: Option<bool>,
    /// Reported latency, ms.
    pub latency_ms: Option<i64>,
    /// 1..=5 (feedback only).
    pub rating: Option<i64>,
    /// Compact JSON object.
    pub details: String,
}

impl Tracked {
    /// True when it reports a failure: an `error`, or an `invocation` whose outcome failed.
    pub fn is_failure(&self) -> bool {
        self.event_type == EventType::Error
            || (self.event_type == EventType::Invocation && self.success == Some(false))
    }

    /// The stored outcome name.
    pub fn outcome(&self) -> Option<&'static str> {
        self.success
            .map(|ok| if ok { "success" } else { "failure" })
    }
}

/// An optional integer field within `range`.
fn integer(
    body: &Map<String, Value>,
    field: &'static str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, RuntimeError> {
    let rule = format!(
        "must be an integer from {} to {}",
        range.start(),
        range.end()
    );
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(RuntimeError::invalid(field, &rule)),
        },
    }
}

/// Parses a track request body.
pub fn parse(body: &Value) -> Result<Tracked, RuntimeError> {
    let Some(body) = body.as_object() else {
        return Err(RuntimeError::invalid("payload", "must be a JSON object"));
    };
    if let Some(unknown) = body.keys().find(|k| {
        !["event_type", "outcome", "latency_ms", "rating", "details"].contains(&k.as_str())
    }) {
        return Err(RuntimeError::Validation {
            field: "payload",
            message: format!("unknown field `{unknown}`"),
        });
    }
    let event_type = match body.get("event_type").and_then(Value::as_str) {
        Some("invocation") => EventType::Invocation,
        Some("feedback") => EventType::Feedback,
        Some("error") => EventType::Error,
        Some("custom") => EventType::Custom,
        _ => {
            return Err(RuntimeError::invalid(
                "event_type",
                "must be invocation, feedback, error or custom",
            ))
        }
    };
    let success = match body.get("outcome") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str() {
            Some("success") => Some(true),
            Some("failure") => Some(false),
            _ => {
                return Err(RuntimeError::invalid(
                    "outcome",
                    "must be success or failure",
                ))
            }
        },
    };
    let latency_ms = integer(body, "latency_ms", 0..=MAX_LATENCY_MS)?;
    let rating = integer(body, "rating", 1..=5)?;
    if rating.is_some() && event_type != EventType::Feedback {
        return Err(RuntimeError::invalid(
            "rating",
            "is only for feedback events",
        ));
    }
    let details = match body.get("details") {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(v @ Value::Object(_)) => v.to_string(),
        Some(_) => return Err(RuntimeError::invalid("details", "must be a JSON object")),
    };
    if details.len() > MAX_DETAILS_BYTES {
        return Err(RuntimeError::invalid(
            "details",
            "must be at most 16 KiB of JSON",
        ));
    }
    Ok(Tracked {
        event_type,
        success,
        latency_ms,
        rating,
        details,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field_of(body: Value) -> &'static str {
        match parse(&body) {
            Err(RuntimeError::Validation { field, .. }) => field,
            other => panic!("{body} gave {other:?}"),
        }
    }

    #[test]
    fn valid_events_parse() {
        let t =
            parse(&json!({"event_type": "feedback", "rating": 4, "details": {"a": 1}})).unwrap();
        assert_eq!((t.event_type, t.rating), (EventType::Feedback, Some(4)));
        assert_eq!(t.details, r#"{"a":1}"#);
        let t = parse(&json!({"event_type": "invocation", "outcome": "failure", "latency_ms": 0}))
            .unwrap();
        assert!(t.is_failure());
        assert_eq!((t.outcome(), t.details.as_str()), (Some("failure"), "{}"));
        assert!(!parse(&json!({"event_type": "custom"}))
            .unwrap()
            .is_failure());
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field_of(json!({})), "event_type");
        assert_eq!(field_of(json!({"event_type": "click"})), "event_type");
        assert_eq!(
            field_of(json!({"event_type": "error", "outcome": "meh"})),
            "outcome"
        );
        assert_eq!(
            field_of(json!({"event_type": "error", "latency_ms": -1})),
            "latency_ms"
        );
        assert_eq!(
            field_of(json!({"event_type": "error", "latency_ms": 86_400_001})),
            "latency_ms"
        );
        assert_eq!(
            field_of(json!({"event_type": "error", "latency_ms": 1.5})),
            "latency_ms"
        );
        assert_eq!(
            field_of(json!({"event_type": "feedback", "rating": 6})),
            "rating"
        );
        assert_eq!(
            field_of(json!({"event_type": "error", "rating": 3})),
            "rating"
        );
        assert_eq!(
            field_of(json!({"event_type": "error", "details": []})),
            "details"
        );
        let big = "x".repeat(MAX_DETAILS_BYTES);
        assert_eq!(
            field_of(json!({"event_type": "error", "details": {"b": big}})),
            "details"
        );
        assert_eq!(
            field_of(json!({"event_type": "error", "extra": 1})),
            "payload"
        );
        assert_eq!(field_of(json!([1])), "payload");
    }
}
