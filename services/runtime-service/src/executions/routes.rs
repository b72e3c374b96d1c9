//! Execution endpoints (SPEC §3–§4): submit a turn, read it, cancel it, answer its safety hook
//! (by execution, or by hook id within a session). Mutations take signed intents; reads take a
//! service token. The event page and stream of an execution are in [`crate::events::routes`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::agent_wire::{ExecutionRecord, SafetyAnswer};
use platform_sdk::error::ErrorBody;
use platform_sdk::json::ApiJson;
use platform_sdk::runtime_client::actions;
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use super::control::HookHolder;
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::{answer, payload};
use crate::startup::AppState;

/// Mounts the execution endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let one = |path, handler| {
        platform_sdk::http::resource(path)
            .route(handler)
            .default_service(nope())
    };
    cfg.service(one("/api/intent/submit", web::post().to(submit)))
        .service(one("/api/execution/{id}", web::get().to(get_one)))
        .service(one("/api/execution/{id}/cancel", web::post().to(cancel)))
        .service(one("/api/execution/{id}/safety", web::post().to(safety)))
        .service(one(
            "/api/session/{session_id}/safety",
            web::post().to(session_safety),
        ));
}

/// Tenant selector of reads.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReadQuery {
    /// Tenant that owns the execution.
    #[param(format = Uuid)]
    pub tenant_id: String,
}

/// Starts an agent turn (`action: submit_intent`, payload `SubmitIntentPayload`). `Idempotency-Key`:
/// the same key and payload give the same execution, a different payload `409`. The runtime's
/// agent catalog resolves `agent_type`, `pillar` and `surface`: an unknown agent type or pillar
/// is `422` (`unknown_agent` / `unknown_pillar`) and nothing is written.
#[utoipa::path(post, path = "/api/intent/submit", request_body = SignedIntent, params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 202, body = ExecutionRecord), (status = 200, description = "idempotent repeat", body = ExecutionRecord), (status = 403), (status = 409),
              (status = 422, description = "validation_failed, unknown_agent or unknown_pillar", body = ErrorBody)))]
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
    answer(
        &state.gate,
        &intent,
        actions::SUBMIT_INTENT,
        |c| async move {
            let submitted = executions.submit(&c, payload(&c)?, key).await?;
            let status = match submitted.repeated {
                true => StatusCode::OK,
                false => StatusCode::ACCEPTED,
            };
            Ok((status, submitted.record))
        },
    )
    .await
}

/// An execution (service token).
#[utoipa::path(get, path = "/api/execution/{id}", params(("id" = uuid::Uuid, Path, description = "Execution id"), ReadQuery), responses((status = 200, body = ExecutionRecord), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ReadQuery>,
) -> Result<HttpResponse, RuntimeError> {
    Ok(HttpResponse::Ok().json(state.executions.get(&q.tenant_id, &id).await?))
}

/// Cancels an execution (`action: cancel_execution`).
#[utoipa::path(post, path = "/api/execution/{id}/cancel", request_body = SignedIntent, responses((status = 200, body = ExecutionRecord), (status = 403), (status = 404), (status = 409)))]
pub async fn cancel(
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let executions = &state.executions;
    answer(
        &state.gate,
        &intent,
        actions::CANCEL_EXECUTION,
        |c| async move { Ok((StatusCode::OK, executions.cancel(&c, &id).await?)) },
    )
    .await
}

/// Runs a safety answer (`action: answer_safety`, payload `SafetyAnswer`) through the gate.
async fn answer_hook(
    state: &AppState,
    intent: &SignedIntent,
    holder: HookHolder<'_>,
) -> Result<HttpResponse, RuntimeError> {
    let executions = &state.executions;
    answer(
        &state.gate,
        intent,
        actions::ANSWER_SAFETY,
        |c| async move {
            let answer: SafetyAnswer = payload(&c)?;
            let record = executions.answer_safety(&c, holder, answer).await?;
            Ok((StatusCode::OK, record))
        },
    )
    .await
}

/// Answers the pending safety hook (`action: answer_safety`, payload `SafetyAnswer`).
#[utoipa::path(post, path = "/api/execution/{id}/safety", request_body = SignedIntent, responses((status = 200, body = ExecutionRecord), (status = 403), (status = 404), (status = 409)))]
pub async fn safety(
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    answer_hook(&state, &intent, HookHolder::Execution(&id)).await
}

/// Answers a pending safety hook by its id, in whichever running execution of the session holds
/// it (`action: answer_safety`, payload `SafetyAnswer`); no such hook → `404 unknown_hook`.
#[utoipa::path(post, path = "/api/session/{session_id}/safety", request_body = SignedIntent, responses((status = 200, body = ExecutionRecord), (status = 403), (status = 404, description = "unknown_hook"), (status = 409)))]
pub async fn session_safety(
    state: web::Data<AppState>,
    session_id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    answer_hook(&state, &intent, HookHolder::Session(&session_id)).await
}
