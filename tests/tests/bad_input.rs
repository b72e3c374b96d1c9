//! Bad input on both planes gets a precise 4xx with the one error body (SPEC §6), never a 5xx:
//! malformed JSON, missing fields, wrong content type, oversized bodies, unknown paths, wrong
//! methods, invalid registrations. Request ids are echoed in the header and the body. The
//! operational endpoints (`/openapi.json`, `/docs`, `/metrics`, `/health/live`) answer.

use e2e_tests::{both_backends, s, Backend, Stack};
use platform_sdk::runtime_client::actions;
use platform_sdk::traffic_cop::{IntentRequest, IntentSigner};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

/// Sends a raw request; `content_type` None sends no content type.
async fn raw(
    stack: &Stack,
    method: Method,
    url: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
    request_id: Option<&str>,
) -> Answer {
    let mut req = stack.http.request(method.clone(), url);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(id) = request_id {
        req = req.header("x-request-id", id);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert!(
        !status.is_server_error(),
        "{method} {url}: no 5xx in this suite: {status} {text}"
    );
    Answer {
        status,
        headers,
        body,
        text,
    }
}

async fn json_post(stack: &Stack, url: &str, body: &str) -> Answer {
    raw(
        stack,
        Method::POST,
        url,
        Some("application/json"),
        Some(body.as_bytes().to_vec()),
        None,
    )
    .await
}

/// Asserts the status and the full error body, with the request id in header and body equal.
fn assert_error(what: &str, answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{what}: {}", answer.text);
    let error = &answer.body["error"];
    assert_eq!(error["code"], code, "{what}: {}", answer.text);
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: message: {}",
        answer.text
    );
    let id = error["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: request_id: {}", answer.text));
    assert!(
        !id.is_empty() && id != "-",
        "{what}: a real request id: {}",
        answer.text
    );
    assert_eq!(
        answer
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(id),
        "{what}: x-request-id header equals error.request_id"
    );
    assert!(
        answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/json")),
        "{what}: JSON error body"
    );
}

