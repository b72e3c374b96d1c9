//! Wire types of governance (SPEC §10): policies, decisions, the audit chain and violations.
//! Shared by the runtime that decides, the experience gateway that documents the endpoints, and
//! the tests. Trust, compliance and the governance loop are in [`crate::trust_wire`].

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// Intent action of `POST /api/governance/policies`.
pub const CREATE_POLICY_ACTION: &str = "create_policy";
/// Intent action of `PUT /api/governance/policies/{id}`.
pub const UPDATE_POLICY_ACTION: &str = "update_policy";
/// Intent action of `DELETE /api/governance/policies/{id}`.
pub const DELETE_POLICY_ACTION: &str = "delete_policy";
/// Intent action of `POST /api/governance/evaluate`.
pub const EVALUATE_ACTION: &str = "evaluate_governance";

/// What a rule checks. Written `{"type": "blocked_terms", "terms": […]}`; the conditions without
/// parameters may also be written as a plain string (`"deny_all"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// Always fails.
    DenyAll,
    /// Fails when the action is one of `actions` (a `tool_call`'s `action_details.action`); with
    /// no `actions`, always. A failing one asks a human (unless its policy is STRICT: deny).
    RequireApproval {
        /// The consequential actions that wait for a human (`execute_workflow`); empty: all.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[schema(max_items = 50)]
        actions: Vec<String>,
    },
    /// Fails when the content carries an e-mail address, a payment card number or a US SSN.
    SensitiveData,
    /// Fails when the content carries one of `terms` (case-insensitive).
    BlockedTerms {
        /// 1..=100 terms of 1..=100 characters.
        #[schema(min_items = 1, max_items = 100)]
        terms: Vec<String>,
    },
    /// Fails when the content is longer than `n` characters.
    MaxChars {
        /// 1..=1 000 000.
        #[schema(minimum = 1, maximum = 1_000_000)]
        n: i64,
    },
}

impl Condition {
    /// The condition's name (`blocked_terms`), which is also a violation's `violation_type`.
    pub fn name(&self) -> &'static str {
        match self {
            Condition::DenyAll => "deny_all",
            Condition::RequireApproval { .. } => "require_approval",
            Condition::SensitiveData => "sensitive_data",
            Condition::BlockedTerms { .. } => "blocked_terms",
            Condition::MaxChars { .. } => "max_chars",
        }
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Tagged {
            DenyAll,
            RequireApproval {
                #[serde(default)]
                actions: Vec<String>,
            },
            SensitiveData,
            BlockedTerms {
                terms: Vec<String>,
            },
            MaxChars {
                n: i64,
            },
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Name(String),
            Tagged(Tagged),
        }
        use serde::de::Error as _;
        match Either::deserialize(d).map_err(|_| {
            D::Error::custom(
                "condition must be deny_all, require_approval, sensitive_data, \
                 {type: blocked_terms, terms[]} or {type: max_chars, n}",
            )
        })? {
            Either::Name(name) => match name.as_str() {
                "deny_all" => Ok(Condition::DenyAll),
                "require_approval" => Ok(Condition::RequireApproval {
                    actions: Vec::new(),
                }),
                "sensitive_data" => Ok(Condition::SensitiveData),
                other => Err(D::Error::custom(format!(
                    "unknown condition `{other}` (blocked_terms and max_chars take parameters)"
                ))),
            },
            Either::Tagged(t) => Ok(match t {
                Tagged::DenyAll => Condition::DenyAll,
                Tagged::RequireApproval { actions } => Condition::RequireApproval { actions },
                Tagged::SensitiveData => Condition::SensitiveData,
                Tagged::BlockedTerms { terms } => Condition::BlockedTerms { terms },
                Tagged::MaxChars { n } => Condition::MaxChars { n },
            }),
        }
    }
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    /// `agent_input`, `agent_output`, `multi_agent_message`, `tool_call` or `*`.
    #[schema(pattern = r"^(agent_input|agent_output|multi_agent_message|tool_call|\*)$")]
    pub action_type: String,
    /// Glob on the agent id (`*` any run of characters, `?` one); absent: every agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[A-Za-z0-9._:*?\-]{1,200}$"
    )]
    pub agent_pattern: Option<String>,
    /// What the rule checks.
    pub condition: Condition,
}

