//! What the governance endpoints do (SPEC §10): policy CRUD (each change moves the tenant's
//! policy version in the same commit), `evaluate` (decided and chained in its own commit), and
//! the violation and audit reads.

use platform_sdk::governance_wire::{
    AuditPage, DecisionOut, EvaluateRequest, Policy, PolicyInput, PolicyList, ViolationList,
};
use platform_sdk::page::{Cursor, PageRequest};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::Contract;

use super::chain;
use super::decide::Ask;
use super::policy::{self, ACTION_TYPES};
use super::service::{Governance, Origin};
use super::storage::decisions::{self, ViolationFilter};
use super::storage::policies;
use crate::error::RuntimeError;

/// Largest `context` of an evaluate request, serialized bytes.
const MAX_CONTEXT_BYTES: usize = 16 * 1024;
/// Longest content decided, characters: even in 4-byte characters it fits the 64 KiB body.
const MAX_CONTENT_CHARS: usize = 12_000;

fn not_found() -> RuntimeError {
    RuntimeError::NotFound("policy")
}

impl Governance {
    /// Creates a policy → version 1.
    pub async fn create_policy(
        &self,
        contract: &Contract,
        input: PolicyInput,
    ) -> Result<Policy, RuntimeError> {
        let input = policy::check(input)?;
        let tenant = contract.tenant_id.as_str();
        let by = contract.user_id.as_deref().unwrap_or("service");
        let id = format!("pol_{}", uuid::Uuid::new_v4().simple());
        let mut tx = self.pool.begin().await?;
        self.ensure_tenant(&mut tx, tenant).await?;
        policies::insert(&mut tx, tenant, &id, &input, by, now_ms()).await?;
        policies::bump_version(&mut tx, tenant).await?;
        let stored = policies::get(&mut tx, tenant, &id)
            .await?
            .ok_or_else(not_found)?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces a policy → version + 1.
    pub async fn update_policy(
        &self,
        contract: &Contract,
        id: &str,
        input: PolicyInput,
    ) -> Result<Policy, RuntimeError> {
        let input = policy::check(input)?;
        let tenant = contract.tenant_id.as_str();
        let mut tx = self.pool.begin().await?;
        if !policies::update(&mut tx, tenant, id, &input, now_ms()).await? {
            return Err(not_found());
        }
        policies::bump_version(&mut tx, tenant).await?;
        let stored = policies::get(&mut tx, tenant, id)
            .await?
            .ok_or_else(not_found)?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Removes a policy.
    pub async fn delete_policy(&self, contract: &Contract, id: &str) -> Result<(), RuntimeError> {
        let tenant = contract.tenant_id.as_str();
        let mut tx = self.pool.begin().await?;
        if !policies::delete(&mut tx, tenant, id).await? {
            return Err(not_found());
        }
        policies::bump_version(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One policy.
    pub async fn policy(&self, tenant_id: &str, id: &str) -> Result<Policy, RuntimeError> {
        let mut conn = self.pool.acquire().await?;
        policies::get(&mut conn, tenant_id, id)
            .await?
            .ok_or_else(not_found)
    }

    /// A page of policies, newest first, of one `status` when given (checked by the caller).
    pub async fn policies(
        &self,
        tenant_id: &str,
        status: Option<&str>,
        page: &PageRequest,
    ) -> Result<PolicyList, RuntimeError> {
        // The tenant is set up on first contact (then its default policy shows); afterwards
        // this is one read of its policy version, not a write per list.
        self.policies_now(tenant_id).await?;
        let mut rows = policies::list(
            &self.pool,
            tenant_id,
            status,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |(at, p)| Cursor {
            key: *at,
            id: p.id.clone(),
        });
        Ok(PolicyList {
            items: rows.into_iter().map(|(_, p)| p).collect(),
            next_cursor,
        })
    }

    /// Decides one action on request, recorded like a turn's decisions.
    pub async fn evaluate(
        &self,
        contract: &Contract,
        request: EvaluateRequest,
    ) -> Result<DecisionOut, RuntimeError> {
        let agent_id = request.agent_id.trim();
        if agent_id.is_empty() || agent_id.len() > 200 {
            return Err(RuntimeError::invalid(
                "agent_id",
                "must be 1..=200 characters",
            ));
        }
        if request.action_type == "*" || !ACTION_TYPES.contains(&request.action_type.as_str()) {
            return Err(RuntimeError::invalid(
                "action_type",
                "must be agent_input, agent_output, multi_agent_message or tool_call",
            ));
        }
        let content = request.content.as_deref();
        if content.is_some_and(|c| c.chars().count() > MAX_CONTENT_CHARS) {
            return Err(RuntimeError::invalid(
                "content",
                "must be at most 12000 characters",
            ));
        }
        let details = request
            .action_details
            .unwrap_or_else(|| serde_json::json!({}));
        if !details.is_object() {
            return Err(RuntimeError::invalid("action_details", "must be an object"));
        }
        let action = match details.get("action") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(a)) if !a.is_empty() && a.len() <= 100 => {
                Some(a.as_str())
            }
            Some(_) => {
                return Err(RuntimeError::invalid(
                    "action_details.action",
                    "must be an action name of 1..=100 characters",
                ))
            }
        };
        let context = request.context.unwrap_or_else(|| serde_json::json!({}));
        if !context.is_object() || context.to_string().len() > MAX_CONTEXT_BYTES {
            return Err(RuntimeError::invalid(
                "context",
                "must be an object of at most 16 KiB",
            ));
        }
        let ask = Ask {
            agent_id,
            action_type: &request.action_type,
            content,
            action,
        };
        let origin = Origin {
            execution_id: None,
            user_id: contract.user_id.as_deref(),
            context: Some(&context),
        };
        // Decided, recorded and linked into the chain in one commit: the answer names its link.
        let set = self.policies_now(&contract.tenant_id).await?;
        let mut tx = self.pool.begin().await?;
        let decided = self
            .decide_in(&mut tx, &contract.tenant_id, &set, (&[ask], &[]), origin)
            .await?;
        let mut links = self.chain_waiting(&mut tx, &contract.tenant_id).await?;
        tx.commit().await?;
        let missing = || RuntimeError::Internal(anyhow::anyhow!("a decision without its record"));
        let decided = decided.into_iter().next().ok_or_else(missing)?;
        let link = links.remove(&decided.id).ok_or_else(missing)?;
        Ok(decided.to_wire(link))
    }

    /// A page of violations, newest first.
    pub async fn violations(
        &self,
        tenant_id: &str,
        filter: &ViolationFilter<'_>,
        page: &PageRequest,
    ) -> Result<ViolationList, RuntimeError> {
        let mut rows = decisions::violations(
            &self.pool,
            tenant_id,
            filter,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |(at, v)| Cursor {
            key: *at,
            id: v.id.clone(),
        });
        Ok(ViolationList {
            items: rows.into_iter().map(|(_, v)| v).collect(),
            next_cursor,
        })
    }

    /// A page of the audit chain, newest first; with `verify`, the whole chain checked.
    pub async fn audit(
        &self,
        tenant_id: &str,
        verify: bool,
        page: &PageRequest,
    ) -> Result<AuditPage, RuntimeError> {
        // What is still waiting is linked first: the log read is the whole log.
        self.flush(tenant_id).await?;
        let mut items =
            decisions::audit(&self.pool, tenant_id, page.after.as_ref(), page.fetch()).await?;
        let next_cursor = page.finish(&mut items, |e| Cursor {
            key: e.seq,
            id: e.entry_id.clone(),
        });
        let verification = match verify {
            true => Some(chain::verify(&self.pool, tenant_id).await?),
            false => None,
        };
        Ok(AuditPage {
            items,
            next_cursor,
            verification,
        })
    }
}
