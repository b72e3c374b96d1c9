//! The governance loop, `POST /loop/execute` (SPEC §10), on both backends through the experience
//! gateway: one test per branch of the rule (accepted; trust below 0.3, from the plan's factor and
//! from an agent's real aggregate; `reject_this_plan`; `FORCE_ACCEPT_PLAN`; `HALT_IMMEDIATE`;
//! `MODIFY_TRUST_SCORE`), a schema violation (400 with `REQUEST_VALIDATION_ERROR` details), and
//! the justification in the tenant's hash chain: each entry's hash recomputed from the stored
//! canonical entry and linked to the previous one.

use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

fn request(plan_details: Value, agent_id: Option<&str>, signal: Option<Value>) -> Value {
    let mut body = json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "plan_input": {"plan_id": "plan-42", "plan_details": plan_details},
    });
    if let Some(agent) = agent_id {
        body["plan_input"]["agent_id"] = json!(agent);
    }
    if let Some(signal) = signal {
        body["operator_override_signal"] = signal;
    }
    body
}

fn signal(override_type: &str, adjustment: Option<f64>) -> Value {
    let mut signal = json!({"override_signal_id": "ovr-1", "override_type": override_type,
        "reason": "reviewed by the on-call operator", "issuing_operator_id": "op-7"});
    if let Some(adjustment) = adjustment {
        signal["trust_score_adjustment"] = json!(adjustment);
    }
    signal
}

async fn run(stack: &Stack, login: &Value, body: &Value) -> (StatusCode, Value) {
    let token = s(login, "access_token");
    stack
        .send(Method::POST, "/loop/execute", &token, Some(body.clone()))
        .await
}

/// Runs a request that must answer 200 and checks the fields every answer carries.
async fn decided(stack: &Stack, login: &Value, body: &Value) -> Value {
    let (status, answer) = run(stack, login, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["request_id"], body["request_id"]);
    assert_eq!(answer["error_details"], Value::Null);
    let out = &answer["governance_core_output"];
    assert_eq!(out["plan_id"], "plan-42");
    let log = &answer["justification_log"];
    assert_eq!(log["decision_outcome"], out["status"]);
    assert_eq!(log["trust_score_at_decision"], out["trust_score"]);
    assert!(s(log, "entry_id").starts_with("jst_"));
    let rejected = out["status"] == "REJECTED";
    let expected = if rejected { "REJECTED" } else { "SUCCESS" };
    assert_eq!(answer["execution_status"], expected, "{answer}");
    answer
}

fn trust_of(answer: &Value) -> f64 {
    answer["governance_core_output"]["trust_score"]
        .as_f64()
        .unwrap()
}

fn outcome(answer: &Value) -> (&str, bool) {
    (
        answer["governance_core_output"]["status"].as_str().unwrap(),
        answer["justification_log"]["override_required"]
            .as_bool()
            .unwrap(),
    )
}

