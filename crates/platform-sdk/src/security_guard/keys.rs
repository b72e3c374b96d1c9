//! `kid`-addressed symmetric key rings, shared by JWT signing, service tokens and intent
//! signatures. The active key signs; every key in the ring verifies, so a key can be rotated in
//! (added, then made active) and out (removed once tokens signed with it have expired).

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};

/// Minimum secret length accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// Why a key ring could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRingError {
    /// A secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("key `{0}` is shorter than {MIN_SECRET_LEN} bytes")]
    TooShort(String),
    /// An entry of the previous-keys list is not `kid:secret`.
    #[error("previous key entry is not of the form kid:secret")]
    Malformed,
    /// The kid is empty.
    #[error("a key id is empty")]
    EmptyKid,
}

/// A set of HMAC keys addressed by `kid`.
#[derive(Clone)]
pub struct KeyRing {
    active_kid: String,
    keys: HashMap<String, Vec<u8>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("active_kid", &self.active_kid)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// Builds a ring from the active key and a comma-separated list of older `kid:secret`
    /// entries that still verify.
    pub fn new(
        active_kid: &str,
        active_secret: &SecretString,
        previous: Option<&SecretString>,
    ) -> Result<Self, KeyRingError> {
        let mut keys = HashMap::new();
        let mut add = |kid: &str, secret: &str| -> Result<(), KeyRingError> {
            if kid.is_empty() {
                return Err(KeyRingError::EmptyKid);
            }
            if secret.len() < MIN_SECRET_LEN {
                return Err(KeyRingError::TooShort(kid.to_owned()));
            }
            keys.insert(kid.to_owned(), secret.as_bytes().to_vec());
            Ok(())
        };
        add(active_kid, active_secret.expose_secret())?;
        if let Some(previous) = previous {
            for entry in previous
                .expose_secret()
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                let (kid, secret) = entry.split_once(':').ok_or(KeyRingError::Malformed)?;
                if kid != active_kid {
                    add(kid.trim(), secret.trim())?;
                }
            }
        }
        Ok(Self {
            active_kid: active_kid.to_owned(),
            keys,
        })
    }

    /// The kid that signs.
    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }

    /// The signing key.
    pub fn active_key(&self) -> &[u8] {
        self.keys
            .get(&self.active_kid)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every key id in the ring.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// A verification key by kid.
    pub fn key(&self, kid: &str) -> Option<&[u8]> {
        self.keys.get(kid).map(Vec::as_slice)
    }
}

/// Generates a random secret suitable for a key ring (64 url-safe characters).
pub fn generate_secret() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_owned())
    }

    #[test]
    fn parses_previous_keys_and_rejects_short_ones() {
        let a = "a".repeat(32);
        let b = "b".repeat(32);
        let ring = KeyRing::new("k2", &s(&b), Some(&s(&format!("k1:{a}")))).unwrap();
        assert_eq!(ring.active_kid(), "k2");
        assert_eq!(ring.key("k1"), Some(a.as_bytes()));
        assert_eq!(
            KeyRing::new("k1", &s("short"), None).unwrap_err(),
            KeyRingError::TooShort("k1".into())
        );
        assert_eq!(
            KeyRing::new("k1", &s(&a), Some(&s("nocolon"))).unwrap_err(),
            KeyRingError::Malformed
        );
    }
}
