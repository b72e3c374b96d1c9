//! The live event stream (`GET /api/events/stream`, SPEC §13) on both backends: a stream with
//! no subscription carries `notification.created` only, subscriptions filter by type and agent,
//! ids grow, `Last-Event-ID` replays the missed events once and in order, `EVENTS_LOST` when the
//! id is older than the log, heartbeats, `?access_token=`, refusals, logout ending the stream, a
//! slow client dropped then resuming, and two replicas of each plane delivering and resuming
//! across each other.

use std::time::Duration;

use e2e_tests::sse::{Auth, Frame, Read, Sse};
use e2e_tests::{both_backends, s, Backend, Options, Service, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use e2e_tests::live::{evaluate, member, mutate, strict_policy};

const QUIET: Duration = Duration::from_millis(700);

fn stack_options() -> Options {
    Options {
        experience_env: vec![("APP__EVENTS__HEARTBEAT_MS".into(), "300".into())],
        ..Options::default()
    }
}

async fn open(experience: &Service, token: &str, last: Option<i64>) -> Sse {
    let (status, sse, body) = Sse::open(
        &experience.url("/api/events/stream"),
        Auth::Bearer(token),
        last,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sse.unwrap()
}

async fn subscribe(stack: &Stack, token: &str, body: Value) -> Value {
    let (status, sub) = mutate(stack, Method::POST, "/api/events/subscribe", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    sub
}

fn types(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f.event.clone().unwrap_or_default())
        .collect()
}

fn ids(frames: &[Frame]) -> Vec<i64> {
    frames.iter().map(|f| f.id.unwrap()).collect()
}

async fn filters_resume_and_subscriptions(backend: Backend) {
    let stack = Stack::start_with(backend, stack_options()).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let plain = member(&stack, &token, "member").await;
    let plain_token = s(&plain, "access_token");
    let (_, _, stranger) = stack.register().await;
    strict_policy(&stack, &token, "No codes", "codes").await;
    strict_policy(&stack, &s(&stranger, "access_token"), "No codes", "codes").await;
    let mut admin_stream = open(&stack.experience, &token, None).await;
    let mut member_stream = open(&stack.experience, &plain_token, None).await;
    let mut stranger_stream = open(&stack.experience, &s(&stranger, "access_token"), None).await;

    // No subscription: the admin gets the notification, not the violation event itself.
    evaluate(&stack, &token, "guide", "codes 1").await;
    let first = admin_stream.event().await;
    assert_eq!(first.event.as_deref(), Some("notification.created"));
    assert_eq!(first.data["event_type"], "notification.created");
    assert_eq!(first.data["event_id"], first.id.unwrap());
    assert_eq!(first.data["data"]["type"], "governance.violation");
    assert_eq!(first.data["data"]["data"]["agent_id"], "guide");
    assert_eq!(admin_stream.events_until_quiet(QUIET).await, []);
    assert_eq!(member_stream.events_until_quiet(QUIET).await, []);
    assert_eq!(stranger_stream.events_until_quiet(QUIET).await, []);

    // Subscribed to violations of one agent only.
    let sub = subscribe(
        &stack,
        &token,
        json!({"event_types": ["governance.violation"], "agent_ids": ["guide"]}),
    )
    .await;
    assert!(s(&sub, "subscription_id").starts_with("sub_"));
    evaluate(&stack, &token, "other-agent", "codes 2").await;
    evaluate(&stack, &token, "guide", "codes 3").await;
    let got = admin_stream.events_until_quiet(QUIET).await;
    assert_eq!(
        types(&got),
        [
            "notification.created",
            "governance.violation",
            "notification.created"
        ],
        "{got:?}"
    );
    assert_eq!(got[0].data["agent_id"], "other-agent");
    assert_eq!(got[1].data["agent_id"], "guide");
    let seen = ids(&got);
    assert!(
        first.id.unwrap() < seen[0] && seen.windows(2).all(|w| w[0] < w[1]),
        "{seen:?}"
    );

    // Resume after the first event: exactly the ones after it, in order, then live.
    let mut resumed = open(&stack.experience, &token, first.id).await;
    let replay = resumed.events_until_quiet(QUIET).await;
    assert_eq!(ids(&replay), seen);
    evaluate(&stack, &token, "guide", "codes 4").await;
    let live = resumed.events_until_quiet(QUIET).await;
    assert_eq!(
        types(&live),
        ["governance.violation", "notification.created"]
    );
    assert!(live[0].id.unwrap() > *seen.last().unwrap());

    // The list and the delete.
    let (status, list) = stack.get("/api/events/subscriptions", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["subscription_id"], sub["subscription_id"]);
    let path = format!("/api/events/subscriptions/{}", s(&sub, "subscription_id"));
    let (status, _) = mutate(&stack, Method::DELETE, &path, &token, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = mutate(&stack, Method::DELETE, &path, &token, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    evaluate(&stack, &token, "guide", "codes 5").await;
    assert_eq!(
        types(&resumed.events_until_quiet(QUIET).await),
        ["notification.created"]
    );
    // Another user cannot delete or see it; unknown types are refused.
    let (_, theirs) = stack.get("/api/events/subscriptions", &plain_token).await;
    assert_eq!(theirs["items"], json!([]));
    for body in [
        json!({"event_types": ["nope"]}),
        json!({"event_types": []}),
        json!({}),
    ] {
        let (status, error) = mutate(
            &stack,
            Method::POST,
            "/api/events/subscribe",
            &token,
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
    }
}

async fn execution_events_reach_their_user(backend: Backend) {
    let stack = Stack::start_with(backend, stack_options()).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    subscribe(&stack, &token, json!({"event_types": ["execution.*"]})).await;
    let mut stream = open(&stack.experience, &token, None).await;
    let mut ws = e2e_tests::ws::open(&stack, &owner).await;
    ws.send(json!({"type": "intent", "intent": "hello there", "agent_type": "guide"}))
        .await;
    ws.until_finished().await;
    let got = stream.events_until_quiet(QUIET).await;
    assert_eq!(
        types(&got),
        ["execution.started", "execution.completed"],
        "{got:?}"
    );
    assert_eq!(
        got[0].data["data"]["execution_id"],
        got[1].data["data"]["execution_id"]
    );
    assert_eq!(got[0].data["context_id"], s(&owner, "session_id").as_str());
}

async fn credentials_heartbeat_and_logout(backend: Backend) {
    let stack = Stack::start_with(backend, stack_options()).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let url = stack.exp("/api/events/stream");
    for auth in [
        Auth::Nothing,
        Auth::Bearer("garbage"),
        Auth::Query("garbage"),
    ] {
        let (status, _, body) = Sse::open(&url, auth, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let (status, _, body) = Sse::open(&url, Auth::Bearer(&token), Some(-3)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, sse, _) = Sse::open(&url, Auth::Query(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let mut sse = sse.unwrap();
    // The heartbeat (300 ms in this stack).
    let beat = loop {
        match sse.read(Duration::from_secs(3)).await {
            Read::Frame(f) if f.comment.is_some() => break f,
            Read::Frame(_) => {}
            other => panic!("no heartbeat: {other:?}"),
        }
    };
    assert_eq!(beat.comment.as_deref(), Some("keep-alive"));
    // Logout ends it within a second.
    let (status, _) = stack
        .send(Method::POST, "/api/auth/logout", &token, Some(json!({})))
        .await;
    assert!(status.is_success(), "{status}");
    assert!(sse.ends_within(Duration::from_secs(1)).await);
    let (status, _, _) = Sse::open(&url, Auth::Bearer(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn events_lost_and_a_slow_client(backend: Backend) {
    let mut options = stack_options();
    options
        .experience_env
        .push(("APP__EVENTS__CLIENT_QUEUE".into(), "1".into()));
    let stack = Stack::start_with(backend, options).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    subscribe(
        &stack,
        &token,
        json!({"event_types": ["governance.violation"]}),
    )
    .await;
    let long = "x".repeat(90);
    for term in ["alpha", "beta", "gamma"] {
        strict_policy(&stack, &token, &format!("{term} {long}"), term).await;
    }
    // A client that does not read, with a queue of one: once the socket buffers are full, the
    // next frame finds its queue full and the client is dropped (how soon depends on the
    // kernel's buffers: the drop itself is pinned by the hub's unit test). Whether dropped or
    // not, what it read plus its resume is exactly what it may see, once, in order.
    let mut slow = open(&stack.experience, &token, None).await;
    for _ in 0..80 {
        evaluate(&stack, &token, "guide", "alpha beta gamma").await;
    }
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut quiet_since = std::time::Instant::now();
    let ended = loop {
        if quiet_since.elapsed() > Duration::from_secs(2) || std::time::Instant::now() > deadline {
            break false;
        }
        match slow.read(Duration::from_millis(500)).await {
            Read::Frame(f) if f.comment.is_none() => {
                got.push(f);
                quiet_since = std::time::Instant::now();
            }
            Read::Frame(_) | Read::Timeout => {}
            Read::Ended => break true,
        }
    };
    let (pool, prefix) = stack.runtime_db().await;
    let expected: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT event_id FROM {prefix}tenant_events WHERE event_type IN \
         ('notification.created', 'governance.violation') ORDER BY event_id"
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(expected.len() >= 480, "{}", expected.len());
    assert_eq!(
        ended,
        got.len() < expected.len(),
        "ended: {ended}, {} events",
        got.len()
    );
    let last = got.last().and_then(|f| f.id).unwrap_or(1);
    let mut resumed = open(&stack.experience, &token, Some(last)).await;
    let rest = resumed.events_until_quiet(QUIET).await;
    let all: Vec<i64> = got.iter().chain(&rest).map(|f| f.id.unwrap()).collect();
    assert_eq!(all, expected);
    drop(resumed);

    // Events older than the retained log: EVENTS_LOST, then what is left.
    sqlx::query(&format!(
        "DELETE FROM {prefix}tenant_events WHERE event_id <= 4"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let mut lost = open(&stack.experience, &token, Some(1)).await;
    let frames = lost.events_until_quiet(QUIET).await;
    assert_eq!(frames[0].event.as_deref(), Some("EVENTS_LOST"));
    assert_eq!(frames[0].data["resume_after"], 4);
    assert_eq!(frames[0].id, Some(4));
    let left: Vec<i64> = expected.into_iter().filter(|id| *id > 4).collect();
    assert_eq!(ids(&frames[1..]), left);
}

async fn replicas_deliver_and_resume_across(backend: Backend) {
    let stack = Stack::start_with(backend, stack_options()).await;
    let runtime_b = stack.another_runtime().await;
    let experience_b = stack.experience_for(&[&runtime_b]).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    strict_policy(&stack, &token, "No codes", "codes").await;
    // The client on experience A (runtime A); the event produced through B (runtime B).
    let mut on_a = open(&stack.experience, &token, None).await;
    let body = json!({"agent_id": "guide", "action_type": "agent_input", "content": "codes"});
    let (status, _, decision) = stack
        .call(
            Method::POST,
            &experience_b.url("/api/governance/evaluate"),
            Some(&token),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    let first = on_a.event().await;
    assert_eq!(
        first.data["data"]["data"]["decision_id"],
        decision["decision_id"]
    );
    for i in 0..3 {
        evaluate(&stack, &token, "guide", &format!("codes {i}")).await;
    }
    let missed = on_a.events_until_quiet(QUIET).await;
    assert_eq!(missed.len(), 3);
    // Resuming through the other replica replays exactly those, in order.
    let mut on_b = open(&experience_b, &token, first.id).await;
    assert_eq!(ids(&on_b.events_until_quiet(QUIET).await), ids(&missed));
}

/// A context's delivered messages go live for the tenant (subscribed by context) and tell the
/// context's creator when someone else's request put them there; a blocked one is a violation
/// the admins are told of.
async fn context_messages_go_live(backend: Backend) {
    let stack = Stack::start_with(backend, stack_options()).await;
    let (_, _, owner) = stack.register().await;
    let token = s(&owner, "access_token");
    let teammate = member(&stack, &token, "member").await;
    let teammate_token = s(&teammate, "access_token");
    let body = json!({"name": "Team", "agent_ids": ["guide", "liaison.content"],
        "collaboration_model": "sequential", "policies": {"governance_threshold": 0.0}});
    let (status, context) = mutate(
        &stack,
        Method::POST,
        "/api/multi_agent/context",
        &token,
        body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{context}");
    let context_id = s(&context, "context_id");
    subscribe(
        &stack,
        &token,
        json!({"event_types": ["multi_agent.message"], "context_ids": [context_id]}),
    )
    .await;
    let mut stream = open(&stack.experience, &token, None).await;
    let message = |content: &str| {
        json!({"context_id": context_id, "from_agent_id": "guide",
               "to_agent_ids": ["liaison.content"], "message": {"type": "task", "content": content}})
    };

    // The teammate's message: the event, and the creator's notification.
    let (status, sent) = mutate(
        &stack,
        Method::POST,
        "/api/multi_agent/message",
        &teammate_token,
        message("teammate asks"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let got = stream.events_until_quiet(QUIET).await;
    assert_eq!(
        types(&got),
        ["multi_agent.message", "notification.created"],
        "{got:?}"
    );
    assert_eq!(got[0].data["context_id"], context_id.as_str());
    assert_eq!(got[0].data["agent_id"], "guide");
    assert_eq!(got[0].data["data"]["message_id"], sent["message_id"]);
    assert_eq!(got[1].data["data"]["type"], "multi_agent.message");

    // The creator's own message: the event only.
    let (status, _) = mutate(
        &stack,
        Method::POST,
        "/api/multi_agent/message",
        &token,
        message("owner says"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        types(&stream.events_until_quiet(QUIET).await),
        ["multi_agent.message"]
    );

    // Blocked (threshold 1.0: a sender without trust or attestation can't reach it): no message
    // event, a medium violation the admin (the owner) is told of.
    let path = format!("/api/multi_agent/context/{context_id}");
    let (status, _) = mutate(
        &stack,
        Method::PUT,
        &path,
        &token,
        json!({"policies": {"governance_threshold": 1.0}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, blocked) = mutate(
        &stack,
        Method::POST,
        "/api/multi_agent/message",
        &teammate_token,
        message("blocked one"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(blocked["governance_data"]["approved"], false);
    let got = stream.events_until_quiet(QUIET).await;
    assert_eq!(types(&got), ["notification.created"], "{got:?}");
    assert_eq!(got[0].data["data"]["type"], "governance.violation");
    let (_, notes) = stack.get("/api/notifications", &token).await;
    let kinds: Vec<&str> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["governance.violation", "multi_agent.message"]);
    let (_, theirs) = stack.get("/api/notifications", &teammate_token).await;
    assert_eq!(theirs["items"], json!([]));
}

both_backends!(
    context_messages_go_live,
    filters_resume_and_subscriptions,
    execution_events_reach_their_user,
    credentials_heartbeat_and_logout,
    events_lost_and_a_slow_client,
    replicas_deliver_and_resume_across,
);
