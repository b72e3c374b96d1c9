//! One call to the runtime and its answer, as data: what the typed [`RuntimeClient`] methods
//! and the experience gateway both build and hand to [`RuntimeClient::send`], the one
//! signed-request path. Also how answers are read and how path segments are encoded.
//!
//! [`RuntimeClient`]: crate::runtime_client::RuntimeClient
//! [`RuntimeClient::send`]: crate::runtime_client::RuntimeClient::send

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::error::ErrorBody;

/// Tenant id under which anonymous sessions live until they are upgraded.
pub const ANONYMOUS_TENANT: &str = "public";

/// Intent action names, shared by both sides.
pub mod actions {
    /// Create a user session.
    pub const CREATE_SESSION: &str = "create_session";
    /// Create an anonymous session.
    pub const CREATE_ANONYMOUS_SESSION: &str = "create_anonymous_session";
    /// Attach a user to an anonymous session.
    pub const UPGRADE_SESSION: &str = "upgrade_session";
    /// End a session.
    pub const END_SESSION: &str = "end_session";
    /// Start an agent turn.
    pub const SUBMIT_INTENT: &str = "submit_intent";
    /// Cancel an execution.
    pub const CANCEL_EXECUTION: &str = "cancel_execution";
    /// Answer a safety hook.
    pub const ANSWER_SAFETY: &str = "answer_safety";
}

/// Why a runtime call failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeClientError {
    /// The runtime could not be reached or did not answer in time.
    #[error("runtime unavailable: {0}")]
    Unavailable(String),
    /// The runtime answered with an error body.
    #[error("runtime refused the call: {status} {}", body.error.code)]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The runtime's error body.
        body: Box<ErrorBody>,
    },
    /// The runtime answered something we could not read, or a token could not be minted.
    #[error("runtime protocol error: {0}")]
    Protocol(String),
}

impl RuntimeClientError {
    /// True for a `404` from the runtime.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Rejected { status: 404, .. })
    }

    /// True when the request certainly never reached the runtime (the connection could not be
    /// made), so nothing it asked for can have happened. A timeout is not such a case: the
    /// runtime may have received the request and may still act on it.
    pub fn not_delivered(&self) -> bool {
        matches!(self, Self::Unavailable(cause) if cause.starts_with(NOT_DELIVERED))
    }
}

/// Prefix of an [`RuntimeClientError::Unavailable`] cause when the connection could not be made.
const NOT_DELIVERED: &str = "not delivered: ";

/// Characters left as they are in a path segment (RFC 3986 unreserved); all others are encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment, so an id can never add a `/`, `?` or `#` to a path.
pub fn encode_segment(raw: &str) -> String {
    utf8_percent_encode(raw, SEGMENT).to_string()
}

/// Who a signed intent acts for: always taken from the caller's verified token.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// User, if any.
    pub user_id: Option<&'a str>,
    /// Session.
    pub session_id: &'a str,
}

/// How a call proves itself to the runtime.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The service token only (reads); the body, if any, is sent as JSON.
    Service,
    /// A signed intent for `action`; the body is its payload.
    Intent {
        /// The action the runtime endpoint expects.
        action: &'a str,
        /// Who it is for.
        actor: Actor<'a>,
    },
}

/// One call to the runtime, as the typed methods and the experience gateway build it.
#[derive(Debug, Clone)]
pub struct RuntimeCall<'a> {
    /// HTTP method.
    pub method: Method,
    /// Path on the runtime, segments already encoded ([`encode_segment`]).
    pub path: String,
    /// Query parameters (encoded when sent).
    pub query: Vec<(String, String)>,
    /// Request id forwarded as `x-request-id`.
    pub request_id: &'a str,
    /// Service token or signed intent.
    pub credential: Credential<'a>,
    /// JSON body (for an intent: its payload, `{}` when absent).
    pub body: Option<Value>,
    /// `Idempotency-Key` header.
    pub idempotency_key: Option<&'a str>,
    /// `If-Match` header (a precondition the runtime endpoint checks, e.g. a state version).
    pub if_match: Option<&'a str>,
    /// A longer total timeout than the client's, for calls that wait on agents.
    pub timeout: Option<std::time::Duration>,
}

impl<'a> RuntimeCall<'a> {
    /// A call with the service token and no body.
    pub fn read(method: Method, path: String, request_id: &'a str) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            request_id,
            credential: Credential::Service,
            body: None,
            idempotency_key: None,
            if_match: None,
            timeout: None,
        }
    }

    /// A signed intent for `action` carrying `payload`.
    pub fn intent(
        method: Method,
        path: String,
        request_id: &'a str,
        action: &'a str,
        actor: Actor<'a>,
        payload: Value,
    ) -> Self {
        Self {
            credential: Credential::Intent { action, actor },
            body: Some(payload),
            ..Self::read(method, path, request_id)
        }
    }

    /// Adds a query parameter.
    pub fn param(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// A successful answer of the runtime: status and raw JSON body.
#[derive(Debug, Clone)]
pub struct RuntimeAnswer {
    /// HTTP status (2xx).
    pub status: u16,
    /// The body as sent.
    pub body: Vec<u8>,
    /// Its media type, when it is not JSON (a downloaded artifact); `None` for JSON.
    pub content_type: Option<String>,
}

pub(crate) fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, RuntimeClientError> {
    serde_json::to_value(value).map_err(|e| RuntimeClientError::Protocol(e.to_string()))
}

/// Reads an answer: a 2xx as it is, an error body as [`RuntimeClientError::Rejected`].
pub(crate) async fn read(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<RuntimeAnswer, RuntimeClientError> {
    let res = sent.map_err(|e| {
        RuntimeClientError::Unavailable(if e.is_connect() {
            format!("{NOT_DELIVERED}{e}")
        } else {
            e.to_string()
        })
    })?;
    let status = res.status();
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.starts_with("application/json"))
        .map(str::to_owned);
    let bytes = res
        .bytes()
        .await
        .map_err(|e| RuntimeClientError::Unavailable(e.to_string()))?;
    if status.is_success() {
        return Ok(RuntimeAnswer {
            status: status.as_u16(),
            body: bytes.to_vec(),
            content_type,
        });
    }
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::BAD_GATEWAY {
        return Err(RuntimeClientError::Unavailable(format!("status {status}")));
    }
    let body: ErrorBody = serde_json::from_slice(&bytes)
        .map_err(|_| RuntimeClientError::Protocol(format!("status {status} without error body")))?;
    Err(RuntimeClientError::Rejected {
        status: status.as_u16(),
        body: Box::new(body),
    })
}
