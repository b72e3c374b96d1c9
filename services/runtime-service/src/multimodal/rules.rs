//! What a valid multimodal request and policy are, and the request lifecycle (SPEC §15). Pure
//! functions over plain values: the service asks, storage applies.
//!
//! A request is checked in two passes. First its shape (which inputs a modality needs, a
//! sensible media type): a malformed request is `422 validation_failed`. Then the tenant's
//! policy, rule by rule in the documented order, the first failing rule answering
//! `400 policy_violation` naming it: `modality` (allowed), `text_length`, `timeout`, `base64`
//! (strict: standard alphabet, padded, nothing else), `artifact_size` (decoded bytes).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use platform_sdk::multimodal_wire::{
    Modality, MultimodalPolicy, MultimodalRequestInput, RequestState,
};

use crate::error::RuntimeError;

/// `requested_timeout_seconds` when the client does not say.
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 60;
/// The largest `max_artifact_bytes` a policy may set (the request body limit follows it).
pub const MAX_ARTIFACT_BYTES: u64 = 5_000_000;
/// The largest `max_text_chars` a policy may set.
pub const MAX_TEXT_CHARS: u32 = 1_000_000;
/// The largest `max_timeout_seconds` a policy may set.
pub const MAX_TIMEOUT_SECONDS: u32 = 3600;

/// A request that passed every check, with its artifact decoded.
#[derive(Debug)]
pub struct Checked {
    /// What is asked for.
    pub modality: Modality,
    /// The input text, if any.
    pub input_text: Option<String>,
    /// The decoded artifact and its media type, if any.
    pub artifact: Option<(Vec<u8>, String)>,
    /// The enforced time limit, seconds.
    pub timeout_seconds: i64,
    /// Run at once.
    pub execute_now: bool,
}

fn violation(rule: &'static str, message: String) -> RuntimeError {
    RuntimeError::PolicyViolation { rule, message }
}

/// A media type: `type/subtype`, printable ASCII without spaces, at most 100 bytes.
fn media_type_ok(value: &str) -> bool {
    let Some((kind, sub)) = value.split_once('/') else {
        return false;
    };
    value.len() <= 100
        && !kind.is_empty()
        && !sub.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

/// The media type of an artifact given none: sniffed from the bytes.
fn sniffed(modality: Modality, data: &[u8]) -> String {
    match image::guess_format(data) {
        Ok(format) => format.to_mime_type().to_owned(),
        Err(_) if data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WAVE") => {
            "audio/wav".to_owned()
        }
        Err(_) if modality == Modality::SpeechToText => "audio/wav".to_owned(),
        Err(_) => "application/octet-stream".to_owned(),
    }
}

/// Checks a create body against its shape and then the tenant's `policy`.
pub fn check(
    input: MultimodalRequestInput,
    policy: &MultimodalPolicy,
) -> Result<Checked, RuntimeError> {
    let needs_artifact = input.modality != Modality::TextToSpeech;
    let text = input.input_text.filter(|t| !t.is_empty());
    let encoded = input.input_artifact_base64.filter(|a| !a.is_empty());
    if needs_artifact && encoded.is_none() {
        return Err(RuntimeError::invalid(
            "input_artifact_base64",
            format!("{} needs an input artifact", input.modality.as_str()),
        ));
    }
    if !needs_artifact {
        if text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(RuntimeError::invalid(
                "input_text",
                "text_to_speech needs non-blank input_text",
            ));
        }
        if encoded.is_some() {
            return Err(RuntimeError::invalid(
                "input_artifact_base64",
                "text_to_speech takes no input artifact",
            ));
        }
    }
    if let Some(ct) = &input.content_type {
        if !media_type_ok(ct) {
            return Err(RuntimeError::invalid(
                "content_type",
                "must be a media type such as image/png (at most 100 characters)",
            ));
        }
    }
    if text.as_deref().is_some_and(|t| t.contains('\0')) {
        return Err(RuntimeError::invalid("input_text", "must not contain NUL"));
    }

    if !policy.allowed_modalities.contains(&input.modality) {
        return Err(violation(
            "modality",
            format!(
                "{} is not among the tenant's allowed modalities",
                input.modality.as_str()
            ),
        ));
    }
    if let Some(t) = &text {
        let chars = t.chars().count();
        if chars > policy.max_text_chars as usize {
            return Err(violation(
                "text_length",
                format!(
                    "input_text has {chars} characters; the tenant allows at most {}",
                    policy.max_text_chars
                ),
            ));
        }
    }
    let timeout = input
        .requested_timeout_seconds
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if timeout < 1 || timeout > i64::from(policy.max_timeout_seconds) {
        return Err(violation(
            "timeout",
            format!(
                "requested_timeout_seconds must be from 1 to {} (got {timeout})",
                policy.max_timeout_seconds
            ),
        ));
    }
    let artifact = match encoded {
        None => None,
        Some(encoded) => {
            let most = policy.max_artifact_bytes;
            let data = STANDARD.decode(encoded.as_bytes()).map_err(|e| {
                violation(
                    "base64",
                    format!("input_artifact_base64 is not strict base64 ({e})"),
                )
            })?;
            if data.len() as u64 > most {
                return Err(violation(
                    "artifact_size",
                    format!(
                        "the decoded artifact has {} bytes; the tenant allows at most {most}",
                        data.len()
                    ),
                ));
            }
            let content_type = input
                .content_type
                .unwrap_or_else(|| sniffed(input.modality, &data));
            Some((data, content_type))
        }
    };
    Ok(Checked {
        modality: input.modality,
        input_text: text,
        artifact,
        timeout_seconds: timeout,
        execute_now: input.execute_now.unwrap_or(true),
    })
}

