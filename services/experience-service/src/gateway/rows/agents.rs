//! Agent wrappers and their deployments (SPEC §8).

use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};
use platform_sdk::wrapper_wire::actions;

const READ: &str = "agents:read";
const WRITE: &str = "agents:write";

const fn read(
    path: &'static str,
    summary: &'static str,
    response: &'static str,
    query: &'static [QueryParam],
) -> Row {
    Row {
        method: Verb::Get,
        path,
        scope: READ,
        target: Target::Read { path },
        doc: Doc {
            summary,
            status: 200,
            response,
            request: None,
            errors: &[],
            query,
        },
    }
}

const fn write(
    method: Verb,
    path: &'static str,
    action: &'static str,
    summary: &'static str,
    status: u16,
    response: &'static str,
    request: Option<&'static str>,
) -> Row {
    Row {
        method,
        path,
        scope: WRITE,
        target: Target::Intent { path, action },
        doc: Doc {
            summary,
            status,
            response,
            request,
            errors: &[409, 422],
            query: &[],
        },
    }
}

/// Wrapper rows.
pub const ROWS: &[Row] = &[
    read(
        "/api/agents/wrappers",
        "The tenant's agent wrappers, newest first (filters `deployment_status`, `q` on the name).",
        "WrapperList",
        &[
            QueryParam {
                name: "deployment_status",
                description: "Only wrappers in this state.",
                pattern: Some("^(draft|deploying|active|failed|paused|retired)$"),
            },
            QueryParam {
                name: "q",
                description: "Only wrappers whose name contains this (case-insensitive).",
                pattern: None,
            },
        ],
    ),
    write(
        Verb::Post,
        "/api/agents/wrappers",
        actions::CREATE,
        "Defines an agent wrapper (status `draft`).",
        201,
        "WrapperRecord",
        Some("WrapperInput"),
    ),
    read(
        "/api/agents/wrappers/{id}",
        "One of the tenant's wrappers.",
        "WrapperRecord",
        &[],
    ),
    write(
        Verb::Put,
        "/api/agents/wrappers/{id}",
        actions::UPDATE,
        "Replaces a wrapper's definition (version bumped); a deployed one serves its deployed version until the next deploy.",
        200,
        "WrapperRecord",
        Some("WrapperInput"),
    ),
    write(
        Verb::Delete,
        "/api/agents/wrappers/{id}",
        actions::DELETE,
        "Retires the wrapper if deployed, then removes it.",
        204,
        "",
        None,
    ),
    write(
        Verb::Post,
        "/api/agents/wrappers/{id}/deploy",
        actions::DEPLOY,
        "Starts a deployment: `deploying` now, then `active` (registered in the catalog) or `failed` with `last_error`.",
        202,
        "DeploymentAccepted",
        None,
    ),
    read(
        "/api/agents/wrappers/{id}/status",
        "Deployment state, served version, last health check and invocations.",
        "WrapperStatus",
        &[],
    ),
    write(
        Verb::Post,
        "/api/agents/wrappers/{id}/pause",
        actions::PAUSE,
        "Stops an active wrapper serving turns (`active → paused`).",
        200,
        "WrapperRecord",
        None,
    ),
    write(
        Verb::Post,
        "/api/agents/wrappers/{id}/resume",
        actions::RESUME,
        "Serves a paused wrapper again (`paused → active`).",
        200,
        "WrapperRecord",
        None,
    ),
    write(
        Verb::Post,
        "/api/agents/wrappers/{id}/retire",
        actions::RETIRE,
        "Withdraws a wrapper from the catalog (`active | paused → retired`).",
        200,
        "WrapperRecord",
        None,
    ),
];
