//! Agent turns through the socket: the OpenAI-compatible provider against a local fake model
//! (streaming, provider error, stall), cancel mid-stream, safety approvals, idempotency, resume
//! without loss or duplicates, EVENTS_LOST, a runtime killed mid-turn, a slow consumer.

use e2e_tests::fake_llm::{FakeLlm, WORDS};
use e2e_tests::ws::{connect, connect_small_buffer, data_of, open, types, Ended};
use e2e_tests::{both_backends, s, Backend, Options, Stack};
use serde_json::{json, Value};

fn deltas(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["event_type"] == "AGENT_RESPONSE_DELTA")
        .map(|f| f["data"]["delta"].as_str().unwrap().to_owned())
        .collect()
}

fn turn(text: &str) -> Value {
    json!({"type": "intent", "intent": text, "agent_type": "guide"})
}

async fn openai_provider_streams_fails_and_stalls_readably(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(1)).await;
    let (_, _, login) = stack.register().await;
    let mut ws = open(&stack, &login).await;

    ws.send(turn("hello model")).await;
    let frames = ws.until_finished().await;
    let answer = data_of(&frames, "AGENT_RESPONSE");
    assert_eq!(s(&answer, "message"), WORDS.concat());
    assert_eq!(deltas(&frames), WORDS.concat());
    // Chunks that arrive faster than they are persisted may travel together in one delta.
    assert!(types(&frames).iter().any(|t| t == "AGENT_RESPONSE_DELTA"));

    ws.send(turn("please [error]")).await;
    let frames = ws.until_finished().await;
    let failed = data_of(&frames, "EXECUTION_FAILED");
    assert!(
        s(&failed, "error").contains("the model is overloaded"),
        "{failed}"
    );

    let started = std::time::Instant::now();
    ws.send(turn("please [stall]")).await;
    let frames = ws.until_finished().await;
    let failed = data_of(&frames, "EXECUTION_FAILED");
    assert!(s(&failed, "error").contains("stalled"), "{failed}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a stall fails, it does not hang"
    );
}

async fn cancel_mid_stream_stops_the_deltas(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(1)).await;
    let (_, _, login) = stack.register().await;
    let mut ws = open(&stack, &login).await;
    ws.send(turn("tell me slowly [slow]")).await;
    let before = ws.until("AGENT_RESPONSE_DELTA").await;
    let execution = data_of(&before, "EXECUTION_STARTED")["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ws.send(json!({"type": "cancel", "execution_id": execution}))
        .await;
    let after = ws.until_finished().await;
    let kinds = types(&after);
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("EXECUTION_CANCELLED"),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"AGENT_RESPONSE".to_owned()));
    // Nothing follows the cancellation: the next frame answers our ping.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong");
    let (token, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/execution/{execution}?tenant_id={}",
        s(&login, "tenant_id")
    ));
    let (_, _, record) = stack
        .call(reqwest::Method::GET, &url, Some(&token), None)
        .await;
    assert_eq!(record["status"], "cancelled");
}

async fn safety_approval_reject_and_timeout(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        Options {
            runtime_env: vec![("APP__AGENTS__APPROVAL_TIMEOUT_SECS".into(), "1".into())],
            ..Options::default()
        },
    )
    .await;
    let (_, _, login) = stack.register().await;
    let mut ws = open(&stack, &login).await;
    let ask = json!({"type": "intent", "intent": "please run the invoice approval workflow", "agent_type": "liaison", "metadata": {"pillar": "operations"}});

    // Approve → the execution continues and completes.
    ws.send(ask.clone()).await;
    let pending = data_of(
        &ws.until("SAFETY_APPROVAL_PENDING").await,
        "SAFETY_APPROVAL_PENDING",
    );
    assert_eq!(pending["action"], "execute_workflow");
    assert!(s(&pending, "description").contains("invoice approval workflow"));
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": true}))
        .await;
    let frames = ws.until_finished().await;
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    assert!(s(&data_of(&frames, "AGENT_RESPONSE"), "message").starts_with("Approved"));

    // Reject → SAFETY_HALTED, then cancelled.
    ws.send(ask.clone()).await;
    let pending = data_of(
        &ws.until("SAFETY_APPROVAL_PENDING").await,
        "SAFETY_APPROVAL_PENDING",
    );
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": false, "rejection_reason": "not today"}))
        .await;
    let frames = ws.until_finished().await;
    assert_eq!(types(&frames), vec!["SAFETY_HALTED", "EXECUTION_CANCELLED"]);
    assert_eq!(data_of(&frames, "SAFETY_HALTED")["reason"], "not today");

    // Nobody answers → halted after the timeout, failed.
    ws.send(ask).await;
    ws.until("SAFETY_APPROVAL_PENDING").await;
    let frames = ws.until_finished().await;
    assert_eq!(types(&frames), vec!["SAFETY_HALTED", "EXECUTION_FAILED"]);

    // An unknown hook is an error frame.
    ws.send(json!({"type": "safety_response", "hook_id": "nope", "approved": true}))
        .await;
    assert_eq!(ws.next().await["code"], "unknown_hook");
}

