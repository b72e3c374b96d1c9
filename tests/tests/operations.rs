//! The operations hub end to end (SPEC §14), through the experience gateway on both backends:
//! every hub query rule (include, since, status, limit, newest first, active_count, tenant
//! scope), the detail of an execution and of a deployment, the control maps with their 409s, a
//! pause that really stops a streaming execution until it resumes, a paused approval that does
//! not time out, cancel from paused, the reason kept in the audit trail, a viewer refused, another
//! tenant's process 404, and (production) a pause through another runtime replica.

use std::time::{Duration, Instant};

use e2e_tests::fake_llm::{FakeLlm, WORDS};
use e2e_tests::sse::{Auth, Sse};
use e2e_tests::ws::{data_of, open, types, Ws};
use e2e_tests::{both_backends, s, Backend, Options, Stack};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;

async fn hub(stack: &Stack, token: &str, query: &str) -> (StatusCode, Value) {
    stack
        .get(&format!("/v1/operations/hub{query}"), token)
        .await
}

async fn detail(stack: &Stack, token: &str, id: &str) -> (StatusCode, Value) {
    stack
        .get(&format!("/v1/operations/processes/{id}"), token)
        .await
}

async fn control(stack: &Stack, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/v1/operations/processes/{id}/control");
    stack.send(Method::POST, &path, token, Some(body)).await
}

/// A control that must succeed; answers the detail after it.
async fn must(stack: &Stack, token: &str, id: &str, action: &str) -> Value {
    let (status, body) = control(stack, token, id, json!({"action": action})).await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body
}

/// A control that must be refused as `invalid_transition` naming `state` and `action`.
async fn refused(stack: &Stack, token: &str, id: &str, action: &str, what: &str, state: &str) {
    let (status, body) = control(stack, token, id, json!({"action": action})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "invalid_transition");
    assert_eq!(
        body["error"]["message"],
        format!("cannot {action} a {what} that is {state}")
    );
}

fn ids(hub: &Value) -> Vec<String> {
    hub["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(p, "id"))
        .collect()
}

fn deltas(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["event_type"] == "AGENT_RESPONSE_DELTA")
        .map(|f| f["data"]["delta"].as_str().unwrap().to_owned())
        .collect()
}

/// Inserts an execution of `tenant` in `status` started `ago` ms ago, owned by a runtime that
/// renews nothing but whose lease lasts (so no sweep fails it).
async fn seed(stack: &Stack, tenant: &str, status: &str, ago: i64) -> String {
    let (pool, prefix) = stack.runtime_db().await;
    let id = uuid::Uuid::new_v4().to_string();
    let at = now_ms() - ago;
    sqlx::query(&format!(
        "INSERT INTO {prefix}executions (id, tenant_id, session_id, user_id, conversation_id, \
         agent_id, agent_type, pillar, input, status, created_at, updated_at, owner_id, \
         lease_expires_at) VALUES ($1, $2, 'sess', NULL, 'conv', 'guide', 'guide', NULL, 'hi', \
         $3, $4, $4, 'elsewhere', $5)"
    ))
    .bind(&id)
    .bind(tenant)
    .bind(status)
    .bind(at)
    .bind(now_ms() + 24 * HOUR)
    .execute(&pool)
    .await
    .unwrap();
    id
}