fn assert_field(what: &str, answer: &Answer, field: &str) {
    assert_error(
        what,
        answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let fields = answer.body["error"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: fields: {}", answer.text));
    assert!(!fields.is_empty(), "{what}");
    assert_eq!(fields[0]["field"], field, "{what}: {}", answer.text);
    assert!(
        fields[0]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}"
    );
}

async fn experience_rejects_bad_requests_precisely(backend: Backend) {
    let stack = Stack::start(backend).await;
    let login = stack.exp("/api/auth/login");
    let register = stack.exp("/api/auth/register");

    // Malformed JSON.
    for (url, body) in [
        (&login, r#"{"email": "a@example.com", "password": "#),
        (&register, "{not json"),
        (&stack.exp("/api/auth/refresh"), ""),
    ] {
        assert_error(
            &format!("malformed JSON to {url}"),
            &json_post(&stack, url, body).await,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        );
    }

    // Missing fields.
    assert_field(
        "login without password",
        &json_post(&stack, &login, r#"{"email":"a@example.com"}"#).await,
        "password",
    );
    assert_field(
        "register without email",
        &json_post(&stack, &register, r#"{"password":"a-good-password-1"}"#).await,
        "email",
    );
    assert_field(
        "refresh without token",
        &json_post(&stack, &stack.exp("/api/auth/refresh"), "{}").await,
        "refresh_token",
    );

    // Wrong content type, or none.
    let body = br#"{"email":"a@example.com","password":"whatever-123"}"#.to_vec();
    let answer = raw(
        &stack,
        Method::POST,
        &login,
        Some("text/plain"),
        Some(body.clone()),
        None,
    )
    .await;
    assert_error(
        "text/plain login",
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let answer = raw(
        &stack,
        Method::POST,
        &login,
        Some("application/x-www-form-urlencoded"),
        Some(b"email=a&password=b".to_vec()),
        None,
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        answer.text
    );
    let answer = raw(&stack, Method::POST, &login, None, Some(body), None).await;
    assert_eq!(
        answer.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "no content type: {}",
        answer.text
    );

    // Oversized body (> 64 KiB).
    let huge = json!({"email": "a@example.com", "password": "x".repeat(100 * 1024)}).to_string();
    assert_error(
        "oversized login",
        &json_post(&stack, &login, &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let huge = json!({"email": "a@example.com", "password": "a-good-password-1", "name": "n".repeat(70 * 1024)}).to_string();
    assert_error(
        "oversized register",
        &json_post(&stack, &register, &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );

    // Unknown paths: 404, not 401, with or without a token.
    for path in [
        "/api/nope",
        "/api/auth/nope",
        "/nope",
        "/api/session",
        "/api/auth/sessions/a/b",
    ] {
        let answer = raw(&stack, Method::GET, &stack.exp(path), None, None, None).await;
        assert_error(
            &format!("GET {path}"),
            &answer,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let (status, _, body) = stack
            .call(
                Method::POST,
                &stack.exp(path),
                Some("garbage"),
                Some(json!({})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "POST {path} with a bad token: {body}"
        );
    }

    // Known paths, wrong methods.
    for (method, path) in [
        (Method::GET, "/api/auth/login"),
        (Method::PUT, "/api/auth/register"),
        (Method::GET, "/api/auth/refresh"),
        (Method::GET, "/api/auth/logout"),
        (Method::DELETE, "/api/auth/me"),
        (Method::POST, "/api/auth/sessions"),
        (Method::GET, "/api/session/create-anonymous"),
    ] {
        let answer = raw(&stack, method.clone(), &stack.exp(path), None, None, None).await;
        assert_error(
            &format!("{method} {path}"),
            &answer,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        );
    }

    // Invalid registrations.
    for email in [
        "not-an-email",
        "a@b",
        "a@@example.com",
        "   ",
        "a b@example.com",
        "@example.com",
    ] {
        let (status, _, body) = stack
            .call(
                Method::POST,
                &register,
                None,
                Some(json!({"email": email, "password": "a-good-password-1"})),
            )
            .await;
        let answer = Answer {
            status,
            headers: HeaderMap::new(),
            text: body.to_string(),
            body,
        };
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "email {email:?}: {}",
            answer.text
        );
        assert_eq!(
            answer.body["error"]["fields"][0]["field"], "email",
            "email {email:?}"
        );
    }
    let good_email = format!("pw-{}@example.com", uuid::Uuid::new_v4().simple());
    for password in [
        "short",
        "1234567",
        "password123",
        "Password1",
        "12345678",
        &"x".repeat(129),
    ] {
        let answer = json_post(
            &stack,
            &register,
            &json!({"email": good_email, "password": password}).to_string(),
        )
        .await;
        assert_field(&format!("password {password:?}"), &answer, "password");
    }
    // Both fields bad: both reported.
    let answer = json_post(
        &stack,
        &register,
        &json!({"email": "nope", "password": "short"}).to_string(),
    )
    .await;
    assert_error(
        "both bad",
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let fields: Vec<&str> = answer.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"password"),
        "{fields:?}"
    );
    // The refused registrations wrote nothing: the email is still free.
    let (status, body) = stack
        .post(
            "/api/auth/register",
            json!({"email": good_email, "password": "a-good-password-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Duplicate registration, differing only in case and surrounding whitespace.
    let (email, _, _) = stack.register().await;
    let variant = format!("  {}  ", email.to_uppercase());
    let answer = json_post(
        &stack,
        &register,
        &json!({"email": variant, "password": "another-good-password"}).to_string(),
    )
    .await;
    assert_error(
        "duplicate registration",
        &answer,
        StatusCode::CONFLICT,
        "email_taken",
    );
    assert!(answer.body["access_token"].is_null());
}

async fn runtime_rejects_bad_requests_precisely(backend: Backend) {
    let stack = Stack::start(backend).await;
    let create = stack.rt("/api/session/create");
    let signer = IntentSigner::new(stack.service_ring(), 30_000);
    let (tenant, user, session) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let intent = |payload: Value| {
        signer.sign(IntentRequest {
            action: actions::CREATE_SESSION,
            tenant_id: &tenant,
            user_id: Some(&user),
            session_id: &session,
            payload,
        })
    };

    assert_error(
        "malformed JSON",
        &json_post(&stack, &create, r#"{"contract": {"#).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );

    // Missing fields: the whole contract, or one field of it.
    let good = serde_json::to_value(intent(json!({"metadata": {}}))).unwrap();
    let mut no_contract = good.clone();
    no_contract.as_object_mut().unwrap().remove("contract");
    assert_field(
        "no contract",
        &json_post(&stack, &create, &no_contract.to_string()).await,
        "contract",
    );
    let mut no_action = good.clone();
    no_action["contract"]
        .as_object_mut()
        .unwrap()
        .remove("action");
    assert_field(
        "no action",
        &json_post(&stack, &create, &no_action.to_string()).await,
        "contract.action",
    );

    // Wrong content type.
    let answer = raw(
        &stack,
        Method::POST,
        &create,
        Some("text/plain"),
        Some(good.to_string().into_bytes()),
        None,
    )
    .await;
    assert_error(
        "text/plain intent",
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    // Oversized: a validly signed intent whose payload is over the limit.
    let huge = serde_json::to_value(intent(
        json!({"metadata": {"blob": "x".repeat(100 * 1024)}}),
    ))
    .unwrap();
    assert_error(
        "oversized intent",
        &json_post(&stack, &create, &huge.to_string()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    // None of the refused bodies created the session.
    let (status, _) = stack.runtime_session(&tenant, &session).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Unknown paths: 404 without any credential.
    for path in ["/api/nope", "/api/session", "/api/session/a/b/c", "/nope"] {
        let answer = raw(&stack, Method::GET, &stack.rt(path), None, None, None).await;
        assert_error(
            &format!("GET {path}"),
            &answer,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }

    // Known paths, wrong methods.
    let sid = uuid::Uuid::new_v4();
    for (method, path) in [
        (Method::GET, "/api/session/create".to_owned()),
        (Method::GET, "/api/session/create-anonymous".to_owned()),
        (Method::PUT, format!("/api/session/{sid}")),
        (Method::GET, format!("/api/session/{sid}/upgrade")),
        (Method::GET, format!("/api/session/{sid}/validate")),
        (Method::POST, "/api/sessions".to_owned()),
    ] {
        let answer = raw(&stack, method.clone(), &stack.rt(&path), None, None, None).await;
        assert_error(
            &format!("{method} {path}"),
            &answer,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        );
    }
}

async fn request_ids_are_echoed(backend: Backend) {
    let stack = Stack::start(backend).await;
    for url in [
        stack.exp("/api/auth/login"),
        stack.rt("/api/session/create"),
    ] {
        // On an error: header and body carry the client's id.
        let answer = raw(
            &stack,
            Method::POST,
            &url,
            Some("application/json"),
            Some(b"{".to_vec()),
            Some("my-req-123"),
        )
        .await;
        assert_error(&url, &answer, StatusCode::BAD_REQUEST, "malformed_json");
        assert_eq!(answer.body["error"]["request_id"], "my-req-123", "{url}");
        // Minted when absent, different each time.
        let first = raw(
            &stack,
            Method::POST,
            &url,
            Some("application/json"),
            Some(b"{".to_vec()),
            None,
        )
        .await;
        let second = raw(
            &stack,
            Method::POST,
            &url,
            Some("application/json"),
            Some(b"{".to_vec()),
            None,
        )
        .await;
        assert_ne!(
            first.body["error"]["request_id"],
            second.body["error"]["request_id"]
        );
        // A hostile id is replaced, not echoed.
        let answer = raw(
            &stack,
            Method::POST,
            &url,
            Some("application/json"),
            Some(b"{".to_vec()),
            Some("bad id\twith spaces"),
        )
        .await;
        assert_error(&url, &answer, StatusCode::BAD_REQUEST, "malformed_json");
        assert_ne!(answer.body["error"]["request_id"], "bad id\twith spaces");
    }
    // On success too, on both services.
    for url in [stack.exp("/health/live"), stack.rt("/health/live")] {
        let answer = raw(&stack, Method::GET, &url, None, None, Some("my-req-123")).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}");
        assert_eq!(
            answer
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok()),
            Some("my-req-123"),
            "{url}"
        );
    }
    // Through a whole flow: a login answered by experience (and the runtime behind it).
    let (email, password, _) = stack.register().await;
    let body = json!({"email": email, "password": password})
        .to_string()
        .into_bytes();
    let answer = raw(
        &stack,
        Method::POST,
        &stack.exp("/api/auth/login"),
        Some("application/json"),
        Some(body),
        Some("my-req-123"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("my-req-123")
    );
    // Every other error of a flow carries its id as well (unauthenticated, not found).
    let answer = raw(
        &stack,
        Method::GET,
        &stack.exp("/api/auth/me"),
        None,
        None,
        Some("my-req-456"),
    )
    .await;
    assert_error(
        "me without token",
        &answer,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_eq!(answer.body["error"]["request_id"], "my-req-456");
    let answer = raw(
        &stack,
        Method::GET,
        &stack.rt(&format!(
            "/api/session/{}?tenant_id=public",
            uuid::Uuid::new_v4()
        )),
        None,
        None,
        Some("my-req-789"),
    )
    .await;
    assert_error(
        "runtime read without token",
        &answer,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_eq!(answer.body["error"]["request_id"], "my-req-789");
}

async fn operational_endpoints(backend: Backend) {
    let stack = Stack::start(backend).await;
    // Some traffic first, so the request counters have samples.
    let (_, _, login) = stack.register().await;
    let (status, _) = stack
        .runtime_session(&s(&login, "tenant_id"), &s(&login, "session_id"))
        .await;
    assert_eq!(status, StatusCode::OK);

    for (base, spec_path) in [
        (stack.exp(""), "/api/auth/login"),
        (stack.rt(""), "/api/session/create"),
    ] {
        let answer = raw(
            &stack,
            Method::GET,
            &format!("{base}/openapi.json"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{base}/openapi.json");
        let version = answer.body["openapi"]
            .as_str()
            .unwrap_or_else(|| panic!("{base}: no openapi field"));
        assert!(version.starts_with("3."), "{base}: OpenAPI {version}");
        assert!(
            answer.body["paths"].get(spec_path).is_some(),
            "{base}: {spec_path} documented"
        );

        let answer = raw(
            &stack,
            Method::GET,
            &format!("{base}/docs"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{base}/docs");
        let content_type = answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("text/html"),
            "{base}/docs: {content_type}"
        );
        assert!(
            answer.text.contains("<html") && answer.text.contains("/openapi.json"),
            "{base}/docs"
        );

        let answer = raw(
            &stack,
            Method::GET,
            &format!("{base}/metrics"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{base}/metrics");
        assert!(
            answer.text.contains("symphainy_http_requests_total"),
            "{base}/metrics:\n{}",
            answer.text
        );

        let answer = raw(
            &stack,
            Method::GET,
            &format!("{base}/health/live"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{base}/health/live");
        let answer = raw(
            &stack,
            Method::GET,
            &format!("{base}/health/ready"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{base}/health/ready: {}",
            answer.text
        );
    }
    let answer = raw(
        &stack,
        Method::GET,
        &stack.exp("/openapi.json"),
        None,
        None,
        None,
    )
    .await;
    for path in [
        "/api/auth/register",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/me",
    ] {
        assert!(
            answer.body["paths"].get(path).is_some(),
            "experience documents {path}"
        );
    }
    let answer = raw(
        &stack,
        Method::GET,
        &stack.rt("/openapi.json"),
        None,
        None,
        None,
    )
    .await;
    for path in [
        "/api/session/create-anonymous",
        "/api/session/{id}/upgrade",
        "/api/session/{id}",
    ] {
        assert!(
            answer.body["paths"].get(path).is_some(),
            "runtime documents {path}"
        );
    }
}

async fn wrong_types_name_the_field(backend: Backend) {
    let stack = Stack::start(backend).await;
    let login = stack.exp("/api/auth/login");
    // Well-formed JSON with a field of the wrong type: 422 naming that field (not the value).
    let answer = json_post(
        &stack,
        &login,
        r#"{"email": 5, "password": "whatever-123"}"#,
    )
    .await;
    assert_field("email as a number", &answer, "email");
    let answer = json_post(
        &stack,
        &login,
        r#"{"email": "a@example.com", "password": null}"#,
    )
    .await;
    assert_field("null password", &answer, "password");
    let answer = json_post(
        &stack,
        &stack.exp("/api/auth/logout"),
        r#"{"all_sessions": "yes"}"#,
    )
    .await;
    assert!(answer.status.is_client_error(), "{}", answer.text);
}

both_backends!(
    experience_rejects_bad_requests_precisely,
    wrong_types_name_the_field,
    runtime_rejects_bad_requests_precisely,
    request_ids_are_echoed,
    operational_endpoints,
);
