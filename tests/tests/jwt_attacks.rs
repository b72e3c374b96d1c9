//! Forged and broken access tokens against the experience plane: `alg: none`, a wrong key, an
//! expired token, wrong `aud`/`iss`, a swapped payload, an unknown `kid`, no bearer, garbage. Each
//! answers `401 unauthenticated`; a token we forge with the real key and correct claims works,
//! so the refusals are about the defect. A real token without `sessions:read` gets `403
//! missing_scope` naming the scope.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::security_guard::tokens::sign;
use platform_sdk::security_guard::{AccessClaims, KeyRing};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::Value;

const ISSUER: &str = "symphainy-experience";
const AUDIENCE: &str = "symphainy";

fn now_secs() -> i64 {
    platform_sdk::time_util::now_secs()
}

/// The claims of a real token (read, not verified).
fn claims_of(token: &str) -> AccessClaims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Fresh, correct claims for the user of `real`, with a new `jti`.
fn fresh(real: &AccessClaims) -> AccessClaims {
    let now = now_secs();
    AccessClaims {
        iat: now,
        nbf: now,
        exp: now + 600,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        jti: uuid::Uuid::new_v4().to_string(),
        ..real.clone()
    }
}

fn random_ring(kid: &str) -> KeyRing {
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    KeyRing::new(kid, &SecretString::from(secret), None).unwrap()
}

async fn me(
    stack: &Stack,
    authorization: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = stack.http.get(stack.exp("/api/auth/me"));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

async fn assert_refused(stack: &Stack, what: &str, authorization: Option<&str>) {
    let (status, headers, body) = me(stack, authorization).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unauthenticated", "{what}: {body}");
    assert!(body["user"].is_null(), "{what}: no profile leaks");
    assert_eq!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{what}"
    );
}

