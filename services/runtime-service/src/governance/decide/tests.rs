//! The decision rule, one case per branch.

use platform_sdk::governance_wire::{Condition, Policy, PolicyRule};

use super::*;

fn policy(id: &str, level: &str, action_type: &str, condition: Condition) -> Policy {
    Policy {
        id: id.into(),
        name: id.into(),
        description: None,
        policy_type: "SECURITY".into(),
        status: "ACTIVE".into(),
        enforcement_level: level.into(),
        rules: vec![PolicyRule {
            action_type: action_type.into(),
            agent_pattern: None,
            condition,
        }],
        version: 1,
        created_by: "u".into(),
        created_at: String::new(),
        updated_at: String::new(),
    }
}

fn ask<'a>(action_type: &'a str, content: &'a str) -> Ask<'a> {
    Ask {
        agent_id: "guide",
        action_type,
        content: Some(content),
        action: None,
    }
}

fn terms(t: &[&str]) -> Condition {
    Condition::BlockedTerms {
        terms: t.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn a_failing_strict_policy_denies_whatever_else_fails() {
    let set = PolicySet::new(vec![
        policy("pol_m", "MODERATE", "agent_input", Condition::SensitiveData),
        policy("pol_s", "STRICT", "*", terms(&["secret"])),
        policy(
            "pol_a",
            "MODERATE",
            "*",
            Condition::RequireApproval { actions: vec![] },
        ),
    ]);
    let v = set.decide(&ask("agent_input", "the secret is a@b.co"));
    assert_eq!(v.decision, Decision::Deny);
    assert_eq!(v.deciding_policy(), Some("pol_s"));
    assert_eq!(v.failures.len(), 3);
    assert_eq!(v.modified_content, None);
    let severities: Vec<&str> = v.failures.iter().map(|f| f.severity).collect();
    assert_eq!(severities, ["medium", "high", "medium"]);
}

#[test]
fn approval_comes_before_redaction() {
    let set = PolicySet::new(vec![
        policy("pol_m", "MODERATE", "tool_call", Condition::SensitiveData),
        policy(
            "pol_a",
            "MODERATE",
            "tool_call",
            Condition::RequireApproval {
                actions: vec!["execute_workflow".into()],
            },
        ),
    ]);
    let mut a = ask("tool_call", "mail a@b.co");
    a.action = Some("execute_workflow");
    assert_eq!(set.decide(&a).decision, Decision::RequireApproval);
    a.action = Some("read_file");
    let v = set.decide(&a);
    assert_eq!(v.decision, Decision::Modify);
    assert_eq!(v.modified_content.as_deref(), Some("mail [REDACTED-EMAIL]"));
}

#[test]
fn moderate_redacts_or_logs_and_advisory_allows() {
    let set = PolicySet::new(vec![
        policy("pol_t", "MODERATE", "agent_output", terms(&["Zebra"])),
        policy(
            "pol_n",
            "MODERATE",
            "agent_output",
            Condition::MaxChars { n: 10 },
        ),
        policy("pol_x", "ADVISORY", "agent_output", Condition::DenyAll),
    ]);
    let v = set.decide(&ask("agent_output", "a zebra"));
    assert_eq!(v.decision, Decision::Modify);
    assert_eq!(v.modified_content.as_deref(), Some("a [REDACTED]"));
    assert_eq!(v.evaluated.iter().filter(|e| !e.passed).count(), 2);
    let v = set.decide(&ask("agent_output", "eleven characters"));
    assert_eq!(v.decision, Decision::Log);
    assert_eq!(v.reasons.len(), 2);
    let v = set.decide(&ask("agent_output", "short"));
    assert_eq!(v.decision, Decision::Allow);
    assert_eq!(v.failures[0].severity, "low");
    // Another action type: nothing applies.
    let v = set.decide(&ask("agent_input", "a zebra of many characters"));
    assert_eq!((v.decision, v.evaluated.len()), (Decision::Allow, 0));
}

#[test]
fn only_active_policies_for_the_agent_apply() {
    let mut draft = policy("pol_d", "STRICT", "*", Condition::DenyAll);
    draft.status = "DRAFT".into();
    let mut specialists = policy("pol_w", "STRICT", "*", Condition::DenyAll);
    specialists.rules[0].agent_pattern = Some("wrp_*".into());
    let set = PolicySet::new(vec![draft, specialists]);
    assert_eq!(set.len(), 1);
    assert_eq!(
        set.decide(&ask("agent_input", "hi")).decision,
        Decision::Allow
    );
    let mut a = ask("agent_input", "hi");
    a.agent_id = "wrp_1";
    assert_eq!(set.decide(&a).decision, Decision::Deny);
}

#[test]
fn the_output_plan_holds_for_strict_and_redacts_for_moderate() {
    let plan = |p: Policy| PolicySet::new(vec![p]).output_plan("guide");
    let moderate = plan(policy(
        "a",
        "MODERATE",
        "agent_output",
        Condition::SensitiveData,
    ));
    assert!(matches!(moderate, OutputPlan::Redact(_)));
    assert!(matches!(
        plan(policy("b", "STRICT", "*", terms(&["x"]))),
        OutputPlan::Hold
    ));
    let approval = Condition::RequireApproval { actions: vec![] };
    assert!(matches!(
        plan(policy("e", "ADVISORY", "*", approval)),
        OutputPlan::Hold
    ));
    let input_only = plan(policy("f", "STRICT", "agent_input", Condition::DenyAll));
    assert!(matches!(input_only, OutputPlan::Pass));
    let advisory = plan(policy(
        "g",
        "ADVISORY",
        "agent_output",
        Condition::SensitiveData,
    ));
    assert!(matches!(advisory, OutputPlan::Pass));
}
