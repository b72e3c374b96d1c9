//! Traffic cop: intents, the signed execution contracts through which the experience plane asks
//! the runtime to act (SPEC §3).
//!
//! The experience side builds a [`Contract`] and signs it ([`IntentSigner`]). The runtime side
//! ([`IntentVerifier`]) checks, before anything is written: a signature is present, its `kid` is
//! known, the HMAC over the canonical encoding matches, the audience and issuer are right, the
//! contract is inside its validity window (with a small clock-skew allowance) and lives at most
//! [`MAX_LIFETIME_MS`], and its `action` is the one the endpoint performs. Replay protection
//! (a contract presented twice returns the original result) is the runtime's job, built on the
//! idempotency records of the state surface and keyed by `contract_id`.
//!
//! The canonical encoding is JSON with object keys sorted recursively and no whitespace, so the
//! signature does not depend on field order or on how a JSON library lays out maps.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::security_guard::KeyRing;

/// The longest validity window a contract may claim.
pub const MAX_LIFETIME_MS: i64 = 60_000;
/// Issuer of every intent.
pub const INTENT_ISSUER: &str = "experience";
/// Audience of every intent.
pub const INTENT_AUDIENCE: &str = "runtime";
const DOMAIN: &[u8] = b"symphainy-intent-v1\n";

/// The execution contract (SPEC §3). Instants are epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contract {
    /// Unique id; the replay key.
    pub contract_id: String,
    /// What the runtime is asked to do (`create_session`, `end_session`, ...).
    pub action: String,
    /// Tenant acted for.
    pub tenant_id: String,
    /// User acted for, if any.
    pub user_id: Option<String>,
    /// Session concerned.
    pub session_id: String,
    /// When signed, epoch ms.
    pub issued_at: i64,
    /// Not valid after, epoch ms (at most 60 s after `issued_at`).
    pub expires_at: i64,
    /// Random nonce.
    pub nonce: String,
    /// Always `experience`.
    pub issuer: String,
    /// Always `runtime`.
    pub audience: String,
    /// Action-specific payload.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A contract with its signature: the body of every runtime mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SignedIntent {
    /// The contract.
    pub contract: Contract,
    /// Key id of the signing key.
    #[serde(default)]
    pub kid: Option<String>,
    /// base64url HMAC-SHA256 over the canonical encoding.
    #[serde(default)]
    pub signature: Option<String>,
}

/// Why an intent was refused (`403 invalid_intent`, with this as the reason).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IntentError {
    /// No signature or no kid.
    #[error("the intent is not signed")]
    Unsigned,
    /// The kid is not in the runtime's key ring.
    #[error("the intent is signed with an unknown key")]
    UnknownKey,
    /// The signature does not match the contract.
    #[error("the intent signature does not match")]
    BadSignature,
    /// Wrong audience or issuer.
    #[error("the intent is not addressed to this runtime")]
    WrongAudience,
    /// Past `expires_at`.
    #[error("the intent has expired")]
    Expired,
    /// `issued_at` in the future, or a window longer than allowed.
    #[error("the intent validity window is not acceptable")]
    BadWindow,
    /// The action does not match the endpoint.
    #[error("the intent action `{0}` does not match this endpoint")]
    WrongAction(String),
    /// The contract id was already used by a different contract.
    #[error("the contract id was already used by another intent")]
    ContractReused,
}

