//! The service-token extractor: every runtime read requires the experience plane's short-lived
//! service token (mutations carry a signed intent instead, see [`crate::intents`]). A token must
//! verify *and* be short-lived: one whose lifetime exceeds `security.service_token_max_lifetime_secs`
//! is refused like a forged one (docs/adr/0012).

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use platform_sdk::http::bearer;
use platform_sdk::security_guard::service::ServiceClaims;
use platform_sdk::security_guard::tokens::Verifier;
use platform_sdk::time_util::now_secs;

use crate::error::RuntimeError;

/// How service tokens are checked: the verifier and the longest lifetime accepted.
#[derive(Debug, Clone)]
pub struct ServiceTokens {
    /// Signature, audience, issuer and expiry.
    pub verifier: Verifier,
    /// The longest `exp - iat` (and `exp - now`) accepted, seconds.
    pub max_lifetime_secs: i64,
}

/// Proof that the caller presented a valid service token.
#[derive(Debug)]
pub struct ServiceCaller;

impl FromRequest for ServiceCaller {
    type Error = RuntimeError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let tokens = req.app_data::<web::Data<ServiceTokens>>();
        let ok = match (tokens, bearer(req)) {
            (Some(tokens), Some(token)) => tokens
                .verifier
                .verify::<ServiceClaims>(token)
                .is_ok_and(|c| c.lifetime_within(now_secs(), tokens.max_lifetime_secs)),
            _ => false,
        };
        ready(if ok {
            Ok(ServiceCaller)
        } else {
            Err(RuntimeError::Unauthenticated)
        })
    }
}
