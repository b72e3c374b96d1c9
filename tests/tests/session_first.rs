//! The web frontend's session-first flow (SPEC §3 "Experience session routes"), end to end and in
//! the order the frontend runs it: create an anonymous session → read it back without a token →
//! open the agent socket with `?session_id=` alone → a guide turn (liaisons refused) →
//! register/login → `PATCH /api/session/{id}/upgrade` → read it with the token → the socket with
//! the token.

use e2e_tests::ws::{connect, types, Ended};
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn get(stack: &Stack, sid: &str, token: Option<&str>) -> (StatusCode, Value) {
    let url = stack.exp(&format!("/api/session/{sid}"));
    let (status, _, body) = stack.call(Method::GET, &url, token, None).await;
    (status, body)
}

async fn upgrade(stack: &Stack, sid: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let url = stack.exp(&format!("/api/session/{sid}/upgrade"));
    let (status, _, body) = stack
        .call(Method::PATCH, &url, Some(token), Some(body))
        .await;
    (status, body)
}

async fn the_frontend_session_first_flow(backend: Backend) {
    let stack = Stack::start(backend).await;

    // 1. Before login: an anonymous session.
    let (status, created) = stack.post("/api/session/create-anonymous", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let sid = s(&created, "session_id");

    // 2. Page load: read it back without a token.
    let (status, record) = get(&stack, &sid, None).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["session_id"], sid.as_str());
    assert_eq!(record["user_id"], Value::Null);
    assert_eq!(record["status"], "active");
    // Unknown and malformed ids without a token reveal nothing.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        get(&stack, &unknown, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&stack, "not-a-uuid", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // 3. The agent socket with `?session_id=` alone.
    let mut anon = connect(&stack, &format!("session_id={sid}")).await.unwrap();
    let hello = anon.next().await;
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");
    assert_eq!(hello["data"]["session_id"], sid.as_str());
    assert_eq!(hello["data"]["user_id"], Value::Null);
    // A session id that is not an anonymous one, without a token: 401.
    assert_eq!(
        connect(&stack, &format!("session_id={unknown}"))
            .await
            .err(),
        Some(401)
    );

    // 4. A guide turn streams; liaisons and specialists are refused with nothing executed.
    anon.send(
        json!({"type": "intent", "intent": "What can this platform do?", "agent_type": "guide"}),
    )
    .await;
    let frames = anon.until_finished().await;
    let kinds = types(&frames);
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    let answer = frames
        .iter()
        .find(|f| f["event_type"] == "AGENT_RESPONSE")
        .expect("an answer");
    assert_eq!(answer["data"]["agent_type"], "guide");
    let anonymous_last = frames.last().unwrap()["event_id"].as_i64().unwrap();
    for frame in [
        json!({"type": "intent", "intent": "hi", "agent_type": "liaison", "metadata": {"pillar": "content"}}),
        json!({"type": "intent", "intent": "hi", "agent_type": "specialist", "metadata": {"pillar": "insights"}}),
        json!({"type": "agent.message", "payload": {"text": "hi", "context": {"surface": "content_pillar"}}}),
    ] {
        anon.send(frame.clone()).await;
        let error = anon.next().await;
        assert_eq!(error["type"], "error", "{frame} → {error}");
    }
    anon.send(json!({"type": "ping"})).await;
    assert_eq!(anon.next().await["type"], "pong", "nothing was executed");

    // 5. Register (the frontend logs in).
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let (user_id, tenant_id) = (s(&login["user"], "id"), s(&login["user"], "tenant_id"));
    // A user's session without a token: 401.
    assert_eq!(
        get(&stack, &s(&login, "session_id"), None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // 6. Upgrade: body fields are ignored, identity comes from the token.
    let foreign = json!({"user_id": uuid::Uuid::new_v4().to_string(), "tenant_id": uuid::Uuid::new_v4().to_string()});
    let (status, upgraded) = upgrade(&stack, &sid, &token, foreign.clone()).await;
    assert_eq!(status, StatusCode::OK, "{upgraded}");
    assert_eq!(upgraded["session_id"], sid.as_str());
    assert_eq!(upgraded["user_id"], user_id.as_str());
    assert_eq!(upgraded["tenant_id"], tenant_id.as_str());
    assert_eq!(upgraded["created_at"], record["created_at"]);
    // A retry answers the same session; someone else cannot take it; no token → 401.
    let (status, again) = upgrade(&stack, &sid, &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["user_id"], user_id.as_str());
    let (_, _, other) = stack.register().await;
    let other_token = s(&other, "access_token");
    assert_eq!(
        upgrade(&stack, &sid, &other_token, json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        upgrade(&stack, &unknown, &token, json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let url = stack.exp(&format!("/api/session/{sid}/upgrade"));
    let (status, _, _) = stack.call(Method::PATCH, &url, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The anonymous socket is let go: the session is not anonymous any more.
    loop {
        match anon.next_or_end().await {
            Ok(_) => continue,
            Err(end) => {
                assert_eq!(end, Ended::Closed(4403));
                break;
            }
        }
    }

    // 7. Read it with the token (the owner only); without one it is no longer readable.
    let (status, mine) = get(&stack, &sid, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["user_id"], user_id.as_str());
    assert_eq!(get(&stack, &sid, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(&stack, &sid, Some(&other_token)).await.0,
        StatusCode::NOT_FOUND
    );
    // Both the login's session and the upgraded one are the user's.
    let (status, list) = stack.get("/api/auth/sessions", &token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["session_id"].as_str())
        .collect();
    assert!(ids.contains(&sid.as_str()), "{list}");
    assert!(
        ids.contains(&login["session_id"].as_str().unwrap()),
        "{list}"
    );
    assert_eq!(list["current_session_id"], login["session_id"]);

    // 8. The socket with the token on the upgraded session: liaisons now, ids keep counting.
    let mut ws = connect(&stack, &format!("access_token={token}&session_id={sid}"))
        .await
        .unwrap();
    assert_eq!(ws.next().await["data"]["user_id"], user_id.as_str());
    ws.send(json!({"type": "intent", "intent": "upload our files", "agent_type": "liaison", "metadata": {"pillar": "content"}}))
        .await;
    let frames = ws.until_finished().await;
    let answer = frames
        .iter()
        .find(|f| f["event_type"] == "AGENT_RESPONSE")
        .expect("an answer");
    assert_eq!(answer["data"]["agent_id"], "liaison.content");
    assert!(frames[0]["event_id"].as_i64().unwrap() > anonymous_last);
    // The anonymous history moved with the session: a resume from 0 replays it.
    let mut replay = connect(
        &stack,
        &format!("access_token={token}&session_id={sid}&last_event_id=0"),
    )
    .await
    .unwrap();
    replay.next().await;
    assert_eq!(replay.next().await["event_id"], 1);
    replay.close().await;

    // Logout of the token's session also closes the socket it opened on the upgraded one.
    let (status, _, _) = stack
        .call(
            Method::POST,
            &stack.exp("/api/auth/logout"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    loop {
        match ws.next_or_end().await {
            Ok(_) => continue,
            Err(end) => {
                assert_eq!(end, Ended::Closed(4401));
                break;
            }
        }
    }
}

async fn upgrade_refuses_non_json_bodies(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, created) = stack.post("/api/session/create-anonymous", json!({})).await;
    let sid = s(&created, "session_id");
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let url = stack.exp(&format!("/api/session/{sid}/upgrade"));
    let res = stack
        .http
        .patch(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = stack
        .http
        .patch(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Nothing was upgraded by the refused requests.
    assert_eq!(get(&stack, &sid, None).await.0, StatusCode::OK);
    // No body at all is fine.
    let res = stack
        .http
        .patch(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        connect(&stack, &format!("session_id={sid}")).await.err(),
        Some(401),
        "an upgraded session needs a token"
    );
    let (status, body) = get(&stack, "not-a-uuid", Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = get(&stack, &sid, Some("garbage")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The document lists the new route with its statuses.
    let (_, _, doc) = stack
        .call(Method::GET, &stack.exp("/openapi.json"), None, None)
        .await;
    let op = &doc["paths"]["/api/session/{id}/upgrade"]["patch"];
    for code in ["200", "401", "404", "409", "503"] {
        assert!(
            op["responses"].get(code).is_some(),
            "{code} documented: {op}"
        );
    }
}

both_backends!(
    the_frontend_session_first_flow,
    upgrade_refuses_non_json_bodies
);
