//! Session endpoints (SPEC §3). Mutations take a signed intent and run through the
//! [`IntentGate`](crate::intents::IntentGate); reads need a service token. Each handler calls one
//! [`Sessions`](super::Sessions) rule.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use platform_sdk::json::ApiJson;
use platform_sdk::runtime_client::{actions, ANONYMOUS_TENANT};
use platform_sdk::traffic_cop::SignedIntent;
use platform_sdk::wire::{
    SessionList, SessionRecord, ValidateSessionRequest, ValidateSessionResponse,
};
use serde::Deserialize;

use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::answer;
use crate::startup::AppState;

/// Mounts the session endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/session/create")
            .route(web::post().to(create))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/session/create-anonymous")
            .route(web::post().to(create_anonymous))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/session/{id}/upgrade")
            .route(web::patch().to(upgrade))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/session/{id}/validate")
            .route(web::post().to(validate))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/session/{id}")
            .route(web::get().to(get_one))
            .route(web::delete().to(end))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/sessions")
            .route(web::get().to(list))
            .default_service(nope()),
    );
}

/// Tenant selector of reads (the wrappers and profiles reads use it too).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TenantQuery {
    /// Tenant that owns the resource.
    #[param(format = Uuid)]
    pub tenant_id: String,
}

/// Selector of the list endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// User.
    #[param(format = Uuid)]
    pub user_id: String,
}

/// Creates a user session (`action: create_session`).
#[utoipa::path(post, path = "/api/session/create", request_body = SignedIntent,
    responses((status = 201, body = SessionRecord), (status = 403, description = "invalid_intent")))]
pub async fn create(
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let sessions = &state.sessions;
    answer(
        &state.gate,
        &intent,
        actions::CREATE_SESSION,
        |c| async move { Ok((StatusCode::CREATED, sessions.create(&c).await?)) },
    )
    .await
}

/// Creates an anonymous session (`action: create_anonymous_session`).
#[utoipa::path(post, path = "/api/session/create-anonymous", request_body = SignedIntent,
    responses((status = 201, body = SessionRecord), (status = 403, description = "invalid_intent")))]
pub async fn create_anonymous(
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let sessions = &state.sessions;
    answer(
        &state.gate,
        &intent,
        actions::CREATE_ANONYMOUS_SESSION,
        |c| async move { Ok((StatusCode::CREATED, sessions.create_anonymous(&c).await?)) },
    )
    .await
}

/// Attaches a user to an anonymous session (`action: upgrade_session`).
#[utoipa::path(patch, path = "/api/session/{id}/upgrade", request_body = SignedIntent,
    responses((status = 200, body = SessionRecord), (status = 403, description = "invalid_intent"), (status = 404)))]
pub async fn upgrade(
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let (sessions, events) = (&state.sessions, &state.events);
    answer(
        &state.gate,
        &intent,
        actions::UPGRADE_SESSION,
        |c| async move {
            let upgraded = sessions.upgrade(&id, &c).await?;
            // The anonymous history goes with the session; anonymous followers are let go.
            events
                .move_session(&upgraded.session_id, ANONYMOUS_TENANT, &upgraded.tenant_id)
                .await?;
            Ok((StatusCode::OK, upgraded))
        },
    )
    .await
}

/// Ends a session (`action: end_session`).
#[utoipa::path(delete, path = "/api/session/{id}", request_body = SignedIntent,
    responses((status = 200, body = SessionRecord), (status = 403, description = "invalid_intent"), (status = 404)))]
pub async fn end(
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let sessions = &state.sessions;
    answer(&state.gate, &intent, actions::END_SESSION, |c| async move {
        Ok((StatusCode::OK, sessions.end(&id, &c).await?))
    })
    .await
}

/// Reads a session of a tenant (service token).
#[utoipa::path(get, path = "/api/session/{id}", params(("id" = uuid::Uuid, Path, description = "Session id"), TenantQuery),
    responses((status = 200, body = SessionRecord), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    Ok(HttpResponse::Ok().json(state.sessions.get(&q.tenant_id, &id).await?))
}

/// Validates a session for a user and slides its idle TTL (service token).
#[utoipa::path(post, path = "/api/session/{id}/validate", request_body = ValidateSessionRequest,
    responses((status = 200, body = ValidateSessionResponse), (status = 401)), security(("service_token" = [])))]
pub async fn validate(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: ApiJson<ValidateSessionRequest>,
) -> Result<HttpResponse, RuntimeError> {
    let answer = state
        .sessions
        .validate(&body.tenant_id, &body.user_id, &id)
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Lists a user's active sessions (service token).
#[utoipa::path(get, path = "/api/sessions", params(UserQuery),
    responses((status = 200, body = SessionList), (status = 401)), security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<UserQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let sessions = state.sessions.list(&q.tenant_id, &q.user_id).await?;
    Ok(HttpResponse::Ok().json(SessionList { sessions }))
}
