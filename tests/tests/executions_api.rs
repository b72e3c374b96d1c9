//! The runtime's execution API used directly with signed intents: idempotency keys, the
//! transition map, the durable event page and the per-execution SSE stream with resume; and the
//! agent socket's 503 when the runtime is unreachable at the handshake; answering a safety hook by
//! its id within a session.

use e2e_tests::ws::connect;
use e2e_tests::{both_backends, free_port, s, Backend, Options, Stack};
use futures_util::StreamExt as _;
use platform_sdk::runtime_client::actions;
use platform_sdk::traffic_cop::{IntentRequest, IntentSigner};
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Caller {
    tenant: String,
    user: String,
    session: String,
}

async fn caller(stack: &Stack) -> Caller {
    let (_, _, login) = stack.register().await;
    Caller {
        tenant: s(&login, "tenant_id"),
        user: s(&login, "user_id"),
        session: s(&login, "session_id"),
    }
}

async fn signed(
    stack: &Stack,
    who: &Caller,
    action: &str,
    path: &str,
    payload: Value,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let intent = IntentSigner::new(stack.service_ring(), 30_000).sign(IntentRequest {
        action,
        tenant_id: &who.tenant,
        user_id: Some(&who.user),
        session_id: &who.session,
        payload,
    });
    let mut req = stack.http.post(stack.rt(path)).json(&intent);
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn read(stack: &Stack, path: &str) -> (StatusCode, Value) {
    let (token, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let (status, _, body) = stack
        .call(reqwest::Method::GET, &stack.rt(path), Some(&token), None)
        .await;
    (status, body)
}

async fn wait_finished(stack: &Stack, who: &Caller, execution: &str) -> Value {
    // Follow the execution's own SSE stream until it ends; it closes after the final event.
    let (token, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/execution/{execution}/stream?tenant_id={}",
        who.tenant
    ));
    let res = stack.http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.bytes_stream();
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(std::time::Duration::from_secs(20), body.next())
        .await
        .expect("stream progresses")
    {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    json!(events)
}

async fn idempotency_keys_and_the_transition_map(backend: Backend) {
    let stack = Stack::start(backend).await;
    let who = caller(&stack).await;
    let payload = json!({"text": "what does the insights pillar do", "agent_type": "guide"});
    let (status, first) = signed(
        &stack,
        &who,
        actions::SUBMIT_INTENT,
        "/api/intent/submit",
        payload.clone(),
        Some("k-1"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    // A new contract, same key and body: the same execution.
    let (status, again) = signed(
        &stack,
        &who,
        actions::SUBMIT_INTENT,
        "/api/intent/submit",
        payload,
        Some("k-1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["execution_id"], first["execution_id"]);
    // Same key, different body: 409, nothing started.
    let other = json!({"text": "something else entirely", "agent_type": "guide"});
    let (status, conflict) = signed(
        &stack,
        &who,
        actions::SUBMIT_INTENT,
        "/api/intent/submit",
        other,
        Some("k-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["error"]["code"], "conflict");

    let execution = s(&first, "execution_id");
    let events = wait_finished(&stack, &who, &execution).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"EXECUTION_STARTED"));
    assert_eq!(kinds.last(), Some(&"EXECUTION_COMPLETED"));
    let (_, record) = read(
        &stack,
        &format!("/api/execution/{execution}?tenant_id={}", who.tenant),
    )
    .await;
    assert_eq!(record["status"], "completed");

    // Cancelling a completed execution is a forbidden transition: 409, the record unchanged.
    let path = format!("/api/execution/{execution}/cancel");
    let (status, refused) = signed(
        &stack,
        &who,
        actions::CANCEL_EXECUTION,
        &path,
        json!({}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (_, record) = read(
        &stack,
        &format!("/api/execution/{execution}?tenant_id={}", who.tenant),
    )
    .await;
    assert_eq!(record["status"], "completed");

    // The durable event page: everything, then only what follows a cursor.
    let (status, page) = read(
        &stack,
        &format!("/api/execution/{execution}/events?tenant_id={}", who.tenant),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let all = page["events"].as_array().unwrap().clone();
    assert_eq!(all.len(), kinds.len());
    let cursor = all[1]["event_id"].as_i64().unwrap();
    let (_, later) = read(
        &stack,
        &format!(
            "/api/execution/{execution}/events?tenant_id={}&after={cursor}",
            who.tenant
        ),
    )
    .await;
    assert_eq!(later["events"].as_array().unwrap().len(), all.len() - 2);

    // The SSE stream resumes after Last-Event-ID.
    let (token, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/execution/{execution}/stream?tenant_id={}",
        who.tenant
    ));
    let text = stack
        .http
        .get(url)
        .bearer_auth(token)
        .header("last-event-id", cursor.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first_id = text
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .and_then(|id| id.parse::<i64>().ok())
        .unwrap();
    assert_eq!(first_id, cursor + 1);

    // Another tenant cannot read it.
    let stranger = caller(&stack).await;
    let (status, _) = read(
        &stack,
        &format!("/api/execution/{execution}?tenant_id={}", stranger.tenant),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn socket_handshake_with_the_runtime_down(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    // A second experience replica pointed at a runtime that is not there.
    let down = Stack::start_with(
        backend,
        Options {
            runtime_url: Some(format!("http://127.0.0.1:{}", free_port())),
            experience_env: vec![
                ("APP__JWT__SECRET".into(), stack.jwt_secret.clone()),
                ("APP__RUNTIME__TIMEOUT_MS".into(), "500".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let query = format!("access_token={}", s(&login, "access_token"));
    assert_eq!(connect(&down, &query).await.err(), Some(503));
}

async fn a_safety_hook_is_answered_by_its_id_within_the_session(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let who = Caller {
        tenant: s(&login, "tenant_id"),
        user: s(&login, "user_id"),
        session: s(&login, "session_id"),
    };
    let mut ws = connect(
        &stack,
        &format!("access_token={}", s(&login, "access_token")),
    )
    .await
    .unwrap();
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    ws.send(json!({"type": "intent", "intent": "please run the invoice approval workflow", "agent_type": "liaison", "metadata": {"pillar": "operations"}}))
        .await;
    let frames = ws.until("SAFETY_APPROVAL_PENDING").await;
    let pending = frames
        .iter()
        .find(|f| f["event_type"] == "SAFETY_APPROVAL_PENDING")
        .unwrap()["data"]
        .clone();
    let hook = s(&pending, "hook_id");
    let path = format!("/api/session/{}/safety", who.session);

    // A hook id nobody holds: 404 unknown_hook.
    let (status, body) = signed(
        &stack,
        &who,
        actions::ANSWER_SAFETY,
        &path,
        json!({"hook_id": "nope", "approved": true}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "unknown_hook");
    assert_eq!(
        body["error"]["message"],
        "no pending safety hook has this id"
    );

    // Another tenant's session cannot answer it, whichever session its path names.
    let stranger = caller(&stack).await;
    for session in [&stranger.session, &who.session] {
        let (status, body) = signed(
            &stack,
            &stranger,
            actions::ANSWER_SAFETY,
            &format!("/api/session/{session}/safety"),
            json!({"hook_id": hook, "approved": true}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "unknown_hook");
    }

    // The owner approves by hook id alone: the execution's record, then it completes.
    let (status, record) = signed(
        &stack,
        &who,
        actions::ANSWER_SAFETY,
        &path,
        json!({"hook_id": hook, "approved": true}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["execution_id"], pending["execution_id"]);
    assert_eq!(record["session_id"], who.session.as_str());
    let frames = ws.until_finished().await;
    assert_eq!(
        frames.last().map(|f| f["event_type"].clone()),
        Some(json!("EXECUTION_COMPLETED"))
    );

    // Answered once: the hook is gone.
    let (status, body) = signed(
        &stack,
        &who,
        actions::ANSWER_SAFETY,
        &path,
        json!({"hook_id": hook, "approved": true}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "unknown_hook");
}

async fn the_catalog_resolves_or_refuses_raw_agent_names(backend: Backend) {
    let stack = Stack::start(backend).await;
    let who = caller(&stack).await;
    let refusals = [
        (
            json!({"text": "hi", "agent_type": "wizard"}),
            "unknown_agent",
            "unknown agent type `wizard`",
        ),
        (
            json!({"text": "hi", "agent_type": "liaison", "pillar": "finance"}),
            "unknown_pillar",
            "unknown pillar `finance`",
        ),
        (
            json!({"text": "hi", "agent_type": "liaison"}),
            "unknown_pillar",
            "a liaison needs metadata.pillar",
        ),
        (
            json!({"text": "hi", "agent_type": "", "pillar": "finance"}),
            "unknown_pillar",
            "unknown pillar `finance`",
        ),
    ];
    for (payload, code, message) in refusals {
        let (status, body) = signed(
            &stack,
            &who,
            actions::SUBMIT_INTENT,
            "/api/intent/submit",
            payload,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["message"], message);
    }
    // Nothing was written: no conversation, no event.
    let (_, list) = read(
        &stack,
        &format!(
            "/api/conversations?tenant_id={}&user_id={}",
            who.tenant, who.user
        ),
    )
    .await;
    assert_eq!(list["items"], json!([]));
    let (_, page) = read(
        &stack,
        &format!(
            "/api/session/{}/events?tenant_id={}",
            who.session, who.tenant
        ),
    )
    .await;
    assert_eq!(page["events"], json!([]));

    // Raw names resolve: an alias pillar, and a pillar surface when no agent is named.
    for (payload, agent) in [
        (
            json!({"text": "map our process", "agent_type": "specialist", "pillar": "journey"}),
            "liaison.operations",
        ),
        (
            json!({"text": "what next", "agent_type": "", "surface": "insights_pillar"}),
            "liaison.insights",
        ),
    ] {
        let (status, record) = signed(
            &stack,
            &who,
            actions::SUBMIT_INTENT,
            "/api/intent/submit",
            payload,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{record}");
        assert_eq!(record["agent_id"], agent);
        wait_finished(&stack, &who, &s(&record, "execution_id")).await;
    }
}

both_backends!(
    the_catalog_resolves_or_refuses_raw_agent_names,
    idempotency_keys_and_the_transition_map,
    socket_handshake_with_the_runtime_down,
    a_safety_hook_is_answered_by_its_id_within_the_session
);
