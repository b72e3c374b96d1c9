//! What callers send, parsed: the body of `POST /v1/outcomes/events` becomes a [`Posted`] or a
//! `422` naming the field that is wrong; the query parameters of the reads become a [`Filter`],
//! a window or a recent-events limit, or a `400 invalid_query` naming the parameter. Nothing
//! else checks these rules.

use platform_sdk::outcome_wire::MetricType;
use platform_sdk::time_util::parse_rfc3339_ms;
use serde_json::{Map, Value};

use crate::error::RuntimeError;

/// Longest `domain` / `event_type`, characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Largest `metadata`, bytes of compact JSON.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// A trend's default window (SPEC §16).
pub const DEFAULT_WINDOW: u32 = 20;
/// The windows accepted.
pub const WINDOWS: std::ops::RangeInclusive<u32> = 2..=1000;
/// The dashboard's default number of recent events (SPEC §16).
pub const DEFAULT_RECENT: u32 = 10;
/// The recent-events limits accepted.
pub const RECENTS: std::ops::RangeInclusive<u32> = 0..=100;

/// A valid posted outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// What it is about.
    pub domain: String,
    /// What happened.
    pub event_type: String,
    /// What is measured.
    pub metric_type: MetricType,
    /// A finite value.
    pub value: f64,
    /// When, epoch ms (`None`: now).
    pub occurred_at: Option<i64>,
    /// Compact JSON object.
    pub metadata: String,
}

/// A name field: a string of 1..=200 characters that is not blank.
fn name(body: &Map<String, Value>, field: &'static str) -> Result<String, RuntimeError> {
    match body.get(field).and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() && text.chars().count() <= MAX_NAME_CHARS => {
            Ok(text.to_owned())
        }
        _ => Err(RuntimeError::invalid(
            field,
            "must be a non-blank string of at most 200 characters",
        )),
    }
}

/// Parses a posted outcome (the intent's payload).
pub fn parse(body: &Value) -> Result<Posted, RuntimeError> {
    let Some(body) = body.as_object() else {
        return Err(RuntimeError::invalid("payload", "must be a JSON object"));
    };
    let known = [
        "domain",
        "event_type",
        "metric_type",
        "value",
        "occurred_at",
        "metadata",
    ];
    if let Some(unknown) = body.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(RuntimeError::invalid(
            "payload",
            format!("unknown field `{unknown}`"),
        ));
    }
    let domain = name(body, "domain")?;
    let event_type = name(body, "event_type")?;
    let metric_type = body
        .get("metric_type")
        .and_then(Value::as_str)
        .and_then(MetricType::parse)
        .ok_or_else(|| {
            RuntimeError::invalid(
                "metric_type",
                "must be success_rate, quality_score, latency_ms or cost_usd",
            )
        })?;
    let value = body
        .get("value")
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
        .ok_or_else(|| RuntimeError::invalid("value", "must be a finite number"))?;
    let occurred_at = match body.get("occurred_at") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().and_then(parse_rfc3339_ms).ok_or_else(|| {
            RuntimeError::invalid("occurred_at", "must be an RFC 3339 date-time")
        })?),
    };
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(v @ Value::Object(_)) => v.to_string(),
        Some(_) => return Err(RuntimeError::invalid("metadata", "must be a JSON object")),
    };
    if metadata.len() > MAX_METADATA_BYTES {
        return Err(RuntimeError::invalid(
            "metadata",
            "must be at most 16 KiB of JSON",
        ));
    }
    Ok(Posted {
        domain,
        event_type,
        metric_type,
        value,
        occurred_at,
        metadata,
    })
}

/// What a list or a dashboard is narrowed to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter<'a> {
    /// One domain.
    pub domain: Option<&'a str>,
    /// One event type.
    pub event_type: Option<&'a str>,
    /// One metric.
    pub metric_type: Option<MetricType>,
}

/// A name filter: absent, or 1..=200 characters.
pub fn name_filter<'a>(
    parameter: &'static str,
    raw: Option<&'a str>,
) -> Result<Option<&'a str>, RuntimeError> {
    match raw {
        None => Ok(None),
        Some(text) if !text.is_empty() && text.chars().count() <= MAX_NAME_CHARS => Ok(Some(text)),
        Some(_) => Err(RuntimeError::InvalidQuery {
            parameter,
            message: "must be 1 to 200 characters",
        }),
    }
}

