//! Authentication and authorisation as extractors, so handlers never repeat the checks.
//!
//! - [`AuthUser`]: a valid bearer access token whose session has not been ended.
//! - [`RequireScope<S>`]: the same, plus the scope named by the marker type `S`
//!   (`403 missing_scope` naming the scope otherwise).
//! - [`require_scope`]: the scope check itself, for scopes named by data (gateway rows).
//! - [`CallerInfo`]: request id, client address and user agent of the request ([`Caller`]).

use std::future::ready;
use std::marker::PhantomData;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use platform_sdk::http::{bearer, client_ip, current_request_id};
use platform_sdk::security_guard::AccessClaims;

use crate::error::ApiError;
use crate::identity::Identity;

/// Whether to trust `X-Forwarded-For` (app data set at start-up).
#[derive(Debug, Clone, Copy)]
pub struct TrustForwardedFor(pub bool);

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser(pub AccessClaims);

/// Verifies a token and checks its session was not ended.
pub fn authenticate(identity: &Identity, token: &str) -> Result<AccessClaims, ApiError> {
    let claims = identity.tokens().verify(token).map_err(|e| {
        tracing::debug!(reason = %e, "access token refused");
        ApiError::Unauthenticated
    })?;
    if identity.revoked().contains(&claims.sid) {
        return Err(ApiError::Unauthenticated);
    }
    Ok(claims)
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match (req.app_data::<web::Data<Identity>>(), bearer(req)) {
            (Some(identity), Some(token)) => authenticate(identity, token).map(AuthUser),
            (None, _) => Err(ApiError::internal(anyhow::anyhow!(
                "identity service not configured"
            ))),
            (_, None) => Err(ApiError::Unauthenticated),
        };
        ready(result)
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

impl<S: ScopeName> FromRequest for RequireScope<S> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let result = AuthUser::from_request(req, payload)
            .into_inner()
            .and_then(|user| {
                require_scope(&user, S::SCOPE)?;
                Ok(RequireScope {
                    user,
                    _scope: PhantomData,
                })
            });
        ready(result)
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
