//! The pipeline every runtime mutation goes through:
//! verify (traffic cop) → claim the contract id (idempotency record) → act → record the answer.
//!
//! A contract presented a second time gets the recorded answer of the first (safe retries after a
//! lost response), never a second effect; a contract still being processed gets `409`; a failed
//! action releases its claim so nothing half-done is remembered. Verification happens before the
//! claim, so a refused intent writes nothing at all.

use std::future::Future;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use platform_sdk::state_surface::{IdempotencyBegin, StateSurface};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::{Contract, IntentError, IntentVerifier, SignedIntent};
use serde::Serialize;

use crate::error::RuntimeError;
use crate::storage::audit::IntentAudit;

/// Idempotency scope of intent records.
const SCOPE: &str = "intent";
/// How long an intent's answer is kept: longer than any contract can stay valid.
const RECORD_TTL: Duration = Duration::from_secs(300);
/// Header set on a replayed answer.
pub const REPLAYED_HEADER: &str = "x-intent-replayed";

/// Verifies and executes intents.
pub struct IntentGate {
    verifier: IntentVerifier,
    surface: StateSurface,
    audit: IntentAudit,
}

impl IntentGate {
    /// A gate over a verifier, the state surface and the audit log.
    pub fn new(verifier: IntentVerifier, surface: StateSurface, audit: IntentAudit) -> Self {
        Self {
            verifier,
            surface,
            audit,
        }
    }

    /// Runs `act` once per contract and answers with its result (or the recorded one).
    pub async fn execute<T, F, Fut>(
        &self,
        intent: &SignedIntent,
        action: &str,
        act: F,
    ) -> Result<HttpResponse, RuntimeError>
    where
        T: Serialize,
        F: FnOnce(Contract) -> Fut,
        Fut: Future<Output = Result<(StatusCode, T), RuntimeError>>,
    {
        let contract = self.verifier.verify(intent, action, now_ms())?.clone();
        let fingerprint = intent.signature.clone().unwrap_or_default();
        let id = contract.contract_id.clone();
        match self
            .surface
            .idempotency_begin(SCOPE, &id, &fingerprint, RECORD_TTL)
            .await?
        {
            IdempotencyBegin::Fresh => {}
            IdempotencyBegin::InProgress => return Err(RuntimeError::IntentInProgress),
            IdempotencyBegin::Mismatch => return Err(IntentError::ContractReused.into()),
            IdempotencyBegin::Completed { status, body } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                return Ok(HttpResponse::build(status)
                    .content_type("application/json")
                    .insert_header((REPLAYED_HEADER, "true"))
                    .body(body));
            }
        }
        let audit_contract = contract.clone();
        let outcome = act(contract).await.and_then(|(status, value)| {
            serde_json::to_string(&value)
                .map(|body| (status, body))
                .map_err(|e| RuntimeError::Internal(e.into()))
        });
        match outcome {
            Ok((status, body)) => {
                self.surface
                    .idempotency_complete(
                        SCOPE,
                        &id,
                        &fingerprint,
                        status.as_u16(),
                        &body,
                        RECORD_TTL,
                    )
                    .await?;
                if let Err(e) = self.audit.record(&audit_contract, status.as_u16()).await {
                    tracing::error!(error = %e, contract_id = %id, "could not write the intent audit row");
                }
                Ok(HttpResponse::build(status)
                    .content_type("application/json")
                    .body(body))
            }
            Err(err) => {
                if let Err(e) = self.surface.idempotency_abort(SCOPE, &id).await {
                    tracing::warn!(error = %e, contract_id = %id, "could not release an intent claim");
                }
                Err(err)
            }
        }
    }
}
