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
use platform_sdk::traffic_cop::{
    canonical_json, Contract, IntentError, IntentVerifier, SignedIntent,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::storage::IntentAudit;
use crate::error::RuntimeError;

/// Idempotency scope of intent records.
const SCOPE: &str = "intent";
/// How long an intent's answer is kept: longer than any contract can stay valid.
const RECORD_TTL: Duration = Duration::from_secs(300);
/// How long the answer to a client's `Idempotency-Key` is kept.
const CLIENT_KEY_TTL: Duration = Duration::from_secs(24 * 3600);

/// A client's `Idempotency-Key` on a mutation, with what makes two requests "the same".
#[derive(Debug, Clone, Copy)]
pub struct ClientKey<'a> {
    /// The key as the client sent it.
    pub key: &'a str,
    /// The runtime path of the request (a key reused on another object is another request).
    pub path: &'a str,
}

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
        self.execute_keyed(intent, action, None, act).await
    }

    /// As [`Self::execute`]; with a client's `Idempotency-Key`, once per key instead: the same
    /// key with the same action, path and payload answers the first answer (kept 24 h), with a
    /// different one `409 idempotency_conflict`. Keys are per tenant and user.
    pub async fn execute_keyed<T, F, Fut>(
        &self,
        intent: &SignedIntent,
        action: &str,
        client_key: Option<ClientKey<'_>>,
        act: F,
    ) -> Result<IntentAnswer, RuntimeError>
    where
        T: Serialize,
        F: FnOnce(Contract) -> Fut,
        Fut: Future<Output = Result<(u16, T), RuntimeError>>,
    {
        let contract = self.verifier.verify(intent, action, now_ms())?.clone();
        let id = contract.contract_id.clone();
        let audit_contract = contract.clone();
        let (scope, key, fingerprint, ttl) = match client_key {
            Some(ClientKey { key, path }) => {
                let request = format!("{action}\n{path}\n{}", canonical_json(&contract.payload));
                let digest = Sha256::digest(request.as_bytes());
                (
                    format!(
                        "client:{}:{}",
                        contract.tenant_id,
                        contract.user_id.as_deref().unwrap_or("-")
                    ),
                    key.to_owned(),
                    digest.iter().map(|b| format!("{b:02x}")).collect(),
                    CLIENT_KEY_TTL,
                )
            }
            None => (
                SCOPE.to_owned(),
                id.clone(),
                intent.signature.clone().unwrap_or_default(),
                RECORD_TTL,
            ),
        };
        let keyed = client_key.is_some();
        let claim = Claim {
            scope: &scope,
            key: &key,
            fingerprint: &fingerprint,
            ttl,
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
            Outcome::Mismatch if keyed => Err(RuntimeError::IdempotencyConflict),
            Outcome::Mismatch => Err(IntentError::ContractReused.into()),
        }
    }
}
