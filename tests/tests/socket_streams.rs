//! What a socket sees of its session's events, for defects found by probing (issue 7 §3):
//! a resume beyond the session's newest event (3), a paused runtime (4), two tabs on one
//! session (8).

use std::time::Duration;

use e2e_tests::ws::{connect, types, Ws};
use e2e_tests::{both_backends, s, Backend, Options, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn opened(stack: &Stack, query: &str) -> Ws {
    let mut ws = connect(stack, query).await.expect("socket opens");
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    ws
}

fn ids(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter_map(|f| f["event_id"].as_i64())
        .collect()
}

fn consecutive(frames: &[Value]) {
    let ids = ids(frames);
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive ids: {ids:?}"
    );
}

async fn turn(ws: &mut Ws, text: &str) -> Vec<Value> {
    ws.send(json!({"type": "intent", "intent": text, "agent_type": "guide"}))
        .await;
    ws.until_finished().await
}

async fn user_messages(stack: &Stack, token: &str) -> usize {
    let (status, list) = stack.get("/api/conversations", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut n = 0;
    for c in list["items"].as_array().unwrap() {
        let path = format!("/api/conversations/{}/messages", s(c, "conversation_id"));
        let (_, messages) = stack.get(&path, token).await;
        n += messages["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user")
            .count();
    }
    n
}

async fn resume_beyond_the_newest_event_loses_nothing(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = opened(&stack, &format!("access_token={token}")).await;
    let head = *ids(&turn(&mut ws, "hello").await).last().unwrap();
    ws.close().await;

    // `?last_event_id=` above the head: EVENTS_LOST saying where the feed continues, then
    // every later event.
    let mut ws = connect(
        &stack,
        &format!("access_token={token}&last_event_id={}", head + 3),
    )
    .await
    .unwrap();
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    let lost = ws.next().await;
    assert_eq!(lost["event_type"], "EVENTS_LOST", "{lost}");
    assert_eq!(lost["data"]["resume_after"], head);
    assert_eq!(lost["data"]["requested_after"], head + 3);
    let frames = turn(&mut ws, "and again").await;
    assert_eq!(ids(&frames)[0], head + 1, "{frames:?}");
    consecutive(&frames);
    let head = *ids(&frames).last().unwrap();

    // The `resume` frame path, with an id the session will never reach.
    ws.send(json!({"type": "resume", "last_event_id": 99_999_999}))
        .await;
    let lost = ws.next().await;
    assert_eq!(lost["event_type"], "EVENTS_LOST", "{lost}");
    assert_eq!(lost["data"]["resume_after"], head);
    let frames = turn(&mut ws, "once more").await;
    assert_eq!(ids(&frames)[0], head + 1, "{frames:?}");
    consecutive(&frames);
}

async fn two_tabs_on_one_session_both_see_everything(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let query = format!("access_token={}", s(&login, "access_token"));
    let mut first = opened(&stack, &query).await;
    let mut second = opened(&stack, &query).await;
    // The second tab never sends anything, yet sees the first tab's turn as it happens.
    let sent = turn(&mut first, "hello from the first tab").await;
    let seen = second.until_finished().await;
    assert_eq!(ids(&seen), ids(&sent));
    assert_eq!(types(&seen), types(&sent));
    // And the other way round, with a third tab opened through another replica.
    let replica = stack.another_experience().await;
    let url = format!("ws://{}/api/runtime/agent?{query}", replica.addr);
    let (mut third, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    use futures_util::StreamExt as _;
    let sent = turn(&mut second, "hello from the second tab").await;
    let seen = first.until_finished().await;
    assert_eq!(ids(&seen), ids(&sent));
    let mut third_ids = Vec::new();
    while third_ids.len() <= sent.len() {
        let msg = tokio::time::timeout(Duration::from_secs(20), third.next())
            .await
            .expect("a frame")
            .unwrap()
            .unwrap();
        if let Ok(v) = serde_json::from_str::<Value>(msg.to_text().unwrap_or("")) {
            third_ids.push(v["event_id"].as_i64().unwrap_or(0));
        }
    }
    // CONNECTION_ESTABLISHED (0), then the turn's events.
    assert_eq!(third_ids[1..], ids(&sent)[..]);
}

async fn a_short_runtime_pause_still_gives_one_definite_turn(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = opened(&stack, &format!("access_token={token}")).await;
    let runtime = stack.runtime.as_ref().unwrap();
    runtime.pause().await;
    ws.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide", "metadata": {"client_message_id": "paused-1"}}))
        .await;
    // The pause itself (longer than one runtime call's 2 s timeout, shorter than the deadline).
    tokio::time::sleep(Duration::from_secs(3)).await;
    runtime.resume().await;
    let frames = ws.until_finished().await;
    assert!(
        frames.iter().all(|f| f["type"] != "error"),
        "a definite answer, no error: {frames:?}"
    );
    assert_eq!(frames[0]["event_type"], "EXECUTION_STARTED");
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    consecutive(&frames);
    // Retried, but run once.
    assert_eq!(user_messages(&stack, &token).await, 1);
}

async fn a_long_runtime_pause_says_outcome_unknown_then_delivers(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        Options {
            experience_env: vec![("APP__WS__SUBMIT_DEADLINE_MS".into(), "2500".into())],
            ..Options::default()
        },
    )
    .await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = opened(&stack, &format!("access_token={token}")).await;
    let runtime = stack.runtime.as_ref().unwrap();
    runtime.pause().await;
    ws.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide"}))
        .await;
    let error = ws.next().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "outcome_unknown", "{error}");
    runtime.resume().await;
    // The turn did reach the runtime: its events arrive, in order, exactly once.
    let frames = ws.until_finished().await;
    assert_eq!(frames[0]["event_type"], "EXECUTION_STARTED", "{frames:?}");
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    consecutive(&frames);
    assert_eq!(user_messages(&stack, &token).await, 1);
    // With the runtime gone for good, nothing can have run: a definite `runtime_unavailable`.
    let mut stack = stack;
    stack.runtime.as_mut().unwrap().kill().await;
    ws.send(json!({"type": "intent", "intent": "anyone?", "agent_type": "guide"}))
        .await;
    let error = ws.next().await;
    assert_eq!(error["code"], "runtime_unavailable", "{error}");
}

both_backends!(
    resume_beyond_the_newest_event_loses_nothing,
    two_tabs_on_one_session_both_see_everything,
    a_short_runtime_pause_still_gives_one_definite_turn,
    a_long_runtime_pause_says_outcome_unknown_then_delivers
);
