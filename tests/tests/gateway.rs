//! The experience gateway end to end (SPEC §7), on its first rows (conversation history): each
//! row enforces its scope (`403 missing_scope` naming it, for a valid token without it), whom a
//! call is for comes from the token only (a client-sent `tenant_id`/`user_id` changes nothing),
//! runtime refusals come back with their status and code and the caller's request id, and the
//! rows are in `/openapi.json`. (That the runtime receives the request id, and the exact call a
//! row turns into, is tested against a recording runtime in `experience-service`'s gateway.)

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use e2e_tests::ws::connect;
use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::security_guard::tokens::sign;
use platform_sdk::security_guard::AccessClaims;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The claims of a real token, with a narrower scope and a fresh `jti`.
fn narrowed(token: &str, scope: &str) -> AccessClaims {
    let payload = token.split('.').nth(1).unwrap();
    let claims: AccessClaims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    AccessClaims {
        scope: scope.into(),
        roles: vec!["viewer".into()],
        jti: uuid::Uuid::new_v4().to_string(),
        ..claims
    }
}

async fn get(stack: &Stack, path: &str, token: &str, request_id: &str) -> (StatusCode, Value) {
    let res = stack
        .http
        .get(stack.exp(path))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(request_id)
    );
    (status, res.json().await.unwrap())
}

/// Registers a user and has one guide turn; returns the login and the conversation id.
async fn user_with_conversation(stack: &Stack) -> (Value, String) {
    let (_, _, login) = stack.register().await;
    let mut ws = connect(
        stack,
        &format!("access_token={}", s(&login, "access_token")),
    )
    .await
    .unwrap();
    ws.next().await;
    ws.send(json!({"type": "intent", "intent": "hello", "agent_type": "guide"}))
        .await;
    let frames = ws.until_finished().await;
    let answer = frames
        .iter()
        .find(|f| f["event_type"] == "AGENT_RESPONSE")
        .unwrap();
    let conversation = s(&answer["data"], "conversation_id");
    ws.close().await;
    (login, conversation)
}

async fn rows_enforce_their_scope(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (login, conversation) = user_with_conversation(&stack).await;
    let real = s(&login, "access_token");
    let narrow = sign(&stack.jwt_ring(), &narrowed(&real, "sessions:read")).unwrap();
    for path in [
        "/api/conversations".to_owned(),
        format!("/api/conversations/{conversation}/messages"),
    ] {
        let (status, body) = get(&stack, &path, &narrow, "gw-scope").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"]["code"], "missing_scope");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("agents:read"),
            "{path}: {body}"
        );
        assert_eq!(body["error"]["request_id"], "gw-scope");
        // The same row with the scope answers.
        let (status, body) = get(&stack, &path, &real, "gw-ok").await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // Unauthenticated: 401 before anything is forwarded; a wrong method on a row's path: 405.
    let res = stack
        .http
        .get(stack.exp("/api/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = stack
        .http
        .delete(stack.exp("/api/conversations"))
        .bearer_auth(&real)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn identity_comes_from_the_token_and_refusals_keep_the_request_id(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (victim, conversation) = user_with_conversation(&stack).await;
    let (_, _, attacker) = stack.register().await;
    let token = s(&attacker, "access_token");
    let spoof = format!(
        "tenant_id={}&user_id={}",
        s(&victim, "tenant_id"),
        s(&victim["user"], "id")
    );
    let (status, list) = get(
        &stack,
        &format!("/api/conversations?{spoof}"),
        &token,
        "gw-list",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"], json!([]), "the attacker sees only their own");
    // The runtime's refusal (404 for someone else's conversation) comes back as it was, with the
    // caller's request id; an id that needs encoding is one path segment, not a new path.
    for (path, request_id) in [
        (
            format!("/api/conversations/{conversation}/messages?{spoof}"),
            "gw-req-404",
        ),
        (
            "/api/conversations/a%2F..%2F..%2Fsessions/messages".to_owned(),
            "gw-req-enc",
        ),
    ] {
        let (status, body) = get(&stack, &path, &token, request_id).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["message"], "conversation not found");
        assert_eq!(body["error"]["request_id"], request_id);
    }
    // The rows are documented.
    let doc: Value = stack
        .http
        .get(stack.exp("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let messages = &doc["paths"]["/api/conversations/{id}/messages"]["get"];
    assert_eq!(messages["parameters"][0]["name"], "id");
    assert_eq!(
        messages["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/MessageList"
    );
    assert!(doc["paths"]["/api/conversations"]["get"].is_object());
    // A row's own query parameters are documented with the values the runtime accepts.
    let metrics = &doc["paths"]["/api/agents/{id}/metrics"]["get"]["parameters"];
    let window = metrics
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "window")
        .unwrap_or_else(|| panic!("no window parameter: {metrics}"));
    assert_eq!(window["in"], "query");
    assert_eq!(window["schema"]["pattern"], "^(1h|24h|7d|30d)$");
    // An intent row documents its body, its Idempotency-Key and its 409.
    let create = &doc["paths"]["/api/agents/wrappers"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/WrapperInput"
    );
    assert!(create["responses"]["409"].is_object(), "{create}");
    assert!(create["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
    assert!(doc["components"]["schemas"]["ConversationList"].is_object());
}

both_backends!(
    rows_enforce_their_scope,
    identity_comes_from_the_token_and_refusals_keep_the_request_id
);
