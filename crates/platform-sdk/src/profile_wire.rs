//! Wire types of agent profiles and signed attestations (SPEC §9), shared by the runtime that
//! produces them, the experience gateway that documents them, and the tests that verify
//! attestation signatures offline.
//!
//! What exactly is signed is written down once, on [`AttestationRecord`]; the design is in
//! docs/adr/0017-attestation-keys.md.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The intent actions of the profile and attestation endpoints (each mutation is a signed
/// intent for one of these).
pub mod actions {
    /// Create an agent profile.
    pub const CREATE_PROFILE: &str = "create_agent_profile";
    /// Replace an agent profile's defining fields.
    pub const UPDATE_PROFILE: &str = "update_agent_profile";
    /// Issue a signed attestation about a profile.
    pub const ATTEST: &str = "attest_agent_profile";
    /// Revoke or suspend an attestation.
    pub const REVOKE_ATTESTATION: &str = "revoke_attestation";
    /// Make a new active attestation key for the tenant.
    pub const ROTATE_ATTESTATION_KEY: &str = "rotate_attestation_key";
}

/// How strictly an agent is governed (an input of the profile, `standard` when not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum ComplianceLevel {
    /// Every rule applies, nothing is waived.
    Strict,
    /// The default.
    #[default]
    Standard,
    /// Only the platform's own rules.
    Minimal,
}

impl ComplianceLevel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Standard => "standard",
            Self::Minimal => "minimal",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Strict, Self::Standard, Self::Minimal]
            .into_iter()
            .find(|l| l.as_str() == text)
    }
}

/// Body of `POST /api/agents/profiles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateProfile {
    /// A catalog agent of the tenant: `guide`, `liaison.<pillar>` or one of its wrappers.
    pub agent_id: String,
    /// 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At most 50 entries of 1..=64 characters, no duplicates; order is kept.
    #[schema(max_items = 50)]
    pub capabilities: Vec<String>,
    /// The framework the agent is governed under (1..=200 characters).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub governance_framework: Option<String>,
    /// Defaults to `standard`.
    #[serde(default)]
    pub compliance_level: Option<ComplianceLevel>,
}

/// Body of `PUT /api/agents/profiles/{id}`: the new defining fields (a full replacement; the
/// agent cannot change, so `agent_id`, when sent, must be the profile's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UpdateProfile {
    /// Must be the profile's agent when given.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At most 50 entries of 1..=64 characters, no duplicates.
    #[schema(max_items = 50)]
    pub capabilities: Vec<String>,
    /// 1..=200 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub governance_framework: Option<String>,
    /// Defaults to `standard`.
    #[serde(default)]
    pub compliance_level: Option<ComplianceLevel>,
}

/// Who a profile is, as governance sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GovernanceIdentity {
    /// `sha256:<hex>` of the canonical JSON of `{agent_id, capabilities, compliance_level,
    /// description, governance_framework, name}` (absent optional fields as `null`).
    pub constitution_hash: String,
    /// Strict, standard or minimal.
    pub compliance_level: ComplianceLevel,
    /// The tenant's active attestation key when this version was written.
    pub key_id: String,
}

/// An agent profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProfileRecord {
    /// `prof_…`.
    pub id: String,
    /// The agent described.
    pub agent_id: String,
    /// Display name.
    pub name: String,
    /// Free text, or `null`.
    pub description: Option<String>,
    /// What the agent may do.
    pub capabilities: Vec<String>,
    /// Governance framework, or `null`.
    pub governance_framework: Option<String>,
    /// Hash, level and key.
    pub governance_identity: GovernanceIdentity,
    /// 1 at creation, +1 on every update that changes the constitution hash.
    pub version: i64,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// A page of profiles, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProfileList {
    /// The profiles.
    pub items: Vec<ProfileRecord>,
    /// Cursor of the next page, or `null`.
    pub next_cursor: Option<String>,
}

/// What an attestation asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum AttestationType {
    /// The agent was verified.
    Verification,
    /// The agent was certified.
    Certification,
    /// The agent was approved.
    Approval,
    /// The agent was audited.
    Audit,
    /// The agent complies.
    Compliance,
    /// Authority was delegated.
    Delegation,
}

impl AttestationType {
    /// Every type.
    pub const ALL: [Self; 6] = [
        Self::Verification,
        Self::Certification,
        Self::Approval,
        Self::Audit,
        Self::Compliance,
        Self::Delegation,
    ];

    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verification => "VERIFICATION",
            Self::Certification => "CERTIFICATION",
            Self::Approval => "APPROVAL",
            Self::Audit => "AUDIT",
            Self::Compliance => "COMPLIANCE",
            Self::Delegation => "DELEGATION",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Where an attestation stands: `ACTIVE → SUSPENDED → REVOKED`, `ACTIVE → REVOKED`; `REVOKED`
/// is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RevocationStatus {
    /// In force.
    Active,
    /// Paused; can still be revoked.
    Suspended,
    /// Withdrawn for good.
    Revoked,
}

