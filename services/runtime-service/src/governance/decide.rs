//! The decision rule of SPEC §10, pure: given the tenant's ACTIVE policies and one action (an
//! agent's input or output, a multi-agent message, a tool call), which policies apply, which
//! fail, and what happens:
//!
//! 1. a failing STRICT policy → `deny`;
//! 2. else a failing `require_approval` rule → `require_approval`;
//! 3. else a failing MODERATE policy → `modify` (the content with its redactions) when one of its
//!    failing conditions redacts something, otherwise `log`;
//! 4. else (ADVISORY failures, or none) → `allow`.
//!
//! Every failing policy is a violation (severity from its level), whatever the decision.
//! [`PolicySet::output_plan`] says how a turn's answer may stream given the same policies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use platform_sdk::governance_wire::{Condition, Policy, PolicyEvaluation};

use super::policy::glob_matches;
use super::redact::Redactor;

/// Output plans a policy set keeps before it starts over.
const MAX_CACHED_PLANS: usize = 1024;

/// What a decision says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Stop.
    Deny,
    /// Go ahead with the redacted content.
    Modify,
    /// Go ahead; a MODERATE policy failed and is recorded.
    Log,
    /// Wait for a human.
    RequireApproval,
}

impl Decision {
    /// As on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Modify => "modify",
            Self::Log => "log",
            Self::RequireApproval => "require_approval",
        }
    }
}

/// One action to decide.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The acting agent.
    pub agent_id: &'a str,
    /// `agent_input`, `agent_output`, `multi_agent_message` or `tool_call`.
    pub action_type: &'a str,
    /// The text, if any.
    pub content: Option<&'a str>,
    /// A tool call's action (`execute_workflow`).
    pub action: Option<&'a str>,
}

/// A failing policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The policy.
    pub policy_id: String,
    /// Its name.
    pub policy_name: String,
    /// The failing condition (`blocked_terms`).
    pub condition: &'static str,
    /// `high`, `medium` or `low`.
    pub severity: &'static str,
    /// One line: why.
    pub reason: String,
}

/// The outcome of deciding one action.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// What happens.
    pub decision: Decision,
    /// One line per failing policy.
    pub reasons: Vec<String>,
    /// Every applicable policy.
    pub evaluated: Vec<PolicyEvaluation>,
    /// The failing ones.
    pub failures: Vec<Failure>,
    /// The redacted content, on `modify`.
    pub modified_content: Option<String>,
}

impl Verdict {
    /// The policy a halt names: the first STRICT failure's (else the first failure's).
    pub fn deciding_policy(&self) -> Option<&str> {
        self.failures
            .iter()
            .find(|f| f.severity == "high")
            .or(self.failures.first())
            .map(|f| f.policy_id.as_str())
    }
}

/// How an answer may stream under the policies that apply to its agent's output.
#[derive(Debug, Clone)]
pub enum OutputPlan {
    /// As it comes: nothing could change or stop it.
    Pass,
    /// Through [`super::redact::Stream`] with this redactor (MODERATE redactions only), holding
    /// back what a later chunk could still complete.
    Redact(Redactor),
    /// Whole, after the decision: a STRICT rule or an unconditional approval could stop or hold
    /// it.
    Hold,
}

/// A tenant's ACTIVE policies, as of one policy version, with each agent's output plan worked
/// out once (a plan compiles its redactions; turns of the same agent reuse it).
#[derive(Debug, Default)]
pub struct PolicySet {
    policies: Vec<Arc<Policy>>,
    plans: Mutex<HashMap<String, OutputPlan>>,
}

fn severity(level: &str) -> &'static str {
    match level {
        "STRICT" => "high",
        "MODERATE" => "medium",
        _ => "low",
    }
}

/// Why `condition` fails for `ask`, or `None` when it passes.
fn failing(condition: &Condition, ask: &Ask<'_>) -> Option<String> {
    let content = ask.content.unwrap_or("");
    match condition {
        Condition::DenyAll => Some("denies every such action".into()),
        Condition::RequireApproval { actions } if actions.is_empty() => {
            Some("requires a human's approval".into())
        }
        Condition::RequireApproval { actions } => ask
            .action
            .filter(|a| actions.iter().any(|x| x == a))
            .map(|a| format!("requires a human's approval for {a}")),
        Condition::SensitiveData => {
            Redactor::has_sensitive(content).then(|| "content carries sensitive data".into())
        }
        Condition::BlockedTerms { terms } => {
            let lower = content.to_lowercase();
            terms
                .iter()
                .find(|t| lower.contains(&t.to_lowercase()))
                .map(|_| "content carries a blocked term".into())
        }
        Condition::MaxChars { n } => {
            let count = content.chars().count() as i64;
            (count > *n).then(|| format!("content is {count} characters, over {n}"))
        }
    }
}

