//! The pipeline every runtime mutation goes through:
//! verify (traffic cop) → claim the contract id (idempotency record) → act → record the answer.
//!
//! A contract presented a second time gets the recorded answer of the first (safe retries after a
//! lost response), never a second effect; a contract still being processed gets `409`; a failed
//! action releases its claim so nothing half-done is remembered. Verification happens before the
//! claim, so a refused intent writes nothing at all. The gate answers a plain [`IntentAnswer`];
//! [`super::routes`] turns it into HTTP.

use std::future::Future;
use std::time::Duration;

use platform_sdk::idempotency::{self, Claim, Outcome};
use platform_sdk::state_surface::StateSurface;
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::{Contract, IntentError, IntentVerifier, SignedIntent};
use serde::Serialize;

use super::storage::IntentAudit;
use crate::error::RuntimeError;

/// Idempotency scope of intent records.
const SCOPE: &str = "intent";
/// How long an intent's answer is kept: longer than any contract can stay valid.
const RECORD_TTL: Duration = Duration::from_secs(300);

/// What an intent was answered with: the action's (or the recorded) status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentAnswer {
    /// Status of the answer.
    pub status: u16,
    /// JSON body of the answer.
    pub body: String,
    /// True when this is the recorded answer of an earlier presentation of the contract.
    pub replayed: bool,
}

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
    ) -> Result<IntentAnswer, RuntimeError>
    where
        T: Serialize,
        F: FnOnce(Contract) -> Fut,
        Fut: Future<Output = Result<(u16, T), RuntimeError>>,
    {
        let contract = self.verifier.verify(intent, action, now_ms())?.clone();
        let fingerprint = intent.signature.clone().unwrap_or_default();
        let id = contract.contract_id.clone();
        let audit_contract = contract.clone();
        let claim = Claim {
            scope: SCOPE,
            key: &id,
            fingerprint: &fingerprint,
            ttl: RECORD_TTL,
        };
        match idempotency::run(&self.surface, claim, || act(contract)).await? {
            Outcome::Fresh { status, body, .. } => {
                if let Err(e) = self.audit.record(&audit_contract, status).await {
                    tracing::error!(error = %e, contract_id = %id, "could not write the intent audit row");
                }
                Ok(IntentAnswer {
                    status,
                    body,
                    replayed: false,
                })
            }
            Outcome::Replayed { status, body } => Ok(IntentAnswer {
                status,
                body,
                replayed: true,
            }),
            Outcome::InProgress => Err(RuntimeError::IntentInProgress),
            Outcome::Mismatch => Err(IntentError::ContractReused.into()),
        }
    }
}
