//! Conversation history is paginated like every list (issue 7, defect 10; SPEC §7):
//! `{"items":[…],"next_cursor":…}`, newest first, `limit` (default 50, 1..=200) and `cursor`;
//! following the cursors visits every item once; a bad `limit` or `cursor` is refused naming it.

use e2e_tests::ws::connect;
use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Every page of a list, following `next_cursor`; returns the item ids in order.
async fn walk(stack: &Stack, token: &str, path: &str, limit: u32, id: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (status, page) = stack.get(&url, token).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= limit as usize, "{url}: {page}");
        ids.extend(items.iter().map(|i| s(i, id)));
        match &page["next_cursor"] {
            Value::Null => return ids,
            Value::String(next) => {
                assert_eq!(
                    items.len(),
                    limit as usize,
                    "only full pages have a next one"
                );
                cursor = Some(next.clone());
            }
            other => panic!("next_cursor: {other}"),
        }
    }
    panic!("more pages than items")
}

async fn conversations_and_messages_are_paginated(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = connect(&stack, &format!("access_token={token}"))
        .await
        .unwrap();
    ws.next().await; // CONNECTION_ESTABLISHED
    let names = ["conv-a", "conv-b", "conv-c", "conv-d", "conv-e"];
    for name in names {
        ws.send(
            json!({"type": "intent", "intent": format!("hello from {name}"),
            "agent_type": "guide", "metadata": {"conversation_id": name}}),
        )
        .await;
        ws.until_finished().await;
    }
    // One more turn in the first conversation: it becomes the most recently active.
    ws.send(
        json!({"type": "intent", "intent": "and again", "agent_type": "guide",
        "metadata": {"conversation_id": "conv-a"}}),
    )
    .await;
    ws.until_finished().await;
    ws.close().await;

    let newest_first = ["conv-a", "conv-e", "conv-d", "conv-c", "conv-b"];
    let (status, all) = stack.get("/api/conversations", &token).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        all["next_cursor"],
        Value::Null,
        "default limit 50 holds all 5"
    );
    let ids: Vec<_> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(c, "conversation_id"))
        .collect();
    assert_eq!(ids, newest_first);
    for limit in [1, 2, 3, 5] {
        let walked = walk(
            &stack,
            &token,
            "/api/conversations",
            limit,
            "conversation_id",
        )
        .await;
        assert_eq!(walked, newest_first, "limit {limit}");
    }

    // Messages of conv-a: two turns, four messages, newest first.
    let path = "/api/conversations/conv-a/messages";
    let (status, first) = stack.get(path, &token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let roles: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(m, "role"))
        .collect();
    assert_eq!(roles, ["assistant", "user", "assistant", "user"]);
    assert_eq!(first["items"][1]["content"], "and again");
    let all_ids: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| s(m, "message_id"))
        .collect();
    for limit in [1, 3] {
        assert_eq!(
            walk(&stack, &token, path, limit, "message_id").await,
            all_ids,
            "limit {limit}"
        );
    }

    // Bad parameters are refused with the error body, naming the parameter.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("limit=-5", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=bm9waXBl", "cursor"),
    ] {
        for base in [
            "/api/conversations",
            path,
            "/api/tenants/current/members",
            "/api/tenants/current/api-keys",
        ] {
            let (status, body) = stack.get(&format!("{base}?{query}"), &token).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{base}?{query}: {status} {body}"
            );
            assert_eq!(body["error"]["code"], "invalid_query", "{body}");
            assert!(body["error"]["request_id"].is_string(), "{body}");
            assert_eq!(
                body["error"]["fields"][0]["field"], field,
                "{base}?{query}: {body}"
            );
        }
    }
    // The maximum is accepted.
    let (status, body) = stack.get("/api/conversations?limit=200", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

both_backends!(conversations_and_messages_are_paginated);
