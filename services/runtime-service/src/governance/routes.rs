//! Governance endpoints (SPEC §10): policy mutations and `evaluate` are signed intents (the
//! gateway's rows, with the client's `Idempotency-Key`); the reads take a service token and the
//! caller's `tenant_id`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::error::ErrorBody;
use platform_sdk::governance_wire::{
    AuditPage, DecisionOut, EvaluateRequest, Policy, PolicyInput, PolicyList, ViolationList,
    CREATE_POLICY_ACTION, DELETE_POLICY_ACTION, EVALUATE_ACTION, UPDATE_POLICY_ACTION,
};
use platform_sdk::json::ApiJson;
use platform_sdk::page::PageRequest;
use platform_sdk::time_util::parse_rfc3339_ms;
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use super::storage::decisions::ViolationFilter;
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::{answer_keyed, payload};
use crate::sessions::routes::TenantQuery;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let at = |path| platform_sdk::http::resource(path).default_service(nope());
    cfg.service(
        at("/api/governance/policies")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        at("/api/governance/policies/{id}")
            .route(web::get().to(get_one))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    )
    .service(at("/api/governance/evaluate").route(web::post().to(evaluate)))
    .service(at("/api/governance/violations").route(web::get().to(violations)))
    .service(at("/api/governance/audit").route(web::get().to(audit)));
}

/// Tenant, page and filters of the governance lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct GovernanceQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Policies of one status.
    #[param(pattern = "^(DRAFT|ACTIVE|DEPRECATED|ARCHIVED)$")]
    pub status: Option<String>,
    /// Violations of one agent.
    #[param(max_length = 200)]
    pub agent_id: Option<String>,
    /// Violations of one severity.
    #[param(pattern = "^(high|medium|low)$")]
    pub severity: Option<String>,
    /// Violations of one policy.
    #[param(max_length = 200)]
    pub policy_id: Option<String>,
    /// Violations at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// `true`: walk the whole audit chain and report the first broken link.
    #[param(pattern = "^(true|false)$")]
    pub verify: Option<String>,
}

/// A read's parameters, every one checked whichever read uses it (a malformed one is refused
/// even where it would be ignored, as the document says).
struct Read<'a> {
    page: PageRequest,
    status: Option<&'a str>,
    filter: ViolationFilter<'a>,
    verify: bool,
}

impl GovernanceQuery {
    fn read(&self) -> Result<Read<'_>, RuntimeError> {
        check_id("tenant_id", &self.tenant_id)?;
        let page = PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())?;
        let status = self.status.as_deref();
        if status.is_some_and(|s| !crate::governance::policy::STATUSES.contains(&s)) {
            return Err(RuntimeError::invalid(
                "status",
                "must be DRAFT, ACTIVE, DEPRECATED or ARCHIVED",
            ));
        }
        let severity = self.severity.as_deref();
        if severity.is_some_and(|s| !["high", "medium", "low"].contains(&s)) {
            return Err(RuntimeError::invalid(
                "severity",
                "must be high, medium or low",
            ));
        }
        let since =
            match self.since.as_deref() {
                None => None,
                Some(text) => Some(parse_rfc3339_ms(text).ok_or_else(|| {
                    RuntimeError::invalid("since", "must be an RFC 3339 date-time")
                })?),
            };
        let verify = match self.verify.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(RuntimeError::invalid("verify", "must be true or false")),
        };
        let filter = ViolationFilter {
            agent_id: bounded("agent_id", &self.agent_id)?,
            severity,
            policy_id: bounded("policy_id", &self.policy_id)?,
            since,
        };
        Ok(Read {
            page,
            status,
            filter,
            verify,
        })
    }
}

/// An optional filter: empty is absent, longer than 200 characters is refused.
fn bounded<'a>(
    field: &'static str,
    value: &'a Option<String>,
) -> Result<Option<&'a str>, RuntimeError> {
    match value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > 200 => Err(RuntimeError::invalid(
            field,
            "must be at most 200 characters",
        )),
        other => Ok(other),
    }
}

