//! Executions: accepting a turn (`submit`), and the controls on a running one (`cancel`, safety
//! answers). The turn itself runs in [`super::runner`].
//!
//! An execution belongs to the runtime process that started it: its control handle (cancel,
//! pending safety hook) lives here. At start-up every execution a previous process left
//! unfinished is marked `failed` with an `EXECUTION_FAILED` event, so nothing stays `executing`
//! forever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use platform_sdk::agent_wire::{
    event_types, ExecutionRecord, ExecutionStatus, SafetyAnswer, SubmitIntentPayload,
};
use platform_sdk::runtime_client::ANONYMOUS_TENANT;
use platform_sdk::state_surface::{IdempotencyBegin, StateSurface};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::{canonical_json, Contract};
use platform_sdk::wire::SessionStatus;
use sha2::{Digest as _, Sha256};
use sqlx::AnyPool;
use tokio::sync::{oneshot, watch};

use super::event_bus::EventBus;
use super::sessions::Sessions;
use crate::agents::{registry, ModelProvider};
use crate::error::RuntimeError;
use crate::storage::executions::{self as store, NewExecution};

/// Longest accepted user message, characters.
pub const MAX_INPUT_CHARS: usize = 8_000;
/// How long an `Idempotency-Key` is remembered.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// Safety-hook settings.
#[derive(Debug, Clone)]
pub struct SafetySettings {
    /// Actions that pause for a human approval.
    pub approval_actions: Vec<String>,
    /// How long an approval may take before the execution is halted.
    pub approval_timeout: Duration,
}

/// The live controls of a running execution.
pub(crate) struct Control {
    pub(crate) tenant_id: String,
    pub(crate) session_id: String,
    pub(crate) cancel: watch::Sender<bool>,
    pub(crate) hook: Mutex<Option<(String, oneshot::Sender<SafetyAnswer>)>>,
}

/// Accepts and controls executions.
pub struct Executions {
    pub(crate) pool: AnyPool,
    pub(crate) bus: Arc<EventBus>,
    pub(crate) provider: Arc<dyn ModelProvider>,
    pub(crate) safety: SafetySettings,
    surface: StateSurface,
    sessions: Sessions,
    active: Mutex<HashMap<String, Arc<Control>>>,
    pub(crate) metrics: platform_sdk::metrics::Metrics,
}

