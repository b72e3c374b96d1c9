//! Reading and checking the bodies of the profile and attestation endpoints: every refusal is
//! `422 validation_failed` naming the field that is wrong (`capabilities`,
//! `attestation_data.content`, ...), never just "payload".

use platform_sdk::profile_wire::{AttestRequest, ComplianceLevel, RevocationStatus, RevokeRequest};
use platform_sdk::traffic_cop::canonical_json;
use platform_sdk::traffic_cop::Contract;
use serde::de::DeserializeOwned;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::RuntimeError;

/// Fields the bodies here have, longest paths first, so an error is reported on the most
/// precise one known.
const FIELDS: &[&str] = &[
    "attestation_data.evidence_references",
    "attestation_data.content",
    "attestation_data.context",
    "parent_attestation_id",
    "governance_framework",
    "attestation_data",
    "attestation_type",
    "compliance_level",
    "capabilities",
    "description",
    "expiration",
    "agent_id",
    "reason",
    "status",
    "name",
];

/// Longest accepted texts, in characters.
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 2000;
const MAX_CAPABILITY: usize = 64;
const MAX_CAPABILITIES: usize = 50;
const MAX_FRAMEWORK: usize = 200;
const MAX_REASON: usize = 500;
const MAX_EVIDENCE: usize = 500;
const MAX_EVIDENCE_REFERENCES: usize = 100;
/// Largest canonical `attestation_data`, bytes.
const MAX_DATA_BYTES: usize = 64 * 1024;
/// Default lifetime of an attestation: 365 days.
pub const DEFAULT_LIFETIME_MS: i64 = 365 * 24 * 3600 * 1000;

