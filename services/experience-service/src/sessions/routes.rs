//! `/api/session/*` on the experience plane: anonymous sessions (public) and reading one's own
//! sessions (through the runtime, tenant- and user-checked).

use actix_web::{web, HttpResponse};
use platform_sdk::wire::{AnonymousSession, SessionRecord};

use super::Sessions;
use crate::error::ApiError;
use crate::extractors::{scopes::SessionsRead, CallerInfo, RequireScope};

/// Mounts the session endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/session/create-anonymous")
            .route(web::post().to(create_anonymous))
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

/// One of the caller's own sessions.
#[utoipa::path(get, path = "/api/session/{id}", responses((status = 200, body = SessionRecord), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn get_one(
    sessions: web::Data<Sessions>,
    caller: CallerInfo,
    auth: RequireScope<SessionsRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sessions.own(&caller.0, &auth.user.0, &id).await?))
}
