//! Policies in SQL. Every change also moves the tenant's `policy_version`, in the same
//! transaction, so every replica's cached policy set notices it on its next decision.

use platform_sdk::governance_wire::{Policy, PolicyInput, PolicyRule};
use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

const COLUMNS: &str = "id, name, description, policy_type, status, enforcement_level, rules, \
                       version, created_by, created_at, updated_at";

fn policy(row: &AnyRow) -> Result<Policy, sqlx::Error> {
    let rules: String = row.try_get(6)?;
    let rules: Vec<PolicyRule> =
        serde_json::from_str(&rules).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Policy {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        description: row.try_get(2)?,
        policy_type: row.try_get(3)?,
        status: row.try_get(4)?,
        enforcement_level: row.try_get(5)?,
        rules,
        version: row.try_get(7)?,
        created_by: row.try_get(8)?,
        created_at: rfc3339_ms(row.try_get(9)?),
        updated_at: rfc3339_ms(row.try_get(10)?),
    })
}

fn rules_json(input: &PolicyInput) -> Result<String, sqlx::Error> {
    serde_json::to_string(&input.rules).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// Moves the tenant's policy version.
pub async fn bump_version(conn: &mut AnyConnection, tenant_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE governance_tenants SET policy_version = policy_version + 1 WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a new policy (version 1). The caller checked it and bumps the version.
pub async fn insert(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    input: &PolicyInput,
    created_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO governance_policies (id, tenant_id, name, description, policy_type, status, \
         enforcement_level, rules, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(&input.name)
    .bind(&input.description)
    .bind(&input.policy_type)
    .bind(input.status.as_deref().unwrap_or("DRAFT"))
    .bind(&input.enforcement_level)
    .bind(rules_json(input)?)
    .bind(created_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces a policy's content, version + 1; false when the tenant has no such policy.
pub async fn update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    input: &PolicyInput,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE governance_policies SET name = $1, description = $2, policy_type = $3, \
         status = $4, enforcement_level = $5, rules = $6, version = version + 1, updated_at = $7 \
         WHERE tenant_id = $8 AND id = $9",
    )
    .bind(&input.name)
    .bind(&input.description)
    .bind(&input.policy_type)
    .bind(input.status.as_deref().unwrap_or("DRAFT"))
    .bind(&input.enforcement_level)
    .bind(rules_json(input)?)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a policy; false when the tenant has no such policy.
pub async fn delete(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM governance_policies WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One policy of a tenant.
pub async fn get(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Policy>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM governance_policies WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(policy)
    .transpose()
}

/// The tenant's ACTIVE policies, oldest first (the order decisions list them in).
pub async fn active(conn: &mut AnyConnection, tenant_id: &str) -> Result<Vec<Policy>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM governance_policies WHERE tenant_id = $1 AND status = 'ACTIVE' \
         ORDER BY created_at, id"
    ))
    .bind(tenant_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(policy)
    .collect()
}

/// A page of the tenant's policies, newest first, optionally of one status.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    status: Option<&str>,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<(i64, Policy)>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM governance_policies WHERE tenant_id = $1 \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) AND ($4 IS NULL OR status = $4) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(tenant_id)
    .bind(key)
    .bind(id)
    .bind(status)
    .bind(fetch)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok((row.try_get(9)?, policy(row)?)))
    .collect()
}
