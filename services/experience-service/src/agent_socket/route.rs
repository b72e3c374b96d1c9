//! `GET /api/runtime/agent` — the agent WebSocket (SPEC §4). Every check happens before the
//! upgrade, so a refused client gets a plain HTTP error with the error body: bad or expired token
//! → 401; session missing, ended or not the token's user → 403; runtime unreachable → 503.

use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::http::bearer;
use platform_sdk::runtime_client::RuntimeClient;
use serde::Deserialize;

use super::connection::{serve, Context};
use super::sockets::Sockets;
use crate::error::ApiError;
use crate::extractors::{authenticate, CallerInfo};
use crate::identity::Identity;
use crate::sessions::Sessions;

/// Mounts the socket.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        platform_sdk::http::resource("/api/runtime/agent")
            .route(web::get().to(connect))
            .default_service(web::to(platform_sdk::http::method_not_allowed)),
    );
}

/// Connection parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ConnectQuery {
    /// Access token (or `Authorization: Bearer`).
    pub access_token: Option<String>,
    /// Legacy alias of `access_token`.
    pub session_token: Option<String>,
    /// Session to attach to (default: the token's `sid`).
    pub session_id: Option<String>,
    /// Resume after this event id.
    pub last_event_id: Option<i64>,
}

/// Authenticates, checks the session, upgrades.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    identity: web::Data<Identity>,
    sessions: web::Data<Sessions>,
    runtime: web::Data<RuntimeClient>,
    sockets: web::Data<Sockets>,
    caller: CallerInfo,
) -> Result<HttpResponse, ApiError> {
    let query = web::Query::<ConnectQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let token = query
        .access_token
        .as_deref()
        .or(query.session_token.as_deref())
        .or_else(|| bearer(&req))
        .ok_or(ApiError::Unauthenticated)?;
    let claims = authenticate(&identity, token)?;
    let session_id = query.session_id.unwrap_or_else(|| claims.sid.clone());
    sessions
        .check_socket(&caller.0, &claims, &session_id)
        .await?;
    let (response, session, messages) = actix_ws::handle(&req, body)
        .map_err(|_| ApiError::invalid("upgrade", "this endpoint only speaks WebSocket"))?;
    let (closes, registration) = sockets.register(&session_id);
    let ctx = Context {
        runtime: runtime.into_inner(),
        tenant_id: claims.tid.clone(),
        user_id: claims.sub.clone(),
        session_id,
        request_id: caller.0.request_id.clone(),
        settings: sockets.settings().clone(),
        resume_from: query.last_event_id.filter(|n| *n >= 0),
    };
    actix_web::rt::spawn(serve(ctx, session, messages, closes, registration));
    Ok(response)
}
