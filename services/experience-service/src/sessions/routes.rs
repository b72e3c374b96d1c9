//! `/api/session/*` on the experience plane: anonymous sessions (created and read by id without
//! a token), reading one's own sessions (through the runtime, tenant- and user-checked), and the
//! upgrade of an anonymous session at login (SPEC §3 "Experience session routes").

use actix_web::{web, FromRequest as _, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::http::bearer;
use platform_sdk::json::MaybeJson;
use platform_sdk::wire::{AnonymousSession, SessionRecord};
use serde::Deserialize;
use utoipa::ToSchema;

use super::Sessions;
use crate::error::ApiError;
use crate::extractors::{scopes::SessionsRead, AuthUser, CallerInfo, RequireScope};

/// Mounts the session endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
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
        platform_sdk::http::resource("/api/session/{id}")
            .route(web::get().to(get_one))
            .default_service(nope()),
    );
}

/// Creates an anonymous session (guide agent only).
#[utoipa::path(post, path = "/api/session/create-anonymous", responses((status = 201, body = AnonymousSession), (status = 429), (status = 503)))]
pub async fn create_anonymous(
    sessions: web::Data<Sessions>,
    caller: CallerInfo,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(sessions.create_anonymous(&caller.0).await?))
}

/// A session: with a bearer token, one of the caller's own (others `404`); without one, an
/// anonymous session by its id (a user's session, or an unknown id, `401`).
#[utoipa::path(get, path = "/api/session/{id}",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, body = SessionRecord),
        (status = 401, body = ErrorBody, description = "invalid token, or no token for a session that is not anonymous"),
        (status = 403, body = ErrorBody, description = "missing_scope (`sessions:read`)"),
        (status = 404, body = ErrorBody, description = "not the caller's session"),
        (status = 503, body = ErrorBody, description = "runtime_unavailable"),
    ),
    security((), ("bearer" = [])))]
pub async fn get_one(
    req: HttpRequest,
    sessions: web::Data<Sessions>,
    caller: CallerInfo,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = match bearer(&req) {
        None => sessions.anonymous(&caller.0, &id).await?,
        Some(_) => {
            let auth = RequireScope::<SessionsRead>::extract(&req).await?;
            sessions.own(&caller.0, &auth.user.0, &id).await?
        }
    };
    Ok(HttpResponse::Ok().json(record))
}

/// Body of `PATCH /api/session/{id}/upgrade`. The fields the web frontend sends are accepted
/// and ignored: the user and tenant always come from the access token.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpgradeRequest {
    /// Ignored (the token's user is used).
    #[serde(default)]
    pub user_id: Option<serde_json::Value>,
    /// Ignored (the token's tenant is used).
    #[serde(default)]
    pub tenant_id: Option<serde_json::Value>,
}

/// Attaches the caller to an anonymous session (the session-first flow at login); answers the
/// session, same `session_id`. A retry answers the upgraded session again.
#[utoipa::path(patch, path = "/api/session/{id}/upgrade",
    params(("id" = String, Path, description = "The anonymous session's id")),
    request_body(content = Option<UpgradeRequest>, description = "optional; its fields are ignored"),
    responses(
        (status = 200, body = SessionRecord),
        (status = 400, body = ErrorBody, description = "malformed_json"),
        (status = 401, body = ErrorBody, description = "unauthenticated"),
        (status = 404, body = ErrorBody, description = "no such anonymous session (or upgraded by someone else)"),
        (status = 409, body = ErrorBody, description = "the session has ended"),
        (status = 413, body = ErrorBody, description = "payload_too_large"),
        (status = 415, body = ErrorBody, description = "unsupported_media_type"),
        (status = 422, body = ErrorBody, description = "validation_failed"),
        (status = 503, body = ErrorBody, description = "runtime_unavailable"),
    ),
    security(("bearer" = [])))]
pub async fn upgrade(
    _body: MaybeJson<Option<UpgradeRequest>>,
    sessions: web::Data<Sessions>,
    caller: CallerInfo,
    auth: AuthUser,
    id: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    let record = sessions.upgrade(&caller.0, &auth.0, &id).await?;
    Ok(HttpResponse::Ok().json(record))
}
