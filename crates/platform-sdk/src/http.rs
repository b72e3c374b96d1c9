//! actix-web plumbing shared by both services: request ids, the bearer token of a request,
//! path/query errors mapped to the error body, the 404/405 fallbacks, the `/docs` page and the
//! client-address helper.
//!
//! The request-id middleware must be the outermost layer: it opens a task-local scope holding
//! the id, so any error rendered while the request is handled (by a handler, an extractor or an
//! inner middleware) carries the same id that is echoed in the `x-request-id` header.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpRequest, HttpResponse, ResponseError};

use crate::error::ErrorBody;

/// The request-id header, accepted from callers, echoed and forwarded.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, or `"-"` outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| "-".to_owned())
}

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Middleware (use with `actix_web::middleware::from_fn`): accept or mint `x-request-id`, put it
/// in a task-local scope and a tracing span, echo it on the response (errors included).
pub async fn request_id_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    // Only the id: this span is built on every request, so it carries nothing else.
    let span = tracing::info_span!("request", request_id = %id);
    let scoped = id.clone();
    let result = REQUEST_ID
        .scope(id.clone(), async move {
            match tracing::Instrument::instrument(next.call(req), span).await {
                Ok(res) => Ok(res),
                // Render errors inside the scope so their body carries this request id.
                Err(err) => {
                    let mut response = err.error_response();
                    if let Ok(value) = HeaderValue::from_str(&scoped) {
                        response
                            .headers_mut()
                            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
                    }
                    Err(Error::from(actix_web::error::InternalError::from_response(
                        err.to_string(),
                        response,
                    )))
                }
            }
        })
        .await;
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}

/// Middleware (use with `actix_web::middleware::from_fn`, inside the request-id layer): refuses a
/// request whose path or query string carries U+0000 (`%00`), which no id or parameter may
/// hold and PostgreSQL could not store (docs/adr/0012). A path answers `404 not_found` (it names
/// nothing that exists, like any malformed id); a query `400 invalid_query` naming the parameter.
pub async fn refuse_nul_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, Error> {
    let uri = req.uri();
    let refused = if uri.path().contains("%00") {
        Some(ErrorBody::new("not_found", "no such resource").into_response(StatusCode::NOT_FOUND))
    } else if uri.query().is_some_and(|q| q.contains("%00")) {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(uri.query().unwrap_or(""))
            .map(web::Query::into_inner)
            .unwrap_or_default();
        let field = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
            .map(|(k, _)| k.replace('\0', "%00"))
            .unwrap_or_else(|| "query".to_owned());
        Some(
            ErrorBody::new("invalid_query", format!("`{field}` must not contain %00"))
                .with_fields(vec![crate::error::FieldError {
                    field,
                    message: crate::json::NUL_MESSAGE.to_owned(),
                }])
                .into_response(StatusCode::BAD_REQUEST),
        )
    } else {
        None
    };
    match refused {
        Some(response) => Ok(req.into_response(response).map_into_right_body()),
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

/// Maps a path-parameter failure to a 404 (a malformed id names nothing that exists).
pub fn path_error(err: PathError, _req: &HttpRequest) -> Error {
    let response =
        ErrorBody::new("not_found", "no such resource").into_response(StatusCode::NOT_FOUND);
    actix_web::error::InternalError::from_response(err, response).into()
}

/// Maps a query-string failure to a 400.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> Error {
    let response =
        ErrorBody::new("invalid_query", err.to_string()).into_response(StatusCode::BAD_REQUEST);
    actix_web::error::InternalError::from_response(err, response).into()
}

/// Registers the body-size limit and the path and query error mappings (JSON bodies use
/// [`crate::json::ApiJson`]).
pub fn configure_extractors(cfg: &mut web::ServiceConfig, limit_bytes: usize) {
    cfg.app_data(web::PayloadConfig::new(limit_bytes))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error));
}

/// The fallback for unknown paths: `404 not_found` with the error body (never a 401).
pub async fn not_found() -> HttpResponse {
    ErrorBody::new("not_found", "no such route").into_response(StatusCode::NOT_FOUND)
}

/// The address of the client: the peer address, or the first `X-Forwarded-For` hop when the
/// service is configured to trust its proxy.
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return first.trim().to_owned();
        }
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The bearer token of a request (`Authorization: Bearer …`, scheme in either case), if any.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// An error that was already rendered (used by extractors that build their own response).
#[derive(Debug)]
pub struct Rendered(pub StatusCode, pub ErrorBody);

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.1.error.code)
    }
}

impl ResponseError for Rendered {
    fn status_code(&self) -> StatusCode {
        self.0
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.0).json(&self.1)
    }
}

/// A resource named after its own path pattern: the metrics middleware labels requests with the
/// matched name, which (unlike rebuilding the pattern) costs nothing per request.
pub fn resource(path: &'static str) -> actix_web::Resource {
    web::resource(path).name(path)
}

/// The methods of each path pattern (from the service's OpenAPI document), for `Allow`.
#[derive(Debug, Default)]
pub struct AllowedMethods(pub std::collections::HashMap<String, String>);

/// The answer for a known path with the wrong method: `405 method_not_allowed`, with the `Allow`
/// header RFC 9110 requires (the path's methods as documented; `GET` for the undocumented
/// operational paths, which are all read-only).
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let allow = req
        .app_data::<web::Data<AllowedMethods>>()
        .zip(req.match_pattern())
        .and_then(|(known, pattern)| known.0.get(&pattern).cloned())
        .unwrap_or_else(|| "GET".to_owned());
    let mut response = ErrorBody::new(
        "method_not_allowed",
        "this path does not accept that method",
    )
    .into_response(StatusCode::METHOD_NOT_ALLOWED);
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// A self-contained `/docs` page: it reads `/openapi.json` and lists every operation with its
/// parameters, body and responses. No CDN, no download at build time.
pub fn docs_page(title: &str) -> HttpResponse {
    let html = DOCS_HTML.replace("{{TITLE}}", title);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html)
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}} API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;padding:0 1rem;color:#222}
h1{font-size:1.6rem}.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0}
.op summary{cursor:pointer;padding:.5rem .8rem;font-family:monospace}
.m{display:inline-block;min-width:4.5rem;font-weight:bold}.get{color:#0a7}.post{color:#06c}
.delete{color:#c33}.patch{color:#a60}pre{background:#f6f6f6;padding:.6rem;overflow:auto}
.body{padding:0 .8rem .8rem}
</style></head><body><h1>{{TITLE}} API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(spec=>{
  const root=document.getElementById('ops');root.textContent='';
  const esc=s=>String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  for(const [path,item] of Object.entries(spec.paths||{})){
    for(const [method,op] of Object.entries(item)){
      const d=document.createElement('details');d.className='op';
      d.innerHTML='<summary><span class="m '+method+'">'+method.toUpperCase()+'</span> '+esc(path)+
        ' — '+esc(op.summary||op.description||'')+'</summary><div class="body"><pre>'+
        esc(JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses,security:op.security},null,2))+
        '</pre></div>';
      root.appendChild(d);
    }
  }
  const s=document.createElement('details');s.className='op';
  s.innerHTML='<summary>Schemas</summary><div class="body"><pre>'+esc(JSON.stringify((spec.components||{}).schemas||{},null,2))+'</pre></div>';
  root.appendChild(s);
});
</script></body></html>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_hostile_request_ids() {
        assert!(acceptable("abc-123"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
