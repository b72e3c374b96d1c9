//! The multimodal service: requests (create, read, list, execute, cancel), their results and
//! artifacts, and the tenants' policies. Plain values and [`RuntimeError`], no HTTP. Running a
//! request is [`super::run`]'s: a run is a runtime execution.
//!
//! The operations hub reaches requests through [`Multimodal::get`] and [`Multimodal::cancel`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use platform_sdk::multimodal_wire::{
    ArtifactRef, Modality, MultimodalPolicy, MultimodalRequest, MultimodalRequestInput,
    MultimodalRequestList, MultimodalResult, RequestState,
};
use platform_sdk::page::{Cursor, PageRequest};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::traffic_cop::Contract;
use sha2::{Digest as _, Sha256};
use sqlx::AnyPool;
use tokio::sync::watch;

use super::adapters::{Adapter, Input};
use super::rules::{self, Action};
use super::storage::{self as store, Stored};
use super::REQUEST_PREFIX;
use crate::error::RuntimeError;
use crate::events::EventLog;

/// Multimodal requests of every tenant.
pub struct Multimodal {
    pub(super) pool: AnyPool,
    pub(super) events: Arc<EventLog>,
    pub(super) adapter: Adapter,
    /// This runtime process's execution owner id (the executions' lease holder).
    pub(super) owner_id: String,
    /// How long an execution lease lasts.
    pub(super) lease: Duration,
    /// The latency objective of an execution, ms (trust evidence).
    pub(super) latency_slo_ms: i64,
    /// The cancel signals of the runs in this process, by request id.
    pub(super) running: Mutex<HashMap<String, watch::Sender<bool>>>,
}

/// What [`Multimodal::new`] needs.
pub struct MultimodalDeps {
    /// SQL pool.
    pub pool: AnyPool,
    /// The event log (runs log their events under the request id).
    pub events: Arc<EventLog>,
    /// The configured adapter.
    pub adapter: Adapter,
    /// The execution owner id of this process.
    pub owner_id: String,
    /// The execution lease.
    pub lease: Duration,
    /// The latency objective of an execution, ms.
    pub latency_slo_ms: i64,
}