async fn deployed_wrapper(stack: &Stack, token: &str) -> String {
    let body = json!({
        "name": "Invoice bot",
        "description": "Answers questions about invoices.",
        "supported_providers": ["builtin"],
        "configuration": {"system_prompt": "You help.", "provider": "builtin", "model": "builtin"},
    });
    let (status, wrapper) = stack
        .send(Method::POST, "/api/agents/wrappers", token, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wrapper}");
    let id = s(&wrapper, "id");
    let path = format!("/api/agents/wrappers/{id}/deploy");
    let (status, body) = stack.send(Method::POST, &path, token, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, d) = detail(stack, token, &id).await;
        if d["summary"]["status"] == "active" {
            return id;
        }
        assert!(Instant::now() < deadline, "not deployed: {d}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn hub_query_rules(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let (_, _, other) = stack.register().await;
    let (token, tenant) = (s(&login, "access_token"), s(&login, "tenant_id"));
    let executing = seed(&stack, &tenant, "executing", 3 * HOUR).await;
    let awaiting = seed(&stack, &tenant, "awaiting_approval", 2 * HOUR).await;
    let completed = seed(&stack, &tenant, "completed", HOUR).await;
    let old_paused = seed(&stack, &tenant, "paused", 30 * HOUR).await;
    // Another tenant's live execution is never seen.
    seed(&stack, &s(&other, "tenant_id"), "executing", HOUR).await;
    let wrapper = deployed_wrapper(&stack, &token).await;

    // Absent include: every kind; absent status: live states; default since: the last day.
    let before = now_ms();
    let (status, all) = hub(&stack, &token, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        ids(&all),
        vec![wrapper.clone(), awaiting.clone(), executing.clone()]
    );
    assert_eq!(all["active_count"], 3);
    let at = platform_sdk::time_util::parse_rfc3339_ms(&s(&all, "timestamp")).unwrap();
    assert!(s(&all, "timestamp").ends_with('Z') && at >= before - 1000);
    let first = &all["processes"][1];
    assert_eq!(first["type"], "execution");
    assert_eq!(first["status"], "awaiting_approval");
    assert_eq!(first["name"], "guide");
    assert_eq!(all["processes"][0]["type"], "deployment");
    assert_eq!(all["processes"][0]["name"], "Invoice bot");

    let (_, only) = hub(&stack, &token, "?include=executions").await;
    assert_eq!(ids(&only), vec![awaiting.clone(), executing.clone()]);
    assert_eq!(only["active_count"], 2);
    let (_, only) = hub(&stack, &token, "?include=deployments").await;
    assert_eq!(ids(&only), vec![wrapper.clone()]);
    assert_eq!(only["active_count"], 1);
    let (status, none) = hub(&stack, &token, "?include=").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&none), Vec::<String>::new());
    assert_eq!(none["active_count"], 0);

    let (status, bad) = hub(&stack, &token, "?include=zeta,executions,alpha").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["code"], "invalid_query");
    assert_eq!(
        bad["error"]["message"],
        "query parameter `include` names unknown items: alpha, zeta"
    );

    // since widens (or narrows) the window; an invalid one is refused.
    let since = rfc3339_ms(now_ms() - 48 * HOUR);
    let (_, wide) = hub(&stack, &token, &format!("?since={since}")).await;
    assert_eq!(
        ids(&wide),
        vec![
            wrapper.clone(),
            awaiting.clone(),
            executing.clone(),
            old_paused.clone()
        ]
    );
    assert_eq!(wide["active_count"], 4);
    let since = rfc3339_ms(now_ms() - 150 * 60_000);
    let (_, narrow) = hub(
        &stack,
        &token,
        &format!("?since={since}&include=executions"),
    )
    .await;
    assert_eq!(ids(&narrow), vec![awaiting.clone()]);
    let (status, bad) = hub(&stack, &token, "?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["code"], "invalid_query");

    // status picks states; active_count still counts the live ones.
    let (_, done) = hub(&stack, &token, "?status=completed").await;
    assert_eq!(ids(&done), vec![completed.clone()]);
    assert_eq!(done["active_count"], 3);
    let (_, two) = hub(&stack, &token, "?status=completed,executing").await;
    assert_eq!(ids(&two), vec![completed.clone(), executing.clone()]);
    let (status, bad) = hub(&stack, &token, "?status=running,active,bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad["error"]["message"],
        "query parameter `status` names unknown items: bogus, running"
    );

    // limit is clamped, not refused.
    let (_, one) = hub(&stack, &token, "?limit=1").await;
    assert_eq!(ids(&one), vec![wrapper.clone()]);
    assert_eq!(one["active_count"], 3);
    let (status, zero) = hub(&stack, &token, "?limit=0").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&zero).len(), 1);
    let (_, negative) = hub(&stack, &token, "?limit=-4").await;
    assert_eq!(ids(&negative).len(), 1);
    let (_, many) = hub(&stack, &token, "?limit=100000").await;
    assert_eq!(ids(&many).len(), 3);

    // Another tenant (with a live execution of its own) sees only its own.
    let (_, theirs) = hub(&stack, &s(&other, "access_token"), "").await;
    assert_eq!(theirs["processes"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["active_count"], 1);
    assert!(!ids(&theirs).contains(&executing));
    let (_, _, empty) = stack.register().await;
    let (_, nothing) = hub(&stack, &s(&empty, "access_token"), "").await;
    assert_eq!(ids(&nothing), Vec::<String>::new());
    assert_eq!(nothing["active_count"], 0);
}

