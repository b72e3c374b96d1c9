//! The State Surface contract, run against both backends: `embedded` (in-memory) and
//! `production` (Redis at `TEST_REDIS_URL`, default `redis://127.0.0.1:6379`). Every test gets its
//! own key prefix, so runs share one Redis without seeing each other and need no clean-up.
//! `cargo test --test state_surface -- --skip production` runs without Redis.

// A failed `unwrap` is how a test reports an unexpected error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::state_surface::{
    connect, Channel, Delivery, FileRef, IdempotencyBegin, MemoryStore, Progress, RedisStore,
    StateBackend, StateError, StateStore, StateSurface, Subscription,
};
use platform_sdk::time_util::now_ms;
use platform_sdk::wire::{SessionRecord, SessionStatus};

/// The TTL tests wait out; the only sleeps in this file wait for it.
const SHORT_TTL: Duration = Duration::from_millis(300);
const LONG_TTL: Duration = Duration::from_secs(600);
/// Upper bound on waiting for a published message (a failure, not a pause).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Which backend a scenario runs on.
#[derive(Clone, Copy)]
enum Backend {
    Memory,
    Redis,
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn unique_prefix() -> String {
    format!("test-{}:", uuid::Uuid::new_v4())
}

impl Backend {
    /// A store with a fresh prefix, built through the same `connect` the services use.
    async fn store(self) -> Arc<dyn StateStore> {
        let (kind, url) = match self {
            Backend::Memory => (StateBackend::Memory, None),
            Backend::Redis => (StateBackend::Redis, Some(redis_url())),
        };
        connect(kind, url.as_deref(), &unique_prefix())
            .await
            .expect("connect to the state store")
    }

    /// Two handles on the same data: `outer` with prefix `P`, `inner` with prefix `P` + `inner:`.
    /// What `inner` calls `k` is what `outer` calls `inner:k`.
    async fn nested_pair(self) -> (Arc<dyn StateStore>, Arc<dyn StateStore>) {
        let outer_prefix = unique_prefix();
        let inner_prefix = format!("{outer_prefix}inner:");
        match self {
            Backend::Memory => {
                let outer = MemoryStore::new(outer_prefix);
                let inner = outer.with_prefix(inner_prefix);
                (Arc::new(outer), Arc::new(inner))
            }
            Backend::Redis => {
                let outer = RedisStore::connect(&redis_url(), outer_prefix)
                    .await
                    .expect("connect to Redis");
                let inner = outer.with_prefix(inner_prefix);
                (Arc::new(outer), Arc::new(inner))
            }
        }
    }

    async fn surface(self) -> StateSurface {
        StateSurface::new(self.store().await)
    }
}

async fn next_message(subscription: &mut Subscription) -> String {
    tokio::time::timeout(DELIVERY_TIMEOUT, subscription.next())
        .await
        .expect("a message within the delivery timeout")
        .expect("the subscription is still open")
}

fn session(tenant_id: &str, user_id: Option<&str>) -> SessionRecord {
    let now = now_ms();
    SessionRecord {
        session_id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant_id.to_owned(),
        user_id: user_id.map(str::to_owned),
        status: SessionStatus::Active,
        created_at: now,
        last_seen_at: now,
        expires_at: now + 86_400_000,
        absolute_expires_at: now + 30 * 86_400_000,
        metadata: serde_json::json!({"user_agent": "tests", "client_ip": "127.0.0.1"}),
    }
}

fn file_ref(tenant_id: &str) -> FileRef {
    FileRef {
        file_id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant_id.to_owned(),
        session_id: uuid::Uuid::new_v4().to_string(),
        uri: "s3://bucket/object".to_owned(),
        content_type: "application/pdf".to_owned(),
        size: 1_234_567,
        sha256: "ab".repeat(32),
    }
}

/// The scenarios; each runs once per backend.
mod scenarios {
    use super::*;

