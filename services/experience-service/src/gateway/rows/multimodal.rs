//! Multimodal requests (SPEC §15): create (`multimodal:write`), run and cancel
//! (`multimodal:execute`), read (`multimodal:read`); the tenant's policy is read with
//! `multimodal:read` and replaced by admins only (scope `admin`). The create path takes bodies up
//! to [`BODY_LIMIT_BYTES`] (an artifact of up to 5 MB travels base64 in the body), see
//! [`super::LARGE_BODIES`].

use platform_sdk::multimodal_wire::actions;

use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

const READ: &str = "multimodal:read";
const WRITE: &str = "multimodal:write";
const EXECUTE: &str = "multimodal:execute";
/// Replacing a tenant's policy is an administrator's act.
const ADMIN: &str = "admin";

/// The create (and list) path.
pub const REQUESTS: &str = "/v1/multimodal/requests";
/// The largest create body, bytes (matches the runtime's).
pub const BODY_LIMIT_BYTES: usize = 8 * 1024 * 1024;

const fn row(
    method: Verb,
    path: &'static str,
    scope: &'static str,
    target: Target,
    summary: &'static str,
    status: u16,
    response: &'static str,
    request: Option<&'static str>,
    errors: &'static [u16],
    query: &'static [QueryParam],
) -> Row {
    Row {
        method,
        path,
        scope,
        target,
        doc: Doc {
            summary,
            status,
            response,
            request,
            errors,
            query,
        },
    }
}

/// Multimodal rows.
pub const ROWS: &[Row] = &[
    row(
        Verb::Post,
        REQUESTS,
        WRITE,
        Target::Intent {
            path: "/api/multimodal/requests",
            action: actions::CREATE,
        },
        "Creates a multimodal request (checked against the tenant's policy: the first failing rule answers 400 policy_violation naming it) and runs it unless `execute_now` is false. The artifact is stored once and referenced, never echoed.",
        201,
        "MultimodalRequest",
        Some("MultimodalRequestInput"),
        &[400, 413, 422],
        &[],
    ),
    row(
        Verb::Get,
        REQUESTS,
        READ,
        Target::Read {
            path: "/api/multimodal/requests",
        },
        "The tenant's multimodal requests, newest first (filters `modality`, `state`).",
        200,
        "MultimodalRequestList",
        None,
        &[400],
        &[
            QueryParam {
                name: "modality",
                description: "Only requests of this modality.",
                pattern: Some("^(speech_to_text|text_to_speech|vision_analysis)$"),
            },
            QueryParam {
                name: "state",
                description: "Only requests in this state.",
                pattern: Some("^(pending|processing|completed|failed|cancelled)$"),
            },
        ],
    ),
    row(
        Verb::Get,
        "/v1/multimodal/requests/{id}",
        READ,
        Target::Read {
            path: "/api/multimodal/requests/{id}",
        },
        "One of the tenant's multimodal requests.",
        200,
        "MultimodalRequest",
        None,
        &[],
        &[],
    ),
    row(
        Verb::Post,
        "/v1/multimodal/requests/{id}/execute",
        EXECUTE,
        Target::Intent {
            path: "/api/multimodal/requests/{id}/execute",
            action: actions::EXECUTE,
        },
        "Runs a pending request or retries a failed one (`→ processing`); any other state answers 409 invalid_transition.",
        200,
        "MultimodalRequest",
        None,
        &[],
        &[],
    ),
    row(
        Verb::Post,
        "/v1/multimodal/requests/{id}/cancel",
        EXECUTE,
        Target::Intent {
            path: "/api/multimodal/requests/{id}/cancel",
            action: actions::CANCEL,
        },
        "Cancels a pending or processing request (a running one stops at once); `reason` becomes its error_message.",
        200,
        "MultimodalRequest",
        Some("CancelInput"),
        &[422],
        &[],
    ),
    row(
        Verb::Get,
        "/v1/multimodal/requests/{id}/result",
        READ,
        Target::Read {
            path: "/api/multimodal/requests/{id}/result",
        },
        "The result of the request's latest run (404 before any run).",
        200,
        "MultimodalResult",
        None,
        &[],
        &[],
    ),
    row(
        Verb::Get,
        "/v1/multimodal/results/{id}/download",
        READ,
        Target::Read {
            path: "/api/multimodal/results/{id}/download",
        },
        "The bytes of a result's output artifact, with its media type (e.g. audio/wav).",
        200,
        "",
        None,
        &[],
        &[],
    ),
    row(
        Verb::Get,
        "/v1/multimodal/policy",
        READ,
        Target::Read {
            path: "/api/multimodal/policy",
        },
        "The tenant's multimodal policy (the defaults until an admin sets one).",
        200,
        "MultimodalPolicy",
        None,
        &[],
        &[],
    ),
    row(
        Verb::Put,
        "/v1/multimodal/policy",
        ADMIN,
        Target::Intent {
            path: "/api/multimodal/policy",
            action: actions::UPDATE_POLICY,
        },
        "Replaces the tenant's multimodal policy (admins only); no other tenant is affected.",
        200,
        "MultimodalPolicy",
        Some("MultimodalPolicy"),
        &[422],
        &[],
    ),
];
