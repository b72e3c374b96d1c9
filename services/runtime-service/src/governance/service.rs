//! [`Governance`]: decides actions against the tenant's ACTIVE policies and records every
//! decision — its audit entry, its row, its violations — inside the caller's transaction, so a
//! turn's decisions commit with the turn (no extra commit on its path).
//!
//! The ACTIVE policies are cached per tenant and policy version; the version is read under the
//! chain lock every decision takes anyway, so a policy changed on one replica applies to the very
//! next decision on every replica. A tenant is set up on first contact with its default policy
//! ([`super::policy::default_policy`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use platform_sdk::governance_wire::{AuditLink, DecisionOut, PolicyEvaluation};
use platform_sdk::time_util::now_ms;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyPool};

use super::chain::{self, Tip};
use super::decide::{Ask, Decision, PolicySet, Verdict};
use super::policy::default_policy;
use super::storage::{decisions, policies};

/// Where a decision is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    /// The execution (a turn's decisions).
    pub execution_id: Option<&'a str>,
    /// The user who asked.
    pub user_id: Option<&'a str>,
    /// The caller's context (evaluate requests).
    pub context: Option<&'a Value>,
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// `dec_…`.
    pub id: String,
    /// What was decided.
    pub verdict: Verdict,
    /// Its audit entry.
    pub audit: AuditLink,
}

impl Decided {
    /// As `POST /api/governance/evaluate` answers it.
    pub fn to_wire(&self) -> DecisionOut {
        DecisionOut {
            decision_id: self.id.clone(),
            decision: self.verdict.decision.as_str().to_owned(),
            reasons: self.verdict.reasons.clone(),
            policies_evaluated: self.verdict.evaluated.clone(),
            modified_content: self.verdict.modified_content.clone(),
            audit: self.audit.clone(),
        }
    }
}

/// A new decision id.
pub fn decision_id() -> String {
    format!("dec_{}", uuid::Uuid::new_v4().simple())
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Decides and records.
pub struct Governance {
    pub(super) pool: AnyPool,
    approval_actions: Vec<String>,
    cache: Mutex<HashMap<String, (i64, Arc<PolicySet>)>>,
}

impl Governance {
    /// The service; `approval_actions` (setting `agents.approval_actions`) become each new
    /// tenant's default policy.
    pub fn new(pool: AnyPool, approval_actions: Vec<String>) -> Self {
        Self {
            pool,
            approval_actions,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the tenant up if this is its first contact: its row and its default policy.
    pub(super) async fn ensure_tenant(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
    ) -> Result<(), sqlx::Error> {
        if !chain::ensure_tenant(conn, tenant_id).await? {
            return Ok(());
        }
        if let Some(policy) = default_policy(&self.approval_actions) {
            let id = format!("pol_{}", uuid::Uuid::new_v4().simple());
            policies::insert(conn, tenant_id, &id, &policy, "system", now_ms()).await?;
            policies::bump_version(conn, tenant_id).await?;
        }
        Ok(())
    }

    /// Locks the tenant's chain (setting the tenant up first if needed).
    async fn tip(&self, conn: &mut AnyConnection, tenant_id: &str) -> Result<Tip, sqlx::Error> {
        if let Some(tip) = chain::lock(conn, tenant_id).await? {
            return Ok(tip);
        }
        self.ensure_tenant(conn, tenant_id).await?;
        chain::lock(conn, tenant_id)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// The tenant's ACTIVE policies at `version` (cached).
    async fn policies_at(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        version: i64,
    ) -> Result<Arc<PolicySet>, sqlx::Error> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((v, set)) = cache.get(tenant_id) {
                if *v == version {
                    return Ok(set.clone());
                }
            }
        }
        let set = Arc::new(PolicySet::new(policies::active(conn, tenant_id).await?));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(tenant_id.to_owned(), (version, set.clone()));
        }
        Ok(set)
    }

    /// Decides `asks` in order against the tenant's current policies and records each, on
    /// `conn` inside the caller's transaction. Answers the policies (for the turn's output) and
    /// the decisions. `approvals` are the acting agent's own approval actions: a tool call named
    /// there waits for a human whatever the policies say (unless they deny it).
    pub async fn decide_in(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        asks: &[Ask<'_>],
        approvals: &[String],
        origin: Origin<'_>,
    ) -> Result<(Arc<PolicySet>, Vec<Decided>), sqlx::Error> {
        let mut tip = self.tip(conn, tenant_id).await?;
        let set = self
            .policies_at(conn, tenant_id, tip.policy_version)
            .await?;
        let mut decided = Vec::with_capacity(asks.len());
        for ask in asks {
            let mut verdict = set.decide(ask);
            if let Some(action) = ask.action.filter(|a| approvals.iter().any(|x| x == a)) {
                if verdict.decision != Decision::Deny {
                    verdict.decision = Decision::RequireApproval;
                    verdict.modified_content = None;
                    verdict.reasons.push(format!(
                        "the agent's definition requires approval for {action}"
                    ));
                    verdict.evaluated.push(PolicyEvaluation {
                        policy_id: format!("agent:{}", ask.agent_id),
                        passed: false,
                        condition: "require_approval".into(),
                    });
                }
            }
            let id = decision_id();
            decided.push(
                self.append(conn, &mut tip, tenant_id, &id, ask, verdict, origin)
                    .await?,
            );
        }
        tip.save(conn).await?;
        Ok((set, decided))
    }

    /// Records a decision already made (a turn's output, decided against the policies its input
    /// was decided with), on `conn` inside the caller's transaction.
    pub async fn record_in(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        id: &str,
        ask: &Ask<'_>,
        verdict: Verdict,
        origin: Origin<'_>,
    ) -> Result<Decided, sqlx::Error> {
        let mut tip = self.tip(conn, tenant_id).await?;
        let decided = self
            .append(conn, &mut tip, tenant_id, id, ask, verdict, origin)
            .await?;
        tip.save(conn).await?;
        Ok(decided)
    }

    #[allow(clippy::too_many_arguments)]
    async fn append(
        &self,
        conn: &mut AnyConnection,
        tip: &mut Tip,
        tenant_id: &str,
        id: &str,
        ask: &Ask<'_>,
        verdict: Verdict,
        origin: Origin<'_>,
    ) -> Result<Decided, sqlx::Error> {
        let now = now_ms();
        // The entry names the content by its hash: the audit log must not become a copy of the
        // sensitive data it decided about.
        let entry = json!({
            "kind": "decision",
            "decision_id": id,
            "agent_id": ask.agent_id,
            "action_type": ask.action_type,
            "action": ask.action,
            "decision": verdict.decision.as_str(),
            "reasons": verdict.reasons,
            "policies_evaluated": verdict.evaluated,
            "content_sha256": ask.content.map(sha256_hex),
            "execution_id": origin.execution_id,
            "user_id": origin.user_id,
            "context": origin.context,
            "at": now,
        });
        let appended = tip.append(conn, "decision", id, &entry, now).await?;
        let stored = decisions::Stored {
            id,
            tenant_id,
            agent_id: ask.agent_id,
            action_type: ask.action_type,
            execution_id: origin.execution_id,
            verdict: &verdict,
            now,
        };
        decisions::insert(conn, &stored).await?;
        Ok(Decided {
            id: id.to_owned(),
            verdict,
            audit: appended.link,
        })
    }
}
