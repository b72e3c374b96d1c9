//! What the governance targets (issue 10) share, and target 15.
//!
//! - **The governed tenant**: [`POLICIES`] ACTIVE policies, two rules each, made with the SDK's
//!   own [`PolicyInput`] so a contract change breaks this build. They cover every condition,
//!   every action type (`agent_input`, `agent_output`, `*`, `tool_call`), every enforcement
//!   level and several agent patterns, and none of them fails for the bench's turn: the blocked
//!   terms occur neither in the intent nor in the guide's answer, `max_chars` is far above
//!   either, `require_approval` names only `deploy_to_production` on `tool_call` (a guide turn
//!   asks for no tool), `deny_all` applies to `quarantine-*` agents only, and the bench's text
//!   carries no e-mail address, card or SSN. So every evaluation walks its policies to the end
//!   and decides `allow`, which [`Applicable::read`] checks before anything is measured.
//! - **15**: `POST /api/governance/evaluate` in the governed tenant at 32 closed-loop clients,
//!   half deciding the intent (`agent_input`), half the guide's answer to it (`agent_output`),
//!   interleaved window by window with `GET /api/auth/me` by the same clients. No
//!   `Idempotency-Key`: with one, every request after the first would be answered from the
//!   idempotency store instead of being decided. Reported, not judged (the issue sets no number).

use anyhow::{bail, Context as _, Result};
use platform_sdk::governance_wire::{Condition, DecisionOut, PolicyInput, PolicyRule};
use reqwest::{Method, StatusCode};
use runtime_service::agents::builtin::guide_answer;
use serde_json::json;

use super::agents::{rate, row};
use super::{beside_me, Bench, Which, HTTP_CLIENTS};
use crate::api::Api;
use crate::http1::post_request;
use crate::load::median;
use crate::report::{self, Section, Status};
use crate::services::Stack;
use crate::ws::INTENT;

/// ACTIVE policies of the governed tenant.
pub const POLICIES: usize = 50;
/// The agent the bench's turns go to, as policies see it.
const AGENT: &str = "guide";

/// Rule `kind` (0..5: the five conditions) of policy `i`, on action type `action` (0..3).
fn rule(kind: usize, i: usize, action: usize) -> PolicyRule {
    let action_type = ["agent_input", "agent_output", "*"][action % 3].to_owned();
    let agent_pattern =
        [None, Some("*"), Some("gui*"), Some("g?ide")][(i / 3) % 4].map(str::to_owned);
    let (action_type, agent_pattern, condition) = match kind % 5 {
        0 => (action_type, agent_pattern, Condition::SensitiveData),
        1 => (
            action_type,
            agent_pattern,
            Condition::BlockedTerms {
                terms: vec![
                    format!("zebra-unicorn-{i}"),
                    format!("nightfall-{i}"),
                    "quartz lantern".to_owned(),
                ],
            },
        ),
        2 => (
            action_type,
            agent_pattern,
            Condition::MaxChars { n: 100_000 },
        ),
        3 => (
            "tool_call".to_owned(),
            agent_pattern,
            Condition::RequireApproval {
                actions: vec!["deploy_to_production".to_owned()],
            },
        ),
        _ => (
            action_type,
            Some("quarantine-*".to_owned()),
            Condition::DenyAll,
        ),
    };
    PolicyRule {
        action_type,
        agent_pattern,
        condition,
    }
}

/// The [`POLICIES`] policies of the governed tenant (see the module doc).
pub fn policies() -> Vec<PolicyInput> {
    const TYPES: [&str; 5] = ["SECURITY", "COMPLIANCE", "OPERATIONAL", "ETHICAL", "LEGAL"];
    const LEVELS: [&str; 3] = ["STRICT", "MODERATE", "ADVISORY"];
    (0..POLICIES)
        .map(|i| PolicyInput {
            name: format!("Bench policy {i:02}"),
            description: Some(
                "A policy of the benchmark; nothing the bench sends fails it.".into(),
            ),
            policy_type: TYPES[(i / 2) % 5].to_owned(),
            status: Some("ACTIVE".to_owned()),
            enforcement_level: LEVELS[i % 3].to_owned(),
            rules: vec![rule(i, i, i / 5), rule(i + 2, i, i / 5 + 1)],
        })
        .collect()
}

/// Creates the [`POLICIES`] policies in the tenant of `token` (`201` each).
pub async fn seed(api: &Api, token: &str) -> Result<()> {
    for (i, policy) in policies().iter().enumerate() {
        api.call(
            Method::POST,
            "/api/governance/policies",
            token,
            Some(&serde_json::to_value(policy)?),
            StatusCode::CREATED,
        )
        .await
        .with_context(|| format!("creating policy {i}"))?;
    }
    Ok(())
}

/// The body of an evaluation of the bench's turn: its intent on input, the guide's answer to it
/// on output.
fn evaluation(action_type: &str) -> serde_json::Value {
    let content = match action_type {
        "agent_output" => guide_answer(INTENT),
        _ => INTENT.to_owned(),
    };
    json!({ "agent_id": AGENT, "action_type": action_type, "content": content })
}

/// How many policies of a tenant apply to the bench's turn, on its input and on its output.
#[derive(Debug, Clone, Copy)]
pub struct Applicable {
    /// Policies evaluated on the intent.
    pub input: usize,
    /// Policies evaluated on the guide's answer.
    pub output: usize,
}

