//! The runtime's one error enum, mapped to HTTP and the error body in exactly one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use platform_sdk::error::ErrorBody;
use platform_sdk::state_surface::StateError;
use platform_sdk::traffic_cop::IntentError;

/// Everything a runtime endpoint can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No service credential, or an invalid one (`401 unauthenticated`).
    #[error("a valid service credential is required")]
    Unauthenticated,
    /// The intent failed verification (`403 invalid_intent`); nothing was written.
    #[error("invalid intent: {0}")]
    InvalidIntent(#[from] IntentError),
    /// The same contract is being processed right now (`409 intent_in_progress`); retry.
    #[error("this intent is still being processed")]
    IntentInProgress,
    /// No such resource in the caller's tenant (`404 not_found`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No execution of the session has a pending safety hook with this id (`404 unknown_hook`).
    #[error("no pending safety hook has this id")]
    UnknownHook,
    /// The client named an agent type the catalog does not have (`422 unknown_agent`); nothing
    /// was written.
    #[error("unknown agent type `{0}`")]
    UnknownAgent(String),
    /// A liaison without a pillar (`None`) or with one the catalog does not know
    /// (`422 unknown_pillar`); nothing was written.
    #[error("{}", unknown_pillar_message(.0.as_deref()))]
    UnknownPillar(Option<String>),
    /// The resource is not in a state that allows this (`409 conflict`).
    #[error("{0}")]
    Conflict(String),
    /// A state machine forbids this move (`409 invalid_transition`); nothing changed.
    #[error("cannot {action} a {what} that is {current}")]
    InvalidTransition {
        /// The kind of object (`wrapper`, `attestation`, ...).
        what: &'static str,
        /// Its current state.
        current: String,
        /// The refused action.
        action: &'static str,
    },
    /// The `Idempotency-Key` was used with a different request (`409 idempotency_conflict`).
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    /// A turn named a deployed agent that is not serving (`409 agent_unavailable`); nothing ran.
    #[error("agent {agent_id} is {status}; only an active agent can take a turn")]
    AgentUnavailable {
        /// The wrapper id.
        agent_id: String,
        /// Its deployment status.
        status: String,
    },
    /// A request field is invalid (`422 validation_failed`).
    #[error("{field}: {message}")]
    Validation {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A query parameter is malformed (`400 invalid_query`, naming the parameter).
    #[error("query parameter `{parameter}` {message}")]
    InvalidQuery {
        /// The parameter.
        parameter: &'static str,
        /// What is wrong with it.
        message: &'static str,
    },
    /// A governance-loop request breaks its schema (`400 request_validation_error`): the body
    /// lists each violation in `error.fields` and, as SPEC §10 asks, in
    /// `error_details{code: REQUEST_VALIDATION_ERROR, schema_validation_errors}`.
    #[error("the request does not match its schema ({} violation(s))", .0.len())]
    SchemaViolation(Vec<platform_sdk::error::FieldError>),
    /// An `If-Match` precondition does not hold (`412 precondition_failed`); nothing changed.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A request breaks the tenant's policy (`400 policy_violation`, naming the rule in
    /// `fields`); nothing was written.
    #[error("policy rule `{rule}`: {message}")]
    PolicyViolation {
        /// The rule (`modality`, `text_length`, `timeout`, `base64`, `artifact_size`).
        rule: &'static str,
        /// What broke it.
        message: String,
    },
    /// The state store is unreachable (`503 state_unavailable`).
    #[error("state store unavailable")]
    StateUnavailable(#[source] StateError),
    /// Anything else (`500 internal_error`); the cause goes to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// A query parameter holds values the endpoint does not know (`400 invalid_query`, naming
    /// the parameter and, in the message, the values).
    #[error("query parameter `{parameter}` {message}")]
    InvalidQueryValue {
        /// The parameter.
        parameter: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

fn unknown_pillar_message(raw: Option<&str>) -> String {
    match raw {
        Some(raw) => format!("unknown pillar `{raw}`"),
        None => "a liaison needs metadata.pillar".to_owned(),
    }
}

impl From<StateError> for RuntimeError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Unavailable(_) => Self::StateUnavailable(e),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<sqlx::Error> for RuntimeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl RuntimeError {
    /// `422 validation_failed` naming `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }

    /// The stable `error.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidIntent(_) => "invalid_intent",
            Self::IntentInProgress => "intent_in_progress",
            Self::NotFound(_) => "not_found",
            Self::UnknownHook => "unknown_hook",
            Self::UnknownAgent(_) => "unknown_agent",
            Self::UnknownPillar(_) => "unknown_pillar",
            Self::Conflict(_) => "conflict",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::IdempotencyConflict => "idempotency_conflict",
            Self::AgentUnavailable { .. } => "agent_unavailable",
            Self::Validation { .. } => "validation_failed",
            Self::InvalidQuery { .. } => "invalid_query",
            Self::SchemaViolation(_) => "request_validation_error",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PolicyViolation { .. } => "policy_violation",
            Self::StateUnavailable(_) => "state_unavailable",
            Self::Internal(_) => "internal_error",
            Self::InvalidQueryValue { .. } => "invalid_query",
        }
    }
}

impl From<platform_sdk::page::PageError> for RuntimeError {
    fn from(e: platform_sdk::page::PageError) -> Self {
        Self::InvalidQuery {
            parameter: e.field,
            message: e.message,
        }
    }
}

impl ResponseError for RuntimeError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::InvalidIntent(_) => StatusCode::FORBIDDEN,
            Self::IntentInProgress
            | Self::Conflict(_)
            | Self::InvalidTransition { .. }
            | Self::IdempotencyConflict
            | Self::AgentUnavailable { .. } => StatusCode::CONFLICT,
            Self::NotFound(_) | Self::UnknownHook => StatusCode::NOT_FOUND,
            Self::InvalidQuery { .. } | Self::SchemaViolation(_) | Self::PolicyViolation { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::Validation { .. } | Self::UnknownAgent(_) | Self::UnknownPillar(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::StateUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InvalidQueryValue { .. } => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                "something went wrong on our side".to_owned()
            }
            Self::StateUnavailable(cause) => {
                tracing::warn!(error = %cause, "state store unavailable");
                self.to_string()
            }
            other => other.to_string(),
        };
        let mut body = ErrorBody::new(self.code(), message);
        let field = match self {
            Self::Validation { field, message } => Some((*field, message.as_str())),
            Self::InvalidQuery { parameter, message } => Some((*parameter, *message)),
            Self::PolicyViolation { rule, message } => Some((*rule, message.as_str())),
            Self::InvalidQueryValue { parameter, message } => Some((*parameter, message.as_str())),
            _ => None,
        };
        if let Some((field, message)) = field {
            body = body.with_fields(vec![platform_sdk::error::FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            }]);
        }
        if let Self::SchemaViolation(violations) = self {
            body = body.with_fields(violations.clone()).with_details(
                platform_sdk::error::ErrorDetails {
                    code: "REQUEST_VALIDATION_ERROR".to_owned(),
                    schema_validation_errors: violations.clone(),
                },
            );
        }
        body.into_response(status)
    }
}
