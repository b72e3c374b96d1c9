//! Conversation history (SPEC §4).

use crate::extractors::scopes::AgentsRead;
use crate::extractors::ScopeName;
use crate::gateway::table::{Doc, Row, Target, Verb};

/// Conversation history (SPEC §4).
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Get,
        path: "/api/conversations",
        scope: AgentsRead::SCOPE,
        target: Target::Read {
            path: "/api/conversations",
        },
        doc: Doc {
            summary: "The caller's conversations, newest first.",
            status: 200,
            response: "ConversationList",
            request: None,
            errors: &[],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/conversations/{id}/messages",
        scope: AgentsRead::SCOPE,
        target: Target::Read {
            path: "/api/conversations/{id}/messages",
        },
        doc: Doc {
            summary:
                "Messages of one of the caller's conversations, oldest first (another user's: 404).",
            status: 200,
            response: "MessageList",
            request: None,
            errors: &[],
            query: &[],
        },
    },
];
