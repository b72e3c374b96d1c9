//! Governance (SPEC §10) on both backends, through the experience gateway: policy CRUD and its
//! refusals, `evaluate` with every branch of the decision rule and its hash-chained audit entry,
//! the chain's verification catching a row altered or deleted in the database, and violations
//! with their filters.

use e2e_tests::attest::field;
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Sends a mutation with a fresh `Idempotency-Key`.
pub async fn mutate(
    stack: &Stack,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let res = stack
        .http
        .request(method, stack.exp(path))
        .bearer_auth(token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn policy(name: &str, level: &str, action_type: &str, condition: Value) -> Value {
    json!({"name": name, "policy_type": "SECURITY", "status": "ACTIVE", "enforcement_level": level,
           "rules": [{"action_type": action_type, "condition": condition}]})
}

async fn create(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, created) =
        mutate(stack, Method::POST, "/api/governance/policies", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn evaluate(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, decision) =
        mutate(stack, Method::POST, "/api/governance/evaluate", token, body).await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    decision
}

async fn policies_are_validated_versioned_and_scoped(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");

    // Every tenant starts with the default policy: consequential actions wait for a human.
    let (status, list) = stack.get("/api/governance/policies", &token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["created_by"], "system");
    assert_eq!(
        items[0]["rules"][0]["condition"]["type"],
        "require_approval"
    );
    assert_eq!(
        items[0]["rules"][0]["condition"]["actions"],
        json!(["execute_workflow"])
    );

    let created = create(
        &stack,
        &token,
        policy(
            "No secrets",
            "STRICT",
            "agent_input",
            json!({"type": "blocked_terms", "terms": ["secret"]}),
        ),
    )
    .await;
    assert_eq!(
        (created["version"].as_i64(), created["status"].as_str()),
        (Some(1), Some("ACTIVE"))
    );
    let id = s(&created, "id");
    assert!(id.starts_with("pol_"));
    // A condition without parameters may be written as its name.
    let short = create(
        &stack,
        &token,
        policy("Deny specialists", "ADVISORY", "*", json!("deny_all")),
    )
    .await;
    assert_eq!(short["rules"][0]["condition"], json!({"type": "deny_all"}));

    let mut changed = policy(
        "No secrets",
        "MODERATE",
        "agent_input",
        json!({"type": "blocked_terms", "terms": ["secret", "password"]}),
    );
    changed["status"] = json!("DEPRECATED");
    let path = format!("/api/governance/policies/{id}");
    let (status, updated) = mutate(&stack, Method::PUT, &path, &token, changed).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["version"].as_i64(), updated["status"].as_str()),
        (Some(2), Some("DEPRECATED"))
    );
    let (_, read) = stack.get(&path, &token).await;
    assert_eq!(read, updated);
    let (_, active) = stack
        .get("/api/governance/policies?status=ACTIVE", &token)
        .await;
    assert_eq!(active["items"].as_array().unwrap().len(), 2, "{active}");

    // Refusals name the field.
    for (body, expected) in [
        (
            policy("x", "STRICT", "agent_thought", json!("deny_all")),
            "rules[].action_type",
        ),
        (
            policy("x", "STRICT", "*", json!({"type": "max_chars", "n": 0})),
            "rules[].condition.n",
        ),
        (
            policy(
                "x",
                "STRICT",
                "*",
                json!({"type": "blocked_terms", "terms": []}),
            ),
            "rules[].condition.terms",
        ),
        (
            policy("x", "LENIENT", "*", json!("deny_all")),
            "enforcement_level",
        ),
        (policy("", "STRICT", "*", json!("deny_all")), "name"),
        (
            json!({"name": "x", "policy_type": "SECURITY", "enforcement_level": "STRICT", "rules": [{"action_type": "*", "agent_pattern": "wrp_[0-9]", "condition": "deny_all"}]}),
            "rules[].agent_pattern",
        ),
        (
            json!({"name": "x", "policy_type": "SECURITY", "enforcement_level": "STRICT", "rules": []}),
            "rules",
        ),
    ] {
        let (status, body) = mutate(
            &stack,
            Method::POST,
            "/api/governance/policies",
            &token,
            body,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(field(&body), expected, "{body}");
    }
    let (status, body) = mutate(
        &stack,
        Method::POST,
        "/api/governance/policies",
        &token,
        policy("x", "STRICT", "*", json!("sometimes")),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");

    // Another tenant sees none of it; a member reads but cannot write.
    let (_, _, stranger) = stack.register().await;
    let other = s(&stranger, "access_token");
    assert_eq!(stack.get(&path, &other).await.0, StatusCode::NOT_FOUND);
    let (status, _) = mutate(
        &stack,
        Method::PUT,
        &path,
        &other,
        policy("x", "STRICT", "*", json!("deny_all")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = mutate(&stack, Method::DELETE, &path, &other, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = mutate(&stack, Method::DELETE, &path, &token, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(stack.get(&path, &token).await.0, StatusCode::NOT_FOUND);
}

async fn evaluate_follows_the_decision_rule_and_chains_every_decision(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let strict = create(
        &stack,
        &token,
        policy(
            "Launch",
            "STRICT",
            "agent_input",
            json!({"type": "blocked_terms", "terms": ["launch codes"]}),
        ),
    )
    .await;
    let pii = create(
        &stack,
        &token,
        policy("PII", "MODERATE", "*", json!("sensitive_data")),
    )
    .await;
    let brief = create(
        &stack,
        &token,
        policy(
            "Brief",
            "MODERATE",
            "multi_agent_message",
            json!({"type": "max_chars", "n": 20}),
        ),
    )
    .await;
    let advisory = create(
        &stack,
        &token,
        policy(
            "Short answers",
            "ADVISORY",
            "agent_output",
            json!({"type": "max_chars", "n": 10}),
        ),
    )
    .await;
    let mut specialists = policy("Specialists only", "STRICT", "*", json!("deny_all"));
    specialists["rules"][0]["agent_pattern"] = json!("wrp_*");
    let specialists = create(&stack, &token, specialists).await;

    let ask = |agent: &str, action_type: &str, content: &str| json!({"agent_id": agent, "action_type": action_type, "content": content});
    let deny = evaluate(
        &stack,
        &token,
        ask(
            "guide",
            "agent_input",
            "give me the LAUNCH CODES, mail a@b.io",
        ),
    )
    .await;
    assert_eq!(deny["decision"], "deny", "{deny}");
    assert_eq!(deny["modified_content"], Value::Null);
    assert_eq!(deny["reasons"].as_array().unwrap().len(), 2, "{deny}");

    let modify = evaluate(
        &stack,
        &token,
        ask(
            "guide",
            "agent_output",
            "Reach jane@example.com, card 4111-1111-1111-1111, SSN 078-05-1120.",
        ),
    )
    .await;
    assert_eq!(modify["decision"], "modify", "{modify}");
    assert_eq!(
        modify["modified_content"],
        "Reach [REDACTED-EMAIL], card [REDACTED-CARD], SSN [REDACTED-SSN]."
    );
    let mut evaluated: Vec<(String, bool)> = modify["policies_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (s(p, "policy_id"), p["passed"].as_bool().unwrap()))
        .collect();
    evaluated.sort();
    let mut expected = vec![(s(&pii, "id"), false), (s(&advisory, "id"), false)];
    expected.sort();
    assert_eq!(evaluated, expected);

    let log = evaluate(
        &stack,
        &token,
        ask(
            "liaison.content",
            "multi_agent_message",
            "a message far longer than twenty characters",
        ),
    )
    .await;
    assert_eq!(log["decision"], "log", "{log}");
    let allow = evaluate(&stack, &token, ask("guide", "agent_output", "eleven char")).await;
    assert_eq!(
        (
            allow["decision"].as_str(),
            allow["reasons"].as_array().unwrap().len()
        ),
        (Some("allow"), 1)
    );
    let approval = evaluate(&stack, &token, json!({"agent_id": "liaison.operations", "action_type": "tool_call", "content": "run it", "action_details": {"action": "execute_workflow"}})).await;
    assert_eq!(approval["decision"], "require_approval", "{approval}");
    let denied_specialist = evaluate(&stack, &token, ask("wrp_123", "agent_input", "hello")).await;
    assert_eq!(denied_specialist["decision"], "deny");

    // Each decision links to the one before it.
    let decisions = [&deny, &modify, &log, &allow, &approval, &denied_specialist];
    for pair in decisions.windows(2) {
        assert_eq!(
            pair[1]["audit"]["previous_entry_hash"],
            pair[0]["audit"]["entry_hash"]
        );
    }
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(audit["verification"]["valid"], true, "{audit}");
    assert_eq!(audit["verification"]["entries_checked"], 6);
    assert_eq!(
        audit["items"][0]["entry_id"],
        denied_specialist["decision_id"]
    );
    // The entry names the content by its hash only.
    assert!(!audit.to_string().contains("jane@example.com"));

    // Violations: one per failing policy, severity from the level, with filters.
    let (_, all) = stack.get("/api/governance/violations", &token).await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        2 + 2 + 1 + 1 + 1 + 1,
        "{all}"
    );
    let (_, high) = stack
        .get("/api/governance/violations?severity=high", &token)
        .await;
    let high_policies: Vec<String> = high["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| s(v, "policy_id"))
        .collect();
    assert_eq!(high_policies, vec![s(&specialists, "id"), s(&strict, "id")]);
    let (_, of_brief) = stack
        .get(
            &format!("/api/governance/violations?policy_id={}", s(&brief, "id")),
            &token,
        )
        .await;
    assert_eq!(of_brief["items"][0]["violation_type"], "max_chars");
    assert_eq!(of_brief["items"][0]["severity"], "medium");
    assert_eq!(of_brief["items"][0]["decision_id"], log["decision_id"]);
    let (_, of_liaison) = stack
        .get(
            "/api/governance/violations?agent_id=liaison.operations",
            &token,
        )
        .await;
    assert_eq!(of_liaison["items"][0]["violation_type"], "require_approval");
    let (_, future) = stack
        .get(
            "/api/governance/violations?since=2999-01-01T00:00:00Z",
            &token,
        )
        .await;
    assert_eq!(future["items"], json!([]));
    let (status, bad) = stack
        .get("/api/governance/violations?severity=urgent", &token)
        .await;
    assert_eq!(
        (status, field(&bad)),
        (StatusCode::UNPROCESSABLE_ENTITY, "severity".into())
    );
    let (status, bad) = mutate(
        &stack,
        Method::POST,
        "/api/governance/evaluate",
        &token,
        ask("guide", "agent_thought", "x"),
    )
    .await;
    assert_eq!(
        (status, field(&bad)),
        (StatusCode::UNPROCESSABLE_ENTITY, "action_type".into())
    );

    // Tampering with the stored chain is caught: an altered entry, then a deleted one.
    let (pool, prefix) = stack.runtime_db().await;
    let tenant = s(&owner, "tenant_id");
    sqlx::query(&format!("UPDATE {prefix}governance_audit SET entry = REPLACE(entry, '\"deny\"', '\"allow\"') WHERE tenant_id = $1 AND seq = 1"))
        .bind(&tenant).execute(&pool).await.unwrap();
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(audit["verification"]["valid"], false, "{audit}");
    assert_eq!(
        audit["verification"]["first_broken"],
        json!({"seq": 1, "entry_id": deny["decision_id"], "problem": "modified"})
    );
    sqlx::query(&format!("UPDATE {prefix}governance_audit SET entry = REPLACE(entry, '\"allow\"', '\"deny\"') WHERE tenant_id = $1 AND seq = 1"))
        .bind(&tenant).execute(&pool).await.unwrap();
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(audit["verification"]["valid"], true, "{audit}");
    sqlx::query(&format!(
        "DELETE FROM {prefix}governance_audit WHERE tenant_id = $1 AND seq = 3"
    ))
    .bind(&tenant)
    .execute(&pool)
    .await
    .unwrap();
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(
        audit["verification"]["first_broken"],
        json!({"seq": 3, "entry_id": null, "problem": "missing"}),
        "{audit}"
    );
    sqlx::query(&format!(
        "DELETE FROM {prefix}governance_audit WHERE tenant_id = $1 AND seq >= 4"
    ))
    .bind(&tenant)
    .execute(&pool)
    .await
    .unwrap();
    let (_, audit) = stack.get("/api/governance/audit?verify=true", &token).await;
    assert_eq!(audit["verification"]["valid"], false, "{audit}");

    // Another tenant's chain and violations are its own.
    let (_, _, stranger) = stack.register().await;
    let (_, theirs) = stack
        .get(
            "/api/governance/audit?verify=true",
            &s(&stranger, "access_token"),
        )
        .await;
    assert_eq!(
        (
            theirs["items"].clone(),
            theirs["verification"]["valid"].clone()
        ),
        (json!([]), json!(true))
    );
}

both_backends!(
    policies_are_validated_versioned_and_scoped,
    evaluate_follows_the_decision_rule_and_chains_every_decision,
);
