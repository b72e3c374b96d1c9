//! The hub (SPEC §14): merges what each source lists, newest first; finds a process by the kind
//! its id names; runs a control through its source and keeps it in the audit trail. Plain values
//! in and out, no HTTP.

use std::sync::Arc;

use platform_sdk::operations_wire::{
    ControlRequest, Hub, Process, ProcessDetail, MAX_REASON_CHARS,
};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::traffic_cop::Contract;
use sqlx::AnyPool;

use super::query::HubFilter;
use super::sources::{contexts, deployments, executions, multimodal, Kind};
use super::storage::{self as store, NewControl};
use crate::error::RuntimeError;
use crate::executions::Executions;
use crate::multi_agent::MultiAgent;
use crate::multimodal::Multimodal;
use crate::wrappers::Wrappers;

/// A listed process with its start (epoch ms), the merge key.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Started at, epoch ms.
    pub started: i64,
    /// The process.
    pub process: Process,
}

/// The operations hub over the runtime's process sources.
#[derive(Clone)]
pub struct Operations {
    pool: AnyPool,
    executions: Arc<Executions>,
    wrappers: Wrappers,
    contexts: Arc<MultiAgent>,
    requests: Arc<Multimodal>,
}

impl Operations {
    /// The hub over these sources.
    pub fn new(
        pool: AnyPool,
        executions: Arc<Executions>,
        wrappers: Wrappers,
        contexts: Arc<MultiAgent>,
        requests: Arc<Multimodal>,
    ) -> Self {
        Self {
            pool,
            executions,
            wrappers,
            contexts,
            requests,
        }
    }

    async fn list(
        &self,
        kind: Kind,
        tenant_id: &str,
        since: i64,
        states: &[&str],
        limit: i64,
    ) -> Result<Vec<Listed>, RuntimeError> {
        let pool = &self.pool;
        Ok(match kind {
            Kind::Executions => executions::list(pool, tenant_id, since, states, limit).await?,
            Kind::Deployments => deployments::list(pool, tenant_id, since, states, limit).await?,
            Kind::Contexts => contexts::list(pool, tenant_id, since, states, limit).await?,
            Kind::Multimodal => multimodal::list(pool, tenant_id, since, states, limit).await?,
        })
    }

    async fn count(
        &self,
        kind: Kind,
        tenant_id: &str,
        since: i64,
        states: &[&str],
    ) -> Result<i64, RuntimeError> {
        let pool = &self.pool;
        Ok(match kind {
            Kind::Executions => executions::count(pool, tenant_id, since, states).await?,
            Kind::Deployments => deployments::count(pool, tenant_id, since, states).await?,
            Kind::Contexts => contexts::count(pool, tenant_id, since, states).await?,
            Kind::Multimodal => multimodal::count(pool, tenant_id, since, states).await?,
        })
    }

    /// The tenant's processes `filter` asks for, newest first, and how many are live.
    pub async fn hub(&self, tenant_id: &str, filter: &HubFilter) -> Result<Hub, RuntimeError> {
        let now = now_ms();
        let mut listed = Vec::new();
        let mut active_count = 0;
        for kind in filter.kinds.iter().copied() {
            let states = filter.states_of(kind);
            listed.extend(
                self.list(kind, tenant_id, filter.since, &states, filter.limit)
                    .await?,
            );
            active_count += self
                .count(kind, tenant_id, filter.since, kind.live())
                .await?;
        }
        listed.sort_by(|a, b| {
            b.started
                .cmp(&a.started)
                .then_with(|| b.process.id.cmp(&a.process.id))
        });
        listed.truncate(usize::try_from(filter.limit).unwrap_or(0));
        Ok(Hub {
            timestamp: rfc3339_ms(now),
            active_count,
            processes: listed.into_iter().map(|l| l.process).collect(),
        })
    }

    /// One process of the tenant with its detail and controls (`404` when it has none).
    pub async fn detail(&self, tenant_id: &str, id: &str) -> Result<ProcessDetail, RuntimeError> {
        let found = match Kind::of_id(id) {
            Some(Kind::Executions) => {
                executions::detail(&self.executions, &self.pool, tenant_id, id).await?
            }
            Some(Kind::Deployments) => {
                deployments::detail(&self.wrappers, &self.pool, tenant_id, id).await?
            }
            Some(Kind::Contexts) => contexts::detail(&self.contexts, tenant_id, id).await?,
            Some(Kind::Multimodal) => multimodal::detail(&self.requests, tenant_id, id).await?,
            None => None,
        };
        let Some((summary, detail)) = found else {
            return Err(RuntimeError::NotFound("process"));
        };
        let controls = store::of_process(&self.pool, tenant_id, &summary.id).await?;
        Ok(ProcessDetail {
            summary,
            detail,
            controls,
        })
    }

    /// Runs an operator's control (the move the process's own state machine allows, or
    /// `409 invalid_transition` and nothing changes), keeps it with its reason, and answers the
    /// detail after it.
    pub async fn control(
        &self,
        contract: &Contract,
        id: &str,
        request: &ControlRequest,
    ) -> Result<ProcessDetail, RuntimeError> {
        let reason = request
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            return Err(RuntimeError::invalid(
                "reason",
                format!("must be at most {MAX_REASON_CHARS} characters"),
            ));
        }
        let tenant_id = &contract.tenant_id;
        let action = request.action;
        let kind = Kind::of_id(id).ok_or(RuntimeError::NotFound("process"))?;
        let (process_id, from, to) = match kind {
            Kind::Executions => {
                executions::control(&self.executions, tenant_id, id, action, reason).await?
            }
            Kind::Deployments => {
                deployments::control(&self.wrappers, &self.pool, contract, id, action).await?
            }
            Kind::Contexts => contexts::control(&self.contexts, contract, id, action).await?,
            Kind::Multimodal => {
                multimodal::control(&self.requests, tenant_id, id, action, reason).await?
            }
        };
        let control = NewControl {
            tenant_id,
            process_id: &process_id,
            process_type: kind.process_type().as_str(),
            action,
            reason,
            actor_user_id: contract.user_id.as_deref(),
            from_status: &from,
            to_status: &to,
            now: now_ms(),
        };
        store::insert(&self.pool, &control).await?;
        self.detail(tenant_id, &process_id).await
    }
}
