//! A multimodal run is a runtime execution (SPEC §15, docs/adr/0022-multimodal.md): starting one
//! inserts an `executions` row (agent `multimodal.<modality>`, type `multimodal`, session and
//! conversation = the request id, owned by this process under the execution lease) with the
//! request's move to `processing` and a `processing` result, in one transaction; its events
//! (`EXECUTION_STARTED`, then `EXECUTION_COMPLETED | FAILED | CANCELLED`) go to the event log under
//! the request id.
//!
//! The run's task races three things: the adapter under the request's time limit ("timed out
//! after N s" when it is over), its cancel signal, and its lease (renewed every third of the
//! lease; a lease it cannot renew means another replica ended the execution, so it stops).
//! Whoever ends a run (the task, a cancel, a sweep) does it with conditional updates, so exactly
//! one ending is recorded. A request whose execution was ended by someone who does not know
//! about requests (a replica's lease sweep, its shutdown, the executions API) is brought in line
//! by [`super::reconcile`].

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::agent_wire::{event_types, ExecutionStatus};
use platform_sdk::multimodal_wire::{MultimodalRequest, RequestState};
use platform_sdk::time_util::now_ms;
use serde_json::json;
use tokio::sync::watch;

use super::adapters::{Input, Output};
use super::rules::Action;
use super::service::{sha256_hex, Multimodal};
use super::storage::{self as store, Ending, Move, Stored};
use super::RESULT_PREFIX;
use crate::error::RuntimeError;
use crate::executions::storage as executions;

