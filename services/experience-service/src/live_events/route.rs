//! `GET /api/events/stream`: the caller's live events as server-sent events.
//!
//! Credentials: `Authorization: Bearer <access token>`, `?access_token=` (browsers' EventSource
//! cannot send headers) or an API key (`X-API-Key`, `Bearer sk_…`; never in the URL); the
//! caller needs `notifications:read`. Frames: `id: <per-tenant event id>`, `event: <type>`,
//! `data: <event JSON>`; `: keep-alive` every `events.heartbeat_ms`. `Last-Event-ID` (or
//! `?last_event_id=`) first replays the missed events the caller may see from the runtime's
//! log, in order, each once, then continues live; an id older than the retained log (or never
//! issued) yields `EVENTS_LOST` first.

use std::collections::VecDeque;
use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use platform_sdk::live_wire::{live_types, Subscription};
use platform_sdk::runtime_client::RuntimeClient;
use platform_sdk::security_guard::AccessClaims;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::filter::{frame, lost, Reader};
use super::hub::{Frame, Joined, Member, Streams};
use crate::error::ApiError;
use crate::extractors::{authenticate, require_scope, AuthUser, CallerInfo};
use crate::identity::Identity;

/// Events read per resume page.
const PAGE: i64 = 500;

/// Mounts the endpoint.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        platform_sdk::http::resource("/api/events/stream")
            .route(web::get().to(stream))
            .default_service(web::to(platform_sdk::http::method_not_allowed)),
    );
}

/// The stream's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StreamQuery {
    /// An access token, for clients that cannot send `Authorization` (EventSource).
    pub access_token: Option<String>,
    /// Resume after this event id (the `Last-Event-ID` header wins).
    #[param(minimum = 0)]
    pub last_event_id: Option<String>,
}

/// The caller's live events (server-sent events; see the module docs).
#[utoipa::path(get, path = "/api/events/stream", params(StreamQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "resume after this event id")),
    responses((status = 200, description = "text/event-stream: `id:`, `event:`, `data:` frames and `: keep-alive` comments", content_type = "text/event-stream"),
        (status = 401, body = platform_sdk::error::ErrorBody), (status = 403, body = platform_sdk::error::ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn stream(
    req: HttpRequest,
    caller: CallerInfo,
    identity: web::Data<Identity>,
    runtime: web::Data<RuntimeClient>,
    streams: web::Data<Streams>,
) -> Result<HttpResponse, ApiError> {
    let query = web::Query::<StreamQuery>::from_query(req.query_string()).map_err(|_| {
        ApiError::InvalidQuery {
            parameter: "access_token",
            message: "is malformed or repeated",
        }
    })?;
    let claims = match query.access_token.as_deref() {
        Some(token) => authenticate(&identity, token)?,
        None => AuthUser::extract(&req).await?.0,
    };
    let user = AuthUser(claims);
    require_scope(&user, "notifications:read")?;
    let resume = resume_point(&req, query.last_event_id.as_deref())?;
    let claims: &AccessClaims = &user.0;
    let admin =
        user.api_key().is_none() && claims.roles.iter().any(|r| r == "admin" || r == "owner");
    let reader = Reader {
        user_id: claims.sub.clone(),
        admin,
    };
    let member = Member {
        reader: reader.clone(),
        sid: claims.sid.clone(),
        exp: claims.exp,
        key: user.api_key().is_some(),
    };
    let rid = caller.0.request_id.as_str();
    let (joined, rx) = streams
        .join(rid, &claims.tid, member)
        .await
        .ok_or(ApiError::RuntimeUnavailable)?;
    let subscriptions = runtime
        .event_subscriptions(rid, &claims.tid, &claims.sub)
        .await
        .map_err(ApiError::forwarded)?;
    joined.load_subscriptions(subscriptions);
    let state = Client {
        pending: VecDeque::from([Bytes::from_static(b"retry: 2000\n\n")]),
        resume: resume.map(|after| Resume {
            runtime: runtime.into_inner(),
            tenant_id: claims.tid.clone(),
            request_id: rid.to_owned(),
            reader,
            after,
            first: true,
        }),
        rx,
        cursor: 0,
        joined,
    };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        s.next().await.map(|b| (Ok::<_, actix_web::Error>(b), s))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

/// `Last-Event-ID`, else `?last_event_id=`; `400` when not a non-negative integer.
fn resume_point(req: &HttpRequest, query: Option<&str>) -> Result<Option<i64>, ApiError> {
    let header = req
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("x"));
    match header.or(query) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or(ApiError::InvalidQuery {
                parameter: "last_event_id",
                message: "must be a non-negative event id",
            }),
    }
}

/// The missed events still to replay.
struct Resume {
    runtime: Arc<RuntimeClient>,
    tenant_id: String,
    request_id: String,
    reader: Reader,
    after: i64,
    first: bool,
}

/// One client's stream: queued frames, then the replay (if resuming), then the hub's frames
/// past the replay's cursor.
struct Client {
    pending: VecDeque<Bytes>,
    resume: Option<Resume>,
    rx: mpsc::Receiver<Frame>,
    cursor: i64,
    joined: Joined,
}

impl Client {
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.pending.pop_front() {
                return Some(bytes);
            }
            if let Some(resume) = self.resume.as_mut() {
                let subscriptions = self.joined.subscriptions();
                match replay(resume, subscriptions.as_deref().map(Vec::as_slice)).await {
                    Ok((frames, done)) => {
                        self.cursor = resume.after;
                        self.pending.extend(frames);
                        if done {
                            self.resume = None;
                        }
                        continue;
                    }
                    // The runtime is away: end; the client resumes from its last id.
                    Err(()) => return None,
                }
            }
            let (id, bytes) = self.rx.recv().await?;
            if id > 0 && id <= self.cursor {
                continue;
            }
            self.cursor = self.cursor.max(id);
            return Some(bytes);
        }
    }
}

/// Reads one page of missed events: the frames the reader wants, and whether it caught up.
async fn replay(
    r: &mut Resume,
    subscriptions: Option<&[Subscription]>,
) -> Result<(Vec<Bytes>, bool), ()> {
    let page = r
        .runtime
        .tenant_events(&r.request_id, &r.tenant_id, r.after, PAGE)
        .await
        .map_err(|e| tracing::debug!(error = %e, "resume read failed"))?;
    let mut frames = Vec::new();
    if std::mem::take(&mut r.first) {
        if let Some((bytes, resume_after)) =
            lost(r.after, page.oldest_event_id, page.latest_event_id)
        {
            frames.push(bytes);
            r.after = resume_after;
            return Ok((frames, false));
        }
    }
    let done = (page.events.len() as i64) < PAGE;
    for event in &page.events {
        r.after = event.event_id;
        if event.event_type != live_types::SUBSCRIPTIONS_CHANGED
            && r.reader.wants(subscriptions, event)
        {
            frames.push(frame(event));
        }
    }
    Ok((frames, done))
}