fn sha256_hex(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_plain_plan_is_accepted_and_justified_in_the_chain(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let first = decided(
        &stack,
        &owner,
        &request(json!({"steps": ["a", "b"]}), None, None),
    )
    .await;
    assert_eq!(outcome(&first), ("ACCEPTED", false));
    assert_eq!(trust_of(&first), 0.75, "no agent: 0.75");
    let second = decided(
        &stack,
        &owner,
        &request(json!({"trust_factor": 0.1}), Some("guide"), None),
    )
    .await;
    assert!(
        (trust_of(&second) - 0.6).abs() < 1e-9,
        "guide's 0.5 + 0.1: {second}"
    );

    // Both justifications are in the tenant's chain, the second linked to the first, each hash
    // recomputable from the stored canonical entry.
    let (a, b) = (&first["justification_log"], &second["justification_log"]);
    assert_eq!(a["previous_entry_hash"], GENESIS);
    assert_eq!(b["previous_entry_hash"], a["entry_sha256_hash"]);
    let (pool, prefix) = stack.runtime_db().await;
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(&format!(
        "SELECT seq, entry_id, kind, entry, previous_hash, entry_hash FROM {prefix}governance_audit \
         WHERE tenant_id = $1 ORDER BY seq"
    ))
    .bind(s(&owner, "tenant_id"))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    for ((seq, entry_id, kind, entry, previous, hash), log) in rows.iter().zip([a, b]) {
        assert_eq!(kind, "justification");
        assert_eq!(entry_id, log["entry_id"].as_str().unwrap());
        assert_eq!(
            hash,
            log["entry_sha256_hash"].as_str().unwrap(),
            "seq {seq}"
        );
        assert_eq!(previous, log["previous_entry_hash"].as_str().unwrap());
        let recomputed = format!("sha256:{}", sha256_hex(&format!("{previous}\n{entry}")));
        assert_eq!(&recomputed, hash, "seq {seq}");
        let entry: Value = serde_json::from_str(entry).unwrap();
        assert_eq!(entry["decision_outcome"], "ACCEPTED");
        assert_eq!(entry["decided_by"], owner["user"]["id"]);
    }

    // Another tenant's chain starts on its own.
    let (_, _, other) = stack.register().await;
    let theirs = decided(&stack, &other, &request(json!({}), None, None)).await;
    assert_eq!(theirs["justification_log"]["previous_entry_hash"], GENESIS);
}

async fn trust_below_a_third_is_rejected(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let low = decided(
        &stack,
        &owner,
        &request(json!({"trust_factor": -0.5}), None, None),
    )
    .await;
    assert_eq!(outcome(&low), ("REJECTED", false));
    assert!((trust_of(&low) - 0.25).abs() < 1e-9);
    let reason = s(&low["governance_core_output"], "reason");
    assert!(reason.contains("below 0.3"), "{reason}");

    // The agent's real aggregate is the base: one tracked error takes the guide's reliability
    // to 0.4 and its aggregate to 0.475; a fresh liaison's stays 0.5.
    let token = s(&owner, "access_token");
    let (status, _) = stack
        .send(
            Method::POST,
            "/api/agents/guide/track",
            &token,
            Some(json!({"event_type": "error"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let factor = json!({"trust_factor": -0.19});
    let guide = decided(
        &stack,
        &owner,
        &request(factor.clone(), Some("guide"), None),
    )
    .await;
    assert_eq!(outcome(&guide), ("REJECTED", false));
    assert!((trust_of(&guide) - 0.285).abs() < 1e-9, "{guide}");
    let fresh = decided(
        &stack,
        &owner,
        &request(factor, Some("liaison.content"), None),
    )
    .await;
    assert_eq!(outcome(&fresh), ("ACCEPTED", false));
    assert!((trust_of(&fresh) - 0.31).abs() < 1e-9, "{fresh}");

    // An agent the tenant cannot name has no trust to judge with.
    let (status, body) = run(
        &stack,
        &owner,
        &request(json!({}), Some("wrp_nobody"), None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

async fn the_reject_flag_rejects(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let flagged = json!({"reject_this_plan": true, "trust_factor": 0.2});
    let answer = decided(&stack, &owner, &request(flagged, None, None)).await;
    assert_eq!(outcome(&answer), ("REJECTED", false));
    assert!(
        (trust_of(&answer) - 0.95).abs() < 1e-9,
        "trust was high; the flag decided"
    );
    let unflagged = json!({"reject_this_plan": false});
    let answer = decided(&stack, &owner, &request(unflagged, None, None)).await;
    assert_eq!(outcome(&answer), ("ACCEPTED", false));
}

async fn force_accept_overrides_a_rejection(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let force = Some(signal("FORCE_ACCEPT_PLAN", None));
    let flagged = request(json!({"reject_this_plan": true}), None, force.clone());
    let answer = decided(&stack, &owner, &flagged).await;
    assert_eq!(outcome(&answer), ("ACCEPTED_WITH_OVERRIDE", true));
    assert_eq!(answer["execution_status"], "SUCCESS");
    let reason = s(&answer["governance_core_output"], "reason");
    assert!(reason.contains("op-7"), "{reason}");
    let low = request(json!({"trust_factor": -0.6}), None, force.clone());
    assert_eq!(
        outcome(&decided(&stack, &owner, &low).await),
        ("ACCEPTED_WITH_OVERRIDE", true)
    );
    let fine = request(json!({}), None, force);
    assert_eq!(
        outcome(&decided(&stack, &owner, &fine).await),
        ("ACCEPTED", false)
    );
}

async fn halt_immediate_rejects(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let halt = request(
        json!({"trust_factor": 0.25}),
        None,
        Some(signal("HALT_IMMEDIATE", None)),
    );
    let answer = decided(&stack, &owner, &halt).await;
    assert_eq!(outcome(&answer), ("REJECTED", true));
    assert_eq!(answer["execution_status"], "REJECTED");
    assert_eq!(trust_of(&answer), 1.0, "clamped; the halt decided");
    let reason = s(&answer["governance_core_output"], "reason");
    assert!(
        reason.contains("halted") && reason.contains("op-7"),
        "{reason}"
    );
}

async fn modify_trust_score_adjusts_first(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let lower = request(
        json!({}),
        None,
        Some(signal("MODIFY_TRUST_SCORE", Some(-0.5))),
    );
    let answer = decided(&stack, &owner, &lower).await;
    assert_eq!(outcome(&answer), ("REJECTED", false));
    assert!((trust_of(&answer) - 0.25).abs() < 1e-9);
    let raise = request(
        json!({"trust_factor": -0.3}),
        Some("guide"),
        Some(signal("MODIFY_TRUST_SCORE", Some(0.15))),
    );
    let answer = decided(&stack, &owner, &raise).await;
    assert_eq!(outcome(&answer), ("ACCEPTED", false));
    assert!(
        (trust_of(&answer) - 0.35).abs() < 1e-9,
        "0.5 + 0.15 − 0.3: {answer}"
    );
}

async fn a_schema_violation_is_a_400_with_details(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let bad = request(json!({}), None, Some(signal("PAUSE_A_BIT", None)));
    let (status, body) = run(&stack, &owner, &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "request_validation_error");
    let details = &body["error_details"];
    assert_eq!(details["code"], "REQUEST_VALIDATION_ERROR", "{body}");
    let fields: Vec<&str> = details["schema_validation_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["operator_override_signal.override_type"]);

    let mut many = request(json!({"trust_factor": "high"}), None, None);
    many["request_id"] = json!("not-a-uuid");
    many["plan_input"]["plan_id"] = json!("");
    many["surprise"] = json!(true);
    let (status, body) = run(&stack, &owner, &many).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let fields: Vec<&str> = body["error_details"]["schema_validation_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "surprise",
            "request_id",
            "plan_input.plan_id",
            "plan_input.plan_details.trust_factor"
        ]
    );

    // Nothing was appended; a member (no governance:write) is refused.
    let (pool, prefix) = stack.runtime_db().await;
    let entries: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {prefix}governance_audit WHERE tenant_id = $1"
    ))
    .bind(s(&owner, "tenant_id"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(entries, 0);
    let email = format!("member-{}@example.com", uuid::Uuid::new_v4().simple());
    let (_, _, invitation) = stack
        .call(
            Method::POST,
            &stack.exp("/api/tenants/current/members"),
            Some(&s(&owner, "access_token")),
            Some(json!({"email": email, "role": "member"})),
        )
        .await;
    let (_, member) = stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": "pw-member-123456",
                   "invitation_token": s(&invitation, "token")}),
        )
        .await;
    let (status, body) = run(&stack, &member, &request(json!({}), None, None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

both_backends!(
    a_plain_plan_is_accepted_and_justified_in_the_chain,
    trust_below_a_third_is_rejected,
    the_reject_flag_rejects,
    force_accept_overrides_a_rejection,
    halt_immediate_rejects,
    modify_trust_score_adjusts_first,
    a_schema_violation_is_a_400_with_details,
);
