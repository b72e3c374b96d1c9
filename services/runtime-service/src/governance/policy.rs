//! A policy as the tenant wrote it, checked (SPEC §10): every field, every rule's action type,
//! agent pattern and condition parameters, with the refusal naming the field. Also the glob an
//! `agent_pattern` is and the tenant's default policy.

use platform_sdk::governance_wire::{Condition, PolicyInput, PolicyRule};

use crate::error::RuntimeError;

/// Policy types.
pub const POLICY_TYPES: &[&str] = &["SECURITY", "COMPLIANCE", "OPERATIONAL", "ETHICAL", "LEGAL"];
/// Statuses; only `ACTIVE` applies.
pub const STATUSES: &[&str] = &["DRAFT", "ACTIVE", "DEPRECATED", "ARCHIVED"];
/// Enforcement levels.
pub const LEVELS: &[&str] = &["STRICT", "MODERATE", "ADVISORY"];
/// Action types a rule can name (`*`: all of them).
pub const ACTION_TYPES: &[&str] = &[
    "agent_input",
    "agent_output",
    "multi_agent_message",
    "tool_call",
    "*",
];

/// Whether `id` matches the glob `pattern` (`*` any run of characters, `?` exactly one).
pub fn glob_matches(pattern: &str, id: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), id.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn one_of(field: &'static str, value: &str, allowed: &[&str]) -> Result<(), RuntimeError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(RuntimeError::invalid(
        field,
        format!("must be one of {}", allowed.join(", ")),
    ))
}

fn check_condition(condition: &Condition) -> Result<(), RuntimeError> {
    match condition {
        Condition::BlockedTerms { terms } => {
            if terms.is_empty() || terms.len() > 100 {
                return Err(RuntimeError::invalid(
                    "rules[].condition.terms",
                    "must hold 1..=100 terms",
                ));
            }
            if terms
                .iter()
                .any(|t| t.trim().is_empty() || t.chars().count() > 100)
            {
                return Err(RuntimeError::invalid(
                    "rules[].condition.terms",
                    "each term must be 1..=100 characters, not blank",
                ));
            }
            if !super::redact::Redactor::new(false, terms).compiles() {
                return Err(RuntimeError::invalid(
                    "rules[].condition.terms",
                    "these terms cannot be matched",
                ));
            }
        }
        Condition::MaxChars { n } if !(1..=1_000_000).contains(n) => {
            return Err(RuntimeError::invalid(
                "rules[].condition.n",
                "must be 1..=1000000",
            ));
        }
        Condition::RequireApproval { actions }
            if actions.len() > 50
                || actions.iter().any(|a| {
                    a.is_empty() || a.len() > 100 || a.chars().any(char::is_whitespace)
                }) =>
        {
            return Err(RuntimeError::invalid(
                "rules[].condition.actions",
                "at most 50 action names of 1..=100 characters without spaces",
            ));
        }
        _ => {}
    }
    Ok(())
}

fn check_rule(rule: &PolicyRule) -> Result<(), RuntimeError> {
    one_of("rules[].action_type", &rule.action_type, ACTION_TYPES)?;
    if let Some(pattern) = &rule.agent_pattern {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._-:*?".contains(c);
        if pattern.is_empty() || pattern.len() > 200 || !pattern.chars().all(allowed) {
            return Err(RuntimeError::invalid(
                "rules[].agent_pattern",
                "must be a glob of 1..=200 characters (letters, digits, . _ - : and the wildcards * ?)",
            ));
        }
    }
    check_condition(&rule.condition)
}

/// Checks a policy; answers it with `status` defaulted to `DRAFT` and the texts trimmed.
pub fn check(mut input: PolicyInput) -> Result<PolicyInput, RuntimeError> {
    input.name = input.name.trim().to_owned();
    if input.name.is_empty() || input.name.chars().count() > 100 {
        return Err(RuntimeError::invalid("name", "must be 1..=100 characters"));
    }
    if input
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        return Err(RuntimeError::invalid(
            "description",
            "must be at most 2000 characters",
        ));
    }
    one_of("policy_type", &input.policy_type, POLICY_TYPES)?;
    let status = input.status.get_or_insert_with(|| "DRAFT".into());
    one_of("status", status, STATUSES)?;
    one_of("enforcement_level", &input.enforcement_level, LEVELS)?;
    if input.rules.is_empty() || input.rules.len() > 50 {
        return Err(RuntimeError::invalid("rules", "must hold 1..=50 rules"));
    }
    input.rules.iter().try_for_each(check_rule)?;
    Ok(input)
}

/// The policy every tenant starts with: the consequential actions of `agents.approval_actions`
/// wait for a human (what the fixed approval list did before policies existed). `None` when that
/// setting names no action.
pub fn default_policy(approval_actions: &[String]) -> Option<PolicyInput> {
    (!approval_actions.is_empty()).then(|| PolicyInput {
        name: "Approve consequential actions".into(),
        description: Some(
            "Created with the tenant: agents wait for a human before these actions. \
             Edit or archive it like any other policy."
                .into(),
        ),
        policy_type: "OPERATIONAL".into(),
        status: Some("ACTIVE".into()),
        enforcement_level: "MODERATE".into(),
        rules: vec![PolicyRule {
            action_type: "tool_call".into(),
            agent_pattern: None,
            condition: Condition::RequireApproval {
                actions: approval_actions.to_vec(),
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shell_patterns() {
        assert!(glob_matches("*", "guide"));
        assert!(glob_matches("wrp_*", "wrp_123"));
        assert!(!glob_matches("wrp_*", "guide"));
        assert!(glob_matches("liaison.*", "liaison.content"));
        assert!(glob_matches("g?ide", "guide"));
        assert!(glob_matches("*.con*t", "liaison.content"));
        assert!(!glob_matches("guide", "guides"));
        assert!(glob_matches("a*b*c", "aXXbYYc"));
        assert!(!glob_matches("a*b*c", "aXXbYY"));
    }

    fn input(condition: Condition) -> PolicyInput {
        PolicyInput {
            name: " p ".into(),
            description: None,
            policy_type: "SECURITY".into(),
            status: None,
            enforcement_level: "STRICT".into(),
            rules: vec![PolicyRule {
                action_type: "agent_input".into(),
                agent_pattern: Some("wrp_*".into()),
                condition,
            }],
        }
    }

    #[test]
    fn a_policy_is_checked_field_by_field() {
        let ok = check(input(Condition::DenyAll)).expect("valid");
        assert_eq!(
            (ok.name.as_str(), ok.status.as_deref()),
            ("p", Some("DRAFT"))
        );
        let field = |e: RuntimeError| match e {
            RuntimeError::Validation { field, .. } => field,
            other => panic!("{other:?}"),
        };
        let empty = input(Condition::BlockedTerms { terms: vec![] });
        assert_eq!(field(check(empty).unwrap_err()), "rules[].condition.terms");
        let zero = input(Condition::MaxChars { n: 0 });
        assert_eq!(field(check(zero).unwrap_err()), "rules[].condition.n");
        let mut bad = input(Condition::DenyAll);
        bad.rules[0].action_type = "agent_thought".into();
        assert_eq!(field(check(bad).unwrap_err()), "rules[].action_type");
        let mut bad = input(Condition::DenyAll);
        bad.rules[0].agent_pattern = Some("wrp_[0-9]".into());
        assert_eq!(field(check(bad).unwrap_err()), "rules[].agent_pattern");
        let mut bad = input(Condition::DenyAll);
        bad.enforcement_level = "LENIENT".into();
        assert_eq!(field(check(bad).unwrap_err()), "enforcement_level");
    }
}
