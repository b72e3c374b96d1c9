//! [`Governance`]: decides actions against the tenant's ACTIVE policies and records every
//! decision — its row with its canonical audit entry, its violations — inside the caller's
//! transaction, so a turn's decisions commit with the turn (no extra commit on its path). The
//! chainer then links recorded decisions into the tenant's hash chain in order, in batches, under
//! the tenant's chain lock ([`Governance::chain_forever`]; reading the audit log links what is
//! still waiting first): a tenant's turns never queue behind one another for that lock.
//!
//! The ACTIVE policies are cached per tenant and policy version; the version is read with every
//! decision (one indexed row), so a policy changed on one replica applies to the very next
//! decision on every replica. A tenant is set up on first contact with its default policy
//! ([`super::policy::default_policy`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use platform_sdk::governance_wire::{AuditLink, DecisionOut, PolicyEvaluation};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::canonical_json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyPool};

use super::chain::{self, Tip};
use super::decide::{Ask, Decision, PolicySet, Verdict};
use super::policy::default_policy;
use super::storage::{decisions, policies};
use super::trust::{self, honesty_of, Evidence};
use crate::notifications::producers::{violation_in, ViolationFacts};

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

/// A recorded decision (its chain link comes when the chainer links it).
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// `dec_…`.
    pub id: String,
    /// What was decided.
    pub verdict: Verdict,
}

impl Decided {
    /// As `POST /api/governance/evaluate` answers it, with its chain link.
    pub fn to_wire(&self, audit: AuditLink) -> DecisionOut {
        DecisionOut {
            decision_id: self.id.clone(),
            decision: self.verdict.decision.as_str().to_owned(),
            reasons: self.verdict.reasons.clone(),
            policies_evaluated: self.verdict.evaluated.clone(),
            modified_content: self.verdict.modified_content.clone(),
            audit,
        }
    }
}

