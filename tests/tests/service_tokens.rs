//! Service tokens on the runtime's reads (issue 7, defect 9): a token signed with the real
//! service key but living longer than the configured maximum (5 min by default) is refused with
//! `401`, whether the long life shows in `exp - iat` or only in `exp - now`; the SDK's own
//! 60-second token and a hand-made 5-minute one are accepted, so the refusals are about lifetime.

use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::security_guard::service::{
    mint, ServiceClaims, SERVICE_AUDIENCE, SERVICE_ISSUER,
};
use platform_sdk::security_guard::tokens::sign;
use reqwest::{Method, StatusCode};

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

async fn long_lived_service_tokens_are_refused(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let url = stack.rt(&format!(
        "/api/sessions?tenant_id={}&user_id={}",
        s(&login, "tenant_id"),
        s(&login, "user_id")
    ));
    let ring = stack.service_ring();
    let now = platform_sdk::time_util::now_secs();
    let year = 365 * 24 * 3600;
    let cases = [
        ("the SDK's own 60 s token", mint(&ring).unwrap().0, true),
        (
            "exactly the 5 min maximum",
            sign(&ring, &claims(now, now + 300)).unwrap(),
            true,
        ),
        (
            "a ten-year token",
            sign(&ring, &claims(now, now + 10 * year)).unwrap(),
            false,
        ),
        (
            "six minutes",
            sign(&ring, &claims(now, now + 360)).unwrap(),
            false,
        ),
        (
            "backdated iat, far exp",
            sign(&ring, &claims(now - 10 * year, now + 10 * year)).unwrap(),
            false,
        ),
        (
            "future iat hides a long remaining life",
            sign(&ring, &claims(now + 3600, now + 3660)).unwrap(),
            false,
        ),
    ];
    for (what, token, accepted) in cases {
        let (status, _, body) = stack.call(Method::GET, &url, Some(&token), None).await;
        if accepted {
            assert_eq!(status, StatusCode::OK, "{what}: {body}");
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
            assert_eq!(body["error"]["code"], "unauthenticated", "{what}: {body}");
        }
    }
}

async fn the_maximum_is_configurable(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        e2e_tests::Options {
            runtime_env: vec![(
                "APP__SECURITY__SERVICE_TOKEN_MAX_LIFETIME_SECS".into(),
                "3600".into(),
            )],
            ..Default::default()
        },
    )
    .await;
    let (_, _, login) = stack.register().await;
    let url = stack.rt(&format!(
        "/api/sessions?tenant_id={}&user_id={}",
        s(&login, "tenant_id"),
        s(&login, "user_id")
    ));
    let ring = stack.service_ring();
    let now = platform_sdk::time_util::now_secs();
    let hour = sign(&ring, &claims(now, now + 3600)).unwrap();
    let (status, _, body) = stack.call(Method::GET, &url, Some(&hour), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let more = sign(&ring, &claims(now, now + 3601)).unwrap();
    let (status, _, body) = stack.call(Method::GET, &url, Some(&more), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

both_backends!(
    long_lived_service_tokens_are_refused,
    the_maximum_is_configurable
);
