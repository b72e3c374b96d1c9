//! The HTTP side of the intent gate, shared by every route that takes a signed intent: run the
//! action through the gate, then answer with its status and body (plus `x-intent-replayed` when
//! the answer is the recorded one of an earlier presentation).

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use platform_sdk::traffic_cop::{Contract, SignedIntent};
use serde::Serialize;

use super::gate::ClientKey;
use super::IntentGate;
use crate::error::RuntimeError;

/// Header set on a replayed answer.
pub const REPLAYED_HEADER: &str = "x-intent-replayed";

/// Runs `act` through the gate and answers over HTTP.
pub async fn answer<T, F, Fut>(
    gate: &IntentGate,
    intent: &SignedIntent,
    action: &str,
    act: F,
) -> Result<HttpResponse, RuntimeError>
where
    T: Serialize,
    F: FnOnce(Contract) -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), RuntimeError>>,
{
    respond(gate, intent, action, None, act).await
}

/// As [`answer`], honouring the request's `Idempotency-Key` (SPEC §7): the domain endpoints
/// reached through the experience gateway use this one.
pub async fn answer_keyed<T, F, Fut>(
    gate: &IntentGate,
    req: &HttpRequest,
    intent: &SignedIntent,
    action: &str,
    act: F,
) -> Result<HttpResponse, RuntimeError>
where
    T: Serialize,
    F: FnOnce(Contract) -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), RuntimeError>>,
{
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty());
    let client_key = key.map(|key| ClientKey {
        key,
        path: req.path(),
    });
    respond(gate, intent, action, client_key, act).await
}

async fn respond<T, F, Fut>(
    gate: &IntentGate,
    intent: &SignedIntent,
    action: &str,
    client_key: Option<ClientKey<'_>>,
    act: F,
) -> Result<HttpResponse, RuntimeError>
where
    T: Serialize,
    F: FnOnce(Contract) -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), RuntimeError>>,
{
    let answer = gate
        .execute_keyed(intent, action, client_key, |c| async move {
            act(c).await.map(|(status, value)| (status.as_u16(), value))
        })
        .await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if answer.replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    if status == StatusCode::NO_CONTENT {
        return Ok(response.finish());
    }
    response.content_type("application/json");
    Ok(response.body(answer.body))
}

/// Reads the contract's payload as `T` (`422 validation_failed` on the `payload` field if not).
pub fn payload<T: serde::de::DeserializeOwned>(contract: &Contract) -> Result<T, RuntimeError> {
    serde_json::from_value(contract.payload.clone()).map_err(|e| RuntimeError::Validation {
        field: "payload",
        message: e.to_string(),
    })
}
