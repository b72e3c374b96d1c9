//! The body of `POST /loop/execute`, checked against its schema by hand so that every violation
//! is reported at once (serde stops at the first): a [`LoopRequest`], or
//! [`RuntimeError::SchemaViolation`] listing each field's path and what is wrong with it (`400`,
//! `error_details.code = REQUEST_VALIDATION_ERROR`). `null` counts as absent for optional fields.
//! Rules across fields are checked here too: `trust_score_adjustment` is required with
//! `MODIFY_TRUST_SCORE` and refused with the other override types.

use platform_sdk::error::FieldError;
use platform_sdk::trust_wire::{LoopRequest, OperatorOverride, PlanDetails, PlanInput};
use serde_json::{Map, Value};

use crate::error::RuntimeError;

/// Longest `plan_details`, bytes of compact JSON.
pub const MAX_PLAN_DETAILS_BYTES: usize = 16 * 1024;

/// The override types.
pub const OVERRIDE_TYPES: [&str; 3] = ["HALT_IMMEDIATE", "FORCE_ACCEPT_PLAN", "MODIFY_TRUST_SCORE"];

/// The violations found so far.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: String, message: &str) {
        self.0.push(FieldError {
            field,
            message: message.to_owned(),
        });
    }

    /// `value` as an object, or a problem at `path`.
    fn object<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.add(path.to_owned(), "must be an object");
        }
        object
    }

    /// Reports each key of `object` that is not in `known`.
    fn unknown(&mut self, object: &Map<String, Value>, known: &[&str], prefix: &str) {
        for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
            self.add(format!("{prefix}{key}"), "is not a known field");
        }
    }

    /// A text field of 1..=`max` characters (`required`, or absent / `null`).
    fn text(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        prefix: &str,
        max: usize,
        required: bool,
    ) -> Option<String> {
        let path = format!("{prefix}{key}");
        match object.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.add(path, "is required");
                }
                None
            }
            Some(Value::String(s)) if (1..=max).contains(&s.chars().count()) => Some(s.clone()),
            Some(_) => {
                self.add(path, &format!("must be a string of 1 to {max} characters"));
                None
            }
        }
    }

    /// An optional number from -1 to 1.
    fn unit(&mut self, object: &Map<String, Value>, key: &str, prefix: &str) -> Option<f64> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(x) if (-1.0..=1.0).contains(&x) => Some(x),
                _ => {
                    self.add(format!("{prefix}{key}"), "must be a number from -1 to 1");
                    None
                }
            },
        }
    }
}

/// Parses a `POST /loop/execute` body.
pub fn parse(body: &Value) -> Result<LoopRequest, RuntimeError> {
    let mut p = Problems::default();
    let Some(top) = p.object(body, "body") else {
        return Err(RuntimeError::SchemaViolation(p.0));
    };
    p.unknown(
        top,
        &["request_id", "plan_input", "operator_override_signal"],
        "",
    );
    let request_id = p.text(top, "request_id", "", 36, true);
    if let Some(id) = &request_id {
        if id.len() != 36 || uuid::Uuid::parse_str(id).is_err() {
            p.add("request_id".into(), "must be a UUID");
        }
    }
    let plan_input = match top.get("plan_input") {
        None | Some(Value::Null) => {
            p.add("plan_input".into(), "is required");
            None
        }
        Some(v) => p.object(v, "plan_input").and_then(|o| plan(&mut p, o)),
    };
    let operator_override_signal = match top.get("operator_override_signal") {
        None | Some(Value::Null) => None,
        Some(v) => p
            .object(v, "operator_override_signal")
            .and_then(|o| signal(&mut p, o)),
    };
    match (request_id, plan_input) {
        (Some(request_id), Some(plan_input)) if p.0.is_empty() => Ok(LoopRequest {
            request_id,
            plan_input,
            operator_override_signal,
        }),
        _ => Err(RuntimeError::SchemaViolation(p.0)),
    }
}

fn plan(p: &mut Problems, o: &Map<String, Value>) -> Option<PlanInput> {
    const AT: &str = "plan_input.";
    p.unknown(o, &["plan_id", "plan_details", "agent_id"], AT);
    let plan_id = p.text(o, "plan_id", AT, 200, true);
    let agent_id = p.text(o, "agent_id", AT, 200, false);
    let details = match o.get("plan_details") {
        None | Some(Value::Null) => {
            p.add("plan_input.plan_details".into(), "is required");
            None
        }
        Some(v) => p
            .object(v, "plan_input.plan_details")
            .map(|d| details(p, v, d)),
    };
    Some(PlanInput {
        plan_id: plan_id?,
        plan_details: details?,
        agent_id,
    })
}

fn details(p: &mut Problems, raw: &Value, d: &Map<String, Value>) -> PlanDetails {
    const IN: &str = "plan_input.plan_details.";
    if raw.to_string().len() > MAX_PLAN_DETAILS_BYTES {
        p.add(
            "plan_input.plan_details".into(),
            "must be at most 16 KiB of JSON",
        );
    }
    let trust_factor = p.unit(d, "trust_factor", IN);
    let reject_this_plan = match d.get("reject_this_plan") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            p.add(format!("{IN}reject_this_plan"), "must be a boolean");
            None
        }
    };
    let mut other = d.clone();
    other.remove("trust_factor");
    other.remove("reject_this_plan");
    PlanDetails {
        trust_factor,
        reject_this_plan,
        other,
    }
}

