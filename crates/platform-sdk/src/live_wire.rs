//! Wire types of live events and notifications (SPEC §13): the per-tenant event log the
//! experience plane follows, notifications and their read state, and event subscriptions.
//! Shared by the runtime that stores them, the experience plane that streams them, and the tests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Intent action of `POST /api/notifications/mark-read`.
pub const MARK_READ_ACTION: &str = "mark_notifications_read";
/// Intent action of `POST /api/events/subscribe`.
pub const SUBSCRIBE_ACTION: &str = "subscribe_events";
/// Intent action of `DELETE /api/events/subscriptions/{id}`.
pub const UNSUBSCRIBE_ACTION: &str = "unsubscribe_events";

/// The query parameter the gateway sets to the caller's roles (comma-separated; empty for an API
/// key), replacing any the client sent: the runtime does not know roles, and `admins`
/// notifications need them.
pub const ROLES_PARAM: &str = "roles";

/// Audience of every member of the tenant.
pub const AUDIENCE_TENANT: &str = "tenant";
/// Audience of the tenant's admins and owners.
pub const AUDIENCE_ADMINS: &str = "admins";
/// Prefix of a one-user audience (`user:<id>`).
pub const AUDIENCE_USER_PREFIX: &str = "user:";

/// Event types of the tenant log.
pub mod live_types {
    /// A notification was created for the audience (`data` is the notification).
    pub const NOTIFICATION_CREATED: &str = "notification.created";
    /// A governance violation of severity medium or high.
    pub const GOVERNANCE_VIOLATION: &str = "governance.violation";
    /// A trust alert of an agent.
    pub const TRUST_ALERT: &str = "trust.alert";
    /// A deployment of a wrapper changed status.
    pub const DEPLOYMENT_STATUS: &str = "deployment.status";
    /// Execution status changes of the audience's own turns.
    pub const EXECUTION_STARTED: &str = "execution.started";
    /// See [`EXECUTION_STARTED`].
    pub const EXECUTION_COMPLETED: &str = "execution.completed";
    /// See [`EXECUTION_STARTED`].
    pub const EXECUTION_FAILED: &str = "execution.failed";
    /// See [`EXECUTION_STARTED`].
    pub const EXECUTION_CANCELLED: &str = "execution.cancelled";
    /// See [`EXECUTION_STARTED`].
    pub const EXECUTION_AWAITING_APPROVAL: &str = "execution.awaiting_approval";
    /// An operator paused the user's execution from the operations hub.
    pub const EXECUTION_PAUSED: &str = "execution.paused";
    /// An operator resumed it.
    pub const EXECUTION_RESUMED: &str = "execution.resumed";
    /// A message between agents of a multi-agent context.
    pub const MULTI_AGENT_MESSAGE: &str = "multi_agent.message";
    /// The audience's subscriptions changed (`data.subscriptions` is the whole new list); the
    /// experience plane reloads its filters from it and does not forward it.
    pub const SUBSCRIPTIONS_CHANGED: &str = "subscriptions.changed";
    /// The requested `Last-Event-ID` is older than the retained log (or never issued).
    pub const EVENTS_LOST: &str = "EVENTS_LOST";

    /// The types a subscription may name (besides the `execution.*` wildcard).
    pub const SUBSCRIBABLE: &[&str] = &[
        NOTIFICATION_CREATED,
        GOVERNANCE_VIOLATION,
        TRUST_ALERT,
        DEPLOYMENT_STATUS,
        EXECUTION_STARTED,
        EXECUTION_COMPLETED,
        EXECUTION_FAILED,
        EXECUTION_CANCELLED,
        EXECUTION_AWAITING_APPROVAL,
        EXECUTION_PAUSED,
        EXECUTION_RESUMED,
        MULTI_AGENT_MESSAGE,
    ];
}

/// One event of a tenant's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantEvent {
    /// Per-tenant, monotonic, gap-free id (the SSE `id:`).
    pub event_id: i64,
    /// `notification.created`, `governance.violation`, `execution.completed`, …
    pub event_type: String,
    /// `tenant`, `admins` or `user:<id>`.
    pub audience: String,
    /// The agent concerned, if any.
    pub agent_id: Option<String>,
    /// The multi-agent context or session concerned, if any.
    pub context_id: Option<String>,
    /// The event's own fields.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it was stored (RFC 3339, ms).
    pub created_at: String,
}

/// A page of a tenant's log (the experience plane's resume read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantEventPage {
    /// Events after the requested id, oldest first.
    pub events: Vec<TenantEvent>,
    /// The oldest retained id (`None`: the log is empty).
    pub oldest_event_id: Option<i64>,
    /// The newest id (`None`: the log is empty).
    pub latest_event_id: Option<i64>,
}

/// One notification as its reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// `ntf_…`.
    pub id: String,
    /// `governance.violation`, `trust.alert`, `deployment.status`, `execution.awaiting_approval`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One line.
    pub title: String,
    /// A sentence or two.
    pub body: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// Ids and fields of what it is about.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// RFC 3339.
    pub created_at: String,
    /// When this reader marked it read (RFC 3339), `null` while unread.
    pub read_at: Option<String>,
}

/// A page of the caller's notifications, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    /// The page.
    pub items: Vec<Notification>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
    /// How many of the caller's notifications are unread (all pages).
    pub unread_count: i64,
}

/// Body of `POST /api/notifications/mark-read`: `ids` or `all: true`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Notifications to mark read (1..=200 ids).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub ids: Option<Vec<String>>,
    /// `true`: every notification of the caller.
    #[serde(default)]
    pub all: Option<bool>,
}

/// Answer of `POST /api/notifications/mark-read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MarkedRead {
    /// How many were unread and are now read.
    pub updated: i64,
    /// How many remain unread.
    pub unread_count: i64,
}

/// Body of `POST /api/events/subscribe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    /// 1..=20 event types (known types, or `execution.*`).
    #[schema(min_items = 1, max_items = 20)]
    pub event_types: Vec<String>,
    /// Only events of these agents (1..=50), absent: any.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub agent_ids: Option<Vec<String>>,
    /// Only events of these contexts (1..=50), absent: any.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub context_ids: Option<Vec<String>>,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Subscription {
    /// `sub_…`.
    pub subscription_id: String,
    /// The types it selects.
    pub event_types: Vec<String>,
    /// Only these agents, if set.
    pub agent_ids: Option<Vec<String>>,
    /// Only these contexts, if set.
    pub context_ids: Option<Vec<String>>,
    /// RFC 3339.
    pub created_at: String,
}

impl Subscription {
    /// Whether the subscription selects `event`.
    pub fn selects(&self, event: &TenantEvent) -> bool {
        let typed = self.event_types.iter().any(|t| {
            t == &event.event_type
                || t.strip_suffix('*')
                    .is_some_and(|prefix| event.event_type.starts_with(prefix))
        });
        let within = |wanted: &Option<Vec<String>>, have: &Option<String>| match wanted {
            None => true,
            Some(ids) => have.as_ref().is_some_and(|h| ids.contains(h)),
        };
        typed
            && within(&self.agent_ids, &event.agent_id)
            && within(&self.context_ids, &event.context_id)
    }
}

/// A page of the caller's subscriptions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionList {
    /// The page.
    pub items: Vec<Subscription>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}
