//! Agent wrappers end to end (SPEC §8, issue #9 §1–2), through the experience gateway: CRUD with
//! validation naming the field, the deployment state machine (every forbidden move a 409 that
//! changes nothing), `Idempotency-Key`, tenant isolation, and deployed wrappers taking turns on
//! the socket as `specialist` agents — streamed, continued, approved, cancelled, refused when not
//! serving, and still there after a runtime restart. `openai` wrappers deploy only after one real
//! health call to their own model server (a local OpenAI-compatible server).

use std::time::{Duration, Instant};

use e2e_tests::fake_llm::{FakeLlm, WORDS};
use e2e_tests::ws::{data_of, open, types, Ws};
use e2e_tests::{both_backends, free_port, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn definition(name: &str, configuration: Value) -> Value {
    json!({
        "name": name,
        "description": "Answers questions about invoices.",
        "supported_providers": ["builtin", "openai"],
        "configuration": configuration,
    })
}

fn builtin_config() -> Value {
    json!({"system_prompt": "You are the invoice specialist.", "provider": "builtin", "model": "builtin",
           "approval_actions": ["execute_workflow"]})
}

async fn create(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, wrapper) = stack
        .send(Method::POST, "/api/agents/wrappers", token, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wrapper}");
    wrapper
}

/// Posts a move (`deploy`, `pause`, ...) and returns its answer.
async fn act(stack: &Stack, token: &str, id: &str, action: &str) -> (StatusCode, Value) {
    let path = format!("/api/agents/wrappers/{id}/{action}");
    stack.send(Method::POST, &path, token, None).await
}

/// Polls the status until the deployment has finished (it runs in the background).
async fn settled(stack: &Stack, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = stack
            .send(
                Method::GET,
                &format!("/api/agents/wrappers/{id}/status"),
                token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["deployment_status"] != "deploying" {
            return body;
        }
        assert!(Instant::now() < deadline, "still deploying: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn deploy(stack: &Stack, token: &str, id: &str) -> Value {
    let (status, accepted) = act(stack, token, id, "deploy").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    assert_eq!(accepted["status"], "deploying");
    assert!(s(&accepted, "deployment_id").starts_with("dep_"));
    settled(stack, token, id).await
}

/// The web frontend's own frame for a deployed agent.
fn ask(agent_id: &str, text: &str) -> Value {
    json!({"type": "intent", "intent": text, "agent_type": "specialist", "metadata": {"agent_id": agent_id}})
}

/// Sends a turn that must be refused: an `error` frame with `code`, and nothing executed.
async fn refused(ws: &mut Ws, frame: Value, code: &str) {
    ws.send(frame).await;
    let error = ws.next().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], code, "{error}");
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong", "nothing ran");
}

