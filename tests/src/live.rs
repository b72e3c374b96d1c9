//! Helpers of the live event and notification tests: members, STRICT policies, evaluations that
//! violate them, mutations with an `Idempotency-Key`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{s, Stack};

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

/// Invites and registers a member of the owner's tenant with `role`; answers its login.
pub async fn member(stack: &Stack, owner_token: &str, role: &str) -> Value {
    let email = format!("m-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, invitation) = stack
        .send(
            Method::POST,
            "/api/tenants/current/members",
            owner_token,
            Some(json!({"email": email, "role": role})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let (status, joined) = stack
        .post(
            "/api/auth/register",
            json!({"email": email, "password": format!("pw-{}", uuid::Uuid::new_v4().simple()),
                   "invitation_token": s(&invitation, "token")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    joined
}

/// A STRICT (`high`) blocked-terms policy on inputs.
pub async fn strict_policy(stack: &Stack, token: &str, name: &str, term: &str) {
    let body = json!({"name": name, "policy_type": "SECURITY", "status": "ACTIVE",
        "enforcement_level": "STRICT",
        "rules": [{"action_type": "agent_input", "condition": {"type": "blocked_terms", "terms": [term]}}]});
    let (status, created) =
        mutate(stack, Method::POST, "/api/governance/policies", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

/// Evaluates an input of `agent` carrying `content`.
pub async fn evaluate(stack: &Stack, token: &str, agent: &str, content: &str) -> Value {
    let body = json!({"agent_id": agent, "action_type": "agent_input", "content": content});
    let (status, decision) =
        mutate(stack, Method::POST, "/api/governance/evaluate", token, body).await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    decision
}
