//! Policies deciding live agent turns (SPEC §10 "In the run stream"), on both backends: a denied
//! input halts before the model is called (the fake OpenAI-compatible server counts its
//! requests), a MODERATE policy redacts an answer while it streams (every event of the turn and
//! the conversation history scanned for the raw text), a STRICT output policy holds the answer
//! and halts, deployed specialists and builtin liaisons are decided like the guide, and a
//! tenant's policy reaches a turn served by another runtime replica at once.

use std::sync::atomic::Ordering;

use e2e_tests::fake_llm::{FakeLlm, LEAK};
use e2e_tests::ws::{data_of, open, types, Ws};
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn policy(level: &str, action_type: &str, pattern: Option<&str>, condition: Value) -> Value {
    let mut rule = json!({"action_type": action_type, "condition": condition});
    if let Some(p) = pattern {
        rule["agent_pattern"] = json!(p);
    }
    json!({"name": format!("{level} {action_type}"), "policy_type": "SECURITY", "status": "ACTIVE",
           "enforcement_level": level, "rules": [rule]})
}

async fn create(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, created) = stack
        .send(Method::POST, "/api/governance/policies", token, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn turn(ws: &mut Ws, frame: Value) -> Vec<Value> {
    ws.send(frame).await;
    ws.until_finished().await
}

fn guide(text: &str) -> Value {
    json!({"type": "intent", "intent": text, "agent_type": "guide"})
}

fn streamed(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["event_type"] == "AGENT_RESPONSE_DELTA")
        .map(|f| f["data"]["delta"].as_str().unwrap().to_owned())
        .collect()
}

/// The tail of a halted turn, and its `SAFETY_HALTED` naming `policy`.
fn assert_halted(frames: &[Value], policy: &Value) {
    let kinds = types(frames);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["POLICY_DECISION", "SAFETY_HALTED", "EXECUTION_FAILED"],
        "{kinds:?}"
    );
    let halted = data_of(frames, "SAFETY_HALTED");
    assert_eq!(halted["policy_id"], policy["id"], "{halted}");
    assert!(s(&halted, "decision_id").starts_with("dec_"));
    assert!(!halted["reasons"].as_array().unwrap().is_empty());
    let decision = data_of(frames, "POLICY_DECISION");
    assert_eq!(
        (&decision["decision"], &decision["decision_id"]),
        (&json!("deny"), &halted["decision_id"])
    );
    assert!(!kinds.contains(&"AGENT_RESPONSE".to_owned()));
}

async fn messages(stack: &Stack, token: &str, frames: &[Value]) -> Value {
    let conversation = s(&data_of(frames, "EXECUTION_STARTED"), "conversation_id");
    let path = format!("/api/conversations/{conversation}/messages");
    let (status, list) = stack.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list
}

async fn inputs_and_outputs_are_decided(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(5)).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;

    // A denied input: halted, and the model never asked.
    let launch = create(
        &stack,
        &token,
        policy(
            "STRICT",
            "agent_input",
            None,
            json!({"type": "blocked_terms", "terms": ["launch codes"]}),
        ),
    )
    .await;
    let frames = turn(&mut ws, guide("What are the Launch Codes?")).await;
    assert_halted(&frames, &launch);
    assert_eq!(
        llm.requests.load(Ordering::SeqCst),
        0,
        "the model was not called"
    );
    let history = messages(&stack, &token, &frames).await;
    assert!(
        !history.to_string().to_lowercase().contains("launch codes"),
        "{history}"
    );

    // A MODERATE policy redacts the answer as it streams: nothing raw leaves the runtime.
    create(
        &stack,
        &token,
        policy("MODERATE", "*", None, json!("sensitive_data")),
    )
    .await;
    let frames = turn(&mut ws, guide("[leak] what is on file?")).await;
    let expected =
        "On file: [REDACTED-EMAIL], SSN [REDACTED-SSN], card [REDACTED-CARD]. Anything else?";
    assert_eq!(streamed(&frames), expected, "{:?}", types(&frames));
    assert_eq!(s(&data_of(&frames, "AGENT_RESPONSE"), "message"), expected);
    let decision = data_of(&frames, "POLICY_DECISION");
    assert_eq!(decision["decision"], "modify", "{decision}");
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    let history = messages(&stack, &token, &frames).await;
    let execution = s(&data_of(&frames, "EXECUTION_STARTED"), "execution_id");
    // Every event of the turn as the runtime stored it.
    let (service, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/execution/{execution}/events?tenant_id={}",
        s(&login, "tenant_id")
    ));
    let (status, _, events) = stack.call(Method::GET, &url, Some(&service), None).await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert!(events.to_string().contains("REDACTED-EMAIL"), "{events}");
    for raw in ["jane.doe", "123-45-6789", "4111 1111", "1111 1111"] {
        for (what, text) in [
            ("frames", json!(frames).to_string()),
            ("history", history.to_string()),
            ("events", events.to_string()),
        ] {
            assert!(!text.contains(raw), "{raw} in the {what}: {text}");
        }
    }
    assert!(LEAK.contains("jane.doe"), "the model did say it");

    // A STRICT output policy holds the answer until decided, then halts: no delta at all.
    create(
        &stack,
        &token,
        policy(
            "STRICT",
            "agent_output",
            Some("guide"),
            json!({"type": "blocked_terms", "terms": ["anything else"]}),
        ),
    )
    .await;
    let asked = llm.requests.load(Ordering::SeqCst);
    let frames = turn(&mut ws, guide("[leak] once more")).await;
    assert_eq!(
        llm.requests.load(Ordering::SeqCst),
        asked + 1,
        "the model ran"
    );
    assert!(streamed(&frames).is_empty(), "{:?}", types(&frames));
    let kinds = types(&frames);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["POLICY_DECISION", "SAFETY_HALTED", "EXECUTION_FAILED"]
    );
    let history = messages(&stack, &token, &frames).await;
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        1,
        "only the question: {history}"
    );

    // Every decision of these turns is in the chain, and the chain holds.
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(audit["verification"]["valid"], true, "{audit}");
    assert!(audit["verification"]["entries_checked"].as_i64().unwrap() >= 5);
    let (_, violations) = stack
        .get("/api/governance/violations?severity=high", &token)
        .await;
    assert_eq!(
        violations["items"].as_array().unwrap().len(),
        2,
        "{violations}"
    );
}

