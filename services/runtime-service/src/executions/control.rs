//! The live controls of running executions: each one started here has a cancel signal and, while
//! it waits for a human, one pending safety hook. A cancel or a safety answer reaches the running
//! turn through these. A cancel of an execution not running in this process (its process died,
//! or another replica runs it) is settled directly in storage, and its runner, if alive, stops at
//! its next lease renewal; a safety answer for one another live replica runs is relayed to it
//! ([`super::relay`]).

use std::sync::{Arc, Mutex, OnceLock};

use platform_sdk::agent_wire::{ExecutionRecord, ExecutionStatus, SafetyAnswer};
use platform_sdk::operations_wire::ControlAction;
use platform_sdk::traffic_cop::Contract;
use tokio::sync::{oneshot, watch};

use super::gate::TurnGate;
use super::storage as store;
use super::Executions;
use crate::agents::Agent;
use crate::error::RuntimeError;

/// The live controls of a running execution.
pub struct Control {
    pub(super) tenant_id: String,
    pub(super) session_id: String,
    pub(super) cancel: watch::Sender<bool>,
    pub(super) hook: Mutex<Option<(String, oneshot::Sender<SafetyAnswer>)>>,
    /// When its first `AGENT_RESPONSE_DELTA` was stored (epoch ms): its time to first token,
    /// counted in the usage analytics when it ends. Kept here, not in SQL, so a delta costs no
    /// extra round trip.
    first_delta_at: OnceLock<i64>,
    /// Set when the answer's output decision found no failing policy (trust evidence: honesty).
    output_clean: OnceLock<bool>,
    /// Held by the runner while it writes (an event, a status change) and by an operator's
    /// pause, resume or cancel while it moves the status ([`super::operate`]): the runner never
    /// writes while the execution is paused, and an operator never moves it mid-write.
    pub(super) phase: Arc<tokio::sync::Mutex<super::operate::Phase>>,
    /// True while paused: the runner waits for it to clear, the approval clock stops.
    pub(super) paused: watch::Sender<bool>,
}

impl Control {
    /// Notes the stored timestamp of a delta; only the first counts.
    pub(super) fn saw_delta(&self, timestamp: &str) {
        if self.first_delta_at.get().is_none() {
            if let Some(ms) = platform_sdk::time_util::parse_rfc3339_ms(timestamp) {
                let _ = self.first_delta_at.set(ms);
            }
        }
    }

    /// When the first delta was stored, if one was.
    pub(super) fn first_delta_at(&self) -> Option<i64> {
        self.first_delta_at.get().copied()
    }

    /// Notes whether the answer passed every output policy.
    pub(super) fn decided_output(&self, clean: bool) {
        let _ = self.output_clean.set(clean);
    }

    /// Whether the answer passed every output policy (false until decided).
    pub(super) fn output_clean(&self) -> bool {
        self.output_clean.get().copied().unwrap_or(false)
    }
}

