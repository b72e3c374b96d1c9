//! The experience plane's one error enum, mapped to HTTP and the error body in exactly one place.

use actix_web::http::header::RETRY_AFTER;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use platform_sdk::error::{ErrorBody, FieldError};
use platform_sdk::runtime_client::RuntimeClientError;
use platform_sdk::state_surface::StateError;

/// Everything an experience endpoint can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Request fields failed validation (`422 validation_failed`, with `fields`).
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    /// Unknown email or wrong password, indistinguishably (`401 invalid_credentials`).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Missing, malformed, expired or revoked access token (`401 unauthenticated`).
    #[error("a valid access token is required")]
    Unauthenticated,
    /// Unknown, expired or revoked refresh token (`401 invalid_refresh_token`).
    #[error("the refresh token is invalid or expired")]
    InvalidRefreshToken,
    /// A rotated refresh token was replayed after the grace window; its family and session were
    /// ended (`401 refresh_token_reused`).
    #[error("the refresh token was already used; the session has been ended")]
    RefreshTokenReused,
    /// The token lacks the route's scope (`403 missing_scope`).
    #[error("this action requires the `{0}` scope")]
    MissingScope(&'static str),
    /// The caller may not use this resource (`403 forbidden`): e.g. a socket for a session that is
    /// missing, ended or someone else's.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such resource for this caller (`404 not_found`): also the answer for other tenants' ids.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The email is registered already (`409 email_taken`).
    #[error("an account with this email already exists")]
    EmailTaken,
    /// The user is a member of the tenant already (`409 already_member`).
    #[error("this user is already a member of the tenant")]
    AlreadyMember,
    /// The change would leave the tenant without an owner (`409 last_owner`).
    #[error("the last owner of a tenant can be neither demoted nor removed")]
    LastOwner,
    /// The invitation token is unknown (`400 invalid_invitation`).
    #[error("the invitation token is not valid")]
    InvitationInvalid,
    /// The invitation was used already (`409 invitation_used`).
    #[error("the invitation was already used")]
    InvitationUsed,
    /// The invitation expired (`410 invitation_expired`).
    #[error("the invitation has expired; ask for a new one")]
    InvitationExpired,
    /// The invitation is for another email (`403 invitation_email_mismatch`).
    #[error("the invitation was issued for another email address")]
    InvitationEmailMismatch,
    /// Too many attempts (`429 rate_limited` with `Retry-After`).
    #[error("too many attempts; retry later")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
    /// A query parameter is malformed or repeated (`400 invalid_query`, naming the parameter).
    #[error("query parameter `{parameter}`: {message}")]
    InvalidQuery {
        /// The parameter.
        parameter: &'static str,
        /// What is wrong with it.
        message: &'static str,
    },
    /// Too many open agent sockets for the session or the user (`429 too_many_sockets`).
    #[error("{0}")]
    TooManySockets(&'static str),
    /// The password-hashing queue is full (`503 busy` with `Retry-After: 1`).
    #[error("the service is busy; retry shortly")]
    Busy,
    /// The runtime refused a call the gateway forwarded (its `4xx` status, code, message and
    /// fields; our request id).
    #[error("{}", .body.error.message)]
    Refused {
        /// The runtime's status.
        status: StatusCode,
        /// The runtime's error body.
        body: Box<ErrorBody>,
    },
    /// The runtime plane could not be reached in time (`503 runtime_unavailable`).
    #[error("the runtime service is unavailable; retry shortly")]
    RuntimeUnavailable,
    /// The state store could not be reached (`503 state_unavailable`).
    #[error("the state store is unavailable; retry shortly")]
    StateUnavailable,
    /// Anything else (`500 internal_error`); the cause goes to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A one-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// Wraps any error as an internal one.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// Maps the failure of a forwarded runtime call, once for every gateway row: a `4xx` passes
    /// through (except `401`, which means our own service credential was refused: an internal
    /// error), no answer is `503 runtime_unavailable`, anything else is internal.
    pub fn forwarded(e: RuntimeClientError) -> Self {
        match e {
            RuntimeClientError::Rejected { status, body }
                if (400..500).contains(&status) && status != 401 =>
            {
                match StatusCode::from_u16(status) {
                    Ok(status) => Self::Refused { status, body },
                    Err(e) => Self::internal(e),
                }
            }
            other => other.into(),
        }
    }

    fn code(&self) -> &str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::MissingScope(_) => "missing_scope",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::EmailTaken => "email_taken",
            Self::AlreadyMember => "already_member",
            Self::LastOwner => "last_owner",
            Self::InvitationInvalid => "invalid_invitation",
            Self::InvitationUsed => "invitation_used",
            Self::InvitationExpired => "invitation_expired",
            Self::InvitationEmailMismatch => "invitation_email_mismatch",
            Self::RateLimited { .. } => "rate_limited",
            Self::InvalidQuery { .. } => "invalid_query",
            Self::TooManySockets(_) => "too_many_sockets",
            Self::Busy => "busy",
            Self::Refused { body, .. } => &body.error.code,
            Self::RuntimeUnavailable => "runtime_unavailable",
            Self::StateUnavailable => "state_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<StateError> for ApiError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Unavailable(_) => Self::StateUnavailable,
            other => Self::Internal(other.into()),
        }
    }
}

impl From<RuntimeClientError> for ApiError {
    fn from(e: RuntimeClientError) -> Self {
        match e {
            RuntimeClientError::Unavailable(cause) => {
                tracing::warn!(%cause, "runtime unavailable");
                Self::RuntimeUnavailable
            }
            e if e.is_not_found() => Self::NotFound("session"),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<platform_sdk::page::PageError> for ApiError {
    fn from(e: platform_sdk::page::PageError) -> Self {
        Self::InvalidQuery {
            parameter: e.field,
            message: e.message,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidCredentials
            | Self::Unauthenticated
            | Self::InvalidRefreshToken
            | Self::RefreshTokenReused => StatusCode::UNAUTHORIZED,
            Self::MissingScope(_) | Self::Forbidden(_) | Self::InvitationEmailMismatch => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::EmailTaken | Self::AlreadyMember | Self::LastOwner | Self::InvitationUsed => {
                StatusCode::CONFLICT
            }
            Self::InvitationInvalid | Self::InvalidQuery { .. } => StatusCode::BAD_REQUEST,
            Self::InvitationExpired => StatusCode::GONE,
            Self::RateLimited { .. } | Self::TooManySockets(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy | Self::RuntimeUnavailable | Self::StateUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Refused { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                "something went wrong on our side".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = ErrorBody::new(self.code(), message);
        match self {
            Self::Validation(fields) => body = body.with_fields(fields.clone()),
            Self::InvalidQuery { parameter, message } => {
                body = body.with_fields(vec![FieldError {
                    field: (*parameter).to_owned(),
                    message: (*message).to_owned(),
                }])
            }
            Self::Refused { body: runtime, .. } => {
                if let Some(fields) = &runtime.error.fields {
                    body = body.with_fields(fields.clone());
                }
                if let Some(details) = &runtime.error_details {
                    body = body.with_details(details.clone());
                }
            }
            _ => {}
        }
        let mut response = body.into_response(self.status_code());
        let retry_after = match self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Self::Busy | Self::RuntimeUnavailable | Self::TooManySockets(_) => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            if let Ok(value) = secs.to_string().parse() {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        if matches!(self, Self::Unauthenticated | Self::InvalidCredentials) {
            if let Ok(value) = "Bearer".parse() {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
