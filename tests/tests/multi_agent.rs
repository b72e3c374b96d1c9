//! Multi-agent contexts (SPEC §12) on both backends, through the experience gateway: creation and
//! its refusals (empty, duplicate, unknown agent, another tenant's or an undeployed wrapper),
//! the lifecycle (pause, resume, terminate; every refused move a `409`), the governance score of
//! a message exactly as the spec weighs it, `require_response` running real executions in order
//! (`sequential`) or side by side (`parallel`), history filters, metrics from stored messages,
//! persisted state with `If-Match`, the legacy doubled paths, tenancy and scopes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use e2e_tests::attest::{attest, audit, create_profile, field};
use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::security_guard::tokens::sign;
use platform_sdk::security_guard::AccessClaims;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Row as _;

async fn send(
    stack: &Stack,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    stack.send(method, path, token, Some(body)).await
}

async fn context(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, created) =
        send(stack, Method::POST, "/api/multi_agent/context", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn message(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, sent) = send(stack, Method::POST, "/api/multi_agent/message", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    sent
}

async fn trust(stack: &Stack, token: &str, agent: &str) -> f64 {
    let (status, body) = stack
        .get(&format!("/api/governance/trust/{agent}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["aggregate"].as_f64().unwrap()
}

/// A viewer's token: the real one with `agents:read` only and the `viewer` role.
fn viewer(stack: &Stack, token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: AccessClaims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let claims = AccessClaims {
        scope: "agents:read".into(),
        roles: vec!["viewer".into()],
        jti: uuid::Uuid::new_v4().to_string(),
        ..claims
    };
    sign(&stack.jwt_ring(), &claims).unwrap()
}

/// A builtin-provider wrapper of the tenant; deployed (and settled `active`) when asked.
async fn wrapper(stack: &Stack, token: &str, deployed: bool) -> String {
    let body = json!({"name": "Desk", "supported_providers": ["builtin"], "configuration":
        {"system_prompt": "You are the desk.", "provider": "builtin", "model": "builtin"}});
    let (status, created) = send(stack, Method::POST, "/api/agents/wrappers", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = s(&created, "id");
    if deployed {
        let path = format!("/api/agents/wrappers/{id}/deploy");
        let (status, accepted) = stack.send(Method::POST, &path, token, None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let (_, st) = stack
                .get(&format!("/api/agents/wrappers/{id}/status"), token)
                .await;
            if st["deployment_status"] == "active" {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{st}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    id
}

async fn contexts_are_validated_scoped_and_aliased(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let (_, _, other) = stack.register().await;
    let other_token = s(&other, "access_token");
    let theirs = wrapper(&stack, &other_token, true).await;
    let draft = wrapper(&stack, &token, false).await;
    let mine = wrapper(&stack, &token, true).await;

    let base = |agents: Value| json!({"name": "Desk", "agent_ids": agents, "collaboration_model": "sequential"});
    for (agents, needle) in [
        (json!([]), "1..=50"),
        (json!(["guide", "guide"]), "`guide` twice"),
        (json!(["guide", "liaison.finance"]), "`liaison.finance`"),
        (json!(["guide", theirs]), theirs.as_str()),
        (json!(["guide", draft]), "draft"),
    ] {
        let (status, body) = send(
            &stack,
            Method::POST,
            "/api/multi_agent/context",
            &token,
            base(agents.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{agents}: {body}");
        assert_eq!(field(&body), "agent_ids", "{body}");
        assert!(
            s(&body["error"], "message").contains(needle),
            "{needle}: {body}"
        );
    }
    let mut bad = base(json!(["guide"]));
    bad["collaboration_model"] = json!("anarchy");
    let (status, body) = send(
        &stack,
        Method::POST,
        "/api/multi_agent/context",
        &token,
        bad,
    )
    .await;
    assert_eq!(
        (status, field(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "collaboration_model".into()
        )
    );

    let created = context(
        &stack,
        &token,
        base(json!(["guide", mine, "liaison.content"])),
    )
    .await;
    let id = s(&created, "context_id");
    assert!(id.starts_with("ctx_"), "{created}");
    assert_eq!(created["status"], "active");
    assert_eq!(created["policies"]["governance_threshold"], 0.7);
    assert_eq!(created["governance_enabled"], true);
    assert_eq!(s(&created, "created_by"), s(&owner["user"], "id"));
    assert!(s(&created, "created_at").ends_with('Z'));

    // Read, list, and the existing UI's doubled paths answer the same.
    let (status, read) = stack
        .get(&format!("/api/multi_agent/context/{id}"), &token)
        .await;
    assert_eq!((status, &read), (StatusCode::OK, &created));
    let (status, aliased) = stack
        .get(
            &format!("/api/multi_agent/multi_agent/context/{id}"),
            &token,
        )
        .await;
    assert_eq!((status, &aliased), (StatusCode::OK, &created));
    let (_, list) = stack.get("/api/multi_agent/contexts", &token).await;
    let (_, aliased) = stack
        .get("/api/multi_agent/multi_agent/contexts", &token)
        .await;
    assert_eq!(list["items"], json!([created]));
    assert_eq!(aliased, list);
    let sent = message(
        &stack,
        &token,
        json!({"context_id": id, "from_agent_id": "guide",
        "to_agent_ids": [mine], "message": {"type": "note", "content": "hi"}}),
    )
    .await;
    let (status, via_alias) = send(&stack, Method::POST, "/api/multi_agent/multi_agent/message", &token,
        json!({"context_id": id, "from_agent_id": "guide", "to_agent_ids": [mine], "message": {"type": "note", "content": "hi"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{via_alias}");
    for key in ["approved", "compliance_score", "checks"] {
        assert_eq!(
            via_alias["governance_data"][key], sent["governance_data"][key],
            "{key}"
        );
    }

    // Another tenant: 404 everywhere, never data; a viewer reads but cannot create.
    for path in ["", "/history", "/metrics", "/agents", "/state"] {
        let (status, _) = stack
            .get(
                &format!("/api/multi_agent/context/{id}{path}"),
                &other_token,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = send(&stack, Method::POST, "/api/multi_agent/message", &other_token,
        json!({"context_id": id, "from_agent_id": "guide", "to_agent_ids": ["guide"], "message": {"content": "x"}})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs_list) = stack.get("/api/multi_agent/contexts", &other_token).await;
    assert_eq!(theirs_list["items"], json!([]));
    let viewer = viewer(&stack, &token);
    let (status, body) = send(
        &stack,
        Method::POST,
        "/api/multi_agent/context",
        &viewer,
        base(json!(["guide"])),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "missing_scope");
    let (status, _) = stack
        .get(&format!("/api/multi_agent/context/{id}"), &viewer)
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn the_lifecycle_refuses_what_its_state_forbids(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let created = context(
        &stack,
        &token,
        json!({"name": "Ops", "agent_ids": ["guide", "liaison.operations"],
        "collaboration_model": "parallel", "governance_enabled": false, "metadata": {"team": "a"}}),
    )
    .await;
    let id = s(&created, "context_id");
    let path = format!("/api/multi_agent/context/{id}");
    let msg = json!({"context_id": id, "from_agent_id": "guide", "to_agent_ids": ["liaison.operations"], "message": {"content": "go"}});

    let (status, paused) = send(
        &stack,
        Method::PUT,
        &path,
        &token,
        json!({"status": "paused", "name": "Ops 2"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(
        (paused["status"].as_str(), paused["name"].as_str()),
        (Some("paused"), Some("Ops 2"))
    );
    assert_eq!(paused["metadata"], json!({"team": "a"}));
    let (status, body) = send(
        &stack,
        Method::POST,
        "/api/multi_agent/message",
        &token,
        msg.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "invalid_transition");
    assert!(s(&body["error"], "message").contains("paused"), "{body}");
    let (status, body) = send(
        &stack,
        Method::PUT,
        &path,
        &token,
        json!({"status": "terminated"}),
    )
    .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "status".into())
    );

    let (status, _) = send(
        &stack,
        Method::PUT,
        &path,
        &token,
        json!({"status": "active"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sent = message(&stack, &token, msg.clone()).await;
    assert_eq!(sent["governance_data"]["approved"], true);
    assert_eq!(sent["governance_data"]["governance_enabled"], false);
    assert_eq!(sent["governance_data"]["compliance_score"], Value::Null);
    assert_eq!(sent["governance_data"]["checks"]["trust"], Value::Null);
    assert_eq!(
        sent["delivery_results"],
        json!([{"recipient_id": "liaison.operations", "delivered": true}])
    );

    // Members only.
    let mut stranger = msg.clone();
    stranger["from_agent_id"] = json!("liaison.content");
    let (status, body) = send(
        &stack,
        Method::POST,
        "/api/multi_agent/message",
        &token,
        stranger,
    )
    .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "from_agent_id".into())
    );
    let mut stranger = msg.clone();
    stranger["to_agent_ids"] = json!(["liaison.content"]);
    let (status, body) = send(
        &stack,
        Method::POST,
        "/api/multi_agent/message",
        &token,
        stranger,
    )
    .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "to_agent_ids".into())
    );

    let (status, body) = stack.send(Method::DELETE, &path, &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, read) = stack.get(&path, &token).await;
    assert_eq!(read["status"], "terminated");
    for (method, target, body) in [
        (
            Method::POST,
            "/api/multi_agent/message".to_owned(),
            msg.clone(),
        ),
        (Method::PUT, path.clone(), json!({"status": "active"})),
        (Method::DELETE, path.clone(), json!({})),
        (
            Method::POST,
            format!("{path}/persist"),
            json!({"data": {"a": 1}}),
        ),
    ] {
        let (status, answer) = send(&stack, method, &target, &token, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{target}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_transition");
        assert!(
            s(&answer["error"], "message").contains("terminated"),
            "{answer}"
        );
    }
    let (_, history) = stack.get(&format!("{path}/history"), &token).await;
    assert_eq!(history["total_messages"], 1, "{history}");
}

/// Raises `agent`'s trust through tracked events: reliability and competence near 1.
async fn make_trusted(stack: &Stack, token: &str, agent: &str) {
    let path = format!("/api/agents/{agent}/track");
    for _ in 0..8 {
        for body in [
            json!({"event_type": "invocation", "outcome": "success"}),
            json!({"event_type": "feedback", "rating": 5}),
        ] {
            let (status, answer) = send(stack, Method::POST, &path, token, body).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        }
    }
}

async fn the_governance_score_weighs_the_four_checks(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let trusted = "liaison.insights";
    make_trusted(&stack, &token, trusted).await;
    let trusted_at = trust(&stack, &token, trusted).await;
    assert!(trusted_at >= 0.7, "{trusted_at}");
    let created = context(
        &stack,
        &token,
        json!({"name": "Gov", "agent_ids": ["guide", trusted, "liaison.content"],
        "collaboration_model": "shared_context"}),
    )
    .await;
    let id = s(&created, "context_id");
    let say = |from: &str, msg: Value| json!({"context_id": id, "from_agent_id": from, "to_agent_ids": ["liaison.content"], "message": msg});
    let checks = |sent: &Value| {
        let c = &sent["governance_data"]["checks"];
        [
            &c["trust"],
            &c["content_policy"],
            &c["governance_identity"],
            &c["protocol"],
        ]
        .map(|v| v.as_bool().unwrap())
    };

    // Untrusted (no evidence: 0.5 < 0.7), no attestation: 0.3 + 0.1 = 0.4, blocked.
    let sent = message(
        &stack,
        &token,
        say("guide", json!({"type": "note", "content": "hello"})),
    )
    .await;
    let g = &sent["governance_data"];
    assert_eq!(
        (
            g["approved"].as_bool(),
            g["compliance_score"].as_f64(),
            g["compliance_level"].as_str()
        ),
        (Some(false), Some(0.4), Some("non_compliant")),
        "{sent}"
    );
    assert_eq!(g["trust_score"].as_f64(), Some(0.5));
    assert_eq!(checks(&sent), [false, true, false, true]);
    assert_eq!(
        sent["delivery_results"],
        json!([{"recipient_id": "liaison.content", "delivered": false, "error": "blocked"}])
    );
    let (_, violations) = stack
        .get("/api/governance/violations?agent_id=guide", &token)
        .await;
    let items = violations["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{violations}");
    assert_eq!(
        (
            items[0]["severity"].as_str(),
            items[0]["violation_type"].as_str(),
            items[0]["policy_id"].as_str()
        ),
        (
            Some("medium"),
            Some("governance_threshold"),
            Some("multi_agent:governance_threshold")
        )
    );
    assert_eq!(items[0]["decision_id"], g["decision_id"]);

    // Trusted, no attestation: 0.4 + 0.3 + 0.1 = 0.8.
    let sent = message(
        &stack,
        &token,
        say(
            trusted,
            json!({"type": "note", "content": "numbers are in"}),
        ),
    )
    .await;
    let g = &sent["governance_data"];
    assert_eq!(
        (
            g["approved"].as_bool(),
            g["compliance_score"].as_f64(),
            g["compliance_level"].as_str()
        ),
        (Some(true), Some(0.8), Some("standard")),
        "{sent}"
    );
    assert_eq!(g["trust_score"].as_f64(), Some(trusted_at));
    assert_eq!(checks(&sent), [true, true, false, true]);

    // With an ACTIVE attestation of its profile: 1.0; without type and content: 0.9.
    let profile = create_profile(
        &stack,
        &token,
        json!({"agent_id": trusted, "name": "Insights", "capabilities": ["analysis"]}),
    )
    .await;
    let (status, att) = attest(
        &stack,
        &token,
        &s(&profile, "id"),
        audit(json!({"ok": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    let sent = message(
        &stack,
        &token,
        say(trusted, json!({"type": "note", "content": "attested"})),
    )
    .await;
    assert_eq!(
        (
            sent["governance_data"]["compliance_score"].as_f64(),
            sent["governance_data"]["compliance_level"].as_str()
        ),
        (Some(1.0), Some("high")),
        "{sent}"
    );
    assert_eq!(checks(&sent), [true, true, true, true]);
    let sent = message(&stack, &token, say(trusted, json!({}))).await;
    assert_eq!(
        sent["governance_data"]["compliance_score"].as_f64(),
        Some(0.9),
        "{sent}"
    );
    assert_eq!(checks(&sent), [true, true, true, false]);

    // A STRICT multi_agent_message policy: the term fails the content check (decision deny).
    let (status, policy) = send(&stack, Method::POST, "/api/governance/policies", &token, json!({"name": "No leaks",
        "policy_type": "SECURITY", "status": "ACTIVE", "enforcement_level": "STRICT",
        "rules": [{"action_type": "multi_agent_message", "condition": {"type": "blocked_terms", "terms": ["leak"]}}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    let path = format!(
        "/api/agents/profiles/{}/attestations/{}/revoke",
        s(&profile, "id"),
        s(&att, "attestation_id")
    );
    let (status, _) = send(
        &stack,
        Method::POST,
        &path,
        &token,
        json!({"reason": "rotated"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let clean = message(
        &stack,
        &token,
        say(trusted, json!({"type": "note", "content": "all fine"})),
    )
    .await;
    assert_eq!(
        clean["governance_data"]["compliance_score"].as_f64(),
        Some(0.8),
        "{clean}"
    );
    let sent = message(
        &stack,
        &token,
        say(
            trusted,
            json!({"type": "note", "content": "here is the leak"}),
        ),
    )
    .await;
    let g = &sent["governance_data"];
    assert_eq!(
        (
            g["approved"].as_bool(),
            g["compliance_score"].as_f64(),
            g["compliance_level"].as_str()
        ),
        (Some(false), Some(0.5), Some("low")),
        "{sent}"
    );
    assert_eq!(checks(&sent), [true, false, false, true]);
    let (_, violations) = stack
        .get(
            &format!("/api/governance/violations?agent_id={trusted}"),
            &token,
        )
        .await;
    let mut found: Vec<(String, String)> = violations["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (s(v, "severity"), s(v, "violation_type")))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("high".to_owned(), "blocked_terms".to_owned()),
            ("medium".into(), "governance_threshold".into())
        ]
    );
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(audit["verification"]["valid"], true, "{audit}");
    let (_, metrics) = stack
        .get(&format!("/api/multi_agent/context/{id}/metrics"), &token)
        .await;
    assert_eq!(metrics["governance_metrics"]["violations"], 3, "{metrics}");
}

/// The inputs of the context's executions, oldest first.
async fn inputs(stack: &Stack, context_id: &str) -> Vec<(String, String)> {
    let (pool, prefix) = stack.runtime_db().await;
    sqlx::query(&format!("SELECT agent_id, input FROM {prefix}executions WHERE session_id = $1 ORDER BY created_at, id"))
        .bind(context_id)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

async fn answers(stack: &Stack, token: &str, model: &str) -> (Value, Value, Vec<(String, String)>) {
    let created = context(
        stack,
        token,
        json!({"name": "Team", "agent_ids": ["guide", "liaison.content", "liaison.insights"],
        "collaboration_model": model, "policies": {"governance_threshold": 0.3}}),
    )
    .await;
    let id = s(&created, "context_id");
    let sent = message(stack, token, json!({"context_id": id, "from_agent_id": "guide",
        "to_agent_ids": ["liaison.content", "liaison.insights"], "require_response": true,
        "message": {"type": "task", "content": "Summarise the quarterly sales files", "task_id": "t-1"}})).await;
    let (_, history) = stack
        .get(&format!("/api/multi_agent/context/{id}/history"), token)
        .await;
    (sent, history, inputs(stack, &id).await)
}

fn check_answers(sent: &Value, history: &Value) -> [String; 2] {
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{history}");
    let asked = s(sent, "message_id");
    let results = sent["delivery_results"].as_array().unwrap();
    let mut contents = Vec::new();
    for (i, agent) in ["liaison.content", "liaison.insights"].iter().enumerate() {
        assert_eq!(results[i]["recipient_id"], *agent, "{sent}");
        assert_eq!(results[i]["delivered"], true, "{sent}");
        let answer = messages
            .iter()
            .find(|m| m["message_id"] == results[i]["response_message_id"])
            .unwrap();
        assert_eq!(
            (
                answer["from_agent_id"].as_str(),
                answer["in_reply_to"].as_str()
            ),
            (Some(*agent), Some(asked.as_str()))
        );
        assert_eq!(answer["to_agent_ids"], json!(["guide"]));
        assert_eq!(
            (
                answer["message"]["type"].as_str(),
                answer["message"]["task_id"].as_str()
            ),
            (Some("response"), Some("t-1"))
        );
        assert_eq!(answer["governance_data"]["governance_enabled"], true);
        contents.push(s(&answer["message"], "content"));
    }
    assert_eq!(messages[0]["message_id"], sent["message_id"]);
    assert_eq!(
        messages[0]["delivery_results"], sent["delivery_results"],
        "stored with the answers"
    );
    [contents[0].clone(), contents[1].clone()]
}

async fn require_response_runs_each_recipient(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    // sequential: in order, the second sees the first's answer.
    let (sent, history, ran) = answers(&stack, &token, "sequential").await;
    let [first, _] = check_answers(&sent, &history);
    assert_eq!(
        ran.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        ["liaison.content", "liaison.insights"]
    );
    assert!(
        ran[0].1.contains("Summarise the quarterly sales files"),
        "{}",
        ran[0].1
    );
    assert!(!ran[0].1.contains(&first));
    assert!(
        ran[1]
            .1
            .contains(&format!("liaison.content -> guide (response): {first}")),
        "{}",
        ran[1].1
    );

    // parallel: both see the message, neither the other's answer.
    let (sent, history, ran) = answers(&stack, &token, "parallel").await;
    let [first, second] = check_answers(&sent, &history);
    assert_eq!(ran.len(), 2);
    for (agent, input) in &ran {
        assert!(
            input.contains("Summarise the quarterly sales files"),
            "{agent}"
        );
        assert!(
            !input.contains(&first) && !input.contains(&second),
            "{agent}: {input}"
        );
    }
}

async fn history_and_metrics_come_from_stored_messages(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let (status, _) = send(&stack, Method::POST, "/api/governance/policies", &token, json!({"name": "Quiet insights",
        "policy_type": "SECURITY", "status": "ACTIVE", "enforcement_level": "STRICT",
        "rules": [{"action_type": "multi_agent_message", "agent_pattern": "liaison.insights", "condition": "deny_all"}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let created = context(
        &stack,
        &token,
        json!({"name": "Figures", "agent_ids": ["guide", "liaison.content", "liaison.insights"],
        "collaboration_model": "shared_context", "policies": {"governance_threshold": 0.5}}),
    )
    .await;
    let id = s(&created, "context_id");
    let path = format!("/api/multi_agent/context/{id}");
    let (_, empty) = stack.get(&format!("{path}/metrics"), &token).await;
    assert_eq!(
        (
            empty["total_messages"].as_i64(),
            empty["average_participation"].as_f64()
        ),
        (Some(0), Some(0.0))
    );
    assert_eq!(
        empty["agent_metrics"][0]["participation_rate"].as_f64(),
        Some(0.0)
    );

    let m1 = message(
        &stack,
        &token,
        json!({"context_id": id, "from_agent_id": "guide", "to_agent_ids": ["liaison.content"],
        "message": {"type": "task", "content": "Plan the rollout"}}),
    )
    .await;
    let m2 = message(
        &stack,
        &token,
        json!({"context_id": id, "from_agent_id": "liaison.insights", "to_agent_ids": ["guide"],
        "message": {}}),
    )
    .await;
    assert_eq!(
        m2["governance_data"]["compliance_score"].as_f64(),
        Some(0.4),
        "{m2}"
    );
    let m3 = message(&stack, &token, json!({"context_id": id, "from_agent_id": "guide", "to_agent_ids": ["liaison.content"],
        "require_response": true, "message": {"type": "question", "content": "Which documents come first?"}})).await;
    assert_eq!(m1["governance_data"]["approved"], true);
    assert_eq!(m3["delivery_results"][0]["delivered"], true, "{m3}");
    let content_trust = trust(&stack, &token, "liaison.content").await;
    let insights_trust = trust(&stack, &token, "liaison.insights").await;

    let (_, history) = stack.get(&format!("{path}/history"), &token).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(
        (
            history["total_messages"].as_i64(),
            history["filtered_count"].as_i64()
        ),
        (Some(4), Some(4))
    );
    assert_eq!(history["collaboration_model"], "shared_context");
    let ids: Vec<&Value> = messages.iter().map(|m| &m["message_id"]).collect();
    assert_eq!(
        ids[..3],
        [&m1["message_id"], &m2["message_id"], &m3["message_id"]]
    );
    let m4 = &messages[3];
    assert_eq!(
        m4["governance_data"]["trust_score"].as_f64(),
        Some(content_trust)
    );
    let ms = |m: &Value| platform_sdk::time_util::parse_rfc3339_ms(&s(m, "timestamp")).unwrap();
    for (query, expected) in [
        ("from_agent_id=guide".to_owned(), vec![0, 2]),
        ("message_type=task".to_owned(), vec![0]),
        (
            format!("since={}", s(&messages[2], "timestamp")),
            vec![2, 3],
        ),
        ("limit=1".to_owned(), vec![3]),
        ("from_agent_id=guide&limit=1".to_owned(), vec![2]),
    ] {
        let (status, filtered) = stack
            .get(
                &format!("{path}/history?{}", query.replace('+', "%2B")),
                &token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {filtered}");
        let got: Vec<&Value> = filtered["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["message_id"])
            .collect();
        let want: Vec<&Value> = expected
            .iter()
            .map(|i| &messages[*i]["message_id"])
            .collect();
        assert_eq!(got, want, "{query}");
        assert_eq!(filtered["total_messages"], 4);
        let count = match query.as_str() {
            "limit=1" => 4,
            "from_agent_id=guide&limit=1" => 2,
            _ => expected.len(),
        };
        assert_eq!(filtered["filtered_count"], count, "{query}");
    }
    let (status, body) = stack
        .get(&format!("{path}/history?since=yesterday"), &token)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (_, metrics) = stack.get(&format!("{path}/metrics"), &token).await;
    assert_eq!(
        (
            metrics["total_messages"].as_i64(),
            metrics["active_agents"].as_i64()
        ),
        (Some(4), Some(3)),
        "{metrics}"
    );
    assert_eq!(
        metrics["average_participation"].as_f64(),
        Some((0.5 + 0.25 + 0.25) / 3.0)
    );
    let waited = (ms(m4) - ms(&messages[2])) as f64;
    let expected = json!([
        {"agent_id": "guide", "messages_sent": 2, "messages_received": 1, "participation_rate": 0.5, "avg_response_ms": null},
        {"agent_id": "liaison.content", "messages_sent": 1, "messages_received": 2, "participation_rate": 0.25, "avg_response_ms": waited},
        {"agent_id": "liaison.insights", "messages_sent": 1, "messages_received": 0, "participation_rate": 0.25, "avg_response_ms": null},
    ]);
    assert_eq!(metrics["agent_metrics"], expected, "{metrics}");
    let g = &metrics["governance_metrics"];
    assert_eq!(g["approval_rate"].as_f64(), Some(0.75));
    assert_eq!(
        g["average_trust_score"].as_f64(),
        Some((0.5 + 0.5 + 0.5 + content_trust) / 4.0)
    );
    assert_eq!(
        g["violations"].as_i64(),
        Some(2),
        "deny_all (high) and the threshold (medium)"
    );

    let (_, agents) = stack.get(&format!("{path}/agents"), &token).await;
    let agents = agents["agents"].as_array().unwrap();
    let trusts: Vec<f64> = agents
        .iter()
        .map(|a| a["trust_score"].as_f64().unwrap())
        .collect();
    assert_eq!(trusts, [0.5, content_trust, insights_trust]);
    for (agent, figures) in agents.iter().zip(expected.as_array().unwrap()) {
        for key in [
            "agent_id",
            "messages_sent",
            "messages_received",
            "participation_rate",
            "avg_response_ms",
        ] {
            assert_eq!(agent[key], figures[key], "{key}");
        }
    }
}

async fn persisted_state_honours_if_match(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let created = context(
        &stack,
        &token,
        json!({"name": "State", "agent_ids": ["guide"], "collaboration_model": "hierarchical"}),
    )
    .await;
    let id = s(&created, "context_id");
    let persist = |if_match: Option<&str>, body: Value, alias: bool| {
        let prefix = if alias {
            "/api/multi_agent/multi_agent"
        } else {
            "/api/multi_agent"
        };
        let mut req = stack
            .http
            .post(stack.exp(&format!("{prefix}/context/{id}/persist")))
            .bearer_auth(&token)
            .json(&body);
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let (_, state) = stack
        .get(&format!("/api/multi_agent/context/{id}/state"), &token)
        .await;
    assert_eq!(
        (state["version"].as_i64(), &state["persistent_data"]),
        (Some(0), &json!({}))
    );

    let (status, v1) = persist(Some("0"), json!({"data": {"a": 1, "b": {"x": 1}}}), false).await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    assert_eq!(
        (v1["version"].as_i64(), &v1["persistent_data"]),
        (Some(1), &json!({"a": 1, "b": {"x": 1}}))
    );
    let (status, v2) = persist(
        Some("\"1\""),
        json!({"data": {"b": {"y": 2}, "c": 3}}),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(
        (v2["version"].as_i64(), &v2["persistent_data"]),
        (Some(2), &json!({"a": 1, "b": {"y": 2}, "c": 3})),
        "shallow merge"
    );
    let (status, stale) = persist(Some("1"), json!({"data": {"d": 4}}), false).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{stale}");
    assert_eq!(stale["error"]["code"], "precondition_failed");
    assert!(stale["error"]["request_id"].is_string());
    let (status, v3) = persist(Some("2"), json!({"data": {"d": 4}, "merge": false}), false).await;
    assert_eq!(status, StatusCode::OK, "{v3}");
    assert_eq!(
        (v3["version"].as_i64(), &v3["persistent_data"]),
        (Some(3), &json!({"d": 4})),
        "replaced"
    );
    let (status, v4) = persist(None, json!({"data": {"e": 5}}), false).await;
    assert_eq!(
        (status, v4["version"].as_i64()),
        (StatusCode::OK, Some(4)),
        "no If-Match: unconditional"
    );
    let (status, body) = persist(Some("4"), json!({"data": [1]}), false).await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "data".into())
    );
    let (_, state) = stack
        .get(&format!("/api/multi_agent/context/{id}/state"), &token)
        .await;
    assert_eq!(
        (state["version"].as_i64(), &state["persistent_data"]),
        (Some(4), &json!({"d": 4, "e": 5}))
    );
    let (_, context) = stack
        .get(&format!("/api/multi_agent/context/{id}"), &token)
        .await;
    assert_eq!(context["state_version"], 4);
    let (_, aliased) = stack
        .get(
            &format!("/api/multi_agent/multi_agent/context/{id}/state"),
            &token,
        )
        .await;
    assert_eq!(aliased, state);
    let (status, v5) = persist(Some("4"), json!({"data": {"f": 6}}), true).await;
    assert_eq!(
        (status, v5["version"].as_i64()),
        (StatusCode::OK, Some(5)),
        "{v5}"
    );
}

both_backends!(
    contexts_are_validated_scoped_and_aliased,
    the_lifecycle_refuses_what_its_state_forbids,
    the_governance_score_weighs_the_four_checks,
    require_response_runs_each_recipient,
    history_and_metrics_come_from_stored_messages,
    persisted_state_honours_if_match,
);
