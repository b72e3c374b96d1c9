//! Wrapper endpoints (SPEC §8), reached through the experience gateway: mutations take signed
//! intents (audited, `Idempotency-Key` honoured), reads a service token with the caller's tenant.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::page::PageRequest;
use platform_sdk::traffic_cop::SignedIntent;
use platform_sdk::wrapper_wire::{
    actions, DeploymentAccepted, DeploymentStatus, WrapperInput, WrapperList, WrapperRecord,
    WrapperStatus,
};
use serde::Deserialize;

use super::rules::Action;
use super::storage::Filter;
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::{answer_keyed, payload};
use crate::sessions::routes::TenantQuery;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let base = "/api/agents/wrappers";
    cfg.service(
        platform_sdk::http::resource(base)
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/agents/wrappers/{id}")
            .route(web::get().to(get_one))
            .route(web::put().to(update))
            .route(web::delete().to(delete))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/agents/wrappers/{id}/status")
            .route(web::get().to(status))
            .default_service(nope()),
    );
    for (path, handler) in [
        ("/api/agents/wrappers/{id}/deploy", web::post().to(deploy)),
        ("/api/agents/wrappers/{id}/pause", web::post().to(pause)),
        ("/api/agents/wrappers/{id}/resume", web::post().to(resume)),
        ("/api/agents/wrappers/{id}/retire", web::post().to(retire)),
    ] {
        cfg.service(
            platform_sdk::http::resource(path)
                .route(handler)
                .default_service(nope()),
        );
    }
}

/// List selector, filters and page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Only wrappers in this state.
    pub deployment_status: Option<DeploymentStatus>,
    /// Only names containing this (case-insensitive).
    pub q: Option<String>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A tenant's wrappers, newest first.
#[utoipa::path(get, path = "/api/agents/wrappers", params(ListQuery), responses((status = 200, body = WrapperList), (status = 400, body = ErrorBody), (status = 401)), security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let page = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let filter = Filter {
        status: q.deployment_status,
        name_contains: q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()),
    };
    let list = state.wrappers.list(&q.tenant_id, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A wrapper (another tenant's: 404).
#[utoipa::path(get, path = "/api/agents/wrappers/{id}", params(TenantQuery), responses((status = 200, body = WrapperRecord), (status = 401), (status = 404, body = ErrorBody)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.wrappers.get(&q.tenant_id, &id).await?))
}

/// Deployment state, health and invocations of a wrapper.
#[utoipa::path(get, path = "/api/agents/wrappers/{id}/status", params(TenantQuery), responses((status = 200, body = WrapperStatus), (status = 401), (status = 404, body = ErrorBody)), security(("service_token" = [])))]
pub async fn status(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.wrappers.status(&q.tenant_id, &id).await?))
}

/// Defines a wrapper (payload `WrapperInput`) → `201`, status `draft`.
#[utoipa::path(post, path = "/api/agents/wrappers", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = WrapperRecord), (status = 403), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let wrappers = &state.wrappers;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::CREATE,
        |c| async move {
            let input: WrapperInput = payload(&c)?;
            Ok((StatusCode::CREATED, wrappers.create(&c, input).await?))
        },
    )
    .await
}

/// Replaces a wrapper's definition (payload `WrapperInput`); a deployed one keeps serving its
/// deployed version until the next deploy.
#[utoipa::path(put, path = "/api/agents/wrappers/{id}", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = WrapperRecord), (status = 403), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let wrappers = &state.wrappers;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::UPDATE,
        |c| async move {
            let input: WrapperInput = payload(&c)?;
            Ok((StatusCode::OK, wrappers.update(&c, &id, input).await?))
        },
    )
    .await
}

/// Retires a wrapper if deployed, then removes it → `204`.
#[utoipa::path(delete, path = "/api/agents/wrappers/{id}", request_body = SignedIntent,
    responses((status = 204), (status = 403), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let wrappers = &state.wrappers;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::DELETE,
        |c| async move {
            wrappers.delete(&c, &id).await?;
            Ok((StatusCode::NO_CONTENT, ()))
        },
    )
    .await
}

/// Starts a deployment → `202 {deployment_id, status: "deploying"}`; `/status` tells how it ends.
#[utoipa::path(post, path = "/api/agents/wrappers/{id}/deploy", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 202, body = DeploymentAccepted), (status = 403), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deploy(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let wrappers = &state.wrappers;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::DEPLOY,
        |c| async move { Ok((StatusCode::ACCEPTED, wrappers.deploy(&c, &id).await?)) },
    )
    .await
}

macro_rules! move_handler {
    ($name:ident, $intent_action:expr, $action:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, request_body = SignedIntent,
            responses((status = 200, body = WrapperRecord), (status = 403), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            id: web::Path<String>,
            intent: ApiJson<SignedIntent>,
        ) -> Result<HttpResponse, RuntimeError> {
            let wrappers = &state.wrappers;
            answer_keyed(&state.gate, &req, &intent, $intent_action, |c| async move {
                Ok((StatusCode::OK, wrappers.apply(&c, &id, $action).await?))
            })
            .await
        }
    };
}

move_handler!(
    pause,
    actions::PAUSE,
    Action::Pause,
    "/api/agents/wrappers/{id}/pause",
    "Stops an active wrapper serving turns (`active → paused`)."
);
move_handler!(
    resume,
    actions::RESUME,
    Action::Resume,
    "/api/agents/wrappers/{id}/resume",
    "Serves a paused wrapper again (`paused → active`)."
);
move_handler!(
    retire,
    actions::RETIRE,
    Action::Retire,
    "/api/agents/wrappers/{id}/retire",
    "Withdraws a wrapper from the catalog (`active|paused → retired`)."
);
