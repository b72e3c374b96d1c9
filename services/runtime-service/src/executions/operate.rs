//! An operator's controls over a running execution (SPEC §14): pause, resume and cancel.
//!
//! A paused execution emits nothing until it resumes. The runner writes every event and status
//! change through a *slot* (the execution's `phase` lock, [`Executions::slot`]); while the phase
//! is paused the runner waits for the slot, so the model may go on producing (its chunks queue,
//! then backpressure stops it) but nothing reaches the log or the clients. An operator moves the
//! status while holding the same lock, so a pause never lands in the middle of a write and the
//! runner's conditional status updates always start from the state it believes in: resume puts
//! back the state the execution was paused in (`executing` or `awaiting_approval`). A paused
//! approval wait does not time out: its clock ([`approval_clock`]) stops while paused.
//!
//! The controls act where the execution runs: on the replica holding its lease, reached over the
//! relay ([`super::relay`]) when another replica takes the request. A cancel of one no live
//! runtime runs is settled in storage, as before.

use std::time::Duration;

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, ExecutionStatus};
use platform_sdk::operations_wire::ControlAction;
use platform_sdk::time_util::now_ms;
use serde_json::json;
use tokio::sync::OwnedMutexGuard;

use super::control::Control;
use super::storage as store;
use super::Executions;
use crate::error::RuntimeError;
use crate::governance::trust::evidence::CANCELLED_BY_USER;

/// Where a running execution is, as its runner and its operators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Running: the runner may write.
    Running,
    /// Paused by an operator from this state; the runner waits.
    Paused(ExecutionStatus),
    /// Ended by an operator (cancelled): the runner writes nothing more.
    Ended,
}

