//! Concurrent refreshes of one refresh token never log the user out: fifty at once all succeed
//! with the same rotated child (one rotation, not fifty), on the same session, and that child
//! keeps working.

use e2e_tests::{both_backends, s, Backend, Stack};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

async fn fifty_concurrent_refreshes_share_one_child(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let parent = s(&login, "refresh_token");
    let sid = s(&login, "session_id");

    let answers = join_all(
        (0..50).map(|_| stack.post("/api/auth/refresh", json!({"refresh_token": parent}))),
    )
    .await;

    let statuses: Vec<StatusCode> = answers.iter().map(|(status, _)| *status).collect();
    assert!(
        !statuses.contains(&StatusCode::UNAUTHORIZED),
        "a concurrent refresh logged the user out: {statuses:?}\n{:?}",
        answers
            .iter()
            .find(|(st, _)| *st == StatusCode::UNAUTHORIZED)
    );
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["session_id"], sid.as_str(), "{body}");
        assert_eq!(body["token_type"], "Bearer");
    }
    let children: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(_, body)| s(body, "refresh_token"))
        .collect();
    assert_eq!(children.len(), 1, "exactly one child: {children:?}");
    let child = children.into_iter().next().unwrap();
    assert_ne!(child, parent);

    // Every access token handed out works.
    for (_, body) in answers.iter().take(5) {
        let (status, me) = stack.get("/api/auth/me", &s(body, "access_token")).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["session_id"], sid.as_str());
    }

    // The child refreshes in turn, into a grandchild, on the same still-active session.
    let (status, next) = stack
        .post("/api/auth/refresh", json!({"refresh_token": child}))
        .await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_eq!(next["session_id"], sid.as_str());
    let grandchild = s(&next, "refresh_token");
    assert_ne!(grandchild, child);
    assert_ne!(grandchild, parent);
    let (status, me) = stack.get("/api/auth/me", &s(&next, "access_token")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let (status, session) = stack.runtime_session(&s(&login, "tenant_id"), &sid).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        session["status"], "active",
        "the session survived the storm"
    );
}

both_backends!(fifty_concurrent_refreshes_share_one_child);
