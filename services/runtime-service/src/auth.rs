//! The service-token extractor: every runtime read requires the experience plane's short-lived
//! service token (mutations carry a signed intent instead, see [`crate::intents`]).

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use platform_sdk::http::bearer;
use platform_sdk::security_guard::service::ServiceClaims;
use platform_sdk::security_guard::tokens::Verifier;

use crate::error::RuntimeError;

/// Proof that the caller presented a valid service token.
#[derive(Debug)]
pub struct ServiceCaller;

impl FromRequest for ServiceCaller {
    type Error = RuntimeError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<Verifier>>();
        let ok = match (verifier, bearer(req)) {
            (Some(verifier), Some(token)) => verifier.verify::<ServiceClaims>(token).is_ok(),
            _ => false,
        };
        ready(if ok {
            Ok(ServiceCaller)
        } else {
            Err(RuntimeError::Unauthenticated)
        })
    }
}
