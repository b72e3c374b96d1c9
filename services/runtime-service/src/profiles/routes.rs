//! Profile, attestation and attestation-key endpoints (SPEC §9). Mutations take signed intents
//! (through the gate, with the client's `Idempotency-Key`, audited); reads take a service token
//! and the caller's `tenant_id`.
//!
//! An attestation's `signature.value` is Ed25519 over the UTF-8 bytes of the canonical JSON of
//! the attestation without `signature` and `metadata` (see
//! `platform_sdk::profile_wire::AttestationRecord`); the key is the JWK of `GET
//! /api/governance/keys` whose `kid` is `signature.key_id`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::json::ApiJson;
use platform_sdk::page::PageRequest;
use platform_sdk::profile_wire::{
    actions, AttestationList, AttestationRecord, AttestationType, KeySet, ProfileList,
    ProfileRecord, PublicJwk, RevocationStatus, RevokeRequest, Verification,
};
use platform_sdk::traffic_cop::SignedIntent;
use serde::Deserialize;

use super::input::body;
use super::storage::AttestationFilter;
use crate::auth::ServiceCaller;
use crate::error::RuntimeError;
use crate::intents::routes::answer_keyed;
use crate::sessions::routes::TenantQuery;
use crate::sessions::service::check_id;
use crate::startup::AppState;

/// Mounts the endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    let at = |path| platform_sdk::http::resource(path).default_service(nope());
    cfg.service(
        at("/api/agents/profiles")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        at("/api/agents/profiles/{id}")
            .route(web::get().to(get_one))
            .route(web::put().to(update)),
    )
    .service(at("/api/agents/profiles/{id}/attest").route(web::post().to(attest)))
    .service(at("/api/agents/profiles/{id}/attestations").route(web::get().to(attestations)))
    .service(
        at("/api/agents/profiles/{id}/attestations/{att_id}/revoke").route(web::post().to(revoke)),
    )
    .service(
        at("/api/agents/profiles/{id}/attestations/{att_id}/verify").route(web::get().to(verify)),
    )
    .service(at("/api/governance/keys").route(web::get().to(keys)))
    .service(at("/api/governance/keys/rotate").route(web::post().to(rotate)));
}

/// Tenant, page and filter of the profile list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProfileQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Only the profiles of this agent.
    pub agent_id: Option<String>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Tenant, page and filters of an attestation list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AttestationQuery {
    /// Tenant.
    #[param(format = Uuid)]
    pub tenant_id: String,
    /// Only this attestation type (`VERIFICATION`, `AUDIT`, ...).
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<AttestationType>)]
    pub kind: Option<String>,
    /// Only this revocation status (`ACTIVE`, `SUSPENDED`, `REVOKED`).
    #[param(value_type = Option<RevocationStatus>)]
    pub status: Option<String>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AttestationQuery {
    fn filter(&self) -> Result<AttestationFilter, RuntimeError> {
        let kind = match self.kind.as_deref() {
            None => None,
            Some(t) => Some(AttestationType::parse(t).ok_or(RuntimeError::InvalidQuery {
                parameter: "type",
                message: "must be VERIFICATION, CERTIFICATION, APPROVAL, AUDIT, COMPLIANCE or DELEGATION",
            })?),
        };
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(
                RevocationStatus::parse(s).ok_or(RuntimeError::InvalidQuery {
                    parameter: "status",
                    message: "must be ACTIVE, SUSPENDED or REVOKED",
                })?,
            ),
        };
        Ok(AttestationFilter { kind, status })
    }
}

/// Creates an agent profile (`action: create_agent_profile`, payload `CreateProfile`).
#[utoipa::path(post, path = "/api/agents/profiles", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = ProfileRecord), (status = 403), (status = 409), (status = 422)))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let profiles = &state.profiles;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::CREATE_PROFILE,
        |c| async move { Ok((StatusCode::CREATED, profiles.create(&c, body(&c)?).await?)) },
    )
    .await
}

/// One page of the tenant's profiles, newest first.
#[utoipa::path(get, path = "/api/agents/profiles", params(ProfileQuery),
    responses((status = 200, body = ProfileList), (status = 401)), security(("service_token" = [])))]