/// The right to write for a running execution (`None` inside: it does not run here).
pub struct Slot(#[allow(dead_code)] Option<OwnedMutexGuard<Phase>>);

/// What the `action` name says in an `invalid_transition`.
const WHAT: &str = "workflow execution";

fn refused(current: ExecutionStatus, action: ControlAction) -> RuntimeError {
    RuntimeError::InvalidTransition {
        what: WHAT,
        current: current.as_str().to_owned(),
        action: action.as_str(),
    }
}

/// Resolves after `budget` of unpaused time has passed (never while paused): the approval
/// timeout of a turn an operator may pause.
pub(super) async fn approval_clock(control: &Control, budget: Duration) {
    let mut paused = control.paused.subscribe();
    let mut left = budget;
    loop {
        if *paused.borrow_and_update() {
            if paused.wait_for(|p| !*p).await.is_err() {
                std::future::pending::<()>().await;
            }
            continue;
        }
        let started = tokio::time::Instant::now();
        tokio::select! {
            _ = tokio::time::sleep(left) => return,
            changed = paused.changed() => {
                if changed.is_err() {
                    std::future::pending::<()>().await;
                }
                left = left.saturating_sub(started.elapsed());
            }
        }
    }
}

impl Executions {
    /// Waits until the execution may write (not paused) and holds its slot; `None` when an
    /// operator ended it (or it was cancelled while paused): then nothing may be written.
    pub(super) async fn slot(&self, execution_id: &str) -> Option<Slot> {
        let Some(control) = self.control(execution_id) else {
            return Some(Slot(None));
        };
        let mut paused = control.paused.subscribe();
        let mut cancelled = control.cancel.subscribe();
        loop {
            let guard = control.phase.clone().lock_owned().await;
            match *guard {
                Phase::Running => return Some(Slot(Some(guard))),
                Phase::Ended => return None,
                Phase::Paused(_) if *cancelled.borrow() => return None,
                Phase::Paused(_) => {}
            }
            drop(guard);
            tokio::select! {
                _ = paused.wait_for(|p| !*p) => {}
                _ = cancelled.wait_for(|c| *c) => {}
            }
        }
    }

    /// Pauses, resumes or cancels an execution of `tenant_id` for an operator; answers the
    /// record after the move. Refused with `409 invalid_transition` when the map forbids it
    /// (nothing changes).
    pub async fn operate(
        &self,
        tenant_id: &str,
        execution_id: &str,
        action: ControlAction,
        reason: Option<&str>,
    ) -> Result<(ExecutionStatus, ExecutionRecord), RuntimeError> {
        use ExecutionStatus::*;
        let record = self.get(tenant_id, execution_id).await?;
        let from = record.status;
        let allowed = match action {
            ControlAction::Pause => matches!(from, Executing | AwaitingApproval),
            ControlAction::Resume => from == Paused,
            ControlAction::Cancel => !from.is_terminal(),
        };
        if !allowed {
            return Err(refused(from, action));
        }
        if action == ControlAction::Cancel {
            self.cancel_anywhere(&record, reason).await?;
        } else if !self.control_here(execution_id, action, reason).await? {
            let owner = store::owner_of(&self.pool, execution_id).await?;
            let relayed = match owner {
                Some(owner) => {
                    self.relay_control(&owner, execution_id, action, reason)
                        .await
                }
                None => false,
            };
            if !relayed {
                let now = self.get(tenant_id, execution_id).await?;
                if now.status == from {
                    // Nobody took it: no live runtime runs this execution (its lease will
                    // expire and a sweep fail it).
                    return Err(RuntimeError::InvalidTransition {
                        what: WHAT,
                        current: format!("{} on no live runtime", from.as_str()),
                        action: action.as_str(),
                    });
                }
                return Err(refused(now.status, action));
            }
        }
        Ok((from, self.get(tenant_id, execution_id).await?))
    }

    /// Runs `action` on the execution if it runs here; false when it does not (or the move was
    /// refused: the caller reports the state it finds).
    pub(super) async fn control_here(
        &self,
        execution_id: &str,
        action: ControlAction,
        reason: Option<&str>,
    ) -> Result<bool, RuntimeError> {
        match action {
            ControlAction::Pause => self.pause_here(execution_id, reason).await,
            ControlAction::Resume => self.resume_here(execution_id, reason).await,
            ControlAction::Cancel => self.cancel_here(execution_id, reason).await,
        }
    }

    /// The record of a running execution, read under its slot.
    async fn held(&self, execution_id: &str) -> Result<Option<ExecutionRecord>, RuntimeError> {
        Ok(store::get_any(&self.pool, execution_id).await?)
    }

    async fn pause_here(
        &self,
        execution_id: &str,
        reason: Option<&str>,
    ) -> Result<bool, RuntimeError> {
        let Some(control) = self.control(execution_id) else {
            return Ok(false);
        };
        let mut phase = control.phase.lock().await;
        if *phase != Phase::Running {
            return Ok(false);
        }
        let Some(record) = self.held(execution_id).await? else {
            return Ok(false);
        };
        let from = record.status;
        if !matches!(
            from,
            ExecutionStatus::Executing | ExecutionStatus::AwaitingApproval
        ) {
            return Ok(false);
        }
        let event = (
            ev::EXECUTION_PAUSED,
            json!({"paused_from": from.as_str(), "reason": reason}),
        );
        let to = (from, ExecutionStatus::Paused);
        if !self
            .transition_held(&record, to, None, vec![event], None, None)
            .await?
        {
            return Ok(false);
        }
        *phase = Phase::Paused(from);
        let _ = control.paused.send(true);
        Ok(true)
    }

    async fn resume_here(
        &self,
        execution_id: &str,
        reason: Option<&str>,
    ) -> Result<bool, RuntimeError> {
        let Some(control) = self.control(execution_id) else {
            return Ok(false);
        };
        let mut phase = control.phase.lock().await;
        let Phase::Paused(previous) = *phase else {
            return Ok(false);
        };
        let Some(record) = self.held(execution_id).await? else {
            return Ok(false);
        };
        let event = (
            ev::EXECUTION_RESUMED,
            json!({"resumed_to": previous.as_str(), "reason": reason}),
        );
        let to = (ExecutionStatus::Paused, previous);
        if !self
            .transition_held(&record, to, None, vec![event], None, None)
            .await?
        {
            return Ok(false);
        }
        *phase = Phase::Running;
        let _ = control.paused.send(false);
        Ok(true)
    }

    /// Cancels an execution running here, from whatever live state it is in, in one commit with
    /// its `EXECUTION_CANCELLED`; its runner then stops without writing anything more.
    pub(super) async fn cancel_here(
        &self,
        execution_id: &str,
        reason: Option<&str>,
    ) -> Result<bool, RuntimeError> {
        let Some(control) = self.control(execution_id) else {
            return Ok(false);
        };
        let mut phase = control.phase.lock().await;
        if *phase == Phase::Ended {
            return Ok(false);
        }
        let Some(record) = self.held(execution_id).await? else {
            return Ok(false);
        };
        if record.status.is_terminal() {
            return Ok(false);
        }
        let data = json!({"reason": reason.unwrap_or(CANCELLED_BY_USER)});
        let events = vec![(ev::EXECUTION_CANCELLED, data)];
        let to = (record.status, ExecutionStatus::Cancelled);
        let cancelled = self
            .transition_held(&record, to, Some(CANCELLED_BY_USER), events, None, None)
            .await?;
        if cancelled {
            *phase = Phase::Ended;
        }
        let _ = control.cancel.send(true);
        let _ = control.paused.send(false);
        Ok(cancelled)
    }

    /// Cancels an execution wherever it runs: here, on its owner (relayed), or — when no live
    /// runtime runs it — in storage (its runner, if alive, stops at its next lease renewal).
    pub(super) async fn cancel_anywhere(
        &self,
        record: &ExecutionRecord,
        reason: Option<&str>,
    ) -> Result<(), RuntimeError> {
        let id = record.execution_id.as_str();
        if self.cancel_here(id, reason).await? {
            return Ok(());
        }
        if let Some(owner) = store::owner_of(&self.pool, id).await? {
            if self
                .relay_control(&owner, id, ControlAction::Cancel, reason)
                .await
            {
                return Ok(());
            }
        }
        let Some(now) = store::get_any(&self.pool, id).await? else {
            return Err(RuntimeError::NotFound("execution"));
        };
        if now.status.is_terminal() {
            return Ok(());
        }
        let finish = store::Finish {
            id,
            guard: store::Guard::From(now.status),
            to: ExecutionStatus::Cancelled,
            error: Some(CANCELLED_BY_USER),
            now: now_ms(),
            first_delta_at: None,
            answer: None,
            output_clean: false,
            slo_ms: self.latency_slo_ms,
        };
        let mut tx = self.pool.begin().await?;
        let cancelled = store::finish(&mut tx, &finish).await?;
        tx.commit().await?;
        if cancelled {
            let data = json!({"reason": reason.unwrap_or(CANCELLED_BY_USER)});
            self.events
                .append(
                    &now.tenant_id,
                    &now.session_id,
                    Some(id),
                    ev::EXECUTION_CANCELLED,
                    Self::with_ids(&now, data),
                )
                .await?;
        }
        Ok(())
    }
}
