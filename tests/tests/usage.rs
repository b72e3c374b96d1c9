//! Usage analytics (SPEC §11) on both backends: real turns on the agent socket (completed by the
//! fake model, failed by its `[error]`, cancelled mid-stream, lost with a killed runtime) and
//! tracked events, then the metrics, performance buckets and activity feed read through the
//! experience gateway — exact counts, latency percentiles between the extremes this test
//! measured itself, idempotent tracking, paging, tenant isolation and refused parameters.

use std::collections::HashSet;

use e2e_tests::fake_llm::FakeLlm;
use e2e_tests::ws::{open, Ws};
use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::time_util::parse_rfc3339_ms;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// What this test measured of one execution.
#[derive(Debug)]
struct Turn {
    execution_id: String,
    conversation_id: String,
    status: String,
    /// First delta − created, ms (none when nothing streamed).
    ttft: Option<i64>,
    /// Updated (ended) − created, ms.
    total: i64,
}

fn started(frames: &[Value]) -> &Value {
    &frames
        .iter()
        .find(|f| f["event_type"] == "EXECUTION_STARTED")
        .expect("EXECUTION_STARTED")["data"]
}

/// Runs one turn of the guide (cancelled after its first delta when `cancel`) and measures it
/// from the events received and the execution's record.
async fn turn(
    stack: &Stack,
    ws: &mut Ws,
    login: &Value,
    text: &str,
    conversation: Option<&str>,
    cancel: bool,
) -> Turn {
    let mut frame = json!({"type": "intent", "intent": text, "agent_type": "guide"});
    if let Some(c) = conversation {
        frame["metadata"] = json!({"conversation_id": c});
    }
    ws.send(frame).await;
    let mut frames = Vec::new();
    if cancel {
        frames = ws.until("AGENT_RESPONSE_DELTA").await;
        let id = s(started(&frames), "execution_id");
        ws.send(json!({"type": "cancel", "execution_id": id})).await;
    }
    frames.extend(ws.until_finished().await);
    let data = started(&frames);
    let execution_id = s(data, "execution_id");
    let (token, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let url = stack.rt(&format!(
        "/api/execution/{execution_id}?tenant_id={}",
        s(login, "tenant_id")
    ));
    let (_, _, record) = stack.call(Method::GET, &url, Some(&token), None).await;
    let created = record["created_at"].as_i64().unwrap();
    let first_delta = frames
        .iter()
        .find(|f| f["event_type"] == "AGENT_RESPONSE_DELTA")
        .map(|f| parse_rfc3339_ms(&s(f, "timestamp")).unwrap());
    Turn {
        conversation_id: s(data, "conversation_id"),
        status: s(&record, "status"),
        ttft: first_delta.map(|t| t - created),
        total: record["updated_at"].as_i64().unwrap() - created,
        execution_id,
    }
}

async fn get(stack: &Stack, login: &Value, path: &str) -> (StatusCode, Value) {
    stack.get(path, &s(login, "access_token")).await
}

async fn track(
    stack: &Stack,
    login: &Value,
    agent: &str,
    body: Value,
    key: &str,
) -> (StatusCode, Value) {
    let res = stack
        .http
        .post(stack.exp(&format!("/api/agents/{agent}/track")))
        .bearer_auth(s(login, "access_token"))
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Registers a second user into `owner`'s tenant.
async fn member_of(stack: &Stack, owner: &Value) -> Value {
    let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    let (_, _, invitation) = stack
        .call(
            Method::POST,
            &stack.exp("/api/tenants/current/members"),
            Some(&s(owner, "access_token")),
            Some(json!({"email": email, "role": "member"})),
        )
        .await;
    let (status, member) = stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": "pw-member-123456", "invitation_token": s(&invitation, "token")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    assert_eq!(member["tenant_id"], owner["tenant_id"]);
    member
}

fn assert_between(what: &str, value: &Value, values: &[i64]) {
    let (min, max) = (*values.iter().min().unwrap(), *values.iter().max().unwrap());
    let v = value
        .as_i64()
        .unwrap_or_else(|| panic!("{what} is {value}"));
    assert!(
        (min..=max).contains(&v),
        "{what} {v} outside the measured [{min}, {max}]"
    );
}

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
}

async fn metrics_performance_and_activity_follow_real_turns(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(2)).await;
    let (_, _, owner) = stack.register().await;
    let member = member_of(&stack, &owner).await;
    let mut ws = open(&stack, &owner).await;
    let mut ws2 = open(&stack, &member).await;

    let first = turn(&stack, &mut ws, &owner, "hello model", None, false).await;
    let again = turn(
        &stack,
        &mut ws,
        &owner,
        "and again",
        Some(&first.conversation_id),
        false,
    )
    .await;
    let failed = turn(&stack, &mut ws, &owner, "please [error]", None, false).await;
    let theirs = turn(&stack, &mut ws2, &member, "hi there", None, false).await;
    let cancelled = turn(&stack, &mut ws2, &member, "slowly now [slow]", None, true).await;
    let turns = [first, again, failed, theirs, cancelled];
    let statuses: Vec<&str> = turns.iter().map(|t| t.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["completed", "completed", "failed", "completed", "cancelled"]
    );
    assert_eq!(turns[0].conversation_id, turns[1].conversation_id);

    // Tracking: the same Idempotency-Key twice gives one event.
    let feedback = json!({"event_type": "feedback", "rating": 4, "details": {"comment": "good"}});
    let (status, one) = track(&stack, &owner, "guide", feedback.clone(), "fb-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{one}");
    assert!(s(&one, "event_id").starts_with("trk_"));
    let (status, two) = track(&stack, &owner, "guide", feedback, "fb-1").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        one["event_id"], two["event_id"],
        "the first answer, replayed"
    );
    let other = json!({"event_type": "feedback", "rating": 5});
    let (status, conflict) = track(&stack, &owner, "guide", other, "fb-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["error"]["code"], "idempotency_conflict");
    let (status, _) = track(
        &stack,
        &member,
        "guide",
        json!({"event_type": "feedback", "rating": 1}),
        "fb-2",
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let external = json!({"event_type": "invocation", "outcome": "failure", "latency_ms": 1234});
    let (status, _) = track(&stack, &member, "guide", external, "inv-1").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, bad) = track(
        &stack,
        &owner,
        "guide",
        json!({"event_type": "error", "rating": 3}),
        "bad",
    )
    .await;
    assert_eq!(
        (status, field(&bad)),
        (StatusCode::UNPROCESSABLE_ENTITY, "rating"),
        "{bad}"
    );

    let (status, m) = get(&stack, &owner, "/api/agents/guide/metrics").await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["agent_id"], "guide");
    assert_eq!(m["window"], "24h");
    assert_eq!(
        (
            m["completed"].as_i64(),
            m["failed"].as_i64(),
            m["cancelled"].as_i64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(
        m["invocations"], 6,
        "five executions and one tracked invocation"
    );
    assert_eq!(m["success_rate"].as_f64(), Some(0.6));
    assert_eq!(m["unique_users"], 2);
    let conversations: HashSet<&str> = turns.iter().map(|t| t.conversation_id.as_str()).collect();
    assert_eq!(m["conversations"], conversations.len());
    assert_eq!(m["feedback"]["count"], 2);
    assert_eq!(m["feedback"]["avg_rating"].as_f64(), Some(2.5));
    let ttfts: Vec<i64> = turns.iter().filter_map(|t| t.ttft).collect();
    let totals: Vec<i64> = turns.iter().map(|t| t.total).collect();
    assert_eq!(ttfts.len(), 4, "every turn but the failed one streamed");
    let latency = &m["latency_ms"];
    assert_between("ttft_p50", &latency["ttft_p50"], &ttfts);
    assert_between("ttft_p95", &latency["ttft_p95"], &ttfts);
    assert_between("total_p50", &latency["total_p50"], &totals);
    assert_between("total_p95", &latency["total_p95"], &totals);
    assert!(latency["total_p50"].as_i64() <= latency["total_p95"].as_i64());
    let (_, month) = get(&stack, &owner, "/api/agents/guide/metrics?window=30d").await;
    assert_eq!(
        (month["window"].as_str(), month["invocations"].as_i64()),
        (Some("30d"), Some(6))
    );

    // Performance buckets add up to the totals.
    for (bucket, count) in [("hour", Some(24)), ("day", None)] {
        let (status, p) = get(
            &stack,
            &owner,
            &format!("/api/agents/guide/performance?bucket={bucket}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        let buckets = p["buckets"].as_array().unwrap();
        if let Some(count) = count {
            assert_eq!(buckets.len(), count);
        }
        let sum = |key: &str| {
            buckets
                .iter()
                .map(|b| b[key].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(sum("invocations"), 6, "{bucket}");
        assert_eq!(sum("errors"), 2, "a failed execution and a tracked failure");
        let busy: Vec<&Value> = buckets
            .iter()
            .filter(|b| b["invocations"].as_i64() > Some(0))
            .collect();
        for b in busy.iter().filter(|b| !b["total_p95_ms"].is_null()) {
            assert_between("total_p95_ms", &b["total_p95_ms"], &totals);
        }
        let starts: Vec<&str> = buckets
            .iter()
            .map(|b| b["start"].as_str().unwrap())
            .collect();
        assert!(starts.windows(2).all(|w| w[0] < w[1]), "oldest first");
    }

    // Activity: every execution and tracked event, newest first, paged without loss.
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/agents/guide/activity?limit=3&cursor={c}"),
            None => "/api/agents/guide/activity?limit=3".to_owned(),
        };
        let (status, page) = get(&stack, &member, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page_items = page["items"].as_array().unwrap();
        assert!(page_items.len() <= 3);
        items.extend(page_items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        items.len(),
        8,
        "five executions, three tracked events: {items:?}"
    );
    let at: Vec<i64> = items
        .iter()
        .map(|i| parse_rfc3339_ms(&s(i, "at")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first: {at:?}");
    let executions: HashSet<String> = items
        .iter()
        .filter(|i| i["kind"] == "execution")
        .map(|i| s(i, "execution_id"))
        .collect();
    let ours: HashSet<String> = turns.iter().map(|t| t.execution_id.clone()).collect();
    assert_eq!(executions, ours);
    assert_eq!(items.iter().filter(|i| i["kind"] == "tracked").count(), 3);
    let failed_item = items
        .iter()
        .find(|i| i["execution_id"] == turns[2].execution_id.as_str())
        .unwrap();
    assert!(
        s(failed_item, "summary").starts_with("execution failed"),
        "{failed_item}"
    );
    assert_eq!(failed_item["user_id"], owner["user"]["id"]);

    // Another tenant sees none of it; unknown agents and bad parameters are refused.
    let (_, _, stranger) = stack.register().await;
    let (status, theirs) = get(&stack, &stranger, "/api/agents/guide/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            theirs["invocations"].as_i64(),
            theirs["unique_users"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert!(theirs["success_rate"].is_null() && theirs["latency_ms"]["total_p50"].is_null());
    let (_, feed) = get(&stack, &stranger, "/api/agents/guide/activity").await;
    assert_eq!(feed["items"], json!([]));
    let unknown = format!("wrp_{}", uuid::Uuid::new_v4().simple());
    for path in [
        format!("/api/agents/{unknown}/metrics"),
        format!("/api/agents/{unknown}/activity"),
        "/api/agents/liaison.finance/performance".to_owned(),
    ] {
        let (status, body) = get(&stack, &owner, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = track(
        &stack,
        &owner,
        &unknown,
        json!({"event_type": "custom"}),
        "k",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (path, name) in [
        ("/api/agents/guide/metrics?window=2h", "window"),
        ("/api/agents/guide/performance?window=1w", "window"),
        ("/api/agents/guide/performance?bucket=week", "bucket"),
    ] {
        let (status, body) = get(&stack, &owner, path).await;
        assert_eq!(
            (status, field(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, name),
            "{path}: {body}"
        );
    }
}

async fn a_turn_lost_with_its_runtime_counts_as_failed(backend: Backend) {
    let llm = FakeLlm::start().await;
    let mut options = llm.options(2);
    options
        .runtime_env
        .push(("APP__EXECUTIONS__LEASE_MS".into(), "1500".into()));
    let mut stack = Stack::start_with(backend, options).await;
    let (_, _, login) = stack.register().await;
    let mut ws = open(&stack, &login).await;
    ws.send(json!({"type": "intent", "intent": "interrupted [slow]", "agent_type": "guide"}))
        .await;
    ws.until("AGENT_RESPONSE_DELTA").await;
    let runtime = stack.runtime.as_mut().unwrap();
    runtime.kill().await;
    runtime.restart().await;
    let frames = ws.until_finished().await;
    assert_eq!(frames.last().unwrap()["event_type"], "EXECUTION_FAILED");
    let (status, m) = get(&stack, &login, "/api/agents/guide/metrics?window=1h").await;
    assert_eq!(status, StatusCode::OK, "{m}");
    // The hour may have turned since the turn began; the day window holds it either way.
    let (_, day) = get(&stack, &login, "/api/agents/guide/metrics").await;
    assert_eq!(
        (day["failed"].as_i64(), day["invocations"].as_i64()),
        (Some(1), Some(1)),
        "{day}"
    );
    assert_eq!(day["success_rate"].as_f64(), Some(0.0));
    assert!(m["failed"].as_i64() <= Some(1));
    assert!(day["latency_ms"]["total_p50"].as_i64() > Some(0));
}

both_backends!(
    metrics_performance_and_activity_follow_real_turns,
    a_turn_lost_with_its_runtime_counts_as_failed,
);
