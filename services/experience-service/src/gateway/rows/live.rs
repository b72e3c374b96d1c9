//! Notifications and event subscriptions (SPEC §13). Everything here is the caller's own:
//! `notifications:read` (every role has it) reads them and also marks them read and manages
//! the caller's subscriptions, since that changes nothing anyone else sees (docs/adr/0025).
//! The live stream itself (`GET /api/events/stream`) is an experience-owned route
//! (`crate::live_events`), not a row.

use platform_sdk::live_wire::{MARK_READ_ACTION, SUBSCRIBE_ACTION, UNSUBSCRIBE_ACTION};

use crate::gateway::table::{Doc, QueryParam, Row, Target, Verb};

/// `notifications:read`.
pub const NOTIFICATIONS_READ: &str = "notifications:read";

/// Notifications and subscriptions.
pub const ROWS: &[Row] = &[
    Row {
        method: Verb::Get,
        path: "/api/notifications",
        scope: NOTIFICATIONS_READ,
        target: Target::Read {
            path: "/api/notifications",
        },
        doc: Doc {
            summary: "The caller's notifications, newest first (an admin's include the tenant \
                      admins'), each with its read state, and how many are unread.",
            status: 200,
            response: "NotificationList",
            request: None,
            errors: &[],
            query: &[QueryParam {
                name: "unread_only",
                description: "`true`: unread notifications only.",
                pattern: Some("^(true|false)$"),
            }],
        },
    },
    Row {
        method: Verb::Post,
        path: "/api/notifications/mark-read",
        scope: NOTIFICATIONS_READ,
        target: Target::Intent {
            path: "/api/notifications/mark-read",
            action: MARK_READ_ACTION,
        },
        doc: Doc {
            summary: "Marks the caller's notifications read: `ids` (1 to 200) or `all: true`; \
                      answers how many changed and how many remain unread.",
            status: 200,
            response: "MarkedRead",
            request: Some("MarkRead"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Post,
        path: "/api/events/subscribe",
        scope: NOTIFICATIONS_READ,
        target: Target::Intent {
            path: "/api/events/subscribe",
            action: SUBSCRIBE_ACTION,
        },
        doc: Doc {
            summary: "Subscribes the caller's live stream to event types (`execution.*` for \
                      every execution status), optionally of some agents or contexts only.",
            status: 201,
            response: "Subscription",
            request: Some("SubscribeRequest"),
            errors: &[422],
            query: &[],
        },
    },
    Row {
        method: Verb::Get,
        path: "/api/events/subscriptions",
        scope: NOTIFICATIONS_READ,
        target: Target::Read {
            path: "/api/events/subscriptions",
        },
        doc: Doc {
            summary: "The caller's event subscriptions, newest first.",
            status: 200,
            response: "SubscriptionList",
            request: None,
            errors: &[],
            query: &[],
        },
    },
    Row {
        method: Verb::Delete,
        path: "/api/events/subscriptions/{id}",
        scope: NOTIFICATIONS_READ,
        target: Target::Intent {
            path: "/api/events/subscriptions/{id}",
            action: UNSUBSCRIBE_ACTION,
        },
        doc: Doc {
            summary: "Deletes one of the caller's event subscriptions.",
            status: 204,
            response: "",
            request: None,
            errors: &[],
            query: &[],
        },
    },
];