fn valid_conversation_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Executions {
    /// The service.
    pub fn new(
        pool: AnyPool,
        bus: Arc<EventBus>,
        provider: Arc<dyn ModelProvider>,
        safety: SafetySettings,
        surface: StateSurface,
        sessions: Sessions,
        metrics: platform_sdk::metrics::Metrics,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            bus,
            provider,
            safety,
            surface,
            sessions,
            active: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    /// Marks executions a previous process left unfinished as failed.
    pub async fn recover(&self) -> Result<usize, RuntimeError> {
        let orphans = store::unfinished(&self.pool).await?;
        let error = "the runtime restarted while this execution was running";
        for e in &orphans {
            if store::transition(
                &self.pool,
                &e.execution_id,
                e.status,
                ExecutionStatus::Failed,
                Some(error),
                now_ms(),
            )
            .await?
            {
                self.bus
                    .emit(
                        &e.tenant_id,
                        &e.session_id,
                        Some(&e.execution_id),
                        event_types::EXECUTION_FAILED,
                        serde_json::json!({"execution_id": e.execution_id, "conversation_id": e.conversation_id, "error": error}),
                    )
                    .await?;
            }
        }
        Ok(orphans.len())
    }

    /// Accepts a turn: checks the session, resolves the agent (a conversation keeps its agent
    /// unless the client names another), records the user message and the execution, and starts
    /// it. The same `Idempotency-Key` with the same payload returns the same execution; with a
    /// different payload, `409`.
    pub async fn submit(
        self: &Arc<Self>,
        contract: &Contract,
        payload: SubmitIntentPayload,
        idempotency_key: Option<String>,
    ) -> Result<(StatusCode, ExecutionRecord), RuntimeError> {
        let text = payload.text.trim().to_owned();
        if text.is_empty() || text.chars().count() > MAX_INPUT_CHARS {
            return Err(RuntimeError::Validation {
                field: "text",
                message: format!("must be 1..={MAX_INPUT_CHARS} characters"),
            });
        }
        let session = self
            .sessions
            .get(&contract.tenant_id, &contract.session_id)
            .await?;
        if session.status != SessionStatus::Active || session.user_id != contract.user_id {
            return Err(RuntimeError::NotFound("session"));
        }
        let scope = format!("submit:{}:{}", contract.tenant_id, contract.session_id);
        let fingerprint = {
            let value =
                serde_json::to_value(&payload).map_err(|e| RuntimeError::Internal(e.into()))?;
            let digest = Sha256::digest(canonical_json(&value).as_bytes());
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        if let Some(key) = &idempotency_key {
            if key.is_empty() || key.len() > 200 {
                return Err(RuntimeError::Validation {
                    field: "Idempotency-Key",
                    message: "must be 1..=200 characters".into(),
                });
            }
            match self
                .surface
                .idempotency_begin(&scope, key, &fingerprint, IDEMPOTENCY_TTL)
                .await?
            {
                IdempotencyBegin::Fresh => {}
                IdempotencyBegin::Completed { body, .. } => {
                    let record: ExecutionRecord = serde_json::from_str(&body)
                        .map_err(|e| RuntimeError::Internal(e.into()))?;
                    return Ok((StatusCode::OK, record));
                }
                IdempotencyBegin::InProgress => return Err(RuntimeError::IntentInProgress),
                IdempotencyBegin::Mismatch => {
                    return Err(RuntimeError::Conflict(
                        "this Idempotency-Key was already used with a different request".into(),
                    ))
                }
            }
        }
        let accepted = self.accept(contract, &payload, &text).await;
        match (&accepted, &idempotency_key) {
            (Ok(record), Some(key)) => {
                let body =
                    serde_json::to_string(record).map_err(|e| RuntimeError::Internal(e.into()))?;
                self.surface
                    .idempotency_complete(&scope, key, &fingerprint, 202, &body, IDEMPOTENCY_TTL)
                    .await?;
            }
            (Err(_), Some(key)) => {
                if let Err(e) = self.surface.idempotency_abort(&scope, key).await {
                    tracing::warn!(error = %e, "could not release an idempotency claim");
                }
            }
            _ => {}
        }
        let record = accepted?;
        self.start(record.clone(), text, payload.client_message_id);
        Ok((StatusCode::ACCEPTED, record))
    }

    async fn accept(
        &self,
        contract: &Contract,
        payload: &SubmitIntentPayload,
        text: &str,
    ) -> Result<ExecutionRecord, RuntimeError> {
        let user = contract.user_id.as_deref();
        let now = now_ms();
        let requested = payload
            .conversation_id
            .as_deref()
            .filter(|c| valid_conversation_id(c));
        let existing_agent = match requested {
            Some(id) => {
                store::conversation_agent(&self.pool, &contract.tenant_id, user, id).await?
            }
            None => None,
        };
        let agent = if payload.agent_type.trim().is_empty() {
            existing_agent
                .as_deref()
                .and_then(registry::by_id)
                .unwrap_or_else(registry::guide)
        } else {
            registry::resolve(payload.agent_type.trim(), payload.pillar.as_deref()).map_err(
                |e| RuntimeError::Validation {
                    field: "agent_type",
                    message: e.to_string(),
                },
            )?
        };
        if contract.tenant_id == ANONYMOUS_TENANT && agent.agent_type != "guide" {
            return Err(RuntimeError::Validation {
                field: "agent_type",
                message: "anonymous sessions may only talk to the guide".into(),
            });
        }
        let title: String = text.chars().take(80).collect();
        let conversation_id = match (requested, existing_agent) {
            (Some(id), Some(_)) => {
                store::touch_conversation(&self.pool, &contract.tenant_id, id, &agent.id, now)
                    .await?;
                id.to_owned()
            }
            (Some(id), None)
                if store::create_conversation(
                    &self.pool,
                    id,
                    &contract.tenant_id,
                    user,
                    &contract.session_id,
                    &agent.id,
                    &title,
                    now,
                )
                .await? =>
            {
                id.to_owned()
            }
            // No id, or one taken by someone else: a fresh conversation.
            _ => {
                let id = uuid::Uuid::new_v4().to_string();
                store::create_conversation(
                    &self.pool,
                    &id,
                    &contract.tenant_id,
                    user,
                    &contract.session_id,
                    &agent.id,
                    &title,
                    now,
                )
                .await?;
                id
            }
        };
        let execution_id = uuid::Uuid::new_v4().to_string();
        store::add_message(
            &self.pool,
            &conversation_id,
            &contract.tenant_id,
            "user",
            text,
            None,
            Some(&execution_id),
            now,
        )
        .await?;
        let pillar = agent.pillar.map(|p| p.as_str());
        store::insert(
            &self.pool,
            &NewExecution {
                id: &execution_id,
                tenant_id: &contract.tenant_id,
                session_id: &contract.session_id,
                user_id: user,
                conversation_id: &conversation_id,
                agent_id: &agent.id,
                agent_type: agent.agent_type,
                pillar,
                input: text,
                now,
            },
        )
        .await?;
        Ok(ExecutionRecord {
            execution_id,
            tenant_id: contract.tenant_id.clone(),
            session_id: contract.session_id.clone(),
            conversation_id,
            agent_id: agent.id.clone(),
            agent_type: agent.agent_type.to_owned(),
            pillar: pillar.map(str::to_owned),
            status: ExecutionStatus::Created,
            error: None,
            created_at: now,
            updated_at: now,
        })
    }

    fn start(
        self: &Arc<Self>,
        record: ExecutionRecord,
        text: String,
        client_message_id: Option<String>,
    ) {
        let (cancel, cancelled) = watch::channel(false);
        let control = Arc::new(Control {
            tenant_id: record.tenant_id.clone(),
            session_id: record.session_id.clone(),
            cancel,
            hook: Mutex::new(None),
        });
        if let Ok(mut active) = self.active.lock() {
            active.insert(record.execution_id.clone(), control.clone());
        }
        self.metrics.incr("executions_started");
        self.metrics.gauge_add("executions_active", 1);
        let this = self.clone();
        tokio::spawn(async move {
            let id = record.execution_id.clone();
            if let Err(e) = this
                .clone()
                .run(record, text, client_message_id, control, cancelled)
                .await
            {
                tracing::error!(execution_id = %id, error = ?e, "execution task failed");
            }
            if let Ok(mut active) = this.active.lock() {
                active.remove(&id);
            }
            this.metrics.gauge_add("executions_active", -1);
        });
    }

    /// Reads an execution of a tenant.
    pub async fn get(
        &self,
        tenant_id: &str,
        execution_id: &str,
    ) -> Result<ExecutionRecord, RuntimeError> {
        store::get(&self.pool, tenant_id, execution_id)
            .await?
            .ok_or(RuntimeError::NotFound("execution"))
    }

    fn control(&self, execution_id: &str) -> Option<Arc<Control>> {
        self.active
            .lock()
            .ok()
            .and_then(|a| a.get(execution_id).cloned())
    }

    /// Cancels an execution: a running one stops before its next event.
    pub async fn cancel(
        &self,
        contract: &Contract,
        execution_id: &str,
    ) -> Result<ExecutionRecord, RuntimeError> {
        let record = self.get(&contract.tenant_id, execution_id).await?;
        if record.session_id != contract.session_id {
            return Err(RuntimeError::NotFound("execution"));
        }
        if record.status.is_terminal() {
            return Err(RuntimeError::Conflict(format!(
                "the execution is already {}",
                record.status.as_str()
            )));
        }
        match self.control(execution_id) {
            Some(control) => {
                let _ = control.cancel.send(true);
            }
            None => {
                // Not running here (its process died): settle it now.
                if store::transition(
                    &self.pool,
                    execution_id,
                    record.status,
                    ExecutionStatus::Cancelled,
                    None,
                    now_ms(),
                )
                .await?
                {
                    self.bus
                        .emit(
                            &record.tenant_id,
                            &record.session_id,
                            Some(execution_id),
                            event_types::EXECUTION_CANCELLED,
                            serde_json::json!({"execution_id": execution_id, "conversation_id": record.conversation_id, "reason": "cancelled by the user"}),
                        )
                        .await?;
                }
            }
        }
        Ok(record)
    }

    /// Delivers a human's answer to the pending safety hook of an execution.
    pub async fn answer_safety(
        &self,
        contract: &Contract,
        execution_id: &str,
        answer: SafetyAnswer,
    ) -> Result<ExecutionRecord, RuntimeError> {
        let record = self.get(&contract.tenant_id, execution_id).await?;
        if record.session_id != contract.session_id {
            return Err(RuntimeError::NotFound("execution"));
        }
        if record.status != ExecutionStatus::AwaitingApproval {
            return Err(RuntimeError::Conflict(format!(
                "the execution is {}, not awaiting approval",
                record.status.as_str()
            )));
        }
        let control = self
            .control(execution_id)
            .ok_or(RuntimeError::NotFound("safety hook"))?;
        let sender = {
            let mut hook = control
                .hook
                .lock()
                .map_err(|_| RuntimeError::Internal(anyhow::anyhow!("hook lock poisoned")))?;
            match hook.take() {
                Some((id, tx)) if id == answer.hook_id => tx,
                other => {
                    *hook = other;
                    return Err(RuntimeError::NotFound("safety hook"));
                }
            }
        };
        let _ = sender.send(answer);
        Ok(record)
    }

    /// Delivers a human's answer to the pending safety hook `answer.hook_id` of whichever running
    /// execution of the session (in the contract's tenant) holds it.
    pub async fn answer_safety_in_session(
        &self,
        contract: &Contract,
        session_id: &str,
        answer: SafetyAnswer,
    ) -> Result<ExecutionRecord, RuntimeError> {
        if contract.session_id != session_id {
            return Err(RuntimeError::UnknownHook);
        }
        let execution_id = self
            .active
            .lock()
            .map_err(|_| RuntimeError::Internal(anyhow::anyhow!("executions lock poisoned")))?
            .iter()
            .find(|(_, c)| {
                c.tenant_id == contract.tenant_id
                    && c.session_id == session_id
                    && c.hook
                        .lock()
                        .is_ok_and(|h| h.as_ref().is_some_and(|(id, _)| *id == answer.hook_id))
            })
            .map(|(id, _)| id.clone())
            .ok_or(RuntimeError::UnknownHook)?;
        self.answer_safety(contract, &execution_id, answer)
            .await
            .map_err(|e| match e {
                RuntimeError::NotFound(_) => RuntimeError::UnknownHook,
                other => other,
            })
    }
}
