//! The operational endpoints (`platform_sdk::operational`) with the experience plane's readiness
//! check: database, state store and the runtime.

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
        "Symphainy experience",
    );
}

/// Database, state store and runtime answer.
#[utoipa::path(get, path = "/health/ready", responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down, or the replica is draining")))]
pub async fn ready(state: web::Data<AppState>, draining: web::Data<Draining>) -> HttpResponse {
    let (database, store, runtime) = tokio::join!(
        platform_sdk::db::ping(&state.pool),
        state.store.ping(),
        state.runtime.live()
    );
    platform_sdk::operational::readiness(
        &draining,
        &[
            ("database", database.is_ok()),
            ("state_store", store.is_ok()),
            ("runtime", runtime.is_ok()),
        ],
    )
}
