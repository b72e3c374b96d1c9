//! Conversation history endpoints, read with a service token.

use actix_web::{web, HttpResponse};
use platform_sdk::agent_wire::{ConversationList, MessageList};
use serde::Deserialize;

use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/conversations")
            .route(web::get().to(conversations))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/conversations/{id}/messages")
            .route(web::get().to(messages))
            .default_service(nope()),
    );
}

/// Owner selector.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OwnerQuery {
    /// Tenant.
    pub tenant_id: String,
    /// User.
    pub user_id: String,
}

/// A user's conversations, newest first.
#[utoipa::path(get, path = "/api/conversations", params(OwnerQuery), responses((status = 200, body = ConversationList), (status = 401)), security(("service_token" = [])))]
pub async fn conversations(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<OwnerQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let conversations = state.conversations.list(&q.tenant_id, &q.user_id).await?;
    Ok(HttpResponse::Ok().json(ConversationList { conversations }))
}

/// Messages of one of the user's conversations, oldest first.
#[utoipa::path(get, path = "/api/conversations/{id}/messages", params(OwnerQuery), responses((status = 200, body = MessageList), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn messages(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<OwnerQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let messages = state
        .conversations
        .messages(&q.tenant_id, &q.user_id, &id)
        .await?;
    Ok(HttpResponse::Ok().json(MessageList { messages }))
}
