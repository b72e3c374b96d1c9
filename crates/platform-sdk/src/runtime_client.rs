//! The client the experience plane uses to reach the runtime plane.
//!
//! Every call takes one path, [`RuntimeClient::send`]: build the request (a signed intent for
//! mutations, the cached one-minute service token for reads), send it with the caller's request
//! id under the client's timeouts, and read the answer. An error body becomes
//! [`RuntimeClientError::Rejected`]; no answer in time, a 502 or a 503 becomes
//! [`RuntimeClientError::Unavailable`]. The typed methods are the calls whose answers the
//! experience plane itself reads (sessions, the socket's commands); the experience gateway sends
//! its table rows through `send` as they are. The session event stream is in
//! [`crate::runtime_stream`].
//!
//! The client may know several runtime replicas (a comma-separated URL list): calls go round
//! robin, and a call that could not be delivered at all (connection refused: a replica stopped
//! or not there) goes to the next replica. Nothing else is retried here: the caller decides (a
//! retry of the same signed intent is safe, the runtime answers it with the original result).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::agent_wire::{ExecutionRecord, SafetyAnswer, SubmitIntentPayload};
use crate::http::REQUEST_ID_HEADER;
pub use crate::runtime_call::{
    actions, encode_segment, Actor, Credential, RuntimeAnswer, RuntimeCall, RuntimeClientError,
    ANONYMOUS_TENANT,
};
use crate::runtime_call::{read, to_value};
use crate::security_guard::service::mint;
use crate::security_guard::KeyRing;
use crate::traffic_cop::{IntentRequest, IntentSigner};
use crate::wire::{
    CreateSessionPayload, SessionList, SessionRecord, UpgradeSessionPayload,
    ValidateSessionRequest, ValidateSessionResponse,
};

/// The client; build once and share.
pub struct RuntimeClient {
    http: reqwest::Client,
    /// Without a total timeout: event streams stay open as long as the socket they feed.
    pub(crate) stream_http: reqwest::Client,
    /// The runtime replicas, without trailing `/`.
    base_urls: Vec<String>,
    /// Round-robin position.
    next: AtomicUsize,
    signer: IntentSigner,
    service_ring: KeyRing,
    token: Mutex<Option<(String, i64)>>,
}

/// How long an idle pooled runtime connection is reused (below the runtime's keep-alive).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

