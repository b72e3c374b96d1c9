//! Attestations in SQL. Every signed field is stored as it was signed, so a row alone is
//! enough to check its signature again.

use platform_sdk::page::{self, Cursor};
use platform_sdk::profile_wire::{
    AttestationData, AttestationMetadata, AttestationRecord, AttestationSignature, AttestationType,
    RevocationStatus,
};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::{decode, json};

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
