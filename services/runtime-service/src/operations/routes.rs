//! The operations hub's endpoints (SPEC §14), reached through the experience gateway: the reads
//! take a service token and the caller's `tenant_id`; a control is a signed intent (with the
//! client's `Idempotency-Key`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::operations_wire::{ControlRequest, Hub, ProcessDetail, CONTROL_ACTION};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::SignedIntent;

use super::query::{self, HubQuery};
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::{answer_keyed, payload};
use crate::sessions::routes::TenantQuery;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let at = |path| platform_sdk::http::resource(path).default_service(nope());
    cfg.service(at("/api/operations/hub").route(web::get().to(hub)))
        .service(at("/api/operations/processes/{id}").route(web::get().to(process)))
        .service(at("/api/operations/processes/{id}/control").route(web::post().to(control)));
}

/// The tenant's long-running processes (executions, multimodal requests, deployments,
/// multi-agent contexts), newest first, with how many are live.
#[utoipa::path(get, path = "/api/operations/hub", params(HubQuery),
    responses((status = 200, body = Hub), (status = 400, description = "invalid_query", body = ErrorBody), (status = 401)),
    security(("service_token" = [])))]
pub async fn hub(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<HubQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let filter = query::parse(&q, now_ms())?;
    Ok(HttpResponse::Ok().json(state.operations.hub(&q.tenant_id, &filter).await?))
}

/// One process with its detail (an execution's steps and last events, a deployment's health)
/// and the controls an operator ran on it.
#[utoipa::path(get, path = "/api/operations/processes/{id}", params(("id" = String, Path, description = "Process id"), TenantQuery),
    responses((status = 200, body = ProcessDetail), (status = 401), (status = 404, body = ErrorBody)),
    security(("service_token" = [])))]
pub async fn process(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.operations.detail(&q.tenant_id, &id).await?))
}

/// Pauses, resumes or cancels a process (`action: operations.processes.control`, payload
/// `ControlRequest`) → its detail after the move; a move its state machine forbids is
/// `409 invalid_transition` and changes nothing.
#[utoipa::path(post, path = "/api/operations/processes/{id}/control", request_body = SignedIntent,
    params(("id" = String, Path, description = "Process id"), ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = ProcessDetail), (status = 403), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn control(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let operations = &state.operations;
    answer_keyed(&state.gate, &req, &intent, CONTROL_ACTION, |c| async move {
        let request: ControlRequest = payload(&c)?;
        Ok((StatusCode::OK, operations.control(&c, &id, &request).await?))
    })
    .await
}
