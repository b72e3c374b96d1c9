//! Live event endpoints. Internal, for the experience plane (service token): a page of a
//! tenant's log after an id (the stream's resume) and the log followed live as server-sent
//! events. Public through the gateway: the caller's event subscriptions.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::live_wire::{
    SubscribeRequest, Subscription, SubscriptionList, TenantEventPage, SUBSCRIBE_ACTION,
    UNSUBSCRIBE_ACTION,
};
use platform_sdk::page::PageRequest;
use platform_sdk::traffic_cop::{Contract, SignedIntent};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{subscriptions, FollowItem};
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::{answer_keyed, payload};
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let at = |path| platform_sdk::http::resource(path).default_service(nope());
    cfg.service(at("/api/live/events").route(web::get().to(events)))
        .service(at("/api/live/stream").route(web::get().to(stream)))
        .service(at("/api/events/subscribe").route(web::post().to(subscribe)))
        .service(at("/api/events/subscriptions").route(web::get().to(list_subscriptions)))
        .service(at("/api/events/subscriptions/{id}").route(web::delete().to(unsubscribe)));
}

/// Tenant and cursor.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LiveQuery {
    /// Tenant whose log is read.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Only events with a larger id (`-1` on the stream: from now).
    pub after: Option<i64>,
    /// Most events of a page, 1..=1000 (default 500).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A page of the tenant's log after `after`, oldest first, with the retained bounds.
#[utoipa::path(get, path = "/api/live/events", params(LiveQuery),
    responses((status = 200, body = TenantEventPage), (status = 401), (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn events(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<LiveQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(RuntimeError::invalid("limit", "must be from 1 to 1000"));
    }
    let (events, bounds) = state
        .live
        .page(&q.tenant_id, q.after.unwrap_or(0).max(0), limit)
        .await?;
    Ok(HttpResponse::Ok().json(TenantEventPage {
        events,
        oldest_event_id: bounds.map(|b| b.0),
        latest_event_id: bounds.map(|b| b.1),
    }))
}

fn frame(item: FollowItem) -> Bytes {
    match item {
        FollowItem::Cursor(cursor) => Bytes::from(format!(": cursor {cursor}\n\n")),
        FollowItem::Ping => Bytes::from_static(b": ping\n\n"),
        FollowItem::Event(event) => {
            let data = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
            Bytes::from(format!(
                "id: {}\nevent: {}\ndata: {}\n\n",
                event.event_id, event.event_type, data
            ))
        }
    }
}

fn sse(feed: mpsc::Receiver<FollowItem>) -> HttpResponse {
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

/// The tenant's log followed live (server-sent events): `: cursor N` first, then every event
/// after the cursor (`after`, or `Last-Event-ID`; `-1`: from now); `EVENTS_LOST` when the cursor
/// cannot be served.
#[utoipa::path(get, path = "/api/live/stream", params(LiveQuery),
    responses((status = 200, description = "text/event-stream"), (status = 401), (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn stream(
    _: ServiceCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<LiveQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let last = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let after = last.or(q.after).unwrap_or(-1);
    Ok(sse(state.live.follow(&q.tenant_id, after).await?))
}

fn user_of(c: &Contract) -> Result<&str, RuntimeError> {
    c.user_id
        .as_deref()
        .ok_or(RuntimeError::invalid("user_id", "a user is required"))
}

/// Subscribes the caller to live events (`action: subscribe_events`, payload
/// `SubscribeRequest`) → `201`.
#[utoipa::path(post, path = "/api/events/subscribe", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = Subscription), (status = 403), (status = 422, body = ErrorBody)))]
pub async fn subscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let live = &state.live;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        SUBSCRIBE_ACTION,
        |c| async move {
            let request: SubscribeRequest = payload(&c)?;
            let created = subscriptions::create(live, &c.tenant_id, user_of(&c)?, &request).await?;
            Ok((StatusCode::CREATED, created))
        },
    )
    .await
}

/// The caller and the page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SubscriptionQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// User.
    #[param(format = Uuid)]
    pub user_id: String,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of the caller's subscriptions, newest first.
#[utoipa::path(get, path = "/api/events/subscriptions", params(SubscriptionQuery),
    responses((status = 200, body = SubscriptionList), (status = 401), (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn list_subscriptions(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<SubscriptionQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    check_id("user_id", &q.user_id)?;
    let page = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let list = subscriptions::list(&state.live, &q.tenant_id, &q.user_id, &page).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Deletes one of the caller's subscriptions (`action: unsubscribe_events`) → `204`.
#[utoipa::path(delete, path = "/api/events/subscriptions/{id}", request_body = SignedIntent,
    params(("id" = String, Path, description = "subscription id")),
    responses((status = 204), (status = 403), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let live = &state.live;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        UNSUBSCRIBE_ACTION,
        |c| async move {
            subscriptions::delete(live, &c.tenant_id, user_of(&c)?, &id).await?;
            Ok((StatusCode::NO_CONTENT, ()))
        },
    )
    .await
}
