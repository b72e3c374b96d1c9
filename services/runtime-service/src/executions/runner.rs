//! One agent turn, start to finish: `EXECUTION_STARTED`, `STEP_STARTED`, what governance decided
//! on its input (a halt, a safety pause, `POLICY_DECISION`), the streamed answer
//! (`AGENT_RESPONSE_DELTA` per chunk, shaped by the output policies: as it comes, redacted as it
//! streams, or held whole until decided), `AGENT_RESPONSE` with the full text, `STEP_COMPLETED`,
//! `EXECUTION_COMPLETED` — or `EXECUTION_FAILED` / `EXECUTION_CANCELLED`. Cancellation is checked
//! before each event, so no delta follows a cancel; every write waits while an operator has the
//! execution paused ([`super::operate`]). The decisions are [`crate::governance`]'s
//! ([`super::gate`]); the waiting (answer, cancel or timeout) happens here.

use std::sync::Arc;

use platform_sdk::agent_wire::{event_types as ev, ExecutionRecord, ExecutionStatus, SafetyAnswer};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};

use super::control::Control;
use super::gate::{OutputDecision, TurnGate};
use super::Executions;
use crate::agents::classifier::classify;
use crate::agents::{Agent, AgentKind, ModelRequest};
use crate::error::RuntimeError;
use crate::governance::decide::{Ask, Decision, OutputPlan};
use crate::governance::redact::Stream;

/// A step that waits for a human.
struct ApprovalRequired {
    /// The action (`execute_workflow`, or `agent_input` / `agent_output`).
    action: String,
    /// What the human is asked to approve.
    description: String,
    /// The decision that asked.
    decision_id: String,
}

/// How the answer's chunks become deltas ([`OutputPlan`]).
enum Shaping {
    Pass,
    Redact(Box<Stream>),
    Hold,
}

/// Largest delta assembled from chunks that were already waiting, bytes.
const MAX_DELTA_BYTES: usize = 256;
/// Earlier messages given to the agent (plus the current one, dropped from the history).
const HISTORY_MESSAGES: i64 = 21;

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

/// The `AGENT_RESPONSE` data of a finished answer: the classifier's reading and, for the guide,
/// its routing recommendation.
fn response_data(agent: &Agent, record: &ExecutionRecord, text: &str, answer: &str) -> Value {
    let reading = classify(text);
    let (target, routing) = match agent.pillar {
        Some(p) => (p.as_str(), Value::Null),
        None if agent.kind != AgentKind::Guide => (reading.domain, Value::Null),
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
        "agent_id": record.agent_id,
        "message": answer,
        "content": answer,
        "agent_type": record.agent_type,
        "pillar": record.pillar,
        "intent": {"primary_intent": reading.primary_intent, "target_domain": target, "confidence": reading.confidence},
    });
    if !routing.is_null() {
        data["routing"] = routing;
    }
    data
}