fn signal(p: &mut Problems, o: &Map<String, Value>) -> Option<OperatorOverride> {
    const AT: &str = "operator_override_signal.";
    let known = [
        "override_signal_id",
        "override_type",
        "reason",
        "issuing_operator_id",
        "trust_score_adjustment",
    ];
    p.unknown(o, &known, AT);
    let override_signal_id = p.text(o, "override_signal_id", AT, 200, true);
    let override_type = p.text(o, "override_type", AT, 40, true);
    if let Some(t) = &override_type {
        if !OVERRIDE_TYPES.contains(&t.as_str()) {
            let rule = "must be HALT_IMMEDIATE, FORCE_ACCEPT_PLAN or MODIFY_TRUST_SCORE";
            p.add(format!("{AT}override_type"), rule);
        }
    }
    let reason = p.text(o, "reason", AT, 2000, true);
    let issuing_operator_id = p.text(o, "issuing_operator_id", AT, 200, true);
    let adjustment = p.unit(o, "trust_score_adjustment", AT);
    let given = !matches!(o.get("trust_score_adjustment"), None | Some(Value::Null));
    let modifies = override_type.as_deref() == Some("MODIFY_TRUST_SCORE");
    let field = format!("{AT}trust_score_adjustment");
    match (modifies, given) {
        (true, false) => p.add(field, "is required with MODIFY_TRUST_SCORE"),
        (false, true) if override_type.is_some() => p.add(field, "is only for MODIFY_TRUST_SCORE"),
        _ => {}
    }
    Some(OperatorOverride {
        override_signal_id: override_signal_id?,
        override_type: override_type?,
        reason: reason?,
        issuing_operator_id: issuing_operator_id?,
        trust_score_adjustment: adjustment,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ID: &str = "0b5e3b8e-4f1c-4a57-9a4e-2f0d7c1b6a90";

    fn fields(body: Value) -> Vec<String> {
        match parse(&body) {
            Err(RuntimeError::SchemaViolation(list)) => list.into_iter().map(|f| f.field).collect(),
            other => panic!("{body} gave {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_parses_with_its_free_plan_fields() {
        let body = json!({"request_id": ID, "plan_input": {"plan_id": "p1",
            "plan_details": {"steps": 3, "trust_factor": -0.5, "reject_this_plan": null}, "agent_id": null},
            "operator_override_signal": {"override_signal_id": "o1", "override_type": "MODIFY_TRUST_SCORE",
            "reason": "r", "issuing_operator_id": "op", "trust_score_adjustment": 0.1}});
        let r = parse(&body).unwrap();
        assert_eq!(r.plan_input.plan_details.trust_factor, Some(-0.5));
        assert_eq!(
            r.plan_input.plan_details.other.get("steps"),
            Some(&json!(3))
        );
        assert_eq!(r.plan_input.agent_id, None);
        let o = r.operator_override_signal.unwrap();
        assert_eq!(o.trust_score_adjustment, Some(0.1));
        let bare = json!({"request_id": ID, "plan_input": {"plan_id": "p", "plan_details": {}},
            "operator_override_signal": null});
        assert!(parse(&bare).unwrap().operator_override_signal.is_none());
    }

    #[test]
    fn every_violation_is_listed() {
        let body = json!({"request_id": "nope", "extra": 1, "plan_input": {"plan_id": "",
            "plan_details": {"trust_factor": 2, "reject_this_plan": "yes"}},
            "operator_override_signal": {"override_type": "PAUSE", "reason": "r",
            "issuing_operator_id": "op", "trust_score_adjustment": 0.5}});
        assert_eq!(
            fields(body),
            [
                "extra",
                "request_id",
                "plan_input.plan_id",
                "plan_input.plan_details.trust_factor",
                "plan_input.plan_details.reject_this_plan",
                "operator_override_signal.override_signal_id",
                "operator_override_signal.override_type",
                "operator_override_signal.trust_score_adjustment",
            ]
        );
        assert_eq!(fields(json!([])), ["body"]);
        assert_eq!(fields(json!({})), ["request_id", "plan_input"]);
        assert_eq!(
            fields(json!({"request_id": ID, "plan_input": {"plan_id": "p", "plan_details": []}})),
            ["plan_input.plan_details"]
        );
    }

    #[test]
    fn the_adjustment_goes_with_modify_trust_score_only() {
        let with = |t: &str, adj: Value| {
            json!({"request_id": ID, "plan_input": {"plan_id": "p", "plan_details": {}},
                "operator_override_signal": {"override_signal_id": "o", "override_type": t,
                "reason": "r", "issuing_operator_id": "op", "trust_score_adjustment": adj}})
        };
        let adjustment = ["operator_override_signal.trust_score_adjustment"];
        assert_eq!(fields(with("MODIFY_TRUST_SCORE", Value::Null)), adjustment);
        assert_eq!(fields(with("HALT_IMMEDIATE", json!(0.2))), adjustment);
        assert_eq!(fields(with("MODIFY_TRUST_SCORE", json!(-1.5))), adjustment);
        assert!(parse(&with("FORCE_ACCEPT_PLAN", Value::Null)).is_ok());
    }
}
