//! What the features where things happen call, inside their own transaction, to turn a real
//! event into a live event and notifications (SPEC §13). One function per producer, so each
//! hook at its site is one line and the wording lives here.

use platform_sdk::live_wire::{live_types, AUDIENCE_ADMINS};
use serde_json::json;
use sqlx::AnyConnection;

use super::{create_in, Note, To};
use crate::live::{publish_in, user_audience, LiveEvent};

/// The user who created a deployed agent (a wrapper), if `agent_id` is one of the tenant's
/// (builtin agents have no creator).
pub async fn creator_of(
    conn: &mut AnyConnection,
    tenant_id: &str,
    agent_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT created_by FROM agent_wrappers WHERE id = $1 AND tenant_id = $2")
        .bind(agent_id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await
}

/// A recorded governance violation.
#[derive(Debug, Clone, Copy)]
pub struct ViolationFacts<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// `vio_…`.
    pub violation_id: &'a str,
    /// The agent.
    pub agent_id: &'a str,
    /// The policy.
    pub policy_id: &'a str,
    /// Its name.
    pub policy_name: &'a str,
    /// The failing condition.
    pub violation_type: &'a str,
    /// `high`, `medium` or `low`.
    pub severity: &'a str,
    /// What was decided.
    pub decision: &'a str,
    /// The decision.
    pub decision_id: &'a str,
    /// The execution, if a turn's.
    pub execution_id: Option<&'a str>,
}

/// A violation of severity medium or high: `governance.violation` to the tenant's admins and a
/// notification to the agent's creator and the admins. Low ones only stay in the violations
/// list, and so does a `require_approval` one: the action waits for its user, who is told
/// ([`awaiting_approval_in`]).
pub async fn violation_in(
    conn: &mut AnyConnection,
    v: &ViolationFacts<'_>,
) -> Result<(), sqlx::Error> {
    if !matches!(v.severity, "medium" | "high") || v.violation_type == "require_approval" {
        return Ok(());
    }
    let data = json!({
        "violation_id": v.violation_id,
        "agent_id": v.agent_id,
        "policy_id": v.policy_id,
        "policy_name": v.policy_name,
        "violation_type": v.violation_type,
        "severity": v.severity,
        "decision": v.decision,
        "decision_id": v.decision_id,
        "execution_id": v.execution_id,
    });
    let event = LiveEvent {
        tenant_id: v.tenant_id,
        event_type: live_types::GOVERNANCE_VIOLATION,
        audience: AUDIENCE_ADMINS.to_owned(),
        agent_id: Some(v.agent_id),
        context_id: None,
        data: data.clone(),
    };
    publish_in(conn, event).await?;
    let creator = creator_of(conn, v.tenant_id, v.agent_id).await?;
    let note = Note {
        tenant_id: v.tenant_id,
        kind: live_types::GOVERNANCE_VIOLATION,
        title: format!("Policy \"{}\" violated", v.policy_name),
        body: format!(
            "Agent {} broke policy \"{}\" ({}, severity {}); the action was {}.",
            v.agent_id, v.policy_name, v.violation_type, v.severity, v.decision
        ),
        severity: if v.severity == "high" {
            "critical"
        } else {
            "warning"
        },
        data,
        agent_id: Some(v.agent_id),
    };
    create_in(conn, &note, To::UserAndAdmins(creator.as_deref())).await?;
    Ok(())
}

/// A trust alert of an agent: `trust.alert` to the admins and a notification to the agent's
/// creator and the admins.
pub async fn trust_alert_in(
    conn: &mut AnyConnection,
    tenant_id: &str,
    agent_id: &str,
    data: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let event = LiveEvent {
        tenant_id,
        event_type: live_types::TRUST_ALERT,
        audience: AUDIENCE_ADMINS.to_owned(),
        agent_id: Some(agent_id),
        context_id: None,
        data: data.clone(),
    };
    publish_in(conn, event).await?;
    let creator = creator_of(conn, tenant_id, agent_id).await?;
    let what = data["dimension"].as_str().unwrap_or("aggregate");
    let note = Note {
        tenant_id,
        kind: live_types::TRUST_ALERT,
        title: format!("Trust in agent {agent_id} dropped"),
        body: format!(
            "The {what} trust of agent {agent_id} fell to {:.2} (from {:.2}).",
            data["value"].as_f64().unwrap_or_default(),
            data["previous"].as_f64().unwrap_or_default()
        ),
        severity: "warning",
        data,
        agent_id: Some(agent_id),
    };
    create_in(conn, &note, To::UserAndAdmins(creator.as_deref())).await?;
    Ok(())
}

