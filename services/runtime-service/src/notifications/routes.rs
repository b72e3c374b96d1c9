//! Notification endpoints (SPEC §13): the reader's page (service token, with the caller's
//! `tenant_id`, `user_id` and `roles` the gateway sets) and mark-read (a signed intent; the
//! gateway adds `roles` to its query). Marking one's own notifications read needs only
//! `notifications:read` (the only notifications scope): it changes nothing anyone else sees.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::live_wire::{MarkRead, MarkedRead, NotificationList, MARK_READ_ACTION};
use platform_sdk::page::PageRequest;
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use super::is_admin;
use super::storage::Reader;
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::{answer_keyed, payload};
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let at = |path| platform_sdk::http::resource(path).default_service(nope());
    cfg.service(at("/api/notifications").route(web::get().to(list)))
        .service(at("/api/notifications/mark-read").route(web::post().to(mark_read)));
}

/// The reader and the page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NotificationQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// The reader.
    #[param(format = Uuid)]
    pub user_id: String,
    /// The reader's roles, comma-separated (set by the gateway).
    #[param(max_length = 200)]
    pub roles: Option<String>,
    /// `true`: unread ones only.
    #[param(pattern = "^(true|false)$")]
    pub unread_only: Option<String>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The caller's roles on an intent (set by the gateway).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RolesQuery {
    /// Comma-separated roles of the caller.
    #[param(max_length = 200)]
    pub roles: Option<String>,
}

/// A page of the caller's notifications, newest first, with their unread count.
#[utoipa::path(get, path = "/api/notifications", params(NotificationQuery),
    responses((status = 200, body = NotificationList), (status = 401), (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<NotificationQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    check_id("user_id", &q.user_id)?;
    let page = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let unread_only = match q.unread_only.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(RuntimeError::InvalidQuery {
                parameter: "unread_only",
                message: "must be true or false",
            })
        }
    };
    let reader = Reader {
        tenant_id: &q.tenant_id,
        user_id: &q.user_id,
        admin: is_admin(q.roles.as_deref()),
    };
    let list = state
        .notifications
        .list(&reader, unread_only, &page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Marks the caller's notifications read (`action: mark_notifications_read`, payload
/// `MarkRead`: `ids` or `all: true`).
#[utoipa::path(post, path = "/api/notifications/mark-read", request_body = SignedIntent,
    params(RolesQuery, ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = MarkedRead), (status = 403), (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<RolesQuery>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let notifications = &state.notifications;
    let admin = is_admin(q.roles.as_deref());
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        MARK_READ_ACTION,
        |c| async move {
            let request: MarkRead = payload(&c)?;
            let user_id = c
                .user_id
                .as_deref()
                .ok_or(RuntimeError::invalid("user_id", "a user is required"))?;
            let reader = Reader {
                tenant_id: &c.tenant_id,
                user_id,
                admin,
            };
            Ok((
                StatusCode::OK,
                notifications.mark_read(&reader, &request).await?,
            ))
        },
    )
    .await
}
