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
