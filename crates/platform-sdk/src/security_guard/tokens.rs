//! JWT access tokens: HS256 under a `kid` key ring, nothing else accepted.
//!
//! Verification looks the `kid` up in the ring (an unknown or missing kid fails), allows only
//! HS256 (so `alg: none` and algorithm confusion fail before any signature check), and checks
//! `exp`, `nbf`, `iss` and `aud` with a 5-second leeway.

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys::KeyRing;
use super::scopes::ScopeSet;

/// Clock leeway applied to `exp` and `nbf`, seconds.
pub const LEEWAY_SECS: u64 = 5;

/// Claims of an access token (SPEC §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Runtime session id.
    pub sid: String,
    /// Role names in the tenant.
    pub roles: Vec<String>,
    /// Space-separated scopes.
    pub scope: String,
    /// Issued at, epoch seconds.
    pub iat: i64,
    /// Not before, epoch seconds.
    pub nbf: i64,
    /// Expires at, epoch seconds.
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Unique token id.
    pub jti: String,
}

impl AccessClaims {
    /// The granted scopes.
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse(&self.scope)
    }
}

/// Why a token was refused. Callers answer every variant with `401`; the variant is for logs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not a JWT, bad base64 or JSON, or a disallowed algorithm.
    #[error("malformed token")]
    Malformed,
    /// The header names no kid, or one this ring does not hold.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
    /// Past `exp` (plus leeway).
    #[error("token expired")]
    Expired,
    /// Before `nbf`, or wrong `aud` / `iss`, or a required claim missing.
    #[error("token not valid here: {0}")]
    Invalid(String),
    /// Signing failed (a broken key).
    #[error("could not sign token")]
    Signing,
}

/// Signs `claims` with the ring's active key.
pub fn sign<C: Serialize>(ring: &KeyRing, claims: &C) -> Result<String, TokenError> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(ring.active_kid().to_owned());
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(ring.active_key()),
    )
    .map_err(|_| TokenError::Signing)
}

/// A prepared verifier: decoding keys and validation rules built once, not per token (this runs
/// on every authenticated request).
#[derive(Clone)]
pub struct Verifier {
    keys: std::collections::HashMap<String, DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Verifier {
    /// A verifier accepting every key of the ring, for one audience and issuer.
    pub fn new(ring: &KeyRing, audience: &str, issuer: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_audience(&[audience]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "aud", "iss", "sub"]);
        let keys = ring
            .kids()
            .filter_map(|kid| {
                ring.key(kid)
                    .map(|k| (kid.to_owned(), DecodingKey::from_secret(k)))
            })
            .collect();
        Self { keys, validation }
    }

    /// Verifies a token and returns its claims.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Malformed);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        decode::<C>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::InvalidSignature => TokenError::BadSignature,
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::InvalidAudience => TokenError::Invalid("audience".into()),
                    ErrorKind::InvalidIssuer => TokenError::Invalid("issuer".into()),
                    ErrorKind::ImmatureSignature => TokenError::Invalid("not yet valid".into()),
                    ErrorKind::MissingRequiredClaim(c) => {
                        TokenError::Invalid(format!("missing {c}"))
                    }
                    _ => TokenError::Malformed,
                }
            })
    }
}

/// Verifies a token signed by any key of the ring, with the given audience and issuer
/// (one-off; hot paths keep a [`Verifier`]).
pub fn verify<C: DeserializeOwned>(
    ring: &KeyRing,
    token: &str,
    audience: &str,
    issuer: &str,
) -> Result<C, TokenError> {
    Verifier::new(ring, audience, issuer).verify(token)
}

/// Issues and verifies access tokens for one issuer/audience pair.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    ring: KeyRing,
    verifier: Verifier,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

/// What goes into a new access token.
#[derive(Debug, Clone)]
pub struct AccessGrant<'a> {
    /// User id.
    pub user_id: &'a str,
    /// Tenant id.
    pub tenant_id: &'a str,
    /// Runtime session id.
    pub session_id: &'a str,
    /// Role names.
    pub roles: &'a [String],
    /// Granted scopes.
    pub scopes: &'a ScopeSet,
}

impl TokenIssuer {
    /// An issuer; `ttl_secs` is the access-token lifetime.
    pub fn new(ring: KeyRing, issuer: &str, audience: &str, ttl_secs: i64) -> Self {
        Self {
            verifier: Verifier::new(&ring, audience, issuer),
            ring,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs,
        }
    }

    /// Access-token lifetime, seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Issues a token; returns it with its claims.
    pub fn issue(&self, grant: &AccessGrant<'_>) -> Result<(String, AccessClaims), TokenError> {
        let now = crate::time_util::now_secs();
        let claims = AccessClaims {
            sub: grant.user_id.to_owned(),
            tid: grant.tenant_id.to_owned(),
            sid: grant.session_id.to_owned(),
            roles: grant.roles.to_vec(),
            scope: grant.scopes.to_claim(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        Ok((sign(&self.ring, &claims)?, claims))
    }

    /// Verifies a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verifier.verify(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use secrecy::SecretString;

    fn ring(kid: &str, fill: char) -> KeyRing {
        KeyRing::new(kid, &SecretString::from(fill.to_string().repeat(40)), None).unwrap()
    }

    fn grant_token(issuer: &TokenIssuer) -> String {
        let scopes = ScopeSet::parse("agents:read");
        let roles = vec!["member".to_owned()];
        issuer
            .issue(&AccessGrant {
                user_id: "u",
                tenant_id: "t",
                session_id: "s",
                roles: &roles,
                scopes: &scopes,
            })
            .unwrap()
            .0
    }

    #[test]
    fn round_trips_and_rotates() {
        let old = TokenIssuer::new(ring("k1", 'a'), "iss", "aud", 60);
        let token = grant_token(&old);
        let previous = SecretString::from(format!("k1:{}", "a".repeat(40)));
        let rotated =
            KeyRing::new("k2", &SecretString::from("b".repeat(40)), Some(&previous)).unwrap();
        let new = TokenIssuer::new(rotated, "iss", "aud", 60);
        assert_eq!(new.verify(&token).unwrap().sub, "u");
        let other = TokenIssuer::new(ring("k1", 'c'), "iss", "aud", 60);
        assert_eq!(other.verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn refuses_alg_none_and_wrong_audience() {
        let issuer = TokenIssuer::new(ring("k1", 'a'), "iss", "aud", 60);
        let token = grant_token(&issuer);
        let payload = token.split('.').nth(1).unwrap();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        let forged = format!("{header}.{payload}.");
        assert_eq!(issuer.verify(&forged), Err(TokenError::Malformed));
        let elsewhere = TokenIssuer::new(ring("k1", 'a'), "iss", "other", 60);
        assert!(matches!(
            elsewhere.verify(&token),
            Err(TokenError::Invalid(_))
        ));
    }
}