impl Applicable {
    /// Evaluates the bench's turn once each way in the tenant of `token`; fails unless both
    /// decisions are `allow` (a turn that a policy modifies or stops is not what is measured).
    pub async fn read(api: &Api, token: &str) -> Result<Self> {
        let mut counts = [0; 2];
        for (count, action_type) in counts.iter_mut().zip(["agent_input", "agent_output"]) {
            let answer = api
                .call(
                    Method::POST,
                    "/api/governance/evaluate",
                    token,
                    Some(&evaluation(action_type)),
                    StatusCode::OK,
                )
                .await?;
            let decision: DecisionOut =
                serde_json::from_value(answer).context("reading the decision")?;
            if decision.decision != "allow" {
                bail!(
                    "the bench's {action_type} is decided `{}`, not `allow`: {:?}",
                    decision.decision,
                    decision.reasons
                );
            }
            *count = decision.policies_evaluated.len();
        }
        Ok(Self {
            input: counts[0],
            output: counts[1],
        })
    }
}

/// Measures target 15.
pub async fn evaluate(stack: &Stack, bench: &Bench) -> Result<Section> {
    let api = Api::new(stack.experience)?;
    let account = api.register().await?;
    let token = account.login.access_token.clone();
    seed(&api, &token).await?;
    let applicable = Applicable::read(&api, &token).await?;
    let requests = ["agent_input", "agent_output"]
        .map(|action_type| {
            post_request(
                stack.experience,
                "/api/governance/evaluate",
                Some(&token),
                &evaluation(action_type).to_string(),
            )
        })
        .to_vec();
    let (decided, baseline) = beside_me(
        bench,
        stack,
        &token,
        ("POST /api/governance/evaluate", requests),
    )
    .await?;
    let mut notes: Vec<String> = [decided.error_note(), baseline.error_note()]
        .into_iter()
        .flatten()
        .collect();
    notes.push(format!(
        "Policies evaluated per decision (`policies_evaluated`): {} on the intent, {} on the \
         answer ({} characters); every decision was checked to be `allow` before measuring, and \
         each one appends an entry to the tenant's hash-chained audit log.",
        applicable.input,
        applicable.output,
        guide_answer(INTENT).chars().count()
    ));
    Ok(Section {
        which: Which::Evaluate,
        setup: format!(
            "Backends: {}. One tenant with {POLICIES} ACTIVE policies of mixed conditions (two \
             rules each; none fails for the bench's text, see `crates/bench/src/scenarios/\
             governance.rs`); {HTTP_CLIENTS} closed-loop keep-alive clients with its owner's \
             bearer token send `POST /api/governance/evaluate` (experience gateway → signed \
             intent → runtime: policies, decision, audit entry), half on the intent \
             (`agent_input`), half on the guide's answer (`agent_output`), without an \
             `Idempotency-Key`; interleaved window by window with `GET /api/auth/me` by the same \
             clients.",
            stack.description
        ),
        rows: vec![
            row("`POST /api/governance/evaluate` p50", &decided, 50.0),
            row("`POST /api/governance/evaluate` p99", &decided, 99.0),
            rate("`POST /api/governance/evaluate` throughput", &decided),
            row("`GET /api/auth/me` p50", &baseline, 50.0),
            row("`GET /api/auth/me` p99", &baseline, 99.0),
            rate("`GET /api/auth/me` throughput", &baseline),
        ],
        measured: format!(
            "{} evaluations (p50 {} / p99 {}) vs {} `/me`",
            report::rate(median(&decided.rates())),
            report::ms(median(&decided.percentiles(50.0))),
            report::ms(median(&decided.percentiles(99.0))),
            report::rate(median(&baseline.rates())),
        ),
        status: Status::Info,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policies mix every condition, action type and level, and none of them can fail for
    /// the bench's turn: what the run checks through the API is already true of the data.
    #[test]
    fn policies_are_mixed_and_pass_the_bench_turn() {
        let policies = policies();
        assert_eq!(policies.len(), POLICIES);
        let rules: Vec<&PolicyRule> = policies.iter().flat_map(|p| &p.rules).collect();
        let mut conditions: Vec<&str> = rules.iter().map(|r| r.condition.name()).collect();
        conditions.sort_unstable();
        conditions.dedup();
        assert_eq!(conditions.len(), 5, "{conditions:?}");
        for action in ["agent_input", "agent_output", "*", "tool_call"] {
            assert!(rules.iter().any(|r| r.action_type == action), "{action}");
        }
        for level in ["STRICT", "MODERATE", "ADVISORY"] {
            assert!(
                policies.iter().any(|p| p.enforcement_level == level),
                "{level}"
            );
        }
        let texts = [INTENT.to_lowercase(), guide_answer(INTENT).to_lowercase()];
        for rule in rules {
            match &rule.condition {
                Condition::BlockedTerms { terms } => {
                    for term in terms {
                        assert!(texts.iter().all(|t| !t.contains(&term.to_lowercase())));
                    }
                }
                Condition::MaxChars { n } => {
                    assert!(texts.iter().all(|t| (t.chars().count() as i64) < *n));
                }
                Condition::RequireApproval { actions } => {
                    assert_eq!(rule.action_type, "tool_call");
                    assert_eq!(actions, &["deploy_to_production"]);
                }
                Condition::DenyAll => {
                    assert_eq!(rule.agent_pattern.as_deref(), Some("quarantine-*"));
                }
                Condition::SensitiveData => {
                    assert!(texts.iter().all(|t| !t.contains('@')));
                }
            }
        }
        let wire = serde_json::to_value(&policies[0]).unwrap();
        let back: PolicyInput = serde_json::from_value(wire).unwrap();
        assert_eq!(back, policies[0]);
    }
}
