//! The one error body every endpoint of both planes answers with (SPEC §6):
//! `{"error":{"code":"snake_case","message":"…","request_id":"…","fields":[…]?}}`.
//!
//! Each service has its own error enum that maps onto this shape in exactly one place; this
//! module only owns the wire shape and the helper that renders it.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One invalid field of a request (validation errors only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field name as the client sent it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The inside of the error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code (`invalid_credentials`, `missing_scope`, ...).
    pub code: String,
    /// Human-readable explanation. Never carries internal detail on a 5xx.
    pub message: String,
    /// The request id of the failing request, for support and log correlation.
    pub request_id: String,
    /// Per-field problems, only on validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
}

/// Machine-readable details a few endpoints add beside `error`: the governance loop
/// (SPEC §10) lists every way a request breaks its schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetails {
    /// `REQUEST_VALIDATION_ERROR`.
    pub code: String,
    /// Each violation: the field's path (`plan_input.plan_id`) and what is wrong.
    pub schema_validation_errors: Vec<FieldError>,
}

/// The error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
    /// Present on the governance loop's schema violations only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_details: Option<ErrorDetails>,
}

impl ErrorBody {
    /// Builds a body for the current request (its id is read from the request-id scope).
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                request_id: crate::http::current_request_id(),
                fields: None,
            },
            error_details: None,
        }
    }

    /// Adds per-field validation problems.
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.error.fields = Some(fields);
        self
    }

    /// Adds machine-readable details beside `error`.
    pub fn with_details(mut self, details: ErrorDetails) -> Self {
        self.error_details = Some(details);
        self
    }

    /// Renders the body with the given status.
    pub fn into_response(self, status: StatusCode) -> HttpResponse {
        HttpResponse::build(status).json(self)
    }
}

/// Shorthand: render `{code, message}` with a status.
pub fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    ErrorBody::new(code, message).into_response(status)
}