    pub async fn get_set_delete(backend: Backend) {
        let store = backend.store().await;
        assert_eq!(store.get("k").await.unwrap(), None);
        store.set("k", "v1", None).await.unwrap();
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some("v1"));
        assert_eq!(store.ttl("k").await.unwrap(), None, "no TTL was asked for");
        store.set("k", "v2", Some(LONG_TTL)).await.unwrap();
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some("v2"));
        store.set("k", "v3", None).await.unwrap();
        assert_eq!(
            store.ttl("k").await.unwrap(),
            None,
            "set without TTL clears it"
        );
        assert!(store.delete("k").await.unwrap());
        assert!(!store.delete("k").await.unwrap(), "nothing left to delete");
        assert_eq!(store.get("k").await.unwrap(), None);
        store.ping().await.unwrap();
    }

    pub async fn ttl_expiry(backend: Backend) {
        let store = backend.store().await;
        store.set("short", "v", Some(SHORT_TTL)).await.unwrap();
        assert!(store
            .set_if_absent("claim", "v", Some(SHORT_TTL))
            .await
            .unwrap());
        store
            .index_add("index", "m", Some(SHORT_TTL))
            .await
            .unwrap();
        store.set("long", "v", Some(LONG_TTL)).await.unwrap();
        let remaining = store.ttl("short").await.unwrap().expect("a TTL");
        assert!(
            remaining > Duration::ZERO && remaining <= SHORT_TTL,
            "{remaining:?}"
        );
        assert_eq!(store.get("short").await.unwrap().as_deref(), Some("v"));

        tokio::time::sleep(SHORT_TTL + Duration::from_millis(150)).await;

        assert_eq!(store.get("short").await.unwrap(), None);
        assert_eq!(store.ttl("short").await.unwrap(), None);
        assert!(!store.delete("short").await.unwrap());
        assert!(store.index_members("index").await.unwrap().is_empty());
        assert!(
            store.set_if_absent("claim", "again", None).await.unwrap(),
            "an expired claim can be taken again"
        );
        assert_eq!(store.get("long").await.unwrap().as_deref(), Some("v"));
    }

    pub async fn set_if_absent_race(backend: Backend) {
        let store = backend.store().await;
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let won = store
                        .set_if_absent("race", &format!("task-{i}"), Some(LONG_TTL))
                        .await
                        .unwrap();
                    (i, won)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            let (i, won) = task.await.unwrap();
            if won {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "exactly one winner: {winners:?}");
        assert_eq!(
            store.get("race").await.unwrap(),
            Some(format!("task-{}", winners[0])),
            "the stored value is the winner's"
        );
        assert!(store.ttl("race").await.unwrap().is_some());
    }

    pub async fn incr_concurrency_and_fixed_window(backend: Backend) {
        let store = backend.store().await;
        let window = Duration::from_secs(60);
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.incr("counter", window).await.unwrap() })
            })
            .collect();
        let mut values = Vec::new();
        for task in tasks {
            values.push(task.await.unwrap());
        }
        values.sort_unstable();
        assert_eq!(values, (1..=100).collect::<Vec<i64>>());
        let ttl = store
            .ttl("counter")
            .await
            .unwrap()
            .expect("the counter has a TTL");
        assert!(
            ttl <= window && ttl > window - Duration::from_secs(10),
            "{ttl:?}"
        );

        // Later increments keep the window: a longer TTL is not applied to an existing counter.
        assert_eq!(store.incr("counter", LONG_TTL).await.unwrap(), 101);
        assert!(store.ttl("counter").await.unwrap().expect("a TTL") <= window);

        store.set("text", "not a number", None).await.unwrap();
        assert!(matches!(
            store.incr("text", window).await,
            Err(StateError::Backend(_))
        ));
    }

    pub async fn expire_slides(backend: Backend) {
        let store = backend.store().await;
        assert!(!store.expire("missing", LONG_TTL).await.unwrap());

        store
            .set("k", "v", Some(Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(store.expire("k", LONG_TTL).await.unwrap());
        let ttl = store.ttl("k").await.unwrap().expect("a TTL");
        assert!(
            ttl > Duration::from_secs(500),
            "the TTL was extended: {ttl:?}"
        );

        store.set("persistent", "v", None).await.unwrap();
        assert!(store.expire("persistent", SHORT_TTL).await.unwrap());
        assert!(store.ttl("persistent").await.unwrap().expect("a TTL") <= SHORT_TTL);
        tokio::time::sleep(SHORT_TTL + Duration::from_millis(150)).await;
        assert_eq!(store.get("persistent").await.unwrap(), None);
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some("v"));
    }

    pub async fn index_add_remove_members(backend: Backend) {
        let store = backend.store().await;
        assert!(store.index_members("idx").await.unwrap().is_empty());
        for member in ["a", "b", "c", "a"] {
            store.index_add("idx", member, None).await.unwrap();
        }
        let mut members = store.index_members("idx").await.unwrap();
        members.sort();
        assert_eq!(members, ["a", "b", "c"], "members are a set");
        assert_eq!(store.ttl("idx").await.unwrap(), None);

        store.index_add("idx", "d", Some(LONG_TTL)).await.unwrap();
        assert!(store.ttl("idx").await.unwrap().is_some(), "TTL set on add");
        store.index_add("idx", "e", None).await.unwrap();
        assert!(
            store.ttl("idx").await.unwrap().is_some(),
            "add without TTL keeps it"
        );

        store.index_remove("idx", "b").await.unwrap();
        store.index_remove("idx", "not-a-member").await.unwrap();
        let mut members = store.index_members("idx").await.unwrap();
        members.sort();
        assert_eq!(members, ["a", "c", "d", "e"]);

        for member in ["a", "c", "d", "e"] {
            store.index_remove("idx", member).await.unwrap();
        }
        assert!(store.index_members("idx").await.unwrap().is_empty());
        assert!(
            !store.delete("idx").await.unwrap(),
            "an emptied index is gone"
        );

        store.set("plain", "v", None).await.unwrap();
        assert!(matches!(
            store.index_add("plain", "m", None).await,
            Err(StateError::Backend(_))
        ));
    }

    pub async fn pubsub_in_order_and_only_subscribed_channel(backend: Backend) {
        let store = backend.store().await;
        let mut events = store.subscribe("events").await.unwrap();
        let mut other = store.subscribe("other").await.unwrap();
        store.publish("other", "not for events").await.unwrap();
        for i in 0..20 {
            store.publish("events", &format!("m{i}")).await.unwrap();
        }
        store.publish("other", "last").await.unwrap();

        let mut received = Vec::new();
        for _ in 0..20 {
            received.push(next_message(&mut events).await);
        }
        let expected: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        assert_eq!(received, expected, "in order, nothing from `other`");
        assert_eq!(next_message(&mut other).await, "not for events");
        assert_eq!(next_message(&mut other).await, "last");

        // A second subscriber gets messages published after it subscribed, and so does the first.
        let mut late = store.subscribe("events").await.unwrap();
        store.publish("events", "after").await.unwrap();
        assert_eq!(next_message(&mut late).await, "after");
        assert_eq!(next_message(&mut events).await, "after");

        // Publishing with nobody listening is not an error.
        store.publish("nobody", "hello").await.unwrap();
    }

    pub async fn prefix_isolation(backend: Backend) {
        let (outer, inner) = backend.nested_pair().await;

        inner.set("k", "inner value", None).await.unwrap();
        assert_eq!(outer.get("k").await.unwrap(), None);
        assert_eq!(
            outer.get("inner:k").await.unwrap().as_deref(),
            Some("inner value"),
            "the prefix is applied to keys"
        );
        outer.set("k", "outer value", None).await.unwrap();
        assert_eq!(
            inner.get("k").await.unwrap().as_deref(),
            Some("inner value")
        );
        assert!(inner.delete("k").await.unwrap());
        assert_eq!(
            outer.get("k").await.unwrap().as_deref(),
            Some("outer value")
        );

        inner.incr("n", LONG_TTL).await.unwrap();
        assert_eq!(outer.get("inner:n").await.unwrap().as_deref(), Some("1"));
        assert_eq!(outer.get("n").await.unwrap(), None);

        inner.index_add("idx", "m", None).await.unwrap();
        assert!(outer.index_members("idx").await.unwrap().is_empty());
        assert_eq!(outer.index_members("inner:idx").await.unwrap(), ["m"]);

        let mut outer_chan = outer.subscribe("chan").await.unwrap();
        let mut inner_chan = inner.subscribe("chan").await.unwrap();
        outer.publish("chan", "from outer").await.unwrap();
        inner.publish("chan", "from inner").await.unwrap();
        assert_eq!(next_message(&mut inner_chan).await, "from inner");
        assert_eq!(next_message(&mut outer_chan).await, "from outer");
        let mut outer_view_of_inner = outer.subscribe("inner:chan").await.unwrap();
        inner.publish("chan", "prefixed").await.unwrap();
        assert_eq!(next_message(&mut outer_view_of_inner).await, "prefixed");
    }

    pub async fn typed_records_round_trip(backend: Backend) {
        let surface = backend.surface().await;

        let record = session("tenant-a", Some("user-1"));
        surface.put_session(&record, LONG_TTL).await.unwrap();
        assert_eq!(
            surface
                .get_session("tenant-a", &record.session_id)
                .await
                .unwrap(),
            Some(record.clone())
        );
        let raw_key = format!("session:tenant-a:{}", record.session_id);
        assert!(
            surface.store().get(&raw_key).await.unwrap().is_some(),
            "key format"
        );
        assert!(surface.store().ttl(&raw_key).await.unwrap().is_some());
        assert_eq!(
            surface
                .session_ids_of_user("tenant-a", "user-1")
                .await
                .unwrap(),
            [record.session_id.as_str()]
        );
        assert!(surface
            .store()
            .ttl("user_sessions:tenant-a:user-1")
            .await
            .unwrap()
            .is_some());

        let mut ended = record.clone();
        ended.status = SessionStatus::Ended;
        surface.put_session(&ended, LONG_TTL).await.unwrap();
        assert_eq!(
            surface
                .get_session("tenant-a", &record.session_id)
                .await
                .unwrap(),
            Some(ended)
        );

        let second = session("tenant-a", Some("user-1"));
        assert!(surface
            .create_session_if_absent(&second, LONG_TTL)
            .await
            .unwrap());
        assert!(!surface
            .create_session_if_absent(&second, LONG_TTL)
            .await
            .unwrap());
        let mut ids = surface
            .session_ids_of_user("tenant-a", "user-1")
            .await
            .unwrap();
        ids.sort();
        let mut expected = vec![record.session_id.clone(), second.session_id.clone()];
        expected.sort();
        assert_eq!(ids, expected);
        surface
            .remove_from_user_index("tenant-a", "user-1", &record.session_id)
            .await
            .unwrap();
        assert_eq!(
            surface
                .session_ids_of_user("tenant-a", "user-1")
                .await
                .unwrap(),
            [second.session_id.as_str()]
        );

        let anonymous = session("tenant-a", None);
        assert!(surface
            .create_session_if_absent(&anonymous, LONG_TTL)
            .await
            .unwrap());
        assert_eq!(
            surface
                .get_session("tenant-a", &anonymous.session_id)
                .await
                .unwrap(),
            Some(anonymous)
        );
        assert_eq!(
            surface.get_session("tenant-a", "missing").await.unwrap(),
            None
        );

        let state = serde_json::json!({"step": 3, "history": ["a", "b"], "done": false});
        surface
            .put_execution_state("tenant-a", "exec-1", &state, Some(LONG_TTL))
            .await
            .unwrap();
        assert_eq!(
            surface
                .get_execution_state("tenant-a", "exec-1")
                .await
                .unwrap(),
            Some(state)
        );
        assert!(surface
            .store()
            .get("execution:tenant-a:exec-1")
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            surface
                .get_execution_state("tenant-b", "exec-1")
                .await
                .unwrap(),
            None
        );

        let progress = Progress {
            operation_id: "op-1".to_owned(),
            tenant_id: "tenant-a".to_owned(),
            percent: 42,
            message: "indexing".to_owned(),
            updated_at: now_ms(),
        };
        surface.set_progress(&progress, LONG_TTL).await.unwrap();
        assert_eq!(
            surface.get_progress("tenant-a", "op-1").await.unwrap(),
            Some(progress.clone())
        );
        assert!(surface
            .store()
            .get("progress:tenant-a:op-1")
            .await
            .unwrap()
            .is_some());
        let done = Progress {
            percent: 100,
            ..progress.clone()
        };
        surface.set_progress(&done, LONG_TTL).await.unwrap();
        let too_much = Progress {
            percent: 101,
            ..progress
        };
        assert!(matches!(
            surface.set_progress(&too_much, LONG_TTL).await,
            Err(StateError::Invalid(_))
        ));
        assert_eq!(
            surface.get_progress("tenant-a", "op-1").await.unwrap(),
            Some(done)
        );

        let file = file_ref("tenant-a");
        surface.put_file_ref(&file, None).await.unwrap();
        assert_eq!(
            surface
                .get_file_ref("tenant-a", &file.file_id)
                .await
                .unwrap(),
            Some(file.clone())
        );
        let file_key = format!("file:tenant-a:{}", file.file_id);
        assert!(surface.store().get(&file_key).await.unwrap().is_some());
        assert!(surface
            .delete_file_ref("tenant-a", &file.file_id)
            .await
            .unwrap());
        assert!(!surface
            .delete_file_ref("tenant-a", &file.file_id)
            .await
            .unwrap());
        assert_eq!(
            surface
                .get_file_ref("tenant-a", &file.file_id)
                .await
                .unwrap(),
            None
        );
    }

    pub async fn corrupt_record_is_a_serialization_error(backend: Backend) {
        let surface = backend.surface().await;
        surface
            .store()
            .set("progress:tenant-a:op", "{not json", None)
            .await
            .unwrap();
        assert!(matches!(
            surface.get_progress("tenant-a", "op").await,
            Err(StateError::Serialization(_))
        ));
    }

    pub async fn idempotency_lifecycle(backend: Backend) {
        let surface = backend.surface().await;
        let begin = |fingerprint: &'static str| {
            let surface = surface.clone();
            async move {
                surface
                    .idempotency_begin("intent_submit", "key-1", fingerprint, LONG_TTL)
                    .await
                    .unwrap()
            }
        };

        assert_eq!(begin("fp-1").await, IdempotencyBegin::Fresh);
        assert!(surface
            .store()
            .get("idempotency:intent_submit:key-1")
            .await
            .unwrap()
            .is_some());
        assert_eq!(begin("fp-1").await, IdempotencyBegin::InProgress);
        assert_eq!(begin("fp-2").await, IdempotencyBegin::Mismatch);

        surface
            .idempotency_complete(
                "intent_submit",
                "key-1",
                "fp-1",
                201,
                r#"{"id":"x"}"#,
                LONG_TTL,
            )
            .await
            .unwrap();
        assert_eq!(
            begin("fp-1").await,
            IdempotencyBegin::Completed {
                status: 201,
                body: r#"{"id":"x"}"#.to_owned()
            }
        );
        assert_eq!(begin("fp-2").await, IdempotencyBegin::Mismatch);

        // Same key in another scope is independent.
        assert_eq!(
            surface
                .idempotency_begin("other_scope", "key-1", "fp-2", LONG_TTL)
                .await
                .unwrap(),
            IdempotencyBegin::Fresh
        );

        // Abort frees a claim so the retry proceeds.
        assert_eq!(
            surface
                .idempotency_begin("intent_submit", "key-2", "fp-1", LONG_TTL)
                .await
                .unwrap(),
            IdempotencyBegin::Fresh
        );
        surface
            .idempotency_abort("intent_submit", "key-2")
            .await
            .unwrap();
        assert_eq!(
            surface
                .idempotency_begin("intent_submit", "key-2", "fp-1", LONG_TTL)
                .await
                .unwrap(),
            IdempotencyBegin::Fresh
        );

        // Concurrent first requests: exactly one claims the key.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let surface = surface.clone();
                tokio::spawn(async move {
                    surface
                        .idempotency_begin("intent_submit", "key-3", "fp-1", LONG_TTL)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut fresh = 0;
        for task in tasks {
            match task.await.unwrap() {
                IdempotencyBegin::Fresh => fresh += 1,
                other => assert_eq!(other, IdempotencyBegin::InProgress),
            }
        }
        assert_eq!(fresh, 1);
    }

    pub async fn tenant_isolation(backend: Backend) {
        let surface = backend.surface().await;

        let record = session("tenant-a", Some("user-1"));
        surface.put_session(&record, LONG_TTL).await.unwrap();
        assert_eq!(
            surface
                .get_session("tenant-b", &record.session_id)
                .await
                .unwrap(),
            None
        );
        assert!(surface
            .session_ids_of_user("tenant-b", "user-1")
            .await
            .unwrap()
            .is_empty());

        let file = file_ref("tenant-a");
        surface.put_file_ref(&file, Some(LONG_TTL)).await.unwrap();
        assert_eq!(
            surface
                .get_file_ref("tenant-b", &file.file_id)
                .await
                .unwrap(),
            None
        );
        assert!(!surface
            .delete_file_ref("tenant-b", &file.file_id)
            .await
            .unwrap());
        assert_eq!(
            surface
                .get_file_ref("tenant-a", &file.file_id)
                .await
                .unwrap(),
            Some(file.clone())
        );

        // Ids containing `:` cannot reach across tenants: tenant `x` asking for file `a:f` hits
        // key `file:x:a:f`, which is where tenant `x:a`'s file `f` lives.
        let mut crafted = file_ref("x:a");
        crafted.file_id = "f".to_owned();
        surface.put_file_ref(&crafted, None).await.unwrap();
        assert_eq!(surface.get_file_ref("x", "a:f").await.unwrap(), None);
        assert!(!surface.delete_file_ref("x", "a:f").await.unwrap());
        assert_eq!(
            surface.get_file_ref("x:a", "f").await.unwrap(),
            Some(crafted)
        );

        let mut crafted_session = session("x:a", None);
        crafted_session.session_id = "s".to_owned();
        surface
            .put_session(&crafted_session, LONG_TTL)
            .await
            .unwrap();
        assert_eq!(surface.get_session("x", "a:s").await.unwrap(), None);
    }
}

/// One `#[tokio::test]` per scenario for the backend `$backend`.
macro_rules! backend_suite {
    ($backend:expr; $($scenario:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                crate::scenarios::$scenario($backend).await;
            }
        )+
    };
}

