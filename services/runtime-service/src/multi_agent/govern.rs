//! How a multi-agent message is governed (SPEC §12): its compliance score is
//! `0.4·trust + 0.3·content_policy + 0.2·governance_identity + 0.1·protocol`, each check a plain
//! yes/no, and it is approved when the score reaches the context's `governance_threshold`.
//!
//! - trust: the sender's trust aggregate (§10; 0.5, the starting value, without evidence) is at
//!   least the threshold;
//! - content_policy: the tenant's ACTIVE policies decide `allow` on the content as a
//!   `multi_agent_message` — the decision is recorded like any other (audit chain, violations of
//!   its failing policies); `modify`, `log`, `require_approval` and `deny` all fail the check;
//! - governance_identity: the sender has a profile (§9) with an ACTIVE, unexpired attestation;
//! - protocol: the message has a type or content.
//!
//! The score is computed in tenths so it is exact (0.7 is 7/10, the threshold's own double). A
//! blocked message also records one `medium` violation (`multi_agent:governance_threshold`, tied
//! to the content decision) and its evidence against the sender's honesty, like a policy's.

use std::sync::Arc;

use platform_sdk::multi_agent_wire::{GovernanceChecks, GovernanceData, MessageBody};
use serde_json::json;
use sqlx::{AnyConnection, AnyPool};

use super::storage;
use crate::error::RuntimeError;
use crate::governance::decide::{Ask, Decision, PolicySet};
use crate::governance::storage::decisions::{insert_violation, Extra};
use crate::governance::trust::{self, honesty_of, Evidence};
use crate::governance::{Governance, Origin};
use crate::notifications::producers::{violation_in, ViolationFacts};

/// The action type multi-agent content is decided as.
pub const ACTION_TYPE: &str = "multi_agent_message";
/// The "policy" a blocked message violates.
pub const THRESHOLD_POLICY: &str = "multi_agent:governance_threshold";

/// What is read before the transaction that records the decision (a SQLite transaction must
/// write first).
#[derive(Clone)]
pub struct Inputs {
    /// The sender's trust aggregate now.
    pub trust: f64,
    /// Whether it has an ACTIVE attestation (governed contexts only).
    pub attested: bool,
    /// The tenant's ACTIVE policies (governed contexts only).
    pub policies: Option<Arc<PolicySet>>,
}

/// The sender's trust aggregate (the starting value without evidence).
pub async fn trust_of(
    pool: &AnyPool,
    tenant_id: &str,
    agent_id: &str,
) -> Result<f64, RuntimeError> {
    let start = trust::model::State::initial().aggregate();
    Ok(trust::aggregate(pool, tenant_id, agent_id)
        .await?
        .unwrap_or(start))
}

/// Reads what governing a message of `agent_id` needs.
pub async fn inputs(
    pool: &AnyPool,
    governance: &Governance,
    (tenant_id, agent_id): (&str, &str),
    enabled: bool,
) -> Result<Inputs, RuntimeError> {
    let trust = trust_of(pool, tenant_id, agent_id).await?;
    if !enabled {
        return Ok(Inputs {
            trust,
            attested: false,
            policies: None,
        });
    }
    let now = platform_sdk::time_util::now_ms();
    Ok(Inputs {
        trust,
        attested: storage::has_active_attestation(pool, tenant_id, agent_id, now).await?,
        policies: Some(governance.policies_now(tenant_id).await?),
    })
}

/// The compliance score of the four checks, in the spec's weights.
pub fn score(trust: bool, content: bool, identity: bool, protocol: bool) -> f64 {
    let tenths = 4 * i32::from(trust)
        + 3 * i32::from(content)
        + 2 * i32::from(identity)
        + i32::from(protocol);
    f64::from(tenths) / 10.0
}

/// `high` ≥ 0.9, `standard` ≥ 0.7, `low` ≥ 0.5, else `non_compliant`.
pub fn level(score: f64) -> &'static str {
    if score >= 0.9 {
        "high"
    } else if score >= 0.7 {
        "standard"
    } else if score >= 0.5 {
        "low"
    } else {
        "non_compliant"
    }
}

/// One message to govern.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// The context.
    pub context_id: &'a str,
    /// The message id.
    pub message_id: &'a str,
    /// The sender.
    pub from_agent_id: &'a str,
    /// What it says.
    pub body: &'a MessageBody,
    /// The context's threshold.
    pub threshold: f64,
    /// The user who asked.
    pub user_id: Option<&'a str>,
}

