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

/// The type of a turn's last event.
fn last(frames: &[Value]) -> String {
    types(frames).pop().unwrap_or_default()
}

/// A `blocked_terms` condition.
fn blocked(terms: &[&str]) -> Value {
    json!({"type": "blocked_terms", "terms": terms})
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
        policy("STRICT", "agent_input", None, blocked(&["launch codes"])),
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
    assert_eq!(last(&frames), "EXECUTION_COMPLETED");
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
            blocked(&["anything else"]),
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

    // A STRICT deny_all on the guide's output: held, denied, nothing delivered.
    create(
        &stack,
        &token,
        policy("STRICT", "agent_output", Some("gui?e"), json!("deny_all")),
    )
    .await;
    let frames = turn(&mut ws, guide("[leak] and again")).await;
    assert!(streamed(&frames).is_empty(), "{:?}", types(&frames));
    assert_eq!(last(&frames), "EXECUTION_FAILED");

    // The chainer links every decision of these turns into the chain by itself (no read needed),
    // in the order recorded; then the chain holds.
    let (pool, prefix) = stack.runtime_db().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {prefix}governance_decisions WHERE tenant_id = $1 AND chained_seq IS NULL"
        ))
        .bind(s(&login, "tenant_id"))
        .fetch_one(&pool)
        .await
        .unwrap();
        if waiting == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} decisions never chained"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(audit["verification"]["valid"], true, "{audit}");
    assert!(audit["verification"]["entries_checked"].as_i64().unwrap() >= 5);
    let (_, violations) = stack
        .get("/api/governance/violations?severity=high", &token)
        .await;
    assert_eq!(
        violations["items"].as_array().unwrap().len(),
        4,
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
            blocked(&["refund everyone"]),
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
    assert_eq!(last(&frames), "EXECUTION_COMPLETED");

    // A builtin liaison's answer, redacted while it streams.
    create(
        &stack,
        &token,
        policy(
            "MODERATE",
            "agent_output",
            Some("liaison.*"),
            blocked(&["zanzibar"]),
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

async fn approval_policies_pause_input_and_output(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;

    // The default policy: the Operations liaison asked to run a workflow waits for a human, and
    // the pause names the decision that asked for it.
    let run = json!({"type": "intent", "intent": "please run the invoice approval workflow", "agent_type": "liaison", "metadata": {"pillar": "operations"}});
    ws.send(run).await;
    let frames = ws.until("SAFETY_APPROVAL_PENDING").await;
    let decision = data_of(&frames, "POLICY_DECISION");
    let pending = data_of(&frames, "SAFETY_APPROVAL_PENDING");
    assert_eq!(
        (
            decision["decision"].as_str(),
            decision["action_type"].as_str()
        ),
        (Some("require_approval"), Some("tool_call"))
    );
    assert_eq!(pending["decision_id"], decision["decision_id"]);
    assert_eq!(pending["action"], "execute_workflow");
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": true})).await;
    assert_eq!(last(&ws.until_finished().await), "EXECUTION_COMPLETED");

    // A policy asking a human before the guide answers anything: approved once, rejected once.
    create(
        &stack,
        &token,
        policy(
            "MODERATE",
            "agent_input",
            Some("guide"),
            json!("require_approval"),
        ),
    )
    .await;
    ws.send(guide("hello there")).await;
    let pending = data_of(
        &ws.until("SAFETY_APPROVAL_PENDING").await,
        "SAFETY_APPROVAL_PENDING",
    );
    assert_eq!(pending["action"], "agent_input");
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": true})).await;
    let frames = ws.until_finished().await;
    assert_eq!(last(&frames), "EXECUTION_COMPLETED");
    assert!(!streamed(&frames).is_empty());
    ws.send(guide("hello again")).await;
    let pending = data_of(
        &ws.until("SAFETY_APPROVAL_PENDING").await,
        "SAFETY_APPROVAL_PENDING",
    );
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": false, "rejection_reason": "not now"})).await;
    let frames = ws.until_finished().await;
    assert_eq!(types(&frames), vec!["SAFETY_HALTED", "EXECUTION_CANCELLED"]);

    // On output: the answer is held until a human lets it out — no delta before the approval.
    create(
        &stack,
        &token,
        policy(
            "MODERATE",
            "agent_output",
            Some("liaison.*"),
            json!("require_approval"),
        ),
    )
    .await;
    ws.send(json!({"type": "intent", "intent": "how do I start", "agent_type": "liaison", "metadata": {"pillar": "content"}})).await;
    let before = ws.until("SAFETY_APPROVAL_PENDING").await;
    assert!(streamed(&before).is_empty(), "{:?}", types(&before));
    let pending = data_of(&before, "SAFETY_APPROVAL_PENDING");
    assert_eq!(pending["action"], "agent_output");
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": true})).await;
    let after = ws.until_finished().await;
    assert_eq!(
        streamed(&after),
        s(&data_of(&after, "AGENT_RESPONSE"), "message")
    );
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
    assert_eq!(last(&frames), "EXECUTION_COMPLETED");
    let strict = create(
        &stack,
        &token,
        policy("STRICT", "agent_input", None, blocked(&["hello"])),
    )
    .await;
    let frames = turn(&mut ws, guide("hello again")).await;
    assert_halted(&frames, &strict);
}

both_backends!(
    inputs_and_outputs_are_decided,
    approval_policies_pause_input_and_output,
    specialists_and_liaisons_are_decided_too,
    a_policy_applies_on_every_replica_at_once,
);
