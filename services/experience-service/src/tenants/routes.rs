//! `/api/tenants/current/*` (SPEC §5). Handlers only extract, call one service function and
//! shape the answer. Administration needs the `admin` scope (`owner`/`admin`, or a key holding
//! it); reading the tenant needs only authentication, reading the member list needs `admin`
//! from an API key (people of every role may see their teammates).

use actix_web::{web, HttpResponse};
use platform_sdk::json::ApiJson;

use super::dto::{
    AddMember, Added, ApiKeyList, ChangeRole, CreateApiKey, Member, MemberList, NewApiKey, Page,
    RenameTenant, TenantInfo,
};
use super::{ApiKeys, Tenants};
use crate::error::ApiError;
use crate::extractors::{require_scope, scopes::Admin, AuthUser, CallerInfo, RequireScope};

/// Mounts the tenant endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let nope = || web::to(platform_sdk::http::method_not_allowed);
    cfg.service(
        platform_sdk::http::resource("/api/tenants/current")
            .route(web::get().to(current))
            .route(web::patch().to(rename))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/tenants/current/members")
            .route(web::get().to(members))
            .route(web::post().to(add_member))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/tenants/current/members/{user_id}")
            .route(web::patch().to(change_role))
            .route(web::delete().to(remove_member))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/tenants/current/api-keys")
            .route(web::get().to(list_keys))
            .route(web::post().to(create_key))
            .default_service(nope()),
    )
    .service(
        platform_sdk::http::resource("/api/tenants/current/api-keys/{key_id}")
            .route(web::delete().to(revoke_key))
            .default_service(nope()),
    );
}

/// The caller's tenant and role.
#[utoipa::path(get, path = "/api/tenants/current", tag = "tenants", responses(
    (status = 200, body = TenantInfo),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn current(
    tenants: web::Data<Tenants>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tenants.current(&user).await?))
}

/// Renames the caller's tenant (admin).
#[utoipa::path(patch, path = "/api/tenants/current", tag = "tenants", request_body = RenameTenant, responses(
    (status = 200, body = TenantInfo),
    (status = 400, body = ErrorBody, description = "malformed_json"),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin)"),
    (status = 413, body = ErrorBody, description = "payload_too_large"),
    (status = 415, body = ErrorBody, description = "unsupported_media_type"),
    (status = 422, body = ErrorBody, description = "validation_failed (name)"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn rename(
    tenants: web::Data<Tenants>,
    auth: RequireScope<Admin>,
    body: ApiJson<RenameTenant>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tenants.rename(&auth.user, &body.name).await?))
}

/// The tenant's members, newest first.
#[utoipa::path(get, path = "/api/tenants/current/members", tag = "tenants", params(Page), responses(
    (status = 200, body = MemberList),
    (status = 400, body = ErrorBody, description = "invalid_query (cursor, limit)"),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin, API keys only)"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn members(
    tenants: web::Data<Tenants>,
    user: AuthUser,
    query: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    if user.api_key().is_some() {
        require_scope(&user, "admin")?;
    }
    let page = query.request()?;
    Ok(HttpResponse::Ok().json(tenants.members(&user, &page).await?))
}

