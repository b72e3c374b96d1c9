//! The tenants' attestation keys (SPEC §9, docs/adr/0017): one active Ed25519 key per tenant,
//! generated on first use, rotatable; retired keys stay so old attestations keep verifying.
//!
//! The private half never leaves the runtime and is never stored in the clear: the 32-byte seed
//! is sealed with ChaCha20-Poly1305 under a key derived by HKDF-SHA256 from the runtime's
//! service secret and the tenant id, with the key id as associated data, so a sealed seed only
//! opens for its own tenant and row. The public halves are published as JWKs.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ed25519_dalek::{SigningKey, VerifyingKey};
use hkdf::Hkdf;
use platform_sdk::profile_wire::{KeySet, PublicJwk};
use platform_sdk::time_util::rfc3339_ms;
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;
use sqlx::{AnyConnection, AnyPool};

use super::storage::{self as store, KeyRow};
use crate::error::RuntimeError;

/// HKDF salt: names what the derived keys are for, so they differ from any other use of the
/// service secret.
const HKDF_SALT: &[u8] = b"symphainy attestation keys";
/// HKDF info prefix; the tenant id follows it.
const HKDF_INFO: &[u8] = b"seal ed25519 seed v1|";
/// ChaCha20-Poly1305 nonce length.
const NONCE_LEN: usize = 12;
/// A sealed seed: nonce, 32-byte ciphertext, 16-byte tag.
pub const SEALED_LEN: usize = NONCE_LEN + 32 + 16;
/// Status of the key that signs new attestations.
pub const ACTIVE: &str = "active";
/// Status of a key that only verifies.
pub const RETIRED: &str = "retired";

/// Why a sealed seed could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Not base64 of the right length, or the tag did not verify (wrong secret, tenant or row).
    #[error("the sealed attestation key does not open with this service secret")]
    Unopenable,
}

/// Seals and opens Ed25519 seeds under keys derived from the service secret. Seeds are sealed
/// under the current secret; they open under it or any previous one still configured
/// (`security.previous_service_keys`), so rotating the service secret does not strand the
/// tenants' active keys.
#[derive(Clone)]
pub struct Sealer {
    current: Hkdf<Sha256>,
    previous: Vec<Hkdf<Sha256>>,
}

impl Sealer {
    /// A sealer over the runtime's service secret and its previous ones (`kid:secret,…`, the
    /// format of `security.previous_service_keys`; the key ids do not matter here).
    pub fn new(secret: &SecretString, previous: Option<&SecretString>) -> Self {
        let derive = |secret: &str| Hkdf::new(Some(HKDF_SALT), secret.as_bytes());
        let previous = previous
            .map(|p| {
                p.expose_secret()
                    .split(',')
                    .filter_map(|entry| entry.split_once(':'))
                    .map(|(_, secret)| derive(secret.trim()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            current: derive(secret.expose_secret()),
            previous,
        }
    }

    fn cipher(hkdf: &Hkdf<Sha256>, tenant_id: &str) -> Result<ChaCha20Poly1305, SealError> {
        let mut key = [0u8; 32];
        hkdf.expand_multi_info(&[HKDF_INFO, tenant_id.as_bytes()], &mut key)
            .map_err(|_| SealError::Unopenable)?;
        Ok(ChaCha20Poly1305::new(Key::from_slice(&key)))
    }

    /// The seed of `key`, sealed for its tenant and key id: base64 of nonce || ciphertext.
    pub fn seal(&self, tenant_id: &str, kid: &str, key: &SigningKey) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = Self::cipher(&self.current, tenant_id)?
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.as_bytes(),
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| SealError::Unopenable)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Opens what [`Self::seal`] made for this tenant and key id.
    pub fn open(&self, tenant_id: &str, kid: &str, sealed: &str) -> Result<SigningKey, SealError> {
        let raw = STANDARD.decode(sealed).map_err(|_| SealError::Unopenable)?;
        if raw.len() != SEALED_LEN {
            return Err(SealError::Unopenable);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        for hkdf in std::iter::once(&self.current).chain(&self.previous) {
            let opened = Self::cipher(hkdf, tenant_id)?.decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: kid.as_bytes(),
                },
            );
            if let Ok(seed) = opened {
                let seed: [u8; 32] = seed.try_into().map_err(|_| SealError::Unopenable)?;
                return Ok(SigningKey::from_bytes(&seed));
            }
        }
        Err(SealError::Unopenable)
    }
}

/// A key that can sign: the tenant's active one.
pub struct ActiveKey {
    /// Its id.
    pub kid: String,
    /// The opened private key.
    pub signing: SigningKey,
}

/// The tenants' attestation keys over SQL.
#[derive(Clone)]
pub struct AttestationKeys {
    pool: AnyPool,
    sealer: Sealer,
}

impl AttestationKeys {
    /// The keys over a pool, sealed with `sealer`.
    pub fn new(pool: AnyPool, sealer: Sealer) -> Self {
        Self { pool, sealer }
    }