/// Decisions the chainer links per transaction.
const CHAIN_BATCH: i64 = 500;
/// Tenants the chainer looks at per round.
const CHAIN_TENANTS: i64 = 100;

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

    /// The tenant's ACTIVE policies as of now (setting the tenant up on first contact). Read
    /// before the transaction that records decisions, whose first statement must be a write: a
    /// SQLite transaction that reads first cannot take the write lock once another connection
    /// has written.
    pub async fn policies_now(&self, tenant_id: &str) -> Result<Arc<PolicySet>, sqlx::Error> {
        const SQL: &str = "SELECT policy_version FROM governance_tenants WHERE tenant_id = $1";
        let mut conn = self.pool.acquire().await?;
        let version = sqlx::query_scalar(SQL)
            .bind(tenant_id)
            .fetch_optional(&mut *conn)
            .await?;
        let version = match version {
            Some(version) => version,
            None => {
                drop(conn);
                let mut tx = self.pool.begin().await?;
                self.ensure_tenant(&mut tx, tenant_id).await?;
                let version = sqlx::query_scalar(SQL)
                    .bind(tenant_id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                conn = self.pool.acquire().await?;
                version
            }
        };
        self.policies_at(&mut conn, tenant_id, version).await
    }

    /// Decides `asks` in order against `set` (the tenant's policies, [`Self::policies_now`]) and
    /// records each, on `conn` inside the caller's transaction. `approvals` are the acting
    /// agent's own approval actions: a tool call named there waits for a human whatever the
    /// policies say (unless they deny it).
    pub async fn decide_in(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        set: &PolicySet,
        (asks, approvals): (&[Ask<'_>], &[String]),
        origin: Origin<'_>,
    ) -> Result<Vec<Decided>, sqlx::Error> {
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
                self.record_in(conn, tenant_id, &id, ask, verdict, origin)
                    .await?,
            );
        }
        Ok(decided)
    }

    /// Records a decision (a turn's output, decided against the policies its input was decided
    /// with, or one just made), on `conn` inside the caller's transaction: its row with its audit
    /// entry, its violations, and their evidence against the agent's honesty.
    pub async fn record_in(
        &self,
        conn: &mut AnyConnection,
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
        let entry = canonical_json(&entry);
        let stored = decisions::Stored {
            id,
            tenant_id,
            agent_id: ask.agent_id,
            action_type: ask.action_type,
            execution_id: origin.execution_id,
            verdict: &verdict,
            entry: &entry,
            now,
        };
        let violations = decisions::insert(conn, &stored).await?;
        // Its violations are evidence against the agent's honesty: one observation per decision,
        // as low as its most severe violation (ADR 0020).
        let honesty = verdict
            .failures
            .iter()
            .map(|f| honesty_of(f.severity))
            .reduce(f64::min);
        if let Some(honesty) = honesty {
            let evidence = Evidence {
                honesty: Some(honesty),
                ..Evidence::default()
            };
            trust::observe(conn, tenant_id, ask.agent_id, &evidence, now).await?;
        }
        // Violations of severity medium or high go live with notifications (SPEC §13). After
        // the trust row: every transaction takes the trust row before the tenant event log's id
        // (docs/adr/0025), so two never wait on each other.
        for (violation_id, failure) in violations.iter().zip(&verdict.failures) {
            let facts = ViolationFacts {
                tenant_id,
                violation_id,
                agent_id: ask.agent_id,
                policy_id: &failure.policy_id,
                policy_name: &failure.policy_name,
                violation_type: failure.condition,
                severity: failure.severity,
                decision: verdict.decision.as_str(),
                decision_id: id,
                execution_id: origin.execution_id,
            };
            violation_in(conn, &facts).await?;
        }
        Ok(Decided {
            id: id.to_owned(),
            verdict,
        })
    }

    /// Links the tenant's recorded decisions into its chain, oldest first (at most one batch),
    /// on `conn` inside the caller's transaction; answers each one's link by decision id.
    pub async fn chain_waiting(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
    ) -> Result<HashMap<String, AuditLink>, sqlx::Error> {
        let mut tip = self.tip(conn, tenant_id).await?;
        let links = link_waiting(conn, &mut tip, tenant_id).await?;
        if !links.is_empty() {
            tip.save(conn).await?;
        }
        Ok(links)
    }

    /// Links everything the tenant has waiting, batch after batch.
    pub async fn flush(&self, tenant_id: &str) -> Result<(), sqlx::Error> {
        loop {
            let mut tx = self.pool.begin().await?;
            let linked = self.chain_waiting(&mut tx, tenant_id).await?.len();
            tx.commit().await?;
            if (linked as i64) < CHAIN_BATCH {
                return Ok(());
            }
        }
    }

    /// Appends a governance-loop justification to the tenant's chain, after what is waiting, on
    /// `conn` inside the caller's transaction.
    pub async fn justify(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        entry_id: &str,
        entry: &Value,
    ) -> Result<AuditLink, sqlx::Error> {
        let mut tip = self.tip(conn, tenant_id).await?;
        link_waiting(conn, &mut tip, tenant_id).await?;
        let appended = tip
            .append(conn, "justification", entry_id, entry, now_ms())
            .await?;
        tip.save(conn).await?;
        Ok(appended.link)
    }

    /// The chainer: every `every`, links the decisions every tenant has waiting. Replicas may
    /// all run it; the chain lock makes them take turns per tenant.
    pub fn chain_forever(self: Arc<Self>, every: std::time::Duration) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let tenants = match decisions::tenants_waiting(&self.pool, CHAIN_TENANTS).await {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::warn!(error = %e, "audit chainer: listing tenants");
                        continue;
                    }
                };
                for tenant in tenants {
                    if let Err(e) = self.flush(&tenant).await {
                        tracing::warn!(error = %e, tenant_id = %tenant, "audit chainer");
                    }
                }
            }
        });
    }
}

/// Appends the tenant's recorded decisions not linked yet (one batch, oldest first) after the
/// locked `tip`, noting where each one went; answers each one's link by decision id.
async fn link_waiting(
    conn: &mut AnyConnection,
    tip: &mut Tip,
    tenant_id: &str,
) -> Result<HashMap<String, AuditLink>, sqlx::Error> {
    let waiting = decisions::unchained(conn, tenant_id, CHAIN_BATCH).await?;
    let mut links = HashMap::with_capacity(waiting.len());
    let now = now_ms();
    for (id, entry) in waiting {
        let entry: Value =
            serde_json::from_str(&entry).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let appended = tip.append(conn, "decision", &id, &entry, now).await?;
        decisions::mark_chained(conn, &id, appended.seq).await?;
        links.insert(id, appended.link);
    }
    Ok(links)
}
