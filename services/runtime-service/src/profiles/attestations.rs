//! Attestation rules (SPEC §9): an attestation is issued by a user about one profile version,
//! signed with the tenant's active key, and may derive from a parent attestation of the same
//! tenant that is still active. Revocation is a small state machine (`ACTIVE → SUSPENDED →
//! REVOKED`, `ACTIVE → REVOKED`; `REVOKED` is final). Verification recomputes everything from the
//! stored fields.

use std::collections::HashSet;

use platform_sdk::page::{Cursor, PageRequest};
use platform_sdk::profile_wire::{
    AttestRequest, AttestationList, AttestationMetadata, AttestationRecord, AttestationSignature,
    KeySet, PublicJwk, RevocationStatus, RevokeRequest, Verification, VerificationChecks,
};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::traffic_cop::Contract;
use sqlx::AnyPool;

use super::canonical::{self, signed_text};
use super::input;
use super::keys::AttestationKeys;
use super::service::{actor, Profiles};
use super::storage::{self as store, AttestationFilter, StoredAttestation};
use crate::error::RuntimeError;

/// Attestations and the keys that sign them.
#[derive(Clone)]
pub struct Attestations {
    pool: AnyPool,
    keys: AttestationKeys,
    profiles: Profiles,
}

impl Attestations {
    /// The service over a pool, the tenants' keys and their profiles.
    pub fn new(pool: AnyPool, keys: AttestationKeys, profiles: Profiles) -> Self {
        Self {
            pool,
            keys,
            profiles,
        }
    }

    /// Issues a signed attestation about a profile (its current constitution hash is the
    /// claim). A parent must be an attestation of this tenant (`422` on
    /// `parent_attestation_id` otherwise) that is `ACTIVE` and unexpired (`409` otherwise).
    pub async fn attest(
        &self,
        contract: &Contract,
        profile_id: &str,
        request: AttestRequest,
    ) -> Result<AttestationRecord, RuntimeError> {
        let tenant_id = contract.tenant_id.as_str();
        let issuer = actor(contract)?;
        let profile = self.profiles.get(tenant_id, profile_id).await?;
        let now = now_ms();
        let expires_at = input::attest(&request, now)?;
        if let Some(parent) = request.parent_attestation_id.as_deref() {
            self.check_parent(tenant_id, parent, now).await?;
        }
        let key = self.keys.active(tenant_id, now).await?;
        let mut record = AttestationRecord {
            attestation_id: format!("att_{}", uuid::Uuid::new_v4().simple()),
            attestation_type: request.attestation_type,
            profile_id: profile.id,
            issuer_id: issuer.to_owned(),
            subject_id: profile.agent_id,
            claim_id: profile.governance_identity.constitution_hash,
            timestamp: rfc3339_ms(now),
            expiration: rfc3339_ms(expires_at),
            attestation_data: request.attestation_data,
            parent_attestation_id: request.parent_attestation_id,
            signature: AttestationSignature {
                algorithm: "ED25519".into(),
                value: String::new(),
                key_id: key.kid,
            },
            metadata: AttestationMetadata {
                revocation_status: RevocationStatus::Active,
                revocation_reason: None,
                revoked_at: None,
            },
        };
        let text = signed_text(&record).map_err(|e| RuntimeError::Internal(e.into()))?;
        record.signature.value = canonical::sign(&key.signing, &text);
        let stored = StoredAttestation {
            record,
            issued_at: now,
            expires_at,
        };
        if !store::insert_attestation(&self.pool, tenant_id, &stored).await? {
            // The parent was suspended or revoked between the check and the insert.
            let parent = stored.record.parent_attestation_id.as_deref().unwrap_or("");
            self.check_parent(tenant_id, parent, now).await?;
            return Err(RuntimeError::Conflict(
                "the parent attestation changed; retry".into(),
            ));
        }
        Ok(stored.record)
    }

    /// `422` when the parent is not the tenant's, `409` when it is not active or has expired.
    async fn check_parent(&self, tenant_id: &str, id: &str, now: i64) -> Result<(), RuntimeError> {
        let Some(parent) = store::attestation_by_id(&self.pool, tenant_id, id).await? else {
            return Err(RuntimeError::Validation {
                field: "parent_attestation_id",
                message: "no attestation of this tenant has this id".into(),
            });
        };
        let status = parent.record.metadata.revocation_status;
        if status != RevocationStatus::Active {
            return Err(RuntimeError::InvalidTransition {
                what: "parent attestation",
                current: status.as_str().to_owned(),
                action: "attest under",
            });
        }
        if parent.expires_at <= now {
            return Err(RuntimeError::InvalidTransition {
                what: "parent attestation",
                current: "expired".into(),
                action: "attest under",
            });
        }
        Ok(())
    }

    /// One attestation of one of the tenant's profiles (`404` otherwise).
    async fn find(
        &self,
        tenant_id: &str,
        profile_id: &str,
        id: &str,
    ) -> Result<StoredAttestation, RuntimeError> {
        store::attestation_by_id(&self.pool, tenant_id, id)
            .await?
            .filter(|a| a.record.profile_id == profile_id)
            .ok_or(RuntimeError::NotFound("attestation"))
    }

