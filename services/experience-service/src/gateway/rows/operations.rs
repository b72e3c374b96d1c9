//! The operations hub (SPEC §14): every long-running process of the tenant, one process's
//! detail, and an operator's pause / resume / cancel (a signed intent).

use platform_sdk::operations_wire::CONTROL_ACTION;

use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

const READ: &str = "workflows:read";
const EXECUTE: &str = "workflows:execute";

/// Operations hub rows.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Get,
        path: "/v1/operations/hub",
        scope: READ,
        target: Target::Read {
            path: "/api/operations/hub",
        },
        doc: Doc {
            summary: "The tenant's long-running processes (executions, multimodal requests, \
                      deployments, multi-agent contexts), newest first, with how many are live.",
            status: 200,
            response: "Hub",
            request: None,
            errors: &[400],
            query: &[
                QueryParam {
                    name: "include",
                    description: "Comma-separated kinds: executions, multimodal, deployments, \
                                  contexts (absent: all; empty: none; an unknown one: 400).",
                    pattern: Some(
                        "^((executions|multimodal|deployments|contexts)(,(executions|multimodal|deployments|contexts))*)?$",
                    ),
                },
                QueryParam {
                    name: "since",
                    description: "Processes started at or after this instant (RFC 3339; \
                                  default now − 24 h).",
                    pattern: Some(
                        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
                    ),
                },
                QueryParam {
                    name: "status",
                    description: "Comma-separated states (absent: the live states of each kind).",
                    pattern: Some("^[a-z_]*(,[a-z_]+)*$"),
                },
                QueryParam {
                    name: "limit",
                    description: "How many processes at most, clamped to 1..100 (default 50).",
                    pattern: Some("^[+-]?[0-9]{1,18}$"),
                },
            ],
        },
    },
    Row {
        method: Verb::Get,
        path: "/v1/operations/processes/{id}",
        scope: READ,
        target: Target::Read {
            path: "/api/operations/processes/{id}",
        },
        doc: Doc {
            summary: "One process with its detail (an execution's steps and last events, a \
                      deployment's health) and the controls run on it.",
            status: 200,
            response: "ProcessDetail",
            request: None,
            errors: &[],
            query: &[],
        },
    },
    Row {
        method: Verb::Post,
        path: "/v1/operations/processes/{id}/control",
        scope: EXECUTE,
        target: Target::Intent {
            path: "/api/operations/processes/{id}/control",
            action: CONTROL_ACTION,
        },
        doc: Doc {
            summary: "Pauses, resumes or cancels a process; answers its detail after the move. \
                      A move its state machine forbids is 409 invalid_transition.",
            status: 200,
            response: "ProcessDetail",
            request: Some("ControlRequest"),
            errors: &[409, 422],
            query: &[],
        },
    },
];