async fn same_client_message_id_runs_once(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let mut ws = open(&stack, &login).await;
    let message = json!({"type": "intent", "intent": "what can the insights pillar do", "agent_type": "guide", "metadata": {"client_message_id": "retry-me"}});
    ws.send(message.clone()).await;
    let first = ws.until_finished().await;
    ws.send(message).await;
    ws.send(json!({"type": "ping"})).await;
    // The retry starts nothing: the next frame is the pong.
    assert_eq!(ws.next().await["type"], "pong");
    let conversation = s(&data_of(&first, "AGENT_RESPONSE"), "conversation_id");
    let (_, messages) = stack
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &s(&login, "access_token"),
        )
        .await;
    assert_eq!(
        messages["items"].as_array().unwrap().len(),
        2,
        "one user message, one answer"
    );
}

async fn resume_mid_stream_loses_and_repeats_nothing(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(1)).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;
    ws.send(turn("a long answer please [slow]")).await;
    let mut seen = ws.until("AGENT_RESPONSE_DELTA").await;
    seen.push(ws.next().await);
    let last = seen.last().unwrap()["event_id"].as_i64().unwrap();
    drop(ws);

    let mut again = connect(
        &stack,
        &format!("access_token={token}&last_event_id={last}"),
    )
    .await
    .unwrap();
    let hello = again.next().await;
    assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED");
    let rest = again.until_finished().await;
    let ids: Vec<i64> = seen
        .iter()
        .chain(rest.iter())
        .map(|f| f["event_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "no gap, no repeat: {ids:?}"
    );
    let all: Vec<Value> = seen.into_iter().chain(rest).collect();
    assert_eq!(deltas(&all), WORDS.concat());
    assert_eq!(
        s(&data_of(&all, "AGENT_RESPONSE"), "message"),
        WORDS.concat()
    );

    // The same through a `resume` frame on a fresh socket.
    let mut third = open(&stack, &login).await;
    third
        .send(json!({"type": "resume", "last_event_id": last}))
        .await;
    let replay = third.until_finished().await;
    assert_eq!(replay[0]["event_id"].as_i64().unwrap(), last + 1);
}

async fn old_cursors_get_events_lost(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        Options {
            runtime_env: vec![("APP__AGENTS__EVENT_RETENTION_SECS".into(), "1".into())],
            ..Options::default()
        },
    )
    .await;
    let (_, _, login) = stack.register().await;
    let mut ws = open(&stack, &login).await;
    ws.send(turn("hello")).await;
    ws.until_finished().await;
    // Let the retention window pass and the pruner run, then produce newer events.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    ws.send(turn("hello again")).await;
    let newer = ws.until_finished().await;
    drop(ws);
    let mut late = connect(
        &stack,
        &format!("access_token={}&last_event_id=1", s(&login, "access_token")),
    )
    .await
    .unwrap();
    late.next().await;
    let lost = late.next().await;
    assert_eq!(lost["event_type"], "EVENTS_LOST", "{lost}");
    assert_eq!(lost["data"]["requested_after"], 1);
    // It then continues with what is retained, up to the newest event.
    let newest = newer.last().unwrap()["event_id"].as_i64().unwrap();
    let first = late.next().await;
    assert!(first["event_id"].as_i64().unwrap() > 1, "{first}");
    let mut last = first["event_id"].as_i64().unwrap();
    while last < newest {
        last = late.next().await["event_id"].as_i64().unwrap();
    }
    assert_eq!(last, newest);
}

