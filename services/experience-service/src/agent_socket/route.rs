//! `GET /api/runtime/agent` — the agent WebSocket (SPEC §4). Every check happens before the
//! upgrade, so a refused client gets a plain HTTP error with the error body: a malformed or
//! repeated query parameter → 400 naming it; bad or expired token → 401; session missing, ended
//! or not the token's user → 403; too many sockets on the session or of the user → 429; runtime
//! unreachable → 503.
//!
//! Without any token, `?session_id=` of an *anonymous* session opens a guide-only socket (SPEC §3,
//! the session-first flow): the unguessable id is the capability, as for `GET /api/session/{id}`.
//! Any other session without a token → 401.

use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::http::bearer;
use platform_sdk::runtime_client::ANONYMOUS_TENANT;

use super::connection::{serve, Context, Opened};
use super::sockets::{Owner, Sockets};
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
#[derive(Debug, Default, PartialEq, Eq)]
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

impl ConnectQuery {
    /// Parses the query string: each known parameter at most once, `last_event_id` a
    /// non-negative integer; unknown parameters are ignored. A failure names the parameter.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map_err(|_| {
            ApiError::InvalidQuery {
                parameter: "query",
                message: "the query string is malformed",
            }
        })?;
        let mut parsed = Self::default();
        for (name, value) in pairs.into_inner() {
            let (parameter, slot): (&'static str, &mut Option<String>) = match name.as_str() {
                "access_token" => ("access_token", &mut parsed.access_token),
                "session_token" => ("session_token", &mut parsed.session_token),
                "session_id" => ("session_id", &mut parsed.session_id),
                "last_event_id" => {
                    if parsed.last_event_id.is_some() {
                        return Err(repeated("last_event_id"));
                    }
                    let id = value.parse::<i64>().ok().filter(|n| *n >= 0).ok_or(
                        ApiError::InvalidQuery {
                            parameter: "last_event_id",
                            message: "must be a non-negative integer",
                        },
                    )?;
                    parsed.last_event_id = Some(id);
                    continue;
                }
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(repeated(parameter));
            }
        }
        Ok(parsed)
    }
}

fn repeated(parameter: &'static str) -> ApiError {
    ApiError::InvalidQuery {
        parameter,
        message: "must be given at most once",
    }
}

/// Who the socket acts for, once checked.
struct Checked {
    tenant_id: String,
    user_id: Option<String>,
    session_id: String,
    token_sid: Option<String>,
}

/// Checks the token (or the anonymous session) and the session.
async fn check(
    req: &HttpRequest,
    query: ConnectQuery,
    identity: &Identity,
    sessions: &Sessions,
    caller: &CallerInfo,
) -> Result<Checked, ApiError> {
    let token = query
        .access_token
        .as_deref()
        .or(query.session_token.as_deref())
        .or_else(|| bearer(req));
    let Some(token) = token else {
        let session_id = query.session_id.ok_or(ApiError::Unauthenticated)?;
        sessions
            .check_anonymous_socket(&caller.0, &session_id)
            .await?;
        return Ok(Checked {
            tenant_id: ANONYMOUS_TENANT.to_owned(),
            user_id: None,
            session_id,
            token_sid: None,
        });
    };
    let claims = authenticate(identity, token)?;
    let session_id = query.session_id.unwrap_or_else(|| claims.sid.clone());
    sessions
        .check_socket(&caller.0, &claims, &session_id)
        .await?;
    Ok(Checked {
        token_sid: (claims.sid != session_id).then(|| claims.sid.clone()),
        tenant_id: claims.tid,
        user_id: Some(claims.sub),
        session_id,
    })
}

/// Authenticates, checks the session and the socket caps, joins the session's stream, upgrades.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    identity: web::Data<Identity>,
    sessions: web::Data<Sessions>,
    sockets: web::Data<Sockets>,
    caller: CallerInfo,
) -> Result<HttpResponse, ApiError> {
    let query = ConnectQuery::parse(req.query_string())?;
    let resume_from = query.last_event_id;
    let who = check(&req, query, &identity, &sessions, &caller).await?;
    let user_key = match &who.user_id {
        Some(user) => format!("user:{}:{user}", who.tenant_id),
        None => format!("anon:{}", who.session_id),
    };
    let (closes, registration) = sockets.register(Owner {
        session_id: who.session_id.clone(),
        token_sid: who.token_sid,
        user_key: user_key.clone(),
    })?;
    // A fresh socket reads the session's shared stream from now; a resuming one reads its own
    // stream from its cursor (started once the socket is open).
    let shared = match resume_from {
        Some(_) => None,
        None => Some(
            sockets
                .hubs()
                .join(&caller.0.request_id, &who.tenant_id, &who.session_id)
                .await
                .ok_or(ApiError::RuntimeUnavailable)?,
        ),
    };
    let (response, session, messages) = actix_ws::handle(&req, body)
        .map_err(|_| ApiError::invalid("upgrade", "this endpoint only speaks WebSocket"))?;
    let ctx = Context {
        runtime: sessions.runtime(),
        tenant_id: who.tenant_id,
        user_id: who.user_id,
        rate_key: user_key,
        sockets: sockets.get_ref().clone(),
        session_id: who.session_id,
        request_id: caller.0.request_id.clone(),
        settings: sockets.settings().clone(),
        resume_from,
    };
    let opened = Opened {
        session,
        messages,
        closes,
        registration,
        shared,
    };
    actix_web::rt::spawn(serve(ctx, opened));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(query: &str) -> String {
        match ConnectQuery::parse(query) {
            Err(ApiError::InvalidQuery { parameter, .. }) => parameter.to_owned(),
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn parses_or_names_the_parameter() {
        let q = ConnectQuery::parse("access_token=t&session_id=s&last_event_id=7&x=1").unwrap();
        assert_eq!(q.access_token.as_deref(), Some("t"));
        assert_eq!(q.session_id.as_deref(), Some("s"));
        assert_eq!(q.last_event_id, Some(7));
        assert_eq!(ConnectQuery::parse("").unwrap(), ConnectQuery::default());
        assert_eq!(refused("last_event_id=abc"), "last_event_id");
        assert_eq!(refused("last_event_id=1e9"), "last_event_id");
        assert_eq!(refused("last_event_id=-1"), "last_event_id");
        assert_eq!(refused("last_event_id=1&last_event_id=2"), "last_event_id");
        assert_eq!(refused("session_id=a&session_id=b"), "session_id");
        assert_eq!(refused("access_token=a&access_token=b"), "access_token");
    }
}
