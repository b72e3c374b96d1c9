//! Login throttling (SPEC §2): per account after repeated failures and per client address, with
//! `429 rate_limited` + `Retry-After`, the same answers whether or not the account exists, and on
//! by default.

use e2e_tests::{both_backends, Backend, Options, Stack};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn options(env: &[(&str, &str)]) -> Options {
    Options {
        experience_env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Options::default()
    }
}

async fn login(stack: &Stack, email: &str, password: &str) -> (StatusCode, HeaderMap, Value) {
    stack
        .call(
            Method::POST,
            &stack.exp("/api/auth/login"),
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
}

/// The body without its per-request id, for comparing answers.
fn shape(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
        assert!(
            error
                .remove("request_id")
                .is_some_and(|id| id.as_str().is_some_and(|s| !s.is_empty())),
            "{body:?}"
        );
    }
    body
}

fn retry_after(headers: &HeaderMap) -> u64 {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("a numeric Retry-After header is required: {headers:?}"))
}

fn unknown_email() -> String {
    format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple())
}

async fn account_locks_after_failures_uniformly(backend: Backend) {
    let stack =
        Stack::start_with(backend, options(&[("APP__AUTH__LOGIN_MAX_FAILURES", "3")])).await;
    let (email, password, _) = stack.register().await;
    let ghost = unknown_email();

    let mut known_failures = Vec::new();
    let mut unknown_failures = Vec::new();
    for attempt in 1..=3 {
        let (status, headers, body) = login(&stack, &email, "wrong-password-123").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "known account, attempt {attempt}: {body}"
        );
        assert_eq!(body["error"]["code"], "invalid_credentials");
        assert!(headers.get("retry-after").is_none());
        known_failures.push(shape(&body));

        let (status, _, body) = login(&stack, &ghost, "wrong-password-123").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "unknown account, attempt {attempt}: {body}"
        );
        assert_eq!(body["error"]["code"], "invalid_credentials");
        unknown_failures.push(shape(&body));
    }
    assert_eq!(
        known_failures, unknown_failures,
        "wrong password and unknown email answer alike"
    );
    assert!(known_failures.windows(2).all(|w| w[0] == w[1]));
    assert!(!known_failures[0]["error"]["message"]
        .as_str()
        .unwrap()
        .is_empty());

    // Fourth attempt: locked, even with the right password.
    let (status, headers, locked) = login(&stack, &email, &password).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{locked}");
    assert_eq!(locked["error"]["code"], "rate_limited");
    let wait = retry_after(&headers);
    assert!(wait >= 1, "Retry-After {wait}");
    assert!(
        wait <= 15 * 60,
        "Retry-After within the default 15-minute window: {wait}"
    );
    assert!(locked["access_token"].is_null(), "no tokens while locked");
    // The unknown email gets exactly the same answer.
    let (status, headers, ghost_locked) = login(&stack, &ghost, &password).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{ghost_locked}");
    assert!(retry_after(&headers) >= 1);
    assert_eq!(
        shape(&ghost_locked),
        shape(&locked),
        "locked answers do not reveal whether the account exists"
    );

    // The lock follows the normalised email (another case is the same account) and no other
    // account.
    let (status, _, _) = login(&stack, &email.to_uppercase(), &password).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the account key is the normalised email"
    );
    let (other_email, other_password, _) = stack.register().await;
    let (status, _, body) = login(&stack, &other_email, &other_password).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "other accounts are not locked: {body}"
    );
}

async fn per_address_limit(backend: Backend) {
    let stack = Stack::start_with(backend, options(&[("APP__AUTH__IP_MAX_ATTEMPTS", "5")])).await;
    // Distinct unknown accounts, so only the address counter can trip.
    for attempt in 1..=5 {
        let (status, _, body) = login(&stack, &unknown_email(), "some-password-1").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {body}"
        );
        assert_eq!(body["error"]["code"], "invalid_credentials");
    }
    let (status, headers, body) = login(&stack, &unknown_email(), "some-password-1").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "sixth attempt from one address: {body}"
    );
    assert_eq!(body["error"]["code"], "rate_limited");
    let wait = retry_after(&headers);
    assert!(
        (1..=60).contains(&wait),
        "Retry-After within the 60 s address window: {wait}"
    );
    // Registration from the same address is throttled too, and writes nothing.
    let email = unknown_email();
    let (status, body) = stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": "a-fine-password-42"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
}

async fn throttling_is_on_by_default(backend: Backend) {
    // The harness lifts the address limit for other suites; put the default back and leave the
    // account limit at its default (5 failures).
    let stack = Stack::start_with(backend, options(&[("APP__AUTH__IP_MAX_ATTEMPTS", "30")])).await;
    let (email, _, _) = stack.register().await;
    for attempt in 1..=5 {
        let (status, _, body) = login(&stack, &email, "wrong-password-123").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {body}"
        );
        assert_eq!(body["error"]["code"], "invalid_credentials");
    }
    let (status, headers, body) = login(&stack, &email, "wrong-password-123").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the sixth wrong password: {body}"
    );
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(retry_after(&headers) >= 1);
}

both_backends!(
    account_locks_after_failures_uniformly,
    per_address_limit,
    throttling_is_on_by_default
);