async fn execution_detail_and_access(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;
    ws.send(json!({"type": "intent", "intent": "what can the insights pillar do", "agent_type": "guide"}))
        .await;
    let frames = ws.until_finished().await;
    let id = s(&data_of(&frames, "EXECUTION_STARTED"), "execution_id");

    let (status, d) = detail(&stack, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["summary"]["id"], id.as_str());
    assert_eq!(d["summary"]["type"], "execution");
    assert_eq!(d["summary"]["status"], "completed");
    assert_eq!(d["summary"]["name"], "guide");
    let steps = d["detail"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{d}");
    assert_eq!(steps[0]["step"], "respond");
    assert_eq!(steps[0]["status"], "completed");
    let events = d["detail"]["last_events"].as_array().unwrap();
    assert_eq!(d["detail"]["event_count"], frames.len());
    assert_eq!(events.len(), frames.len().min(20));
    assert_eq!(events.last().unwrap()["event_type"], "EXECUTION_COMPLETED");
    assert_eq!(d["controls"], json!([]));

    // A finished execution refuses every control, naming its state.
    for action in ["pause", "resume", "cancel"] {
        refused(
            &stack,
            &token,
            &id,
            action,
            "workflow execution",
            "completed",
        )
        .await;
    }
    let (status, body) = control(&stack, &token, &id, json!({"action": "stop"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Another tenant: 404 for the detail and the control; unknown ids too.
    let (_, _, other) = stack.register().await;
    let other_token = s(&other, "access_token");
    let (status, _) = detail(&stack, &other_token, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = control(&stack, &other_token, &id, json!({"action": "cancel"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for unknown in ["nope", "wrp_missing", "ctx_missing", "mmreq_missing"] {
        let (status, body) = detail(&stack, &token, unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {body}");
    }

    // A viewer reads the hub but cannot control.
    let email = format!("viewer-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, invited) = stack
        .send(
            Method::POST,
            "/api/tenants/current/members",
            &token,
            Some(json!({"email": email, "role": "viewer"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let (status, viewer) = stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": "viewer-password-1", "invitation_token": invited["token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{viewer}");
    let viewer_token = s(&viewer, "access_token");
    let (status, _) = hub(&stack, &viewer_token, "?status=completed").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = control(&stack, &viewer_token, &id, json!({"action": "cancel"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// Frames until the first one of `event_type`, asserting none is a delta.
async fn no_delta_until(ws: &mut Ws, event_type: &str) -> Vec<Value> {
    let frames = ws.until(event_type).await;
    assert_eq!(deltas(&frames), "", "{:?}", types(&frames));
    frames
}

async fn pause_stops_the_stream_until_resumed(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(10)).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;
    ws.send(json!({"type": "intent", "intent": "tell me slowly [slow]", "agent_type": "guide"}))
        .await;
    let mut seen = ws.until("AGENT_RESPONSE_DELTA").await;
    let id = s(&data_of(&seen, "EXECUTION_STARTED"), "execution_id");

    let paused = must(&stack, &token, &id, "pause").await;
    assert_eq!(paused["summary"]["status"], "paused");
    // Deltas stored before the pause come first; then EXECUTION_PAUSED.
    seen.extend(ws.until("EXECUTION_PAUSED").await);
    let pause = data_of(&seen, "EXECUTION_PAUSED");
    assert_eq!(pause["paused_from"], "executing");
    let stored = paused["detail"]["event_count"].as_u64().unwrap();

    // While paused: nothing reaches the log or the socket, for longer than the rest of the
    // answer takes to produce (12 chunks, 150 ms apart).
    let until = Instant::now() + Duration::from_millis(2_200);
    while Instant::now() < until {
        let (_, d) = detail(&stack, &token, &id).await;
        assert_eq!(d["summary"]["status"], "paused");
        assert_eq!(d["detail"]["event_count"].as_u64().unwrap(), stored, "{d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong", "no frame while paused");
    refused(&stack, &token, &id, "pause", "workflow execution", "paused").await;

    let resumed = must(&stack, &token, &id, "resume").await;
    // The buffered rest of the answer may already be delivered when the detail is read.
    assert_eq!(resumed["controls"][0]["to_status"], "executing");
    assert_ne!(resumed["summary"]["status"], "paused");
    let rest = ws.until_finished().await;
    assert_eq!(
        types(&rest).first().map(String::as_str),
        Some("EXECUTION_RESUMED")
    );
    assert_eq!(
        types(&rest).last().map(String::as_str),
        Some("EXECUTION_COMPLETED")
    );
    let all: Vec<Value> = seen.into_iter().chain(rest).collect();
    assert_eq!(deltas(&all), WORDS.concat(), "nothing lost, nothing twice");
    let (_, d) = detail(&stack, &token, &id).await;
    assert_eq!(d["summary"]["status"], "completed");
    // The user's live stream tells the same story (replayed from the tenant log).
    let (status, _) = stack
        .send(
            Method::POST,
            "/api/events/subscribe",
            &token,
            Some(json!({"event_types": ["execution.*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, sse, body) = Sse::open(
        &stack.experience.url("/api/events/stream"),
        Auth::Bearer(&token),
        Some(0),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let live: Vec<String> = sse
        .unwrap()
        .events_until_quiet(Duration::from_millis(700))
        .await
        .into_iter()
        .filter(|f| f.data["data"]["execution_id"] == id.as_str())
        .map(|f| f.event.unwrap_or_default())
        .collect();
    assert_eq!(
        live,
        [
            "execution.started",
            "execution.paused",
            "execution.resumed",
            "execution.completed"
        ]
    );
    let controls = d["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 2);
    assert_eq!(controls[0]["action"], "resume");
    assert_eq!(controls[0]["from_status"], "paused");
    assert_eq!(controls[0]["to_status"], "executing");
    assert_eq!(controls[1]["action"], "pause");
    assert_eq!(controls[1]["actor_user_id"], login["user"]["id"]);
    refused(
        &stack,
        &token,
        &id,
        "resume",
        "workflow execution",
        "completed",
    )
    .await;
}

async fn cancel_from_paused_keeps_the_reason(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(10)).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;
    ws.send(json!({"type": "intent", "intent": "a long one [slow]", "agent_type": "guide"}))
        .await;
    let seen = ws.until("AGENT_RESPONSE_DELTA").await;
    let id = s(&data_of(&seen, "EXECUTION_STARTED"), "execution_id");
    refused(
        &stack,
        &token,
        &id,
        "resume",
        "workflow execution",
        "executing",
    )
    .await;
    let long = "x".repeat(501);
    let (status, body) = control(
        &stack,
        &token,
        &id,
        json!({"action": "pause", "reason": long}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let reason = json!({"action": "pause", "reason": "checking the costs"});
    let (status, paused) = control(&stack, &token, &id, reason).await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    ws.until("EXECUTION_PAUSED").await;
    let body = json!({"action": "cancel", "reason": "runaway turn"});
    let (status, cancelled) = control(&stack, &token, &id, body).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["summary"]["status"], "cancelled");
    let frames = no_delta_until(&mut ws, "EXECUTION_CANCELLED").await;
    assert_eq!(types(&frames), vec!["EXECUTION_CANCELLED"]);
    assert_eq!(
        data_of(&frames, "EXECUTION_CANCELLED")["reason"],
        "runaway turn"
    );
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong", "nothing after the cancel");

    let controls = cancelled["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 2, "{cancelled}");
    assert_eq!(controls[0]["action"], "cancel");
    assert_eq!(controls[0]["reason"], "runaway turn");
    assert_eq!(controls[0]["from_status"], "paused");
    assert_eq!(controls[0]["to_status"], "cancelled");
    assert_eq!(controls[1]["reason"], "checking the costs");
    assert_eq!(controls[1]["from_status"], "executing");
    assert!(s(&controls[0], "at").ends_with('Z'));
    for action in ["pause", "resume", "cancel"] {
        refused(
            &stack,
            &token,
            &id,
            action,
            "workflow execution",
            "cancelled",
        )
        .await;
    }
    let (_, d) = detail(&stack, &token, &id).await;
    assert_eq!(
        d["controls"].as_array().unwrap().len(),
        2,
        "refusals change nothing"
    );
}

async fn paused_approval_does_not_time_out(backend: Backend) {
    let options = Options {
        runtime_env: vec![("APP__AGENTS__APPROVAL_TIMEOUT_SECS".into(), "2".into())],
        ..Options::default()
    };
    let stack = Stack::start_with(backend, options).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = open(&stack, &login).await;
    ws.send(json!({"type": "intent", "intent": "please run the invoice approval workflow", "agent_type": "liaison", "metadata": {"pillar": "operations"}}))
        .await;
    let frames = ws.until("SAFETY_APPROVAL_PENDING").await;
    let pending = data_of(&frames, "SAFETY_APPROVAL_PENDING");
    let id = s(&pending, "execution_id");
    let paused = must(&stack, &token, &id, "pause").await;
    assert_eq!(paused["summary"]["status"], "paused");
    let steps = paused["detail"]["steps"].as_array().unwrap();
    assert_eq!(
        steps.last().unwrap()["status"],
        "awaiting_approval",
        "{paused}"
    );
    assert_eq!(
        data_of(&ws.until("EXECUTION_PAUSED").await, "EXECUTION_PAUSED")["paused_from"],
        "awaiting_approval"
    );
    // Past the approval timeout, still paused (not halted).
    let until = Instant::now() + Duration::from_millis(3_000);
    while Instant::now() < until {
        let (_, d) = detail(&stack, &token, &id).await;
        assert_eq!(d["summary"]["status"], "paused", "{d}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resumed = must(&stack, &token, &id, "resume").await;
    assert_eq!(resumed["summary"]["status"], "awaiting_approval");
    ws.send(json!({"type": "safety_response", "hook_id": pending["hook_id"], "response_type": "approval", "approved": true}))
        .await;
    let frames = ws.until_finished().await;
    let kinds = types(&frames);
    assert_eq!(kinds.first().map(String::as_str), Some("EXECUTION_RESUMED"));
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("EXECUTION_COMPLETED"),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"SAFETY_HALTED".to_owned()));
}

async fn deployment_controls(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let id = deployed_wrapper(&stack, &token).await;
    let (status, d) = detail(&stack, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["summary"]["type"], "deployment");
    assert_eq!(d["detail"]["health"]["ok"], true);
    assert_eq!(d["detail"]["deployment_status"], "active");
    let deployment = s(&d["summary"]["metadata"], "deployment_id");
    assert!(deployment.starts_with("dep_"));
    let (status, by_deployment) = detail(&stack, &token, &deployment).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_deployment["summary"]["id"], id.as_str());

    refused(&stack, &token, &id, "resume", "deployment", "active").await;
    let paused = must(&stack, &token, &id, "pause").await;
    assert_eq!(paused["summary"]["status"], "paused");
    refused(&stack, &token, &id, "pause", "deployment", "paused").await;
    let resumed = must(&stack, &token, &deployment, "resume").await;
    assert_eq!(resumed["summary"]["status"], "active");
    let body = json!({"action": "cancel", "reason": "replaced by v2"});
    let (status, retired) = control(&stack, &token, &id, body).await;
    assert_eq!(status, StatusCode::OK, "{retired}");
    assert_eq!(retired["summary"]["status"], "retired");
    for action in ["pause", "resume", "cancel"] {
        refused(&stack, &token, &id, action, "deployment", "retired").await;
    }
    let controls = retired["controls"].as_array().unwrap();
    let moves: Vec<(String, String, String)> = controls
        .iter()
        .map(|c| (s(c, "action"), s(c, "from_status"), s(c, "to_status")))
        .collect();
    let expected = [
        ("cancel", "active", "retired"),
        ("resume", "paused", "active"),
        ("pause", "active", "paused"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, f, t)| (a.to_string(), f.to_string(), t.to_string()))
        .collect();
    assert_eq!(moves, expected);
    assert_eq!(controls[0]["reason"], "replaced by v2");
    // Retired: no longer live, so the default hub no longer lists it.
    let (_, live) = hub(&stack, &token, "?include=deployments").await;
    assert_eq!(ids(&live), Vec::<String>::new());
    let (_, retired) = hub(&stack, &token, "?include=deployments&status=retired").await;
    assert_eq!(ids(&retired), vec![id]);
}

async fn context_controls(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let body = json!({"name": "Desk", "agent_ids": ["guide", "liaison.content"], "collaboration_model": "sequential"});
    let (status, created) = stack
        .send(Method::POST, "/api/multi_agent/context", &token, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = s(&created, "context_id");
    let (_, listed) = hub(&stack, &token, "?include=contexts").await;
    assert_eq!(ids(&listed), vec![id.clone()]);
    assert_eq!(listed["active_count"], 1);
    assert_eq!(listed["processes"][0]["type"], "multi_agent_context");
    assert_eq!(listed["processes"][0]["name"], "Desk");
    let (status, d) = detail(&stack, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["detail"]["collaboration_model"], "sequential");

    refused(
        &stack,
        &token,
        &id,
        "resume",
        "multi-agent context",
        "active",
    )
    .await;
    assert_eq!(
        must(&stack, &token, &id, "pause").await["summary"]["status"],
        "paused"
    );
    let (_, context) = stack
        .get(&format!("/api/multi_agent/context/{id}"), &token)
        .await;
    assert_eq!(context["status"], "paused", "the context's own API agrees");
    refused(
        &stack,
        &token,
        &id,
        "pause",
        "multi-agent context",
        "paused",
    )
    .await;
    assert_eq!(
        must(&stack, &token, &id, "resume").await["summary"]["status"],
        "active"
    );
    let ended = must(&stack, &token, &id, "cancel").await;
    assert_eq!(ended["summary"]["status"], "terminated");
    assert_eq!(ended["controls"].as_array().unwrap().len(), 3);
    for action in ["pause", "resume", "cancel"] {
        refused(
            &stack,
            &token,
            &id,
            action,
            "multi-agent context",
            "terminated",
        )
        .await;
    }
    let (_, live) = hub(&stack, &token, "?include=contexts").await;
    assert_eq!(live["active_count"], 0);
    let (_, _, other) = stack.register().await;
    let (status, _) = detail(&stack, &s(&other, "access_token"), &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn multimodal_controls(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let body =
        json!({"modality": "text_to_speech", "input_text": "Hello there.", "execute_now": false});
    let (status, created) = stack
        .send(Method::POST, "/v1/multimodal/requests", &token, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = s(&created, "id");
    let (_, listed) = hub(&stack, &token, "?include=multimodal").await;
    assert_eq!(ids(&listed), vec![id.clone()]);
    assert_eq!(listed["active_count"], 1);
    assert_eq!(listed["processes"][0]["type"], "multimodal_request");
    assert_eq!(listed["processes"][0]["status"], "pending");
    refused(
        &stack,
        &token,
        &id,
        "pause",
        "multimodal request",
        "pending",
    )
    .await;
    refused(
        &stack,
        &token,
        &id,
        "resume",
        "multimodal request",
        "pending",
    )
    .await;
    let body = json!({"action": "cancel", "reason": "not needed"});
    let (status, cancelled) = control(&stack, &token, &id, body).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["summary"]["status"], "cancelled");
    assert_eq!(cancelled["detail"]["error_message"], "not needed");
    assert_eq!(cancelled["controls"][0]["reason"], "not needed");
    refused(
        &stack,
        &token,
        &id,
        "cancel",
        "multimodal request",
        "cancelled",
    )
    .await;
    let (_, live) = hub(&stack, &token, "?include=multimodal").await;
    assert_eq!(live["active_count"], 0);
}

both_backends!(
    hub_query_rules,
    execution_detail_and_access,
    pause_stops_the_stream_until_resumed,
    cancel_from_paused_keeps_the_reason,
    paused_approval_does_not_time_out,
    deployment_controls,
    context_controls,
    multimodal_controls,
);

/// Controls through another runtime replica reach the one that runs the execution (over the
/// relay), so they need the shared store: production only.
mod replicas {
    use super::*;

    async fn control_on(
        stack: &Stack,
        experience: &e2e_tests::Service,
        token: &str,
        id: &str,
        action: &str,
    ) -> Value {
        let url = experience.url(&format!("/v1/operations/processes/{id}/control"));
        let body = json!({"action": action, "reason": "from the other replica"});
        let (status, _, answer) = stack
            .call(Method::POST, &url, Some(token), Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
        answer
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pause_resume_and_cancel_through_another_runtime_reach_the_owner() {
        let llm = FakeLlm::start().await;
        let stack = Stack::start_with(Backend::Production, llm.options(10)).await;
        let runtime_b = stack.another_runtime().await;
        let experience_b = stack.experience_for(&[&runtime_b]).await;
        let (_, _, login) = stack.register().await;
        let token = s(&login, "access_token");
        // The socket's experience calls runtime A only: A owns the turns.
        let mut ws = open(&stack, &login).await;
        ws.send(json!({"type": "intent", "intent": "slowly [slow]", "agent_type": "guide"}))
            .await;
        let mut seen = ws.until("AGENT_RESPONSE_DELTA").await;
        let id = s(&data_of(&seen, "EXECUTION_STARTED"), "execution_id");

        let paused = control_on(&stack, &experience_b, &token, &id, "pause").await;
        assert_eq!(paused["summary"]["status"], "paused");
        seen.extend(ws.until("EXECUTION_PAUSED").await);
        let stored = paused["detail"]["event_count"].as_u64().unwrap();
        let until = Instant::now() + Duration::from_millis(2_200);
        while Instant::now() < until {
            let (_, d) = detail(&stack, &token, &id).await;
            assert_eq!(d["detail"]["event_count"].as_u64().unwrap(), stored, "{d}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let resumed = control_on(&stack, &experience_b, &token, &id, "resume").await;
        assert_eq!(resumed["controls"][0]["to_status"], "executing");
        let rest = ws.until_finished().await;
        assert_eq!(
            types(&rest).last().map(String::as_str),
            Some("EXECUTION_COMPLETED")
        );
        let all: Vec<Value> = seen.into_iter().chain(rest).collect();
        assert_eq!(deltas(&all), WORDS.concat());

        ws.send(json!({"type": "intent", "intent": "again [slow]", "agent_type": "guide"}))
            .await;
        let seen = ws.until("AGENT_RESPONSE_DELTA").await;
        let id = s(&data_of(&seen, "EXECUTION_STARTED"), "execution_id");
        let cancelled = control_on(&stack, &experience_b, &token, &id, "cancel").await;
        assert_eq!(cancelled["summary"]["status"], "cancelled");
        let frames = ws.until_finished().await;
        assert_eq!(
            types(&frames).last().map(String::as_str),
            Some("EXECUTION_CANCELLED")
        );
        drop(experience_b);
        drop(runtime_b);
    }
}
