//! `/api/auth/*` (SPEC §2). Handlers only extract, call one identity flow and shape the answer.

use actix_web::{web, HttpResponse};
use platform_sdk::json::{ApiJson, MaybeJson};
use platform_sdk::wire::{
    LoginRequest, LoginResponse, LogoutRequest, MeResponse, MeUser, MySessions, RefreshRequest,
    RegisterRequest, TenantView,
};

use super::Identity;
use crate::error::ApiError;
use crate::extractors::{scopes::SessionsRead, AuthUser, CallerInfo, LogoutCaller, RequireScope};
use crate::sessions::Sessions;

/// Mounts the identity endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/auth/register")
            .route(web::post().to(register))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/auth/login")
            .route(web::post().to(login))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/auth/refresh")
            .route(web::post().to(refresh))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/auth/logout")
            .route(web::post().to(logout))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/auth/me")
            .route(web::get().to(me))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/auth/sessions")
            .route(web::get().to(sessions))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/auth/sessions/{id}")
            .route(web::delete().to(end_session))
            .default_service(nope()),
    );
}

/// Registers a user and their tenant, and logs them in.
#[utoipa::path(post, path = "/api/auth/register", request_body = RegisterRequest, responses(
    (status = 201, body = LoginResponse),
    (status = 400, body = platform_sdk::error::ErrorBody, description = "invalid_invitation | malformed_json"),
    (status = 403, body = platform_sdk::error::ErrorBody, description = "invitation_email_mismatch"),
    (status = 409, body = platform_sdk::error::ErrorBody, description = "email_taken | invitation_used"),
    (status = 410, body = platform_sdk::error::ErrorBody, description = "invitation_expired"),
    (status = 422, description = "validation_failed"), (status = 429, description = "rate_limited"),
    (status = 503, description = "runtime_unavailable")))]
pub async fn register(
    identity: web::Data<Identity>,
    caller: CallerInfo,
    body: ApiJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let response = identity.register(&caller.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(response))
}

/// Logs in and creates a runtime session.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials"),
    (status = 429, description = "rate_limited"), (status = 503, description = "runtime_unavailable")))]
pub async fn login(
    identity: web::Data<Identity>,
    caller: CallerInfo,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let response = identity.login(&caller.0, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(response))
}

/// Rotates a refresh token.
#[utoipa::path(post, path = "/api/auth/refresh", request_body = RefreshRequest, responses(
    (status = 200, body = LoginResponse), (status = 401, description = "invalid_refresh_token | refresh_token_reused")))]
pub async fn refresh(
    identity: web::Data<Identity>,
    caller: CallerInfo,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let response = identity.refresh(&caller.0, &body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(response))
}

/// Ends the current session (or all of them). Idempotent; the body is optional.
#[utoipa::path(post, path = "/api/auth/logout", request_body = Option<LogoutRequest>, responses((status = 204), (status = 401)),
    security(("bearer" = [])))]
pub async fn logout(
    identity: web::Data<Identity>,
    caller: CallerInfo,
    user: LogoutCaller,
    body: MaybeJson<LogoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let all = body.0.is_some_and(|b| b.all_sessions);
    if !user.already_ended || all {
        identity.logout(&caller.0, &user.claims, all).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/auth/me`, serialised from the cached profile and the token without copying either.
#[derive(serde::Serialize)]
struct MeView<'a> {
    user: &'a MeUser,
    tenant: &'a TenantView,
    roles: &'a [String],
    #[serde(serialize_with = "scopes_of")]
    scopes: &'a str,
    session_id: &'a str,
}

fn scopes_of<S: serde::Serializer>(claim: &&str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(claim.split_whitespace())
}

/// The caller's user, tenant, roles, scopes and session.
#[utoipa::path(get, path = "/api/auth/me", responses((status = 200, body = MeResponse), (status = 401)), security(("bearer" = [])))]
pub async fn me(identity: web::Data<Identity>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let claims = &user.0;
    let profile = identity.profile(claims).await?;
    Ok(HttpResponse::Ok().json(MeView {
        user: &profile.user,
        tenant: &profile.tenant,
        roles: &claims.roles,
        scopes: &claims.scope,
        session_id: &claims.sid,
    }))
}

/// The caller's active sessions.
#[utoipa::path(get, path = "/api/auth/sessions", responses((status = 200, body = MySessions), (status = 401)), security(("bearer" = [])))]
pub async fn sessions(
    sessions: web::Data<Sessions>,
    caller: CallerInfo,
    auth: RequireScope<SessionsRead>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sessions.list(&caller.0, &auth.user.0).await?))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", responses((status = 204), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn end_session(
    identity: web::Data<Identity>,
    caller: CallerInfo,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    identity.end_session(&caller.0, &user.0, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