/// How a run's task ended.
enum Outcome {
    Done(Output),
    Failed(String),
    /// Cancelled, or no longer ours: whoever stopped it recorded the ending.
    Stopped,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Multimodal {
    /// Starts a run of `stored` (from its current state) and answers the request as it is now.
    pub(super) async fn start(
        self: &Arc<Self>,
        stored: &Stored,
        user_id: Option<&str>,
        input: Input,
    ) -> Result<MultimodalRequest, RuntimeError> {
        let request = &stored.record;
        let now = now_ms();
        let result_id = format!("{RESULT_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let execution_id = uuid::Uuid::new_v4().to_string();
        let agent_id = format!("multimodal.{}", request.modality.as_str());
        let summary = match (&request.input_text, &request.input_artifact) {
            (Some(text), _) => text.clone(),
            (None, Some(a)) => format!("[{} artifact sha256:{}]", a.content_type, a.sha256),
            (None, None) => String::new(),
        };
        let mut tx = self.pool.begin().await?;
        let moved = store::move_request(
            &mut *tx,
            &Move {
                tenant_id: &request.tenant_id,
                id: &request.id,
                from: request.state,
                to: RequestState::Processing,
                run: Some((&result_id, &execution_id)),
                error: None,
                now,
            },
        )
        .await?;
        if !moved {
            tx.rollback().await?;
            return Err(self
                .lost_race(&request.tenant_id, &request.id, Action::Execute)
                .await);
        }
        store::insert_result(
            &mut *tx,
            &request.tenant_id,
            &result_id,
            &request.id,
            &execution_id,
            now,
        )
        .await?;
        executions::insert(
            &mut *tx,
            &executions::NewExecution {
                id: &execution_id,
                tenant_id: &request.tenant_id,
                session_id: &request.id,
                user_id,
                conversation_id: &request.id,
                agent_id: &agent_id,
                agent_type: "multimodal",
                pillar: None,
                input: &summary,
                now,
                owner_id: &self.owner_id,
                lease_expires_at: now.saturating_add(millis(self.lease)),
                status: ExecutionStatus::Executing,
            },
        )
        .await?;
        tx.commit().await?;
        self.events
            .append(
                &request.tenant_id,
                &request.id,
                Some(&execution_id),
                event_types::EXECUTION_STARTED,
                json!({"execution_id": execution_id, "conversation_id": request.id, "agent_id": agent_id,
                       "request_id": request.id, "result_id": result_id, "modality": request.modality}),
            )
            .await?;
        let (cancel, cancelled) = watch::channel(false);
        if let Ok(mut running) = self.running.lock() {
            running.insert(request.id.clone(), cancel);
        }
        let run = Run {
            tenant_id: request.tenant_id.clone(),
            request_id: request.id.clone(),
            result_id,
            execution_id,
            timeout_seconds: u64::try_from(request.requested_timeout_seconds).unwrap_or(1),
        };
        let this = self.clone();
        tokio::spawn(async move {
            let request_id = run.request_id.clone();
            let outcome = this.work(&run, input, cancelled).await;
            if let Err(e) = this.end(&run, outcome).await {
                tracing::error!(request_id = %request_id, error = ?e, "could not record the end of a multimodal run");
            }
            if let Ok(mut running) = this.running.lock() {
                running.remove(&request_id);
            }
        });
        self.get(&request.tenant_id, &request.id).await
    }

    /// The adapter under the time limit, raced against a cancel and the loss of the lease.
    async fn work(&self, run: &Run, input: Input, mut cancelled: watch::Receiver<bool>) -> Outcome {
        let limit = Duration::from_secs(run.timeout_seconds);
        tokio::select! {
            done = tokio::time::timeout(limit, self.adapter.run(input)) => match done {
                Ok(Ok(output)) => Outcome::Done(output),
                Ok(Err(e)) => Outcome::Failed(e.0),
                Err(_) => Outcome::Failed(format!("timed out after {} s", run.timeout_seconds)),
            },
            _ = cancelled.wait_for(|c| *c) => Outcome::Stopped,
            _ = self.hold_lease(&run.execution_id) => Outcome::Stopped,
        }
    }

    /// Renews the run's lease every third of the lease; returns when it could not be renewed
    /// (the execution ended elsewhere).
    async fn hold_lease(&self, execution_id: &str) {
        let every = (self.lease / 3).max(Duration::from_millis(10));
        let ids = [execution_id.to_owned()];
        loop {
            tokio::time::sleep(every).await;
            let until = now_ms().saturating_add(millis(self.lease));
            match executions::renew(&self.pool, &self.owner_id, &ids, until).await {
                Ok(renewed) if renewed.is_empty() => return,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not renew a multimodal run's lease"),
            }
        }
    }

    /// Records how a run ended: the request, its result, its execution (one transaction, each
    /// conditional on still running), then the event.
    async fn end(&self, run: &Run, outcome: Outcome) -> Result<(), RuntimeError> {
        let (output, error) = match outcome {
            Outcome::Stopped => return Ok(()),
            Outcome::Done(output) => (Some(output), None),
            Outcome::Failed(error) => (None, Some(error)),
        };
        let now = now_ms();
        let state = match error {
            None => RequestState::Completed,
            Some(_) => RequestState::Failed,
        };
        let artifact = output
            .as_ref()
            .and_then(|o| o.artifact.as_ref())
            .map(|(data, ct)| (sha256_hex(data), data, ct));
        let empty = json!({});
        let mut tx = self.pool.begin().await?;
        let moved = store::move_request(
            &mut *tx,
            &Move {
                tenant_id: &run.tenant_id,
                id: &run.request_id,
                from: RequestState::Processing,
                to: state,
                run: None,
                error: error.as_deref(),
                now,
            },
        )
        .await?;
        if let Some((sha, data, _)) = &artifact {
            store::put_artifact(&mut *tx, &run.tenant_id, sha, data, now).await?;
        }
        let ending = Ending {
            state,
            output_text: output.as_ref().and_then(|o| o.text.as_deref()),
            artifact: artifact
                .as_ref()
                .map(|(sha, data, ct)| (sha.as_str(), data.len() as u64, ct.as_str())),
            output_data: output.as_ref().map_or(&empty, |o| &o.data),
            now,
        };
        let recorded = moved && store::finish_result(&mut *tx, &run.result_id, &ending).await?;
        let status = match state {
            RequestState::Completed => ExecutionStatus::Completed,
            _ => ExecutionStatus::Failed,
        };
        let finish = executions::Finish {
            id: &run.execution_id,
            guard: executions::Guard::From(ExecutionStatus::Executing),
            to: status,
            error: error.as_deref(),
            now,
            first_delta_at: None,
            answer: ending.output_text,
            output_clean: true,
            slo_ms: self.latency_slo_ms,
        };
        if !recorded || !executions::finish(&mut tx, &finish).await? {
            // Cancelled or swept meanwhile: that ending stands.
            tx.rollback().await?;
            return Ok(());
        }
        tx.commit().await?;
        let event = match status {
            ExecutionStatus::Completed => event_types::EXECUTION_COMPLETED,
            _ => event_types::EXECUTION_FAILED,
        };
        self.events
            .append(
                &run.tenant_id,
                &run.request_id,
                Some(&run.execution_id),
                event,
                json!({"execution_id": run.execution_id, "conversation_id": run.request_id,
                       "request_id": run.request_id, "result_id": run.result_id,
                       "state": state, "error": error}),
            )
            .await?;
        Ok(())
    }

    /// Cancels a processing request's run: request, result and execution in one transaction
    /// (false when the run ended first), then the running task is stopped (here, or on its
    /// replica at its next lease renewal) and `EXECUTION_CANCELLED` logged.
    pub(super) async fn cancel_run(
        &self,
        stored: &Stored,
        reason: &str,
    ) -> Result<bool, RuntimeError> {
        let request = &stored.record;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved = store::move_request(
            &mut *tx,
            &Move {
                tenant_id: &request.tenant_id,
                id: &request.id,
                from: RequestState::Processing,
                to: RequestState::Cancelled,
                run: None,
                error: Some(reason),
                now,
            },
        )
        .await?;
        if !moved {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(result_id) = &request.result_id {
            let ending = Ending {
                state: RequestState::Cancelled,
                output_text: None,
                artifact: None,
                output_data: &json!({}),
                now,
            };
            store::finish_result(&mut *tx, result_id, &ending).await?;
        }
        let mut ended_execution = false;
        if let Some(execution_id) = &stored.execution_id {
            let finish = executions::Finish {
                id: execution_id,
                guard: executions::Guard::From(ExecutionStatus::Executing),
                to: ExecutionStatus::Cancelled,
                error: Some(reason),
                now,
                first_delta_at: None,
                answer: None,
                output_clean: false,
                slo_ms: self.latency_slo_ms,
            };
            ended_execution = executions::finish(&mut tx, &finish).await?;
        }
        tx.commit().await?;
        if let Some(cancel) = self
            .running
            .lock()
            .ok()
            .and_then(|r| r.get(&request.id).cloned())
        {
            let _ = cancel.send(true);
        }
        if let (true, Some(execution_id)) = (ended_execution, &stored.execution_id) {
            self.events
                .append(
                    &request.tenant_id,
                    &request.id,
                    Some(execution_id),
                    event_types::EXECUTION_CANCELLED,
                    json!({"execution_id": execution_id, "conversation_id": request.id,
                           "request_id": request.id, "reason": reason}),
                )
                .await?;
        }
        Ok(true)
    }
}

/// What a run's task needs to record its end.
struct Run {
    tenant_id: String,
    request_id: String,
    result_id: String,
    execution_id: String,
    timeout_seconds: u64,
}
