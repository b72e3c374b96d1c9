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

use crate::agent_wire::{
    ConversationList, ExecutionRecord, MessageList, SafetyAnswer, SessionEvent, SubmitIntentPayload,
};
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

/// Which session stream to follow, from where, and how long a full consumer is tolerated.
#[derive(Debug, Clone, Copy)]
pub struct Follow<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// Session.
    pub session_id: &'a str,
    /// Start after this event id (`-1`: from now).
    pub after: i64,
    /// How long `out` may stay full before the consumer counts as stalled.
    pub stall: Duration,
}

/// How following a session stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowEnd {
    /// The runtime ended the stream (e.g. it is shutting down).
    Ended,
    /// The consumer went away.
    ConsumerGone,
    /// The consumer stopped taking events.
    ConsumerStalled,
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
    /// Without a total timeout: event streams stay open as long as the socket they feed.
    stream_http: reqwest::Client,
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
        let stream_http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
        Ok(Self {
            http,
            stream_http,
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

    fn request(
        &self,
        method: Method,
        path: &str,
        request_id: &str,
    ) -> Result<reqwest::RequestBuilder, RuntimeClientError> {
        Ok(self
            .http
            .request(method, format!("{}{}", self.base_url, path))
            .header(REQUEST_ID_HEADER, request_id)
            .bearer_auth(self.service_token()?))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        request_id: &str,
        body: Option<&B>,
    ) -> Result<T, RuntimeClientError> {
        let mut req = self.request(method, path, request_id)?;
        if let Some(body) = body {
            req = req.json(body);
        }
        Self::read(req.send().await).await
    }

    /// Builds and signs a contract for `action` with a serialisable payload.
    fn sign<P: Serialize>(
        &self,
        action: &str,
        tenant_id: &str,
        user_id: Option<&str>,
        session_id: &str,
        payload: &P,
    ) -> Result<SignedIntent, RuntimeClientError> {
        let payload = serde_json::to_value(payload)
            .map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
        Ok(self.signer.sign(IntentRequest {
            action,
            tenant_id,
            user_id,
            session_id,
            payload,
        }))
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
        let payload = CreateSessionPayload { metadata };
        let intent = self.sign(
            actions::CREATE_SESSION,
            tenant_id,
            Some(user_id),
            session_id,
            &payload,
        )?;
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
        let payload = CreateSessionPayload { metadata };
        let intent = self.sign(
            actions::CREATE_ANONYMOUS_SESSION,
            ANONYMOUS_TENANT,
            None,
            session_id,
            &payload,
        )?;
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
        let payload = UpgradeSessionPayload {
            user_id: user_id.to_owned(),
        };
        let intent = self.sign(
            actions::UPGRADE_SESSION,
            tenant_id,
            Some(user_id),
            session_id,
            &payload,
        )?;
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
        let intent = self.sign(
            actions::END_SESSION,
            tenant_id,
            user_id,
            session_id,
            &serde_json::json!({}),
        )?;
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

    /// Starts an agent turn; `idempotency_key` makes a retried submit return the same execution.
    pub async fn submit_intent(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: Option<&str>,
        session_id: &str,
        payload: &SubmitIntentPayload,
        idempotency_key: Option<&str>,
    ) -> Result<ExecutionRecord, RuntimeClientError> {
        let intent = self.sign(
            actions::SUBMIT_INTENT,
            tenant_id,
            user_id,
            session_id,
            payload,
        )?;
        let mut req = self
            .request(Method::POST, "/api/intent/submit", request_id)?
            .json(&intent);
        if let Some(key) = idempotency_key {
            req = req.header("idempotency-key", key);
        }
        Self::read(req.send().await).await
    }

    /// Cancels an execution of the session.
    pub async fn cancel_execution(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: Option<&str>,
        session_id: &str,
        execution_id: &str,
    ) -> Result<ExecutionRecord, RuntimeClientError> {
        let intent = self.sign(
            actions::CANCEL_EXECUTION,
            tenant_id,
            user_id,
            session_id,
            &serde_json::json!({}),
        )?;
        let path = format!("/api/execution/{execution_id}/cancel");
        self.send_intent(Method::POST, &path, request_id, &intent)
            .await
    }

    /// Answers the safety hook of an execution of the session.
    pub async fn answer_safety(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: Option<&str>,
        session_id: &str,
        execution_id: &str,
        answer: &SafetyAnswer,
    ) -> Result<ExecutionRecord, RuntimeClientError> {
        let intent = self.sign(
            actions::ANSWER_SAFETY,
            tenant_id,
            user_id,
            session_id,
            answer,
        )?;
        let path = format!("/api/execution/{execution_id}/safety");
        self.send_intent(Method::POST, &path, request_id, &intent)
            .await
    }

    /// A user's conversations.
    pub async fn conversations(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<ConversationList, RuntimeClientError> {
        let path = format!("/api/conversations?tenant_id={tenant_id}&user_id={user_id}");
        self.call::<(), _>(Method::GET, &path, request_id, None)
            .await
    }

    /// Messages of one of a user's conversations.
    pub async fn messages(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
        conversation_id: &str,
    ) -> Result<MessageList, RuntimeClientError> {
        let path = format!(
            "/api/conversations/{conversation_id}/messages?tenant_id={tenant_id}&user_id={user_id}"
        );
        self.call::<(), _>(Method::GET, &path, request_id, None)
            .await
    }

    /// Follows the session's event stream (SSE) after `after` (`-1`: from now), sending each
    /// event into `out`. `cursor` tracks the newest event id seen (including the starting cursor
    /// the runtime announces); `ready` receives that starting cursor once the runtime has
    /// subscribed. When `out` stays full for `stall`, the consumer is stalled and following stops.
    pub async fn follow_session(
        &self,
        follow: Follow<'_>,
        cursor: &std::sync::atomic::AtomicI64,
        mut ready: Option<tokio::sync::oneshot::Sender<i64>>,
        out: &tokio::sync::mpsc::Sender<SessionEvent>,
    ) -> Result<FollowEnd, RuntimeClientError> {
        use futures_util::StreamExt as _;
        use std::sync::atomic::Ordering;
        let Follow {
            tenant_id,
            session_id,
            after,
            stall,
        } = follow;
        let res = self
            .stream_http
            .get(format!(
                "{}/api/session/{session_id}/stream?tenant_id={tenant_id}&after={after}",
                self.base_url
            ))
            .bearer_auth(self.service_token()?)
            .send()
            .await
            .map_err(|e| RuntimeClientError::Unavailable(e.to_string()))?;
        if !res.status().is_success() {
            return Self::read::<serde_json::Value>(Ok(res))
                .await
                .map(|_| FollowEnd::Ended);
        }
        let mut buffer = String::new();
        let mut body = res.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| RuntimeClientError::Unavailable(e.to_string()))?;
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(start) = block
                    .trim()
                    .strip_prefix(": cursor ")
                    .and_then(|c| c.parse::<i64>().ok())
                {
                    cursor.fetch_max(start, Ordering::AcqRel);
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(start);
                    }
                    continue;
                }
                let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                    continue;
                };
                let event: SessionEvent = serde_json::from_str(data)
                    .map_err(|e| RuntimeClientError::Protocol(e.to_string()))?;
                let id = event.event_id;
                match tokio::time::timeout(stall, out.send(event)).await {
                    Ok(Ok(())) => {
                        cursor.fetch_max(id, Ordering::AcqRel);
                    }
                    Ok(Err(_)) => return Ok(FollowEnd::ConsumerGone),
                    Err(_) => return Ok(FollowEnd::ConsumerStalled),
                }
            }
        }
        Ok(FollowEnd::Ended)
    }

    async fn read<T: DeserializeOwned>(
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, RuntimeClientError> {
        let res = sent.map_err(|e| RuntimeClientError::Unavailable(e.to_string()))?;
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
