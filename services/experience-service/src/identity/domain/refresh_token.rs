//! Refresh tokens: opaque, 256 random bits, stored only as SHA-256 hashes.
//!
//! A rotated token's child is *derived* from it: `child = HMAC-SHA256(refresh_secret, parent)`.
//! That is what lets a client that lost the refresh response (or fired 50 refreshes at once)
//! present the parent again within the grace window and receive the very same child, without the
//! server ever storing a token in a form that could be replayed from a database dump.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// A fresh random token (43 url-safe characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    b64().encode(bytes)
}

/// The child a token rotates into.
pub fn derive_child(secret: &[u8], parent: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to a hash to stay total.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(b"refresh-child:");
            mac.update(parent.as_bytes());
            b64().encode(mac.finalize().into_bytes())
        }
        Err(_) => b64().encode(Sha256::digest([secret, parent.as_bytes()].concat())),
    }
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A presented token of plausible shape (guards the database from junk).
pub fn plausible(token: &str) -> bool {
    (20..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_deterministic_and_keyed() {
        let parent = generate();
        assert_eq!(parent.len(), 43);
        assert_eq!(derive_child(b"k1", &parent), derive_child(b"k1", &parent));
        assert_ne!(derive_child(b"k1", &parent), derive_child(b"k2", &parent));
        assert_ne!(derive_child(b"k1", &parent), parent);
        assert_eq!(hash("abc").len(), 64);
        assert!(plausible(&parent));
        assert!(!plausible("x' OR 1=1"));
    }
}