/// Creates a policy (`action: create_policy`, payload `PolicyInput`) → `201`.
#[utoipa::path(post, path = "/api/governance/policies", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = Policy), (status = 403), (status = 409), (status = 422, body = ErrorBody)))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let governance = &state.governance;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        CREATE_POLICY_ACTION,
        |c| async move {
            let input: PolicyInput = payload(&c)?;
            Ok((
                StatusCode::CREATED,
                governance.create_policy(&c, input).await?,
            ))
        },
    )
    .await
}

/// Replaces a policy (`action: update_policy`, payload `PolicyInput`) → its next version.
#[utoipa::path(put, path = "/api/governance/policies/{id}", request_body = SignedIntent,
    params(("id" = String, Path, description = "policy id"), ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = Policy), (status = 403), (status = 404, body = ErrorBody), (status = 409), (status = 422, body = ErrorBody)))]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let governance = &state.governance;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        UPDATE_POLICY_ACTION,
        |c| async move {
            let input: PolicyInput = payload(&c)?;
            Ok((
                StatusCode::OK,
                governance.update_policy(&c, &id, input).await?,
            ))
        },
    )
    .await
}

/// Removes a policy → `204`.
#[utoipa::path(delete, path = "/api/governance/policies/{id}", request_body = SignedIntent,
    params(("id" = String, Path, description = "policy id")),
    responses((status = 204), (status = 403), (status = 404, body = ErrorBody)))]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let governance = &state.governance;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        DELETE_POLICY_ACTION,
        |c| async move {
            governance.delete_policy(&c, &id).await?;
            Ok((StatusCode::NO_CONTENT, ()))
        },
    )
    .await
}

/// One policy (service token).
#[utoipa::path(get, path = "/api/governance/policies/{id}", params(("id" = String, Path, description = "policy id"), TenantQuery),
    responses((status = 200, body = Policy), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.governance.policy(&q.tenant_id, &id).await?))
}

/// A page of the tenant's policies, newest first (service token).
#[utoipa::path(get, path = "/api/governance/policies", params(GovernanceQuery),
    responses((status = 200, body = PolicyList), (status = 401), (status = 422, body = ErrorBody)), security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<GovernanceQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let list = state
        .governance
        .policies(&q.tenant_id, read.status, &read.page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Decides an action (`action: evaluate_governance`, payload `EvaluateRequest`), recorded in the
/// audit chain.
#[utoipa::path(post, path = "/api/governance/evaluate", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = DecisionOut), (status = 403), (status = 409), (status = 422, body = ErrorBody)))]
pub async fn evaluate(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let governance = &state.governance;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        EVALUATE_ACTION,
        |c| async move {
            let request: EvaluateRequest = payload(&c)?;
            Ok((StatusCode::OK, governance.evaluate(&c, request).await?))
        },
    )
    .await
}

/// A page of the tenant's violations, newest first (service token).
#[utoipa::path(get, path = "/api/governance/violations", params(GovernanceQuery),
    responses((status = 200, body = ViolationList), (status = 401), (status = 422, body = ErrorBody)), security(("service_token" = [])))]
pub async fn violations(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<GovernanceQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let list = state
        .governance
        .violations(&q.tenant_id, &read.filter, &read.page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A page of the tenant's audit chain, newest first; `verify=true` walks the whole chain
/// (service token).
#[utoipa::path(get, path = "/api/governance/audit", params(GovernanceQuery),
    responses((status = 200, body = AuditPage), (status = 401), (status = 422, body = ErrorBody)), security(("service_token" = [])))]
pub async fn audit(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<GovernanceQuery>,
) -> Result<HttpResponse, RuntimeError> {
    let read = q.read()?;
    let list = state
        .governance
        .audit(&q.tenant_id, read.verify, &read.page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
