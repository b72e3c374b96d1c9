//! The whole identity life cycle across both planes: register → login (session in the runtime)
//! → me → refresh → grace replay returns the same child → replay after grace ends the family and
//! the session → logout → the old access token is refused.

use e2e_tests::{both_backends, s, Backend, Options, Stack};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn full_life_cycle(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        Options {
            experience_env: vec![("APP__AUTH__REFRESH_GRACE_SECS".into(), "1".into())],
            ..Options::default()
        },
    )
    .await;
    let (email, password, registered) = stack.register().await;
    assert_eq!(registered["token_type"], "Bearer");
    assert_eq!(registered["user"]["email"], email.as_str());
    assert_eq!(registered["user"]["roles"], json!(["owner"]));
    assert_eq!(registered["user_id"], registered["user"]["id"]);
    assert_eq!(registered["permissions"], registered["user"]["permissions"]);

    // Login creates a runtime session owned by the user.
    let login = stack.login(&email.to_uppercase(), &password).await;
    let (tenant, sid, access) = (
        s(&login, "tenant_id"),
        s(&login, "session_id"),
        s(&login, "access_token"),
    );
    assert_ne!(sid, s(&registered, "session_id"));
    let (status, session) = stack.runtime_session(&tenant, &sid).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["status"], "active");
    assert_eq!(session["user_id"], login["user_id"]);

    // me answers from the token's session.
    let (status, me) = stack.get("/api/auth/me", &access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["email"], email.as_str());
    assert_eq!(me["session_id"], sid.as_str());
    assert_eq!(me["tenant"]["id"], tenant.as_str());
    assert!(me["scopes"].as_array().unwrap().contains(&json!("admin")));

    // The user sees the session through experience as well.
    let (status, own) = stack.get(&format!("/api/session/{sid}"), &access).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let (status, list) = stack.get("/api/auth/sessions", &access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2, "{list}");

    // Refresh rotates on the same session.
    let parent = s(&login, "refresh_token");
    let (status, first) = stack
        .post("/api/auth/refresh", json!({"refresh_token": parent}))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["session_id"], sid.as_str());
    let child = s(&first, "refresh_token");
    assert_ne!(child, parent);

    // A lost response: the parent again within grace gives the same child.
    let (status, again) = stack
        .post("/api/auth/refresh", json!({"refresh_token": parent}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(s(&again, "refresh_token"), child);

    // After the grace window the parent is a stolen token: the family and session end.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let (status, reused) = stack
        .post("/api/auth/refresh", json!({"refresh_token": parent}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused["error"]["code"], "refresh_token_reused");
    let (status, _) = stack
        .post("/api/auth/refresh", json!({"refresh_token": child}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the child dies with its family"
    );
    let (_, ended) = stack.runtime_session(&tenant, &sid).await;
    assert_eq!(ended["status"], "ended");
    let (status, _) = stack.get("/api/auth/me", &s(&first, "access_token")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "tokens of the ended session are refused"
    );

    // Logout of a fresh login: 204, idempotent, the token is refused, the session ended.
    let login = stack.login(&email, &password).await;
    let access = s(&login, "access_token");
    let (status, _, _) = stack
        .call(
            Method::POST,
            &stack.exp("/api/auth/logout"),
            Some(&access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = stack
        .call(
            Method::POST,
            &stack.exp("/api/auth/logout"),
            Some(&access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "logout is idempotent");
    let (status, body) = stack.get("/api/auth/me", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (_, ended) = stack
        .runtime_session(&tenant, &s(&login, "session_id"))
        .await;
    assert_eq!(ended["status"], "ended");
    let (status, _) = stack
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": s(&login, "refresh_token")}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "logout revokes the refresh family"
    );
}

async fn logout_all_sessions_and_other_replicas(backend: Backend) {
    let stack = Stack::start(backend).await;
    let replica = stack.another_experience().await;
    let (email, password, first) = stack.register().await;
    let second = stack.login(&email, &password).await;
    let (status, _) = stack.get("/api/auth/me", &s(&first, "access_token")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = stack
        .call(
            Method::GET,
            &replica.url("/api/auth/me"),
            Some(&s(&first, "access_token")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the replica accepts the token");

    let (status, _, _) = stack
        .call(
            Method::POST,
            &stack.exp("/api/auth/logout"),
            Some(&s(&second, "access_token")),
            Some(json!({"all_sessions": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let started = std::time::Instant::now();
    // Every replica must refuse both sessions' tokens within one second.
    loop {
        let (a, _, _) = stack
            .call(
                Method::GET,
                &replica.url("/api/auth/me"),
                Some(&s(&first, "access_token")),
                None,
            )
            .await;
        let (b, _, _) = stack
            .call(
                Method::GET,
                &replica.url("/api/auth/me"),
                Some(&s(&second, "access_token")),
                None,
            )
            .await;
        if a == StatusCode::UNAUTHORIZED && b == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "replica still accepts after 1 s"
        );
        tokio::task::yield_now().await;
    }
    let (_, ended) = stack
        .runtime_session(&s(&first, "tenant_id"), &s(&first, "session_id"))
        .await;
    assert_eq!(ended["status"], "ended");
}

async fn ending_one_of_my_sessions(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (email, password, first) = stack.register().await;
    let second = stack.login(&email, &password).await;
    let url = stack.exp(&format!("/api/auth/sessions/{}", s(&first, "session_id")));
    let (status, _, _) = stack
        .call(
            Method::DELETE,
            &url,
            Some(&s(&second, "access_token")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.get("/api/auth/me", &s(&first, "access_token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, list) = stack
        .get("/api/auth/sessions", &s(&second, "access_token"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<_> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(x, "session_id"))
        .collect();
    assert_eq!(ids, vec![s(&second, "session_id")]);
    assert_eq!(list["current_session_id"], second["session_id"]);
}

async fn anonymous_sessions(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (status, body) = stack.post("/api/session/create-anonymous", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["session"]["user_id"], serde_json::Value::Null);
    assert_eq!(body["session"]["status"], "active");
    let (status, _) = stack
        .runtime_session("public", &s(&body, "session_id"))
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn refresh_tokens_expire_when_idle(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        Options {
            experience_env: vec![("APP__AUTH__REFRESH_IDLE_SECS".into(), "1".into())],
            ..Options::default()
        },
    )
    .await;
    let (_, _, login) = stack.register().await;
    let (status, fresh) = stack
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": s(&login, "refresh_token")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "used within its idle time");
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    let (status, body) = stack
        .post(
            "/api/auth/refresh",
            json!({"refresh_token": s(&fresh, "refresh_token")}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_refresh_token");
}

both_backends!(
    full_life_cycle,
    refresh_tokens_expire_when_idle,
    logout_all_sessions_and_other_replicas,
    ending_one_of_my_sessions,
    anonymous_sessions
);
