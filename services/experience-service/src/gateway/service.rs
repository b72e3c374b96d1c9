//! The one forwarding path of the gateway: a row plus the caller's request → one runtime call.

use std::sync::Arc;

use platform_sdk::runtime_client::{Actor, RuntimeAnswer, RuntimeCall, RuntimeClient};
use platform_sdk::security_guard::AccessClaims;
use serde_json::Value;

use super::table::{fill, Row, Target};
use crate::error::ApiError;
use crate::extractors::Caller;

/// Query parameters that name whom a call is for: always taken from the caller's token.
const IDENTITY_PARAMS: [&str; 2] = ["tenant_id", "user_id"];

/// What the route extracted from the request, free of HTTP types.
#[derive(Debug, Default)]
pub struct Forward {
    /// Path parameters by name.
    pub params: Vec<(String, String)>,
    /// Query parameters as sent.
    pub query: Vec<(String, String)>,
    /// JSON body (mutations: the intent's payload; `{}` when absent).
    pub body: Option<Value>,
    /// The client's `Idempotency-Key` (mutations): forwarded to the runtime, which answers a
    /// repeat of the same request with the first answer.
    pub idempotency_key: Option<String>,
    /// The client's `If-Match` (mutations): forwarded to the runtime, whose endpoints that
    /// version an object check it (`412` when stale) and the others ignore it.
    pub if_match: Option<String>,
}

/// The gateway service; one per process, over the shared runtime client.
pub struct Gateway {
    runtime: Arc<RuntimeClient>,
}

impl Gateway {
    /// The gateway over the shared runtime client.
    pub fn new(runtime: Arc<RuntimeClient>) -> Self {
        Self { runtime }
    }

    /// Forwards one request for `row` on behalf of the verified caller; the runtime's answer
    /// comes back as it is (status and JSON body).
    pub async fn forward(
        &self,
        row: &Row,
        caller: &Caller,
        claims: &AccessClaims,
        request: Forward,
    ) -> Result<RuntimeAnswer, ApiError> {
        let param = |name: &str| {
            request
                .params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let path = fill(row.target.path(), param).ok_or(ApiError::NotFound("resource"))?;
        let method = row.method.upstream();
        let rid = caller.request_id.as_str();
        let mut call = match row.target {
            Target::Read { .. } => RuntimeCall::read(method, path, rid),
            Target::Intent { action, .. } => {
                let actor = Actor {
                    tenant_id: &claims.tid,
                    user_id: Some(&claims.sub),
                    session_id: &claims.sid,
                };
                let payload = request.body.unwrap_or_else(|| serde_json::json!({}));
                RuntimeCall::intent(method, path, rid, action, actor, payload)
            }
        };
        call.query = request
            .query
            .into_iter()
            .filter(|(k, _)| !IDENTITY_PARAMS.contains(&k.as_str()))
            .collect();
        if let Target::Intent { action, .. } = row.target {
            call.idempotency_key = request.idempotency_key.as_deref();
            call.if_match = request.if_match.as_deref();
            call.timeout = super::rows::slow_action(action);
        }
        if let Target::Read { .. } = row.target {
            call = call
                .param("tenant_id", &claims.tid)
                .param("user_id", &claims.sub);
        }
        self.runtime.send(call).await.map_err(ApiError::forwarded)
    }
}