    /// The tenant's active key, generated now if the tenant has none yet. Two first uses at once
    /// end with one key: the loser's insert does nothing (one active key per tenant is a unique
    /// index) and both read the winner's.
    pub async fn active(&self, tenant_id: &str, now: i64) -> Result<ActiveKey, RuntimeError> {
        let row = self.ensure_active(tenant_id, now).await?;
        self.opened(tenant_id, row)
    }

    /// The id of the tenant's active key (made now if there is none), without opening it.
    pub async fn active_kid(&self, tenant_id: &str, now: i64) -> Result<String, RuntimeError> {
        Ok(self.ensure_active(tenant_id, now).await?.kid)
    }

    async fn ensure_active(&self, tenant_id: &str, now: i64) -> Result<KeyRow, RuntimeError> {
        let mut conn = self.pool.acquire().await?;
        if let Some(row) = store::active_key(&mut conn, tenant_id).await? {
            return Ok(row);
        }
        self.insert_new(&mut conn, tenant_id, now).await?;
        store::active_key(&mut conn, tenant_id)
            .await?
            .ok_or_else(|| RuntimeError::Internal(anyhow::anyhow!("no active key after insert")))
    }

    /// Retires the tenant's active key (if any) and makes a new active one, in one transaction;
    /// returns the new key. A rotation racing another one for the same tenant answers `409`.
    pub async fn rotate(&self, tenant_id: &str, now: i64) -> Result<PublicJwk, RuntimeError> {
        let mut tx = self.pool.begin().await?;
        store::retire_active_key(&mut tx, tenant_id, now).await?;
        let Some(row) = self.insert_new(&mut tx, tenant_id, now).await? else {
            return Err(RuntimeError::Conflict(
                "another key rotation of this tenant happened at the same time; retry".into(),
            ));
        };
        tx.commit().await?;
        Ok(jwk(&row))
    }

    /// The tenant's public keys, the active one first (none before its first profile).
    pub async fn list(&self, tenant_id: &str) -> Result<KeySet, RuntimeError> {
        let rows = store::keys(&self.pool, tenant_id).await?;
        Ok(KeySet {
            keys: rows.iter().map(jwk).collect(),
        })
    }

    /// The public half of one of the tenant's keys, if it has that key.
    pub async fn public(
        &self,
        tenant_id: &str,
        kid: &str,
    ) -> Result<Option<VerifyingKey>, RuntimeError> {
        let Some(row) = store::key(&self.pool, tenant_id, kid).await? else {
            return Ok(None);
        };
        Ok(public_key(&row.public_key))
    }

    /// Generates a key and inserts it as the tenant's active one; `None` when the tenant got an
    /// active key in the meantime.
    async fn insert_new(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        now: i64,
    ) -> Result<Option<KeyRow>, RuntimeError> {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let signing = SigningKey::from_bytes(&seed);
        seed.fill(0);
        let kid = format!("atk_{}", uuid::Uuid::new_v4().simple());
        let row = KeyRow {
            sealed_seed: self
                .sealer
                .seal(tenant_id, &kid, &signing)
                .map_err(|e| RuntimeError::Internal(e.into()))?,
            public_key: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
            kid,
            status: ACTIVE.to_owned(),
            created_at: now,
        };
        let inserted = store::insert_key(conn, tenant_id, &row).await?;
        Ok(inserted.then_some(row))
    }

