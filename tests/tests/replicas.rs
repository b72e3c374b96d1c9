//! Several replicas on one database (SPEC §17, docs/adr/0013-replicas-and-leases.md): processes
//! starting at once on one PostgreSQL schema all come up; two different services on one schema
//! (or one SQLite file) refuse with a message that says so; an execution whose runtime is killed
//! is failed by another replica within the lease time, and restarting a replica leaves other
//! replicas' live executions alone.
//!
//! Replicas sharing sessions need the shared State Surface (Redis), so the multi-replica tests
//! run on the production backend only; the ownership refusal runs on both.

use std::time::Duration;

use e2e_tests::ws::{connect, Ws};
use e2e_tests::{s, with_env, Backend, Service, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn env_value(env: &[(String, String)], key: &str) -> String {
    env.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{key} not set"))
}

async fn ready(stack: &Stack, service: &Service) {
    let (status, _, body) = stack
        .call(Method::GET, &service.url("/health/ready"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Two different services on one database: the second refuses and names the owner.
async fn two_services_on_one_schema_refuse(backend: Backend) {
    let stack = Stack::start(backend).await;
    let runtime_env = stack.runtime_env();
    let experience_env = stack.experience_env();
    // Point experience at the runtime's database.
    let (key, value) = match backend {
        Backend::Production => (
            "APP__DATABASE__SCHEMA",
            env_value(&runtime_env, "APP__DATABASE__SCHEMA"),
        ),
        Backend::Embedded => (
            "APP__DATABASE__URL",
            format!(
                "sqlite://{}/runtime.db?mode=rwc",
                env_value(&runtime_env, "APP__DATA_DIR")
            ),
        ),
    };
    let (status, output) =
        Service::start_expecting_exit("experience-service", with_env(&experience_env, key, &value))
            .await;
    assert!(!status.success());
    assert!(
        output.contains("holds the migrations of another service (runtime-service)")
            && output.contains("give each service its own"),
        "{output}"
    );
    // And the other way round.
    let (key, value) = match backend {
        Backend::Production => (
            "APP__DATABASE__SCHEMA",
            env_value(&experience_env, "APP__DATABASE__SCHEMA"),
        ),
        Backend::Embedded => (
            "APP__DATABASE__URL",
            format!(
                "sqlite://{}/experience.db?mode=rwc",
                env_value(&experience_env, "APP__DATA_DIR")
            ),
        ),
    };
    let (status, output) =
        Service::start_expecting_exit("runtime-service", with_env(&runtime_env, key, &value)).await;
    assert!(!status.success());
    assert!(
        output.contains("holds the migrations of another service (experience-service)"),
        "{output}"
    );
    // The running services were not disturbed.
    ready(&stack, stack.runtime.as_ref().unwrap()).await;
    ready(&stack, &stack.experience).await;
    stack.register().await;
}

mod embedded {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_services_on_one_schema_refuse() {
        super::two_services_on_one_schema_refuse(e2e_tests::Backend::Embedded).await
    }
}

fn approval_turn() -> Value {
    json!({"type": "intent", "intent": "please run the invoice approval workflow", "agent_type": "liaison", "metadata": {"pillar": "operations"}})
}

/// Opens a socket and starts a turn that waits for a human: returns the socket and the execution.
async fn waiting_execution(stack: &Stack, login: &Value) -> (Ws, String) {
    let mut ws = connect(stack, &format!("access_token={}", s(login, "access_token")))
        .await
        .unwrap();
    assert_eq!(ws.next().await["event_type"], "CONNECTION_ESTABLISHED");
    ws.send(approval_turn()).await;
    let frames = ws.until("SAFETY_APPROVAL_PENDING").await;
    let pending = frames
        .iter()
        .find(|f| f["event_type"] == "SAFETY_APPROVAL_PENDING")
        .unwrap();
    (ws, s(&pending["data"], "execution_id"))
}

/// Reads an execution (or its events) from one runtime with a service token.
async fn read(stack: &Stack, runtime: &Service, path: &str, tenant: &str) -> Value {
    let (token, _) = platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
    let url = runtime.url(&format!("{path}?tenant_id={tenant}"));
    let (status, _, body) = stack.call(Method::GET, &url, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

mod production {
    use super::*;
    use e2e_tests::Options;

    const LEASE_MS: u64 = 1_500;

    fn short_leases() -> Options {
        Options {
            runtime_env: vec![("APP__EXECUTIONS__LEASE_MS".into(), LEASE_MS.to_string())],
            ..Options::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_services_on_one_schema_refuse() {
        super::two_services_on_one_schema_refuse(Backend::Production).await
    }

    fn fresh_schema(suffix: &str) -> String {
        format!(
            "t_{}_{suffix}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_starting_together_on_a_fresh_schema_all_come_up() {
        let stack = Stack::start(Backend::Production).await;
        for _ in 0..3 {
            let env = with_env(
                &stack.runtime_env(),
                "APP__DATABASE__SCHEMA",
                &fresh_schema("rr"),
            );
            let (a, b) = tokio::join!(
                Service::start("runtime-service", env.clone()),
                Service::start("runtime-service", env)
            );
            ready(&stack, &a).await;
            ready(&stack, &b).await;
        }
        let env = with_env(
            &stack.experience_env(),
            "APP__DATABASE__SCHEMA",
            &fresh_schema("ee"),
        );
        let (a, b) = tokio::join!(
            Service::start("experience-service", env.clone()),
            Service::start("experience-service", env)
        );
        ready(&stack, &a).await;
        ready(&stack, &b).await;
        // Both serve from the one schema: a user registered through one logs in through the other.
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let body = json!({"email": email, "password": "pw-long-enough-1", "name": "Two"});
        let (status, _, created) = stack
            .call(Method::POST, &a.url("/api/auth/register"), None, Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let body = json!({"email": email, "password": "pw-long-enough-1"});
        let (status, _, login) = stack
            .call(Method::POST, &b.url("/api/auth/login"), None, Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{login}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_runtime_executions_are_failed_by_another_replica() {
        let mut stack = Stack::start_with(Backend::Production, short_leases()).await;
        let other = stack.another_runtime().await;
        let (_, _, login) = stack.register().await;
        let tenant = s(&login, "tenant_id");
        let (_ws, execution) = waiting_execution(&stack, &login).await;
        let path = format!("/api/execution/{execution}");
        assert_eq!(
            read(&stack, &other, &path, &tenant).await["status"],
            "awaiting_approval"
        );

        stack.runtime.as_mut().unwrap().kill().await; // SIGKILL: no goodbye
        let killed = tokio::time::Instant::now();
        // Expiry (≤ lease) + one sweep period (lease / 2) + margin for a loaded machine.
        let deadline = killed + Duration::from_millis(LEASE_MS * 2 + 5_000);
        let record = loop {
            let record = read(&stack, &other, &path, &tenant).await;
            if record["status"] != "awaiting_approval" {
                break record;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "still {record} after {:?}",
                killed.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(record["status"], "failed", "{record}");
        assert!(
            s(&record, "error").contains("restarted or lost"),
            "{record}"
        );

        // Exactly one EXECUTION_FAILED, carrying the reason.
        let page = read(&stack, &other, &format!("{path}/events"), &tenant).await;
        let failed: Vec<&Value> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == "EXECUTION_FAILED")
            .collect();
        assert_eq!(failed.len(), 1, "{page}");
        assert_eq!(failed[0]["data"]["reason"], "owner_lost");
        assert_eq!(failed[0]["data"]["execution_id"], execution.as_str());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stopping_runtime_fails_its_executions_without_waiting_for_the_lease() {
        // The default 15 s lease: the failure must come from the stop, not from a sweep.
        let options = Options {
            runtime_env: vec![("APP__SERVER__SHUTDOWN_TIMEOUT_SECS".into(), "1".into())],
            ..Options::default()
        };
        let mut stack = Stack::start_with(Backend::Production, options).await;
        let other = stack.another_runtime().await;
        let (_, _, login) = stack.register().await;
        let tenant = s(&login, "tenant_id");
        let (_ws, execution) = waiting_execution(&stack, &login).await;
        let stopping = tokio::time::Instant::now();
        let status = stack.runtime.as_mut().unwrap().terminate().await;
        assert!(status.success(), "{status:?}");
        assert!(stopping.elapsed() < Duration::from_secs(10));
        let path = format!("/api/execution/{execution}");
        let record = read(&stack, &other, &path, &tenant).await;
        assert_eq!(record["status"], "failed", "{record}");
        let page = read(&stack, &other, &format!("{path}/events"), &tenant).await;
        let failed: Vec<&Value> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == "EXECUTION_FAILED")
            .collect();
        assert_eq!(failed.len(), 1, "{record} {page}");
        assert_eq!(failed[0]["data"]["reason"], "owner_stopped");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn restarting_a_replica_leaves_live_executions_alone() {
        let stack = Stack::start_with(Backend::Production, short_leases()).await;
        let mut other = stack.another_runtime().await;
        let (_, _, login) = stack.register().await;
        let tenant = s(&login, "tenant_id");
        let (mut ws, execution) = waiting_execution(&stack, &login).await;

        // The other replica restarts (its start-up sweep runs) while the execution waits on the
        // first one.
        other.restart().await;
        // A negative property needs a window: past two leases and several sweeps of both replicas,
        // a lease that were not renewed would have been swept.
        tokio::time::sleep(Duration::from_millis(LEASE_MS * 2 + 500)).await;
        let path = format!("/api/execution/{execution}");
        let record = read(&stack, &other, &path, &tenant).await;
        assert_eq!(record["status"], "awaiting_approval", "{record}");

        // The owner still runs it: approving completes it.
        let hook = read(&stack, &other, &format!("{path}/events"), &tenant).await["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_type"] == "SAFETY_APPROVAL_PENDING")
            .unwrap()["data"]["hook_id"]
            .clone();
        ws.send(json!({"type": "safety_response", "hook_id": hook, "response_type": "approval", "approved": true}))
            .await;
        let frames = ws.until_finished().await;
        assert_eq!(
            frames.last().unwrap()["event_type"],
            "EXECUTION_COMPLETED",
            "{frames:?}"
        );
        assert_eq!(
            read(&stack, &other, &path, &tenant).await["status"],
            "completed"
        );
    }
}