impl Executions {
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
            // The clock stops while an operator has the execution paused.
            _ = super::operate::approval_clock(control, self.approval_timeout) => Gate::TimedOut,
        }
    }

    /// Pauses for a human: true when approved and running again, false when the execution ended.
    async fn pause_for_approval(
        &self,
        record: &ExecutionRecord,
        control: &Control,
        cancelled: &mut watch::Receiver<bool>,
        approval: &ApprovalRequired,
    ) -> Result<bool, RuntimeError> {
        use ExecutionStatus::*;
        let ApprovalRequired {
            action,
            description,
            decision_id,
        } = approval;
        let hook_id = uuid::Uuid::new_v4().to_string();
        self.set_status(record, Executing, AwaitingApproval, None)
            .await?;
        // Told before the client sees the pending event, which it may answer at once.
        let pending = json!({"execution_id": record.execution_id, "hook_id": hook_id, "action": action, "description": description});
        let parties = crate::notifications::producers::execution_parties(
            &self.pool,
            &record.tenant_id,
            &record.execution_id,
        )
        .await?;
        let mut tx = self.pool.begin().await?;
        crate::notifications::producers::awaiting_approval_in(
            &mut tx,
            &record.tenant_id,
            &record.execution_id,
            parties,
            pending,
        )
        .await?;
        tx.commit().await?;
        self.emit(
            record,
            ev::SAFETY_APPROVAL_PENDING,
            json!({"hook_id": hook_id, "action": action, "description": description, "decision_id": decision_id}),
        )
        .await?;
        let halted = |reason: &str| json!({"hook_id": hook_id, "action": action, "reason": reason});
        match self.wait_for_approval(control, cancelled, &hook_id).await {
            Gate::Approved => {
                self.set_status(record, AwaitingApproval, Executing, None)
                    .await
            }
            Gate::Rejected(reason) => {
                self.emit(record, ev::SAFETY_HALTED, halted(&reason))
                    .await?;
                self.finish_cancelled(record, AwaitingApproval, &reason)
                    .await
                    .map(|()| false)
            }
            Gate::TimedOut => {
                let reason = "no approval arrived in time";
                self.emit(record, ev::SAFETY_HALTED, halted(reason)).await?;
                self.finish_failed(record, AwaitingApproval, reason)
                    .await
                    .map(|()| false)
            }
            Gate::Cancelled => self
                .finish_cancelled(record, AwaitingApproval, "cancelled by the user")
                .await
                .map(|()| false),
        }
    }

    /// Acts on an input or tool-call decision (already recorded with the accepted turn): halts
    /// on `deny`, pauses for `approval` on `require_approval`. True when the turn may go on.
    async fn gate_step(
        &self,
        record: &ExecutionRecord,
        control: &Control,
        cancelled: &mut watch::Receiver<bool>,
        decided: &crate::governance::Decided,
        action_type: &str,
        approval: ApprovalRequired,
    ) -> Result<bool, RuntimeError> {
        let (id, verdict) = (decided.id.as_str(), &decided.verdict);
        match verdict.decision {
            Decision::Deny => self
                .halt(record, (id, verdict), action_type, None)
                .await
                .map(|()| false),
            Decision::RequireApproval => {
                self.announce(record, id, verdict, action_type).await?;
                self.pause_for_approval(record, control, cancelled, &approval)
                    .await
            }
            _ => self
                .announce(record, id, verdict, action_type)
                .await
                .map(|()| true),
        }
    }

    /// Runs the turn.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run(
        self: Arc<Self>,
        record: ExecutionRecord,
        agent: Agent,
        gate: TurnGate,
        text: String,
        client_message_id: Option<String>,
        control: Arc<Control>,
        mut cancelled: watch::Receiver<bool>,
    ) -> Result<(), RuntimeError> {
        use ExecutionStatus::*;
        let agent = &agent;
        // Accepted `executing`, with its start events and its input decided (`Executions::accept`).
        let input = &gate.input;
        let approval = ApprovalRequired {
            action: "agent_input".into(),
            description: format!("Let {} answer this message", agent.agent_id),
            decision_id: input.id.clone(),
        };
        if !self
            .gate_step(
                &record,
                &control,
                &mut cancelled,
                input,
                "agent_input",
                approval,
            )
            .await?
        {
            return Ok(());
        }
        let text = super::gate::decided_text(&text, input);
        let history = self
            .conversations
            .recent(&record.conversation_id, HISTORY_MESSAGES)
            .await;
        let mut history = history?;
        history.pop(); // the current user message, given separately

        if let Some(step) = &gate.tool {
            let approval = ApprovalRequired {
                action: step.action.clone(),
                description: step.description.clone(),
                decision_id: step.decided.id.clone(),
            };
            if !self
                .gate_step(
                    &record,
                    &control,
                    &mut cancelled,
                    &step.decided,
                    "tool_call",
                    approval,
                )
                .await?
            {
                return Ok(());
            }
            if step.decided.verdict.decision == Decision::RequireApproval {
                history.push(("system".into(), format!("approved:{}", step.action)));
            }
        }

        let provider = match self.providers.for_agent(agent) {
            Ok(p) => p,
            Err(e) => return self.finish_failed(&record, Executing, &e.to_string()).await,
        };
        let mut shaping = match gate.policies.output_plan(&agent.agent_id) {
            OutputPlan::Pass => Shaping::Pass,
            OutputPlan::Redact(redactor) => Shaping::Redact(Box::new(Stream::new(redactor))),
            OutputPlan::Hold => Shaping::Hold,
        };
        let (tx, mut rx) = mpsc::channel::<String>(64);
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
                        let delta = match &mut shaping {
                            Shaping::Pass => delta,
                            Shaping::Redact(stream) => stream.push(&delta),
                            Shaping::Hold => String::new(),
                        };
                        if !delta.is_empty() {
                            // Waits here while an operator has the execution paused.
                            let event = self.emit(&record, ev::AGENT_RESPONSE_DELTA, json!({"delta": delta})).await?;
                            if let Some(event) = event {
                                control.saw_delta(&event.timestamp);
                            }
                        }
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
                let error = format!("the agent stopped unexpectedly: {e}");
                return self.finish_failed(&record, Executing, &error).await;
            }
        };
        if *cancelled.borrow() {
            return self
                .finish_cancelled(&record, Executing, "cancelled by the user")
                .await;
        }
        let Some((answer, output)) = self
            .deliver(&record, &control, &mut cancelled, &gate, shaping, answer)
            .await?
        else {
            return Ok(());
        };
        let mut data = response_data(agent, &record, &text, &answer);
        data["client_message_id"] = json!(client_message_id);
        // The output decision, the answer, the status and the closing events are one commit.
        let mut end = Vec::with_capacity(4);
        if let Some(d) = output
            .as_ref()
            .filter(|d| d.verdict.decision != Decision::Allow)
        {
            let decision = super::gate::policy_decision(&d.id, &d.verdict, "agent_output");
            end.push((ev::POLICY_DECISION, decision));
        }
        end.extend([
            (ev::AGENT_RESPONSE, data),
            (ev::STEP_COMPLETED, json!({"step": "respond"})),
            (ev::EXECUTION_COMPLETED, json!({})),
        ]);
        let to = (Executing, Completed);
        if self
            .transition_with(&record, to, None, end, Some(&answer), output.as_ref())
            .await?
        {
            self.metrics.incr("executions_completed");
        }
        Ok(())
    }

    /// Decides the whole answer and delivers what it may: the rest of a redacted stream, or a
    /// held answer once allowed (after a human, when one must approve). Answers the text
    /// delivered and the decision still to record with the turn's end; `None` when the turn
    /// ended here (denied, rejected, timed out, cancelled).
    async fn deliver(
        &self,
        record: &ExecutionRecord,
        control: &Control,
        cancelled: &mut watch::Receiver<bool>,
        gate: &TurnGate,
        shaping: Shaping,
        answer: String,
    ) -> Result<Option<(String, Option<OutputDecision>)>, RuntimeError> {
        let ask = Ask {
            agent_id: &record.agent_id,
            action_type: "agent_output",
            content: Some(&answer),
            action: None,
        };
        let verdict = gate.policies.decide(&ask);
        control.decided_output(verdict.failures.is_empty());
        let delivered = verdict
            .modified_content
            .clone()
            .unwrap_or_else(|| answer.clone());
        let decision = OutputDecision {
            id: crate::governance::service::decision_id(),
            answer,
            verdict,
        };
        let (id, verdict) = (decision.id.as_str(), &decision.verdict);
        let mut unrecorded = Some(decision.clone());
        match verdict.decision {
            Decision::Deny => {
                let output = Some(&decision);
                self.halt(record, (id, verdict), "agent_output", output)
                    .await?;
                return Ok(None);
            }
            Decision::RequireApproval => {
                // Waiting for a human may take minutes: the decision is recorded now.
                self.record_output(record, &decision).await?;
                unrecorded = None;
                self.announce(record, id, verdict, "agent_output").await?;
                let approval = ApprovalRequired {
                    action: "agent_output".into(),
                    description: format!("Deliver the answer of {}", record.agent_id),
                    decision_id: id.to_owned(),
                };
                if !self
                    .pause_for_approval(record, control, cancelled, &approval)
                    .await?
                {
                    return Ok(None);
                }
            }
            _ => {}
        }
        let rest = match shaping {
            Shaping::Pass => String::new(),
            Shaping::Redact(mut stream) => stream.finish(),
            Shaping::Hold => delivered.clone(),
        };
        if !rest.is_empty() {
            let event = self
                .emit(record, ev::AGENT_RESPONSE_DELTA, json!({"delta": rest}))
                .await?;
            if let Some(event) = event {
                control.saw_delta(&event.timestamp);
            }
        }
        Ok(Some((delivered, unrecorded)))
    }
}