    fn opened(&self, tenant_id: &str, row: KeyRow) -> Result<ActiveKey, RuntimeError> {
        let signing = self
            .sealer
            .open(tenant_id, &row.kid, &row.sealed_seed)
            .map_err(|e| RuntimeError::Internal(e.into()))?;
        Ok(ActiveKey {
            kid: row.kid,
            signing,
        })
    }
}

/// A stored public key (base64url, no padding) as a verifying key.
fn public_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn jwk(row: &KeyRow) -> PublicJwk {
    PublicJwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: row.public_key.clone(),
        kid: row.kid.clone(),
        alg: "EdDSA".into(),
        use_: "sig".into(),
        status: row.status.clone(),
        created_at: rfc3339_ms(row.created_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(secret: &str) -> Sealer {
        Sealer::new(&SecretString::from(secret.to_owned()), None)
    }

    #[test]
    fn seal_round_trips_and_hides_the_seed() {
        let key = SigningKey::from_bytes(&[42u8; 32]);
        let s = sealer("a-service-secret-of-some-length");
        let sealed = s.seal("tenant-a", "atk_1", &key).unwrap();
        let raw = STANDARD.decode(&sealed).unwrap();
        assert_eq!(raw.len(), SEALED_LEN);
        assert!(
            !raw.windows(32).any(|w| w == key.as_bytes()),
            "the seed is not in the sealed bytes"
        );
        let opened = s.open("tenant-a", "atk_1", &sealed).unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
        // A fresh nonce each time: sealing twice gives different text.
        assert_ne!(s.seal("tenant-a", "atk_1", &key).unwrap(), sealed);
    }

    #[test]
    fn a_sealed_seed_opens_only_for_its_secret_tenant_and_row() {
        let key = SigningKey::from_bytes(&[1u8; 32]);
        let s = sealer("secret-one");
        let sealed = s.seal("tenant-a", "atk_1", &key).unwrap();
        assert!(sealer("secret-two")
            .open("tenant-a", "atk_1", &sealed)
            .is_err());
        assert!(s.open("tenant-b", "atk_1", &sealed).is_err());
        assert!(s.open("tenant-a", "atk_2", &sealed).is_err());
        let mut raw = STANDARD.decode(&sealed).unwrap();
        raw[20] ^= 1;
        assert!(s.open("tenant-a", "atk_1", &STANDARD.encode(raw)).is_err());
        assert!(s.open("tenant-a", "atk_1", "short").is_err());
    }

    #[test]
    fn a_seed_sealed_before_a_service_secret_rotation_still_opens() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let sealed = sealer("old-secret")
            .seal("tenant-a", "atk_1", &key)
            .unwrap();
        let previous = SecretString::from("svc-1:old-secret".to_owned());
        let rotated = Sealer::new(
            &SecretString::from("new-secret".to_owned()),
            Some(&previous),
        );
        let opened = rotated.open("tenant-a", "atk_1", &sealed).unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
        // New seeds are sealed under the new secret only.
        let fresh = rotated.seal("tenant-a", "atk_2", &key).unwrap();
        assert!(sealer("old-secret")
            .open("tenant-a", "atk_2", &fresh)
            .is_err());
        assert!(sealer("new-secret")
            .open("tenant-a", "atk_2", &fresh)
            .is_ok());
    }

    #[test]
    fn jwk_carries_the_public_key() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let row = KeyRow {
            kid: "atk_1".into(),
            public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            sealed_seed: String::new(),
            status: ACTIVE.into(),
            created_at: 0,
        };
        let jwk = jwk(&row);
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("OKP", "Ed25519"));
        assert_eq!(public_key(&jwk.x), Some(key.verifying_key()));
        assert_eq!(
            serde_json::to_value(&jwk).unwrap()["use"],
            serde_json::json!("sig")
        );
    }
}
