//! Profiles, attestations and attestation keys in SQL. Every query is scoped by tenant, so
//! another tenant's id reads as absent. JSON is TEXT, instants epoch ms (portable SQL).

use platform_sdk::page::{self, Cursor};
use platform_sdk::profile_wire::{
    AttestationData, AttestationMetadata, AttestationRecord, AttestationSignature, AttestationType,
    ComplianceLevel, GovernanceIdentity, ProfileRecord, RevocationStatus,
};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

type Db<'c> = &'c mut sqlx::AnyConnection;

fn decode(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} does not parse").into())
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|_| decode(what))
}

// --- profiles -------------------------------------------------------------------------------

const PROFILE_COLUMNS: &str =
    "id, agent_id, name, description, capabilities, governance_framework, \
     compliance_level, constitution_hash, key_id, version, created_at, updated_at";

fn profile(r: &AnyRow) -> Result<(ProfileRecord, i64), sqlx::Error> {
    let level: String = r.try_get(6)?;
    let compliance_level =
        ComplianceLevel::parse(&level).ok_or_else(|| decode("compliance level"))?;
    let capabilities: String = r.try_get(4)?;
    let created_at: i64 = r.try_get(10)?;
    Ok((
        ProfileRecord {
            id: r.try_get(0)?,
            agent_id: r.try_get(1)?,
            name: r.try_get(2)?,
            description: r.try_get(3)?,
            capabilities: json(&capabilities, "capabilities")?,
            governance_framework: r.try_get(5)?,
            governance_identity: GovernanceIdentity {
                constitution_hash: r.try_get(7)?,
                compliance_level,
                key_id: r.try_get(8)?,
            },
            version: r.try_get(9)?,
            created_at: rfc3339_ms(created_at),
            updated_at: rfc3339_ms(r.try_get(11)?),
        },
        created_at,
    ))
}

/// The defining fields of a profile version, as stored.
#[derive(Debug, Clone, Copy)]
pub struct ProfileFields<'a> {
    /// Display name.
    pub name: &'a str,
    /// Free text.
    pub description: Option<&'a str>,
    /// Capabilities.
    pub capabilities: &'a [String],
    /// Governance framework.
    pub governance_framework: Option<&'a str>,
    /// Compliance level.
    pub compliance_level: ComplianceLevel,
    /// Constitution hash of these fields.
    pub constitution_hash: &'a str,
    /// The active key when written.
    pub key_id: &'a str,
}

/// Inserts a new profile (version 1).
pub async fn insert_profile(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
    agent_id: &str,
    created_by: &str,
    f: ProfileFields<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agent_profiles (id, tenant_id, agent_id, name, description, capabilities, \
         governance_framework, compliance_level, constitution_hash, key_id, version, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(agent_id)
    .bind(f.name)
    .bind(f.description)
    .bind(serde_json::to_string(f.capabilities).map_err(|e| sqlx::Error::Encode(e.into()))?)
    .bind(f.governance_framework)
    .bind(f.compliance_level.as_str())
    .bind(f.constitution_hash)
    .bind(f.key_id)
    .bind(created_by)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Replaces the defining fields of a profile that is still at `version` (bumping it); false when
/// it changed in the meantime (or is not the tenant's).
pub async fn update_profile(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
    version: i64,
    f: ProfileFields<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE agent_profiles SET name = $1, description = $2, capabilities = $3, \
         governance_framework = $4, compliance_level = $5, constitution_hash = $6, key_id = $7, \
         version = version + 1, updated_at = $8 WHERE id = $9 AND tenant_id = $10 AND version = $11",
    )
    .bind(f.name)
    .bind(f.description)
    .bind(serde_json::to_string(f.capabilities).map_err(|e| sqlx::Error::Encode(e.into()))?)
    .bind(f.governance_framework)
    .bind(f.compliance_level.as_str())
    .bind(f.constitution_hash)
    .bind(f.key_id)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .bind(version)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// One of the tenant's profiles.
pub async fn profile_by_id(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Option<ProfileRecord>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS} FROM agent_profiles WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?
    .map(|r| profile(&r).map(|(p, _)| p))
    .transpose()
}

/// One page of the tenant's profiles (of one agent, when given), newest first, each with its
/// sort key (`created_at`).
pub async fn profiles(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: Option<&str>,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<(ProfileRecord, i64)>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS} FROM agent_profiles WHERE tenant_id = $1 \
         AND ($2 IS NULL OR agent_id = $2) AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(tenant_id)
    .bind(agent_id)
    .bind(key)
    .bind(id)
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(profile)
    .collect()
}

