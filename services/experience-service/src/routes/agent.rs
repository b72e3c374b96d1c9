//! `GET /api/runtime/agent` — the agent WebSocket (SPEC §4). Every check happens before the
//! upgrade, so a refused client gets a plain HTTP error with the error body: bad or expired token
//! → 401; session missing, ended or not the token's user → 403; runtime unreachable → 503.

use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::runtime_client::RuntimeClientError;
use platform_sdk::wire::SessionStatus;
use serde::Deserialize;

use crate::agent::connection::{serve, Context};
use crate::agent::sockets::Sockets;
use crate::configuration::WsSettings;
use crate::error::ApiError;
use crate::extractors::{authenticate, bearer, CallerInfo};
use crate::identity::Identity;

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
    sockets: web::Data<Sockets>,
    settings: web::Data<WsSettings>,
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
    let session_id = query
        .session_id
        .clone()
        .unwrap_or_else(|| claims.sid.clone());
    if uuid::Uuid::parse_str(&session_id).is_err() {
        return Err(ApiError::Forbidden("this session cannot be used"));
    }
    match identity
        .runtime()
        .get_session(&caller.0.request_id, &claims.tid, &session_id)
        .await
    {
        Ok(s)
            if s.status == SessionStatus::Active
                && s.user_id.as_deref() == Some(claims.sub.as_str()) => {}
        Ok(_) => return Err(ApiError::Forbidden("this session cannot be used")),
        Err(e) if e.is_not_found() => {
            return Err(ApiError::Forbidden("this session cannot be used"))
        }
        Err(RuntimeClientError::Unavailable(_)) => return Err(ApiError::RuntimeUnavailable),
        Err(e) => return Err(e.into()),
    }
    let (response, session, messages) = actix_ws::handle(&req, body)
        .map_err(|_| ApiError::invalid("upgrade", "this endpoint only speaks WebSocket"))?;
    let (closes, registration) = sockets.register(&session_id);
    let ctx = Context {
        runtime: identity.runtime().clone(),
        tenant_id: claims.tid.clone(),
        user_id: claims.sub.clone(),
        session_id,
        request_id: caller.0.request_id.clone(),
        settings: settings.get_ref().clone(),
        resume_from: query.last_event_id.filter(|n| *n >= 0),
    };
    actix_web::rt::spawn(serve(ctx, session, messages, closes, registration));
    Ok(response)
}
