//! Multi-agent endpoints (SPEC §12). Mutations take signed intents (through the gate, with the
//! client's `Idempotency-Key`, audited); reads take a service token and the caller's
//! `tenant_id`. `POST …/persist` also reads `If-Match` (forwarded by the experience gateway).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::json::ApiJson;
use platform_sdk::multi_agent_wire::{
    actions, ContextAgents, ContextHistory, ContextList, ContextMetrics, ContextRecord,
    ContextState, MessageSent, PersistState,
};
use platform_sdk::page::PageRequest;
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use super::figures::HistoryFilter;
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::answer_keyed;
use crate::profiles::input::body;
use crate::sessions::routes::TenantQuery;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let at = |path| platform_sdk::http::resource(path).default_service(nope());
    cfg.service(at("/api/multi_agent/context").route(web::post().to(create)))
        .service(at("/api/multi_agent/contexts").route(web::get().to(list)))
        .service(
            at("/api/multi_agent/context/{id}")
                .route(web::get().to(get_one))
                .route(web::put().to(update))
                .route(web::delete().to(terminate)),
        )
        .service(at("/api/multi_agent/message").route(web::post().to(send)))
        .service(at("/api/multi_agent/context/{id}/history").route(web::get().to(history)))
        .service(at("/api/multi_agent/context/{id}/metrics").route(web::get().to(metrics)))
        .service(at("/api/multi_agent/context/{id}/agents").route(web::get().to(agents)))
        .service(at("/api/multi_agent/context/{id}/persist").route(web::post().to(persist)))
        .service(at("/api/multi_agent/context/{id}/state").route(web::get().to(state_of)));
}

/// Tenant, page and filter of the context list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ContextQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Only contexts in this state.
    #[param(pattern = "^(active|paused|terminated)$")]
    pub status: Option<String>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Tenant and filters of a context's history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Only messages from this agent.
    pub from_agent_id: Option<String>,
    /// Only messages of this type.
    pub message_type: Option<String>,
    /// Only messages at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// At most this many (the newest), 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

impl HistoryQuery {
    fn filter(&self) -> Result<HistoryFilter, RuntimeError> {
        let page = PageRequest::parse(self.limit.as_deref(), None)?;
        let since = match self.since.as_deref() {
            None => None,
            Some(s) => Some(platform_sdk::time_util::parse_rfc3339_ms(s).ok_or(
                RuntimeError::InvalidQuery {
                    parameter: "since",
                    message: "must be an RFC 3339 timestamp",
                },
            )?),
        };
        Ok(HistoryFilter {
            from_agent_id: self.from_agent_id.clone(),
            message_type: self.message_type.clone(),
            since,
            limit: page.limit as usize,
        })
    }
}

/// Creates a context (`action: create_multi_agent_context`, payload `CreateContext`).
#[utoipa::path(post, path = "/api/multi_agent/context", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = ContextRecord), (status = 403), (status = 409), (status = 422)))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let ma = &state.multi_agent;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::CREATE_CONTEXT,
        |c| async move { Ok((StatusCode::CREATED, ma.create(&c, body(&c)?).await?)) },
    )
    .await
}

/// One page of the tenant's contexts, newest first (filter `status`).
#[utoipa::path(get, path = "/api/multi_agent/contexts", params(ContextQuery),
    responses((status = 200, body = ContextList), (status = 400), (status = 401)), security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<ContextQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let page = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let status = q.status.as_deref();
    if status.is_some_and(|s| !matches!(s, "active" | "paused" | "terminated")) {
        return Err(RuntimeError::InvalidQuery {
            parameter: "status",
            message: "must be active, paused or terminated",
        });
    }
    let list = state.multi_agent.list(&q.tenant_id, status, &page).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One of the tenant's contexts.
#[utoipa::path(get, path = "/api/multi_agent/context/{id}", params(("id" = String, Path, description = "Context id"), TenantQuery),
    responses((status = 200, body = ContextRecord), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.multi_agent.get(&q.tenant_id, &id).await?))
}