impl RuntimeClient {
    /// A client for `base_url` (`http://127.0.0.1:8000`, or several replicas separated by
    /// commas), with a per-call timeout.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        service_ring: KeyRing,
    ) -> Result<Self, RuntimeClientError> {
        // TCP_NODELAY is reqwest's default; said here so it stays on (ADR 0009): a signed
        // intent is one small write whose answer the caller is waiting for.
        let built = |b: reqwest::ClientBuilder| {
            b.connect_timeout(timeout)
                .tcp_nodelay(true)
                .build()
                .map_err(|e| RuntimeClientError::Protocol(e.to_string()))
        };
        Ok(Self {
            http: built(
                reqwest::Client::builder()
                    .timeout(timeout)
                    .pool_max_idle_per_host(64)
                    // Under the runtime's 5 s keep-alive (actix's default): a pooled connection
                    // the runtime is closing is never picked. Its close is otherwise only noticed
                    // when this worker polls it, and a worker busy for seconds (a multi-megabyte
                    // body) would write into a closed socket: `503 runtime_unavailable`.
                    .pool_idle_timeout(POOL_IDLE_TIMEOUT),
            )?,
            stream_http: built(reqwest::Client::builder())?,
            base_urls: {
                let urls: Vec<String> = base_url
                    .split(',')
                    .map(|u| u.trim().trim_end_matches('/').to_owned())
                    .filter(|u| !u.is_empty())
                    .collect();
                if urls.is_empty() {
                    return Err(RuntimeClientError::Protocol("no runtime URL".into()));
                }
                urls
            },
            next: AtomicUsize::new(0),
            signer: IntentSigner::new(service_ring.clone(), 30_000),
            service_ring,
            token: Mutex::new(None),
        })
    }

    pub(crate) fn service_token(&self) -> Result<String, RuntimeClientError> {
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

    /// The replicas in the order this call tries them: round robin, then the others.
    pub(crate) fn rotation(&self) -> impl Iterator<Item = &str> {
        let n = self.base_urls.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        (0..n).map(move |i| self.base_urls[(start + i) % n].as_str())
    }

    /// Sends one call: signs it when it is an intent, forwards the request id, reads the answer.
    /// A call no replica could be reached for fails with the last replica's error.
    pub async fn send(&self, call: RuntimeCall<'_>) -> Result<RuntimeAnswer, RuntimeClientError> {
        let token = self.service_token()?;
        let body = match (call.credential, call.body) {
            (Credential::Service, body) => body,
            (Credential::Intent { action, actor }, payload) => {
                Some(to_value(&self.signer.sign(IntentRequest {
                    action,
                    tenant_id: actor.tenant_id,
                    user_id: actor.user_id,
                    session_id: actor.session_id,
                    payload: payload.unwrap_or_else(|| serde_json::json!({})),
                }))?)
            }
        };
        let mut last = None;
        for base in self.rotation() {
            let mut req = self
                .http
                .request(call.method.clone(), format!("{base}{}", call.path))
                .header(REQUEST_ID_HEADER, call.request_id)
                .bearer_auth(&token);
            if !call.query.is_empty() {
                req = req.query(&call.query);
            }
            if let Some(key) = call.idempotency_key {
                req = req.header("idempotency-key", key);
            }
            if let Some(tag) = call.if_match {
                req = req.header("if-match", tag);
            }
            if let Some(timeout) = call.timeout {
                req = req.timeout(timeout);
            }
            if let Some(body) = &body {
                req = req.json(body);
            }
            match read(req.send().await).await {
                Err(e) if e.not_delivered() => last = Some(e),
                answer => return answer,
            }
        }
        Err(last.unwrap_or_else(|| RuntimeClientError::Unavailable("no runtime".into())))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        call: RuntimeCall<'_>,
    ) -> Result<T, RuntimeClientError> {
        let answer = self.send(call).await?;
        serde_json::from_slice(&answer.body)
            .map_err(|e| RuntimeClientError::Protocol(e.to_string()))
    }

    /// Creates a session: for a user, or anonymous (guide agent only, public tenant) when
    /// `actor.user_id` is `None`.
    pub async fn create_session(
        &self,
        request_id: &str,
        actor: Actor<'_>,
        metadata: Value,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let (action, path, actor) = match actor.user_id {
            Some(_) => (actions::CREATE_SESSION, "/api/session/create", actor),
            None => (
                actions::CREATE_ANONYMOUS_SESSION,
                "/api/session/create-anonymous",
                Actor {
                    tenant_id: ANONYMOUS_TENANT,
                    ..actor
                },
            ),
        };
        let payload = to_value(&CreateSessionPayload { metadata })?;
        let call = RuntimeCall::intent(
            Method::POST,
            path.into(),
            request_id,
            action,
            actor,
            payload,
        );
        self.call(call).await
    }

    /// Attaches `actor.user_id` (of `actor.tenant_id`) to the anonymous session
    /// `actor.session_id`, keeping its id (signed `upgrade_session`); a retry answers with the
    /// upgraded session.
    pub async fn upgrade_session(
        &self,
        request_id: &str,
        actor: Actor<'_>,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let user_id = actor
            .user_id
            .ok_or_else(|| RuntimeClientError::Protocol("an upgrade needs a user".into()))?;
        let payload = to_value(&UpgradeSessionPayload {
            user_id: user_id.to_owned(),
        })?;
        let path = format!("/api/session/{}/upgrade", encode_segment(actor.session_id));
        let call = RuntimeCall::intent(
            Method::PATCH,
            path,
            request_id,
            actions::UPGRADE_SESSION,
            actor,
            payload,
        );
        self.call(call).await
    }

    /// Ends a session.
    pub async fn end_session(
        &self,
        request_id: &str,
        actor: Actor<'_>,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let path = format!("/api/session/{}", encode_segment(actor.session_id));
        let call = RuntimeCall::intent(
            Method::DELETE,
            path,
            request_id,
            actions::END_SESSION,
            actor,
            Value::Null,
        );
        self.call(call).await
    }

    /// Reads a session of a tenant.
    pub async fn get_session(
        &self,
        request_id: &str,
        tenant_id: &str,
        session_id: &str,
    ) -> Result<SessionRecord, RuntimeClientError> {
        let path = format!("/api/session/{}", encode_segment(session_id));
        self.call(RuntimeCall::read(Method::GET, path, request_id).param("tenant_id", tenant_id))
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
        let path = format!("/api/session/{}/validate", encode_segment(session_id));
        let mut call = RuntimeCall::read(Method::POST, path, request_id);
        call.body = Some(to_value(&body)?);
        self.call(call).await
    }

    /// Lists a user's active sessions.
    pub async fn list_sessions(
        &self,
        request_id: &str,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<SessionList, RuntimeClientError> {
        let call = RuntimeCall::read(Method::GET, "/api/sessions".into(), request_id);
        self.call(call.param("tenant_id", tenant_id).param("user_id", user_id))
            .await
    }

    /// Starts an agent turn; `idempotency_key` makes a retried submit return the same execution.
    pub async fn submit_intent(
        &self,
        request_id: &str,
        actor: Actor<'_>,
        payload: &SubmitIntentPayload,
        idempotency_key: Option<&str>,
    ) -> Result<ExecutionRecord, RuntimeClientError> {
        let path = "/api/intent/submit".to_owned();
        let mut call = RuntimeCall::intent(
            Method::POST,
            path,
            request_id,
            actions::SUBMIT_INTENT,
            actor,
            to_value(payload)?,
        );
        call.idempotency_key = idempotency_key;
        self.call(call).await
    }

    /// Cancels an execution of the session.
    pub async fn cancel_execution(
        &self,
        request_id: &str,
        actor: Actor<'_>,
        execution_id: &str,
    ) -> Result<ExecutionRecord, RuntimeClientError> {
        let path = format!("/api/execution/{}/cancel", encode_segment(execution_id));
        let call = RuntimeCall::intent(
            Method::POST,
            path,
            request_id,
            actions::CANCEL_EXECUTION,
            actor,
            Value::Null,
        );
        self.call(call).await
    }

    /// Answers a pending safety hook of the session by its id (the runtime finds its execution;
    /// `404 unknown_hook` when the session has no such pending hook).
    pub async fn answer_safety(
        &self,
        request_id: &str,
        actor: Actor<'_>,
        answer: &SafetyAnswer,
    ) -> Result<ExecutionRecord, RuntimeClientError> {
        let path = format!("/api/session/{}/safety", encode_segment(actor.session_id));
        let call = RuntimeCall::intent(
            Method::POST,
            path,
            request_id,
            actions::ANSWER_SAFETY,
            actor,
            to_value(answer)?,
        );
        self.call(call).await
    }

    /// `GET /health/live` on the runtime replicas: fine when one of them is live (used by
    /// experience readiness).
    pub async fn live(&self) -> Result<(), RuntimeClientError> {
        let mut last = None;
        for base in self.rotation() {
            let sent = self.http.get(format!("{base}/health/live")).send().await;
            match read(sent).await {
                Ok(_) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| RuntimeClientError::Unavailable("no runtime".into())))
    }
}
