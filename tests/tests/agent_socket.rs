//! The agent WebSocket end to end: handshake refusals, guide and liaison turns in both message
//! formats, streaming deltas, error frames, history.

use e2e_tests::ws::{connect, types, Ended};
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn response_of(frames: &[Value]) -> Value {
    frames
        .iter()
        .find(|f| f["event_type"] == "AGENT_RESPONSE")
        .unwrap_or_else(|| panic!("no AGENT_RESPONSE in {frames:?}"))["data"]
        .clone()
}

fn deltas(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["event_type"] == "AGENT_RESPONSE_DELTA")
        .map(|f| f["data"]["delta"].as_str().unwrap().to_owned())
        .collect()
}

async fn guide_turn_streams_and_is_durable(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = connect(&stack, &format!("access_token={token}"))
        .await
        .unwrap();
    let hello = ws.next().await;
    assert_eq!(hello["type"], "runtime_event");
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");
    assert_eq!(hello["data"]["session_id"], login["session_id"]);

    ws.send(json!({"type": "intent", "intent": "I need to upload our quarterly sales spreadsheets", "agent_type": "guide", "metadata": {"client_message_id": "m-1"}}))
        .await;
    let frames = ws.until_finished().await;
    let kinds = types(&frames);
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("EXECUTION_STARTED"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    let first_delta = kinds
        .iter()
        .position(|k| k == "AGENT_RESPONSE_DELTA")
        .expect("deltas");
    let answer_at = kinds.iter().position(|k| k == "AGENT_RESPONSE").unwrap();
    assert!(
        first_delta < answer_at,
        "deltas come before the full answer"
    );
    let answer = response_of(&frames);
    assert_eq!(answer["message"], answer["content"]);
    assert_eq!(
        deltas(&frames),
        s(&answer, "message"),
        "the deltas add up to the answer"
    );
    assert_eq!(answer["agent_type"], "guide");
    assert_eq!(answer["intent"]["target_domain"], "content");
    assert!(answer["intent"]["confidence"].as_f64().unwrap() > 0.5);
    assert_eq!(answer["routing"]["should_route"], true);
    assert_eq!(answer["routing"]["liaison_agent"], "liaison.content");
    assert!(s(&answer, "message").contains("Content"));
    let ids: Vec<i64> = frames
        .iter()
        .map(|f| f["event_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "event ids are consecutive: {ids:?}"
    );
    assert!(frames
        .iter()
        .all(|f| f["timestamp"].as_str().unwrap().ends_with('Z')));

    // History: the conversation and both messages are durable and readable over REST.
    let conversation = s(&answer, "conversation_id");
    let (status, list) = stack.get("/api/conversations", &token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"][0]["conversation_id"], conversation.as_str());
    let (status, messages) = stack
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Newest first (SPEC §7): the answer, then the question.
    let roles: Vec<_> = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(m, "role"))
        .collect();
    assert_eq!(roles, vec!["assistant", "user"]);
    assert_eq!(messages["items"][0]["content"], answer["message"]);
    assert_eq!(messages["next_cursor"], Value::Null);

    // Another user cannot read it.
    let (_, _, other) = stack.register().await;
    let (status, _) = stack
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &s(&other, "access_token"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    ws.close().await;
}

async fn liaisons_per_pillar_and_both_formats(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let mut ws = connect(
        &stack,
        &format!("session_token={}", s(&login, "access_token")),
    )
    .await
    .unwrap();
    ws.next().await;
    for (pillar, expected) in [
        ("content", "liaison.content"),
        ("insights", "liaison.insights"),
        ("operations", "liaison.operations"),
        ("business_outcomes", "liaison.business_outcomes"),
        ("journey", "liaison.operations"),
        ("outcomes", "liaison.business_outcomes"),
    ] {
        ws.send(json!({"type": "intent", "intent": "how should I start with this", "agent_type": "liaison", "metadata": {"pillar": pillar}}))
            .await;
        let answer = response_of(&ws.until_finished().await);
        assert_eq!(answer["agent_id"], expected, "pillar {pillar}");
        assert_eq!(answer["agent_type"], "liaison");
    }
    // The original backend's format, with a `*_pillar` surface.
    ws.send(json!({"type": "agent.message", "payload": {"text": "find the trends in last month's metrics", "context": {"surface": "insights_pillar"}}}))
        .await;
    let answer = response_of(&ws.until_finished().await);
    assert_eq!(answer["agent_id"], "liaison.insights");
    // A conversation keeps its agent when the client does not name one.
    let conversation = s(&answer, "conversation_id");
    ws.send(json!({"type": "agent.message", "payload": {"text": "and what next?", "agent_type": "", "context": {"conversation_id": conversation, "surface": "insights_pillar"}}}))
        .await;
    let next = response_of(&ws.until_finished().await);
    assert_eq!(next["conversation_id"], conversation.as_str());
    assert_eq!(next["agent_id"], "liaison.insights");
}

async fn error_frames_keep_the_socket_open(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let mut ws = connect(
        &stack,
        &format!("access_token={}", s(&login, "access_token")),
    )
    .await
    .unwrap();
    ws.next().await;
    for (frame, code) in [
        ("{not json".to_owned(), "invalid_json"),
        (json!({"type": "teleport"}).to_string(), "unknown_type"),
        (json!({"type": "intent", "intent": "hi", "agent_type": "liaison", "metadata": {"pillar": "finance"}}).to_string(), "unknown_pillar"),
        (json!({"type": "intent", "intent": "hi", "agent_type": "wizard"}).to_string(), "unknown_agent"),
        (json!({"type": "intent", "intent": "x".repeat(70 * 1024)}).to_string(), "message_too_large"),
    ] {
        ws.send_text(frame).await;
        let error = ws.next().await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["code"], code);
        assert!(error["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong");
    // Still usable after all that.
    ws.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide"}))
        .await;
    let frames = ws.until_finished().await;
    assert!(types(&frames).contains(&"AGENT_RESPONSE".to_owned()));
}

async fn handshake_refusals(backend: Backend) {
    let stack = Stack::start(backend).await;
    assert_eq!(connect(&stack, "").await.err(), Some(401));
    assert_eq!(
        connect(&stack, "access_token=garbage").await.err(),
        Some(401)
    );
    let (email, password, login) = stack.register().await;
    let token = s(&login, "access_token");
    // A session that is not the user's, and one that does not exist.
    let (_, _, other) = stack.register().await;
    let foreign = format!(
        "access_token={token}&session_id={}",
        s(&other, "session_id")
    );
    assert_eq!(connect(&stack, &foreign).await.err(), Some(403));
    let missing = format!("access_token={token}&session_id={}", uuid::Uuid::new_v4());
    assert_eq!(connect(&stack, &missing).await.err(), Some(403));
    // An ended session of the same user.
    let second = stack.login(&email, &password).await;
    let url = stack.exp(&format!("/api/auth/sessions/{}", s(&second, "session_id")));
    let (status, _, _) = stack
        .call(reqwest::Method::DELETE, &url, Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ended = format!(
        "access_token={token}&session_id={}",
        s(&second, "session_id")
    );
    assert_eq!(connect(&stack, &ended).await.err(), Some(403));
    // Logout closes an open socket with 4401.
    let mut ws = connect(&stack, &format!("access_token={token}"))
        .await
        .unwrap();
    ws.next().await;
    let (status, _, _) = stack
        .call(
            reqwest::Method::POST,
            &stack.exp("/api/auth/logout"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(ws.next_or_end().await.err(), Some(Ended::Closed(4401)));
}

async fn idle_sockets_are_closed_and_shutdown_says_going_away(backend: Backend) {
    let mut stack = Stack::start_with(
        backend,
        e2e_tests::Options {
            experience_env: vec![
                // The first heartbeat tick already finds the socket idle: it closes instead of
                // pinging (a ping this client cannot answer would make its close unclean).
                ("APP__WS__HEARTBEAT_SECS".into(), "3".into()),
                ("APP__WS__IDLE_TIMEOUT_SECS".into(), "2".into()),
            ],
            ..e2e_tests::Options::default()
        },
    )
    .await;
    let (_, _, login) = stack.register().await;
    let query = format!("access_token={}", s(&login, "access_token"));
    // A client that neither sends nor answers pings is closed once the idle time passes.
    let mut idle = connect(&stack, &query).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    idle.next().await; // CONNECTION_ESTABLISHED, still buffered
    assert_eq!(idle.next_or_end().await.err(), Some(Ended::Closed(1000)));
    // A live socket hears 1001 when the service is stopped with SIGTERM.
    let mut live = connect(&stack, &query).await.unwrap();
    live.next().await;
    let status = stack.experience.terminate().await;
    assert!(status.success(), "graceful exit: {status:?}");
    assert_eq!(live.next_or_end().await.err(), Some(Ended::Closed(1001)));
}

/// A runtime asked to stop does not wait on its live event streams: every open socket holds one
/// (its session's stream), and such a stream never ends by itself, so the graceful shutdown
/// would otherwise last until its timeout (30 s) or the next keep-alive write noticed a gone peer.
async fn the_runtime_stops_promptly_while_sockets_follow_it(backend: Backend) {
    let mut stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let mut ws = connect(
        &stack,
        &format!("access_token={}", s(&login, "access_token")),
    )
    .await
    .unwrap();
    ws.next().await;
    ws.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide"}))
        .await;
    ws.until_finished().await;
    let started = std::time::Instant::now();
    let status = stack.runtime.as_mut().unwrap().terminate().await;
    assert!(status.success(), "graceful exit: {status:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the runtime took {:?} to stop",
        started.elapsed()
    );
}

both_backends!(
    the_runtime_stops_promptly_while_sockets_follow_it,
    idle_sockets_are_closed_and_shutdown_says_going_away,
    guide_turn_streams_and_is_durable,
    liaisons_per_pillar_and_both_formats,
    error_frames_keep_the_socket_open,
    handshake_refusals
);