impl RevocationStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Active, Self::Suspended, Self::Revoked];

    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::Revoked => "REVOKED",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What is attested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttestationData {
    /// The claim itself (any JSON object).
    #[schema(value_type = Object)]
    pub content: serde_json::Map<String, serde_json::Value>,
    /// Circumstances of the claim (any JSON object; `{}` when not given).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: serde_json::Map<String, serde_json::Value>,
    /// References to evidence (at most 100 of 1..=500 characters; `[]` when not given).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub evidence_references: Vec<String>,
}

/// Body of `POST /api/agents/profiles/{id}/attest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttestRequest {
    /// What is asserted.
    pub attestation_type: AttestationType,
    /// The claim.
    pub attestation_data: AttestationData,
    /// RFC 3339, in the future; default one year (365 days) from now.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub expiration: Option<String>,
    /// An attestation of the same tenant this one derives from (it must be `ACTIVE` and
    /// unexpired).
    #[serde(default)]
    pub parent_attestation_id: Option<String>,
}

/// The signature of an attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationSignature {
    /// Always `ED25519`.
    pub algorithm: String,
    /// The 64-byte signature, base64 (standard alphabet, padded).
    pub value: String,
    /// The `kid` of the tenant key that signed (see `GET /api/governance/keys`).
    pub key_id: String,
}

/// Unsigned, changeable facts about an attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationMetadata {
    /// ACTIVE, SUSPENDED or REVOKED.
    pub revocation_status: RevocationStatus,
    /// Why it was suspended or revoked, or `null`.
    pub revocation_reason: Option<String>,
    /// When it was last suspended or revoked (RFC 3339 UTC), or `null`.
    pub revoked_at: Option<String>,
}

/// A signed attestation.
///
/// **What is signed**: the UTF-8 bytes of the canonical JSON
/// (`platform_sdk::traffic_cop::canonical_json`: object keys sorted by their UTF-8 bytes, no
/// whitespace, strings and numbers as `serde_json` writes them) of this object **without** its
/// `signature` and `metadata` members, i.e. of `{attestation_data, attestation_id,
/// attestation_type, claim_id, expiration, issuer_id, parent_attestation_id, profile_id,
/// subject_id, timestamp}` exactly as they appear in this JSON (`parent_attestation_id: null`
/// included). The signature is Ed25519 (RFC 8032) by the key `signature.key_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttestationRecord {
    /// `att_…`.
    pub attestation_id: String,
    /// What is asserted.
    pub attestation_type: AttestationType,
    /// The profile attested.
    pub profile_id: String,
    /// The user who issued it.
    pub issuer_id: String,
    /// The agent the profile describes (its `agent_id`).
    pub subject_id: String,
    /// The profile's `constitution_hash` when attested: the exact profile version vouched for.
    pub claim_id: String,
    /// When issued, RFC 3339 UTC.
    pub timestamp: String,
    /// When it stops being valid, RFC 3339 UTC.
    pub expiration: String,
    /// The claim.
    pub attestation_data: AttestationData,
    /// The attestation this one derives from, or `null`.
    pub parent_attestation_id: Option<String>,
    /// Ed25519 over the canonical form described above.
    pub signature: AttestationSignature,
    /// Revocation status (not signed).
    pub metadata: AttestationMetadata,
}

/// A page of attestations, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttestationList {
    /// The attestations.
    pub items: Vec<AttestationRecord>,
    /// Cursor of the next page, or `null`.
    pub next_cursor: Option<String>,
}

/// Body of `POST …/attestations/{att_id}/revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// Why (1..=500 characters, not blank).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// `REVOKED` (default) or `SUSPENDED`.
    #[serde(default)]
    pub status: Option<RevocationStatus>,
}

/// The individual checks of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationChecks {
    /// The stored signature verifies, against the stored key, over the bytes rebuilt from the
    /// stored fields.
    pub signature: bool,
    /// The expiration is in the future.
    pub not_expired: bool,
    /// The attestation is `ACTIVE`.
    pub not_revoked: bool,
    /// Every ancestor exists in the tenant and passes these same checks (true without a parent).
    pub chain: bool,
}

/// Answer of `GET …/attestations/{att_id}/verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    /// Every check passed.
    pub valid: bool,
    /// The checks.
    pub checks: VerificationChecks,
}

/// One public attestation key as a JWK (RFC 8037: `OKP` / `Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicJwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The 32-byte public key, base64url without padding.
    pub x: String,
    /// Key id (`signature.key_id` of the attestations it signed).
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `active` (signs new attestations) or `retired` (still verifies old ones).
    pub status: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// Answer of `GET /api/governance/keys`: the tenant's public keys, the active one first, then
/// the retired ones, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeySet {
    /// The keys.
    pub keys: Vec<PublicJwk>,
}
