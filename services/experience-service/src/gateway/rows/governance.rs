//! Governance (SPEC §10): the tenant's policies, decisions on request, violations and the audit
//! chain. Reading and deciding need `governance:read`; changing policies `governance:write`.

use platform_sdk::governance_wire::{
    CREATE_POLICY_ACTION, DELETE_POLICY_ACTION, EVALUATE_ACTION, UPDATE_POLICY_ACTION,
};

use super::{GOVERNANCE_READ, GOVERNANCE_WRITE};
use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

const POLICIES: &str = "/api/governance/policies";
const POLICY: &str = "/api/governance/policies/{id}";

/// Policies, decisions, violations, audit.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Post,
        path: POLICIES,
        scope: GOVERNANCE_WRITE,
        target: Target::Intent {
            path: POLICIES,
            action: CREATE_POLICY_ACTION,
        },
        doc: Doc {
            summary: "Creates a policy (version 1); only ACTIVE policies decide.",
            status: 201,
            response: "Policy",
            request: Some("PolicyInput"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: POLICIES,
        scope: GOVERNANCE_READ,
        target: Target::Read { path: POLICIES },
        doc: Doc {
            summary: "The tenant's policies, newest first (the default policy included).",
            status: 200,
            response: "PolicyList",
            request: None,
            errors: &[422],
            query: &[QueryParam {
                name: "status",
                description: "Only policies in this status.",
                pattern: Some("^(DRAFT|ACTIVE|DEPRECATED|ARCHIVED)$"),
            }],
        },
    },
    Row {
        method: Verb::Get,
        path: POLICY,
        scope: GOVERNANCE_READ,
        target: Target::Read { path: POLICY },
        doc: Doc {
            summary: "One policy.",
            status: 200,
            response: "Policy",
            request: None,
            errors: &[404],
            query: &[],
        },
    },
    Row {
        method: Verb::Put,
        path: POLICY,
        scope: GOVERNANCE_WRITE,
        target: Target::Intent {
            path: POLICY,
            action: UPDATE_POLICY_ACTION,
        },
        doc: Doc {
            summary: "Replaces a policy; its version goes up by one.",
            status: 200,
            response: "Policy",
            request: Some("PolicyInput"),
            errors: &[404, 422],
            query: &[],
        },
    },
    Row {
        method: Verb::Delete,
        path: POLICY,
        scope: GOVERNANCE_WRITE,
        target: Target::Intent {
            path: POLICY,
            action: DELETE_POLICY_ACTION,
        },
        doc: Doc {
            summary: "Removes a policy.",
            status: 204,
            response: "",
            request: None,
            errors: &[404],
            query: &[],
        },
    },
    Row {
        method: Verb::Post,
        path: "/api/governance/evaluate",
        scope: GOVERNANCE_READ,
        target: Target::Intent {
            path: "/api/governance/evaluate",
            action: EVALUATE_ACTION,
        },
        doc: Doc {
            summary: "Decides an action against the tenant's ACTIVE policies (deny, \
                      require_approval, modify with redactions, log or allow) and appends the \
                      decision to the audit chain.",
            status: 200,
            response: "DecisionOut",
            request: Some("EvaluateRequest"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/governance/violations",
        scope: GOVERNANCE_READ,
        target: Target::Read {
            path: "/api/governance/violations",
        },
        doc: Doc {
            summary: "Violations (every failing policy of every decision), newest first.",
            status: 200,
            response: "ViolationList",
            request: None,
            errors: &[422],
            query: &[
                QueryParam {
                    name: "agent_id",
                    description: "Only this agent's.",
                    pattern: Some(r"^[\s\S]{0,200}$"),
                },
                QueryParam {
                    name: "severity",
                    description: "`high`, `medium` or `low`.",
                    pattern: Some("^(high|medium|low)$"),
                },
                QueryParam {
                    name: "policy_id",
                    description: "Only this policy's.",
                    pattern: Some(r"^[\s\S]{0,200}$"),
                },
                QueryParam {
                    name: "since",
                    description: "At or after this instant (RFC 3339).",
                    pattern: Some(
                        r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$",
                    ),
                },
            ],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/governance/audit",
        scope: GOVERNANCE_READ,
        target: Target::Read {
            path: "/api/governance/audit",
        },
        doc: Doc {
            summary: "The tenant's hash-chained audit log, newest first; `verify=true` walks the \
                      whole chain and reports the first broken link.",
            status: 200,
            response: "AuditPage",
            request: None,
            errors: &[422],
            query: &[QueryParam {
                name: "verify",
                description: "`true` to check the whole chain.",
                pattern: Some("^(true|false)$"),
            }],
        },
    },
];
