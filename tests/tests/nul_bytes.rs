//! U+0000 in every text field of every endpoint (issue 7, defect 2): PostgreSQL cannot store a
//! NUL byte where SQLite can, so the platform refuses it everywhere, before any storage, and both
//! backends answer the same (docs/adr/0012): a JSON body field → `422 validation_failed` naming
//! the field; a query parameter → `400 invalid_query` naming it; a path segment → `404`; a
//! socket frame → an `error` frame `validation_failed` naming the field, the socket stays open.
//!
//! The table is the list of endpoints: a new endpoint with text input gets a row here.

use e2e_tests::ws::connect;
use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::runtime_client::actions;
use platform_sdk::traffic_cop::{IntentRequest, IntentSigner};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Which plane and credential a row uses.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// Experience, no token.
    Public,
    /// Experience, the user's access token.
    User,
    /// Runtime, a service token.
    Service,
    /// Runtime, the body is a signed intent for this action, with the row's body as payload.
    Intent(&'static str),
}

/// What a row must answer, on both backends.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// `422 validation_failed` naming this field.
    Field(&'static str),
    /// `400 invalid_query` naming this parameter.
    Query(&'static str),
    /// `404 not_found`.
    NotFound,
}

struct Row {
    what: &'static str,
    via: Via,
    method: Method,
    /// Path and query; `{tenant}`, `{user}`, `{session}` are filled in.
    path: &'static str,
    /// Raw JSON text (so NUL escapes go out exactly as written).
    body: Option<&'static str>,
    expect: Expect,
}

const fn row(
    what: &'static str,
    via: Via,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    expect: Expect,
) -> Row {
    Row {
        what,
        via,
        method,
        path,
        body,
        expect,
    }
}

fn rows() -> Vec<Row> {
    use Expect::*;
    use Via::*;
    let post = Method::POST;
    let get = Method::GET;
    vec![
        // Experience: identity.
        row(
            "register email",
            Public,
            post.clone(),
            "/api/auth/register",
            Some(
                r#"{"email":"a\u0000b@example.com","password":"correct horse battery","name":"n"}"#,
            ),
            Field("email"),
        ),
        row(
            "register password",
            Public,
            post.clone(),
            "/api/auth/register",
            Some(r#"{"email":"nul-pw@example.com","password":"correct\u0000horse battery"}"#),
            Field("password"),
        ),
        row(
            "register name",
            Public,
            post.clone(),
            "/api/auth/register",
            Some(
                r#"{"email":"nul-name@example.com","password":"correct horse battery","name":"a\u0000b"}"#,
            ),
            Field("name"),
        ),
        row(
            "register tenant_name",
            Public,
            post.clone(),
            "/api/auth/register",
            Some(
                r#"{"email":"nul-tenant@example.com","password":"correct horse battery","tenant_name":"a\u0000b"}"#,
            ),
            Field("tenant_name"),
        ),
        row(
            "register unknown field",
            Public,
            post.clone(),
            "/api/auth/register",
            Some(
                r#"{"email":"nul-x@example.com","password":"correct horse battery","invitation_token":"\u0000"}"#,
            ),
            Field("invitation_token"),
        ),
        row(
            "login email",
            Public,
            post.clone(),
            "/api/auth/login",
            Some(r#"{"email":"a\u0000@example.com","password":"whatever-it-is"}"#),
            Field("email"),
        ),
        row(
            "login password",
            Public,
            post.clone(),
            "/api/auth/login",
            Some(r#"{"email":"nobody@example.com","password":"a\u0000b"}"#),
            Field("password"),
        ),
        row(
            "refresh token",
            Public,
            post.clone(),
            "/api/auth/refresh",
            Some(r#"{"refresh_token":"abc\u0000def"}"#),
            Field("refresh_token"),
        ),
        row(
            "logout body value",
            User,
            post.clone(),
            "/api/auth/logout",
            Some(r#"{"all_sessions":false,"reason":"x\u0000"}"#),
            Field("reason"),
        ),
        row(
            "logout body key",
            User,
            post.clone(),
            "/api/auth/logout",
            Some(r#"{"a\u0000":true}"#),
            Field("a\\u0000"),
        ),
        row(
            "me query",
            User,
            get.clone(),
            "/api/auth/me?x=%00",
            None,
            Query("x"),
        ),
        row(
            "sessions query",
            User,
            get.clone(),
            "/api/auth/sessions?a%00=1",
            None,
            Query("a%00"),
        ),
        row(
            "end session id",
            User,
            Method::DELETE,
            "/api/auth/sessions/a%00b",
            None,
            NotFound,
        ),
        row(
            "session id",
            User,
            get.clone(),
            "/api/session/{session}%00",
            None,
            NotFound,
        ),
        row(
            "anonymous session id",
            Public,
            get.clone(),
            "/api/session/a%00",
            None,
            NotFound,
        ),
        // Experience: gateway rows.
        row(
            "conversations cursor",
            User,
            get.clone(),
            "/api/conversations?cursor=%00",
            None,
            Query("cursor"),
        ),
        row(
            "conversation id",
            User,
            get.clone(),
            "/api/conversations/a%00b/messages",
            None,
            NotFound,
        ),
        row(
            "socket session_id",
            Public,
            get.clone(),
            "/api/runtime/agent?session_id=%00",
            None,
            Query("session_id"),
        ),
        row(
            "trust agent id",
            User,
            get.clone(),
            "/api/governance/trust/a%00",
            None,
            NotFound,
        ),
        row(
            "compliance window",
            User,
            get.clone(),
            "/api/governance/compliance/guide?window=%00",
            None,
            Query("window"),
        ),
        row(
            "policy name",
            User,
            post.clone(),
            "/api/governance/policies",
            Some(
                r#"{"name":"a\u0000","policy_type":"SECURITY","enforcement_level":"STRICT","rules":[{"action_type":"*","condition":"deny_all"}]}"#,
            ),
            Field("name"),
        ),
        row(
            "policy blocked term",
            User,
            post.clone(),
            "/api/governance/policies",
            Some(
                r#"{"name":"a","policy_type":"SECURITY","enforcement_level":"STRICT","rules":[{"action_type":"*","condition":{"type":"blocked_terms","terms":["x\u0000"]}}]}"#,
            ),
            Field("rules[0].condition.terms[0]"),
        ),
        row(
            "policy id",
            User,
            get.clone(),
            "/api/governance/policies/a%00",
            None,
            NotFound,
        ),
        row(
            "evaluate content",
            User,
            post.clone(),
            "/api/governance/evaluate",
            Some(r#"{"agent_id":"guide","action_type":"agent_input","content":"x\u0000"}"#),
            Field("content"),
        ),
        row(
            "violations agent filter",
            User,
            get.clone(),
            "/api/governance/violations?agent_id=%00",
            None,
            Query("agent_id"),
        ),
        row(
            "governance loop plan id",
            User,
            post.clone(),
            "/loop/execute",
            Some(
                r#"{"request_id":"0b5e3b8e-4f1c-4a57-9a4e-2f0d7c1b6a90","plan_input":{"plan_id":"p\u0000","plan_details":{}}}"#,
            ),
            Field("plan_input.plan_id"),
        ),
        // Runtime: reads with the service token.
        row(
            "runtime session tenant",
            Service,
            get.clone(),
            "/api/session/{session}?tenant_id=%00",
            None,
            Query("tenant_id"),
        ),
        row(
            "runtime sessions user",
            Service,
            get.clone(),
            "/api/sessions?tenant_id={tenant}&user_id=a%00",
            None,
            Query("user_id"),
        ),
        row(
            "runtime conversations user",
            Service,
            get.clone(),
            "/api/conversations?tenant_id={tenant}&user_id=%00",
            None,
            Query("user_id"),
        ),
        row(
            "runtime conversation id",
            Service,
            get.clone(),
            "/api/conversations/x%00/messages?tenant_id={tenant}&user_id={user}",
            None,
            NotFound,
        ),
        row(
            "runtime execution id",
            Service,
            get.clone(),
            "/api/execution/e%00?tenant_id={tenant}",
            None,
            NotFound,
        ),
        row(
            "runtime validate user",
            Service,
            post.clone(),
            "/api/session/{session}/validate",
            Some(r#"{"tenant_id":"t","user_id":"u\u0000"}"#),
            Field("user_id"),
        ),
        // Runtime: signed intents (the payload is the row's body).
        row(
            "intent text",
            Intent(actions::SUBMIT_INTENT),
            post.clone(),
            "/api/intent/submit",
            Some(r#"{"text":"hello\u0000world","agent_type":"guide"}"#),
            Field("contract.payload.text"),
        ),
        row(
            "intent conversation",
            Intent(actions::SUBMIT_INTENT),
            post.clone(),
            "/api/intent/submit",
            Some(r#"{"text":"hello","agent_type":"guide","conversation_id":"c\u0000"}"#),
            Field("contract.payload.conversation_id"),
        ),
        row(
            "session metadata",
            Intent(actions::CREATE_SESSION),
            post.clone(),
            "/api/session/create",
            Some(r#"{"metadata":{"user_agent":"x\u0000"}}"#),
            Field("contract.payload.metadata.user_agent"),
        ),
    ]
}

async fn every_text_field_refuses_nul_alike(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let (tenant, user, session) = (
        s(&login, "tenant_id"),
        s(&login, "user_id"),
        s(&login, "session_id"),
    );
    let (service_token, _) =
        platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let signer = IntentSigner::new(stack.service_ring(), 30_000);
    for row in rows() {
        let path = row
            .path
            .replace("{tenant}", &tenant)
            .replace("{user}", &user)
            .replace("{session}", &session);
        let (url, bearer, body) = match row.via {
            Via::Public => (stack.exp(&path), None, row.body.map(str::to_owned)),
            Via::User => (
                stack.exp(&path),
                Some(token.as_str()),
                row.body.map(str::to_owned),
            ),
            Via::Service => (
                stack.rt(&path),
                Some(service_token.as_str()),
                row.body.map(str::to_owned),
            ),
            Via::Intent(action) => {
                // Sign the payload as given, then put the NUL text back: the signature covers the
                // decoded payload, so the runtime sees a correctly signed contract holding NUL.
                let payload: Value = serde_json::from_str(row.body.unwrap()).unwrap();
                let signed = signer.sign(IntentRequest {
                    action,
                    tenant_id: &tenant,
                    user_id: Some(&user),
                    session_id: &session,
                    payload,
                });
                let text = serde_json::to_string(&signed).unwrap();
                (stack.rt(&path), Some(service_token.as_str()), Some(text))
            }
        };
        let mut req = stack.http.request(row.method.clone(), &url);
        if let Some(bearer) = bearer {
            req = req.bearer_auth(bearer);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let what = format!("{} ({} {path}): {status} {text}", row.what, row.method);
        assert!(!status.is_server_error(), "{what}");
        assert!(
            answer["error"]["request_id"].is_string(),
            "error body: {what}"
        );
        match row.expect {
            Expect::Field(field) => {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
                assert_eq!(answer["error"]["code"], "validation_failed", "{what}");
                assert_eq!(answer["error"]["fields"][0]["field"], field, "{what}");
            }
            Expect::Query(field) => {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
                assert_eq!(answer["error"]["code"], "invalid_query", "{what}");
                assert_eq!(answer["error"]["fields"][0]["field"], field, "{what}");
            }
            Expect::NotFound => {
                assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
                assert_eq!(answer["error"]["code"], "not_found", "{what}");
            }
        }
    }
    // Nothing was written: the user still has exactly the one session, no conversation.
    let (_, sessions) = stack.get("/api/auth/sessions", &token).await;
    assert_eq!(
        sessions["sessions"].as_array().map(Vec::len),
        Some(1),
        "{sessions}"
    );
}

/// Socket frames: every text a frame carries.
async fn socket_frames_refuse_nul_alike(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let mut ws = connect(&stack, &format!("access_token={token}"))
        .await
        .unwrap();
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    let frames = [
        (
            "intent",
            r#"{"type":"intent","intent":"hello\u0000world","agent_type":"guide"}"#,
        ),
        (
            "metadata.conversation_id",
            r#"{"type":"intent","intent":"hi","metadata":{"conversation_id":"c\u0000"}}"#,
        ),
        (
            "metadata.client_message_id",
            r#"{"type":"intent","intent":"hi","metadata":{"client_message_id":"x\u0000y"}}"#,
        ),
        (
            "metadata.pillar",
            r#"{"type":"intent","intent":"hi","agent_type":"liaison","metadata":{"pillar":"content\u0000"}}"#,
        ),
        (
            "session_id",
            r#"{"type":"intent","intent":"hi","session_id":"\u0000"}"#,
        ),
        (
            "agent_type",
            r#"{"type":"intent","intent":"hi","agent_type":"guide\u0000"}"#,
        ),
        (
            "payload.text",
            r#"{"type":"agent.message","payload":{"text":"a\u0000","context":{"surface":"chat"}}}"#,
        ),
        (
            "payload.context.surface",
            r#"{"type":"agent.message","payload":{"text":"a","context":{"surface":"\u0000"}}}"#,
        ),
        (
            "hook_id",
            r#"{"type":"safety_response","hook_id":"h\u0000","response_type":"approval","approved":true}"#,
        ),
        (
            "execution_id",
            r#"{"type":"cancel","execution_id":"\u0000"}"#,
        ),
    ];
    for (field, frame) in frames {
        ws.send_text(frame.to_owned()).await;
        let answer = ws.next().await;
        assert_eq!(answer["type"], "error", "{field}: {answer}");
        assert_eq!(answer["code"], "validation_failed", "{field}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{field}`")),
            "{field}: {answer}"
        );
    }
    // Still open, and nothing ran: no conversation was recorded.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong");
    ws.close().await;
    let (status, list) = stack.get("/api/conversations", &token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"], json!([]));
}

both_backends!(
    every_text_field_refuses_nul_alike,
    socket_frames_refuse_nul_alike
);