/// Hex SHA-256.
pub(super) fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Multimodal {
    /// The service.
    pub fn new(deps: MultimodalDeps) -> Arc<Self> {
        Arc::new(Self {
            pool: deps.pool,
            events: deps.events,
            adapter: deps.adapter,
            owner_id: deps.owner_id,
            lease: deps.lease,
            latency_slo_ms: deps.latency_slo_ms,
            running: Mutex::new(HashMap::new()),
        })
    }

    pub(super) async fn stored(&self, tenant_id: &str, id: &str) -> Result<Stored, RuntimeError> {
        store::get_request(&self.pool, tenant_id, id)
            .await?
            .ok_or(RuntimeError::NotFound("multimodal request"))
    }

    /// The tenant's policy (the defaults until an admin sets one).
    pub async fn policy(&self, tenant_id: &str) -> Result<MultimodalPolicy, RuntimeError> {
        Ok(store::policy(&self.pool, tenant_id)
            .await?
            .unwrap_or_default())
    }

    /// Replaces the contract's tenant's policy (admin only: the experience gateway checks).
    pub async fn put_policy(
        &self,
        contract: &Contract,
        mut policy: MultimodalPolicy,
    ) -> Result<MultimodalPolicy, RuntimeError> {
        rules::check_policy(&mut policy)?;
        store::put_policy(
            &self.pool,
            &contract.tenant_id,
            &policy,
            contract.user_id.as_deref(),
            now_ms(),
        )
        .await?;
        Ok(policy)
    }

    /// Creates a request (checked against the tenant's policy; its artifact stored once), and
    /// runs it at once unless `execute_now` is false.
    pub async fn create(
        self: &Arc<Self>,
        contract: &Contract,
        input: MultimodalRequestInput,
    ) -> Result<MultimodalRequest, RuntimeError> {
        let policy = self.policy(&contract.tenant_id).await?;
        let checked = rules::check(input, &policy)?;
        let now = now_ms();
        let sha = checked.artifact.as_ref().map(|(data, _)| sha256_hex(data));
        let record = MultimodalRequest {
            id: format!("{REQUEST_PREFIX}{}", uuid::Uuid::new_v4().simple()),
            tenant_id: contract.tenant_id.clone(),
            requested_by: contract.user_id.clone().unwrap_or_else(|| "service".into()),
            modality: checked.modality,
            input_text: checked.input_text.clone(),
            input_artifact: checked.artifact.as_ref().zip(sha.as_ref()).map(
                |((data, content_type), sha)| ArtifactRef {
                    bytes: data.len() as u64,
                    sha256: sha.clone(),
                    content_type: content_type.clone(),
                },
            ),
            state: RequestState::Pending,
            result_id: None,
            error_message: None,
            requested_timeout_seconds: checked.timeout_seconds,
            created_at: rfc3339_ms(now),
            updated_at: rfc3339_ms(now),
        };
        let mut tx = self.pool.begin().await?;
        if let (Some((data, _)), Some(sha)) = (&checked.artifact, &sha) {
            store::put_artifact(&mut *tx, &record.tenant_id, sha, data, now).await?;
        }
        store::insert_request(&mut *tx, &record, now).await?;
        tx.commit().await?;
        if !checked.execute_now {
            return Ok(record);
        }
        let input = Input {
            modality: checked.modality,
            text: checked.input_text,
            artifact: checked.artifact,
        };
        let stored = Stored {
            record,
            execution_id: None,
            created_ms: now,
        };
        self.start(&stored, contract.user_id.as_deref(), input)
            .await
    }

    /// A request of the tenant (another tenant's: 404).
    pub async fn get(&self, tenant_id: &str, id: &str) -> Result<MultimodalRequest, RuntimeError> {
        Ok(self.stored(tenant_id, id).await?.record)
    }

    /// One page of the tenant's requests, newest first.
    pub async fn list(
        &self,
        tenant_id: &str,
        modality: Option<Modality>,
        state: Option<RequestState>,
        page: &PageRequest,
    ) -> Result<MultimodalRequestList, RuntimeError> {
        let mut rows = store::list_requests(
            &self.pool,
            tenant_id,
            modality,
            state,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |r| Cursor {
            key: r.created_ms,
            id: r.record.id.clone(),
        });
        Ok(MultimodalRequestList {
            items: rows.into_iter().map(|r| r.record).collect(),
            next_cursor,
        })
    }

    /// The result of the request's latest run (404 before any run).
    pub async fn result(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<MultimodalResult, RuntimeError> {
        let request = self.stored(tenant_id, id).await?.record;
        let result_id = request.result_id.ok_or(RuntimeError::NotFound("result"))?;
        store::get_result(&self.pool, tenant_id, &result_id)
            .await?
            .ok_or(RuntimeError::NotFound("result"))
    }

    /// The bytes and media type of a result's output artifact.
    pub async fn download(
        &self,
        tenant_id: &str,
        result_id: &str,
    ) -> Result<(Vec<u8>, String), RuntimeError> {
        let result = store::get_result(&self.pool, tenant_id, result_id)
            .await?
            .ok_or(RuntimeError::NotFound("result"))?;
        let artifact = result
            .output_artifact
            .ok_or(RuntimeError::NotFound("output artifact"))?;
        let data = store::artifact(&self.pool, tenant_id, &artifact.sha256)
            .await?
            .ok_or(RuntimeError::NotFound("output artifact"))?;
        Ok((data, artifact.content_type))
    }

    /// Runs a pending request, or retries a failed one.
    pub async fn execute(
        self: &Arc<Self>,
        contract: &Contract,
        id: &str,
    ) -> Result<MultimodalRequest, RuntimeError> {
        let stored = self.stored(&contract.tenant_id, id).await?;
        rules::after(stored.record.state, Action::Execute)?;
        let artifact = match &stored.record.input_artifact {
            None => None,
            Some(a) => {
                let data = store::artifact(&self.pool, &contract.tenant_id, &a.sha256)
                    .await?
                    .ok_or_else(|| {
                        RuntimeError::Internal(anyhow::anyhow!("artifact {} is missing", a.sha256))
                    })?;
                Some((data, a.content_type.clone()))
            }
        };
        let input = Input {
            modality: stored.record.modality,
            text: stored.record.input_text.clone(),
            artifact,
        };
        self.start(&stored, contract.user_id.as_deref(), input)
            .await
    }

    /// Cancels a pending or processing request (a running one stops at once: its adapter call
    /// is dropped). `reason` is kept as its `error_message` (default "cancelled by the user").
    /// The operations hub calls this too.
    pub async fn cancel(
        &self,
        tenant_id: &str,
        id: &str,
        reason: Option<&str>,
    ) -> Result<MultimodalRequest, RuntimeError> {
        let stored = self.stored(tenant_id, id).await?;
        rules::after(stored.record.state, Action::Cancel)?;
        let reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(crate::governance::trust::evidence::CANCELLED_BY_USER);
        let cancelled = match stored.record.state {
            RequestState::Processing => self.cancel_run(&stored, reason).await?,
            _ => {
                let m = store::Move {
                    tenant_id,
                    id,
                    from: stored.record.state,
                    to: RequestState::Cancelled,
                    run: None,
                    error: Some(reason),
                    now: now_ms(),
                };
                store::move_request(&self.pool, &m).await?
            }
        };
        if !cancelled {
            return Err(self.lost_race(tenant_id, id, Action::Cancel).await);
        }
        self.get(tenant_id, id).await
    }

    /// The answer when another move won between our read and our write: the refusal from where
    /// the request is now, or a plain conflict when the move is still allowed.
    pub(super) async fn lost_race(
        &self,
        tenant_id: &str,
        id: &str,
        action: Action,
    ) -> RuntimeError {
        match self.stored(tenant_id, id).await {
            Err(e) => e,
            Ok(now) => match rules::after(now.record.state, action) {
                Err(e) => e,
                Ok(_) => RuntimeError::Conflict(
                    "the request changed while this one was being made; try again".into(),
                ),
            },
        }
    }
}