/// Body of `POST /api/governance/policies` and `PUT …/{id}` (the whole policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At most 2 000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// `SECURITY`, `COMPLIANCE`, `OPERATIONAL`, `ETHICAL` or `LEGAL`.
    #[schema(pattern = "^(SECURITY|COMPLIANCE|OPERATIONAL|ETHICAL|LEGAL)$")]
    pub policy_type: String,
    /// `DRAFT` (default), `ACTIVE`, `DEPRECATED` or `ARCHIVED`; only ACTIVE policies apply.
    #[serde(default)]
    #[schema(pattern = "^(DRAFT|ACTIVE|DEPRECATED|ARCHIVED)$")]
    pub status: Option<String>,
    /// `STRICT`, `MODERATE` or `ADVISORY`.
    #[schema(pattern = "^(STRICT|MODERATE|ADVISORY)$")]
    pub enforcement_level: String,
    /// 1..=50 rules.
    #[schema(min_items = 1, max_items = 50)]
    pub rules: Vec<PolicyRule>,
}

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    /// `pol_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// `SECURITY`, `COMPLIANCE`, `OPERATIONAL`, `ETHICAL` or `LEGAL`.
    pub policy_type: String,
    /// `DRAFT`, `ACTIVE`, `DEPRECATED` or `ARCHIVED`.
    pub status: String,
    /// `STRICT`, `MODERATE` or `ADVISORY`.
    pub enforcement_level: String,
    /// Rules.
    pub rules: Vec<PolicyRule>,
    /// 1 when created, +1 on every update.
    pub version: i64,
    /// Who created it (a user id; `system` for the tenant's default policy).
    pub created_by: String,
    /// Created, RFC 3339.
    pub created_at: String,
    /// Last changed, RFC 3339.
    pub updated_at: String,
}

/// A page of policies, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyList {
    /// Policies.
    pub items: Vec<Policy>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Body of `POST /api/governance/evaluate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// The agent acting (any id; policies match it by glob).
    #[schema(min_length = 1, max_length = 200)]
    pub agent_id: String,
    /// `agent_input`, `agent_output`, `multi_agent_message` or `tool_call`.
    #[schema(pattern = "^(agent_input|agent_output|multi_agent_message|tool_call)$")]
    pub action_type: String,
    /// The text decided on, at most 12 000 characters (a turn's input is at most 8 000).
    #[serde(default)]
    #[schema(max_length = 12000)]
    pub content: Option<String>,
    /// For a `tool_call`: `{"action": "execute_workflow", …}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub action_details: Option<serde_json::Value>,
    /// Free-form, recorded in the audit entry (at most 16 KiB serialized).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Option<serde_json::Value>,
}

/// One policy's verdict in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyEvaluation {
    /// The policy (`system` for an agent's own approval actions).
    pub policy_id: String,
    /// False when one of its rules failed.
    pub passed: bool,
    /// The failing rule's condition, else the first applicable rule's.
    pub condition: String,
}

/// Where a decision sits in the tenant's audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditLink {
    /// `sha256:…` over the canonical entry and the previous hash.
    pub entry_hash: String,
    /// The previous entry's hash (`sha256:000…` for the first).
    pub previous_entry_hash: String,
}

/// Answer of `POST /api/governance/evaluate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecisionOut {
    /// `dec_…`.
    pub decision_id: String,
    /// `allow`, `deny`, `modify`, `log` or `require_approval`.
    pub decision: String,
    /// Why, one line per failing policy (empty when everything passed).
    pub reasons: Vec<String>,
    /// Every ACTIVE policy with a rule for this action and agent.
    pub policies_evaluated: Vec<PolicyEvaluation>,
    /// The redacted content, on `modify`.
    pub modified_content: Option<String>,
    /// The audit entry.
    pub audit: AuditLink,
}

/// One entry of the audit chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the tenant's chain, from 1.
    pub seq: i64,
    /// `dec_…` or `jst_…`.
    pub entry_id: String,
    /// `decision` or `justification`.
    pub kind: String,
    /// The entry as hashed.
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
    /// Hash of the previous entry.
    pub previous_entry_hash: String,
    /// This entry's hash.
    pub entry_hash: String,
    /// Appended, RFC 3339.
    pub created_at: String,
}

/// The first link of the chain that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BrokenLink {
    /// Position.
    pub seq: i64,
    /// The entry there (`null` when it is missing).
    pub entry_id: Option<String>,
    /// `modified`, `missing` or `relinked`.
    pub problem: String,
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainCheck {
    /// True when every link holds.
    pub valid: bool,
    /// Entries walked.
    pub entries_checked: i64,
    /// The first broken link, if any.
    pub first_broken: Option<BrokenLink>,
}

/// `GET /api/governance/audit`: a page of the chain, newest first, and with `verify=true` the
/// check of the whole chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Entries.
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// Present with `verify=true`.
    pub verification: Option<ChainCheck>,
}

/// A failing policy in a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Violation {
    /// `vio_…`.
    pub id: String,
    /// The agent.
    pub agent_id: String,
    /// The failing policy.
    pub policy_id: String,
    /// The failing condition.
    pub violation_type: String,
    /// `high` (STRICT), `medium` (MODERATE) or `low` (ADVISORY).
    pub severity: String,
    /// The decision.
    pub decision_id: String,
    /// The execution the decision was made in, if any.
    pub execution_id: Option<String>,
    /// `{action_type, reason, policy_name}`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// RFC 3339.
    pub occurred_at: String,
}

/// A page of violations, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ViolationList {
    /// Violations.
    pub items: Vec<Violation>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}