/// Governs a message on `conn` inside the caller's transaction (the one that stores it): its
/// governance data and how many violation rows were recorded for it.
pub async fn decide_in(
    conn: &mut AnyConnection,
    governance: &Governance,
    m: Subject<'_>,
    inputs: &Inputs,
) -> Result<(GovernanceData, i64), RuntimeError> {
    let Some(policies) = &inputs.policies else {
        let data = GovernanceData {
            approved: true,
            compliance_score: None,
            compliance_level: "not_evaluated".into(),
            trust_score: inputs.trust,
            checks: GovernanceChecks {
                trust: None,
                content_policy: None,
                governance_identity: None,
                protocol: None,
            },
            governance_enabled: false,
            decision_id: None,
        };
        return Ok((data, 0));
    };
    let present = |t: &Option<String>| t.as_deref().is_some_and(|t| !t.trim().is_empty());
    let protocol = present(&m.body.kind) || present(&m.body.content);
    let ask = Ask {
        agent_id: m.from_agent_id,
        action_type: ACTION_TYPE,
        content: Some(m.body.content.as_deref().unwrap_or("")),
        action: None,
    };
    let context = json!({"context_id": m.context_id, "message_id": m.message_id});
    let origin = Origin {
        execution_id: None,
        user_id: m.user_id,
        context: Some(&context),
    };
    let mut decided = governance
        .decide_in(&mut *conn, m.tenant_id, policies, (&[ask], &[]), origin)
        .await?;
    let decision = decided.swap_remove(0);
    let mut violations = decision.verdict.failures.len() as i64;
    let trust_ok = inputs.trust >= m.threshold;
    let content_ok = decision.verdict.decision == Decision::Allow;
    let score = score(trust_ok, content_ok, inputs.attested, protocol);
    let approved = score >= m.threshold;
    if !approved {
        let now = platform_sdk::time_util::now_ms();
        let details = json!({
            "action_type": ACTION_TYPE,
            "context_id": m.context_id,
            "message_id": m.message_id,
            "compliance_score": score,
            "governance_threshold": m.threshold,
            "reason": format!("compliance score {score} is below the context's threshold {}", m.threshold),
        });
        let extra = Extra {
            tenant_id: m.tenant_id,
            agent_id: m.from_agent_id,
            policy_id: THRESHOLD_POLICY,
            violation_type: "governance_threshold",
            severity: "medium",
            decision_id: &decision.id,
            details: &details,
            now,
        };
        let violation_id = insert_violation(&mut *conn, &extra).await?;
        let evidence = Evidence {
            honesty: Some(honesty_of("medium")),
            ..Evidence::default()
        };
        trust::observe(&mut *conn, m.tenant_id, m.from_agent_id, &evidence, now).await?;
        // Live with its notifications like every medium violation (SPEC §13), after the trust
        // row (the lock order of docs/adr/0025).
        let facts = ViolationFacts {
            tenant_id: m.tenant_id,
            violation_id: &violation_id,
            agent_id: m.from_agent_id,
            policy_id: THRESHOLD_POLICY,
            policy_name: "context governance threshold",
            violation_type: "governance_threshold",
            severity: "medium",
            decision: "block",
            decision_id: &decision.id,
            execution_id: None,
        };
        violation_in(&mut *conn, &facts).await?;
        violations += 1;
    }
    let data = GovernanceData {
        approved,
        compliance_score: Some(score),
        compliance_level: level(score).into(),
        trust_score: inputs.trust,
        checks: GovernanceChecks {
            trust: Some(trust_ok),
            content_policy: Some(content_ok),
            governance_identity: Some(inputs.attested),
            protocol: Some(protocol),
        },
        governance_enabled: true,
        decision_id: Some(decision.id),
    };
    Ok((data, violations))
}

#[cfg(test)]
mod tests {
    use super::{level, score};

    #[test]
    fn scores_are_exact_tenths_and_levels_follow() {
        assert_eq!(score(true, true, true, true), 1.0);
        assert_eq!(score(true, true, false, false), 0.7);
        assert_eq!(score(false, true, false, true), 0.4);
        assert_eq!(score(true, false, true, true), 0.7);
        assert_eq!(level(0.9), "high");
        assert_eq!(level(0.7), "standard");
        assert_eq!(level(0.5), "low");
        assert_eq!(level(0.4), "non_compliant");
        assert!(score(true, true, false, false) >= 0.7);
    }
}
