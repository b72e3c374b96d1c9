//! A login the runtime was too slow for (issue 7, defect 4, the login part): with the runtime
//! frozen (SIGSTOP) the login answers `503 runtime_unavailable`; once the runtime runs again it
//! performs the late session create, and the experience plane ends that session, so the user's
//! sessions list never keeps a session nobody holds.

use std::time::Duration;

use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The experience counter of abandoned sessions it has ended.
async fn abandoned_ended(stack: &Stack) -> u64 {
    let text = stack
        .http
        .get(stack.exp("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("symphainy_abandoned_sessions_ended_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn session_ids(stack: &Stack, token: &str) -> Vec<String> {
    let (status, body) = stack.get("/api/auth/sessions", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = body["sessions"].as_array().or(body["items"].as_array());
    list.unwrap_or_else(|| panic!("a session list: {body}"))
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_timed_out_login_leaves_no_session(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (email, password, registered) = stack.register().await;
    let token = s(&registered, "access_token");
    assert_eq!(
        session_ids(&stack, &token).await,
        vec![s(&registered, "session_id")]
    );

    let runtime = stack.runtime.as_ref().unwrap();
    runtime.pause().await;
    let (status, _, body) = stack
        .call(
            Method::POST,
            &stack.exp("/api/auth/login"),
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await;
    runtime.resume().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "runtime_unavailable", "{body}");
    assert_eq!(body["access_token"], Value::Null);

    // The runtime now runs the late create; the experience plane must end that session.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while abandoned_ended(&stack).await < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the session of the timed-out login was never ended; sessions: {:?}",
            session_ids(&stack, &token).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        session_ids(&stack, &token).await,
        vec![s(&registered, "session_id")],
        "only the session the user holds is active"
    );
    // And logins work again.
    let login = stack.login(&email, &password).await;
    assert_eq!(session_ids(&stack, &token).await.len(), 2, "{login}");
}

both_backends!(a_timed_out_login_leaves_no_session);
