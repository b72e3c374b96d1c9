//! Execution endpoints (SPEC §3–§4): submit a turn, read it, its events (page or SSE), cancel it,
//! answer its safety hook. Mutations take signed intents; reads take a service token.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::agent_wire::{EventPage, ExecutionRecord, SafetyAnswer, SubmitIntentPayload};
use platform_sdk::json::ApiJson;
use platform_sdk::runtime_client::actions;
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use super::streams::{last_event_id, sse, StreamScope};
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::startup::AppState;
use crate::storage;

/// Mounts the execution endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/intent/submit")
            .route(web::post().to(submit))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/execution/{id}")
            .route(web::get().to(get_one))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/execution/{id}/events")
            .route(web::get().to(events))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/execution/{id}/stream")
            .route(web::get().to(stream))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/execution/{id}/cancel")
            .route(web::post().to(cancel))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/execution/{id}/safety")
            .route(web::post().to(safety))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/session/{session_id}/safety")
            .route(web::post().to(session_safety))
            .default_service(nope()),
    );
}

/// Tenant selector of reads, with an optional cursor.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReadQuery {
    /// Tenant that owns the execution.
    pub tenant_id: String,
    /// Only events with a larger id.
    #[serde(default)]
    pub after: Option<i64>,
}

fn payload<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, RuntimeError> {
    serde_json::from_value(value.clone()).map_err(|e| RuntimeError::Validation {
        field: "payload",
        message: e.to_string(),
    })
}

/// Starts an agent turn (`action: submit_intent`, payload `SubmitIntentPayload`). `Idempotency-Key`:
/// the same key and payload give the same execution, a different payload `409`.
#[utoipa::path(post, path = "/api/intent/submit", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 202, body = ExecutionRecord), (status = 200, description = "idempotent repeat", body = ExecutionRecord), (status = 403), (status = 409)))]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let executions = &state.executions;
    state
        .gate
        .execute(&intent, actions::SUBMIT_INTENT, |c| async move {
            let body: SubmitIntentPayload = payload(&c.payload)?;
            executions.submit(&c, body, key).await
        })
        .await
}

/// An execution (service token).
#[utoipa::path(get, path = "/api/execution/{id}", params(ReadQuery), responses((status = 200, body = ExecutionRecord), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ReadQuery>,
) -> Result<HttpResponse, RuntimeError> {
    Ok(HttpResponse::Ok().json(state.executions.get(&q.tenant_id, &id).await?))
}

/// The durable events of an execution after `after` (service token).
#[utoipa::path(get, path = "/api/execution/{id}/events", params(ReadQuery), responses((status = 200, body = EventPage), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn events(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ReadQuery>,
) -> Result<HttpResponse, RuntimeError> {
    state.executions.get(&q.tenant_id, &id).await?;
    let events =
        storage::events::of_execution(&state.pool, &q.tenant_id, &id, q.after.unwrap_or(0)).await?;
    Ok(HttpResponse::Ok().json(EventPage { events }))
}

/// Live events of an execution as server-sent events, resumable with `Last-Event-ID`; the stream
/// ends after the execution's final event (service token).
#[utoipa::path(get, path = "/api/execution/{id}/stream", params(ReadQuery), responses((status = 200, description = "text/event-stream"), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn stream(
    _: ServiceCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ReadQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let record = state.executions.get(&q.tenant_id, &id).await?;
    let after = last_event_id(&req).or(q.after).unwrap_or(0);
    Ok(sse(
        &state,
        &record.tenant_id,
        &record.session_id,
        after.max(0),
        StreamScope::Execution(record.execution_id),
    )
    .await?)
}

/// Cancels an execution (`action: cancel_execution`).
#[utoipa::path(post, path = "/api/execution/{id}/cancel", request_body = SignedIntent, responses((status = 200, body = ExecutionRecord), (status = 403), (status = 404), (status = 409)))]
pub async fn cancel(
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let executions = &state.executions;
    state
        .gate
        .execute(&intent, actions::CANCEL_EXECUTION, |c| async move {
            Ok((StatusCode::OK, executions.cancel(&c, &id).await?))
        })
        .await
}

/// Answers the pending safety hook (`action: answer_safety`, payload `SafetyAnswer`).
#[utoipa::path(post, path = "/api/execution/{id}/safety", request_body = SignedIntent, responses((status = 200, body = ExecutionRecord), (status = 403), (status = 404), (status = 409)))]
pub async fn safety(
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let executions = &state.executions;
    state
        .gate
        .execute(&intent, actions::ANSWER_SAFETY, |c| async move {
            let answer: SafetyAnswer = payload(&c.payload)?;
            Ok((
                StatusCode::OK,
                executions.answer_safety(&c, &id, answer).await?,
            ))
        })
        .await
}

/// Answers a pending safety hook by its id, in whichever running execution of the session holds
/// it (`action: answer_safety`, payload `SafetyAnswer`); no such hook → `404 unknown_hook`.
#[utoipa::path(post, path = "/api/session/{session_id}/safety", request_body = SignedIntent, responses((status = 200, body = ExecutionRecord), (status = 403), (status = 404, description = "unknown_hook"), (status = 409)))]
pub async fn session_safety(
    state: web::Data<AppState>,
    session_id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let executions = &state.executions;
    state
        .gate
        .execute(&intent, actions::ANSWER_SAFETY, |c| async move {
            let answer: SafetyAnswer = payload(&c.payload)?;
            Ok((
                StatusCode::OK,
                executions
                    .answer_safety_in_session(&c, &session_id, answer)
                    .await?,
            ))
        })
        .await
}
