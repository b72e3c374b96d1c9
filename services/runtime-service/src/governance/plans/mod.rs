//! The governance loop (SPEC §10, the Governance Core contract): `POST /loop/execute` judges a
//! plan on trust — the named agent's aggregate (§10; an agent the tenant cannot name is a `404`,
//! not a silent 0.75), or 0.75 without one — and an operator's override, and appends the
//! justification to the tenant's hash-chained audit log (the chain decisions join), in its own
//! transaction. A body that breaks the schema is a `400` listing every violation.
//!
//! - [`request`]: the schema check.
//! - [`judge`]: the rule, pure.
//! - [`routes`]: the endpoint.

pub mod judge;
pub mod request;
pub mod routes;

use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::traffic_cop::Contract;
use platform_sdk::trust_wire::{CoreOutput, JustificationLog, LoopResponse};
use serde_json::json;
use sqlx::AnyPool;

use super::Governance;
use crate::error::RuntimeError;
use judge::{judge, Outcome, DEFAULT_TRUST};

/// Judges the contract's plan and records the justification.
pub async fn execute(
    pool: &AnyPool,
    governance: &Governance,
    contract: &Contract,
) -> Result<LoopResponse, RuntimeError> {
    let request = request::parse(&contract.payload)?;
    let tenant_id = contract.tenant_id.as_str();
    let plan = &request.plan_input;
    let base = match &plan.agent_id {
        Some(agent) => super::trust::aggregate(pool, tenant_id, agent)
            .await?
            .ok_or(RuntimeError::NotFound("agent"))?,
        None => DEFAULT_TRUST,
    };
    let signal = request.operator_override_signal.as_ref();
    let judged = judge(base, &plan.plan_details, signal);
    let entry_id = format!("jst_{}", uuid::Uuid::new_v4().simple());
    let now = now_ms();
    let entry = json!({
        "entry_id": entry_id,
        "kind": "justification",
        "request_id": request.request_id,
        "plan_id": plan.plan_id,
        "agent_id": plan.agent_id,
        "plan_details": plan.plan_details,
        "operator_override_signal": signal,
        "decision_outcome": judged.outcome.as_str(),
        "reason": judged.reason,
        "trust_score_at_decision": judged.trust,
        "override_required": judged.override_required,
        "decided_by": contract.user_id,
        "at": rfc3339_ms(now),
    });
    let mut tx = pool.begin().await?;
    let link = governance
        .justify(&mut tx, tenant_id, &entry_id, &entry)
        .await?;
    tx.commit().await?;
    let status = judged.outcome.as_str().to_owned();
    Ok(LoopResponse {
        request_id: request.request_id.clone(),
        execution_status: match judged.outcome {
            Outcome::Rejected => "REJECTED",
            Outcome::Accepted | Outcome::AcceptedWithOverride => "SUCCESS",
        }
        .to_owned(),
        governance_core_output: CoreOutput {
            status: status.clone(),
            reason: judged.reason,
            trust_score: judged.trust,
            plan_id: plan.plan_id.clone(),
        },
        justification_log: JustificationLog {
            entry_id,
            decision_outcome: status,
            trust_score_at_decision: judged.trust,
            override_required: judged.override_required,
            entry_sha256_hash: link.entry_hash,
            previous_entry_hash: link.previous_entry_hash,
        },
        error_details: None,
    })
}
