//! The exact bytes behind a profile's constitution hash and an attestation's signature, written
//! once so that signing, verifying and the documentation agree (docs/adr/0017).
//!
//! Both use the SDK's canonical JSON (`platform_sdk::traffic_cop::canonical_json`: keys sorted by
//! their UTF-8 bytes, no whitespace, strings and numbers as `serde_json` writes them), the same
//! form intents are signed over, so an outsider needs one rule for both.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use platform_sdk::profile_wire::{AttestationRecord, ComplianceLevel};
use platform_sdk::traffic_cop::canonical_json;
use serde_json::json;
use sha2::{Digest as _, Sha256};

/// The fields that define a profile: what its constitution hash covers.
#[derive(Debug, Clone, Copy)]
pub struct Constitution<'a> {
    /// The agent.
    pub agent_id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Free text.
    pub description: Option<&'a str>,
    /// Capabilities, in their stored order.
    pub capabilities: &'a [String],
    /// Governance framework.
    pub governance_framework: Option<&'a str>,
    /// Compliance level.
    pub compliance_level: ComplianceLevel,
}

impl Constitution<'_> {
    /// The canonical JSON of `{agent_id, capabilities, compliance_level, description,
    /// governance_framework, name}` (absent optional fields as `null`).
    pub fn canonical(&self) -> String {
        canonical_json(&json!({
            "agent_id": self.agent_id,
            "name": self.name,
            "description": self.description,
            "capabilities": self.capabilities,
            "governance_framework": self.governance_framework,
            "compliance_level": self.compliance_level.as_str(),
        }))
    }

    /// `sha256:<lower-case hex>` of [`Self::canonical`].
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.canonical().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

/// The signed text of an attestation: the canonical JSON of the record without its `signature`
/// and `metadata` members (their contents do not matter here).
pub fn signed_text(record: &AttestationRecord) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(record)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("signature");
        map.remove("metadata");
    }
    Ok(canonical_json(&value))
}

/// Signs `text` (its UTF-8 bytes); the signature in base64 (standard alphabet, padded).
pub fn sign(key: &SigningKey, text: &str) -> String {
    STANDARD.encode(key.sign(text.as_bytes()).to_bytes())
}

/// True when `signature` (base64 standard) is a valid strict Ed25519 signature of `text` by `key`.
pub fn verify(key: &VerifyingKey, text: &str, signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify_strict(text.as_bytes(), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform_sdk::profile_wire::{
        AttestationData, AttestationMetadata, AttestationSignature, AttestationType,
        RevocationStatus,
    };

    fn record() -> AttestationRecord {
        let mut content = serde_json::Map::new();
        content.insert("score".into(), json!(0.93));
        content.insert("b".into(), json!({"z": 1, "a": "é\"\n"}));
        AttestationRecord {
            attestation_id: "att_1".into(),
            attestation_type: AttestationType::Audit,
            profile_id: "prof_1".into(),
            issuer_id: "user-1".into(),
            subject_id: "guide".into(),
            claim_id: "sha256:00".into(),
            timestamp: "2026-12-06T18:00:00.123Z".into(),
            expiration: "2027-12-06T18:00:00Z".into(),
            attestation_data: AttestationData {
                content,
                context: serde_json::Map::new(),
                evidence_references: vec!["doc://1".into()],
            },
            parent_attestation_id: None,
            signature: AttestationSignature {
                algorithm: "ED25519".into(),
                value: String::new(),
                key_id: "atk_1".into(),
            },
            metadata: AttestationMetadata {
                revocation_status: RevocationStatus::Active,
                revocation_reason: None,
                revoked_at: None,
            },
        }
    }

    #[test]
    fn signed_text_is_sorted_compact_and_leaves_out_signature_and_metadata() {
        let text = signed_text(&record()).unwrap();
        assert_eq!(
            text,
            "{\"attestation_data\":{\"content\":{\"b\":{\"a\":\"é\\\"\\n\",\"z\":1},\"score\":0.93},\
             \"context\":{},\"evidence_references\":[\"doc://1\"]},\"attestation_id\":\"att_1\",\
             \"attestation_type\":\"AUDIT\",\"claim_id\":\"sha256:00\",\
             \"expiration\":\"2027-12-06T18:00:00Z\",\"issuer_id\":\"user-1\",\
             \"parent_attestation_id\":null,\"profile_id\":\"prof_1\",\"subject_id\":\"guide\",\
             \"timestamp\":\"2026-12-06T18:00:00.123Z\"}"
        );
        // Revocation and the signature itself change nothing that is signed.
        let mut revoked = record();
        revoked.metadata.revocation_status = RevocationStatus::Revoked;
        revoked.signature.value = "x".into();
        assert_eq!(signed_text(&revoked).unwrap(), text);
    }

    #[test]
    fn sign_then_verify_and_any_change_fails() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let text = signed_text(&record()).unwrap();
        let signature = sign(&key, &text);
        assert_eq!(STANDARD.decode(&signature).unwrap().len(), 64);
        assert!(verify(&key.verifying_key(), &text, &signature));

        let mut changed = record();
        changed.subject_id = "liaison.content".into();
        assert!(!verify(
            &key.verifying_key(),
            &signed_text(&changed).unwrap(),
            &signature
        ));
        let mut bytes = STANDARD.decode(&signature).unwrap();
        bytes[10] ^= 1;
        assert!(!verify(
            &key.verifying_key(),
            &text,
            &STANDARD.encode(bytes)
        ));
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(!verify(&other.verifying_key(), &text, &signature));
        assert!(!verify(&key.verifying_key(), &text, "not base64!"));
    }

    #[test]
    fn constitution_hash_covers_every_defining_field() {
        let caps = vec!["search".to_owned(), "summarise".to_owned()];
        let base = Constitution {
            agent_id: "guide",
            name: "Guide",
            description: None,
            capabilities: &caps,
            governance_framework: None,
            compliance_level: ComplianceLevel::Standard,
        };
        assert_eq!(
            base.canonical(),
            "{\"agent_id\":\"guide\",\"capabilities\":[\"search\",\"summarise\"],\
             \"compliance_level\":\"standard\",\"description\":null,\
             \"governance_framework\":null,\"name\":\"Guide\"}"
        );
        let hash = base.hash();
        assert!(
            hash.starts_with("sha256:") && hash.len() == 7 + 64,
            "{hash}"
        );
        let fewer = vec!["search".to_owned()];
        let variants = [
            Constitution {
                name: "Guide 2",
                ..base
            },
            Constitution {
                description: Some(""),
                ..base
            },
            Constitution {
                capabilities: &fewer,
                ..base
            },
            Constitution {
                governance_framework: Some("iso-42001"),
                ..base
            },
            Constitution {
                compliance_level: ComplianceLevel::Strict,
                ..base
            },
            Constitution {
                agent_id: "liaison.content",
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(variant.hash(), hash, "{}", variant.canonical());
        }
        assert_eq!(base.hash(), hash, "deterministic");
    }
}