// --- attestations ---------------------------------------------------------------------------

/// An attestation as stored: the record plus its instants in ms.
#[derive(Debug, Clone)]
pub struct StoredAttestation {
    /// The record as answered (and, less signature and metadata, as signed).
    pub record: AttestationRecord,
    /// `timestamp`, epoch ms.
    pub issued_at: i64,
    /// `expiration`, epoch ms.
    pub expires_at: i64,
}

const ATTESTATION_COLUMNS: &str =
    "id, attestation_type, profile_id, issuer_id, subject_id, claim_id, \
     issued_at, expires_at, attestation_data, parent_attestation_id, key_id, signature, \
     revocation_status, revocation_reason, revoked_at";

fn attestation(r: &AnyRow) -> Result<StoredAttestation, sqlx::Error> {
    let kind: String = r.try_get(1)?;
    let status: String = r.try_get(12)?;
    let data: String = r.try_get(8)?;
    let issued_at: i64 = r.try_get(6)?;
    let expires_at: i64 = r.try_get(7)?;
    let revoked_at: Option<i64> = r.try_get(14)?;
    let data: AttestationData = json(&data, "attestation data")?;
    Ok(StoredAttestation {
        record: AttestationRecord {
            attestation_id: r.try_get(0)?,
            attestation_type: AttestationType::parse(&kind).ok_or_else(|| decode("type"))?,
            profile_id: r.try_get(2)?,
            issuer_id: r.try_get(3)?,
            subject_id: r.try_get(4)?,
            claim_id: r.try_get(5)?,
            timestamp: rfc3339_ms(issued_at),
            expiration: rfc3339_ms(expires_at),
            attestation_data: data,
            parent_attestation_id: r.try_get(9)?,
            signature: AttestationSignature {
                algorithm: "ED25519".into(),
                key_id: r.try_get(10)?,
                value: r.try_get(11)?,
            },
            metadata: AttestationMetadata {
                revocation_status: RevocationStatus::parse(&status)
                    .ok_or_else(|| decode("status"))?,
                revocation_reason: r.try_get(13)?,
                revoked_at: revoked_at.map(rfc3339_ms),
            },
        },
        issued_at,
        expires_at,
    })
}

/// Inserts a signed attestation. With a parent, the insert happens only while that parent is
/// still `ACTIVE` in the tenant (checked in the same statement); false when it was not.
pub async fn insert_attestation(
    pool: &AnyPool,
    tenant_id: &str,
    a: &StoredAttestation,
) -> Result<bool, sqlx::Error> {
    let r = &a.record;
    let data =
        serde_json::to_string(&r.attestation_data).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO attestations (id, tenant_id, profile_id, attestation_type, issuer_id, \
         subject_id, claim_id, issued_at, expires_at, attestation_data, parent_attestation_id, \
         key_id, signature, revocation_status) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 WHERE $11 IS NULL OR \
         EXISTS (SELECT 1 FROM attestations p WHERE p.id = $11 AND p.tenant_id = $2 \
         AND p.revocation_status = 'ACTIVE')",
    )
    .bind(&r.attestation_id)
    .bind(tenant_id)
    .bind(&r.profile_id)
    .bind(r.attestation_type.as_str())
    .bind(&r.issuer_id)
    .bind(&r.subject_id)
    .bind(&r.claim_id)
    .bind(a.issued_at)
    .bind(a.expires_at)
    .bind(data)
    .bind(r.parent_attestation_id.as_deref())
    .bind(&r.signature.key_id)
    .bind(&r.signature.value)
    .bind(r.metadata.revocation_status.as_str())
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// One of the tenant's attestations.
pub async fn attestation_by_id(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Option<StoredAttestation>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {ATTESTATION_COLUMNS} FROM attestations WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?
    .map(|r| attestation(&r))
    .transpose()
}

