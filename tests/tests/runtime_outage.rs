//! The experience plane without its runtime: register/login answer `503 runtime_unavailable`
//! quickly with `Retry-After`, nothing is half-created, readiness reports the outage, and once
//! the runtime is back (started late, or restarted) everything works without restarting
//! experience.

use std::time::{Duration, Instant};

use e2e_tests::{
    both_backends, free_port, postgres_url, redis_url, s, Backend, Options, Service, Stack,
};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// How long a refused call may take: the runtime timeout is 500 ms.
const QUICK: Duration = Duration::from_secs(2);

fn timeout_env() -> Vec<(String, String)> {
    vec![("APP__RUNTIME__TIMEOUT_MS".to_owned(), "500".to_owned())]
}

/// Environment of a runtime of our own on `port`, sharing the stack's service secret, with its
/// own storage (like the harness gives each service).
fn runtime_env(stack: &Stack, port: u16) -> Vec<(String, String)> {
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let mut env = vec![
        ("APP__SERVER__PORT".to_owned(), port.to_string()),
        ("APP__SERVER__WORKERS".to_owned(), "2".to_owned()),
        (
            "APP__SECURITY__SERVICE_SECRET".to_owned(),
            stack.service_secret.clone(),
        ),
        (
            "APP__DATA_DIR".to_owned(),
            stack.dir.join("rt2").display().to_string(),
        ),
    ];
    if stack.backend == Backend::Production {
        env.extend([
            ("APP__DATABASE__URL".to_owned(), postgres_url()),
            ("APP__DATABASE__SCHEMA".to_owned(), format!("t_{id}_rt2")),
            ("APP__DATABASE__MAX_CONNECTIONS".to_owned(), "8".to_owned()),
            ("APP__STATE__BACKEND".to_owned(), "redis".to_owned()),
            ("APP__REDIS__URL".to_owned(), redis_url()),
            (
                "APP__STATE__KEY_PREFIX".to_owned(),
                format!("test-{id}-rt2:"),
            ),
        ]);
    }
    env
}

async fn timed_post(
    stack: &Stack,
    path: &str,
    body: Value,
) -> (StatusCode, HeaderMap, Value, Duration) {
    let started = Instant::now();
    let (status, headers, body) = stack
        .call(Method::POST, &stack.exp(path), None, Some(body))
        .await;
    (status, headers, body, started.elapsed())
}

fn assert_unavailable(
    what: &str,
    (status, headers, body, took): (StatusCode, HeaderMap, Value, Duration),
) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    assert_eq!(
        body["error"]["code"], "runtime_unavailable",
        "{what}: {body}"
    );
    let retry = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry.is_some_and(|r| r >= 1),
        "{what}: Retry-After required: {headers:?}"
    );
    assert!(took < QUICK, "{what}: took {took:?}");
    assert!(body["access_token"].is_null());
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("127.0.0.1") && !message.contains("error sending"),
        "{what}: no internal detail: {message}"
    );
}

async fn ready(stack: &Stack) -> (StatusCode, Value) {
    let (status, _, body) = stack
        .call(Method::GET, &stack.exp("/health/ready"), None, None)
        .await;
    (status, body)
}

