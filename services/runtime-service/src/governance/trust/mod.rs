//! Trust from evidence (SPEC §10, docs/adr/0020-trust-from-evidence.md): four dimensions per agent
//! and tenant, each an exponentially weighted mean of what the agent was seen to do, never a
//! constant. Evidence is folded in by the transaction that commits what it is evidence of:
//! `executions::storage::finish` (every way an execution ends), the usage track storage (tracked
//! events) and the policy engine (violations, through [`honesty_of`]).
//!
//! - [`model`]: the arithmetic (EWMA, confidence, aggregate, alerts), pure.
//! - [`evidence`]: which evidence moves which dimension, pure.
//! - [`storage`]: [`observe`] inside the caller's transaction, and the reads.
//! - [`routes`]: `GET /api/governance/trust/{agent_id}`.

pub mod evidence;
pub mod model;
pub mod routes;
pub mod storage;

pub use evidence::honesty_of;
pub use model::Evidence;
pub use storage::observe;

use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::trust_wire::{AgentTrust, TrustDimensions, TrustPoint};
use sqlx::AnyPool;

use crate::error::RuntimeError;
use model::State;

/// The trust of `agent_id` in `tenant_id`: any agent id the tenant can name (404 otherwise); one
/// without evidence answers the starting values, computed from the empty state.
pub async fn read(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
) -> Result<AgentTrust, RuntimeError> {
    if !crate::agents::known::is_known(pool, tenant_id, agent_id).await? {
        return Err(RuntimeError::NotFound("agent"));
    }
    let (state, calculated_at) = match storage::get(pool, tenant_id, agent_id).await? {
        Some(stored) => (stored.state, stored.updated_at),
        None => (State::initial(), now_ms()),
    };
    let history = match state.count {
        0 => Vec::new(),
        _ => storage::history(pool, tenant_id, agent_id).await?,
    };
    let [competence, reliability, honesty, transparency] = state.dims;
    Ok(AgentTrust {
        agent_id: agent_id.to_owned(),
        dimensions: TrustDimensions {
            competence,
            reliability,
            honesty,
            transparency,
        },
        aggregate: state.aggregate(),
        confidence: state.confidence(),
        evidence_count: state.count,
        calculated_at: rfc3339_ms(calculated_at),
        history: history
            .into_iter()
            .map(|(at, aggregate)| TrustPoint {
                at: rfc3339_ms(at),
                aggregate,
            })
            .collect(),
    })
}

/// The aggregate trust of `agent_id` in `tenant_id` (the starting 0.5 without evidence), for the
/// governance loop; `None` when the tenant cannot name the agent.
pub async fn aggregate(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
) -> Result<Option<f64>, RuntimeError> {
    if !crate::agents::known::is_known(pool, tenant_id, agent_id).await? {
        return Ok(None);
    }
    let state = storage::get(pool, tenant_id, agent_id)
        .await?
        .map_or_else(State::initial, |s| s.state);
    Ok(Some(state.aggregate()))
}
