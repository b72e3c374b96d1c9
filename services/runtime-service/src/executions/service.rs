//! Accepting a turn (`submit`) and reading executions. The controls of a running one (cancel,
//! safety answers) are in [`super::control`]; the turn itself runs in [`super::runner`].
//!
//! An execution belongs to the runtime process that started it, under a lease that process renews
//! ([`super::lease`]); when the lease expires, any replica fails it, so nothing stays `executing`
//! forever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use platform_sdk::agent_wire::{
    event_types as ev, ExecutionRecord, ExecutionStatus, SubmitIntentPayload,
};
use platform_sdk::idempotency::{self, Claim, Outcome};
use platform_sdk::runtime_client::ANONYMOUS_TENANT;
use platform_sdk::state_surface::StateSurface;
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::{canonical_json, Contract};
use platform_sdk::wire::SessionStatus;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use sqlx::AnyPool;

use super::control::Control;
use super::gate::{decided_text, ToolStep, TurnGate};
use super::storage::{self as store, NewExecution};
use crate::agents::{Agent, AgentCatalog, AgentRequest, Providers};
use crate::conversations::service::Owner;
use crate::conversations::storage::add_message;
use crate::conversations::Conversations;
use crate::error::RuntimeError;
use crate::events::log::InTransaction;
use crate::events::EventLog;
use crate::governance::actions::requested_action;
use crate::governance::decide::Ask;
use crate::governance::{Governance, Origin};
use crate::sessions::Sessions;

/// Longest accepted user message, characters.
pub const MAX_INPUT_CHARS: usize = 8_000;
/// How long an `Idempotency-Key` is remembered.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);
/// Status recorded for an accepted turn (the first answer of a submit).
const ACCEPTED: u16 = 202;

/// What executions are built from.
pub struct ExecutionsDeps {
    /// SQL pool (the `executions` table).
    pub pool: AnyPool,
    /// The event log.
    pub events: Arc<EventLog>,
    /// Conversation history.
    pub conversations: Conversations,
    /// The agents.
    pub catalog: Arc<AgentCatalog>,
    /// Policy decisions.
    pub governance: Arc<Governance>,
    /// The model providers (which one answers depends on the agent).
    pub providers: Arc<Providers>,
    /// How long an approval may take before the execution is halted.
    pub approval_timeout: Duration,
    /// The state surface (idempotency records).
    pub surface: StateSurface,
    /// Session rules.
    pub sessions: Sessions,
    /// Metrics.
    pub metrics: platform_sdk::metrics::Metrics,
    /// How long an execution's lease lasts.
    pub lease: Duration,
    /// The latency objective of an execution, ms (trust evidence).
    pub latency_slo_ms: i64,
}

/// A submitted turn.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The execution.
    pub record: ExecutionRecord,
    /// True when an earlier submit with the same `Idempotency-Key` started it.
    pub repeated: bool,
}

/// Accepts and controls executions.
pub struct Executions {
    pub(super) pool: AnyPool,
    pub(super) events: Arc<EventLog>,
    pub(super) conversations: Conversations,
    pub(super) catalog: Arc<AgentCatalog>,
    pub(super) governance: Arc<Governance>,
    pub(super) providers: Arc<Providers>,
    pub(super) approval_timeout: Duration,
    surface: StateSurface,
    sessions: Sessions,
    pub(super) active: Mutex<HashMap<String, Arc<Control>>>,
    pub(super) metrics: platform_sdk::metrics::Metrics,
    pub(super) owner_id: String,
    pub(super) lease: Duration,
    /// The latency objective of an execution, ms (trust evidence, [`super::storage::Finish`]).
    pub(super) latency_slo_ms: i64,
    /// Safety answers to and from other replicas; unset in the embedded default.
    pub(super) relay: std::sync::OnceLock<Arc<super::relay::Relay>>,
}

