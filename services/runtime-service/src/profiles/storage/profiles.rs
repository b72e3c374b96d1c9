//! Profiles in SQL.

use platform_sdk::page::{self, Cursor};
use platform_sdk::profile_wire::{ComplianceLevel, GovernanceIdentity, ProfileRecord};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use super::{decode, json};

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
