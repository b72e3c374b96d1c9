//! Outcomes (SPEC §16) on both backends, through the experience gateway: posting, listing and
//! filtering events (idempotent, paged), the trend rule on known series (the spec's worked
//! examples, odd counts, a zero previous mean, the sign flip of latency and cost), the dashboard's
//! exact shape and counts, the two outcomes every finished execution records, tenant isolation,
//! the viewer's read-only access, and refused input that stores nothing.

use e2e_tests::fake_llm::FakeLlm;
use e2e_tests::ws::open;
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Posts an outcome with `key` as its `Idempotency-Key`.
async fn post_keyed(stack: &Stack, token: &str, body: Value, key: &str) -> (StatusCode, Value) {
    let res = stack
        .http
        .post(stack.exp("/v1/outcomes/events"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Posts an outcome with a fresh key; asserts `201`.
async fn post(stack: &Stack, token: &str, body: Value) -> Value {
    let key = uuid::Uuid::new_v4().to_string();
    let (status, event) = post_keyed(stack, token, body, &key).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

fn outcome(domain: &str, event_type: &str, metric: &str, value: f64, at: &str) -> Value {
    json!({"domain": domain, "event_type": event_type, "metric_type": metric, "value": value,
           "occurred_at": at})
}

/// `2026-01-01T00:00:<ss>Z`: an instant per index, increasing.
fn at(i: usize) -> String {
    format!("2026-01-01T00:{:02}:{:02}Z", i / 60, i % 60)
}

async fn get_ok(stack: &Stack, token: &str, path: &str) -> Value {
    let (status, body) = stack.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(e, "id"))
        .collect()
}

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
}

/// Registers a second user into `owner`'s tenant with `role`.
async fn member_of(stack: &Stack, owner: &Value, role: &str) -> Value {
    let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    let (_, _, invitation) = stack
        .call(
            Method::POST,
            &stack.exp("/api/tenants/current/members"),
            Some(&s(owner, "access_token")),
            Some(json!({"email": email, "role": role})),
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

async fn events_are_stored_listed_filtered_and_idempotent(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    let body = json!({"domain": "support", "event_type": "ticket.resolved",
                      "metric_type": "quality_score", "value": 4.5,
                      "occurred_at": "2026-01-01T10:00:00Z", "metadata": {"ticket": 7}});
    let (status, first) = post_keyed(&stack, &token, body.clone(), "k-1").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(s(&first, "id").starts_with("outc_"), "{first}");
    assert_eq!(first["domain"], "support");
    assert_eq!(first["event_type"], "ticket.resolved");
    assert_eq!(first["metric_type"], "quality_score");
    assert_eq!(first["value"], 4.5);
    assert_eq!(first["occurred_at"], "2026-01-01T10:00:00Z");
    assert_eq!(first["metadata"], json!({"ticket": 7}));
    assert_eq!(first["source"], "api");
    assert_eq!(first["user_id"], owner["user"]["id"], "{owner}");
    // The same key and body: the first answer; another body: 409, nothing stored.
    let (status, again) = post_keyed(&stack, &token, body.clone(), "k-1").await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    let mut other = body.clone();
    other["value"] = json!(1);
    let (status, conflict) = post_keyed(&stack, &token, other, "k-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["error"]["code"], "idempotency_conflict");

    // occurred_at defaults to now.
    let before = platform_sdk::time_util::now_ms();
    let now = post(
        &stack,
        &token,
        json!({"domain": "billing", "event_type": "invoice.paid", "metric_type": "cost_usd", "value": 12}),
    )
    .await;
    let at_ms = platform_sdk::time_util::parse_rfc3339_ms(&s(&now, "occurred_at")).unwrap();
    assert!(
        at_ms >= before - 5 && at_ms <= platform_sdk::time_util::now_ms() + 5,
        "{now}"
    );
    assert_eq!(
        (&now["metadata"], &now["value"]),
        (&json!({}), &json!(12.0))
    );

    let early = post(
        &stack,
        &token,
        outcome(
            "support",
            "ticket.opened",
            "latency_ms",
            300.0,
            "2026-01-01T09:00:00Z",
        ),
    )
    .await;
    let late = post(
        &stack,
        &token,
        outcome(
            "support",
            "ticket.resolved",
            "success_rate",
            1.0,
            "2026-01-01T11:00:00Z",
        ),
    )
    .await;

    // Newest occurred_at first, whatever the posting order.
    let all = get_ok(&stack, &token, "/v1/outcomes/events").await;
    assert_eq!(
        ids(&all),
        [
            s(&now, "id"),
            s(&late, "id"),
            s(&first, "id"),
            s(&early, "id")
        ]
    );
    assert_eq!(all["next_cursor"], Value::Null);
    let support = get_ok(&stack, &token, "/v1/outcomes/events?domain=support").await;
    assert_eq!(
        ids(&support),
        [s(&late, "id"), s(&first, "id"), s(&early, "id")]
    );
    let resolved = get_ok(
        &stack,
        &token,
        "/v1/outcomes/events?event_type=ticket.resolved",
    )
    .await;
    assert_eq!(ids(&resolved), [s(&late, "id"), s(&first, "id")]);
    let latency = get_ok(&stack, &token, "/v1/outcomes/events?metric_type=latency_ms").await;
    assert_eq!(ids(&latency), [s(&early, "id")]);
    let both = get_ok(
        &stack,
        &token,
        "/v1/outcomes/events?domain=support&event_type=ticket.resolved&metric_type=success_rate",
    )
    .await;
    assert_eq!(ids(&both), [s(&late, "id")]);
    let none = get_ok(&stack, &token, "/v1/outcomes/events?domain=nowhere").await;
    assert_eq!(ids(&none), Vec::<String>::new());

    // Pages of 3 then 1.
    let page = get_ok(&stack, &token, "/v1/outcomes/events?limit=3").await;
    assert_eq!(ids(&page), ids(&all)[..3]);
    let cursor = s(&page, "next_cursor");
    let rest = get_ok(
        &stack,
        &token,
        &format!("/v1/outcomes/events?limit=3&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&rest), ids(&all)[3..]);
    assert_eq!(rest["next_cursor"], Value::Null);
}

async fn trend_of(stack: &Stack, token: &str, path: &str) -> Value {
    get_ok(stack, token, &format!("/v1/outcomes/trends/{path}")).await
}

/// Posts `values` of `metric` in `domain`, newest first, with increasing `occurred_at` from
/// index `from`: the trend must order them by `occurred_at`, not by arrival.
async fn series(
    stack: &Stack,
    token: &str,
    domain: &str,
    metric: &str,
    values: &[f64],
    from: usize,
) {
    for (i, v) in values.iter().enumerate().rev() {
        post(
            stack,
            token,
            outcome(domain, "measured", metric, *v, &at(from + i)),
        )
        .await;
    }
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-9)
}

async fn trends_follow_the_rule(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    // The worked examples of SPEC §16.
    series(
        &stack,
        &token,
        "spec",
        "success_rate",
        &[0.40, 0.45, 0.80, 0.90],
        0,
    )
    .await;
    series(
        &stack,
        &token,
        "spec",
        "latency_ms",
        &[200.0, 200.0, 100.0, 100.0],
        0,
    )
    .await;
    let t = trend_of(&stack, &token, "success_rate").await;
    assert_eq!(t["metric_type"], "success_rate");
    assert_eq!((&t["domain"], &t["window"]), (&json!("all"), &json!(20)));
    assert_eq!(t["direction"], "improving", "{t}");
    assert_eq!(t["sample_size"], 4);
    assert_eq!(t["values"], json!([0.40, 0.45, 0.80, 0.90]));
    assert!(
        close(&t["previous_avg"], 0.425) && close(&t["current_avg"], 0.85),
        "{t}"
    );
    let t = trend_of(&stack, &token, "latency_ms?domain=spec").await;
    assert_eq!(
        (&t["direction"], &t["domain"]),
        (&json!("improving"), &json!("spec"))
    );
    assert_eq!(
        (&t["previous_avg"], &t["current_avg"]),
        (&json!(200.0), &json!(100.0))
    );

    // Lower is better for cost: rising cost is declining; rising quality improving.
    series(
        &stack,
        &token,
        "flip",
        "cost_usd",
        &[1.0, 1.0, 2.0, 2.0],
        10,
    )
    .await;
    series(
        &stack,
        &token,
        "flip",
        "quality_score",
        &[1.0, 1.0, 2.0, 2.0],
        10,
    )
    .await;
    assert_eq!(
        trend_of(&stack, &token, "cost_usd").await["direction"],
        "declining"
    );
    let t = trend_of(&stack, &token, "quality_score?domain=flip").await;
    assert_eq!(t["direction"], "improving");

    // Odd n: the newer half is one longer. older [1, 1], newer [1, 2, 3].
    series(
        &stack,
        &token,
        "odd",
        "quality_score",
        &[1.0, 1.0, 1.0, 2.0, 3.0],
        20,
    )
    .await;
    let t = trend_of(&stack, &token, "quality_score?domain=odd").await;
    assert_eq!(
        (&t["sample_size"], &t["direction"]),
        (&json!(5), &json!("improving"))
    );
    assert_eq!(
        (&t["previous_avg"], &t["current_avg"]),
        (&json!(1.0), &json!(2.0))
    );
    // A window takes the latest values only: [1, 2, 3] → older [1], newer [2, 3].
    let t = trend_of(&stack, &token, "quality_score?domain=odd&window=3").await;
    assert_eq!(
        (&t["window"], &t["values"]),
        (&json!(3), &json!([1.0, 2.0, 3.0]))
    );
    assert_eq!(
        (&t["previous_avg"], &t["current_avg"]),
        (&json!(1.0), &json!(2.5))
    );

    // A zero previous mean: the sign of the change decides; no change is stable.
    series(
        &stack,
        &token,
        "zero",
        "success_rate",
        &[0.0, 0.0, 0.5, 0.5],
        30,
    )
    .await;
    series(
        &stack,
        &token,
        "flat",
        "success_rate",
        &[0.0, 0.0, 0.0, 0.0],
        30,
    )
    .await;
    series(
        &stack,
        &token,
        "zero",
        "latency_ms",
        &[0.0, 0.0, 5.0, 5.0],
        30,
    )
    .await;
    let t = trend_of(&stack, &token, "success_rate?domain=zero").await;
    assert_eq!(
        (&t["direction"], &t["previous_avg"]),
        (&json!("improving"), &json!(0.0))
    );
    let t = trend_of(&stack, &token, "success_rate?domain=flat").await;
    assert_eq!(t["direction"], "stable");
    let t = trend_of(&stack, &token, "latency_ms?domain=zero").await;
    assert_eq!(t["direction"], "declining");

    // Fewer than 2 values: stable, the older half empty.
    series(&stack, &token, "single", "cost_usd", &[3.0], 40).await;
    let t = trend_of(&stack, &token, "cost_usd?domain=single").await;
    assert_eq!(
        (&t["direction"], &t["sample_size"]),
        (&json!("stable"), &json!(1))
    );
    assert_eq!(
        (&t["previous_avg"], &t["current_avg"]),
        (&Value::Null, &json!(3.0))
    );
    let t = trend_of(&stack, &token, "cost_usd?domain=empty").await;
    assert_eq!(
        (&t["direction"], &t["sample_size"]),
        (&json!("stable"), &json!(0))
    );
    assert_eq!(
        (&t["values"], &t["current_avg"]),
        (&json!([]), &Value::Null)
    );

    // All domains: success_rate has 4 + 4 + 4 values; the window of 20 takes all 12, oldest
    // first by occurred_at (spec 0..4, zero and flat 30..34 interleaved by instant).
    let t = trend_of(&stack, &token, "success_rate").await;
    assert_eq!(t["sample_size"], 12, "{t}");

    // Refusals.
    let (status, body) = stack.get("/v1/outcomes/trends/speed", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for bad in ["1", "1001", "x", "-2"] {
        let (status, body) = stack
            .get(
                &format!("/v1/outcomes/trends/cost_usd?window={bad}"),
                &token,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(field(&body), "window");
    }
}

async fn the_dashboard_shows_trends_recent_events_and_exact_totals(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    // 12 events: support 4 success + 3 quality; billing 5 cost.
    series(
        &stack,
        &token,
        "support",
        "success_rate",
        &[0.5, 0.5, 0.9, 0.9],
        0,
    )
    .await;
    for (i, v) in [3.0, 4.0, 5.0].iter().enumerate() {
        post(
            &stack,
            &token,
            outcome("support", "survey", "quality_score", *v, &at(10 + i)),
        )
        .await;
    }
    for (i, v) in [5.0, 5.0, 5.0, 5.0, 5.0].iter().enumerate() {
        post(
            &stack,
            &token,
            outcome("billing", "invoice", "cost_usd", *v, &at(20 + i)),
        )
        .await;
    }

    let d = get_ok(&stack, &token, "/v1/outcomes/dashboard").await;
    let metrics: Vec<&str> = d["trends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metric_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        metrics,
        ["success_rate", "quality_score", "latency_ms", "cost_usd"]
    );
    let t = &d["trends"];
    assert_eq!(
        (&t[0]["direction"], &t[0]["sample_size"]),
        (&json!("improving"), &json!(4))
    );
    assert_eq!(
        (&t[1]["values"], &t[1]["direction"]),
        (&json!([3.0, 4.0, 5.0]), &json!("improving"))
    );
    assert_eq!(
        (&t[2]["sample_size"], &t[2]["direction"]),
        (&json!(0), &json!("stable"))
    );
    assert_eq!(
        (&t[3]["sample_size"], &t[3]["direction"]),
        (&json!(5), &json!("stable"))
    );
    assert!(d["trends"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["domain"] == "all" && t["window"] == 20));
    assert_eq!(
        d["summary"],
        json!({"total_events": 12, "domains": ["billing", "support"],
               "event_types": ["invoice", "measured", "survey"],
               "metric_counts": {"success_rate": 4, "quality_score": 3, "latency_ms": 0, "cost_usd": 5}})
    );
    // Recent events: 10 by default, newest occurred_at first (the billing ones, then survey).
    let recent = d["recent_events"].as_array().unwrap();
    assert_eq!(recent.len(), 10);
    let at_of = |e: &Value| s(e, "occurred_at");
    assert_eq!(at_of(&recent[0]), at(24));
    assert_eq!(at_of(&recent[9]), at(2));
    assert!(recent.windows(2).all(|w| at_of(&w[0]) > at_of(&w[1])));

    // One domain, a window and a limit.
    let d = get_ok(
        &stack,
        &token,
        "/v1/outcomes/dashboard?domain=support&window=2&recent_limit=3",
    )
    .await;
    assert_eq!(
        d["summary"],
        json!({"total_events": 7, "domains": ["support"], "event_types": ["measured", "survey"],
               "metric_counts": {"success_rate": 4, "quality_score": 3, "latency_ms": 0, "cost_usd": 0}})
    );
    assert_eq!(d["trends"][0]["values"], json!([0.9, 0.9]));
    assert_eq!(
        (&d["trends"][0]["direction"], &d["trends"][0]["domain"]),
        (&json!("stable"), &json!("support"))
    );
    assert_eq!(d["trends"][3]["sample_size"], 0);
    let recent: Vec<String> = d["recent_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(at_of)
        .collect();
    assert_eq!(recent, [at(12), at(11), at(10)]);
    let d = get_ok(&stack, &token, "/v1/outcomes/dashboard?recent_limit=0").await;
    assert_eq!(d["recent_events"], json!([]));

    for (query, name) in [
        ("window=0", "window"),
        ("recent_limit=101", "recent_limit"),
        ("domain=", "domain"),
    ] {
        let (status, body) = stack
            .get(&format!("/v1/outcomes/dashboard?{query}"), &token)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(field(&body), name);
    }
}

async fn every_finished_execution_records_its_outcomes(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(2)).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let mut ws = open(&stack, &owner).await;

    let mut executions = Vec::new();
    for (text, cancel) in [
        ("hello model", false),
        ("please [error]", false),
        ("slowly [slow]", true),
    ] {
        ws.send(json!({"type": "intent", "intent": text, "agent_type": "guide"}))
            .await;
        if cancel {
            let frames = ws.until("AGENT_RESPONSE_DELTA").await;
            let started = e2e_tests::ws::data_of(&frames, "EXECUTION_STARTED");
            ws.send(json!({"type": "cancel", "execution_id": s(&started, "execution_id")}))
                .await;
        }
        let frames = ws.until_finished().await;
        let id = frames
            .iter()
            .find_map(|f| f["data"]["execution_id"].as_str())
            .map(str::to_owned)
            .unwrap();
        executions.push(id);
    }
    let (service, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let mut expected = Vec::new();
    for id in &executions {
        let url = stack.rt(&format!(
            "/api/execution/{id}?tenant_id={}",
            s(&owner, "tenant_id")
        ));
        let (_, _, record) = stack.call(Method::GET, &url, Some(&service), None).await;
        let latency =
            record["updated_at"].as_i64().unwrap() - record["created_at"].as_i64().unwrap();
        expected.push((id.clone(), s(&record, "status"), latency));
    }
    let statuses: Vec<&str> = expected.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(statuses, ["completed", "failed", "cancelled"]);

    let list = get_ok(&stack, &token, "/v1/outcomes/events?domain=agent:guide").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 6, "{list}");
    for (id, status, latency) in &expected {
        let mine: Vec<&Value> = items
            .iter()
            .filter(|e| e["metadata"]["execution_id"] == json!(id))
            .collect();
        assert_eq!(mine.len(), 2, "{id}: {list}");
        for e in &mine {
            assert_eq!(e["event_type"], format!("execution.{status}"));
            assert_eq!(
                (&e["source"], &e["metadata"]["status"]),
                (&json!("execution"), &json!(status))
            );
            assert_eq!(e["user_id"], owner["user"]["id"]);
        }
        let value = |metric: &str| {
            mine.iter()
                .find(|e| e["metric_type"] == metric)
                .map(|e| e["value"].as_f64().unwrap())
                .unwrap()
        };
        let success = if status == "completed" { 1.0 } else { 0.0 };
        assert_eq!(value("success_rate"), success, "{id}");
        assert_eq!(value("latency_ms"), *latency as f64, "{id}");
    }

    // Their trend: success [1, 0, 0] → older [1], newer [0, 0]: declining.
    let t = get_ok(
        &stack,
        &token,
        "/v1/outcomes/trends/success_rate?domain=agent:guide",
    )
    .await;
    assert_eq!(
        (&t["values"], &t["direction"]),
        (&json!([1.0, 0.0, 0.0]), &json!("declining"))
    );
    let d = get_ok(&stack, &token, "/v1/outcomes/dashboard?domain=agent:guide").await;
    assert_eq!(
        d["summary"],
        json!({"total_events": 6, "domains": ["agent:guide"],
               "event_types": ["execution.cancelled", "execution.completed", "execution.failed"],
               "metric_counts": {"success_rate": 3, "quality_score": 0, "latency_ms": 3, "cost_usd": 0}})
    );
}

async fn tenants_are_isolated_and_viewers_only_read(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let mine = post(
        &stack,
        &token,
        outcome("support", "x", "cost_usd", 2.0, &at(1)),
    )
    .await;

    let (_, _, stranger) = stack.register().await;
    let theirs = s(&stranger, "access_token");
    let list = get_ok(&stack, &theirs, "/v1/outcomes/events").await;
    assert_eq!(list["items"], json!([]));
    let d = get_ok(&stack, &theirs, "/v1/outcomes/dashboard").await;
    assert_eq!(
        d["summary"],
        json!({"total_events": 0, "domains": [], "event_types": [],
               "metric_counts": {"success_rate": 0, "quality_score": 0, "latency_ms": 0, "cost_usd": 0}})
    );
    assert_eq!(d["recent_events"], json!([]));
    assert!(d["trends"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["sample_size"] == 0));
    let t = get_ok(&stack, &theirs, "/v1/outcomes/trends/cost_usd").await;
    assert_eq!(t["sample_size"], 0);
    // A tenant_id in the query is ignored: identity comes from the token.
    let list = get_ok(
        &stack,
        &theirs,
        &format!("/v1/outcomes/events?tenant_id={}", s(&owner, "tenant_id")),
    )
    .await;
    assert_eq!(list["items"], json!([]));

    // A viewer of the owner's tenant reads, and may not post.
    let viewer = member_of(&stack, &owner, "viewer").await;
    let vt = s(&viewer, "access_token");
    let list = get_ok(&stack, &vt, "/v1/outcomes/events").await;
    assert_eq!(ids(&list), [s(&mine, "id")]);
    let (status, body) = post_keyed(
        &stack,
        &vt,
        outcome("a", "b", "cost_usd", 1.0, &at(2)),
        "v-1",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "missing_scope");
    // A member posts.
    let member = member_of(&stack, &owner, "member").await;
    post(
        &stack,
        &s(&member, "access_token"),
        outcome("a", "b", "cost_usd", 1.0, &at(3)),
    )
    .await;
    let list = get_ok(&stack, &token, "/v1/outcomes/events").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    // No token: 401.
    let (status, _, _) = stack
        .call(Method::GET, &stack.exp("/v1/outcomes/events"), None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn bad_input_is_refused_and_stores_nothing(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let good = outcome("support", "x", "quality_score", 1.0, &at(0));
    let with = |key: &str, v: Value| {
        let mut body = good.clone();
        body[key] = v;
        body
    };
    let cases = [
        (with("domain", json!("")), "domain"),
        (with("domain", json!("   ")), "domain"),
        (with("domain", json!("d".repeat(201))), "domain"),
        (with("event_type", json!("")), "event_type"),
        (with("event_type", Value::Null), "event_type"),
        (with("metric_type", json!("speed")), "metric_type"),
        (with("value", json!("NaN")), "value"),
        (with("value", json!("Infinity")), "value"),
        (with("value", Value::Null), "value"),
        (with("occurred_at", json!("yesterday")), "occurred_at"),
        (
            with("occurred_at", json!("2026-02-30T00:00:00Z")),
            "occurred_at",
        ),
        (with("metadata", json!("text")), "metadata"),
        (with("unknown", json!(1)), "payload"),
    ];
    for (body, name) in cases {
        let (status, answer) = post_keyed(
            &stack,
            &token,
            body.clone(),
            &uuid::Uuid::new_v4().to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "validation_failed");
        assert_eq!(field(&answer), name, "{body}: {answer}");
    }
    // A number JSON cannot hold as a finite double is not JSON this platform reads.
    let res = stack
        .http
        .post(stack.exp("/v1/outcomes/events"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"domain":"d","event_type":"e","metric_type":"cost_usd","value":1e999}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    for (query, name) in [
        ("metric_type=speed", "metric_type"),
        ("domain=", "domain"),
        ("limit=0", "limit"),
        ("cursor=nope", "cursor"),
    ] {
        let (status, body) = stack
            .get(&format!("/v1/outcomes/events?{query}"), &token)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(field(&body), name);
    }
    let list = get_ok(&stack, &token, "/v1/outcomes/events").await;
    assert_eq!(list["items"], json!([]));
    let d = get_ok(&stack, &token, "/v1/outcomes/dashboard").await;
    assert_eq!(d["summary"]["total_events"], 0);
}

both_backends!(
    events_are_stored_listed_filtered_and_idempotent,
    trends_follow_the_rule,
    the_dashboard_shows_trends_recent_events_and_exact_totals,
    every_finished_execution_records_its_outcomes,
    tenants_are_isolated_and_viewers_only_read,
    bad_input_is_refused_and_stores_nothing,
);
