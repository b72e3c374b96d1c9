//! Event log endpoints, read with a service token: the durable page (JSON) and the live,
//! resumable stream (server-sent events) of a session or of one execution. The handlers check
//! that the session or execution is the tenant's, then adapt the [`EventLog`](super::EventLog)
//! to JSON or SSE; the follow engine itself lives in [`super::follow`].

use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::agent_wire::{EventPage, SessionEvent};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{FeedItem, StreamScope};
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let get = |path, handler| {
        platform_sdk::http::resource(path)
            .route(handler)
            .default_service(nope())
    };
    cfg.service(get(
        "/api/session/{id}/events",
        web::get().to(session_events),
    ))
    .service(get(
        "/api/session/{id}/stream",
        web::get().to(session_stream),
    ))
    .service(get(
        "/api/execution/{id}/events",
        web::get().to(execution_events),
    ))
    .service(get(
        "/api/execution/{id}/stream",
        web::get().to(execution_stream),
    ));
}

/// Tenant selector with a cursor.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LogQuery {
    /// Tenant that owns the session or execution.
    pub tenant_id: String,
    /// Only events with a larger id.
    #[serde(default)]
    pub after: Option<i64>,
}

/// The `Last-Event-ID` header, if present and numeric.
fn last_event_id(req: &HttpRequest) -> Option<i64> {
    req.headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn frame(item: FeedItem) -> Bytes {
    match item {
        FeedItem::Cursor(cursor) => Bytes::from(format!(": cursor {cursor}\n\n")),
        FeedItem::Ping => Bytes::from_static(b": ping\n\n"),
        FeedItem::Event(event) => {
            let data = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
            Bytes::from(format!(
                "id: {}\nevent: {}\ndata: {}\n\n",
                event.event_id, event.event_type, data
            ))
        }
    }
}

/// A followed log as a `text/event-stream` response.
fn sse(feed: mpsc::Receiver<FeedItem>) -> HttpResponse {
    let body = futures_util::stream::unfold(feed, |mut rx| async move {
        rx.recv()
            .await
            .map(|item| (Ok::<_, actix_web::Error>(frame(item)), rx))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

fn page(events: Vec<SessionEvent>) -> HttpResponse {
    HttpResponse::Ok().json(EventPage { events })
}

/// The session's durable events after `after` (at most 1000).
#[utoipa::path(get, path = "/api/session/{id}/events", params(LogQuery), responses((status = 200, body = EventPage), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn session_events(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let session = state.sessions.get(&q.tenant_id, &id).await?;
    let after = q.after.unwrap_or(0);
    Ok(page(
        state
            .events
            .session_page(&session.tenant_id, &session.session_id, after)
            .await?,
    ))
}

/// The session's events as server-sent events: the log after the cursor (`after` or
/// `Last-Event-ID`), then live; `EVENTS_LOST` when the cursor is older than the log.
#[utoipa::path(get, path = "/api/session/{id}/stream", params(LogQuery), responses((status = 200, description = "text/event-stream"), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn session_stream(
    _: ServiceCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let session = state.sessions.get(&q.tenant_id, &id).await?;
    let after = last_event_id(&req).or(q.after).unwrap_or(0);
    let (tenant, session) = (&session.tenant_id, &session.session_id);
    let feed = state
        .events
        .follow(tenant, session, after, StreamScope::Session);
    Ok(sse(feed.await?))
}

/// The durable events of an execution after `after`.
#[utoipa::path(get, path = "/api/execution/{id}/events", params(LogQuery), responses((status = 200, body = EventPage), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn execution_events(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let record = state.executions.get(&q.tenant_id, &id).await?;
    let after = q.after.unwrap_or(0);
    Ok(page(
        state
            .events
            .execution_page(&record.tenant_id, &record.execution_id, after)
            .await?,
    ))
}

/// Live events of an execution as server-sent events, resumable with `Last-Event-ID`; the stream
/// ends after the execution's final event.
#[utoipa::path(get, path = "/api/execution/{id}/stream", params(LogQuery), responses((status = 200, description = "text/event-stream"), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn execution_stream(
    _: ServiceCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let record = state.executions.get(&q.tenant_id, &id).await?;
    let after = last_event_id(&req).or(q.after).unwrap_or(0).max(0);
    let scope = StreamScope::Execution(record.execution_id);
    let feed = state
        .events
        .follow(&record.tenant_id, &record.session_id, after, scope);
    Ok(sse(feed.await?))
}