/// A metric named in a query parameter.
pub fn metric_filter(raw: Option<&str>) -> Result<Option<MetricType>, RuntimeError> {
    raw.map(|text| {
        MetricType::parse(text).ok_or(RuntimeError::InvalidQuery {
            parameter: "metric_type",
            message: "must be success_rate, quality_score, latency_ms or cost_usd",
        })
    })
    .transpose()
}

/// An integer parameter within `range`, `default` when absent.
fn bounded(
    parameter: &'static str,
    raw: Option<&str>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
    message: &'static str,
) -> Result<u32, RuntimeError> {
    match raw {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or(RuntimeError::InvalidQuery { parameter, message }),
    }
}

/// A trend's `window`: 2..=1000, default 20.
pub fn window(raw: Option<&str>) -> Result<u32, RuntimeError> {
    bounded(
        "window",
        raw,
        DEFAULT_WINDOW,
        WINDOWS,
        "must be an integer from 2 to 1000",
    )
}

/// The dashboard's `recent_limit`: 0..=100, default 10.
pub fn recent_limit(raw: Option<&str>) -> Result<u32, RuntimeError> {
    bounded(
        "recent_limit",
        raw,
        DEFAULT_RECENT,
        RECENTS,
        "must be an integer from 0 to 100",
    )
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

    fn valid() -> Value {
        json!({"domain": "support", "event_type": "ticket.resolved", "metric_type": "quality_score", "value": 4})
    }

    #[test]
    fn a_valid_outcome_parses() {
        let p = parse(&valid()).unwrap();
        assert_eq!((p.metric_type, p.value), (MetricType::QualityScore, 4.0));
        assert_eq!((p.occurred_at, p.metadata.as_str()), (None, "{}"));
        let mut body = valid();
        body["occurred_at"] = json!("2026-01-02T03:04:05.678Z");
        body["metadata"] = json!({"ticket": 7});
        let p = parse(&body).unwrap();
        assert_eq!(p.occurred_at, Some(1_767_323_045_678));
        assert_eq!(p.metadata, r#"{"ticket":7}"#);
    }

    #[test]
    fn each_bad_field_is_named() {
        let with = |key: &str, v: Value| {
            let mut body = valid();
            body[key] = v;
            body
        };
        assert_eq!(field_of(with("domain", json!(""))), "domain");
        assert_eq!(field_of(with("domain", json!("   "))), "domain");
        assert_eq!(field_of(with("domain", json!("x".repeat(201)))), "domain");
        assert_eq!(field_of(with("event_type", json!(3))), "event_type");
        assert_eq!(field_of(with("metric_type", json!("speed"))), "metric_type");
        assert_eq!(field_of(with("value", json!("NaN"))), "value");
        assert_eq!(field_of(with("value", Value::Null)), "value");
        assert_eq!(
            field_of(with("occurred_at", json!("yesterday"))),
            "occurred_at"
        );
        assert_eq!(field_of(with("metadata", json!([1]))), "metadata");
        let big = "x".repeat(MAX_METADATA_BYTES);
        assert_eq!(field_of(with("metadata", json!({"b": big}))), "metadata");
        assert_eq!(field_of(with("extra", json!(1))), "payload");
        assert_eq!(field_of(json!([1])), "payload");
        assert!(parse(&with("domain", json!("x".repeat(200)))).is_ok());
    }

    #[test]
    fn query_parameters_are_bounded() {
        assert_eq!(window(None).unwrap(), 20);
        assert_eq!(window(Some("2")).unwrap(), 2);
        assert_eq!(window(Some("1000")).unwrap(), 1000);
        for bad in ["1", "1001", "-3", "x", ""] {
            assert!(window(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(recent_limit(None).unwrap(), 10);
        assert_eq!(recent_limit(Some("0")).unwrap(), 0);
        assert!(recent_limit(Some("101")).is_err());
        assert_eq!(
            metric_filter(Some("cost_usd")).unwrap(),
            Some(MetricType::CostUsd)
        );
        assert!(metric_filter(Some("cost")).is_err());
        assert!(name_filter("domain", Some("")).is_err());
        assert_eq!(name_filter("domain", Some("a")).unwrap(), Some("a"));
    }
}
