//! The typed client the experience plane uses to reach the runtime plane.
//!
//! Mutations are sent as signed intents (built here with the [`IntentSigner`]); reads carry a
//! cached one-minute service token. Every call forwards the caller's request id and is bounded by
//! the client's timeout, so a dead runtime turns into [`RuntimeClientError::Unavailable`] quickly
//! instead of a hung request. Nothing is retried here: the caller decides (a retry of the same
//! signed intent is safe, the runtime answers it with the original result).

use std::sync::Mutex;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ErrorBody;
use crate::http::REQUEST_ID_HEADER;
use crate::security_guard::service::mint;
use crate::security_guard::KeyRing;
use crate::traffic_cop::{IntentRequest, IntentSigner, SignedIntent};
use crate::wire::{
    CreateSessionPayload, SessionList, SessionRecord, UpgradeSessionPayload,
    ValidateSessionRequest, ValidateSessionResponse,
};

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
}

/// The client; build once and share.
pub struct RuntimeClient {
    http: reqwest::Client,
    base_url: String,
    signer: IntentSigner,
    service_ring: KeyRing,
    token: Mutex<Option<(String, i64)>>,
}

impl RuntimeClient {
    /// A client for `base_url` (`http://127.0.0.1:8000`), with a per-call timeout.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        service_ring: KeyRing,
    ) -> Result<Self, RuntimeClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            signer: IntentSigner::new(service_ring.clone(), 30_000),
            service_ring,
            token: Mutex::new(None),
        })
    }

    /// The intent signer (tests sign their own contracts with it).
    pub fn signer(&self) -> &IntentSigner {
        &self.signer
    }

    fn service_token(&self) -> Result<String, RuntimeClientError> {
        let now = crate::time_util::now_secs();
        let mut cached = self
            .token
            .lock()
            .map_err(|_| RuntimeClientError::Protocol("token cache poisoned".into()))?;
        if let Some((token, exp)) = cached.as_ref() {
            if *exp - now > 15 {
                return Ok(token.clone());
            }
        }
        let (token, exp) =
            mint(&self.service_ring).map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
        *cached = Some((token.clone(), exp));
        Ok(token)
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        request_id: &str,
        body: Option<&B>,
    ) -> Result<T, RuntimeClientError> {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base_url, path))
            .header(REQUEST_ID_HEADER, request_id)
            .bearer_auth(self.service_token()?);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req
            .send()
            .await
            .map_err(|e| RuntimeClientError::Unavailable(e.to_string()))?;
        let status = res.status();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| RuntimeClientError::Unavailable(e.to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| RuntimeClientError::Protocol(e.to_string()));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::BAD_GATEWAY {
            return Err(RuntimeClientError::Unavailable(format!("status {status}")));
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).map_err(|_| {
            RuntimeClientError::Protocol(format!("status {status} without error body"))
        })?;
        Err(RuntimeClientError::Rejected {
            status: status.as_u16(),
            body: Box::new(body),
        })
    }

    /// Sends an already signed intent (safe to retry: the runtime replays the original answer).
    pub async fn send_intent<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        request_id: &str,
        intent: &SignedIntent,
    ) -> Result<T, RuntimeClientError> {
        self.call(method, path, request_id, Some(intent)).await
    }

    /// Creates the session `session_id` for a user.
    pub async fn create_session(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
        metadata: serde_json::Value,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let payload = serde_json::to_value(CreateSessionPayload { metadata })
            .map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
        let intent = self.signer.sign(IntentRequest {
            action: actions::CREATE_SESSION,
            tenant_id,
            user_id: Some(user_id),
            session_id,
            payload,
        });
        self.send_intent(Method::POST, "/api/session/create", request_id, &intent)
            .await
    }

    /// Creates an anonymous session (guide agent only) in the public tenant.
    pub async fn create_anonymous_session(
        &self,
        request_id: &str,
        session_id: &str,
        metadata: serde_json::Value,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let payload = serde_json::to_value(CreateSessionPayload { metadata })
            .map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
        let intent = self.signer.sign(IntentRequest {
            action: actions::CREATE_ANONYMOUS_SESSION,
            tenant_id: ANONYMOUS_TENANT,
            user_id: None,
            session_id,
            payload,
        });
        self.send_intent(
            Method::POST,
            "/api/session/create-anonymous",
            request_id,
            &intent,
        )
        .await
    }

    /// Attaches a user (of `tenant_id`) to an anonymous session, keeping its id.
    pub async fn upgrade_session(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let payload = serde_json::to_value(UpgradeSessionPayload {
            user_id: user_id.to_owned(),
        })
        .map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
        let intent = self.signer.sign(IntentRequest {
            action: actions::UPGRADE_SESSION,
            tenant_id,
            user_id: Some(user_id),
            session_id,
            payload,
        });
        let path = format!("/api/session/{session_id}/upgrade");
        self.send_intent(Method::PATCH, &path, request_id, &intent)
            .await
    }

    /// Ends a session.
    pub async fn end_session(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: Option<&str>,
        session_id: &str,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let intent = self.signer.sign(IntentRequest {
            action: actions::END_SESSION,
            tenant_id,
            user_id,
            session_id,
            payload: serde_json::json!({}),
        });
        let path = format!("/api/session/{session_id}");
        self.send_intent(Method::DELETE, &path, request_id, &intent)
            .await
    }

    /// Reads a session of a tenant.
    pub async fn get_session(
        &self,
        request_id: &str,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let path = format!("/api/session/{session_id}?tenant_id={tenant_id}");
        self.call::<(), _>(Method::GET, &path, request_id, None)
            .await
    }

    /// Checks that a session exists, is active and belongs to the user; slides its idle TTL.
    pub async fn validate_session(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
        session_id: &str,
    ) -> Result<ValidateSessionResponse, RuntimeClientError> {
        let body = ValidateSessionRequest {
            tenant_id: tenant_id.to_owned(),
            user_id: user_id.to_owned(),
        };
        let path = format!("/api/session/{session_id}/validate");
        self.call(Method::POST, &path, request_id, Some(&body))
            .await
    }

    /// Lists a user's active sessions.
    pub async fn list_sessions(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<SessionList, RuntimeClientError> {
        let path = format!("/api/sessions?tenant_id={tenant_id}&user_id={user_id}");
        self.call::<(), _>(Method::GET, &path, request_id, None)
            .await
    }

    /// `GET /health/live` on the runtime (used by experience readiness).
    pub async fn live(&self) -> Result<(), RuntimeClientError> {
        let res = self
            .http
            .get(format!("{}/health/live", self.base_url))
            .send()
            .await
            .map_err(|e| RuntimeClientError::Unavailable(e.to_string()))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(RuntimeClientError::Unavailable(format!(
                "status {}",
                res.status()
            )))
        }
    }
}
