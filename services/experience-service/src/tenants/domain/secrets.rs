//! API keys and invitation tokens: 256 random bits, url-safe base64, shown once, stored only as
//! SHA-256 hashes (a database dump yields nothing usable).

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Every API key starts with this.
pub const KEY_PREFIX: &str = "sk_";

/// Characters of a key kept in clear to tell keys apart in lists (`sk_` + 6).
const SHOWN_CHARS: usize = 9;

fn random() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API key (`sk_` + 43 characters).
pub fn new_key() -> String {
    format!("{KEY_PREFIX}{}", random())
}

/// A new invitation token (43 characters).
pub fn new_invitation_token() -> String {
    random()
}

/// The stored form of a key or token: lower-case hex SHA-256.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The part of a key shown in lists.
pub fn shown_part(key: &str) -> String {
    key.chars().take(SHOWN_CHARS).collect()
}

/// True when the string has the shape of one of our secrets (guards the database from junk).
pub fn plausible(secret: &str) -> bool {
    let body = secret.strip_prefix(KEY_PREFIX).unwrap_or(secret);
    body.len() == 43
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True when a presented credential is an API key rather than an access token.
pub fn is_api_key(credential: &str) -> bool {
    credential.starts_with(KEY_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_random_and_hashed() {
        let a = new_key();
        assert!(a.starts_with("sk_") && a.len() == 46 && plausible(&a) && is_api_key(&a));
        assert_ne!(a, new_key());
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert_eq!(shown_part(&a).len(), 9);
        let t = new_invitation_token();
        assert!(plausible(&t) && !is_api_key(&t));
        assert!(!plausible("sk_short") && !plausible("' OR 1=1 --"));
    }
}
