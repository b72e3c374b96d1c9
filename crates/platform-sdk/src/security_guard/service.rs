//! Service tokens: the short-lived credential the experience plane presents on runtime reads.
//!
//! Mutations on the runtime carry a signed intent instead (see [`crate::traffic_cop`]). A service
//! token is an HS256 JWT under the shared service key ring with `aud = "runtime"` and
//! `iss = "experience"`, living one minute; the client caches one and renews it before expiry.

use serde::{Deserialize, Serialize};

use super::keys::KeyRing;
use super::tokens::{sign, TokenError};

/// Issuer of service tokens.
pub const SERVICE_ISSUER: &str = "experience";
/// Audience of service tokens.
pub const SERVICE_AUDIENCE: &str = "runtime";
/// Lifetime of a service token, seconds.
pub const SERVICE_TOKEN_TTL_SECS: i64 = 60;
/// The longest lifetime the runtime accepts by default, seconds (five minutes: far above what
/// [`mint`] issues, far below the "never expires" a leaked forged-looking token would want).
pub const DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECS: i64 = 300;

/// Claims of a service token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceClaims {
    /// Calling service.
    pub sub: String,
    /// Issuer (`experience`).
    pub iss: String,
    /// Audience (`runtime`).
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires.
    pub exp: i64,
}

impl ServiceClaims {
    /// True when the token's lifetime stays within `max_secs`: both as issued (`exp - iat`) and
    /// from now on (`exp - now`). A verified signature alone does not make a ten-year token
    /// acceptable: service tokens are meant to be short-lived, so one that is not is refused.
    pub fn lifetime_within(&self, now: i64, max_secs: i64) -> bool {
        self.exp - self.iat <= max_secs && self.exp - now <= max_secs
    }
}

/// Mints a service token signed with the ring's active key.
pub fn mint(ring: &KeyRing) -> Result<(String, i64), TokenError> {
    let now = crate::time_util::now_secs();
    let claims = ServiceClaims {
        sub: "experience-service".to_owned(),
        iss: SERVICE_ISSUER.to_owned(),
        aud: SERVICE_AUDIENCE.to_owned(),
        iat: now,
        nbf: now,
        exp: now + SERVICE_TOKEN_TTL_SECS,
    };
    Ok((sign(ring, &claims)?, claims.exp))
}

/// A prepared verifier for service tokens (the runtime keeps one).
pub fn verifier(ring: &KeyRing) -> super::tokens::Verifier {
    super::tokens::Verifier::new(ring, SERVICE_AUDIENCE, SERVICE_ISSUER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, exp: i64) -> ServiceClaims {
        ServiceClaims {
            sub: "experience-service".into(),
            iss: SERVICE_ISSUER.into(),
            aud: SERVICE_AUDIENCE.into(),
            iat,
            nbf: iat,
            exp,
        }
    }

    #[test]
    fn lifetime_is_bounded_as_issued_and_from_now() {
        let max = DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECS;
        assert!(claims(1_000, 1_000 + SERVICE_TOKEN_TTL_SECS).lifetime_within(1_000, max));
        assert!(claims(1_000, 1_000 + max).lifetime_within(1_000, max));
        assert!(!claims(1_000, 1_000 + max + 1).lifetime_within(1_000, max));
        // A backdated `iat` cannot hide a far-away `exp`.
        assert!(!claims(0, 10 * 365 * 86_400).lifetime_within(10 * 365 * 86_400 - 400, max));
        // Nor a future `iat` a long remaining life.
        assert!(!claims(5_000, 5_100).lifetime_within(1_000, max));
    }
}
