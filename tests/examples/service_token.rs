//! Prints a runtime service token, for tools that call the runtime's reads from outside the
//! experience plane (`scripts/fuzz.sh` fuzzes them with it).
//!
//! The secret comes from `APP__SECURITY__SERVICE_SECRET` (the runtime's own setting) and the key
//! id from `APP__SECURITY__SERVICE_KID` (default `svc-1`). The token lives as long as the runtime
//! accepts by default (5 min), not the SDK's 60 s, so a fuzzing run can use one token throughout.
//!
//! `APP__SECURITY__SERVICE_SECRET=… cargo run -p e2e-tests --example service_token`

use platform_sdk::security_guard::service::{
    ServiceClaims, DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECS, SERVICE_AUDIENCE, SERVICE_ISSUER,
};
use platform_sdk::security_guard::tokens::sign;
use platform_sdk::security_guard::KeyRing;
use secrecy::SecretString;

fn main() -> anyhow::Result<()> {
    let secret = std::env::var("APP__SECURITY__SERVICE_SECRET")
        .map_err(|_| anyhow::anyhow!("set APP__SECURITY__SERVICE_SECRET"))?;
    let kid = std::env::var("APP__SECURITY__SERVICE_KID").unwrap_or_else(|_| "svc-1".into());
    let ring = KeyRing::new(&kid, &SecretString::from(secret), None)?;
    let now = platform_sdk::time_util::now_secs();
    let claims = ServiceClaims {
        sub: "service-token-example".into(),
        iss: SERVICE_ISSUER.into(),
        aud: SERVICE_AUDIENCE.into(),
        iat: now,
        nbf: now,
        exp: now + DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECS,
    };
    println!("{}", sign(&ring, &claims)?);
    Ok(())
}
