//! Conversation history (SPEC §4): the caller's own conversations and their messages, read from
//! the runtime for the caller's tenant and user only.

use actix_web::{web, HttpResponse};
use platform_sdk::agent_wire::{ConversationList, MessageList};

use crate::error::ApiError;
use crate::extractors::{scopes::AgentsRead, CallerInfo, RequireScope};
use crate::identity::Identity;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/conversations")
            .route(web::get().to(list))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/conversations/{id}/messages")
            .route(web::get().to(messages))
            .default_service(nope()),
    );
}

/// The caller's conversations, newest first.
#[utoipa::path(get, path = "/api/conversations", responses((status = 200, body = ConversationList), (status = 401)), security(("bearer" = [])))]
pub async fn list(
    identity: web::Data<Identity>,
    caller: CallerInfo,
    auth: RequireScope<AgentsRead>,
) -> Result<HttpResponse, ApiError> {
    let claims = &auth.user.0;
    let list = identity
        .runtime()
        .conversations(&caller.0.request_id, &claims.tid, &claims.sub)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Messages of one of the caller's conversations, oldest first (another user's: 404).
#[utoipa::path(get, path = "/api/conversations/{id}/messages", responses((status = 200, body = MessageList), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn messages(
    identity: web::Data<Identity>,
    caller: CallerInfo,
    auth: RequireScope<AgentsRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let claims = &auth.user.0;
    let list = identity
        .runtime()
        .messages(&caller.0.request_id, &claims.tid, &claims.sub, &id)
        .await
        .map_err(|e| {
            if e.is_not_found() {
                ApiError::NotFound("conversation")
            } else {
                e.into()
            }
        })?;
    Ok(HttpResponse::Ok().json(list))
}
