//! Usage endpoints (SPEC §11). Tracking is a signed intent (the experience gateway's row
//! `POST /api/agents/{id}/track`), honouring the client's `Idempotency-Key`; the reads take a
//! service token and the caller's `tenant_id` / `user_id` from the gateway.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::page::PageRequest;
use platform_sdk::traffic_cop::SignedIntent;
use platform_sdk::usage_wire::{
    ActivityList, AgentMetrics, AgentPerformance, TrackAccepted, TRACK_ACTION,
};
use serde::Deserialize;

use super::window::{Bucket, Window};
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::answer_keyed;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let one = |path, handler| {
        platform_sdk::http::resource(path)
            .route(handler)
            .default_service(nope())
    };
    cfg.service(one("/api/agents/{id}/track", web::post().to(track)))
        .service(one("/api/agents/{id}/metrics", web::get().to(metrics)))
        .service(one(
            "/api/agents/{id}/performance",
            web::get().to(performance),
        ))
        .service(one("/api/agents/{id}/activity", web::get().to(activity)));
}

/// The caller, the window and the bucket of a read (`limit` / `cursor` for the activity).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UsageQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// User.
    #[param(format = Uuid)]
    pub user_id: String,
    /// `1h`, `24h` (default), `7d` or `30d` (metrics, performance).
    #[param(pattern = "^(1h|24h|7d|30d)$")]
    pub window: Option<String>,
    /// `hour` (default) or `day` (performance).
    #[param(pattern = "^(hour|day)$")]
    pub bucket: Option<String>,
    /// Page size, 1..=200 (default 50) (activity).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page (activity).
    pub cursor: Option<String>,
}

/// A read's parameters, every one checked whichever read uses it (a malformed one is refused
/// even where it would be ignored, as the document says).
struct Read<'a> {
    tenant_id: &'a str,
    window: Window,
    bucket: Bucket,
    page: PageRequest,
}

impl UsageQuery {
    fn read(&self) -> Result<Read<'_>, RuntimeError> {
        check_id("tenant_id", &self.tenant_id)?;
        check_id("user_id", &self.user_id)?;
        Ok(Read {
            tenant_id: &self.tenant_id,
            window: Window::parse(self.window.as_deref())?,
            bucket: Bucket::parse(self.bucket.as_deref())?,
            page: PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())?,
        })
    }
}

/// Tracks an event of an agent (`action: track_agent_usage`, payload `TrackRequest`). The same
/// `Idempotency-Key` with the same body answers the first `event_id` and stores nothing more.
#[utoipa::path(post, path = "/api/agents/{id}/track", request_body = SignedIntent,
    params(("id" = String, Path, description = "agent id"), ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 202, body = TrackAccepted), (status = 403), (status = 404), (status = 409),
              (status = 422, description = "validation_failed naming the field", body = ErrorBody)))]
pub async fn track(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let usage = &state.usage;
    answer_keyed(&state.gate, &req, &intent, TRACK_ACTION, |c| async move {
        Ok((StatusCode::ACCEPTED, usage.track(&c, &id).await?))
    })
    .await
}

/// An agent's metrics over a window ending now (service token).
#[utoipa::path(get, path = "/api/agents/{id}/metrics", params(("id" = String, Path, description = "agent id"), UsageQuery),
    responses((status = 200, body = AgentMetrics), (status = 401), (status = 404), (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn metrics(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<UsageQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let metrics = state
        .usage
        .metrics(read.tenant_id, &id, read.window)
        .await?;
    Ok(HttpResponse::Ok().json(metrics))
}

/// An agent's window in hour or day buckets (service token).
#[utoipa::path(get, path = "/api/agents/{id}/performance", params(("id" = String, Path, description = "agent id"), UsageQuery),
    responses((status = 200, body = AgentPerformance), (status = 401), (status = 404), (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn performance(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<UsageQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let performance = state
        .usage
        .performance(read.tenant_id, &id, read.window, read.bucket)
        .await?;
    Ok(HttpResponse::Ok().json(performance))
}

/// One page of an agent's activity, newest first (service token).
#[utoipa::path(get, path = "/api/agents/{id}/activity", params(("id" = String, Path, description = "agent id"), UsageQuery),
    responses((status = 200, body = ActivityList), (status = 401), (status = 404)),
    security(("service_token" = [])))]
pub async fn activity(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<UsageQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let list = state
        .usage
        .activity(read.tenant_id, &id, &read.page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
