//! Outcome endpoints (SPEC §16), reached through the experience gateway: posting an outcome is a
//! signed intent (audited, `Idempotency-Key` honoured); the reads take a service token and the
//! caller's `tenant_id` / `user_id`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::outcome_wire::{
    MetricType, OutcomeDashboard, OutcomeEvent, OutcomeList, Trend, RECORD_OUTCOME_ACTION,
};
use platform_sdk::page::PageRequest;
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use super::input::{self, Filter};
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::answer_keyed;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let at = |path| platform_sdk::http::resource(path).default_service(nope());
    cfg.service(
        at("/v1/outcomes/events")
            .route(web::post().to(record))
            .route(web::get().to(list)),
    )
    .service(at("/v1/outcomes/trends/{metric_type}").route(web::get().to(trend)))
    .service(at("/v1/outcomes/dashboard").route(web::get().to(dashboard)));
}

/// The caller and the parameters of a read; every one is checked whichever read uses it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OutcomeQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// User.
    #[param(format = Uuid)]
    pub user_id: String,
    /// Only this domain (events, trends, dashboard).
    #[param(min_length = 1, max_length = 200)]
    pub domain: Option<String>,
    /// Only this event type (events).
    #[param(min_length = 1, max_length = 200)]
    pub event_type: Option<String>,
    /// Only this metric (events).
    #[param(pattern = "^(success_rate|quality_score|latency_ms|cost_usd)$")]
    pub metric_type: Option<String>,
    /// How many of the latest values a trend reads, 2..=1000 (default 20) (trends, dashboard).
    #[param(value_type = Option<u32>, minimum = 2, maximum = 1000)]
    pub window: Option<String>,
    /// How many recent events the dashboard shows, 0..=100 (default 10).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 100)]
    pub recent_limit: Option<String>,
    /// Page size, 1..=200 (default 50) (events).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page (events).
    pub cursor: Option<String>,
}

/// A read's parameters, parsed.
struct Read<'a> {
    tenant_id: &'a str,
    filter: Filter<'a>,
    window: u32,
    recent_limit: u32,
    page: PageRequest,
}

impl OutcomeQuery {
    fn read(&self) -> Result<Read<'_>, RuntimeError> {
        check_id("tenant_id", &self.tenant_id)?;
        check_id("user_id", &self.user_id)?;
        Ok(Read {
            tenant_id: &self.tenant_id,
            filter: Filter {
                domain: input::name_filter("domain", self.domain.as_deref())?,
                event_type: input::name_filter("event_type", self.event_type.as_deref())?,
                metric_type: input::metric_filter(self.metric_type.as_deref())?,
            },
            window: input::window(self.window.as_deref())?,
            recent_limit: input::recent_limit(self.recent_limit.as_deref())?,
            page: PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())?,
        })
    }
}

/// Records an outcome (`action: record_outcome`, payload `OutcomeInput`) → `201` with the stored
/// event. The same `Idempotency-Key` with the same body answers the first event again.
#[utoipa::path(post, path = "/v1/outcomes/events", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = OutcomeEvent), (status = 403), (status = 409),
              (status = 422, description = "validation_failed naming the field", body = ErrorBody)))]
pub async fn record(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let outcomes = &state.outcomes;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        RECORD_OUTCOME_ACTION,
        |c| async move { Ok((StatusCode::CREATED, outcomes.record(&c).await?)) },
    )
    .await
}

/// A page of the tenant's outcome events, newest `occurred_at` first (service token).
#[utoipa::path(get, path = "/v1/outcomes/events", params(OutcomeQuery),
    responses((status = 200, body = OutcomeList), (status = 400, body = ErrorBody), (status = 401)),
    security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let list = state
        .outcomes
        .list(read.tenant_id, &read.filter, &read.page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A metric's trend over its latest `window` values (service token); an unknown metric is a
/// `404`.
#[utoipa::path(get, path = "/v1/outcomes/trends/{metric_type}",
    params(("metric_type" = String, Path, description = "success_rate, quality_score, latency_ms or cost_usd"), OutcomeQuery),
    responses((status = 200, body = Trend), (status = 400, body = ErrorBody), (status = 401), (status = 404, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn trend(
    _: ServiceCaller,
    state: web::Data<AppState>,
    metric: web::Path<String>,
    q: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let metric = MetricType::parse(&metric).ok_or(RuntimeError::NotFound("metric_type"))?;
    let trend = state
        .outcomes
        .trend(read.tenant_id, metric, read.filter.domain, read.window)
        .await?;
    Ok(HttpResponse::Ok().json(trend))
}

/// Every metric's trend, the latest events and the totals (service token).
#[utoipa::path(get, path = "/v1/outcomes/dashboard", params(OutcomeQuery),
    responses((status = 200, body = OutcomeDashboard), (status = 400, body = ErrorBody), (status = 401)),
    security(("service_token" = [])))]
pub async fn dashboard(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let dashboard = state
        .outcomes
        .dashboard(
            read.tenant_id,
            read.filter.domain,
            read.window,
            read.recent_limit,
        )
        .await?;
    Ok(HttpResponse::Ok().json(dashboard))
}
