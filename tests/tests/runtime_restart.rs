//! Runtime restarted on the Redis backend: existing sessions still validate. Sessions live in
//! Redis, not in the runtime process, so a restart (a deploy, a crash) logs nobody out.
//! (The embedded backend keeps sessions in memory and loses them on restart by design, so this
//! suite runs on the production backend only.)

mod production {
    use e2e_tests::{s, Backend, Stack};
    use platform_sdk::runtime_client::actions;
    use platform_sdk::traffic_cop::{IntentRequest, IntentSigner};
    use reqwest::{Method, StatusCode};
    use serde_json::json;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sessions_survive_a_runtime_restart() {
        let mut stack = Stack::start(Backend::Production).await;
        let (email, password, _) = stack.register().await;
        let login = stack.login(&email, &password).await;
        let (tenant, sid, access) = (
            s(&login, "tenant_id"),
            s(&login, "session_id"),
            s(&login, "access_token"),
        );
        let (status, before) = stack.runtime_session(&tenant, &sid).await;
        assert_eq!(status, StatusCode::OK, "{before}");

        // A contract the runtime answered before the restart.
        let user_id = s(&login, "user_id");
        let extra_sid = uuid::Uuid::new_v4().to_string();
        let intent = IntentSigner::new(stack.service_ring(), 30_000).sign(IntentRequest {
            action: actions::CREATE_SESSION,
            tenant_id: &tenant,
            user_id: Some(&user_id),
            session_id: &extra_sid,
            payload: json!({"metadata": {}}),
        });
        let body = serde_json::to_value(&intent).unwrap();
        let (status, _, created) = stack
            .call(
                Method::POST,
                &stack.rt("/api/session/create"),
                None,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");

        let old_port = stack.runtime.as_ref().unwrap().addr.port();
        stack.runtime.as_mut().unwrap().restart().await;
        assert_eq!(
            stack.runtime.as_ref().unwrap().addr.port(),
            old_port,
            "same address, so experience finds it"
        );

        // The runtime still serves the session, unchanged.
        let (status, after) = stack.runtime_session(&tenant, &sid).await;
        assert_eq!(status, StatusCode::OK, "{after}");
        assert_eq!(after["status"], "active");
        assert_eq!(after["user_id"], login["user_id"]);
        assert_eq!(after["created_at"], before["created_at"]);

        // Through experience: the session reads, the access token works, the refresh rotates.
        let (status, own) = stack.get(&format!("/api/session/{sid}"), &access).await;
        assert_eq!(status, StatusCode::OK, "{own}");
        assert_eq!(own["session_id"], sid.as_str());
        let (status, me) = stack.get("/api/auth/me", &access).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        let (status, refreshed) = stack
            .post(
                "/api/auth/refresh",
                json!({"refresh_token": s(&login, "refresh_token")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        assert_eq!(refreshed["session_id"], sid.as_str());
        let (status, _) = stack
            .get("/api/auth/me", &s(&refreshed, "access_token"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, list) = stack.get("/api/auth/sessions", &access).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let ids: Vec<String> = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| s(x, "session_id"))
            .collect();
        assert!(ids.contains(&sid), "{list}");

        // The replay record survived too: the same contract is answered, not executed again.
        let (status, headers, replayed) = stack
            .call(
                Method::POST,
                &stack.rt("/api/session/create"),
                None,
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{replayed}");
        assert_eq!(replayed, created);
        assert_eq!(
            headers
                .get("x-intent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );

        // Logout after the restart still ends the session in the runtime.
        let (status, _, _) = stack
            .call(
                Method::POST,
                &stack.exp("/api/auth/logout"),
                Some(&s(&refreshed, "access_token")),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, ended) = stack.runtime_session(&tenant, &sid).await;
        assert_eq!(ended["status"], "ended");
    }
}