/// Who holds the safety hook being answered.
#[derive(Debug, Clone, Copy)]
pub enum HookHolder<'a> {
    /// This execution.
    Execution(&'a str),
    /// Whichever running execution of this session (in the contract's tenant).
    Session(&'a str),
}

impl Executions {
    /// Registers the controls of an accepted execution and runs its turn in the background; the
    /// handle resolves when the turn has ended (stored).
    pub(super) fn start(
        self: &Arc<Self>,
        record: ExecutionRecord,
        agent: Agent,
        gate: TurnGate,
        text: String,
        client_message_id: Option<String>,
    ) -> tokio::task::JoinHandle<()> {
        let (cancel, cancelled) = watch::channel(false);
        let control = Arc::new(Control {
            tenant_id: record.tenant_id.clone(),
            session_id: record.session_id.clone(),
            cancel,
            hook: Mutex::new(None),
            first_delta_at: OnceLock::new(),
            output_clean: OnceLock::new(),
            phase: Arc::new(tokio::sync::Mutex::new(super::operate::Phase::Running)),
            paused: watch::channel(false).0,
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
                .run(
                    record,
                    agent,
                    gate,
                    text,
                    client_message_id,
                    control,
                    cancelled,
                )
                .await
            {
                tracing::error!(execution_id = %id, error = ?e, "execution task failed");
            }
            if let Ok(mut active) = this.active.lock() {
                active.remove(&id);
            }
            this.metrics.gauge_add("executions_active", -1);
        })
    }

    pub(super) fn control(&self, execution_id: &str) -> Option<Arc<Control>> {
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
        self.cancel_anywhere(&record, None).await?;
        Ok(record)
    }

    /// Delivers a human's answer to the pending safety hook `answer.hook_id`, held by the named
    /// execution or by whichever running execution of the session holds it (then a hook that is
    /// not there is `404 unknown_hook`).
    pub async fn answer_safety(
        &self,
        contract: &Contract,
        holder: HookHolder<'_>,
        answer: SafetyAnswer,
    ) -> Result<ExecutionRecord, RuntimeError> {
        match holder {
            HookHolder::Execution(id) => self.answer_hook(contract, id, answer).await,
            HookHolder::Session(id) => self.answer_hook_in_session(contract, id, answer).await,
        }
    }

    async fn answer_hook(
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
        if self.control(execution_id).is_some() {
            return match self.deliver_answer(execution_id, answer) {
                true => Ok(record),
                false => Err(RuntimeError::NotFound("safety hook")),
            };
        }
        let owner = store::owner_of(&self.pool, execution_id).await?;
        match owner {
            Some(owner) if self.relay_answer(&owner, execution_id, answer).await => Ok(record),
            _ => Err(RuntimeError::NotFound("safety hook")),
        }
    }

    /// Hands `answer` to the pending hook of an execution running here; false when the hook is
    /// not there (another id, already answered, or not running here).
    pub(super) fn deliver_answer(&self, execution_id: &str, answer: SafetyAnswer) -> bool {
        let Some(control) = self.control(execution_id) else {
            return false;
        };
        let sender = {
            let Ok(mut hook) = control.hook.lock() else {
                return false;
            };
            match hook.take() {
                Some((id, tx)) if id == answer.hook_id => tx,
                other => {
                    *hook = other;
                    return false;
                }
            }
        };
        sender.send(answer).is_ok()
    }

    /// Relays `answer` to the replica `owner` that runs the execution; false when there is no
    /// relay (one process), the owner is this replica, or it did not take the answer.
    async fn relay_answer(&self, owner: &str, execution_id: &str, answer: SafetyAnswer) -> bool {
        match self.relay.get() {
            Some(relay) if owner != self.owner_id => {
                relay.answer(owner, execution_id, answer).await
            }
            _ => false,
        }
    }

    /// Relays an operator's `action` to the replica `owner` that runs the execution; false when
    /// there is no relay, the owner is this replica, or it did not act.
    pub(super) async fn relay_control(
        &self,
        owner: &str,
        execution_id: &str,
        action: ControlAction,
        reason: Option<&str>,
    ) -> bool {
        match self.relay.get() {
            Some(relay) if owner != self.owner_id => {
                relay.control(owner, execution_id, action, reason).await
            }
            _ => false,
        }
    }

    /// Shares safety answers with the other replicas over `store` (call once, at start, when
    /// the store is shared).
    pub async fn connect_relay(
        self: &Arc<Self>,
        store: Arc<dyn platform_sdk::state_surface::StateStore>,
    ) -> Result<(), RuntimeError> {
        let relay = super::relay::Relay::start(self, store).await?;
        let _ = self.relay.set(relay);
        Ok(())
    }

    async fn answer_hook_in_session(
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
            .map(|(id, _)| id.clone());
        let Some(execution_id) = execution_id else {
            return self
                .answer_remote_hook_in_session(contract, session_id, answer)
                .await;
        };
        self.answer_hook(contract, &execution_id, answer)
            .await
            .map_err(|e| match e {
                RuntimeError::NotFound(_) => RuntimeError::UnknownHook,
                other => other,
            })
    }

    /// The hook is not held here: ask the replicas running the session's waiting executions.
    async fn answer_remote_hook_in_session(
        &self,
        contract: &Contract,
        session_id: &str,
        answer: SafetyAnswer,
    ) -> Result<ExecutionRecord, RuntimeError> {
        let waiting =
            store::awaiting_in_session(&self.pool, &contract.tenant_id, session_id).await?;
        for (execution_id, owner) in waiting {
            let Some(owner) = owner else { continue };
            if self
                .relay_answer(&owner, &execution_id, answer.clone())
                .await
            {
                return self.get(&contract.tenant_id, &execution_id).await;
            }
        }
        Err(RuntimeError::UnknownHook)
    }
}
