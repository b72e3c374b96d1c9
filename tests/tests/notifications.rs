//! Notifications (SPEC §13) on both backends, through the experience gateway: each producer
//! (governance violations, deployments, approvals) notifies the right people only — the agent's
//! creator and the tenant's admins, never a plain member or another tenant — with pagination,
//! `unread_only`, `unread_count` and mark-read by ids or all.

use std::time::{Duration, Instant};

use e2e_tests::live::{evaluate, member, mutate, strict_policy};
use e2e_tests::ws::{data_of, open};
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The caller's notifications (`query` appended to the path).
pub async fn notifications(stack: &Stack, token: &str, query: &str) -> Value {
    let (status, list) = stack
        .get(&format!("/api/notifications{query}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list
}

fn kinds(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| s(n, "type"))
        .collect()
}

async fn violations_reach_the_creator_and_admins_only(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let owner_token = s(&owner, "access_token");
    let admin = member(&stack, &owner_token, "admin").await;
    let admin_token = s(&admin, "access_token");
    let plain = member(&stack, &owner_token, "member").await;
    let plain_token = s(&plain, "access_token");
    let (_, _, stranger) = stack.register().await;
    let stranger_token = s(&stranger, "access_token");
    strict_policy(&stack, &owner_token, "No codes", "launch codes").await;
    strict_policy(&stack, &stranger_token, "No codes", "launch codes").await;

    // A builtin agent has no creator: the admins (owner and admin) are told, nobody else.
    let denied = evaluate(&stack, &owner_token, "guide", "the LAUNCH CODES please").await;
    assert_eq!(denied["decision"], "deny");
    for token in [&owner_token, &admin_token] {
        let list = notifications(&stack, token, "").await;
        assert_eq!(kinds(&list), ["governance.violation"], "{list}");
        assert_eq!(list["unread_count"], 1);
        let n = &list["items"][0];
        assert!(s(n, "id").starts_with("ntf_"));
        assert_eq!(n["severity"], "critical");
        assert_eq!(n["title"], "Policy \"No codes\" violated");
        assert_eq!(n["data"]["agent_id"], "guide");
        assert_eq!(n["data"]["decision_id"], denied["decision_id"]);
        assert_eq!(n["read_at"], Value::Null);
        assert!(s(n, "created_at").ends_with('Z'));
    }
    for token in [&plain_token, &stranger_token] {
        let list = notifications(&stack, token, "").await;
        assert_eq!(list["items"], json!([]), "{list}");
        assert_eq!(list["unread_count"], 0);
    }

    // A deployed agent's creator (a plain member) is told too: one copy each, the creator's own.
    let (status, wrapper) = stack
        .send(Method::POST, "/api/agents/wrappers", &plain_token,
            Some(json!({"name": "Invoices", "description": "d", "supported_providers": ["builtin"],
                "configuration": {"system_prompt": "p", "provider": "builtin", "model": "builtin"}})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wrapper}");
    let agent = s(&wrapper, "id");
    evaluate(&stack, &owner_token, &agent, "launch codes").await;
    let mine = notifications(&stack, &plain_token, "").await;
    assert_eq!(kinds(&mine), ["governance.violation"], "{mine}");
    assert_eq!(mine["items"][0]["data"]["agent_id"], agent.as_str());
    for token in [&owner_token, &admin_token] {
        let list = notifications(&stack, token, "").await;
        assert_eq!(list["unread_count"], 2, "{list}");
        assert_eq!(list["items"][0]["data"]["agent_id"], agent.as_str());
    }
    // ADVISORY (low) violations stay in the violations list only.
    let body = json!({"name": "Soft", "policy_type": "SECURITY", "status": "ACTIVE", "enforcement_level": "ADVISORY",
        "rules": [{"action_type": "agent_output", "condition": {"type": "max_chars", "n": 3}}]});
    mutate(
        &stack,
        Method::POST,
        "/api/governance/policies",
        &owner_token,
        body,
    )
    .await;
    let body = json!({"agent_id": "guide", "action_type": "agent_output", "content": "too long"});
    mutate(
        &stack,
        Method::POST,
        "/api/governance/evaluate",
        &owner_token,
        body,
    )
    .await;
    assert_eq!(
        notifications(&stack, &owner_token, "").await["unread_count"],
        2
    );
}

async fn pages_unread_and_mark_read(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let (_, _, stranger) = stack.register().await;
    let stranger_token = s(&stranger, "access_token");
    strict_policy(&stack, &token, "No codes", "codes").await;
    for i in 0..3 {
        evaluate(&stack, &token, "guide", &format!("codes {i}")).await;
    }
    let first = notifications(&stack, &token, "?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["unread_count"], 3);
    let cursor = s(&first, "next_cursor");
    let second = notifications(&stack, &token, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let ids: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|n| s(n, "id"))
        .collect();
    assert_eq!(ids.len(), 3);

    let mark = |token: String, body: Value| {
        let stack = &stack;
        async move {
            mutate(
                stack,
                Method::POST,
                "/api/notifications/mark-read",
                &token,
                body,
            )
            .await
        }
    };
    // Another tenant's ids are not the caller's: nothing changes.
    let (status, other) = mark(stranger_token.clone(), json!({"ids": [ids[0]]})).await;
    assert_eq!(
        (status, other),
        (StatusCode::OK, json!({"updated": 0, "unread_count": 0}))
    );
    let (status, marked) = mark(token.clone(), json!({"ids": [ids[0]]})).await;
    assert_eq!(
        (status, marked),
        (StatusCode::OK, json!({"updated": 1, "unread_count": 2}))
    );
    let (_, again) = mark(token.clone(), json!({"ids": [ids[0]]})).await;
    assert_eq!(again, json!({"updated": 0, "unread_count": 2}));
    let unread = notifications(&stack, &token, "?unread_only=true").await;
    let unread_ids: Vec<String> = unread["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| s(n, "id"))
        .collect();
    assert_eq!(unread_ids, ids[1..].to_vec());
    let all = notifications(&stack, &token, "").await;
    assert!(all["items"][0]["read_at"].as_str().unwrap().ends_with('Z'));
    let (_, everything) = mark(token.clone(), json!({"all": true})).await;
    assert_eq!(everything, json!({"updated": 2, "unread_count": 0}));
    assert_eq!(
        notifications(&stack, &token, "?unread_only=true").await["items"],
        json!([])
    );

    // Bad input: the field is named, nothing changes.
    for body in [
        json!({}),
        json!({"ids": []}),
        json!({"ids": ["a"], "all": true}),
        json!({"all": false}),
        json!({"nope": 1}),
    ] {
        let (status, error) = mark(token.clone(), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
    }
    let (status, error) = stack
        .get("/api/notifications?unread_only=maybe", &token)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, _) = stack.get("/api/notifications?limit=0", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = stack.get("/api/notifications", "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn deployments_tell_their_creator(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let owner_token = s(&owner, "access_token");
    let plain = member(&stack, &owner_token, "member").await;
    let token = s(&plain, "access_token");
    let (status, wrapper) = stack
        .send(Method::POST, "/api/agents/wrappers", &token,
            Some(json!({"name": "Invoices", "description": "d", "supported_providers": ["builtin"],
                "configuration": {"system_prompt": "p", "provider": "builtin", "model": "builtin"}})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{wrapper}");
    let id = s(&wrapper, "id");
    let path = format!("/api/agents/wrappers/{id}/deploy");
    let (status, _) = stack.send(Method::POST, &path, &token, None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(20);
    let list = loop {
        let list = notifications(&stack, &token, "").await;
        if list["items"].as_array().unwrap().len() >= 2 || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let statuses: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["data"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "deploying"], "{list}");
    assert_eq!(kinds(&list), ["deployment.status", "deployment.status"]);
    assert_eq!(list["items"][0]["title"], format!("Agent {id} is active"));
    // The owner did not create it.
    assert_eq!(
        notifications(&stack, &owner_token, "").await["items"],
        json!([])
    );
}

async fn an_approval_waiting_tells_the_sessions_user(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let plain = member(&stack, &token, "member").await;
    let mut ws = open(&stack, &plain).await;
    ws.send(
        json!({"type": "intent", "intent": "please run the invoice approval workflow",
        "agent_type": "liaison", "metadata": {"pillar": "operations"}}),
    )
    .await;
    let pending = data_of(
        &ws.until("SAFETY_APPROVAL_PENDING").await,
        "SAFETY_APPROVAL_PENDING",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let list = loop {
        let list = notifications(&stack, &s(&plain, "access_token"), "").await;
        if !list["items"].as_array().unwrap().is_empty() || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(kinds(&list), ["execution.awaiting_approval"], "{list}");
    let data = &list["items"][0]["data"];
    assert_eq!(data["hook_id"], pending["hook_id"], "{pending}");
    assert_eq!(data["action"], "execute_workflow");
    assert_eq!(notifications(&stack, &token, "").await["items"], json!([]));
}

both_backends!(
    violations_reach_the_creator_and_admins_only,
    pages_unread_and_mark_read,
    deployments_tell_their_creator,
    an_approval_waiting_tells_the_sessions_user,
);
