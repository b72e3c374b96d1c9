//! `/health/live`, `/health/ready`, `/metrics`, `/openapi.json`, `/docs`: the unauthenticated
//! operational endpoints.

use actix_web::{web, HttpResponse};
use platform_sdk::metrics::metrics_endpoint;
use serde_json::json;
use utoipa::OpenApi as _;

use crate::startup::AppState;

/// Mounts the operational endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/health/live")
            .route(web::get().to(live))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/health/ready")
            .route(web::get().to(ready))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/metrics")
            .route(web::get().to(metrics_endpoint))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/openapi.json")
            .route(web::get().to(openapi))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/docs")
            .route(web::get().to(docs))
            .default_service(nope()),
    );
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", responses((status = 200, description = "alive")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Database and state store answer.
#[utoipa::path(get, path = "/health/ready", responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = platform_sdk::db::ping(&state.pool).await.is_ok();
    let store = state.surface.store().ping().await.is_ok();
    let body = json!({
        "status": if database && store { "ok" } else { "unavailable" },
        "checks": {"database": database, "state_store": store},
    });
    if database && store {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::ApiDoc::openapi())
}

async fn docs() -> HttpResponse {
    platform_sdk::http::docs_page("Symphainy runtime")
}