/// A deployment changed status: `deployment.status` and a notification to the wrapper's
/// creator.
pub async fn deployment_in(
    conn: &mut AnyConnection,
    tenant_id: &str,
    created_by: &str,
    data: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let agent_id = data["agent_id"].as_str().map(str::to_owned);
    let status = data["status"].as_str().unwrap_or_default().to_owned();
    let event = LiveEvent {
        tenant_id,
        event_type: live_types::DEPLOYMENT_STATUS,
        audience: user_audience(created_by),
        agent_id: agent_id.as_deref(),
        context_id: None,
        data: data.clone(),
    };
    publish_in(conn, event).await?;
    let agent = agent_id.as_deref().unwrap_or("?");
    let note = Note {
        tenant_id,
        kind: live_types::DEPLOYMENT_STATUS,
        title: format!("Agent {agent} is {status}"),
        body: match data["error"].as_str() {
            Some(error) => format!("The deployment of agent {agent} is {status}: {error}"),
            None => format!("The deployment of agent {agent} is {status}."),
        },
        severity: if status == "failed" {
            "warning"
        } else {
            "info"
        },
        data,
        agent_id: agent_id.as_deref(),
    };
    create_in(conn, &note, To::User(created_by)).await?;
    Ok(())
}

/// An execution waits for a human approval: a notification to the session's user.
pub async fn approval_pending_in(
    conn: &mut AnyConnection,
    tenant_id: &str,
    user_id: &str,
    agent_id: &str,
    data: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let note = Note {
        tenant_id,
        kind: live_types::EXECUTION_AWAITING_APPROVAL,
        title: "An action waits for your approval".into(),
        body: format!(
            "Agent {agent_id} wants to run {}; approve or deny it in the session.",
            data["action"].as_str().unwrap_or("an action")
        ),
        severity: "warning",
        data,
        agent_id: Some(agent_id),
    };
    create_in(conn, &note, To::User(user_id)).await?;
    Ok(())
}

/// An execution status change of a user's turn.
#[derive(Debug, Clone, Copy)]
pub struct ExecutionFacts<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// The execution.
    pub execution_id: &'a str,
    /// The session's user (`None`: an anonymous session, nobody to tell).
    pub user_id: Option<&'a str>,
    /// The agent.
    pub agent_id: &'a str,
    /// The session (the event's context).
    pub session_id: Option<&'a str>,
    /// `started`, `completed`, `failed`, `cancelled`, `awaiting_approval`, `paused` or `resumed`.
    pub status: &'a str,
}

/// `execution.<status>` to the session's user: one small row per status change, never per
/// delta, in the transaction that changes the status.
pub async fn execution_in(
    conn: &mut AnyConnection,
    e: &ExecutionFacts<'_>,
) -> Result<(), sqlx::Error> {
    let Some(user_id) = e.user_id else {
        return Ok(());
    };
    let event_type = format!("execution.{}", e.status);
    let event = LiveEvent {
        tenant_id: e.tenant_id,
        event_type: &event_type,
        audience: user_audience(user_id),
        agent_id: Some(e.agent_id),
        context_id: e.session_id,
        data: json!({
            "execution_id": e.execution_id,
            "agent_id": e.agent_id,
            "session_id": e.session_id,
            "status": e.status,
        }),
    };
    publish_in(conn, event).await.map(|_| ())
}

/// An operator paused (`paused: true`) or resumed an execution (SPEC §14):
/// `execution.paused|resumed` to the session's user, in the transaction that moves it.
pub async fn execution_operated_in(
    conn: &mut AnyConnection,
    tenant_id: &str,
    execution_id: &str,
    paused: bool,
) -> Result<(), sqlx::Error> {
    let parties = execution_parties(&mut *conn, tenant_id, execution_id).await?;
    let Some((user_id, agent_id, session_id)) = parties else {
        return Ok(());
    };
    let facts = ExecutionFacts {
        tenant_id,
        execution_id,
        user_id: user_id.as_deref(),
        agent_id: &agent_id,
        session_id: Some(&session_id),
        status: if paused { "paused" } else { "resumed" },
    };
    execution_in(conn, &facts).await
}

/// The session's user, agent and session of an execution: on the pool before a transaction that
/// publishes (on SQLite a transaction must start with its write), or inside one after its write.
pub async fn execution_parties<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    tenant_id: &str,
    execution_id: &str,
) -> Result<Option<(Option<String>, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, agent_id, session_id FROM executions WHERE id = $1 AND tenant_id = $2",
    )
    .bind(execution_id)
    .bind(tenant_id)
    .fetch_optional(db)
    .await
}

/// An execution paused for a human: `execution.awaiting_approval` and a notification to the
/// session's user (`parties` from [`execution_parties`]).
pub async fn awaiting_approval_in(
    conn: &mut AnyConnection,
    tenant_id: &str,
    execution_id: &str,
    parties: Option<(Option<String>, String, String)>,
    data: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let Some((Some(user_id), agent_id, session_id)) = parties else {
        return Ok(());
    };
    let facts = ExecutionFacts {
        tenant_id,
        execution_id,
        user_id: Some(&user_id),
        agent_id: &agent_id,
        session_id: Some(&session_id),
        status: "awaiting_approval",
    };
    execution_in(conn, &facts).await?;
    approval_pending_in(conn, tenant_id, &user_id, &agent_id, data).await
}
