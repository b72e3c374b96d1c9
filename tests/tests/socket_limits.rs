//! Limits and refusals of the agent socket found by probing (issue 7 §3): socket caps per session
//! and per user with a per-user turn budget (defect 1), control characters in
//! `client_message_id` (5), malformed query parameters (6), oversized frames (7).

use std::time::Duration;

use e2e_tests::ws::{connect, Ended, Ws};
use e2e_tests::{both_backends, s, Backend, Options, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The socket endpoint answered as plain HTTP (no upgrade): status and error body.
async fn handshake(stack: &Stack, query: &str) -> (StatusCode, Value) {
    let url = stack.exp(&format!("/api/runtime/agent?{query}"));
    let (status, _, body) = stack.call(Method::GET, &url, None, None).await;
    (status, body)
}

async fn opened(stack: &Stack, query: &str) -> Ws {
    let mut ws = connect(stack, query).await.expect("socket opens");
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    ws
}

/// Frames until an `error` frame; returns it.
async fn until_error(ws: &mut Ws) -> Value {
    loop {
        let frame = ws.next().await;
        if frame["type"] == "error" {
            return frame;
        }
    }
}

async fn socket_caps_and_the_per_user_turn_budget(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        Options {
            experience_env: vec![
                ("APP__WS__MAX_SOCKETS_PER_SESSION".into(), "2".into()),
                ("APP__WS__MAX_SOCKETS_PER_USER".into(), "3".into()),
                ("APP__WS__USER_TURNS_PER_SEC".into(), "0.001".into()),
                ("APP__WS__USER_TURN_BURST".into(), "3".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let (email, password, first) = stack.register().await;
    let second = stack.login(&email, &password).await;
    let on_first = format!("access_token={}", s(&first, "access_token"));
    let on_second = format!("access_token={}", s(&second, "access_token"));

    let a1 = opened(&stack, &on_first).await;
    let mut a2 = opened(&stack, &on_first).await;
    let (status, body) = handshake(&stack, &on_first).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_sockets");
    let mut b1 = opened(&stack, &on_second).await;
    // The user now holds 3: a second session does not get round the per-user cap.
    let (status, body) = handshake(&stack, &on_second).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(connect(&stack, &on_second).await.err(), Some(429));

    // A closed socket frees its place (the server notices the close asynchronously).
    a1.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let b2 = loop {
        match connect(&stack, &on_second).await {
            Ok(ws) => break ws,
            Err(429) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(status) => panic!("socket refused: {status}"),
        }
    };
    drop(b2);

    // Turns: a budget of 3 shared by all the user's sockets, whatever session they are on.
    for _ in 0..2 {
        a2.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide"}))
            .await;
        // Spent before the other socket's turns are looked at.
        a2.until_finished().await;
    }
    b1.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide"}))
        .await;
    b1.send(json!({"type": "intent", "intent": "hello again", "agent_type": "guide"}))
        .await;
    let error = until_error(&mut b1).await;
    assert_eq!(error["code"], "rate_limited", "{error}");
    // Another user is not affected.
    let (_, _, other) = stack.register().await;
    let mut c = opened(
        &stack,
        &format!("access_token={}", s(&other, "access_token")),
    )
    .await;
    c.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide"}))
        .await;
    let frames = c.until_finished().await;
    assert!(frames.iter().all(|f| f["type"] != "error"), "{frames:?}");
}

async fn control_characters_in_client_message_id(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let mut ws = opened(
        &stack,
        &format!("access_token={}", s(&login, "access_token")),
    )
    .await;
    for id in ["a\nb", "x\u{0}y", "tab\there"] {
        ws.send(
            json!({"type": "intent", "intent": "hello", "metadata": {"client_message_id": id}}),
        )
        .await;
        let error = ws.next().await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["code"], "validation_failed", "{id:?}: {error}");
        ws.send(
            json!({"type": "agent.message", "payload": {"text": "hello", "client_message_id": id}}),
        )
        .await;
        assert_eq!(ws.next().await["code"], "validation_failed");
    }
    // Nothing ran, and the socket still works.
    ws.send(
        json!({"type": "intent", "intent": "hello", "metadata": {"client_message_id": "ok-1"}}),
    )
    .await;
    let frames = ws.until_finished().await;
    assert_eq!(frames[0]["event_type"], "EXECUTION_STARTED", "{frames:?}");
}

async fn malformed_query_parameters_name_the_parameter(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let sid = s(&login, "session_id");
    for (query, parameter) in [
        (
            format!("access_token={token}&last_event_id=abc"),
            "last_event_id",
        ),
        (
            format!("access_token={token}&last_event_id=1e9"),
            "last_event_id",
        ),
        (
            format!("access_token={token}&last_event_id=-3"),
            "last_event_id",
        ),
        (
            format!("access_token={token}&session_id={sid}&session_id={sid}"),
            "session_id",
        ),
        (
            format!("access_token={token}&access_token={token}"),
            "access_token",
        ),
    ] {
        let (status, body) = handshake(&stack, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query");
        assert_eq!(body["error"]["fields"][0]["field"], parameter, "{body}");
        assert!(body["error"]["request_id"].is_string());
        assert_eq!(connect(&stack, &query).await.err(), Some(400));
    }
    // Well-formed ones still work.
    opened(&stack, &format!("access_token={token}&last_event_id=0")).await;
}

async fn oversized_frames_get_an_error_frame_up_to_the_hard_cap(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let mut ws = opened(
        &stack,
        &format!("access_token={}", s(&login, "access_token")),
    )
    .await;
    for size in [70 * 1024, 300 * 1024, 1000 * 1024] {
        ws.send_text(json!({"type": "intent", "intent": "x".repeat(size)}).to_string())
            .await;
        let error = ws.next().await;
        assert_eq!(error["code"], "message_too_large", "{size}: {error}");
        ws.send(json!({"type": "ping"})).await;
        assert_eq!(
            ws.next().await["type"],
            "pong",
            "still open after {size} bytes"
        );
    }
    // Above the hard cap (1 MiB by default): closed with 1009.
    ws.send_text("x".repeat(2 * 1024 * 1024)).await;
    assert_eq!(ws.next_or_end().await.err(), Some(Ended::Closed(1009)));
}

both_backends!(
    socket_caps_and_the_per_user_turn_budget,
    control_characters_in_client_message_id,
    malformed_query_parameters_name_the_parameter,
    oversized_frames_get_an_error_frame_up_to_the_hard_cap
);