    /// Suspends or revokes an attestation. `REVOKED` is final; a suspended one can only be
    /// revoked; anything else is `409 invalid_transition`. The move is conditional on the status
    /// read; when another request moved it first, the rules are applied again to the new status
    /// (statuses only move forward, so this ends after at most two rounds).
    pub async fn revoke(
        &self,
        contract: &Contract,
        profile_id: &str,
        id: &str,
        request: RevokeRequest,
    ) -> Result<AttestationRecord, RuntimeError> {
        let tenant_id = contract.tenant_id.as_str();
        let by = actor(contract)?;
        let to = input::revoke(&request)?;
        loop {
            let current = self.find(tenant_id, profile_id, id).await?;
            let from = current.record.metadata.revocation_status;
            if !may_move(from, to) {
                return Err(RuntimeError::InvalidTransition {
                    what: "attestation",
                    current: from.as_str().to_owned(),
                    action: match to {
                        RevocationStatus::Suspended => "suspend",
                        _ => "revoke",
                    },
                });
            }
            let moved = store::set_revocation(
                &self.pool,
                tenant_id,
                id,
                from,
                to,
                request.reason.trim(),
                by,
                now_ms(),
            )
            .await?;
            if moved {
                return Ok(self.find(tenant_id, profile_id, id).await?.record);
            }
        }
    }

    /// Checks an attestation: signature, expiry, revocation and its chain of parents.
    pub async fn verify(
        &self,
        tenant_id: &str,
        profile_id: &str,
        id: &str,
    ) -> Result<Verification, RuntimeError> {
        let attestation = self.find(tenant_id, profile_id, id).await?;
        let now = now_ms();
        let checks = VerificationChecks {
            chain: self.chain_valid(tenant_id, &attestation, now).await?,
            ..self.own_checks(tenant_id, &attestation, now).await?
        };
        Ok(Verification {
            valid: checks.signature && checks.not_expired && checks.not_revoked && checks.chain,
            checks,
        })
    }

    /// The checks of one attestation by itself (`chain` left true).
    async fn own_checks(
        &self,
        tenant_id: &str,
        a: &StoredAttestation,
        now: i64,
    ) -> Result<VerificationChecks, RuntimeError> {
        let key = self
            .keys
            .public(tenant_id, &a.record.signature.key_id)
            .await?;
        let signature = match (key, signed_text(&a.record)) {
            (Some(key), Ok(text)) => canonical::verify(&key, &text, &a.record.signature.value),
            _ => false,
        };
        Ok(VerificationChecks {
            signature,
            not_expired: a.expires_at > now,
            not_revoked: a.record.metadata.revocation_status == RevocationStatus::Active,
            chain: true,
        })
    }

    /// True when every ancestor exists in the tenant and passes its own checks.
    async fn chain_valid(
        &self,
        tenant_id: &str,
        a: &StoredAttestation,
        now: i64,
    ) -> Result<bool, RuntimeError> {
        let mut seen = HashSet::from([a.record.attestation_id.clone()]);
        let mut next = a.record.parent_attestation_id.clone();
        while let Some(id) = next {
            if !seen.insert(id.clone()) {
                return Ok(false);
            }
            let Some(parent) = store::attestation_by_id(&self.pool, tenant_id, &id).await? else {
                return Ok(false);
            };
            let c = self.own_checks(tenant_id, &parent, now).await?;
            if !(c.signature && c.not_expired && c.not_revoked) {
                return Ok(false);
            }
            next = parent.record.parent_attestation_id;
        }
        Ok(true)
    }

    /// One page of a profile's attestations, newest first (`404` for a profile not the tenant's).
    pub async fn list(
        &self,
        tenant_id: &str,
        profile_id: &str,
        filter: AttestationFilter,
        page: &PageRequest,
    ) -> Result<AttestationList, RuntimeError> {
        self.profiles.get(tenant_id, profile_id).await?;
        let mut rows = store::attestations(
            &self.pool,
            tenant_id,
            profile_id,
            filter,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |a| Cursor {
            key: a.issued_at,
            id: a.record.attestation_id.clone(),
        });
        Ok(AttestationList {
            items: rows.into_iter().map(|a| a.record).collect(),
            next_cursor,
        })
    }

    /// The tenant's public keys.
    pub async fn keys(&self, tenant_id: &str) -> Result<KeySet, RuntimeError> {
        self.keys.list(tenant_id).await
    }

    /// Makes a new active key for the tenant; the old one is retired and keeps verifying.
    pub async fn rotate(&self, contract: &Contract) -> Result<PublicJwk, RuntimeError> {
        actor(contract)?;
        self.keys.rotate(&contract.tenant_id, now_ms()).await
    }
}

/// The revocation state machine: `ACTIVE → SUSPENDED | REVOKED`, `SUSPENDED → REVOKED`.
fn may_move(from: RevocationStatus, to: RevocationStatus) -> bool {
    use RevocationStatus::{Active, Revoked, Suspended};
    matches!(
        (from, to),
        (Active, Suspended) | (Active, Revoked) | (Suspended, Revoked)
    )
}

#[cfg(test)]
mod tests {
    use super::may_move;
    use platform_sdk::profile_wire::RevocationStatus::{self, Active, Revoked, Suspended};

    #[test]
    fn revocation_only_moves_forward() {
        let all = RevocationStatus::ALL;
        let allowed: Vec<_> = all
            .iter()
            .flat_map(|from| all.iter().map(move |to| (*from, *to)))
            .filter(|(from, to)| may_move(*from, *to))
            .collect();
        assert_eq!(
            allowed,
            vec![(Active, Suspended), (Active, Revoked), (Suspended, Revoked)]
        );
    }
}
