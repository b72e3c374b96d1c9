//! Trust, compliance and the governance loop (SPEC §10): reads of an agent's trust and
//! compliance (`governance:read`), and the governance core's plan decision (`governance:write`).

use platform_sdk::trust_wire::LOOP_ACTION;

use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

/// `governance:read`.
const GOVERNANCE_READ: &str = "governance:read";
/// `governance:write`.
const GOVERNANCE_WRITE: &str = "governance:write";

/// Trust, compliance, the governance loop.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Get,
        path: "/api/governance/trust/{agent_id}",
        scope: GOVERNANCE_READ,
        target: Target::Read {
            path: "/api/governance/trust/{agent_id}",
        },
        doc: Doc {
            summary: "An agent's trust in the tenant, computed from evidence: competence, \
                      reliability, honesty and transparency (EWMA, α = 0.2, from 0.5), their mean, \
                      confidence min(1, n/20) and the last 50 points of history.",
            status: 200,
            response: "AgentTrust",
            request: None,
            errors: &[],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/governance/compliance/{agent_id}",
        scope: GOVERNANCE_READ,
        target: Target::Read {
            path: "/api/governance/compliance/{agent_id}",
        },
        doc: Doc {
            summary: "The policy decisions about an agent by outcome and its violations by \
                      severity over `window`; compliance_rate = allow / evaluated (null when \
                      nothing was evaluated).",
            status: 200,
            response: "AgentCompliance",
            request: None,
            errors: &[],
            query: &[QueryParam {
                name: "window",
                description: "`1h`, `24h` (default), `7d` or `30d`.",
                pattern: Some("^(1h|24h|7d|30d)$"),
            }],
        },
    },
    Row {
        method: Verb::Post,
        path: "/loop/execute",
        scope: GOVERNANCE_WRITE,
        target: Target::Intent {
            path: "/loop/execute",
            action: LOOP_ACTION,
        },
        doc: Doc {
            summary: "The governance core: judges a plan on trust (the agent's aggregate, else \
                      0.75, plus trust_factor) and an operator's override, and appends the \
                      justification to the tenant's audit chain.",
            status: 200,
            response: "LoopResponse",
            request: Some("LoopRequest"),
            errors: &[400],
            query: &[],
        },
    },
];
