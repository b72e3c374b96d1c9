//! Session event log (page and SSE) and conversation history, read with a service token.

use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::agent_wire::{ConversationList, EventPage, MessageList};
use serde::Deserialize;

use super::streams::{last_event_id, sse, StreamScope};
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::startup::AppState;
use crate::storage;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/session/{id}/events")
            .route(web::get().to(session_events))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/session/{id}/stream")
            .route(web::get().to(session_stream))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/conversations")
            .route(web::get().to(conversations))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/conversations/{id}/messages")
            .route(web::get().to(messages))
            .default_service(nope()),
    );
}

/// Tenant selector with a cursor.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SessionQuery {
    /// Tenant that owns the session.
    pub tenant_id: String,
    /// Only events with a larger id.
    #[serde(default)]
    pub after: Option<i64>,
}

/// Owner selector.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OwnerQuery {
    /// Tenant.
    pub tenant_id: String,
    /// User.
    pub user_id: String,
}

/// The session's durable events after `after` (at most 1000).
#[utoipa::path(get, path = "/api/session/{id}/events", params(SessionQuery), responses((status = 200, body = EventPage), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn session_events(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<SessionQuery>,
) -> Result<HttpResponse, RuntimeError> {
    state.sessions.get(&q.tenant_id, &id).await?;
    let events =
        storage::events::after(&state.pool, &q.tenant_id, &id, q.after.unwrap_or(0), 1000).await?;
    Ok(HttpResponse::Ok().json(EventPage { events }))
}

/// The session's events as server-sent events: the log after the cursor (`after` or
/// `Last-Event-ID`), then live; `EVENTS_LOST` when the cursor is older than the log.
#[utoipa::path(get, path = "/api/session/{id}/stream", params(SessionQuery), responses((status = 200, description = "text/event-stream"), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn session_stream(
    _: ServiceCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<SessionQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let session = state.sessions.get(&q.tenant_id, &id).await?;
    let after = last_event_id(&req).or(q.after).unwrap_or(0);
    Ok(sse(
        &state,
        &session.tenant_id,
        &session.session_id,
        after,
        StreamScope::Session,
    )
    .await?)
}

/// A user's conversations, newest first.
#[utoipa::path(get, path = "/api/conversations", params(OwnerQuery), responses((status = 200, body = ConversationList), (status = 401)), security(("service_token" = [])))]
pub async fn conversations(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<OwnerQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let conversations =
        storage::executions::conversations(&state.pool, &q.tenant_id, &q.user_id).await?;
    Ok(HttpResponse::Ok().json(ConversationList { conversations }))
}

/// Messages of one of the user's conversations, oldest first.
#[utoipa::path(get, path = "/api/conversations/{id}/messages", params(OwnerQuery), responses((status = 200, body = MessageList), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn messages(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<OwnerQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let messages = storage::executions::messages(&state.pool, &q.tenant_id, &q.user_id, &id)
        .await?
        .ok_or(RuntimeError::NotFound("conversation"))?;
    Ok(HttpResponse::Ok().json(MessageList { messages }))
}
