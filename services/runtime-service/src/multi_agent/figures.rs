//! A context's history, metrics and agents (SPEC §12), every figure computed from its stored
//! messages (and, for trust, the agents' stored trust): nothing here is kept as a counter.
//!
//! - `messages_sent`: messages from the agent (its answers included); `messages_received`:
//!   messages delivered to it (a blocked one reached nobody);
//! - `participation_rate`: messages_sent / total_messages (0 with no messages);
//!   `average_participation`: the mean of the context's agents' rates;
//! - `avg_response_ms`: the mean time from a message asking the agent to answer to its stored
//!   answer (`in_reply_to`);
//! - `active_agents`: agents of the context that sent a message in the last 5 minutes;
//! - `approval_rate`: approved / all; `average_trust_score`: the mean sender trust recorded with
//!   the messages; `violations`: the violation rows recorded for them.

use std::collections::HashMap;

use platform_sdk::multi_agent_wire::{
    ContextAgent, ContextAgentMetrics, ContextAgents, ContextHistory, ContextMetrics,
    GovernanceMetrics,
};
use platform_sdk::time_util::now_ms;

use super::service::MultiAgent;
use super::storage::{self, Row};
use crate::error::RuntimeError;
use crate::governance::trust::model::State;

/// What counts as "active".
pub const ACTIVE_WINDOW_MS: i64 = 5 * 60 * 1000;

/// History filters.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Only messages from this agent.
    pub from_agent_id: Option<String>,
    /// Only messages of this type.
    pub message_type: Option<String>,
    /// Only messages at or after this time (epoch ms).
    pub since: Option<i64>,
    /// At most this many (the newest), 1..=200.
    pub limit: usize,
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn agent_metrics(agent_id: &str, rows: &[Row]) -> ContextAgentMetrics {
    let total = rows.len();
    let sent = rows
        .iter()
        .filter(|r| r.message.from_agent_id == agent_id)
        .count();
    let received = rows
        .iter()
        .filter(|r| {
            r.message
                .delivery_results
                .iter()
                .any(|d| d.recipient_id == agent_id && d.delivered)
        })
        .count();
    let asked: HashMap<&str, i64> = rows
        .iter()
        .map(|r| (r.message.message_id.as_str(), r.created_ms))
        .collect();
    let waits: Vec<f64> = rows
        .iter()
        .filter(|r| r.message.from_agent_id == agent_id)
        .filter_map(|r| {
            let asked_at = asked.get(r.message.in_reply_to.as_deref()?)?;
            Some((r.created_ms - asked_at) as f64)
        })
        .collect();
    ContextAgentMetrics {
        agent_id: agent_id.to_owned(),
        messages_sent: sent as i64,
        messages_received: received as i64,
        participation_rate: match total {
            0 => 0.0,
            n => sent as f64 / n as f64,
        },
        avg_response_ms: mean(&waits),
    }
}

impl MultiAgent {
    /// The context's messages matching `filter`, oldest first.
    pub async fn history(
        &self,
        tenant_id: &str,
        id: &str,
        filter: &HistoryFilter,
    ) -> Result<ContextHistory, RuntimeError> {
        let context = self.get(tenant_id, id).await?;
        let rows = storage::messages(&self.pool, tenant_id, id).await?;
        let total = rows.len();
        let mut matching: Vec<_> = rows
            .into_iter()
            .filter(|r| {
                let m = &r.message;
                filter
                    .from_agent_id
                    .as_ref()
                    .is_none_or(|a| *a == m.from_agent_id)
                    && filter
                        .message_type
                        .as_ref()
                        .is_none_or(|t| m.message.kind.as_ref() == Some(t))
                    && filter.since.is_none_or(|s| r.created_ms >= s)
            })
            .map(|r| r.message)
            .collect();
        let filtered = matching.len();
        let skip = filtered.saturating_sub(filter.limit);
        matching.drain(..skip);
        Ok(ContextHistory {
            context_id: context.context_id,
            messages: matching,
            total_messages: total as i64,
            filtered_count: filtered as i64,
            collaboration_model: context.collaboration_model,
        })
    }

    /// The context's figures.
    pub async fn metrics(&self, tenant_id: &str, id: &str) -> Result<ContextMetrics, RuntimeError> {
        let context = self.get(tenant_id, id).await?;
        let rows = storage::messages(&self.pool, tenant_id, id).await?;
        let agents: Vec<ContextAgentMetrics> = context
            .agent_ids
            .iter()
            .map(|a| agent_metrics(a, &rows))
            .collect();
        let since = now_ms() - ACTIVE_WINDOW_MS;
        let active = context
            .agent_ids
            .iter()
            .filter(|a| {
                rows.iter()
                    .any(|r| r.message.from_agent_id == **a && r.created_ms >= since)
            })
            .count();
        let rates: Vec<f64> = agents.iter().map(|a| a.participation_rate).collect();
        let approved = rows
            .iter()
            .filter(|r| r.message.governance_data.approved)
            .count();
        let trusts: Vec<f64> = rows
            .iter()
            .map(|r| r.message.governance_data.trust_score)
            .collect();
        Ok(ContextMetrics {
            context_id: context.context_id,
            total_messages: rows.len() as i64,
            active_agents: active as i64,
            average_participation: match rows.len() {
                0 => 0.0,
                _ => mean(&rates).unwrap_or(0.0),
            },
            agent_metrics: agents,
            governance_metrics: GovernanceMetrics {
                approval_rate: match rows.len() {
                    0 => 0.0,
                    n => approved as f64 / n as f64,
                },
                average_trust_score: mean(&trusts),
                violations: rows.iter().map(|r| r.violations).sum(),
            },
        })
    }

    /// The context's agents with their figures and trust.
    pub async fn agents(&self, tenant_id: &str, id: &str) -> Result<ContextAgents, RuntimeError> {
        let context = self.get(tenant_id, id).await?;
        let rows = storage::messages(&self.pool, tenant_id, id).await?;
        let mut agents = Vec::with_capacity(context.agent_ids.len());
        for agent_id in &context.agent_ids {
            let state = crate::governance::trust::storage::get(&self.pool, tenant_id, agent_id)
                .await?
                .map_or_else(State::initial, |s| s.state);
            let m = agent_metrics(agent_id, &rows);
            agents.push(ContextAgent {
                agent_id: m.agent_id,
                messages_sent: m.messages_sent,
                messages_received: m.messages_received,
                participation_rate: m.participation_rate,
                avg_response_ms: m.avg_response_ms,
                trust_score: state.aggregate(),
                trust_confidence: state.confidence(),
            });
        }
        Ok(ContextAgents {
            context_id: context.context_id,
            agents,
        })
    }
}