/// Adds a registered user as a member (`201` member), or invites an unknown email (`201`
/// invitation, its token shown once). Only an owner may grant `owner`.
#[utoipa::path(post, path = "/api/tenants/current/members", tag = "tenants", request_body = AddMember, responses(
    (status = 201, body = Added, description = "a Member, or an Invitation for an unknown email"),
    (status = 400, body = ErrorBody, description = "malformed_json"),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin) | forbidden (owner role)"),
    (status = 409, body = ErrorBody, description = "already_member"),
    (status = 413, body = ErrorBody, description = "payload_too_large"),
    (status = 415, body = ErrorBody, description = "unsupported_media_type"),
    (status = 422, body = ErrorBody, description = "validation_failed (email, role)"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn add_member(
    tenants: web::Data<Tenants>,
    auth: RequireScope<Admin>,
    body: ApiJson<AddMember>,
) -> Result<HttpResponse, ApiError> {
    let added = tenants
        .add_member(&auth.user, &body.email, body.role)
        .await?;
    Ok(HttpResponse::Created().json(added))
}

/// Changes a member's role. The last owner stays (`409`); only an owner may touch `owner`.
#[utoipa::path(patch, path = "/api/tenants/current/members/{user_id}", tag = "tenants", request_body = ChangeRole,
    params(("user_id" = String, Path, description = "the member's user id")), responses(
    (status = 200, body = Member),
    (status = 400, body = ErrorBody, description = "malformed_json"),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin) | forbidden (owner role)"),
    (status = 404, body = ErrorBody, description = "not_found (also another tenant's member)"),
    (status = 409, body = ErrorBody, description = "last_owner"),
    (status = 413, body = ErrorBody, description = "payload_too_large"),
    (status = 415, body = ErrorBody, description = "unsupported_media_type"),
    (status = 422, body = ErrorBody, description = "validation_failed (role)"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn change_role(
    tenants: web::Data<Tenants>,
    auth: RequireScope<Admin>,
    user_id: web::Path<String>,
    body: ApiJson<ChangeRole>,
) -> Result<HttpResponse, ApiError> {
    let member = tenants.change_role(&auth.user, &user_id, body.role).await?;
    Ok(HttpResponse::Ok().json(member))
}

/// Removes a member (their sessions in the tenant end). The last owner stays (`409`).
#[utoipa::path(delete, path = "/api/tenants/current/members/{user_id}", tag = "tenants",
    params(("user_id" = String, Path, description = "the member's user id")), responses(
    (status = 204),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin) | forbidden (owner role)"),
    (status = 404, body = ErrorBody, description = "not_found (also another tenant's member)"),
    (status = 409, body = ErrorBody, description = "last_owner"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn remove_member(
    tenants: web::Data<Tenants>,
    caller: CallerInfo,
    auth: RequireScope<Admin>,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    tenants.remove(&caller.0, &auth.user, &user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates an API key; the key (`sk_…`) is shown only in this answer.
#[utoipa::path(post, path = "/api/tenants/current/api-keys", tag = "tenants", request_body = CreateApiKey, responses(
    (status = 201, body = NewApiKey),
    (status = 400, body = ErrorBody, description = "malformed_json"),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin, or a requested scope beyond the caller's)"),
    (status = 413, body = ErrorBody, description = "payload_too_large"),
    (status = 415, body = ErrorBody, description = "unsupported_media_type"),
    (status = 422, body = ErrorBody, description = "validation_failed (name, scopes[i], expires_at)"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn create_key(
    keys: web::Data<ApiKeys>,
    auth: RequireScope<Admin>,
    body: ApiJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let key = keys.create(&auth.user, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(key))
}

/// The tenant's API keys, newest first (no key material).
#[utoipa::path(get, path = "/api/tenants/current/api-keys", tag = "tenants", params(Page), responses(
    (status = 200, body = ApiKeyList),
    (status = 400, body = ErrorBody, description = "invalid_query (cursor, limit)"),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin)"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn list_keys(
    keys: web::Data<ApiKeys>,
    auth: RequireScope<Admin>,
    query: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let list = keys.list(&auth.user.0.tid, &query.request()?).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Revokes an API key (refused everywhere within a second); idempotent.
#[utoipa::path(delete, path = "/api/tenants/current/api-keys/{key_id}", tag = "tenants",
    params(("key_id" = String, Path, description = "the key id (`key_…`)")), responses(
    (status = 204),
    (status = 401, body = ErrorBody, description = "unauthenticated"),
    (status = 403, body = ErrorBody, description = "missing_scope (admin)"),
    (status = 404, body = ErrorBody, description = "not_found (also another tenant's key)"),
    (status = 429, body = ErrorBody, description = "rate_limited (API key)")),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn revoke_key(
    keys: web::Data<ApiKeys>,
    auth: RequireScope<Admin>,
    key_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    keys.revoke(&auth.user.0.tid, &key_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

use platform_sdk::error::ErrorBody;
