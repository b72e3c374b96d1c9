//! The intent audit log: one durable row per accepted contract (who asked the runtime to do what,
//! and when). Sessions themselves live in the state surface; this log is what survives them.

use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::Contract;
use sqlx::AnyPool;

/// Writes and reads the audit log.
#[derive(Clone)]
pub struct IntentAudit {
    pool: AnyPool,
}

impl IntentAudit {
    /// The log over a pool.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Records an accepted contract (idempotent on `contract_id`).
    pub async fn record(&self, contract: &Contract, status: u16) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO intent_audit \
             (contract_id, action, tenant_id, user_id, session_id, issued_at, accepted_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (contract_id) DO NOTHING",
        )
        .bind(&contract.contract_id)
        .bind(&contract.action)
        .bind(&contract.tenant_id)
        .bind(contract.user_id.as_deref())
        .bind(&contract.session_id)
        .bind(contract.issued_at)
        .bind(now_ms())
        .bind(i32::from(status))
        .execute(&self.pool)
        .await
        .map(|_| ())
    }
}
