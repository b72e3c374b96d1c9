//! Which agent ids a tenant can name (SPEC §8–§11: profiles, analytics and contexts take "any
//! catalog agent id"): the builtin `guide` and `liaison.<pillar>`, and the tenant's own wrappers
//! (`wrp_…`, whatever their deployment status). Another tenant's wrapper is unknown here, so
//! callers answer 404 for it exactly as for an id that never existed.

use sqlx::AnyPool;

use super::Pillar;

/// True for the builtin agents' ids.
pub fn is_builtin(agent_id: &str) -> bool {
    agent_id == "guide"
        || agent_id
            .strip_prefix("liaison.")
            .is_some_and(|p| Pillar::ALL.iter().any(|pillar| pillar.as_str() == p))
}

/// True when `agent_id` is a builtin agent or one of the tenant's wrappers.
pub async fn is_known(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
) -> Result<bool, sqlx::Error> {
    if is_builtin(agent_id) {
        return Ok(true);
    }
    if !agent_id.starts_with(crate::wrappers::ID_PREFIX) {
        return Ok(false);
    }
    let row = sqlx::query("SELECT 1 FROM agent_wrappers WHERE id = $1 AND tenant_id = $2")
        .bind(agent_id)
        .bind(tenant_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_some())
}

#[cfg(test)]
mod tests {
    use super::is_builtin;

    #[test]
    fn builtin_ids() {
        for id in ["guide", "liaison.content", "liaison.business_outcomes"] {
            assert!(is_builtin(id), "{id}");
        }
        for id in ["liaison.finance", "liaison.", "Guide", "wrp_1", ""] {
            assert!(!is_builtin(id), "{id}");
        }
    }
}