async fn register_without_runtime_writes_nothing(backend: Backend) {
    let port = free_port();
    let mut stack = Stack::start_with(
        backend,
        Options {
            experience_env: timeout_env(),
            runtime_url: Some(format!("http://127.0.0.1:{port}")),
            ..Options::default()
        },
    )
    .await;

    let (status, health) = ready(&stack).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["checks"]["runtime"], false, "{health}");
    let (status, _, _) = stack
        .call(Method::GET, &stack.exp("/health/live"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "alive, though not ready");

    let email = format!("late-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = "a-perfectly-fine-password";
    let registration = json!({"email": email, "password": password, "name": "Late"});
    assert_unavailable(
        "register",
        timed_post(&stack, "/api/auth/register", registration.clone()).await,
    );
    // A retry is refused the same way (no `email_taken`: nothing was written).
    assert_unavailable(
        "register again",
        timed_post(&stack, "/api/auth/register", registration.clone()).await,
    );
    // No account exists: logging in is a plain invalid_credentials.
    let (status, body) = stack
        .post(
            "/api/auth/login",
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_credentials");
    // Anonymous sessions need the runtime too.
    assert_unavailable(
        "anonymous session",
        timed_post(&stack, "/api/session/create-anonymous", json!({})).await,
    );

    // The runtime comes up on that port: the same registration now succeeds.
    let runtime = Service::start("runtime-service", runtime_env(&stack, port)).await;
    assert_eq!(runtime.addr.port(), port);
    stack.runtime = Some(runtime);
    let (status, registered) = stack.post("/api/auth/register", registration).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "no user row was left behind: {registered}"
    );
    assert_eq!(registered["user"]["email"], email.as_str());
    let login = stack.login(&email, password).await;
    let (status, session) = stack
        .runtime_session(&s(&login, "tenant_id"), &s(&login, "session_id"))
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["status"], "active");
    let (status, me) = stack.get("/api/auth/me", &s(&login, "access_token")).await;
    assert_eq!(status, StatusCode::OK, "{me}");

    let (status, health) = ready(&stack).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["checks"]["runtime"], true);
}

async fn runtime_killed_then_restarted(backend: Backend) {
    let mut stack = Stack::start_with(
        backend,
        Options {
            experience_env: timeout_env(),
            ..Options::default()
        },
    )
    .await;
    let (email, password, registered) = stack.register().await;
    let (status, _) = ready(&stack).await;
    assert_eq!(status, StatusCode::OK);

    stack.runtime.as_mut().unwrap().kill().await;
    let credentials = json!({"email": email, "password": password});
    assert_unavailable(
        "login",
        timed_post(&stack, "/api/auth/login", credentials.clone()).await,
    );
    assert_unavailable(
        "login again",
        timed_post(&stack, "/api/auth/login", credentials.clone()).await,
    );
    let (status, _, body) = stack
        .call(
            Method::GET,
            &stack.exp(&format!("/api/session/{}", s(&registered, "session_id"))),
            Some(&s(&registered, "access_token")),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "reading a session needs the runtime: {body}"
    );
    assert_eq!(body["error"]["code"], "runtime_unavailable");
    let (status, health) = ready(&stack).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["checks"]["runtime"], false);

    stack.runtime.as_mut().unwrap().restart().await;
    let (status, health) = ready(&stack).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let (status, login) = stack.post("/api/auth/login", credentials).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "login works again without restarting experience: {login}"
    );
    let (status, session) = stack
        .runtime_session(&s(&login, "tenant_id"), &s(&login, "session_id"))
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["status"], "active");
    let (status, own) = stack
        .get(
            &format!("/api/session/{}", s(&login, "session_id")),
            &s(&login, "access_token"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
}

async fn hung_runtime_times_out(backend: Backend) {
    // A listener that accepts connections (the kernel completes the handshake) but never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hung.local_addr().unwrap().port();
    let stack = Stack::start_with(
        backend,
        Options {
            experience_env: timeout_env(),
            runtime_url: Some(format!("http://127.0.0.1:{port}")),
            ..Options::default()
        },
    )
    .await;
    let email = format!("hung-{}@example.com", uuid::Uuid::new_v4().simple());
    let registration = json!({"email": email, "password": "a-perfectly-fine-password"});
    let answer = timed_post(&stack, "/api/auth/register", registration).await;
    assert!(
        answer.3 >= Duration::from_millis(400),
        "the runtime timeout was waited out: {:?}",
        answer.3
    );
    assert_unavailable("register against a hung runtime", answer);
    let started = Instant::now();
    let (status, health) = ready(&stack).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert!(
        started.elapsed() < QUICK,
        "readiness is bounded too: {:?}",
        started.elapsed()
    );
    drop(hung);
}

both_backends!(
    register_without_runtime_writes_nothing,
    runtime_killed_then_restarted,
    hung_runtime_times_out
);
