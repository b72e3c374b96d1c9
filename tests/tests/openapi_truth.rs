//! The OpenAPI documents tell the truth (issue 7 §4): every operation lists the statuses the
//! shared plumbing answers, each with the error body schema; validation rules are in the
//! schemas; a `405` carries `Allow`; a body that is not JSON is refused where one is read
//! (logout with random bytes used to answer 204). `scripts/fuzz.sh` checks the rest with
//! schemathesis.

use e2e_tests::{both_backends, s, Backend, Stack};
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn doc(stack: &Stack, url: String) -> Value {
    stack
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn assert_complete(what: &str, doc: &Value) {
    let error_ref = "#/components/schemas/ErrorBody";
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/health/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            let mut needed = vec!["400", "503"];
            if op.get("requestBody").is_some() {
                needed.extend(["413", "415", "422"]);
            }
            if path.contains('{') {
                needed.push("404");
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                needed.push("401");
            }
            for status in needed {
                assert_eq!(
                    responses[status]["content"]["application/json"]["schema"]["$ref"], error_ref,
                    "{what}: {method} {path} documents {status} with the error body"
                );
            }
        }
    }
}

async fn documents_are_complete(backend: Backend) {
    let stack = Stack::start(backend).await;
    let exp = doc(&stack, stack.exp("/openapi.json")).await;
    let rt = doc(&stack, stack.rt("/openapi.json")).await;
    assert_complete("experience", &exp);
    assert_complete("runtime", &rt);

    let register = &exp["components"]["schemas"]["RegisterRequest"]["properties"];
    assert_eq!(register["email"]["format"], "email");
    assert_eq!(register["password"]["minLength"], 8);
    assert_eq!(register["password"]["maxLength"], 128);
    assert_eq!(register["name"]["maxLength"], 200);
    let refresh = &exp["components"]["schemas"]["RefreshRequest"]["properties"];
    assert_eq!(refresh["refresh_token"]["pattern"], "^[^\\u0000]*$");
    let list = &exp["paths"]["/api/conversations"]["get"]["parameters"];
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(p, "name"))
        .collect();
    assert!(
        names.contains(&"limit".to_owned()) && names.contains(&"cursor".to_owned()),
        "{list}"
    );
}

async fn wrong_methods_say_what_is_allowed(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    for (method, url, allow) in [
        (Method::GET, stack.exp("/api/auth/login"), "POST"),
        (Method::DELETE, stack.exp("/api/auth/me"), "GET"),
        (Method::PUT, stack.exp("/api/conversations"), "GET"),
        (Method::POST, stack.exp("/health/live"), "GET"),
        (Method::TRACE, stack.rt("/api/sessions"), "GET"),
        (Method::PATCH, stack.rt("/api/session/create"), "POST"),
    ] {
        let (status, headers, body) = stack.call(method.clone(), &url, Some(&token), None).await;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {url}: {body}"
        );
        assert_eq!(body["error"]["code"], "method_not_allowed");
        let got = headers
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            got.split(", ").any(|m| m == allow),
            "{method} {url}: Allow {got:?}"
        );
    }
}

async fn logout_refuses_a_body_that_is_not_json(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (_, _, login) = stack.register().await;
    let token = s(&login, "access_token");
    let garbage: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
    for (content_type, status, code) in [
        (
            "application/octet-stream",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "application/json",
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
    ] {
        let res = stack
            .http
            .post(stack.exp("/api/auth/logout"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(garbage.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{content_type}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
    }
    // Refused, so nothing happened: the session is still alive.
    let (status, me) = stack.get("/api/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // No body at all, or a JSON one, still log out.
    let res = stack
        .http
        .post(stack.exp("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

both_backends!(
    documents_are_complete,
    wrong_methods_say_what_is_allowed,
    logout_refuses_a_body_that_is_not_json
);
