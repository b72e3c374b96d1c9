//! The forwarding path against a recording runtime (a plain HTTP server on port 0 that keeps
//! each request it gets and answers a canned response): what exactly reaches the runtime for a
//! read row and an intent row, and how its answers come back.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use platform_sdk::runtime_client::RuntimeClient;
use platform_sdk::security_guard::{AccessClaims, KeyRing};
use platform_sdk::traffic_cop::SignedIntent;
use secrecy::SecretString;
use serde_json::json;

use super::service::Forward;
use super::table::{Doc, Row, Target, Verb};
use super::Gateway;
use crate::error::ApiError;
use crate::extractors::Caller;

/// A request as the runtime received it.
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Starts a runtime that answers every request with `status` and `body`; returns its URL and
/// the requests it saw.
fn recording_runtime(status: &'static str, body: &'static str) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                match line.trim_end().split_once(": ") {
                    Some((k, v)) => headers.push((k.to_owned(), v.to_owned())),
                    None => break,
                }
            }
            let length = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.parse::<usize>().unwrap())
                .unwrap_or(0);
            let mut received = vec![0; length];
            reader.read_exact(&mut received).unwrap();
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).unwrap();
            let _ = tx.send(Seen {
                request_line: request_line.trim_end().to_owned(),
                headers,
                body: String::from_utf8(received).unwrap(),
            });
        }
    });
    (url, rx)
}

fn gateway(url: &str) -> Gateway {
    let secret = SecretString::from("s".repeat(40));
    let ring = KeyRing::new("svc-1", &secret, None).unwrap();
    let client = RuntimeClient::new(url, Duration::from_secs(2), ring).unwrap();
    Gateway::new(std::sync::Arc::new(client))
}

fn claims() -> AccessClaims {
    AccessClaims {
        sub: "user-1".into(),
        tid: "tenant-1".into(),
        sid: "session-1".into(),
        roles: vec!["member".into()],
        scope: "agents:read".into(),
        iat: 0,
        nbf: 0,
        exp: i64::MAX,
        iss: "i".into(),
        aud: "a".into(),
        jti: "j".into(),
    }
}

fn caller() -> Caller {
    Caller {
        request_id: "req-from-client".into(),
        ip: "127.0.0.1".into(),
        user_agent: None,
    }
}

const DOC: Doc = Doc {
    summary: "test row",
    status: 200,
    response: "Object",
    request: None,
    errors: &[],
    query: &[],
};

const READ: Row = Row {
    method: Verb::Get,
    path: "/api/things/{id}",
    scope: "agents:read",
    target: Target::Read {
        path: "/api/runtime-things/{id}/items",
    },
    doc: DOC,
};

const WRITE: Row = Row {
    method: Verb::Post,
    path: "/api/things/{id}",
    scope: "agents:write",
    target: Target::Intent {
        path: "/api/runtime-things/{id}",
        action: "touch_thing",
    },
    doc: DOC,
};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_read_row_forwards_identity_from_the_token_the_request_id_and_the_query() {
    let (url, seen) = recording_runtime("200 OK", r#"{"items":[]}"#);
    let request = Forward {
        params: pairs(&[("id", "a/b c")]),
        query: pairs(&[("limit", "5"), ("tenant_id", "evil"), ("user_id", "evil")]),
        body: None,
        idempotency_key: None,
        if_match: None,
    };
    let answer = gateway(&url)
        .forward(&READ, &caller(), &claims(), request)
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, br#"{"items":[]}"#);
    let seen = seen.recv().unwrap();
    assert_eq!(
        seen.request_line,
        "GET /api/runtime-things/a%2Fb%20c/items?limit=5&tenant_id=tenant-1&user_id=user-1 HTTP/1.1"
    );
    assert_eq!(seen.header("x-request-id"), Some("req-from-client"));
    assert!(seen.header("authorization").unwrap().starts_with("Bearer "));
}

#[tokio::test]
async fn an_intent_row_signs_the_body_as_the_payload_for_the_caller() {
    let (url, seen) = recording_runtime("201 Created", r#"{"id":"x"}"#);
    let request = Forward {
        params: pairs(&[("id", "t1")]),
        query: Vec::new(),
        body: Some(json!({"name": "n", "tenant_id": "evil"})),
        idempotency_key: Some("k-1".into()),
        if_match: None,
    };
    let answer = gateway(&url)
        .forward(&WRITE, &caller(), &claims(), request)
        .await
        .unwrap();
    assert_eq!(answer.status, 201);
    let seen = seen.recv().unwrap();
    assert_eq!(seen.request_line, "POST /api/runtime-things/t1 HTTP/1.1");
    assert_eq!(seen.header("x-request-id"), Some("req-from-client"));
    assert_eq!(seen.header("idempotency-key"), Some("k-1"));
    let intent: SignedIntent = serde_json::from_str(&seen.body).unwrap();
    let contract = intent.contract;
    assert_eq!(contract.action, "touch_thing");
    assert_eq!(
        (
            contract.tenant_id.as_str(),
            contract.user_id.as_deref(),
            contract.session_id.as_str()
        ),
        ("tenant-1", Some("user-1"), "session-1")
    );
    assert_eq!(contract.payload, json!({"name": "n", "tenant_id": "evil"}));
    assert!(intent.signature.is_some());
}

/// Forwards a bare request for `row` (id `t1`) to the runtime at `url`; expects a failure.
async fn failure(url: &str, row: &Row) -> ApiError {
    let request = Forward {
        params: pairs(&[("id", "t1")]),
        ..Forward::default()
    };
    gateway(url)
        .forward(row, &caller(), &claims(), request)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn runtime_refusals_pass_through_and_an_absent_runtime_is_503() {
    let (url, _seen) = recording_runtime(
        "409 Conflict",
        r#"{"error":{"code":"invalid_transition","message":"the thing is retired","request_id":"rt"}}"#,
    );
    match failure(&url, &WRITE).await {
        ApiError::Refused { status, body } => {
            assert_eq!(status.as_u16(), 409);
            assert_eq!(body.error.code, "invalid_transition");
            assert_eq!(body.error.message, "the thing is retired");
        }
        other => panic!("expected a pass-through refusal, got {other:?}"),
    }
    // Nothing listens on this port any more.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = failure(&url, &READ).await;
    assert!(matches!(err, ApiError::RuntimeUnavailable), "{err:?}");
}
