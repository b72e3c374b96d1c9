//! Conversation history endpoints, read with a service token.

use actix_web::{web, HttpResponse};
use platform_sdk::agent_wire::{ConversationList, MessageList};
use platform_sdk::page::PageRequest;
use serde::Deserialize;

use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::sessions::service::check_id;
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

/// Owner selector and page (SPEC §7: `limit` 1..=200, default 50; `cursor` from the previous
/// page's `next_cursor`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OwnerQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// User.
    #[param(format = Uuid)]
    pub user_id: String,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl OwnerQuery {
    /// The page, once the owner ids are known to be well-formed (UUIDs, as documented).
    fn page(&self) -> Result<PageRequest, RuntimeError> {
        check_id("tenant_id", &self.tenant_id)?;
        check_id("user_id", &self.user_id)?;
        Ok(PageRequest::parse(
            self.limit.as_deref(),
            self.cursor.as_deref(),
        )?)
    }
}

/// One page of a user's conversations, most recently active first.
#[utoipa::path(get, path = "/api/conversations", params(OwnerQuery), responses((status = 200, body = ConversationList), (status = 401)), security(("service_token" = [])))]
pub async fn conversations(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<OwnerQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let page = q.page()?;
    let list = state
        .conversations
        .list(&q.tenant_id, &q.user_id, &page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One page of the messages of one of the user's conversations, newest first.
#[utoipa::path(get, path = "/api/conversations/{id}/messages", params(OwnerQuery), responses((status = 200, body = MessageList), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn messages(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<OwnerQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let page = q.page()?;
    let list = state
        .conversations
        .messages(&q.tenant_id, &q.user_id, &id, &page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