pub async fn list(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<ProfileQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let page = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let list = state
        .profiles
        .list(&q.tenant_id, q.agent_id.as_deref(), &page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One of the tenant's profiles.
#[utoipa::path(get, path = "/api/agents/profiles/{id}", params(("id" = String, Path, description = "Profile id"), TenantQuery),
    responses((status = 200, body = ProfileRecord), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn get_one(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.profiles.get(&q.tenant_id, &id).await?))
}

/// Replaces a profile's defining fields (`action: update_agent_profile`, payload
/// `UpdateProfile`): a changed profile gets the next version and a new constitution hash.
#[utoipa::path(put, path = "/api/agents/profiles/{id}", request_body = SignedIntent,
    params(("id" = String, Path, description = "Profile id"), ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = ProfileRecord), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let profiles = &state.profiles;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::UPDATE_PROFILE,
        |c| async move { Ok((StatusCode::OK, profiles.update(&c, &id, body(&c)?).await?)) },
    )
    .await
}

/// Issues a signed attestation about a profile (`action: attest_agent_profile`, payload
/// `AttestRequest`). Signed bytes: the canonical JSON of the answer without `signature` and
/// `metadata`.
#[utoipa::path(post, path = "/api/agents/profiles/{id}/attest", request_body = SignedIntent,
    params(("id" = String, Path, description = "Profile id"), ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = AttestationRecord), (status = 403), (status = 404),
              (status = 409, description = "the parent attestation is suspended, revoked or expired"), (status = 422)))]
pub async fn attest(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let attestations = &state.attestations;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::ATTEST,
        |c| async move {
            Ok((
                StatusCode::CREATED,
                attestations.attest(&c, &id, body(&c)?).await?,
            ))
        },
    )
    .await
}

/// One page of a profile's attestations, newest first (filters `type`, `status`).
#[utoipa::path(get, path = "/api/agents/profiles/{id}/attestations", params(("id" = String, Path, description = "Profile id"), AttestationQuery),
    responses((status = 200, body = AttestationList), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn attestations(
    _: ServiceCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<AttestationQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let page = PageRequest::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let list = state
        .attestations
        .list(&q.tenant_id, &id, q.filter()?, &page)
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Suspends or revokes an attestation (`action: revoke_attestation`, payload `RevokeRequest`).
#[utoipa::path(post, path = "/api/agents/profiles/{id}/attestations/{att_id}/revoke", request_body = SignedIntent,
    params(("id" = String, Path, description = "Profile id"), ("att_id" = String, Path, description = "Attestation id"),
           ("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 200, body = AttestationRecord), (status = 403), (status = 404),
              (status = 409, description = "invalid_transition: already revoked, or suspending a suspended one"), (status = 422)))]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let attestations = &state.attestations;
    let (profile_id, id) = path.into_inner();
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::REVOKE_ATTESTATION,
        |c| async move {
            let request: RevokeRequest = body(&c)?;
            Ok((
                StatusCode::OK,
                attestations.revoke(&c, &profile_id, &id, request).await?,
            ))
        },
    )
    .await
}

/// Verifies an attestation: signature, expiry, revocation, chain of parents.
#[utoipa::path(get, path = "/api/agents/profiles/{id}/attestations/{att_id}/verify",
    params(("id" = String, Path, description = "Profile id"), ("att_id" = String, Path, description = "Attestation id"), TenantQuery),
    responses((status = 200, body = Verification), (status = 401), (status = 404)), security(("service_token" = [])))]
pub async fn verify(
    _: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    let (profile_id, id) = path.into_inner();
    let verification = state
        .attestations
        .verify(&q.tenant_id, &profile_id, &id)
        .await?;
    Ok(HttpResponse::Ok().json(verification))
}

/// The tenant's public attestation keys as JWKs (`OKP` / `Ed25519`): the active key first, then the retired ones, newest first.
#[utoipa::path(get, path = "/api/governance/keys", params(TenantQuery),
    responses((status = 200, body = KeySet), (status = 401)), security(("service_token" = [])))]
pub async fn keys(
    _: ServiceCaller,
    state: web::Data<AppState>,
    q: web::Query<TenantQuery>,
) -> Result<HttpResponse, RuntimeError> {
    check_id("tenant_id", &q.tenant_id)?;
    Ok(HttpResponse::Ok().json(state.attestations.keys(&q.tenant_id).await?))
}

/// Makes a new active attestation key (`action: rotate_attestation_key`); the old one is
/// retired and still verifies what it signed.
#[utoipa::path(post, path = "/api/governance/keys/rotate", request_body = SignedIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "client idempotency key")),
    responses((status = 201, body = PublicJwk), (status = 403), (status = 409)))]
pub async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    intent: ApiJson<SignedIntent>,
) -> Result<HttpResponse, RuntimeError> {
    let attestations = &state.attestations;
    answer_keyed(
        &state.gate,
        &req,
        &intent,
        actions::ROTATE_ATTESTATION_KEY,
        |c| async move { Ok((StatusCode::CREATED, attestations.rotate(&c).await?)) },
    )
    .await
}
