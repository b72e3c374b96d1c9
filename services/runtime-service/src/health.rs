//! The operational endpoints (`platform_sdk::operational`) with the runtime's readiness check:
//! database and state store.

use actix_web::{web, HttpResponse};
use platform_sdk::server::Draining;
use utoipa::OpenApi as _;

use crate::startup::AppState;

/// Mounts the operational endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    platform_sdk::operational::configure(
        cfg,
        web::get().to(ready),
        crate::openapi::ApiDoc::openapi,
        "Symphainy runtime",
    );
}

/// Database and state store answer.
#[utoipa::path(get, path = "/health/ready", responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down, or the replica is draining")))]
pub async fn ready(state: web::Data<AppState>, draining: web::Data<Draining>) -> HttpResponse {
    let database = platform_sdk::db::ping(&state.pool).await.is_ok();
    let store = state.surface.store().ping().await.is_ok();
    platform_sdk::operational::readiness(
        &draining,
        &[("database", database), ("state_store", store)],
    )
}
