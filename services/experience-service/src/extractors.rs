//! Authentication and authorisation as extractors, so handlers never repeat the checks.
//!
//! - [`AuthUser`]: a valid bearer access token whose session has not been ended, with the
//!   member's latest role change applied (ADR 0010); or an API key (`X-API-Key: sk_…` or
//!   `Authorization: Bearer sk_…`) acting for its tenant with exactly its scopes.
//! - [`RequireScope<S>`]: the same, plus the scope named by the marker type `S`
//!   (`403 missing_scope` naming the scope otherwise).
//! - [`require_scope`]: the scope check itself, for scopes named by data (gateway rows).
//! - [`CallerInfo`]: request id, client address and user agent of the request ([`Caller`]).

use std::future::ready;
use std::marker::PhantomData;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::{Either, LocalBoxFuture};
use platform_sdk::http::{bearer, client_ip, current_request_id};
use platform_sdk::security_guard::{AccessClaims, Role, ScopeSet};

use crate::error::ApiError;
use crate::identity::Identity;
use crate::tenants::domain::changes::Standing;
use crate::tenants::domain::secrets::{is_api_key, KEY_PREFIX};
use crate::tenants::ApiKeys;

/// The header an API key may be sent in (besides `Authorization: Bearer sk_…`).
pub const API_KEY_HEADER: &str = "x-api-key";

/// Whether to trust `X-Forwarded-For` (app data set at start-up).
#[derive(Debug, Clone, Copy)]
pub struct TrustForwardedFor(pub bool);

/// The authenticated caller: a person's access token, or an API key (whose claims name the
/// tenant, the creating user it acts as, its scopes, no roles, and `jti` = the key id).
#[derive(Debug, Clone)]
pub struct AuthUser(pub AccessClaims);

impl AuthUser {
    /// The key id when the caller is an API key.
    pub fn api_key(&self) -> Option<&str> {
        self.0
            .jti
            .starts_with("key_")
            .then_some(self.0.jti.as_str())
    }

    /// The caller's role in the tenant (`None` for an API key).
    pub fn role(&self) -> Option<Role> {
        if self.api_key().is_some() {
            return None;
        }
        self.0.roles.first().and_then(|r| Role::parse(r))
    }
}

/// Verifies an access token, checks its session was not ended, and applies the member's latest
/// role change (a demoted member's token loses the scopes, a removed member's is refused).
/// API keys are refused here with a clear `403`: this is also the agent socket's check, and
/// keys cannot open the socket.
pub fn authenticate(identity: &Identity, token: &str) -> Result<AccessClaims, ApiError> {
    if is_api_key(token) {
        return Err(ApiError::Forbidden(
            "API keys cannot open the agent socket; log in and use an access token",
        ));
    }
    let mut claims = identity.tokens().verify(token).map_err(|e| {
        tracing::debug!(reason = %e, "access token refused");
        ApiError::Unauthenticated
    })?;
    if identity.revoked().contains(&claims.sid) {
        return Err(ApiError::Unauthenticated);
    }
    match identity.access().standing(&claims.tid, &claims.sub) {
        Standing::Unchanged => {}
        Standing::Removed => return Err(ApiError::Unauthenticated),
        Standing::Role(role) => {
            if claims.roles.len() != 1 || claims.roles[0] != role.as_str() {
                claims.roles = vec![role.as_str().to_owned()];
                claims.scope = ScopeSet::for_roles(&[role]).to_claim();
            }
        }
    }
    Ok(claims)
}

/// The credential a request presents: `X-API-Key`, else the bearer token.
fn presented(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(API_KEY_HEADER)
        .map(|v| v.to_str().unwrap_or_default().trim())
        .or_else(|| bearer(req))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Either<
        std::future::Ready<Result<Self, Self::Error>>,
        LocalBoxFuture<'static, Result<Self, Self::Error>>,
    >;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(identity) = req.app_data::<web::Data<Identity>>() else {
            return Either::Left(ready(Err(ApiError::internal(anyhow::anyhow!(
                "identity service not configured"
            )))));
        };
        match presented(req) {
            None => Either::Left(ready(Err(ApiError::Unauthenticated))),
            Some(key)
                if key.starts_with(KEY_PREFIX) || req.headers().contains_key(API_KEY_HEADER) =>
            {
                let Some(keys) = req.app_data::<web::Data<ApiKeys>>().cloned() else {
                    return Either::Left(ready(Err(ApiError::internal(anyhow::anyhow!(
                        "API keys not configured"
                    )))));
                };
                let key = key.to_owned();
                Either::Right(Box::pin(async move {
                    keys.authenticate(&key).await.map(AuthUser)
                }))
            }
            Some(token) => Either::Left(ready(authenticate(identity, token).map(AuthUser))),
        }
    }
}

