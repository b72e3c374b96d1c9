//! `GET /api/governance/trust/{agent_id}` (service token; the experience gateway's row, scope
//! `governance:read`, adds the caller's `tenant_id`).

use actix_web::{web, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::trust_wire::AgentTrust;

use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::sessions::routes::TenantQuery;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoint.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        platform_sdk::http::resource("/api/governance/trust/{agent_id}")
            .route(web::get().to(trust))
            .default_service(web::to(platform_sdk::http::method_not_allowed)),
    );
}

/// An agent's trust in the tenant: its four dimensions, aggregate, confidence and the last 50
/// points of its history (service token).
#[utoipa::path(get, path = "/api/governance/trust/{agent_id}",
    params(("agent_id" = String, Path, description = "any agent id the tenant can name"), TenantQuery),
    responses((status = 200, body = AgentTrust), (status = 401), (status = 404),
              (status = 422, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn trust(
    _: ServiceCaller,
    state: web::Data<AppState>,
    agent_id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let trust = super::read(&state.pool, &q.tenant_id, &agent_id).await?;
    Ok(HttpResponse::Ok().json(trust))
}
