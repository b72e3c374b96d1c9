//! Tenant isolation: a user of one tenant cannot see or end a session of another (`404`, as if it
//! did not exist), the runtime answers reads under the wrong tenant with `404`, and malformed ids
//! name nothing (`404`).

use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn assert_not_found(what: &str, answer: (StatusCode, Value)) {
    let (status, body) = answer;
    assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {body}");
    assert_eq!(body["error"]["code"], "not_found", "{what}: {body}");
    assert!(
        body["session_id"].is_null() && body["user_id"].is_null(),
        "{what}: nothing leaks: {body}"
    );
}

async fn other_tenants_sessions_are_invisible(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, a) = stack.register().await;
    let (_, _, b) = stack.register().await;
    let (a_tenant, a_sid, a_token) = (
        s(&a, "tenant_id"),
        s(&a, "session_id"),
        s(&a, "access_token"),
    );
    let (b_tenant, b_sid, b_token) = (
        s(&b, "tenant_id"),
        s(&b, "session_id"),
        s(&b, "access_token"),
    );
    assert_ne!(a_tenant, b_tenant, "two registrations, two tenants");

    // A reads A's session; B cannot, and gets the same answer as for an id that does not exist.
    let (status, own) = stack.get(&format!("/api/session/{a_sid}"), &a_token).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let (status, crossed) = stack.get(&format!("/api/session/{a_sid}"), &b_token).await;
    assert_not_found("B reads A's session", (status, crossed.clone()));
    let (status, missing) = stack
        .get(&format!("/api/session/{}", uuid::Uuid::new_v4()), &b_token)
        .await;
    assert_not_found(
        "B reads a session that does not exist",
        (status, missing.clone()),
    );
    assert_eq!(
        crossed["error"]["message"], missing["error"]["message"],
        "another tenant's id is indistinguishable from a missing one"
    );

    // B cannot end A's session.
    let url = stack.exp(&format!("/api/auth/sessions/{a_sid}"));
    let (status, _, body) = stack.call(Method::DELETE, &url, Some(&b_token), None).await;
    assert_not_found("B ends A's session", (status, body));
    let (status, session) = stack.runtime_session(&a_tenant, &a_sid).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        session["status"], "active",
        "A's session survives B's attempt"
    );
    let (status, me) = stack.get("/api/auth/me", &a_token).await;
    assert_eq!(status, StatusCode::OK, "A's token still works: {me}");
    let (status, _) = stack.get(&format!("/api/session/{a_sid}"), &a_token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refreshed) = stack
        .post(
            "/api/auth/refresh",
            serde_json::json!({"refresh_token": s(&a, "refresh_token")}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "A's refresh family survives too: {refreshed}"
    );

    // B's session list holds B's session only.
    let (status, list) = stack.get("/api/auth/sessions", &b_token).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<String> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(x, "session_id"))
        .collect();
    assert_eq!(ids, vec![b_sid.clone()]);

    // The runtime itself answers 404 for A's session under B's tenant (and vice versa).
    let (status, body) = stack.runtime_session(&b_tenant, &a_sid).await;
    assert_not_found("runtime read under the wrong tenant", (status, body));
    let (status, body) = stack.runtime_session(&a_tenant, &b_sid).await;
    assert_not_found("runtime read under the wrong tenant", (status, body));
    let (status, _) = stack.runtime_session(&b_tenant, &b_sid).await;
    assert_eq!(status, StatusCode::OK);
}

async fn malformed_session_ids_are_not_found(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, a) = stack.register().await;
    let token = s(&a, "access_token");
    for bad in [
        "not-a-uuid",
        "..%2F..%2Fetc",
        "%2A",
        "session%3Apublic%3A1",
        "00000000-0000-0000-0000-00000000000g",
    ] {
        let (status, body) = stack.get(&format!("/api/session/{bad}"), &token).await;
        assert_not_found(&format!("GET /api/session/{bad}"), (status, body));
        let url = stack.exp(&format!("/api/auth/sessions/{bad}"));
        let (status, _, body) = stack.call(Method::DELETE, &url, Some(&token), None).await;
        assert_not_found(&format!("DELETE /api/auth/sessions/{bad}"), (status, body));
    }
    // Nothing above touched the caller's own session.
    let (status, session) = stack
        .runtime_session(&s(&a, "tenant_id"), &s(&a, "session_id"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["status"], "active");
}

/// The runtime follows the same rule as experience (and `platform_sdk::http::path_error`): a
/// malformed id in the path names nothing, so `404`, not a validation error.
async fn runtime_malformed_session_id_is_not_found(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, a) = stack.register().await;
    let tenant = s(&a, "tenant_id");
    for bad in ["not-a-uuid", "00000000-0000-0000-0000-00000000000g"] {
        let (status, body) = stack.runtime_session(&tenant, bad).await;
        assert!(!status.is_server_error(), "{body}");
        assert_not_found(&format!("runtime GET /api/session/{bad}"), (status, body));
    }
}

both_backends!(
    other_tenants_sessions_are_invisible,
    malformed_session_ids_are_not_found,
    runtime_malformed_session_id_is_not_found,
);
