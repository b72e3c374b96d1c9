//! Trust and compliance (SPEC §10) on both backends, read through the experience gateway. An
//! agent is driven with known outcomes — turns completed by the builtin provider or the fake
//! model (with and without a rationale), failed by its `[error]`, slower than the SLO, cancelled
//! by the user; tracked feedback, failures, errors — and every dimension must equal the value
//! computed by hand from the formula of docs/adr/0020 (v ← 0.8·v + 0.2·x from 0.5). Alerts are
//! read from the runtime's `trust_alerts` table; compliance counts rows written into the
//! governance tables directly (the policy engine that writes them is tested on its own).

use e2e_tests::fake_llm::FakeLlm;
use e2e_tests::ws::{data_of, open, Ws};
use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::time_util::parse_rfc3339_ms;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Float equality for values computed in a different order than the runtime's.
fn close(actual: &Value, expected: f64) -> bool {
    actual.as_f64().is_some_and(|a| (a - expected).abs() < 1e-9)
}

/// Asserts the four dimensions, the aggregate, the count and the confidence.
fn assert_trust(t: &Value, [c, r, h, tr]: [f64; 4], count: i64) {
    let d = &t["dimensions"];
    for (name, want) in [
        ("competence", c),
        ("reliability", r),
        ("honesty", h),
        ("transparency", tr),
    ] {
        assert!(close(&d[name], want), "{name}: {} ≠ {want} in {t}", d[name]);
    }
    assert!(close(&t["aggregate"], (c + r + h + tr) / 4.0), "{t}");
    assert_eq!(t["evidence_count"], count, "{t}");
    let confidence = (count as f64 / 20.0).min(1.0);
    assert!(close(&t["confidence"], confidence), "{t}");
}

