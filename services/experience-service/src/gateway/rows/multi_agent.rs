//! Multi-agent contexts (SPEC §12): changing a context or talking in it invokes agents
//! (`agents:invoke`); reading contexts, their history, figures and state is `agents:read`. Every
//! path is also served under the existing UI's doubled prefix `/api/multi_agent/multi_agent/…`
//! (`table::ALIASES`).

use std::time::Duration;

use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};
use platform_sdk::multi_agent_wire::actions;

/// `agents:read`.
const AGENTS_READ: &str = "agents:read";
/// `agents:invoke`.
const AGENTS_INVOKE: &str = "agents:invoke";

/// How long the gateway waits for a message whose recipients answer: a little longer than the
/// runtime's budget for the whole exchange (`multi_agent::respond::EXCHANGE_BUDGET`, 120 s).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(130);

const fn read(path: &'static str, summary: &'static str, response: &'static str) -> Row {
    Row {
        method: Verb::Get,
        path,
        scope: AGENTS_READ,
        target: Target::Read { path },
        doc: Doc {
            summary,
            status: 200,
            response,
            request: None,
            errors: &[],
            query: &[],
        },
    }
}

/// Contexts, messages, history, figures, state.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Post,
        path: "/api/multi_agent/context",
        scope: AGENTS_INVOKE,
        target: Target::Intent {
            path: "/api/multi_agent/context",
            action: actions::CREATE_CONTEXT,
        },
        doc: Doc {
            summary: "Creates a multi-agent context of catalog agents (builtin or the tenant's active wrappers).",
            status: 201,
            response: "ContextRecord",
            request: Some("CreateContext"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/multi_agent/contexts",
        scope: AGENTS_READ,
        target: Target::Read {
            path: "/api/multi_agent/contexts",
        },
        doc: Doc {
            summary: "The tenant's multi-agent contexts, newest first (filter `status`).",
            status: 200,
            response: "ContextList",
            request: None,
            errors: &[],
            query: &[QueryParam {
                name: "status",
                description: "Only contexts in this state.",
                pattern: Some("^(active|paused|terminated)$"),
            }],
        },
    },
    read(
        "/api/multi_agent/context/{id}",
        "One of the tenant's multi-agent contexts.",
        "ContextRecord",
    ),
    Row {
        method: Verb::Put,
        path: "/api/multi_agent/context/{id}",
        scope: AGENTS_INVOKE,
        target: Target::Intent {
            path: "/api/multi_agent/context/{id}",
            action: actions::UPDATE_CONTEXT,
        },
        doc: Doc {
            summary: "Changes a context's name, policies, metadata or status (active / paused).",
            status: 200,
            response: "ContextRecord",
            request: Some("UpdateContext"),
            errors: &[409, 422],
            query: &[],
        },
    },
    Row {
        method: Verb::Delete,
        path: "/api/multi_agent/context/{id}",
        scope: AGENTS_INVOKE,
        target: Target::Intent {
            path: "/api/multi_agent/context/{id}",
            action: actions::TERMINATE_CONTEXT,
        },
        doc: Doc {
            summary: "Terminates a context (terminal: later messages and changes answer 409).",
            status: 204,
            response: "",
            request: None,
            errors: &[409],
            query: &[],
        },
    },
    Row {
        method: Verb::Post,
        path: "/api/multi_agent/message",
        scope: AGENTS_INVOKE,
        target: Target::Intent {
            path: "/api/multi_agent/message",
            action: actions::SEND_MESSAGE,
        },
        doc: Doc {
            summary: "Sends a governed message (201 even when blocked); with require_response, \
                      answers once every recipient has run and answered.",
            status: 201,
            response: "MessageSent",
            request: Some("SendMessage"),
            errors: &[409, 422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/multi_agent/context/{id}/history",
        scope: AGENTS_READ,
        target: Target::Read {
            path: "/api/multi_agent/context/{id}/history",
        },
        doc: Doc {
            summary: "A context's messages, oldest first (the newest `limit` matching the filters).",
            status: 200,
            response: "ContextHistory",
            request: None,
            errors: &[],
            query: &[
                QueryParam {
                    name: "from_agent_id",
                    description: "Only messages from this agent.",
                    pattern: None,
                },
                QueryParam {
                    name: "message_type",
                    description: "Only messages of this type.",
                    pattern: None,
                },
                QueryParam {
                    name: "since",
                    description: "Only messages at or after this time (RFC 3339).",
                    pattern: Some(
                        r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$",
                    ),
                },
                QueryParam {
                    name: "limit",
                    description: "At most this many messages, 1..=200 (default 50).",
                    pattern: Some("^([1-9]|[1-9][0-9]|1[0-9][0-9]|200)$"),
                },
            ],
        },
    },
    read(
        "/api/multi_agent/context/{id}/metrics",
        "A context's figures, from its stored messages.",
        "ContextMetrics",
    ),
    read(
        "/api/multi_agent/context/{id}/agents",
        "A context's agents with their figures and trust.",
        "ContextAgents",
    ),
    Row {
        method: Verb::Post,
        path: "/api/multi_agent/context/{id}/persist",
        scope: AGENTS_INVOKE,
        target: Target::Intent {
            path: "/api/multi_agent/context/{id}/persist",
            action: actions::PERSIST_STATE,
        },
        doc: Doc {
            summary: "Persists a context's state (shallow merge or replace) at version + 1; \
                      `If-Match: <version>` guards against lost updates.",
            status: 200,
            response: "ContextState",
            request: Some("PersistState"),
            errors: &[409, 412, 422],
            query: &[],
        },
    },
    read(
        "/api/multi_agent/context/{id}/state",
        "A context's persisted state and its version.",
        "ContextState",
    ),
];

#[cfg(test)]
mod tests {
    use super::ROWS;
    use crate::gateway::table::Target;
    use platform_sdk::multi_agent_wire::actions;
    use platform_sdk::security_guard::scopes::ALL_SCOPES;

    #[test]
    fn scopes_exist_and_actions_match_the_runtime() {
        let known = [
            actions::CREATE_CONTEXT,
            actions::UPDATE_CONTEXT,
            actions::TERMINATE_CONTEXT,
            actions::SEND_MESSAGE,
            actions::PERSIST_STATE,
        ];
        for row in ROWS {
            assert!(ALL_SCOPES.contains(&row.scope), "{}", row.path);
            if let Target::Intent { action, .. } = row.target {
                assert!(known.contains(&action), "{action}");
            }
        }
    }
}
