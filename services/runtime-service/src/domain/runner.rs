//! One agent turn, start to finish: `EXECUTION_STARTED`, `STEP_STARTED`, an optional safety
//! pause, the streamed answer (`AGENT_RESPONSE_DELTA` per chunk), `AGENT_RESPONSE` with the full
//! text, `STEP_COMPLETED`, `EXECUTION_COMPLETED` — or `EXECUTION_FAILED` / `EXECUTION_CANCELLED`.
//! Every status change goes through the explicit transition map; cancellation is checked before
//! each event, so no delta follows a cancel.

use std::sync::Arc;

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, ExecutionStatus, SafetyAnswer};
use platform_sdk::time_util::now_ms;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};

use super::executions::{Control, Executions};
use crate::agents::builtin::action_needing_approval;
use crate::agents::classifier::classify;
use crate::agents::{registry, ModelRequest};
use crate::error::RuntimeError;
use crate::storage::executions as store;

/// Largest delta assembled from chunks that were already waiting, bytes.
const MAX_DELTA_BYTES: usize = 256;

/// Resolves once the execution is cancelled (never, if its controller is gone).
async fn until_cancelled(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

enum Gate {
    Approved,
    Rejected(String),
    TimedOut,
    Cancelled,
}

impl Executions {
    fn with_ids(record: &ExecutionRecord, mut data: Value) -> Value {
        if let Some(map) = data.as_object_mut() {
            map.insert("execution_id".into(), json!(record.execution_id));
            map.insert("conversation_id".into(), json!(record.conversation_id));
            map.insert("agent_id".into(), json!(record.agent_id));
        }
        data
    }

    async fn emit(
        &self,
        record: &ExecutionRecord,
        event_type: &str,
        data: Value,
    ) -> Result<(), RuntimeError> {
        self.bus
            .emit(
                &record.tenant_id,
                &record.session_id,
                Some(&record.execution_id),
                event_type,
                Self::with_ids(record, data),
            )
            .await?;
        Ok(())
    }

    /// Several events in one transaction (fewer commits on the hot path).
    async fn emit_all(
        &self,
        record: &ExecutionRecord,
        events: Vec<(&str, Value)>,
    ) -> Result<(), RuntimeError> {
        let events: Vec<(&str, Value)> = events
            .into_iter()
            .map(|(t, d)| (t, Self::with_ids(record, d)))
            .collect();
        self.bus
            .emit_batch(
                &record.tenant_id,
                &record.session_id,
                Some(&record.execution_id),
                &events,
            )
            .await?;
        Ok(())
    }

    async fn set_status(
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
        Ok(store::transition(&self.pool, &record.execution_id, from, to, error, now_ms()).await?)
    }

    async fn finish_cancelled(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        reason: &str,
    ) -> Result<(), RuntimeError> {
        if self
            .set_status(record, from, ExecutionStatus::Cancelled, None)
            .await?
        {
            self.emit(record, ev::EXECUTION_CANCELLED, json!({"reason": reason}))
                .await?;
        }
        Ok(())
    }

    async fn finish_failed(
        &self,
        record: &ExecutionRecord,
        from: ExecutionStatus,
        error: &str,
    ) -> Result<(), RuntimeError> {
        if self
            .set_status(record, from, ExecutionStatus::Failed, Some(error))
            .await?
        {
            self.emit(record, ev::EXECUTION_FAILED, json!({"error": error}))
                .await?;
        }
        Ok(())
    }

    async fn wait_for_approval(
        &self,
        control: &Control,
        cancelled: &mut watch::Receiver<bool>,
        hook_id: &str,
    ) -> Gate {
        let (tx, rx) = oneshot::channel::<SafetyAnswer>();
        if let Ok(mut hook) = control.hook.lock() {
            *hook = Some((hook_id.to_owned(), tx));
        }
        tokio::select! {
            answer = rx => match answer {
                Ok(a) if a.approved => Gate::Approved,
                Ok(a) => Gate::Rejected(a.rejection_reason.unwrap_or_else(|| "rejected by the reviewer".into())),
                Err(_) => Gate::Cancelled,
            },
            _ = until_cancelled(cancelled) => Gate::Cancelled,
            _ = tokio::time::sleep(self.safety.approval_timeout) => Gate::TimedOut,
        }
    }

    /// Runs the turn.
    pub(crate) async fn run(
        self: Arc<Self>,
        record: ExecutionRecord,
        text: String,
        client_message_id: Option<String>,
        control: Arc<Control>,
        mut cancelled: watch::Receiver<bool>,
    ) -> Result<(), RuntimeError> {
        use ExecutionStatus::*;
        if !self.set_status(&record, Created, Executing, None).await? {
            return Ok(());
        }
        let agent = registry::by_id(&record.agent_id).unwrap_or_else(registry::guide);
        // The history read does not depend on the start events: do both at once.
        let (started, history) = tokio::join!(
            self.emit_all(
                &record,
                vec![
                    (
                        ev::EXECUTION_STARTED,
                        json!({"agent_type": record.agent_type, "pillar": record.pillar, "client_message_id": client_message_id}),
                    ),
                    (ev::STEP_STARTED, json!({"step": "respond"})),
                ],
            ),
            store::recent_messages(&self.pool, &record.conversation_id, 21)
        );
        started?;
        let mut history = history?;
        history.pop(); // the current user message, given separately

        if let Some((action, description)) = action_needing_approval(agent.pillar, &text) {
            if self.safety.approval_actions.iter().any(|a| a == action) {
                let hook_id = uuid::Uuid::new_v4().to_string();
                self.set_status(&record, Executing, AwaitingApproval, None)
                    .await?;
                self.emit(
                    &record,
                    ev::SAFETY_APPROVAL_PENDING,
                    json!({"hook_id": hook_id, "action": action, "description": description}),
                )
                .await?;
                match self
                    .wait_for_approval(&control, &mut cancelled, &hook_id)
                    .await
                {
                    Gate::Approved => {
                        if !self
                            .set_status(&record, AwaitingApproval, Executing, None)
                            .await?
                        {
                            return Ok(());
                        }
                        history.push(("system".into(), format!("approved:{action}")));
                    }
                    Gate::Rejected(reason) => {
                        self.emit(
                            &record,
                            ev::SAFETY_HALTED,
                            json!({"hook_id": hook_id, "action": action, "reason": reason}),
                        )
                        .await?;
                        return self
                            .finish_cancelled(&record, AwaitingApproval, &reason)
                            .await;
                    }
                    Gate::TimedOut => {
                        let reason = "no approval arrived in time";
                        self.emit(
                            &record,
                            ev::SAFETY_HALTED,
                            json!({"hook_id": hook_id, "action": action, "reason": reason}),
                        )
                        .await?;
                        return self.finish_failed(&record, AwaitingApproval, reason).await;
                    }
                    Gate::Cancelled => {
                        return self
                            .finish_cancelled(&record, AwaitingApproval, "cancelled by the user")
                            .await
                    }
                }
            }
        }

        let (tx, mut rx) = mpsc::channel::<String>(64);
        let provider = self.provider.clone();
        let request = ModelRequest {
            agent: agent.clone(),
            history,
            text: text.clone(),
        };
        let mut producing = tokio::spawn(async move { provider.stream(request, tx).await });
        loop {
            tokio::select! {
                biased;
                _ = until_cancelled(&mut cancelled) => {
                    producing.abort();
                    return self.finish_cancelled(&record, Executing, "cancelled by the user").await;
                }
                chunk = rx.recv() => match chunk {
                    Some(mut delta) => {
                        // Chunks produced faster than we persist them travel together.
                        while delta.len() < MAX_DELTA_BYTES {
                            match rx.try_recv() {
                                Ok(more) => delta.push_str(&more),
                                Err(_) => break,
                            }
                        }
                        self.emit(&record, ev::AGENT_RESPONSE_DELTA, json!({"delta": delta})).await?
                    }
                    None => break,
                },
            }
        }
        let answer = tokio::select! {
            biased;
            _ = until_cancelled(&mut cancelled) => {
                producing.abort();
                return self.finish_cancelled(&record, Executing, "cancelled by the user").await;
            }
            result = &mut producing => result,
        };
        let answer = match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => return self.finish_failed(&record, Executing, &e.to_string()).await,
            Err(e) => {
                return self
                    .finish_failed(
                        &record,
                        Executing,
                        &format!("the agent stopped unexpectedly: {e}"),
                    )
                    .await
            }
        };
        if *cancelled.borrow() {
            return self
                .finish_cancelled(&record, Executing, "cancelled by the user")
                .await;
        }
        store::add_message(
            &self.pool,
            &record.conversation_id,
            &record.tenant_id,
            "assistant",
            &answer,
            Some(&record.agent_id),
            Some(&record.execution_id),
            now_ms(),
        )
        .await?;
        let reading = classify(&text);
        let (target, routing) = match agent.pillar {
            Some(p) => (p.as_str(), Value::Null),
            None => match reading.pillar {
                Some(p) => (
                    p.as_str(),
                    json!({"should_route": true, "pillar": p.as_str(), "liaison_agent": format!("liaison.{}", p.as_str())}),
                ),
                None => (
                    reading.domain,
                    json!({"should_route": false, "pillar": null, "liaison_agent": null}),
                ),
            },
        };
        let mut data = json!({
            "message": answer,
            "content": answer,
            "agent_type": record.agent_type,
            "pillar": record.pillar,
            "intent": {"primary_intent": reading.primary_intent, "target_domain": target, "confidence": reading.confidence},
            "client_message_id": client_message_id,
        });
        if !routing.is_null() {
            data["routing"] = routing;
        }
        if self.set_status(&record, Executing, Completed, None).await? {
            self.metrics.incr("executions_completed");
            self.emit_all(
                &record,
                vec![
                    (ev::AGENT_RESPONSE, data),
                    (ev::STEP_COMPLETED, json!({"step": "respond"})),
                    (ev::EXECUTION_COMPLETED, json!({})),
                ],
            )
            .await?;
        }
        Ok(())
    }
}