/// Runs one guide turn in a new conversation; cancels it at its first delta when `cancel`.
/// Returns how it ended.
async fn turn(ws: &mut Ws, text: &str, cancel: bool) -> String {
    ws.send(json!({"type": "intent", "intent": text, "agent_type": "guide"}))
        .await;
    let mut frames = Vec::new();
    if cancel {
        frames = ws.until("AGENT_RESPONSE_DELTA").await;
        let id = s(&data_of(&frames, "EXECUTION_STARTED"), "execution_id");
        ws.send(json!({"type": "cancel", "execution_id": id})).await;
    }
    frames.extend(ws.until_finished().await);
    frames.last().unwrap()["event_type"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn track(stack: &Stack, login: &Value, agent: &str, body: Value) {
    let path = format!("/api/agents/{agent}/track");
    let token = s(login, "access_token");
    let (status, answer) = stack.send(Method::POST, &path, &token, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}

async fn trust(stack: &Stack, login: &Value, agent: &str) -> Value {
    let path = format!("/api/governance/trust/{agent}");
    let (status, t) = stack.get(&path, &s(login, "access_token")).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["agent_id"], agent);
    t
}

fn aggregates(t: &Value) -> Vec<f64> {
    t["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["aggregate"].as_f64().unwrap())
        .collect()
}

async fn executions_and_tracked_events_move_the_dimensions(backend: Backend) {
    let llm = FakeLlm::start().await;
    let stack = Stack::start_with(backend, llm.options(2)).await;
    let (_, _, owner) = stack.register().await;
    let mut ws = open(&stack, &owner).await;

    // (competence, reliability, honesty, transparency), n: the hand computation after each step.
    assert_eq!(
        turn(&mut ws, "hello model", false).await,
        "EXECUTION_COMPLETED"
    );
    let one = trust(&stack, &owner, "guide").await;
    assert_trust(&one, [0.6, 0.6, 0.6, 0.4], 1); // no rationale: transparency 0; clean: honesty 1
    assert_eq!(
        turn(&mut ws, "what first? [rationale]", false).await,
        "EXECUTION_COMPLETED"
    );
    assert_trust(
        &trust(&stack, &owner, "guide").await,
        [0.68, 0.68, 0.68, 0.52],
        2,
    );
    assert_eq!(
        turn(&mut ws, "please [error]", false).await,
        "EXECUTION_FAILED"
    );
    assert_trust(
        &trust(&stack, &owner, "guide").await,
        [0.544, 0.544, 0.68, 0.52],
        3,
    );
    assert_eq!(
        turn(&mut ws, "slowly now [slow]", true).await,
        "EXECUTION_CANCELLED"
    );
    let after_cancel = trust(&stack, &owner, "guide").await;
    assert_trust(&after_cancel, [0.544, 0.544, 0.68, 0.52], 3); // the user's cancel: no evidence

    track(
        &stack,
        &owner,
        "guide",
        json!({"event_type": "feedback", "rating": 4}),
    )
    .await;
    let c = 0.8 * 0.544 + 0.2 * 0.75;
    assert_trust(
        &trust(&stack, &owner, "guide").await,
        [c, 0.544, 0.68, 0.52],
        4,
    );
    let failure = json!({"event_type": "invocation", "outcome": "failure"});
    track(&stack, &owner, "guide", failure).await;
    track(&stack, &owner, "guide", json!({"event_type": "custom"})).await; // no evidence
    track(&stack, &owner, "guide", json!({"event_type": "feedback"})).await; // unrated: none
    let r = 0.8 * 0.544;
    assert_trust(&trust(&stack, &owner, "guide").await, [c, r, 0.68, 0.52], 5);
    let success = json!({"event_type": "invocation", "outcome": "success", "latency_ms": 5});
    track(&stack, &owner, "guide", success).await;
    let r = 0.8 * r + 0.2;
    let last = trust(&stack, &owner, "guide").await;
    assert_trust(&last, [c, r, 0.68, 0.52], 6);

    // One history point per piece of evidence, oldest first.
    let expected = [
        (0.6 + 0.6 + 0.6 + 0.4) / 4.0,
        (0.68 + 0.68 + 0.68 + 0.52) / 4.0,
        (0.544 + 0.544 + 0.68 + 0.52) / 4.0,
        (c + 0.544 + 0.68 + 0.52) / 4.0,
        (c + 0.8 * 0.544 + 0.68 + 0.52) / 4.0,
        (c + r + 0.68 + 0.52) / 4.0,
    ];
    let history = aggregates(&last);
    assert_eq!(history.len(), expected.len(), "{last}");
    for (got, want) in history.iter().zip(expected) {
        assert!((got - want).abs() < 1e-9, "{history:?} vs {expected:?}");
    }
    let at: Vec<i64> = last["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| parse_rfc3339_ms(p["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{at:?}");
    let calculated_at = parse_rfc3339_ms(&s(&last, "calculated_at"));
    assert_eq!(calculated_at, at.last().copied());

    // The trust is the tenant's: another tenant's guide has none of this evidence.
    let (_, _, other) = stack.register().await;
    assert_trust(&trust(&stack, &other, "guide").await, [0.5; 4], 0);
}

async fn latency_above_the_slo_counts_against_reliability(backend: Backend) {
    let llm = FakeLlm::start().await;
    let mut options = llm.options(2);
    // `[slow]` streams 12 chunks 150 ms apart: ~1.8 s, well above this objective.
    options
        .runtime_env
        .push(("APP__AGENTS__LATENCY_SLO_MS".into(), "1000".into()));
    let stack = Stack::start_with(backend, options).await;
    let (_, _, owner) = stack.register().await;
    let mut ws = open(&stack, &owner).await;
    assert_eq!(
        turn(&mut ws, "take your time [slow]", false).await,
        "EXECUTION_COMPLETED"
    );
    assert_trust(
        &trust(&stack, &owner, "guide").await,
        [0.6, 0.4, 0.6, 0.4],
        1,
    );
}

async fn starting_values_alerts_and_unknown_agents(backend: Backend) {
    let stack = Stack::start(backend).await; // the builtin provider
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    // No evidence: the starting values, computed.
    let fresh = trust(&stack, &owner, "liaison.content").await;
    assert_trust(&fresh, [0.5; 4], 0);
    assert_eq!(fresh["history"], json!([]));
    for unknown in ["nobody", "wrp_0000", "liaison.finance"] {
        let (status, body) = stack
            .get(&format!("/api/governance/trust/{unknown}"), &token)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {body}");
    }

    // A completed builtin turn: its answer states no rationale.
    let mut ws = open(&stack, &owner).await;
    assert_eq!(
        turn(&mut ws, "how do I upload a file?", false).await,
        "EXECUTION_COMPLETED"
    );
    assert_trust(
        &trust(&stack, &owner, "guide").await,
        [0.6, 0.6, 0.6, 0.4],
        1,
    );

    // Tracked errors drive reliability down: 0.5·0.8^k. The aggregate (1.5 + r) / 4 first drops
    // more than 0.1 below its peak 0.5 at k = 8; the dimension is below 0.7 from k = 1 but
    // alerts only when confidence reaches 0.5, at k = 10; k = 11 raises nothing new.
    for _ in 0..11 {
        track(
            &stack,
            &owner,
            "liaison.insights",
            json!({"event_type": "error"}),
        )
        .await;
    }
    let r = |k: i32| 0.5 * 0.8_f64.powi(k);
    let t = trust(&stack, &owner, "liaison.insights").await;
    assert_trust(&t, [0.5, r(11), 0.5, 0.5], 11);
    let (pool, prefix) = stack.runtime_db().await;
    let alerts: Vec<(String, Option<String>, f64, f64)> = sqlx::query_as(&format!(
        "SELECT kind, dimension, value, previous FROM {prefix}trust_alerts \
         WHERE tenant_id = $1 AND agent_id = 'liaison.insights' ORDER BY at, value DESC"
    ))
    .bind(s(&owner, "tenant_id"))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(
        (alerts[0].0.as_str(), alerts[0].1.as_deref()),
        ("aggregate", None)
    );
    assert!((alerts[0].2 - (1.5 + r(8)) / 4.0).abs() < 1e-9 && alerts[0].3 == 0.5);
    assert_eq!(
        (alerts[1].0.as_str(), alerts[1].1.as_deref()),
        ("dimension", Some("reliability"))
    );
    assert!((alerts[1].2 - r(10)).abs() < 1e-9 && (alerts[1].3 - r(9)).abs() < 1e-9);
}

async fn compliance_counts_the_window(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let (_, _, other) = stack.register().await;
    let token = s(&owner, "access_token");
    let tenant = s(&owner, "tenant_id");
    let path = "/api/governance/compliance/guide";

    let (status, empty) = stack.get(path, &token).await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(
        empty,
        json!({"agent_id": "guide", "window": "24h", "evaluated": 0,
               "decisions": {"allow": 0, "deny": 0, "modify": 0, "log": 0, "require_approval": 0},
               "compliance_rate": null, "violations": {"high": 0, "medium": 0, "low": 0}})
    );

    let (pool, prefix) = stack.runtime_db().await;
    let now = platform_sdk::time_util::now_ms();
    let two_days_ago = now - 48 * 3_600_000;
    let decisions = [
        (&tenant, "guide", "allow", now),
        (&tenant, "guide", "allow", now),
        (&tenant, "guide", "allow", now),
        (&tenant, "guide", "deny", now),
        (&tenant, "guide", "modify", now),
        (&tenant, "guide", "log", now),
        (&tenant, "guide", "require_approval", now),
        (&tenant, "guide", "deny", two_days_ago),
        (&tenant, "liaison.content", "deny", now),
    ];
    let theirs = s(&other, "tenant_id");
    for (i, (t, agent, decision, at)) in decisions
        .into_iter()
        .chain([(&theirs, "guide", "deny", now)])
        .enumerate()
    {
        sqlx::query(&format!(
            "INSERT INTO {prefix}governance_decisions (id, tenant_id, agent_id, action_type, \
             decision, execution_id, created_at, entry) \
             VALUES ($1, $2, $3, 'agent_input', $4, NULL, $5, '{{}}')"
        ))
        .bind(format!("dec_{i}"))
        .bind(t)
        .bind(agent)
        .bind(decision)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }
    for (i, (severity, at)) in [
        ("high", now),
        ("medium", now),
        ("medium", now),
        ("low", two_days_ago),
    ]
    .into_iter()
    .enumerate()
    {
        sqlx::query(&format!(
            "INSERT INTO {prefix}governance_violations (id, tenant_id, agent_id, policy_id, \
             violation_type, severity, decision_id, execution_id, details, occurred_at) \
             VALUES ($1, $2, 'guide', 'pol_1', 'deny_all', $3, 'dec_3', NULL, '{{}}', $4)"
        ))
        .bind(format!("vio_{i}"))
        .bind(&tenant)
        .bind(severity)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }

    let (status, day) = stack.get(path, &token).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    assert_eq!(day["evaluated"], 7, "{day}");
    assert_eq!(
        day["decisions"],
        json!({"allow": 3, "deny": 1, "modify": 1, "log": 1, "require_approval": 1})
    );
    assert!(close(&day["compliance_rate"], 3.0 / 7.0), "{day}");
    assert_eq!(day["violations"], json!({"high": 1, "medium": 2, "low": 0}));
    let (_, week) = stack.get(&format!("{path}?window=7d"), &token).await;
    assert_eq!(
        (week["window"].as_str(), week["evaluated"].as_i64()),
        (Some("7d"), Some(8))
    );
    assert_eq!(
        week["violations"],
        json!({"high": 1, "medium": 2, "low": 1})
    );
    assert!(close(&week["compliance_rate"], 3.0 / 8.0), "{week}");

    let (status, bad) = stack.get(&format!("{path}?window=2d"), &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["error"]["fields"][0]["field"], "window");
}

both_backends!(
    executions_and_tracked_events_move_the_dimensions,
    latency_above_the_slo_counts_against_reliability,
    starting_values_alerts_and_unknown_agents,
    compliance_counts_the_window,
);