/// Names a scope at the type level.
pub trait ScopeName {
    /// The scope, `resource:action`.
    const SCOPE: &'static str;
}

/// The authenticated caller holding scope `S`.
#[derive(Debug)]
pub struct RequireScope<S: ScopeName> {
    /// The caller.
    pub user: AuthUser,
    _scope: PhantomData<S>,
}

impl<S: ScopeName + 'static> FromRequest for RequireScope<S> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = AuthUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            require_scope(&user, S::SCOPE)?;
            Ok(RequireScope {
                user,
                _scope: PhantomData,
            })
        })
    }
}

/// Checks that the caller's token grants `scope` (`403 missing_scope` naming it otherwise); the
/// check behind [`RequireScope`], also used by the gateway rows.
pub fn require_scope(user: &AuthUser, scope: &'static str) -> Result<(), ApiError> {
    if user.0.scopes().grants(scope) {
        Ok(())
    } else {
        Err(ApiError::MissingScope(scope))
    }
}

/// Scope markers.
pub mod scopes {
    use super::ScopeName;

    /// `sessions:read`.
    #[derive(Debug)]
    pub struct SessionsRead;
    impl ScopeName for SessionsRead {
        const SCOPE: &'static str = "sessions:read";
    }

    /// `agents:read`.
    #[derive(Debug)]
    pub struct AgentsRead;
    impl ScopeName for AgentsRead {
        const SCOPE: &'static str = "agents:read";
    }

    /// `admin` (tenant administration: members, API keys, renaming).
    #[derive(Debug)]
    pub struct Admin;
    impl ScopeName for Admin {
        const SCOPE: &'static str = "admin";
    }
}

/// Who is calling, for logs, throttles and session metadata.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Request id (forwarded to the runtime).
    pub request_id: String,
    /// Client address.
    pub ip: String,
    /// User agent, if sent.
    pub user_agent: Option<String>,
}

impl Caller {
    /// What a new runtime session records about who opened it.
    pub fn session_metadata(&self) -> serde_json::Value {
        serde_json::json!({"ip": self.ip, "user_agent": self.user_agent})
    }
}

/// Request id, client address and user agent.
#[derive(Debug, Clone)]
pub struct CallerInfo(pub Caller);

impl FromRequest for CallerInfo {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trust = req
            .app_data::<web::Data<TrustForwardedFor>>()
            .map(|t| t.0)
            .unwrap_or(false);
        let caller = Caller {
            request_id: current_request_id(),
            ip: client_ip(req, trust),
            user_agent: req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(256).collect()),
        };
        ready(Ok(CallerInfo(caller)))
    }
}

/// The caller of logout: a correctly signed, unexpired access token, whether or not its session
/// was already ended (so logging out twice answers `204` both times).
#[derive(Debug, Clone)]
pub struct LogoutCaller {
    /// The token's claims.
    pub claims: AccessClaims,
    /// True when the session was already ended.
    pub already_ended: bool,
}

impl FromRequest for LogoutCaller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match (req.app_data::<web::Data<Identity>>(), bearer(req)) {
            (Some(identity), Some(token)) => identity
                .tokens()
                .verify(token)
                .map(|claims| LogoutCaller {
                    already_ended: identity.revoked().contains(&claims.sid),
                    claims,
                })
                .map_err(|_| ApiError::Unauthenticated),
            (None, _) => Err(ApiError::internal(anyhow::anyhow!(
                "identity service not configured"
            ))),
            (_, None) => Err(ApiError::Unauthenticated),
        };
        ready(result)
    }
}
