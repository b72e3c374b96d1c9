//! Mounts every gateway row; one handler serves them all.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::service::Forward;
use super::table::{public_paths, rows, Row};
use super::Gateway;
use crate::error::ApiError;
use crate::extractors::{require_scope, AuthUser, CallerInfo};

/// Mounts the rows, one resource per public path (a row's own and its aliases,
/// [`public_paths`]); a known path with another method answers `405`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let all: Vec<&'static Row> = rows().collect();
    let mut paths: Vec<String> = Vec::new();
    for row in &all {
        for path in public_paths(row) {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    for path in paths {
        let mut resource = web::resource(path.as_str()).name(&path);
        if let Some((_, limit)) = super::rows::LARGE_BODIES
            .iter()
            .find(|(large, _)| *large == path)
        {
            resource = resource.app_data(web::PayloadConfig::new(*limit));
        }
        for row in all
            .iter()
            .copied()
            .filter(|r| public_paths(r).contains(&path))
        {
            resource = resource.route(web::method(row.method.method()).to(
                move |req: HttpRequest,
                      user: AuthUser,
                      caller: CallerInfo,
                      gateway: web::Data<Gateway>,
                      body: web::Bytes| {
                    forward(row, req, user, caller, gateway, body)
                },
            ));
        }
        cfg.service(resource.default_service(web::to(platform_sdk::http::method_not_allowed)));
    }
}

/// Checks the row's scope, forwards, answers with the runtime's status and body.
async fn forward(
    row: &'static Row,
    req: HttpRequest,
    user: AuthUser,
    caller: CallerInfo,
    gateway: web::Data<Gateway>,
    body: web::Bytes,
) -> Result<HttpResponse, actix_web::Error> {
    require_scope(&user, row.scope)?;
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| platform_sdk::http::query_error(e, &req))?;
    let request = Forward {
        params: req
            .match_info()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        query: query.into_inner(),
        body: (!body.is_empty())
            .then(|| platform_sdk::json::parse(&body))
            .transpose()?,
        idempotency_key: idempotency_key(&req)?,
        if_match: if_match(&req)?,
    };
    let answer = gateway.forward(row, &caller.0, &user.0, request).await?;
    let mut response =
        HttpResponse::build(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK));
    if answer.body.is_empty() {
        return Ok(response.finish());
    }
    // JSON unless the runtime said otherwise (an artifact download answers its media type).
    let content_type = answer.content_type.as_deref().unwrap_or("application/json");
    Ok(response.content_type(content_type).body(answer.body))
}

/// Longest accepted `Idempotency-Key`, bytes.
const MAX_IDEMPOTENCY_KEY_BYTES: usize = 200;

/// The request's `Idempotency-Key`, if any (`422` when it is not short printable text).
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key)
            if !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY_BYTES
                && !key.chars().any(char::is_control) =>
        {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::invalid(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes of printable text"),
        )),
    }
}

/// Longest accepted `If-Match`, bytes.
const MAX_IF_MATCH_BYTES: usize = 200;

/// The request's `If-Match`, if any (`422` when it is not short printable text).
fn if_match(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("if-match") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(tag)
            if !tag.is_empty()
                && tag.len() <= MAX_IF_MATCH_BYTES
                && !tag.chars().any(char::is_control) =>
        {
            Ok(Some(tag.to_owned()))
        }
        _ => Err(ApiError::invalid(
            "If-Match",
            format!("must be 1 to {MAX_IF_MATCH_BYTES} bytes of printable text"),
        )),
    }
}
