//! Event log endpoints, read with a service token: the durable page (JSON) and the live,
//! resumable stream (server-sent events) of a session or of one execution. The handlers check
//! that the session or execution is the tenant's, then adapt the [`EventLog`](super::EventLog)
//! to JSON or SSE; the follow engine itself lives in [`super::follow`].

use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::agent_wire::EventPage;
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
    #[param(format = Uuid)]
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

/// Whose log a request reads.
enum Log {
    /// A session's.
    Session(String),
    /// One execution's.
    Execution(String),
}

/// Checks the named session or execution is the tenant's: its tenant, session and scope.
async fn locate(
    state: &AppState,
    tenant_id: &str,
    log: Log,
) -> Result<(String, String, StreamScope), RuntimeError> {
    Ok(match log {
        Log::Session(id) => {
            let session = state.sessions.get(tenant_id, &id).await?;
            (session.tenant_id, session.session_id, StreamScope::Session)
        }
        Log::Execution(id) => {
            let e = state.executions.get(tenant_id, &id).await?;
            let scope = StreamScope::Execution(e.execution_id);
            (e.tenant_id, e.session_id, scope)
        }
    })
}

/// The durable page of a log as JSON.
async fn page(state: &AppState, log: Log, q: &LogQuery) -> Result<HttpResponse, RuntimeError> {
    let (tenant, session, scope) = locate(state, &q.tenant_id, log).await?;
    let after = q.after.unwrap_or(0);
    let events = state.events.page(&tenant, &session, &scope, after).await?;
    Ok(HttpResponse::Ok().json(EventPage { events }))
}

/// A log followed live as server-sent events.
async fn stream(
    state: &AppState,
    log: Log,
    tenant_id: &str,
    after: i64,
) -> Result<HttpResponse, RuntimeError> {
    let (tenant, session, scope) = locate(state, tenant_id, log).await?;
    Ok(sse(state
        .events
        .follow(&tenant, &session, after, scope)
        .await?))
}

/// The session's durable events after `after` (at most 1000).
#[utoipa::path(get, path = "/api/session/{id}/events", params(("id" = uuid::Uuid, Path, description = "Session id"), LogQuery), responses((status = 200, body = EventPage), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn session_events(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, RuntimeError> {
    page(&state, Log::Session(id.into_inner()), &q).await
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
    let after = last_event_id(&req).or(q.after).unwrap_or(0);
    stream(&state, Log::Session(id.into_inner()), &q.tenant_id, after).await
}

/// The durable events of an execution after `after`.
#[utoipa::path(get, path = "/api/execution/{id}/events", params(("id" = uuid::Uuid, Path, description = "Execution id"), LogQuery), responses((status = 200, body = EventPage), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn execution_events(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, RuntimeError> {
    page(&state, Log::Execution(id.into_inner()), &q).await
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
    let after = last_event_id(&req).or(q.after).unwrap_or(0).max(0);
    stream(&state, Log::Execution(id.into_inner()), &q.tenant_id, after).await
}