macro_rules! all_scenarios {
    ($backend:expr) => {
        backend_suite!(
            $backend;
            get_set_delete,
            ttl_expiry,
            set_if_absent_race,
            incr_concurrency_and_fixed_window,
            expire_slides,
            index_add_remove_members,
            pubsub_in_order_and_only_subscribed_channel,
            prefix_isolation,
            typed_records_round_trip,
            corrupt_record_is_a_serialization_error,
            idempotency_lifecycle,
            tenant_isolation,
        );
    };
}

/// The in-memory backend (the embedded default).
mod embedded {
    all_scenarios!(crate::Backend::Memory);
}

/// The Redis backend; skipped on laptops with `--skip production`.
mod production {
    all_scenarios!(crate::Backend::Redis);

    #[tokio::test]
    async fn unreachable_redis_fails_fast_with_unavailable() {
        use platform_sdk::state_surface::{connect, StateBackend, StateError};
        let started = std::time::Instant::now();
        // Port 1 on loopback: nothing listens, the connection is refused.
        let result = connect(StateBackend::Redis, Some("redis://127.0.0.1:1"), "test:").await;
        assert!(matches!(result, Err(StateError::Unavailable(_))));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));

        let missing_url = connect(StateBackend::Redis, None, "test:").await;
        assert!(matches!(missing_url, Err(StateError::Unavailable(_))));
    }
}

#[tokio::test]
async fn a_channel_opened_later_says_it_subscribed_then_delivers_in_order() {
    let store: Arc<dyn platform_sdk::state_surface::StateStore> =
        Arc::new(MemoryStore::new("channel-test:"));
    let mut channel = Channel::later(store.clone(), "news");
    assert_eq!(channel.next().await, Delivery::Resubscribed);
    store.publish("news", "one").await.unwrap();
    store.publish("news", "two").await.unwrap();
    assert_eq!(channel.next().await, Delivery::Message("one".into()));
    assert_eq!(channel.next().await, Delivery::Message("two".into()));
    // An opened channel is subscribed when `open` returns: nothing published after it is lost.
    let mut opened = Channel::open(store.clone(), "news").await.unwrap();
    store.publish("news", "three").await.unwrap();
    assert_eq!(opened.next().await, Delivery::Message("three".into()));
}