impl PolicySet {
    /// The set of `policies` that are ACTIVE.
    pub fn new(policies: Vec<Policy>) -> Self {
        Self {
            policies: policies
                .into_iter()
                .filter(|p| p.status == "ACTIVE")
                .map(Arc::new)
                .collect(),
            plans: Mutex::new(HashMap::new()),
        }
    }

    /// How many policies apply at all.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    fn rules_for<'p>(
        policy: &'p Policy,
        agent_id: &'p str,
        action_type: &'p str,
    ) -> impl Iterator<Item = &'p Condition> + 'p {
        policy.rules.iter().filter_map(move |r| {
            let action = r.action_type == "*" || r.action_type == action_type;
            let agent = r
                .agent_pattern
                .as_deref()
                .is_none_or(|p| glob_matches(p, agent_id));
            (action && agent).then_some(&r.condition)
        })
    }

    /// Decides `ask`.
    pub fn decide(&self, ask: &Ask<'_>) -> Verdict {
        let mut evaluated = Vec::new();
        let mut failures = Vec::new();
        let mut approval = false;
        let mut redactions: Vec<&Condition> = Vec::new();
        for policy in &self.policies {
            let mut conditions = Self::rules_for(policy, ask.agent_id, ask.action_type).peekable();
            let Some(first) = conditions.peek().map(|c| c.name()) else {
                continue;
            };
            let mut failed: Option<(&Condition, String)> = None;
            for condition in conditions {
                if let Some(reason) = failing(condition, ask) {
                    let moderate = policy.enforcement_level == "MODERATE";
                    if moderate
                        && matches!(
                            condition,
                            Condition::SensitiveData | Condition::BlockedTerms { .. }
                        )
                    {
                        redactions.push(condition);
                    }
                    failed.get_or_insert((condition, reason));
                }
            }
            evaluated.push(PolicyEvaluation {
                policy_id: policy.id.clone(),
                passed: failed.is_none(),
                condition: failed.as_ref().map_or(first, |(c, _)| c.name()).to_owned(),
            });
            if let Some((condition, reason)) = failed {
                approval |= matches!(condition, Condition::RequireApproval { .. })
                    && policy.enforcement_level != "STRICT";
                failures.push(Failure {
                    policy_id: policy.id.clone(),
                    policy_name: policy.name.clone(),
                    condition: condition.name(),
                    severity: severity(&policy.enforcement_level),
                    reason: format!("{}: {reason}", policy.name),
                });
            }
        }
        let strict = failures.iter().any(|f| f.severity == "high");
        let moderate = failures.iter().any(|f| f.severity == "medium");
        let modified = (!strict && !approval && !redactions.is_empty())
            .then(|| redactor_of(&redactions).redact(ask.content.unwrap_or("")))
            .filter(|m| Some(m.as_str()) != ask.content);
        let decision = if strict {
            Decision::Deny
        } else if approval {
            Decision::RequireApproval
        } else if modified.is_some() {
            Decision::Modify
        } else if moderate {
            Decision::Log
        } else {
            Decision::Allow
        };
        Verdict {
            decision,
            reasons: failures.iter().map(|f| f.reason.clone()).collect(),
            evaluated,
            failures,
            modified_content: modified,
        }
    }

    /// How `agent_id`'s answers may stream.
    pub fn output_plan(&self, agent_id: &str) -> OutputPlan {
        if let Some(plan) = self
            .plans
            .lock()
            .ok()
            .and_then(|p| p.get(agent_id).cloned())
        {
            return plan;
        }
        let plan = self.plan_for(agent_id);
        if let Ok(mut plans) = self.plans.lock() {
            // Bounded: agent ids come from the catalog, but a tenant may have many wrappers.
            if plans.len() >= MAX_CACHED_PLANS {
                plans.clear();
            }
            plans.insert(agent_id.to_owned(), plan.clone());
        }
        plan
    }

    fn plan_for(&self, agent_id: &str) -> OutputPlan {
        let mut redactions = Vec::new();
        for policy in &self.policies {
            for condition in Self::rules_for(policy, agent_id, "agent_output") {
                let stops = policy.enforcement_level == "STRICT"
                    || matches!(condition, Condition::RequireApproval { actions } if actions.is_empty());
                if stops {
                    return OutputPlan::Hold;
                }
                if policy.enforcement_level == "MODERATE"
                    && matches!(
                        condition,
                        Condition::SensitiveData | Condition::BlockedTerms { .. }
                    )
                {
                    redactions.push(condition);
                }
            }
        }
        match redactions.is_empty() {
            true => OutputPlan::Pass,
            false => OutputPlan::Redact(redactor_of(&redactions)),
        }
    }
}

fn redactor_of(conditions: &[&Condition]) -> Redactor {
    let sensitive = conditions
        .iter()
        .any(|c| matches!(c, Condition::SensitiveData));
    let terms: Vec<String> = conditions
        .iter()
        .filter_map(|c| match c {
            Condition::BlockedTerms { terms } => Some(terms.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    Redactor::new(sensitive, &terms)
}

#[cfg(test)]
mod tests;
