//! Outcomes (SPEC §16): posting outcome events (`outcomes:write`), and reading them, a metric's
//! trend and the dashboard (`outcomes:read`).

use platform_sdk::outcome_wire::RECORD_OUTCOME_ACTION;

use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

/// `outcomes:read`.
const OUTCOMES_READ: &str = "outcomes:read";
/// `outcomes:write`.
const OUTCOMES_WRITE: &str = "outcomes:write";

const EVENTS: &str = "/v1/outcomes/events";
const TREND: &str = "/v1/outcomes/trends/{metric_type}";
const DASHBOARD: &str = "/v1/outcomes/dashboard";

const DOMAIN: QueryParam = QueryParam {
    name: "domain",
    description: "Only this domain (1 to 200 characters); `agent:<agent_id>` holds the outcomes \
                  of that agent's executions.",
    pattern: Some("^.{1,200}$"),
};

const WINDOW: QueryParam = QueryParam {
    name: "window",
    description: "How many of the latest values a trend reads: 2 to 1000 (default 20).",
    pattern: Some("^([2-9]|[1-9][0-9]|[1-9][0-9][0-9]|1000)$"),
};

/// Events, trends, dashboard.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Post,
        path: EVENTS,
        scope: OUTCOMES_WRITE,
        target: Target::Intent {
            path: EVENTS,
            action: RECORD_OUTCOME_ACTION,
        },
        doc: Doc {
            summary: "Records an outcome event (domain, event_type, metric_type, a finite value, \
                      occurred_at default now); the same Idempotency-Key answers the same event.",
            status: 201,
            response: "OutcomeEvent",
            request: Some("OutcomeInput"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: EVENTS,
        scope: OUTCOMES_READ,
        target: Target::Read { path: EVENTS },
        doc: Doc {
            summary: "The tenant's outcome events, newest occurred_at first.",
            status: 200,
            response: "OutcomeList",
            request: None,
            errors: &[],
            query: &[
                DOMAIN,
                QueryParam {
                    name: "event_type",
                    description: "Only this event type (1 to 200 characters).",
                    pattern: Some("^.{1,200}$"),
                },
                QueryParam {
                    name: "metric_type",
                    description: "Only this metric.",
                    pattern: Some("^(success_rate|quality_score|latency_ms|cost_usd)$"),
                },
            ],
        },
    },
    Row {
        method: Verb::Get,
        path: TREND,
        scope: OUTCOMES_READ,
        target: Target::Read { path: TREND },
        doc: Doc {
            summary: "A metric's latest `window` values (oldest → newest) and its direction: the \
                      newer half's mean against the older half's (improving / declining beyond \
                      5 %, lower is better for latency_ms and cost_usd). An unknown metric_type \
                      is a 404.",
            status: 200,
            response: "Trend",
            request: None,
            errors: &[],
            query: &[DOMAIN, WINDOW],
        },
    },
    Row {
        method: Verb::Get,
        path: DASHBOARD,
        scope: OUTCOMES_READ,
        target: Target::Read { path: DASHBOARD },
        doc: Doc {
            summary: "Every metric's trend (success_rate, quality_score, latency_ms, cost_usd), \
                      the latest events and the totals, of one domain or all.",
            status: 200,
            response: "OutcomeDashboard",
            request: None,
            errors: &[],
            query: &[
                DOMAIN,
                WINDOW,
                QueryParam {
                    name: "recent_limit",
                    description: "How many recent events: 0 to 100 (default 10).",
                    pattern: Some("^([0-9]|[1-9][0-9]|100)$"),
                },
            ],
        },
    },
];