async fn forged_and_broken_tokens_are_refused(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let real = s(&login, "access_token");
    let claims = claims_of(&real);
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, AUDIENCE);
    let ring = stack.jwt_ring();

    // Control: the real token, and one we forge with the real key and correct claims, both work.
    let (status, _, body) = me(&stack, Some(&format!("Bearer {real}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let good = sign(&ring, &fresh(&claims)).unwrap();
    let (status, _, body) = me(&stack, Some(&format!("Bearer {good}"))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a correctly signed token with correct claims works: {body}"
    );
    assert_eq!(body["user"]["id"], claims.sub.as_str());
    assert_eq!(body["session_id"], claims.sid.as_str());

    // alg: none, with the real payload and an empty signature.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"jwt-1"}"#);
    let payload = real.split('.').nth(1).unwrap();
    assert_refused(
        &stack,
        "alg none",
        Some(&format!("Bearer {header}.{payload}.")),
    )
    .await;
    // alg: none keeping the original signature.
    let signature = real.split('.').nth(2).unwrap();
    assert_refused(
        &stack,
        "alg none + signature",
        Some(&format!("Bearer {header}.{payload}.{signature}")),
    )
    .await;
    // A header claiming HS512 over an HS256 signature.
    let header512 = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT","kid":"jwt-1"}"#);
    assert_refused(
        &stack,
        "alg HS512",
        Some(&format!("Bearer {header512}.{payload}.{signature}")),
    )
    .await;

    // Signed with another key under the real kid.
    let forged = sign(&random_ring("jwt-1"), &fresh(&claims)).unwrap();
    assert_refused(&stack, "wrong key", Some(&format!("Bearer {forged}"))).await;

    // Expired ten minutes ago (real key).
    let now = now_secs();
    let expired = AccessClaims {
        iat: now - 1_200,
        nbf: now - 1_200,
        exp: now - 600,
        ..fresh(&claims)
    };
    assert_refused(
        &stack,
        "expired",
        Some(&format!("Bearer {}", sign(&ring, &expired).unwrap())),
    )
    .await;

    // Not yet valid (nbf ten minutes ahead).
    let early = AccessClaims {
        nbf: now + 600,
        exp: now + 1_200,
        ..fresh(&claims)
    };
    assert_refused(
        &stack,
        "not yet valid",
        Some(&format!("Bearer {}", sign(&ring, &early).unwrap())),
    )
    .await;

    // Wrong audience, wrong issuer (real key).
    let wrong_aud = AccessClaims {
        aud: "someone-else".into(),
        ..fresh(&claims)
    };
    assert_refused(
        &stack,
        "wrong aud",
        Some(&format!("Bearer {}", sign(&ring, &wrong_aud).unwrap())),
    )
    .await;
    let wrong_iss = AccessClaims {
        iss: "symphainy-runtime".into(),
        ..fresh(&claims)
    };
    assert_refused(
        &stack,
        "wrong iss",
        Some(&format!("Bearer {}", sign(&ring, &wrong_iss).unwrap())),
    )
    .await;

    // Tampered: the payload swapped for one naming another user, the signature kept.
    let (_, _, other) = stack.register().await;
    let mut swapped = claims.clone();
    swapped.sub = s(&other, "user_id");
    swapped.tid = s(&other, "tenant_id");
    let swapped_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&swapped).unwrap());
    let parts: Vec<&str> = real.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], swapped_payload, parts[2]);
    assert_refused(
        &stack,
        "tampered payload",
        Some(&format!("Bearer {tampered}")),
    )
    .await;
    // Tampered scope escalation on a copy of the payload.
    let mut escalated = claims.clone();
    escalated.scope = "admin".into();
    escalated.roles = vec!["owner".into(), "admin".into()];
    let escalated_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&escalated).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], escalated_payload, parts[2]);
    assert_refused(
        &stack,
        "tampered scope",
        Some(&format!("Bearer {tampered}")),
    )
    .await;

    // Unknown kid, even with the real secret behind it; and no kid at all.
    let unknown_kid =
        KeyRing::new("jwt-9", &SecretString::from(stack.jwt_secret.clone()), None).unwrap();
    assert_refused(
        &stack,
        "unknown kid",
        Some(&format!(
            "Bearer {}",
            sign(&unknown_kid, &fresh(&claims)).unwrap()
        )),
    )
    .await;

    // No bearer, another scheme, an empty bearer, garbage.
    assert_refused(&stack, "no authorization header", None).await;
    assert_refused(&stack, "basic scheme", Some("Basic dXNlcjpwYXNz")).await;
    assert_refused(&stack, "token without scheme", Some(&real)).await;
    assert_refused(&stack, "empty bearer", Some("Bearer ")).await;
    assert_refused(&stack, "garbage", Some("Bearer garbage")).await;
    assert_refused(&stack, "three garbage segments", Some("Bearer aaa.bbb.ccc")).await;
    assert_refused(
        &stack,
        "two segments",
        Some(&format!("Bearer {}.{}", parts[0], parts[1])),
    )
    .await;

    // Still fine afterwards: nothing above disturbed the real session.
    let (status, _, _) = me(&stack, Some(&format!("Bearer {real}"))).await;
    assert_eq!(status, StatusCode::OK);
}

async fn missing_scope_names_the_scope(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let claims = claims_of(&s(&login, "access_token"));
    let sid = claims.sid.clone();
    let ring = stack.jwt_ring();

    let narrow = AccessClaims {
        scope: "agents:read".into(),
        roles: vec!["viewer".into()],
        ..fresh(&claims)
    };
    let token = sign(&ring, &narrow).unwrap();
    let (status, _, body) = stack
        .call(
            Method::GET,
            &stack.exp(&format!("/api/session/{sid}")),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "missing_scope");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sessions:read"),
        "{body}"
    );
    assert!(body["session_id"].is_null(), "no session leaks: {body}");
    let (status, _, body) = stack
        .call(
            Method::GET,
            &stack.exp("/api/auth/sessions"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "missing_scope");
    // The token itself is valid: routes without a scope requirement accept it.
    let (status, _, body) = stack
        .call(Method::GET, &stack.exp("/api/auth/me"), Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scopes"], serde_json::json!(["agents:read"]));

    // With the scope (explicitly, by wildcard, or through `admin`) the same read works.
    for scope in ["sessions:read", "sessions:*", "admin"] {
        let granted = AccessClaims {
            scope: format!("agents:read {scope}"),
            ..fresh(&claims)
        };
        let token = sign(&ring, &granted).unwrap();
        let (status, _, body) = stack
            .call(
                Method::GET,
                &stack.exp(&format!("/api/session/{sid}")),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "scope `{scope}`: {body}");
        assert_eq!(body["session_id"], sid.as_str());
    }
}

both_backends!(
    forged_and_broken_tokens_are_refused,
    missing_scope_names_the_scope
);
