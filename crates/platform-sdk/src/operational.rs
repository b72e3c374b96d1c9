//! The unauthenticated operational endpoints both services mount the same way: `/health/live`,
//! `/health/ready` (the service supplies its own check), `/metrics`, `/openapi.json` and `/docs`.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::http::{docs_page, method_not_allowed, resource};
use crate::metrics::metrics_endpoint;
use crate::server::Draining;

/// The process is up.
#[utoipa::path(get, path = "/health/live", responses((status = 200, description = "alive")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Answers a readiness check: 200 when every named check passed and the server is not
/// draining, 503 otherwise (`status` says `draining` or `unavailable`).
pub fn readiness(draining: &Draining, checks: &[(&str, bool)]) -> HttpResponse {
    let passed = checks.iter().all(|(_, passed)| *passed);
    let ok = passed && !draining.is_set();
    let detail: serde_json::Map<String, serde_json::Value> = checks
        .iter()
        .map(|(name, passed)| ((*name).to_owned(), json!(passed)))
        .collect();
    let status = match (draining.is_set(), passed) {
        (true, _) => "draining",
        (false, true) => "ok",
        (false, false) => "unavailable",
    };
    let body = json!({"status": status, "checks": detail});
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Mounts the operational endpoints; `ready` is the service's readiness route, `openapi` builds
/// its document and `title` names it on `/docs`.
pub fn configure(
    cfg: &mut web::ServiceConfig,
    ready: actix_web::Route,
    openapi: fn() -> utoipa::openapi::OpenApi,
    title: &'static str,
) {
    let nope = || web::to(method_not_allowed);
    // The document is built once: the handlers' own, completed with what the plumbing answers.
    let doc = crate::openapi::complete(serde_json::to_value(openapi()).unwrap_or_default());
    cfg.app_data(web::Data::new(crate::http::AllowedMethods(
        crate::openapi::allowed_methods(&doc),
    )));
    let doc = web::Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
    cfg.service(
        resource("/health/live")
            .route(web::get().to(live))
            .default_service(nope()),
    )
    .service(
        resource("/health/ready")
            .route(ready)
            .default_service(nope()),
    )
    .service(
        resource("/metrics")
            .route(web::get().to(metrics_endpoint))
            .default_service(nope()),
    )
    .service(
        resource("/openapi.json")
            .route(web::get().to(move || {
                let doc = doc.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(doc)
                }
            }))
            .default_service(nope()),
    )
    .service(
        resource("/docs")
            .route(web::get().to(move || async move { docs_page(title) }))
            .default_service(nope()),
    );
}