async fn runtime_killed_mid_turn_fails_the_execution(backend: Backend) {
    let llm = FakeLlm::start().await;
    let mut options = llm.options(1);
    // The restarted runtime fails it once its lease (not renewed by anyone) expires.
    options
        .runtime_env
        .push(("APP__EXECUTIONS__LEASE_MS".into(), "1500".into()));
    let mut stack = Stack::start_with(backend, options).await;
    let (_, _, login) = stack.register().await;
    let mut ws = open(&stack, &login).await;
    ws.send(turn("this will be interrupted [slow]")).await;
    let started = ws.until("AGENT_RESPONSE_DELTA").await;
    let execution = s(&data_of(&started, "EXECUTION_STARTED"), "execution_id");
    let runtime = stack.runtime.as_mut().unwrap();
    runtime.kill().await;
    runtime.restart().await;
    let frames = ws.until_finished().await;
    let failed = data_of(&frames, "EXECUTION_FAILED");
    assert_eq!(failed["execution_id"], execution.as_str());
    assert!(s(&failed, "error").contains("restarted"));
    let (token, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/execution/{execution}?tenant_id={}",
        s(&login, "tenant_id")
    ));
    let (_, _, record) = stack
        .call(reqwest::Method::GET, &url, Some(&token), None)
        .await;
    assert_eq!(record["status"], "failed");
}

async fn slow_consumer_is_closed_and_resumes(backend: Backend) {
    let stack = Stack::start_with(
        backend,
        Options {
            experience_env: vec![
                ("APP__WS__SEND_QUEUE".into(), "4".into()),
                ("APP__WS__SLOW_CONSUMER_MS".into(), "300".into()),
                (
                    "APP__SERVER__SOCKET_SEND_BUFFER_BYTES".into(),
                    "8192".into(),
                ),
                ("APP__WS__MESSAGES_PER_SEC".into(), "1000".into()),
                ("APP__WS__MESSAGE_BURST".into(), "1000".into()),
                ("APP__WS__USER_TURNS_PER_SEC".into(), "1000".into()),
                ("APP__WS__USER_TURN_BURST".into(), "1000".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    // A client with a tiny receive buffer that asks for many answers and then stops reading.
    let mut ws = connect_small_buffer(&stack, &format!("access_token={token}")).await;
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    let long = "Please explain in detail how the content, insights, operations and business outcomes pillars work together";
    for _ in 0..150 {
        ws.send(turn(long)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let mut last = 0;
    let ended = loop {
        match ws.next_or_end().await {
            // A submit refused under this burst (an `error` frame) is not an event of the log;
            // the order of the events is what this test is about.
            Ok(frame) if frame["type"] == "error" => {}
            Ok(frame) => {
                let id = frame["event_id"].as_i64().unwrap_or(last);
                assert!(
                    id == last + 1 || last == 0,
                    "in order until the close: {last} then {id}"
                );
                last = id;
            }
            Err(end) => break end,
        }
    };
    assert_eq!(ended, Ended::Closed(1013));
    // Resuming from the last event received delivers the rest, in order, without a gap.
    let mut again = connect(
        &stack,
        &format!("access_token={token}&last_event_id={last}"),
    )
    .await
    .unwrap();
    again.next().await;
    let next = again.next().await;
    assert_eq!(next["event_id"].as_i64().unwrap(), last + 1, "{next}");
}

both_backends!(
    openai_provider_streams_fails_and_stalls_readably,
    cancel_mid_stream_stops_the_deltas,
    safety_approval_reject_and_timeout,
    same_client_message_id_runs_once,
    resume_mid_stream_loses_and_repeats_nothing,
    old_cursors_get_events_lost,
    runtime_killed_mid_turn_fails_the_execution,
    slow_consumer_is_closed_and_resumes
);