/// Recursively sorted, compact JSON.
pub fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    if let Some(inner) = map.get(*k) {
                        write(inner, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn mac(key: &[u8], contract: &Contract) -> Option<Hmac<Sha256>> {
    let value = serde_json::to_value(contract).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(DOMAIN);
    mac.update(canonical_json(&value).as_bytes());
    Some(mac)
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// Builds and signs contracts (experience side).
#[derive(Debug, Clone)]
pub struct IntentSigner {
    ring: KeyRing,
    lifetime_ms: i64,
}

/// What a new contract is about.
#[derive(Debug, Clone)]
pub struct IntentRequest<'a> {
    /// The action.
    pub action: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// User, if any.
    pub user_id: Option<&'a str>,
    /// Session.
    pub session_id: &'a str,
    /// Payload.
    pub payload: serde_json::Value,
}

impl IntentSigner {
    /// A signer using the ring's active key; contracts live `lifetime_ms` (capped at 60 s).
    pub fn new(ring: KeyRing, lifetime_ms: i64) -> Self {
        Self {
            ring,
            lifetime_ms: lifetime_ms.clamp(1_000, MAX_LIFETIME_MS),
        }
    }

    /// Builds and signs a fresh contract.
    pub fn sign(&self, request: IntentRequest<'_>) -> SignedIntent {
        let now = crate::time_util::now_ms();
        let contract = Contract {
            contract_id: uuid::Uuid::new_v4().to_string(),
            action: request.action.to_owned(),
            tenant_id: request.tenant_id.to_owned(),
            user_id: request.user_id.map(str::to_owned),
            session_id: request.session_id.to_owned(),
            issued_at: now,
            expires_at: now + self.lifetime_ms,
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            issuer: INTENT_ISSUER.to_owned(),
            audience: INTENT_AUDIENCE.to_owned(),
            payload: request.payload,
        };
        self.sign_contract(contract)
    }

    /// Signs a contract as given (tests use this to craft expired or misaddressed intents).
    pub fn sign_contract(&self, contract: Contract) -> SignedIntent {
        use base64::Engine as _;
        let signature =
            mac(self.ring.active_key(), &contract).map(|m| b64().encode(m.finalize().into_bytes()));
        SignedIntent {
            contract,
            kid: Some(self.ring.active_kid().to_owned()),
            signature,
        }
    }
}

/// Verifies contracts (runtime side).
#[derive(Debug, Clone)]
pub struct IntentVerifier {
    ring: KeyRing,
    skew_ms: i64,
}

impl IntentVerifier {
    /// A verifier accepting every key of the ring, with a clock-skew allowance.
    pub fn new(ring: KeyRing, skew_ms: i64) -> Self {
        Self { ring, skew_ms }
    }

    /// Checks signature, audience, window and action; returns the trusted contract.
    pub fn verify<'a>(
        &self,
        intent: &'a SignedIntent,
        expected_action: &str,
        now_ms: i64,
    ) -> Result<&'a Contract, IntentError> {
        use base64::Engine as _;
        let (Some(kid), Some(signature)) = (&intent.kid, &intent.signature) else {
            return Err(IntentError::Unsigned);
        };
        let key = self.ring.key(kid).ok_or(IntentError::UnknownKey)?;
        let presented = b64()
            .decode(signature)
            .map_err(|_| IntentError::BadSignature)?;
        let contract = &intent.contract;
        mac(key, contract)
            .ok_or(IntentError::BadSignature)?
            .verify_slice(&presented)
            .map_err(|_| IntentError::BadSignature)?;
        if contract.audience != INTENT_AUDIENCE || contract.issuer != INTENT_ISSUER {
            return Err(IntentError::WrongAudience);
        }
        if contract.expires_at + self.skew_ms < now_ms {
            return Err(IntentError::Expired);
        }
        if contract.issued_at - self.skew_ms > now_ms
            || contract.expires_at - contract.issued_at > MAX_LIFETIME_MS
            || contract.expires_at < contract.issued_at
        {
            return Err(IntentError::BadWindow);
        }
        if contract.action != expected_action {
            return Err(IntentError::WrongAction(contract.action.clone()));
        }
        Ok(contract)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn pair() -> (IntentSigner, IntentVerifier) {
        let ring = KeyRing::new("s1", &SecretString::from("k".repeat(40)), None).unwrap();
        (
            IntentSigner::new(ring.clone(), 30_000),
            IntentVerifier::new(ring, 2_000),
        )
    }

    fn request() -> IntentRequest<'static> {
        IntentRequest {
            action: "create_session",
            tenant_id: "t",
            user_id: Some("u"),
            session_id: "s",
            payload: serde_json::json!({"b": 1, "a": {"z": [1, 2], "y": null}}),
        }
    }

    #[test]
    fn accepts_good_and_refuses_each_defect() {
        let (signer, verifier) = pair();
        let now = crate::time_util::now_ms();
        let good = signer.sign(request());
        assert!(verifier.verify(&good, "create_session", now).is_ok());
        assert_eq!(
            verifier.verify(&good, "end_session", now),
            Err(IntentError::WrongAction("create_session".into()))
        );
        let mut tampered = good.clone();
        tampered.contract.tenant_id = "other".into();
        assert_eq!(
            verifier.verify(&tampered, "create_session", now),
            Err(IntentError::BadSignature)
        );
        let mut unsigned = good.clone();
        unsigned.signature = None;
        assert_eq!(
            verifier.verify(&unsigned, "create_session", now),
            Err(IntentError::Unsigned)
        );
        assert_eq!(
            verifier.verify(&good, "create_session", now + 120_000),
            Err(IntentError::Expired)
        );
        let mut wrong_aud = good.contract.clone();
        wrong_aud.audience = "elsewhere".into();
        let wrong_aud = signer.sign_contract(wrong_aud);
        assert_eq!(
            verifier.verify(&wrong_aud, "create_session", now),
            Err(IntentError::WrongAudience)
        );
        let mut long = good.contract.clone();
        long.expires_at = long.issued_at + 3_600_000;
        let long = signer.sign_contract(long);
        assert_eq!(
            verifier.verify(&long, "create_session", now),
            Err(IntentError::BadWindow)
        );
    }

    #[test]
    fn signature_survives_a_json_round_trip() {
        let (signer, verifier) = pair();
        let good = signer.sign(request());
        let text = serde_json::to_string(&good).unwrap();
        let back: SignedIntent = serde_json::from_str(&text).unwrap();
        assert!(verifier
            .verify(&back, "create_session", crate::time_util::now_ms())
            .is_ok());
    }
}
