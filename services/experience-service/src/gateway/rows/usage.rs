//! Usage analytics (SPEC §11): tracking events of an agent, and its metrics, performance and
//! activity, for any agent id the caller's tenant can name.

use platform_sdk::usage_wire::TRACK_ACTION;

use crate::extractors::scopes::AgentsRead;
use crate::extractors::ScopeName;
use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

/// Usage analytics (SPEC §11).
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Post,
        path: "/api/agents/{id}/track",
        scope: "agents:write",
        target: Target::Intent {
            path: "/api/agents/{id}/track",
            action: TRACK_ACTION,
        },
        doc: Doc {
            summary: "Tracks a usage event of an agent (invocation, feedback, error or custom); \
                      the same Idempotency-Key answers the same event_id.",
            status: 202,
            response: "TrackAccepted",
            request: Some("TrackRequest"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/agents/{id}/metrics",
        scope: AgentsRead::SCOPE,
        target: Target::Read {
            path: "/api/agents/{id}/metrics",
        },
        doc: Doc {
            summary: "An agent's invocations, outcomes, latency percentiles, users and feedback \
                      in the tenant over `window` (1h, 24h (default), 7d, 30d).",
            status: 200,
            response: "AgentMetrics",
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
        method: Verb::Get,
        path: "/api/agents/{id}/performance",
        scope: AgentsRead::SCOPE,
        target: Target::Read {
            path: "/api/agents/{id}/performance",
        },
        doc: Doc {
            summary: "An agent's invocations, success rate, latency and errors per `bucket` \
                      (hour (default) or day) over `window`.",
            status: 200,
            response: "AgentPerformance",
            request: None,
            errors: &[],
            query: &[
                QueryParam {
                    name: "window",
                    description: "`1h`, `24h` (default), `7d` or `30d`.",
                    pattern: Some("^(1h|24h|7d|30d)$"),
                },
                QueryParam {
                    name: "bucket",
                    description: "`hour` (default) or `day`.",
                    pattern: Some("^(hour|day)$"),
                },
            ],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/agents/{id}/activity",
        scope: AgentsRead::SCOPE,
        target: Target::Read {
            path: "/api/agents/{id}/activity",
        },
        doc: Doc {
            summary: "An agent's activity in the tenant (executions, tracked events, deployment \
                      changes), newest first.",
            status: 200,
            response: "ActivityList",
            request: None,
            errors: &[],
            query: &[],
        },
    },
];