async fn specialists_and_liaisons_are_decided_too(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;

    // A deployed specialist on the fake model: its denied input never reaches the model.
    let config = json!({"system_prompt": "You are terse.", "provider": "openai", "model": "fake-model", "base_url": llm.url()});
    let (status, wrapper) = stack
        .send(Method::POST, "/api/agents/wrappers", &token, Some(json!({"name": "Billing", "supported_providers": ["openai"], "configuration": config})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wrapper}");
    let id = s(&wrapper, "id");
    let (status, _) = stack
        .send(
            Method::POST,
            &format!("/api/agents/wrappers/{id}/deploy"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, st) = stack
            .get(&format!("/api/agents/wrappers/{id}/status"), &token)
            .await;
        if st["deployment_status"] == "active" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{st}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let strict = create(
        &stack,
        &token,
        policy(
            "STRICT",
            "agent_input",
            Some("wrp_*"),
            json!({"type": "blocked_terms", "terms": ["refund everyone"]}),
        ),
    )
    .await;
    let asked = llm.requests.load(Ordering::SeqCst);
    let ask = |text: &str| json!({"type": "intent", "intent": text, "agent_type": "specialist", "metadata": {"agent_id": id}});
    let frames = turn(&mut ws, ask("please refund everyone today")).await;
    assert_halted(&frames, &strict);
    assert_eq!(
        llm.requests.load(Ordering::SeqCst),
        asked,
        "the model was not called"
    );
    // The same words to the guide: the policy names specialists only.
    let frames = turn(&mut ws, guide("please refund everyone today")).await;
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );

    // A builtin liaison's answer, redacted while it streams.
    create(
        &stack,
        &token,
        policy(
            "MODERATE",
            "agent_output",
            Some("liaison.*"),
            json!({"type": "blocked_terms", "terms": ["zanzibar"]}),
        ),
    )
    .await;
    let frames = turn(&mut ws, json!({"type": "intent", "intent": "plan the zanzibar import", "agent_type": "liaison", "metadata": {"pillar": "content"}})).await;
    let answer = s(&data_of(&frames, "AGENT_RESPONSE"), "message");
    assert!(answer.contains("[REDACTED]"), "{answer}");
    assert_eq!(streamed(&frames), answer);
    assert!(!json!(frames)
        .to_string()
        .to_lowercase()
        .contains("zanzibar"));
    assert_eq!(data_of(&frames, "POLICY_DECISION")["decision"], "modify");
}

async fn a_policy_applies_on_every_replica_at_once(backend: Backend) {
    if backend == Backend::Embedded {
        return; // one process: covered above
    }
    let stack = Stack::start(backend).await;
    let other = stack.another_runtime().await;
    let experience = stack.experience_for(&[&other]).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    // Warm the other replica's policy cache with a turn, then add a policy through the first.
    let mut ws = e2e_tests::ws::connect_to(&experience, &format!("access_token={token}"))
        .await
        .unwrap();
    ws.next().await;
    let frames = turn(&mut ws, guide("hello there")).await;
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    let strict = create(
        &stack,
        &token,
        policy(
            "STRICT",
            "agent_input",
            None,
            json!({"type": "blocked_terms", "terms": ["hello"]}),
        ),
    )
    .await;
    let frames = turn(&mut ws, guide("hello again")).await;
    assert_halted(&frames, &strict);
}

both_backends!(
    inputs_and_outputs_are_decided,
    specialists_and_liaisons_are_decided_too,
    a_policy_applies_on_every_replica_at_once,
);