/// The most precise known field a serde error path points at (`payload` when none).
fn field_of(path: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|f| {
            path.strip_prefix(**f)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
        .copied()
        .unwrap_or("payload")
}

/// Reads the contract's payload as `T`, naming the failing field.
pub fn body<T: DeserializeOwned>(contract: &Contract) -> Result<T, RuntimeError> {
    serde_path_to_error::deserialize(contract.payload.clone()).map_err(|e| {
        let text = e.inner().to_string();
        let mut path = e.path().to_string();
        if let Some(missing) = text
            .strip_prefix("missing field `")
            .and_then(|t| t.split('`').next())
        {
            path = match path.as_str() {
                "." | "" => missing.to_owned(),
                parent => format!("{parent}.{missing}"),
            };
        }
        RuntimeError::invalid(field_of(&path), text)
    })
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A name: 1..=100 characters, not blank.
pub fn name(text: &str) -> Result<(), RuntimeError> {
    if text.trim().is_empty() || chars(text) > MAX_NAME {
        return Err(RuntimeError::invalid(
            "name",
            format!("must be 1 to {MAX_NAME} characters, not blank"),
        ));
    }
    Ok(())
}

/// The optional texts and the capability list of a profile.
pub fn profile_fields(
    description: Option<&str>,
    capabilities: &[String],
    governance_framework: Option<&str>,
) -> Result<(), RuntimeError> {
    if description.is_some_and(|d| chars(d) > MAX_DESCRIPTION) {
        return Err(RuntimeError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if capabilities.len() > MAX_CAPABILITIES {
        return Err(RuntimeError::invalid(
            "capabilities",
            format!("at most {MAX_CAPABILITIES} capabilities"),
        ));
    }
    for (i, capability) in capabilities.iter().enumerate() {
        if capability.trim().is_empty() || chars(capability) > MAX_CAPABILITY {
            return Err(RuntimeError::invalid(
                "capabilities",
                format!("capabilities[{i}] must be 1 to {MAX_CAPABILITY} characters, not blank"),
            ));
        }
        if capabilities[..i].contains(capability) {
            return Err(RuntimeError::invalid(
                "capabilities",
                format!("capabilities[{i}] repeats `{capability}`"),
            ));
        }
    }
    if governance_framework.is_some_and(|g| g.trim().is_empty() || chars(g) > MAX_FRAMEWORK) {
        return Err(RuntimeError::invalid(
            "governance_framework",
            format!("must be 1 to {MAX_FRAMEWORK} characters, not blank"),
        ));
    }
    Ok(())
}

/// The compliance level given, else the default (`standard`).
pub fn compliance_level(given: Option<ComplianceLevel>) -> ComplianceLevel {
    given.unwrap_or_default()
}

/// Checks an attestation request; answers its expiration (epoch ms: the one given, which must
/// be in the future, else `now` + 365 days).
pub fn attest(request: &AttestRequest, now: i64) -> Result<i64, RuntimeError> {
    let data = &request.attestation_data;
    if data.evidence_references.len() > MAX_EVIDENCE_REFERENCES
        || data
            .evidence_references
            .iter()
            .any(|r| r.trim().is_empty() || chars(r) > MAX_EVIDENCE)
    {
        return Err(RuntimeError::invalid(
            "attestation_data.evidence_references",
            format!(
                "at most {MAX_EVIDENCE_REFERENCES} references of 1 to {MAX_EVIDENCE} characters"
            ),
        ));
    }
    let value = serde_json::to_value(data).map_err(|e| RuntimeError::Internal(e.into()))?;
    if canonical_json(&value).len() > MAX_DATA_BYTES {
        return Err(RuntimeError::invalid(
            "attestation_data",
            format!("must be at most {MAX_DATA_BYTES} bytes as canonical JSON"),
        ));
    }
    let Some(text) = request.expiration.as_deref() else {
        return Ok(now + DEFAULT_LIFETIME_MS);
    };
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| RuntimeError::invalid("expiration", "must be an RFC 3339 date-time"))?;
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| RuntimeError::invalid("expiration", "is out of range"))?;
    if ms <= now {
        return Err(RuntimeError::invalid("expiration", "must be in the future"));
    }
    Ok(ms)
}

/// Checks a revocation request; answers the status to move to (`REVOKED` by default).
pub fn revoke(request: &RevokeRequest) -> Result<RevocationStatus, RuntimeError> {
    if request.reason.trim().is_empty() || chars(&request.reason) > MAX_REASON {
        return Err(RuntimeError::invalid(
            "reason",
            format!("must be 1 to {MAX_REASON} characters, not blank"),
        ));
    }
    match request.status.unwrap_or(RevocationStatus::Revoked) {
        RevocationStatus::Active => Err(RuntimeError::invalid(
            "status",
            "must be REVOKED or SUSPENDED",
        )),
        status => Ok(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform_sdk::profile_wire::CreateProfile;
    use serde_json::json;

    fn contract(payload: serde_json::Value) -> Contract {
        Contract {
            contract_id: "c".into(),
            action: "a".into(),
            tenant_id: "t".into(),
            user_id: None,
            session_id: "s".into(),
            issued_at: 0,
            expires_at: 0,
            nonce: "n".into(),
            issuer: "experience".into(),
            audience: "runtime".into(),
            payload,
        }
    }

    fn field(e: RuntimeError) -> &'static str {
        match e {
            RuntimeError::Validation { field, .. } => field,
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let cases = [
            (json!({"name": "x", "capabilities": []}), "agent_id"),
            (
                json!({"agent_id": "guide", "name": 5, "capabilities": []}),
                "name",
            ),
            (
                json!({"agent_id": "guide", "name": "x", "capabilities": [1]}),
                "capabilities",
            ),
            (
                json!({"agent_id": "guide", "name": "x", "capabilities": [], "compliance_level": "lax"}),
                "compliance_level",
            ),
            (json!([]), "payload"),
        ];
        for (payload, expected) in cases {
            let e = body::<CreateProfile>(&contract(payload.clone())).unwrap_err();
            assert_eq!(field(e), expected, "{payload}");
        }
        let e = body::<AttestRequest>(&contract(json!({
            "attestation_type": "AUDIT", "attestation_data": {"content": [], "context": {}}
        })))
        .unwrap_err();
        assert_eq!(field(e), "attestation_data.content");
        let e = body::<AttestRequest>(&contract(json!({
            "attestation_type": "AUDIT", "attestation_data": {"context": {}}
        })))
        .unwrap_err();
        assert_eq!(field(e), "attestation_data.content");
        let e = body::<AttestRequest>(&contract(json!({
            "attestation_type": "GOSSIP", "attestation_data": {"content": {}}
        })))
        .unwrap_err();
        assert_eq!(field(e), "attestation_type");
    }

    #[test]
    fn profile_rules() {
        assert!(name("Guide").is_ok());
        assert_eq!(field(name(" ").unwrap_err()), "name");
        assert_eq!(field(name(&"é".repeat(101)).unwrap_err()), "name");
        assert!(name(&"é".repeat(100)).is_ok());
        let caps = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(profile_fields(None, &caps(&["a", "b"]), Some("iso")).is_ok());
        for (d, c, g, f) in [
            (Some("x".repeat(2001)), caps(&[]), None, "description"),
            (None, caps(&["a", "a"]), None, "capabilities"),
            (None, caps(&[""]), None, "capabilities"),
            (None, vec!["c".repeat(65)], None, "capabilities"),
            (
                None,
                (0..51).map(|i| i.to_string()).collect(),
                None,
                "capabilities",
            ),
            (None, caps(&[]), Some(""), "governance_framework"),
        ] {
            let e = profile_fields(d.as_deref(), &c, g).unwrap_err();
            assert_eq!(field(e), f);
        }
    }

    #[test]
    fn expiration_defaults_to_a_year_and_must_be_future() {
        let request = |expiration: Option<&str>| AttestRequest {
            attestation_type: platform_sdk::profile_wire::AttestationType::Audit,
            attestation_data: serde_json::from_value(json!({"content": {}})).unwrap(),
            expiration: expiration.map(str::to_owned),
            parent_attestation_id: None,
        };
        let now = 1_800_000_000_000;
        assert_eq!(
            attest(&request(None), now).unwrap(),
            now + DEFAULT_LIFETIME_MS
        );
        assert_eq!(
            attest(&request(Some("2030-01-01T01:00:00+01:00")), now).unwrap(),
            1_893_456_000_000
        );
        for bad in ["2020-01-01T00:00:00Z", "tomorrow"] {
            assert_eq!(
                field(attest(&request(Some(bad)), now).unwrap_err()),
                "expiration"
            );
        }
    }

    #[test]
    fn revoke_defaults_to_revoked() {
        let r = |reason: &str, status| RevokeRequest {
            reason: reason.into(),
            status,
        };
        assert_eq!(revoke(&r("bad", None)).unwrap(), RevocationStatus::Revoked);
        assert_eq!(
            revoke(&r("pause", Some(RevocationStatus::Suspended))).unwrap(),
            RevocationStatus::Suspended
        );
        assert_eq!(field(revoke(&r("", None)).unwrap_err()), "reason");
        assert_eq!(
            field(revoke(&r("x", Some(RevocationStatus::Active))).unwrap_err()),
            "status"
        );
    }
}
