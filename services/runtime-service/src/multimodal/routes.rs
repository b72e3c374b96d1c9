//! Multimodal endpoints (SPEC §15), reached through the experience gateway: mutations take
//! signed intents (audited, `Idempotency-Key` honoured), reads a service token with the caller's
//! tenant. The create endpoint alone accepts bodies up to [`super::BODY_LIMIT_BYTES`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::multimodal_wire::{
    actions, CancelInput, Modality, MultimodalPolicy, MultimodalRequest, MultimodalRequestInput,
    MultimodalRequestList, MultimodalResult, RequestState,
};
use platform_sdk::page::PageRequest;
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::{answer_keyed, payload};
use crate::sessions::routes::TenantQuery;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/multimodal/requests")
            .app_data(web::PayloadConfig::new(super::BODY_LIMIT_BYTES))
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(nope()),
    );
    let reads = [
        ("/api/multimodal/requests/{id}", web::get().to(get_one)),
        (
            "/api/multimodal/requests/{id}/result",
            web::get().to(result),
        ),
        (
            "/api/multimodal/results/{id}/download",
            web::get().to(download),
        ),
        (
            "/api/multimodal/requests/{id}/execute",
            web::post().to(execute),
        ),
        (
            "/api/multimodal/requests/{id}/cancel",
            web::post().to(cancel),
        ),
    ];
    for (path, route) in reads {
        cfg.service(
            platform_sdk::http::resource(path)
                .route(route)
                .default_service(nope()),
        );
    }
    cfg.service(
        platform_sdk::http::resource("/api/multimodal/policy")
            .route(web::get().to(policy))
            .route(web::put().to(put_policy))
            .default_service(nope()),
    );
}

/// List selector, filters and page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Only requests of this modality.
    pub modality: Option<Modality>,
    /// Only requests in this state.
    pub state: Option<RequestState>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The tenant's requests, newest first.
#[utoipa::path(get, path = "/api/multimodal/requests", params(ListQuery), responses((status = 200, body = MultimodalRequestList), (status = 400, body = ErrorBody), (status = 401)), security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let page = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let list = state
        .multimodal
        .list(&q.tenant_id, q.modality, q.state, &page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A request (another tenant's: 404).
#[utoipa::path(get, path = "/api/multimodal/requests/{id}", params(TenantQuery), responses((status = 200, body = MultimodalRequest), (status = 401), (status = 404, body = ErrorBody)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.multimodal.get(&q.tenant_id, &id).await?))
}

/// The result of the request's latest run (404 before any run).
#[utoipa::path(get, path = "/api/multimodal/requests/{id}/result", params(TenantQuery), responses((status = 200, body = MultimodalResult), (status = 401), (status = 404, body = ErrorBody)), security(("service_token" = [])))]
pub async fn result(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.multimodal.result(&q.tenant_id, &id).await?))
}

/// The bytes of a result's output artifact, with its media type.
#[utoipa::path(get, path = "/api/multimodal/results/{id}/download", params(TenantQuery), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 401), (status = 404, body = ErrorBody)), security(("service_token" = [])))]
pub async fn download(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let (data, content_type) = state.multimodal.download(&q.tenant_id, &id).await?;
    Ok(HttpResponse::Ok().content_type(content_type).body(data))
}

/// The tenant's policy (the defaults until an admin sets one).
#[utoipa::path(get, path = "/api/multimodal/policy", params(TenantQuery), responses((status = 200, body = MultimodalPolicy), (status = 401), (status = 422, body = ErrorBody)), security(("service_token" = [])))]
pub async fn policy(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.multimodal.policy(&q.tenant_id).await?))
}

/// Creates a request (payload `MultimodalRequestInput`) → `201`; runs it at once unless
/// `execute_now` is false. A broken policy rule is `400 policy_violation` naming the rule.
#[utoipa::path(post, path = "/api/multimodal/requests", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = MultimodalRequest), (status = 400, body = ErrorBody), (status = 403), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let multimodal = &state.multimodal;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::CREATE,
        |mut c| async move {
            let input: MultimodalRequestInput = serde_json::from_value(c.payload.take())
                .map_err(|e| RuntimeError::invalid("payload", e.to_string()))?;
            Ok((StatusCode::CREATED, multimodal.create(&c, input).await?))
        },
    )
    .await
}

/// Runs a pending request or retries a failed one (`→ processing`).
#[utoipa::path(post, path = "/api/multimodal/requests/{id}/execute", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = MultimodalRequest), (status = 403), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn execute(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let multimodal = &state.multimodal;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::EXECUTE,
        |c| async move { Ok((StatusCode::OK, multimodal.execute(&c, &id).await?)) },
    )
    .await
}

/// Cancels a pending or processing request (payload `CancelInput`, optional).
#[utoipa::path(post, path = "/api/multimodal/requests/{id}/cancel", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = MultimodalRequest), (status = 403), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let multimodal = &state.multimodal;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::CANCEL,
        |c| async move {
            let input: CancelInput = payload(&c)?;
            if input
                .reason
                .as_ref()
                .is_some_and(|r| r.chars().count() > 500)
            {
                return Err(RuntimeError::invalid(
                    "reason",
                    "must be at most 500 characters",
                ));
            }
            let tenant = &c.tenant_id;
            Ok((
                StatusCode::OK,
                multimodal
                    .cancel(tenant, &id, input.reason.as_deref())
                    .await?,
            ))
        },
    )
    .await
}

/// Replaces the tenant's policy (payload `MultimodalPolicy`; admins only, checked by the
/// experience gateway).
#[utoipa::path(put, path = "/api/multimodal/policy", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = MultimodalPolicy), (status = 403), (status = 422, body = ErrorBody)))]
pub async fn put_policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let multimodal = &state.multimodal;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::UPDATE_POLICY,
        |c| async move {
            let policy: MultimodalPolicy = payload(&c)?;
            Ok((StatusCode::OK, multimodal.put_policy(&c, policy).await?))
        },
    )
    .await
}