/// The filters of an attestation list.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttestationFilter {
    /// Only this type.
    pub kind: Option<AttestationType>,
    /// Only this status.
    pub status: Option<RevocationStatus>,
}

/// One page of a profile's attestations, newest first.
pub async fn attestations(
    pool: &AnyPool,
    tenant_id: &str,
    profile_id: &str,
    filter: AttestationFilter,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<StoredAttestation>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    sqlx::query(&format!(
        "SELECT {ATTESTATION_COLUMNS} FROM attestations WHERE tenant_id = $1 AND profile_id = $2 \
         AND ($3 IS NULL OR attestation_type = $3) AND ($4 IS NULL OR revocation_status = $4) \
         AND (issued_at < $5 OR (issued_at = $5 AND id < $6)) \
         ORDER BY issued_at DESC, id DESC LIMIT $7"
    ))
    .bind(tenant_id)
    .bind(profile_id)
    .bind(filter.kind.map(AttestationType::as_str))
    .bind(filter.status.map(RevocationStatus::as_str))
    .bind(key)
    .bind(id)
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(attestation)
    .collect()
}

/// Moves an attestation from `from` to `to` (with the reason, who and when); false when it was
/// no longer in `from`.
#[allow(clippy::too_many_arguments)]
pub async fn set_revocation(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
    from: RevocationStatus,
    to: RevocationStatus,
    reason: &str,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE attestations SET revocation_status = $1, revocation_reason = $2, revoked_by = $3, \
         revoked_at = $4 WHERE id = $5 AND tenant_id = $6 AND revocation_status = $7",
    )
    .bind(to.as_str())
    .bind(reason)
    .bind(by)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .bind(from.as_str())
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1)
}

// --- keys -----------------------------------------------------------------------------------

/// One attestation key as stored.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// Public key, base64url without padding.
    pub public_key: String,
    /// Sealed seed (see `super::keys::Sealer`).
    pub sealed_seed: String,
    /// `active` or `retired`.
    pub status: String,
    /// Epoch ms.
    pub created_at: i64,
}

const KEY_COLUMNS: &str = "kid, public_key, sealed_seed, status, created_at";

fn key_row(r: &AnyRow) -> Result<KeyRow, sqlx::Error> {
    Ok(KeyRow {
        kid: r.try_get(0)?,
        public_key: r.try_get(1)?,
        sealed_seed: r.try_get(2)?,
        status: r.try_get(3)?,
        created_at: r.try_get(4)?,
    })
}

/// The tenant's active key.
pub async fn active_key(db: Db<'_>, tenant_id: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM attestation_keys WHERE tenant_id = $1 AND status = 'active'"
    ))
    .bind(tenant_id)
    .fetch_optional(db)
    .await?
    .map(|r| key_row(&r))
    .transpose()
}

/// Inserts a key; false (nothing written) when it would be a second active key of the tenant.
pub async fn insert_key(db: Db<'_>, tenant_id: &str, key: &KeyRow) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO attestation_keys (kid, tenant_id, public_key, sealed_seed, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&key.kid)
    .bind(tenant_id)
    .bind(&key.public_key)
    .bind(&key.sealed_seed)
    .bind(&key.status)
    .bind(key.created_at)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Retires the tenant's active key, if any.
pub async fn retire_active_key(db: Db<'_>, tenant_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE attestation_keys SET status = 'retired', retired_at = $1 \
         WHERE tenant_id = $2 AND status = 'active'",
    )
    .bind(now)
    .bind(tenant_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// Every key of the tenant, newest first.
pub async fn keys(pool: &AnyPool, tenant_id: &str) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM attestation_keys WHERE tenant_id = $1 \
         ORDER BY created_at DESC, CASE WHEN status = 'active' THEN 0 ELSE 1 END, kid DESC"
    ))
    .bind(tenant_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(key_row)
    .collect()
}

/// One key of the tenant.
pub async fn key(
    pool: &AnyPool,
    tenant_id: &str,
    kid: &str,
) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM attestation_keys WHERE tenant_id = $1 AND kid = $2"
    ))
    .bind(tenant_id)
    .bind(kid)
    .fetch_optional(pool)
    .await?
    .map(|r| key_row(&r))
    .transpose()
}