async fn crud_validation_and_the_state_machine(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");

    // Bad definitions: 422 naming the field, nothing stored.
    let long_prompt = "x".repeat(32 * 1024 + 1);
    for (body, field) in [
        (definition(" ", builtin_config()), "name"),
        (definition(&"n".repeat(101), builtin_config()), "name"),
        (
            json!({"name": "x", "supported_providers": ["builtin"], "configuration": {"system_prompt": "p", "provider": "openai", "model": "m"}}),
            "configuration.provider",
        ),
        (
            definition(
                "x",
                json!({"system_prompt": long_prompt, "provider": "builtin", "model": "m"}),
            ),
            "configuration.system_prompt",
        ),
        (
            definition(
                "x",
                json!({"system_prompt": "p", "provider": "openai", "model": "m", "temperature": 2.5}),
            ),
            "configuration.temperature",
        ),
        (
            definition(
                "x",
                json!({"system_prompt": "p", "provider": "builtin", "model": "m", "base_url": "http://127.0.0.1:9"}),
            ),
            "configuration.base_url",
        ),
        (
            definition(
                "x",
                json!({"system_prompt": "p", "provider": "openai", "model": "m", "base_url": "file:///etc/passwd"}),
            ),
            "configuration.base_url",
        ),
    ] {
        let (status, error) = stack
            .send(Method::POST, "/api/agents/wrappers", &token, Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed");
        assert!(
            error["error"].to_string().contains(field),
            "{field}: {error}"
        );
    }
    let (_, list) = stack
        .send(Method::GET, "/api/agents/wrappers", &token, None)
        .await;
    assert_eq!(
        list["items"],
        json!([]),
        "a refused definition stores nothing"
    );

    // Create, with an Idempotency-Key: the same key and body answer the first wrapper again.
    let body = definition("Invoice helper", builtin_config());
    let keyed = |body: Value, key: &'static str| {
        stack
            .http
            .post(stack.exp("/api/agents/wrappers"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = keyed(body.clone(), "create-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let wrapper: Value = first.json().await.unwrap();
    let again: Value = keyed(body.clone(), "create-1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], wrapper["id"]);
    let other = keyed(definition("Other", builtin_config()), "create-1")
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(
        other.json::<Value>().await.unwrap()["error"]["code"],
        "idempotency_conflict"
    );
    let id = s(&wrapper, "id");
    assert!(id.starts_with("wrp_"));
    assert_eq!(wrapper["deployment_status"], "draft");
    assert_eq!(wrapper["version"], "1.0.0");
    assert_eq!(wrapper["created_by"], login["user"]["id"]);
    assert!(s(&wrapper, "created_at").ends_with('Z'));
    create(&stack, &token, definition("Travel desk", builtin_config())).await;

    // List: newest first, filters, pages.
    let (_, list) = stack
        .send(Method::GET, "/api/agents/wrappers?limit=1", &token, None)
        .await;
    assert_eq!(list["items"][0]["name"], "Travel desk");
    let cursor = s(&list, "next_cursor");
    let (_, rest) = stack
        .send(
            Method::GET,
            &format!("/api/agents/wrappers?limit=1&cursor={cursor}"),
            &token,
            None,
        )
        .await;
    assert_eq!(rest["items"][0]["id"], wrapper["id"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let (_, found) = stack
        .send(Method::GET, "/api/agents/wrappers?q=INVOICE", &token, None)
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (_, drafts) = stack
        .send(
            Method::GET,
            "/api/agents/wrappers?deployment_status=active",
            &token,
            None,
        )
        .await;
    assert_eq!(drafts["items"], json!([]));
    let (status, _) = stack
        .send(
            Method::GET,
            "/api/agents/wrappers?deployment_status=sleeping",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Forbidden moves from draft: 409 naming the state and the action; nothing changes.
    for action in ["pause", "resume", "retire"] {
        let (status, error) = act(&stack, &token, &id, action).await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}: {error}");
        assert_eq!(error["error"]["code"], "invalid_transition");
        assert_eq!(
            error["error"]["message"],
            format!("cannot {action} a wrapper that is draft")
        );
    }
    let status = deploy(&stack, &token, &id).await;
    assert_eq!(status["deployment_status"], "active", "{status}");
    assert_eq!(status["active_version"], "1.0.0");
    assert_eq!(status["health"]["ok"], true);
    assert_eq!(status["invocations"], 0);
    assert!(s(&status, "deployed_at").ends_with('Z'));
    let (status_code, error) = act(&stack, &token, &id, "resume").await;
    assert_eq!(status_code, StatusCode::CONFLICT);
    assert_eq!(
        error["error"]["message"],
        "cannot resume a wrapper that is active"
    );

    // PUT while deployed: a new version is stored, the deployed one keeps serving.
    let mut changed = definition("Invoice helper", builtin_config());
    changed["configuration"]["system_prompt"] = json!("You are the stricter invoice specialist.");
    let (code, updated) = stack
        .send(
            Method::PUT,
            &format!("/api/agents/wrappers/{id}"),
            &token,
            Some(changed),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert_eq!(updated["version"], "1.1.0");
    assert_eq!(updated["deployment_status"], "active");
    assert_eq!(updated["deployed_version"], "1.0.0");
    let renamed = json!({"name": "Invoice desk", "description": "", "supported_providers": ["builtin", "openai"], "configuration": updated["configuration"]});
    let (_, renamed) = stack
        .send(
            Method::PUT,
            &format!("/api/agents/wrappers/{id}"),
            &token,
            Some(renamed),
        )
        .await;
    assert_eq!(renamed["version"], "1.1.1", "a rename is a patch");
    let status = deploy(&stack, &token, &id).await;
    assert_eq!(status["active_version"], "1.1.1");

    // pause → paused, resume → active, retire → retired, deploy again from retired.
    for (action, expected) in [
        ("pause", "paused"),
        ("resume", "active"),
        ("pause", "paused"),
        ("retire", "retired"),
    ] {
        let (code, moved) = act(&stack, &token, &id, action).await;
        assert_eq!(code, StatusCode::OK, "{action}: {moved}");
        assert_eq!(moved["deployment_status"], expected);
    }
    let (_, status) = stack
        .send(
            Method::GET,
            &format!("/api/agents/wrappers/{id}/status"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        status["active_version"],
        Value::Null,
        "a retired wrapper serves nothing"
    );
    assert_eq!(
        deploy(&stack, &token, &id).await["deployment_status"],
        "active"
    );

    // Another tenant: 404 everywhere, never data.
    let (_, _, stranger) = stack.register().await;
    let other = s(&stranger, "access_token");
    for (method, path) in [
        (Method::GET, format!("/api/agents/wrappers/{id}")),
        (Method::GET, format!("/api/agents/wrappers/{id}/status")),
        (Method::PUT, format!("/api/agents/wrappers/{id}")),
        (Method::POST, format!("/api/agents/wrappers/{id}/deploy")),
        (Method::POST, format!("/api/agents/wrappers/{id}/retire")),
        (Method::DELETE, format!("/api/agents/wrappers/{id}")),
    ] {
        let body = (method == Method::PUT).then(|| definition("Mine now", builtin_config()));
        let (code, error) = stack.send(method.clone(), &path, &other, body).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{method} {path}: {error}");
        assert_eq!(error["error"]["code"], "not_found");
    }
    let (_, theirs) = stack
        .send(Method::GET, "/api/agents/wrappers", &other, None)
        .await;
    assert_eq!(theirs["items"], json!([]));

    // DELETE retires, then removes: 204, then 404.
    let (code, body) = stack
        .send(
            Method::DELETE,
            &format!("/api/agents/wrappers/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, Value::Null);
    let (code, _) = stack
        .send(
            Method::GET,
            &format!("/api/agents/wrappers/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

async fn specialists_take_turns_and_survive_a_restart(backend: Backend) {
    let mut stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let id = s(
        &create(
            &stack,
            &token,
            definition("Invoice helper", builtin_config()),
        )
        .await,
        "id",
    );
    let draft = s(
        &create(
            &stack,
            &token,
            definition("Never deployed", builtin_config()),
        )
        .await,
        "id",
    );
    assert_eq!(
        deploy(&stack, &token, &id).await["deployment_status"],
        "active"
    );

    let mut ws = open(&stack, &login).await;
    ws.send(ask(&id, "How do I file an invoice?")).await;
    let frames = ws.until_finished().await;
    let kinds = types(&frames);
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("EXECUTION_COMPLETED"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"AGENT_RESPONSE_DELTA".to_owned()));
    let answer = data_of(&frames, "AGENT_RESPONSE");
    assert_eq!(answer["agent_id"], id.as_str());
    assert_eq!(answer["agent_type"], "specialist");
    assert!(
        answer.get("routing").is_none(),
        "a specialist does not route: {answer}"
    );
    let conversation = s(&answer, "conversation_id");

    // Continuing the conversation without naming an agent (the legacy frame) stays with the
    // specialist.
    ws.send(json!({"type": "agent.message", "payload": {"text": "And a refund?", "context": {"conversation_id": conversation}}}))
        .await;
    let frames = ws.until_finished().await;
    assert_eq!(data_of(&frames, "AGENT_RESPONSE")["agent_id"], id.as_str());
    let (_, history) = stack
        .send(
            Method::GET,
            &format!("/api/conversations/{conversation}/messages"),
            &token,
            None,
        )
        .await;
    assert_eq!(history["items"].as_array().unwrap().len(), 4, "{history}");

    // Approvals: the wrapper's approval_actions pause its turn for a human.
    ws.send(ask(&id, "please run the invoice approval workflow"))
        .await;
    let pending = data_of(
        &ws.until("SAFETY_APPROVAL_PENDING").await,
        "SAFETY_APPROVAL_PENDING",
    );
    assert_eq!(pending["action"], "execute_workflow");
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": true})).await;
    let frames = ws.until_finished().await;
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );

    // Not serving: an undeployed, a paused, another tenant's and an unknown agent → error frame.
    refused(&mut ws, ask(&draft, "hello"), "agent_unavailable").await;
    act(&stack, &token, &id, "pause").await;
    refused(&mut ws, ask(&id, "hello"), "agent_unavailable").await;
    act(&stack, &token, &id, "resume").await;
    refused(
        &mut ws,
        ask("wrp_00000000000000000000000000000000", "hello"),
        "not_found",
    )
    .await;
    let (_, _, stranger) = stack.register().await;
    let mut theirs = open(&stack, &stranger).await;
    refused(&mut theirs, ask(&id, "hello"), "not_found").await;
    let (_, status) = stack
        .send(
            Method::GET,
            &format!("/api/agents/wrappers/{id}/status"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        status["invocations"], 3,
        "refused turns executed nothing: {status}"
    );

    // The deployed catalog is durable: after a runtime restart the agent answers.
    stack.runtime.as_mut().unwrap().restart().await;
    let mut ws = open(&stack, &login).await;
    ws.send(ask(&id, "Still there?")).await;
    let frames = ws.until_finished().await;
    assert_eq!(data_of(&frames, "AGENT_RESPONSE")["agent_id"], id.as_str());

    // Retired: refused.
    act(&stack, &token, &id, "retire").await;
    refused(&mut ws, ask(&id, "hello"), "agent_unavailable").await;
}

async fn openai_wrappers_are_health_checked_and_stream(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let config = json!({"system_prompt": "You are terse.", "provider": "openai", "model": "fake-model",
                        "temperature": 0.3, "base_url": llm.url()});
    let id = s(
        &create(&stack, &token, definition("Model-backed", config.clone())).await,
        "id",
    );
    let status = deploy(&stack, &token, &id).await;
    assert_eq!(status["deployment_status"], "active", "{status}");
    assert_eq!(
        llm.requests.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one health call"
    );

    let mut ws = open(&stack, &login).await;
    ws.send(ask(&id, "hello model")).await;
    let frames = ws.until_finished().await;
    let streamed: String = frames
        .iter()
        .filter(|f| f["event_type"] == "AGENT_RESPONSE_DELTA")
        .map(|f| f["data"]["delta"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(streamed, WORDS.concat());
    assert_eq!(
        s(&data_of(&frames, "AGENT_RESPONSE"), "message"),
        WORDS.concat()
    );

    // Cancel mid-stream: no delta after the cancellation.
    ws.send(ask(&id, "tell me slowly [slow]")).await;
    let before = ws.until("AGENT_RESPONSE_DELTA").await;
    let execution = s(&data_of(&before, "EXECUTION_STARTED"), "execution_id");
    ws.send(json!({"type": "cancel", "execution_id": execution}))
        .await;
    let after = ws.until_finished().await;
    assert_eq!(
        types(&after).last().map(String::as_str),
        Some("EXECUTION_CANCELLED")
    );

    // PUT to a dead server: the deployed version keeps serving until the next deploy, which
    // then fails readably and leaves nothing served.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mut broken = definition("Model-backed", config);
    broken["configuration"]["base_url"] = json!(dead);
    let (code, _) = stack
        .send(
            Method::PUT,
            &format!("/api/agents/wrappers/{id}"),
            &token,
            Some(broken),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    ws.send(ask(&id, "still the old one?")).await;
    let frames = ws.until_finished().await;
    assert_eq!(
        types(&frames).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    let status = deploy(&stack, &token, &id).await;
    assert_eq!(status["deployment_status"], "failed", "{status}");
    assert_eq!(status["health"]["ok"], false);
    assert!(
        s(&status["health"], "last_error").contains("health call failed"),
        "{status}"
    );
    assert_eq!(status["active_version"], Value::Null);
    let (_, record) = stack
        .send(
            Method::GET,
            &format!("/api/agents/wrappers/{id}"),
            &token,
            None,
        )
        .await;
    assert!(
        s(&record, "last_error").contains("could not be reached"),
        "{record}"
    );
    refused(&mut ws, ask(&id, "hello"), "agent_unavailable").await;
}

both_backends!(
    crud_validation_and_the_state_machine,
    specialists_take_turns_and_survive_a_restart,
    openai_wrappers_are_health_checked_and_stream
);

/// Replicas share sessions through Redis, so this runs on the production backend only.
mod replicas {
    use e2e_tests::ws::connect_to;
    use e2e_tests::{s, Backend, Stack};
    use serde_json::Value;

    use super::{ask, builtin_config, create, data_of, definition, deploy};

    /// A wrapper deployed through one runtime replica is served by another at once: the
    /// deployed catalog is the database, not a replica's memory.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrapper_deployed_through_one_runtime_answers_through_another() {
        let stack = Stack::start(Backend::Production).await;
        let runtime_b = stack.another_runtime().await;
        let experience_b = stack.experience_for(&[&runtime_b]).await;
        let (_, _, login) = stack.register().await;
        let token = s(&login, "access_token");
        let id = s(
            &create(&stack, &token, definition("Shared", builtin_config())).await,
            "id",
        );
        assert_eq!(
            deploy(&stack, &token, &id).await["deployment_status"],
            "active"
        );
        let query = format!(
            "access_token={token}&session_id={}",
            s(&login, "session_id")
        );
        let mut ws = connect_to(&experience_b, &query).await.unwrap();
        assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
        ws.send(ask(&id, "hello from the other replica")).await;
        let frames = ws.until_finished().await;
        let answer: Value = data_of(&frames, "AGENT_RESPONSE");
        assert_eq!(answer["agent_id"], id.as_str());
        assert_eq!(answer["agent_type"], "specialist");
    }
}