/// Changes name, policies, metadata or status (`active` / `paused`)
/// (`action: update_multi_agent_context`, payload `UpdateContext`).
#[utoipa::path(put, path = "/api/multi_agent/context/{id}", request_body = SignedIntent,
    params(("id" = String, Path, description = "Context id"), ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = ContextRecord), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let ma = &state.multi_agent;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::UPDATE_CONTEXT,
        |c| async move { Ok((StatusCode::OK, ma.update(&c, &id, body(&c)?).await?)) },
    )
    .await
}

/// Terminates a context → `204` (`action: terminate_multi_agent_context`); terminal.
#[utoipa::path(delete, path = "/api/multi_agent/context/{id}", request_body = SignedIntent,
    params(("id" = String, Path, description = "Context id"), ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn terminate(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let ma = &state.multi_agent;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::TERMINATE_CONTEXT,
        |c| async move {
            ma.terminate(&c, &id).await?;
            Ok((StatusCode::NO_CONTENT, ()))
        },
    )
    .await
}

/// Sends a governed message (`action: send_multi_agent_message`, payload `SendMessage`) → `201`
/// even when blocked; with `require_response` it answers once every recipient has answered.
#[utoipa::path(post, path = "/api/multi_agent/message", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = MessageSent), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let ma = &state.multi_agent;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::SEND_MESSAGE,
        |c| async move { Ok((StatusCode::CREATED, ma.send(&c, body(&c)?).await?)) },
    )
    .await
}

/// The context's messages, oldest first (filters `from_agent_id`, `message_type`, `since`,
/// `limit`: the newest that many).
#[utoipa::path(get, path = "/api/multi_agent/context/{id}/history", params(("id" = String, Path, description = "Context id"), HistoryQuery),
    responses((status = 200, body = ContextHistory), (status = 400), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn history(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let filter = q.filter()?;
    let history = state
        .multi_agent
        .history(&q.tenant_id, &id, &filter)
        .await?;
    Ok(HttpResponse::Ok().json(history))
}

/// The context's figures, from its stored messages.
#[utoipa::path(get, path = "/api/multi_agent/context/{id}/metrics", params(("id" = String, Path, description = "Context id"), TenantQuery),
    responses((status = 200, body = ContextMetrics), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn metrics(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.multi_agent.metrics(&q.tenant_id, &id).await?))
}

/// The context's agents with their figures and trust.
#[utoipa::path(get, path = "/api/multi_agent/context/{id}/agents", params(("id" = String, Path, description = "Context id"), TenantQuery),
    responses((status = 200, body = ContextAgents), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn agents(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.multi_agent.agents(&q.tenant_id, &id).await?))
}

/// Persists state (`action: persist_multi_agent_state`, payload `PersistState`): `If-Match:
/// <version>` must name the current version (`412` otherwise); without it the write is
/// unconditional.
#[utoipa::path(post, path = "/api/multi_agent/context/{id}/persist", request_body = SignedIntent,
    params(("id" = String, Path, description = "Context id"),
           ("If-Match" = Option<String>, Header, description = "the state version this write expects"),
           ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = ContextState), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
pub async fn persist(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let ma = &state.multi_agent;
    let if_match = req
        .headers()
        .get("if-match")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::PERSIST_STATE,
        |c| async move {
            let request: PersistState = body(&c)?;
            let saved = ma.persist(&c, &id, request, if_match.as_deref()).await?;
            Ok((StatusCode::OK, saved))
        },
    )
    .await
}

/// The context's persisted state.
#[utoipa::path(get, path = "/api/multi_agent/context/{id}/state", params(("id" = String, Path, description = "Context id"), TenantQuery),
    responses((status = 200, body = ContextState), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn state_of(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.multi_agent.state(&q.tenant_id, &id).await?))
}
