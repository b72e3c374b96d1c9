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

const fn doc(
    summary: &'static str,
    status: u16,
    response: &'static str,
    request: Option<&'static str>,
    errors: &'static [u16],
    query: &'static [QueryParam],
) -> Doc {
    Doc {
        summary,
        status,
        response,
        request,
        errors,
        query,
    }
}

/// Multimodal rows.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Post,
        path: REQUESTS,
        scope: WRITE,
        target: Target::Intent {
                path: "/api/multimodal/requests",
                action: actions::CREATE,
            },
        doc: doc(
    "Creates a multimodal request (checked against the tenant's policy: the first failing rule answers 400 policy_violation naming it) and runs it unless `execute_now` is false. The artifact is stored once and referenced, never echoed.",
            201,
            "MultimodalRequest",
            Some("MultimodalRequestInput"),
            &[400, 413, 422],
            &[],
        ),
    },
    Row {
        method: Verb::Get,
        path: REQUESTS,
        scope: READ,
        target: Target::Read {
                path: "/api/multimodal/requests",
            },
        doc: doc(
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
    },
    Row {
        method: Verb::Get,
        path: "/v1/multimodal/requests/{id}",
        scope: READ,
        target: Target::Read {
                path: "/api/multimodal/requests/{id}",
            },
        doc: doc(
    "One of the tenant's multimodal requests.",
            200,
            "MultimodalRequest",
            None,
            &[],
            &[],
        ),
    },
    Row {
        method: Verb::Post,
        path: "/v1/multimodal/requests/{id}/execute",
        scope: EXECUTE,
        target: Target::Intent {
                path: "/api/multimodal/requests/{id}/execute",
                action: actions::EXECUTE,
            },
        doc: doc(
    "Runs a pending request or retries a failed one (`→ processing`); any other state answers 409 invalid_transition.",
            200,
            "MultimodalRequest",
            None,
            &[],
            &[],
        ),
    },
    Row {
        method: Verb::Post,
        path: "/v1/multimodal/requests/{id}/cancel",
        scope: EXECUTE,
        target: Target::Intent {
                path: "/api/multimodal/requests/{id}/cancel",
                action: actions::CANCEL,
            },
        doc: doc(
    "Cancels a pending or processing request (a running one stops at once); `reason` becomes its error_message.",
            200,
            "MultimodalRequest",
            Some("CancelInput"),
            &[422],
            &[],
        ),
    },
    Row {
        method: Verb::Get,
        path: "/v1/multimodal/requests/{id}/result",
        scope: READ,
        target: Target::Read {
                path: "/api/multimodal/requests/{id}/result",
            },
        doc: doc(
    "The result of the request's latest run (404 before any run).",
            200,
            "MultimodalResult",
            None,
            &[],
            &[],
        ),
    },
    Row {
        method: Verb::Get,
        path: "/v1/multimodal/results/{id}/download",
        scope: READ,
        target: Target::Read {
                path: "/api/multimodal/results/{id}/download",
            },
        doc: doc(
    "The bytes of a result's output artifact, with its media type (e.g. audio/wav).",
            200,
            "",
            None,
            &[],
            &[],
        ),
    },
    Row {
        method: Verb::Get,
        path: "/v1/multimodal/policy",
        scope: READ,
        target: Target::Read {
                path: "/api/multimodal/policy",
            },
        doc: doc(
    "The tenant's multimodal policy (the defaults until an admin sets one).",
            200,
            "MultimodalPolicy",
            None,
            &[],
            &[],
        ),
    },
    Row {
        method: Verb::Put,
        path: "/v1/multimodal/policy",
        scope: ADMIN,
        target: Target::Intent {
                path: "/api/multimodal/policy",
                action: actions::UPDATE_POLICY,
            },
        doc: doc(
    "Replaces the tenant's multimodal policy (admins only); no other tenant is affected.",
            200,
            "MultimodalPolicy",
            Some("MultimodalPolicy"),
            &[422],
            &[],
        ),
    },
];
