//! Notifications (SPEC §13): what a user (or every admin of the tenant) should know about,
//! created by the features where things happen (governance violations, trust alerts,
//! deployments, approvals), each one also published live as `notification.created` to its
//! audience, in the producer's transaction.
//!
//! - [`Notifications`]: create inside a transaction, list a reader's page, mark read.
//! - [`routes`]: `GET /api/notifications` (service token) and `POST /api/notifications/mark-read`
//!   (signed intent).
//! - [`storage`]: the only SQL.
//!
//! The runtime does not know roles: the gateway forwards the caller's roles (`roles` query
//! parameter, see `platform_sdk::live_wire::ROLES_PARAM`), and an admin or owner also reads the
//! `admins` notifications, each with its own read state.

pub mod producers;
pub mod routes;
pub mod storage;

use platform_sdk::live_wire::{
    live_types, MarkRead, MarkedRead, NotificationList, AUDIENCE_ADMINS,
};
use platform_sdk::page::PageRequest;
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use sqlx::AnyConnection;

use crate::error::RuntimeError;
use crate::live::{publish_in, user_audience, Live, LiveEvent};
use storage::{NewRow, Reader};

/// A notification to create.
#[derive(Debug, Clone)]
pub struct Note<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Type (`governance.violation`, …).
    pub kind: &'a str,
    /// One line.
    pub title: String,
    /// A sentence or two.
    pub body: String,
    /// `info`, `warning` or `critical`.
    pub severity: &'a str,
    /// Ids and fields of what it is about.
    pub data: serde_json::Value,
    /// The agent it is about (the live event carries it for subscriptions).
    pub agent_id: Option<&'a str>,
}

/// Whom a notification goes to.
#[derive(Debug, Clone, Copy)]
pub enum To<'a> {
    /// One user.
    User(&'a str),
    /// A user (when known: an agent's creator) and every admin of the tenant; an admin who is
    /// that user gets one copy, not two.
    UserAndAdmins(Option<&'a str>),
}

/// Creates, lists and marks notifications.
#[derive(Clone)]
pub struct Notifications {
    live: Live,
}

impl Notifications {
    /// Over the live log (which holds the pool).
    pub fn new(live: Live) -> Self {
        Self { live }
    }

    /// The live log.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// Creates `note` for `to` (see [`create_in`]).
    pub async fn create_in(
        &self,
        conn: &mut AnyConnection,
        note: &Note<'_>,
        to: To<'_>,
    ) -> Result<Vec<String>, sqlx::Error> {
        create_in(conn, note, to).await
    }

    /// A page of the reader's notifications with their unread count.
    pub async fn list(
        &self,
        reader: &Reader<'_>,
        unread_only: bool,
        page: &PageRequest,
    ) -> Result<NotificationList, RuntimeError> {
        let (items, next_cursor) =
            storage::page(self.live.pool(), reader, unread_only, page).await?;
        let mut conn = self.live.pool().acquire().await?;
        let unread_count = storage::unread_count(&mut conn, reader).await?;
        Ok(NotificationList {
            items,
            next_cursor,
            unread_count,
        })
    }

    /// Marks the reader's notifications read: `ids` (1..=200) or `all: true`.
    pub async fn mark_read(
        &self,
        reader: &Reader<'_>,
        request: &MarkRead,
    ) -> Result<MarkedRead, RuntimeError> {
        let ids = match (&request.ids, request.all) {
            (Some(ids), None | Some(false)) => {
                if ids.is_empty() || ids.len() > 200 {
                    return Err(RuntimeError::invalid("ids", "must hold 1 to 200 ids"));
                }
                if ids.iter().any(|id| id.is_empty() || id.len() > 200) {
                    return Err(RuntimeError::invalid("ids", "must be notification ids"));
                }
                Some(ids.as_slice())
            }
            (None, Some(true)) => None,
            _ => {
                return Err(RuntimeError::invalid(
                    "ids",
                    "send either `ids` (1 to 200) or `all: true`",
                ))
            }
        };
        let mut tx = self.live.pool().begin().await?;
        let updated = storage::mark_read(&mut tx, reader, ids, now_ms()).await?;
        let unread_count = storage::unread_count(&mut tx, reader).await?;
        tx.commit().await?;
        Ok(MarkedRead {
            updated: i64::try_from(updated).unwrap_or(i64::MAX),
            unread_count,
        })
    }
}

/// Creates `note` for `to` on the caller's transaction and publishes `notification.created` to
/// each audience there; answers the ids. After the commit, [`Live::wake`] delivers at once
/// (else the watcher does within `live.poll_ms`).
pub async fn create_in(
    conn: &mut AnyConnection,
    note: &Note<'_>,
    to: To<'_>,
) -> Result<Vec<String>, sqlx::Error> {
    let audiences = match to {
        To::User(user) => vec![user_audience(user)],
        To::UserAndAdmins(Some(user)) => {
            vec![user_audience(user), format!("{AUDIENCE_ADMINS}!{user}")]
        }
        To::UserAndAdmins(None) => vec![AUDIENCE_ADMINS.to_owned()],
    };
    let now = now_ms();
    let mut ids = Vec::with_capacity(audiences.len());
    for audience in audiences {
        let id = format!("ntf_{}", uuid::Uuid::new_v4().simple());
        storage::insert(
            conn,
            &NewRow {
                id: &id,
                tenant_id: note.tenant_id,
                audience: &audience,
                kind: note.kind,
                title: &note.title,
                body: &note.body,
                severity: note.severity,
                data: &note.data,
                now,
            },
        )
        .await?;
        let shown = serde_json::json!({
            "id": id,
            "type": note.kind,
            "title": note.title,
            "body": note.body,
            "severity": note.severity,
            "data": note.data,
            "created_at": rfc3339_ms(now),
            "read_at": null,
        });
        let event = LiveEvent {
            tenant_id: note.tenant_id,
            event_type: live_types::NOTIFICATION_CREATED,
            audience,
            agent_id: note.agent_id,
            context_id: None,
            data: shown,
        };
        publish_in(conn, event).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Whether forwarded roles (comma-separated) make the caller an admin of the tenant.
pub fn is_admin(roles: Option<&str>) -> bool {
    roles
        .unwrap_or_default()
        .split(',')
        .any(|r| matches!(r.trim(), "admin" | "owner"))
}