/// Checks a policy an admin wants to set (`422 validation_failed` naming the field).
pub fn check_policy(policy: &mut MultimodalPolicy) -> Result<(), RuntimeError> {
    if !(1..=MAX_TEXT_CHARS).contains(&policy.max_text_chars) {
        return Err(RuntimeError::invalid(
            "max_text_chars",
            format!("must be from 1 to {MAX_TEXT_CHARS}"),
        ));
    }
    if !(1..=MAX_ARTIFACT_BYTES).contains(&policy.max_artifact_bytes) {
        return Err(RuntimeError::invalid(
            "max_artifact_bytes",
            format!("must be from 1 to {MAX_ARTIFACT_BYTES}"),
        ));
    }
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&policy.max_timeout_seconds) {
        return Err(RuntimeError::invalid(
            "max_timeout_seconds",
            format!("must be from 1 to {MAX_TIMEOUT_SECONDS}"),
        ));
    }
    let mut seen = Vec::new();
    for m in &policy.allowed_modalities {
        if seen.contains(m) {
            return Err(RuntimeError::invalid(
                "allowed_modalities",
                format!("lists {} twice", m.as_str()),
            ));
        }
        seen.push(*m);
    }
    // Stored in the documented order, so reading it back answers the same list for the same set.
    policy
        .allowed_modalities
        .sort_by_key(|m| Modality::ALL.iter().position(|x| x == m));
    Ok(())
}

/// What a client (or the operations hub) asks of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Run it (`pending → processing`), or retry it (`failed → processing`).
    Execute,
    /// Cancel it (`pending | processing → cancelled`).
    Cancel,
}

impl Action {
    /// As the 409 names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Execute => "execute",
            Self::Cancel => "cancel",
        }
    }
}

/// Where `action` takes a request in `from`, or the `409 invalid_transition` naming both.
pub fn after(from: RequestState, action: Action) -> Result<RequestState, RuntimeError> {
    use RequestState::*;
    match (from, action) {
        (Pending | Failed, Action::Execute) => Ok(Processing),
        (Pending | Processing, Action::Cancel) => Ok(Cancelled),
        _ => Err(RuntimeError::InvalidTransition {
            what: "multimodal request",
            current: from.as_str().to_owned(),
            action: action.as_str(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(modality: Modality) -> MultimodalRequestInput {
        MultimodalRequestInput {
            modality,
            input_text: None,
            input_artifact_base64: Some(STANDARD.encode([1u8, 2, 3])),
            content_type: None,
            requested_timeout_seconds: None,
            execute_now: None,
        }
    }

    fn rule(r: Result<Checked, RuntimeError>) -> &'static str {
        match r {
            Err(RuntimeError::PolicyViolation { rule, .. }) => rule,
            other => panic!("not a policy violation: {other:?}"),
        }
    }

    #[test]
    fn the_first_failing_rule_wins() {
        let policy = MultimodalPolicy {
            max_text_chars: 3,
            max_artifact_bytes: 2,
            max_timeout_seconds: 10,
            allowed_modalities: vec![Modality::VisionAnalysis],
        };
        let mut all_bad = input(Modality::SpeechToText);
        all_bad.input_text = Some("long text".into());
        all_bad.requested_timeout_seconds = Some(11);
        all_bad.input_artifact_base64 = Some("not base64!".into());
        assert_eq!(rule(check(all_bad.clone(), &policy)), "modality");
        all_bad.modality = Modality::VisionAnalysis;
        assert_eq!(rule(check(all_bad.clone(), &policy)), "text_length");
        all_bad.input_text = Some("ok".into());
        assert_eq!(rule(check(all_bad.clone(), &policy)), "timeout");
        all_bad.requested_timeout_seconds = Some(0);
        assert_eq!(rule(check(all_bad.clone(), &policy)), "timeout");
        all_bad.requested_timeout_seconds = Some(10);
        assert_eq!(rule(check(all_bad.clone(), &policy)), "base64");
        all_bad.input_artifact_base64 = Some("AQID".into()); // 3 bytes
        assert_eq!(rule(check(all_bad.clone(), &policy)), "artifact_size");
        all_bad.input_artifact_base64 = Some("AQI=".into()); // 2 bytes
        let ok = check(all_bad, &policy).unwrap();
        assert_eq!(ok.artifact.unwrap().0, vec![1, 2]);
    }

    #[test]
    fn base64_is_strict() {
        let policy = MultimodalPolicy::default();
        for bad in ["AQI", "AQ I=", "AQI=\n", "AQ-_"] {
            let mut i = input(Modality::VisionAnalysis);
            i.input_artifact_base64 = Some(bad.into());
            assert_eq!(rule(check(i, &policy)), "base64", "{bad}");
        }
    }

    #[test]
    fn lifecycle_moves() {
        use RequestState::*;
        assert_eq!(after(Pending, Action::Execute).unwrap(), Processing);
        assert_eq!(after(Failed, Action::Execute).unwrap(), Processing);
        assert_eq!(after(Processing, Action::Cancel).unwrap(), Cancelled);
        for (from, action) in [
            (Processing, Action::Execute),
            (Completed, Action::Execute),
            (Cancelled, Action::Execute),
            (Completed, Action::Cancel),
            (Failed, Action::Cancel),
            (Cancelled, Action::Cancel),
        ] {
            let e = after(from, action).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "cannot {} a multimodal request that is {}",
                    action.as_str(),
                    from.as_str()
                )
            );
        }
    }
}