fn fingerprint(payload: &SubmitIntentPayload) -> Result<String, RuntimeError> {
    let value = serde_json::to_value(payload).map_err(|e| RuntimeError::Internal(e.into()))?;
    let digest = Sha256::digest(canonical_json(&value).as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

impl Executions {
    /// The service.
    pub fn new(deps: ExecutionsDeps) -> Arc<Self> {
        Arc::new(Self {
            pool: deps.pool,
            events: deps.events,
            conversations: deps.conversations,
            catalog: deps.catalog,
            governance: deps.governance,
            providers: deps.providers,
            approval_timeout: deps.approval_timeout,
            surface: deps.surface,
            sessions: deps.sessions,
            active: Mutex::new(HashMap::new()),
            metrics: deps.metrics,
            owner_id: uuid::Uuid::new_v4().to_string(),
            lease: deps.lease,
            latency_slo_ms: deps.latency_slo_ms,
            relay: std::sync::OnceLock::new(),
        })
    }

    /// Accepts a turn: checks the session, resolves the agent through the catalog, records the
    /// user message and the execution, and starts it. The same `Idempotency-Key` with the same
    /// payload returns the same execution; with a different payload, `409`.
    pub async fn submit(
        self: &Arc<Self>,
        contract: &Contract,
        payload: SubmitIntentPayload,
        idempotency_key: Option<String>,
    ) -> Result<Submission, RuntimeError> {
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
        let Some(key) = idempotency_key else {
            let (record, agent, gate) = self.accept(contract, &payload, (&text, &text)).await?;
            // The turn runs on by itself; its handle is only for callers that wait.
            drop(self.start(record.clone(), agent, gate, text, payload.client_message_id));
            return Ok(Submission {
                record,
                repeated: false,
            });
        };
        if key.is_empty() || key.len() > 200 {
            return Err(RuntimeError::Validation {
                field: "Idempotency-Key",
                message: "must be 1..=200 characters".into(),
            });
        }
        let scope = format!("submit:{}:{}", contract.tenant_id, contract.session_id);
        let fingerprint = fingerprint(&payload)?;
        let claim = Claim {
            scope: &scope,
            key: &key,
            fingerprint: &fingerprint,
            ttl: IDEMPOTENCY_TTL,
        };
        let accepted = std::sync::OnceLock::new();
        let accept = || async {
            let (record, agent, gate) = self.accept(contract, &payload, (&text, &text)).await?;
            let _ = accepted.set((agent, gate));
            Ok::<_, RuntimeError>((ACCEPTED, record))
        };
        match idempotency::run(&self.surface, claim, accept).await? {
            Outcome::Fresh { value: record, .. } => {
                let (agent, gate) = accepted.into_inner().ok_or_else(|| {
                    RuntimeError::Internal(anyhow::anyhow!("accepted turn without its agent"))
                })?;
                drop(self.start(record.clone(), agent, gate, text, payload.client_message_id));
                Ok(Submission {
                    record,
                    repeated: false,
                })
            }
            Outcome::Replayed { body, .. } => Ok(Submission {
                record: serde_json::from_str(&body)
                    .map_err(|e| RuntimeError::Internal(e.into()))?,
                repeated: true,
            }),
            Outcome::InProgress => Err(RuntimeError::IntentInProgress),
            Outcome::Mismatch => Err(RuntimeError::Conflict(
                "this Idempotency-Key was already used with a different request".into(),
            )),
        }
    }

    /// Accepts a turn whose input is `text`; the consequential action it asks for is read from
    /// `asked` (the whole text for a user's turn; only the message for a multi-agent answer, whose
    /// input also quotes the context's history).
    pub(super) async fn accept(
        &self,
        contract: &Contract,
        payload: &SubmitIntentPayload,
        (text, asked): (&str, &str),
    ) -> Result<(ExecutionRecord, Agent, TurnGate), RuntimeError> {
        let owner = Owner {
            tenant_id: &contract.tenant_id,
            user_id: contract.user_id.as_deref(),
            session_id: &contract.session_id,
        };
        let now = now_ms();
        let (requested, existing) = self
            .conversations
            .requested(owner, payload.conversation_id.as_deref())
            .await?;
        let anonymous = contract.tenant_id == ANONYMOUS_TENANT;
        let request = AgentRequest::from(payload);
        let agent = match AgentCatalog::deployed_named(request, existing.as_deref()) {
            Some(_) if anonymous => {
                return Err(RuntimeError::Validation {
                    field: "agent_type",
                    message: "anonymous sessions may only talk to the guide".into(),
                })
            }
            Some(agent_id) => {
                crate::wrappers::deployed_agent(&self.pool, &contract.tenant_id, agent_id).await?
            }
            None => self
                .catalog
                .resolve(request, existing.as_deref(), anonymous)?
                .clone(),
        };
        let title: String = text.chars().take(80).collect();
        let execution_id = uuid::Uuid::new_v4().to_string();
        // The conversation first (its id is in every event), then the user's message, the
        // execution (already `executing`) and its start events in one commit: a turn is accepted
        // and started whole or not at all.
        let mut conn = self.pool.acquire().await?;
        let conversation_id = Conversations::open(
            &mut conn,
            owner,
            requested,
            existing.is_some(),
            &agent.agent_id,
            &title,
            now,
        )
        .await?;
        drop(conn);
        let record = ExecutionRecord {
            execution_id,
            tenant_id: contract.tenant_id.clone(),
            session_id: contract.session_id.clone(),
            conversation_id,
            agent_id: agent.agent_id.clone(),
            agent_type: agent.kind.as_str().to_owned(),
            pillar: agent.pillar.map(|p| p.as_str().to_owned()),
            status: ExecutionStatus::Executing,
            error: None,
            created_at: now,
            updated_at: now,
        };
        let start = vec![
            (
                ev::EXECUTION_STARTED,
                Self::with_ids(
                    &record,
                    json!({"agent_type": record.agent_type, "pillar": record.pillar, "client_message_id": payload.client_message_id}),
                ),
            ),
            (
                ev::STEP_STARTED,
                Self::with_ids(&record, json!({"step": "respond"})),
            ),
        ];
        let row = (
            record.clone(),
            contract.user_id.clone(),
            text.to_owned(),
            self.owner_id.clone(),
            self.lease_until(),
        );
        let governance = self.governance.clone();
        let policies = governance.policies_now(&contract.tenant_id).await?;
        let approvals = agent.approval_actions.clone();
        let step = requested_action(&agent, asked);
        let gate = Arc::new(Mutex::new(None::<TurnGate>));
        let decided_gate = gate.clone();
        // The input (and the action it asks for) is decided in the same commit: a turn is
        // accepted with its decisions or not at all, and the model never sees a denied input.
        let work: InTransaction<'_> = Box::new(move |conn| {
            let (record, user_id, text, owner_id, lease_expires_at) = row.clone();
            let (governance, policies, approvals, step, gate) = (
                governance.clone(),
                policies.clone(),
                approvals.clone(),
                step.clone(),
                decided_gate.clone(),
            );
            Box::pin(async move {
                let mut asks = vec![Ask {
                    agent_id: &record.agent_id,
                    action_type: "agent_input",
                    content: Some(&text),
                    action: None,
                }];
                if let Some((action, description)) = &step {
                    asks.push(Ask {
                        agent_id: &record.agent_id,
                        action_type: "tool_call",
                        content: Some(description),
                        action: Some(action),
                    });
                }
                let origin = Origin {
                    execution_id: Some(&record.execution_id),
                    user_id: user_id.as_deref(),
                    context: None,
                };
                let mut decided = governance
                    .decide_in(
                        &mut *conn,
                        &record.tenant_id,
                        &policies,
                        (&asks, &approvals),
                        origin,
                    )
                    .await?;
                let tool =
                    step.zip(decided.get(1).cloned())
                        .map(|((action, description), decided)| ToolStep {
                            action: action.to_owned(),
                            description,
                            decided,
                        });
                let input = decided.swap_remove(0);
                let text = decided_text(&text, &input);
                add_message(
                    &mut *conn,
                    &record.conversation_id,
                    &record.tenant_id,
                    "user",
                    &text,
                    None,
                    Some(&record.execution_id),
                    record.created_at,
                )
                .await?;
                let new = NewExecution {
                    id: &record.execution_id,
                    tenant_id: &record.tenant_id,
                    session_id: &record.session_id,
                    user_id: user_id.as_deref(),
                    conversation_id: &record.conversation_id,
                    agent_id: &record.agent_id,
                    agent_type: &record.agent_type,
                    pillar: record.pillar.as_deref(),
                    input: &text,
                    now: record.created_at,
                    owner_id: &owner_id,
                    lease_expires_at,
                    status: record.status,
                };
                store::insert(&mut *conn, &new).await?;
                if let Ok(mut gate) = gate.lock() {
                    *gate = Some(TurnGate {
                        policies,
                        input,
                        tool,
                    });
                }
                Ok(true)
            })
        });
        self.events
            .append_with(
                &record.tenant_id,
                &record.session_id,
                Some(&record.execution_id),
                &start,
                work,
            )
            .await?;
        let gate = gate.lock().ok().and_then(|mut g| g.take()).ok_or_else(|| {
            RuntimeError::Internal(anyhow::anyhow!("an accepted turn without its decisions"))
        })?;
        Ok((record, agent, gate))
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
}
