//! How a running execution moves: every status change goes through the explicit transition map
//! (a forbidden one is a `409`, a racing one changes nothing), and every event it emits carries
//! the execution's ids. The runner uses these and nothing else to report progress.

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, ExecutionStatus, SessionEvent};
use platform_sdk::time_util::now_ms;
use serde_json::{json, Value};

use super::gate::OutputDecision;
use super::storage as store;
use super::Executions;
use crate::error::RuntimeError;
use crate::events::log::InTransaction;

impl Executions {
    pub(super) fn with_ids(record: &ExecutionRecord, mut data: Value) -> Value {
        if let Some(map) = data.as_object_mut() {
            map.insert("execution_id".into(), json!(record.execution_id));
            map.insert("conversation_id".into(), json!(record.conversation_id));
            map.insert("agent_id".into(), json!(record.agent_id));
        }
        data
    }

    /// Appends one event of the running execution; `None`, and nothing written, when an operator
    /// ended it while it was paused (it waits while paused, [`Executions::slot`]).
    pub(super) async fn emit(
        &self,
        record: &ExecutionRecord,
        event_type: &str,
        data: Value,
    ) -> Result<Option<SessionEvent>, RuntimeError> {
        let Some(_slot) = self.slot(&record.execution_id).await else {
            return Ok(None);
        };
        self.events
            .append(
                &record.tenant_id,
                &record.session_id,
                Some(&record.execution_id),
                event_type,
                Self::with_ids(record, data),
            )
            .await
            .map(Some)
    }

    pub(super) async fn set_status(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        to: ExecutionStatus,
        error: Option<&str>,
    ) -> Result<bool, RuntimeError> {
        if !from.can_become(to) {
            return Err(RuntimeError::Conflict(format!(
                "{} cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        if to.is_terminal() {
            // Ending goes through `store::finish`, which counts the usage.
            return self
                .transition_with(record, (from, to), error, Vec::new(), None, None)
                .await;
        }
        let Some(_slot) = self.slot(&record.execution_id).await else {
            return Ok(false);
        };
        Ok(store::transition(&self.pool, &record.execution_id, from, to, error, now_ms()).await?)
    }

    /// Moves the execution from `from` to `to` and appends `events` in one transaction (one
    /// commit), with the agent's `answer` stored in its conversation, its `output` decision
    /// recorded and, when `to` ends it, its usage and trust counted ([`store::finish`]) in the
    /// same commit. False, and nothing written, when the execution was no longer in `from`. While
    /// the execution is paused this waits ([`Executions::slot`]).
    pub(super) async fn transition_with(
        &self,
        record: &ExecutionRecord,
        (from, to): (ExecutionStatus, ExecutionStatus),
        error: Option<&str>,
        events: Vec<(&str, Value)>,
        answer: Option<&str>,
        output: Option<&OutputDecision>,
    ) -> Result<bool, RuntimeError> {
        let Some(_slot) = self.slot(&record.execution_id).await else {
            return Ok(false);
        };
        self.transition_held(record, (from, to), error, events, answer, output)
            .await
    }

    /// [`Self::transition_with`] by whoever already holds the execution's write slot (the runner,
    /// or an operator's control).
    pub(super) async fn transition_held(
        &self,
        record: &ExecutionRecord,
        (from, to): (ExecutionStatus, ExecutionStatus),
        error: Option<&str>,
        events: Vec<(&str, Value)>,
        answer: Option<&str>,
        output: Option<&OutputDecision>,
    ) -> Result<bool, RuntimeError> {
        if !from.can_become(to) {
            return Err(RuntimeError::Conflict(format!(
                "{} cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        let events: Vec<(&str, Value)> = events
            .into_iter()
            .map(|(t, d)| (t, Self::with_ids(record, d)))
            .collect();
        let (id, error) = (record.execution_id.clone(), error.map(str::to_owned));
        let control = self.control(&record.execution_id);
        let first_delta_at = control.as_ref().and_then(|c| c.first_delta_at());
        let output_clean = control.is_some_and(|c| c.output_clean());
        let slo_ms = self.latency_slo_ms;
        let answer = answer.map(|content| {
            (
                record.conversation_id.clone(),
                record.tenant_id.clone(),
                record.agent_id.clone(),
                content.to_owned(),
            )
        });
        let (governance, decided) = (self.governance.clone(), output.cloned());
        let work: InTransaction<'_> = Box::new(move |conn| {
            let (id, error, answer) = (id.clone(), error.clone(), answer.clone());
            let (governance, decided, record) =
                (governance.clone(), decided.clone(), record.clone());
            Box::pin(async move {
                // The decision first: the audit chain's lock before the trust row's (`finish`),
                // the order every transaction that takes both keeps (ADR 0020).
                if let Some(decided) = &decided {
                    decided.record(&governance, &mut *conn, &record).await?;
                }
                let now = now_ms();
                let moved = match to.is_terminal() {
                    true => {
                        let finish = store::Finish {
                            id: &id,
                            guard: store::Guard::From(from),
                            to,
                            error: error.as_deref(),
                            now,
                            first_delta_at,
                            answer: answer.as_ref().map(|(_, _, _, content)| content.as_str()),
                            output_clean,
                            slo_ms,
                        };
                        store::finish(&mut *conn, &finish).await?
                    }
                    false => {
                        let moved =
                            store::transition(&mut *conn, &id, from, to, error.as_deref(), now)
                                .await?;
                        // An operator's pause or resume goes live for the session's user.
                        let operated =
                            to == ExecutionStatus::Paused || from == ExecutionStatus::Paused;
                        if moved && operated {
                            crate::notifications::producers::execution_operated_in(
                                &mut *conn,
                                &record.tenant_id,
                                &id,
                                to == ExecutionStatus::Paused,
                            )
                            .await?;
                        }
                        moved
                    }
                };
                if !moved {
                    return Ok(false);
                }
                if let Some((conversation, tenant, agent, content)) = &answer {
                    crate::conversations::storage::add_message(
                        &mut *conn,
                        conversation,
                        tenant,
                        "assistant",
                        content,
                        Some(agent),
                        Some(&id),
                        now,
                    )
                    .await?;
                }
                Ok(true)
            })
        });
        let appended = self
            .events
            .append_with(
                &record.tenant_id,
                &record.session_id,
                Some(&record.execution_id),
                &events,
                work,
            )
            .await?;
        Ok(appended.is_some())
    }

    /// Cancels the execution; `reason` is kept as its `error` (trust tells a cancellation by the
    /// user from one by the system by it).
    pub(super) async fn finish_cancelled(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        reason: &str,
    ) -> Result<(), RuntimeError> {
        let events = vec![(ev::EXECUTION_CANCELLED, json!({"reason": reason}))];
        let to = (from, ExecutionStatus::Cancelled);
        self.transition_with(record, to, Some(reason), events, None, None)
            .await
            .map(|_| ())
    }

    pub(super) async fn finish_failed(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        error: &str,
    ) -> Result<(), RuntimeError> {
        let events = vec![(ev::EXECUTION_FAILED, json!({"error": error}))];
        let to = (from, ExecutionStatus::Failed);
        self.transition_with(record, to, Some(error), events, None, None)
            .await
            .map(|_| ())
    }
}
