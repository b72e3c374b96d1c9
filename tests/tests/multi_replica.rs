//! Two experience and two runtime replicas on one PostgreSQL schema per service and one Redis
//! prefix behave as one system (SPEC §17, issue "Scale-out and latency" §2): a socket on one
//! experience replica sees the turns another runtime ran, in order; a session made through one
//! replica works through the other; logout on one closes the sockets of the other; concurrent
//! turns on one session through both runtimes get gap-free ordered ids; and when the runtime that
//! owns a running execution is killed, the client is told within the lease time and goes on.
//!
//! Replicas share sessions through the State Surface in Redis, so these run on the production
//! backend only.

mod production {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use e2e_tests::ws::{connect_to, Ended, Ws};
    use e2e_tests::{s, Backend, Options, Service, Stack};
    use reqwest::{Method, StatusCode};
    use serde_json::{json, Value};

    /// Lease used where a test kills a runtime (the production default is 15 s).
    const LEASE_MS: u64 = 1_500;

    /// The stack's runtime (A) plus a second runtime (B).
    struct Replicas {
        stack: Stack,
        runtime_b: Service,
    }

    impl Replicas {
        async fn start(options: Options) -> Self {
            let stack = Stack::start_with(Backend::Production, options).await;
            let runtime_b = stack.another_runtime().await;
            Self { stack, runtime_b }
        }

        fn runtime_a(&self) -> &Service {
            self.stack.runtime.as_ref().expect("runtime A")
        }

        /// A new user's session with one socket on experience A (calling runtime A) and one on
        /// experience B (calling runtime B); the experiences must outlive the sockets.
        async fn two_sockets(&self) -> ((Service, Service), Value, Ws, Ws) {
            let (experience_a, experience_b) = self.pinned_experiences().await;
            let (_, _, login) = self.stack.register().await;
            let query = format!(
                "access_token={}&session_id={}",
                s(&login, "access_token"),
                s(&login, "session_id")
            );
            let on_a = opened(&experience_a, &query).await;
            let on_b = opened(&experience_b, &query).await;
            ((experience_a, experience_b), login, on_a, on_b)
        }

        /// Experience A calling runtime A only, experience B calling runtime B only.
        async fn pinned_experiences(&self) -> (Service, Service) {
            let (a, b) = ([self.runtime_a()], [&self.runtime_b]);
            tokio::join!(self.stack.experience_for(&a), self.stack.experience_for(&b))
        }
    }

    async fn opened(experience: &Service, query: &str) -> Ws {
        let mut ws = connect_to(experience, query).await.expect("socket opens");
        let hello = ws.next().await;
        assert_eq!(hello["event_type"], "CONNECTION_ESTABLISHED", "{hello}");
        ws
    }

    fn ids(frames: &[Value]) -> Vec<i64> {
        frames
            .iter()
            .filter_map(|f| f["event_id"].as_i64())
            .collect()
    }

    fn turn(text: &str) -> Value {
        json!({"type": "intent", "intent": text, "agent_type": "guide"})
    }

    /// Frames until `count` executions have ended.
    async fn until_finished_n(ws: &mut Ws, count: usize) -> Vec<Value> {
        let mut frames = Vec::new();
        let mut finished = 0;
        while finished < count {
            let frame = ws.next().await;
            assert_ne!(frame["type"], "error", "{frame}");
            if matches!(
                frame["event_type"].as_str(),
                Some("EXECUTION_COMPLETED" | "EXECUTION_FAILED" | "EXECUTION_CANCELLED")
            ) {
                finished += 1;
            }
            frames.push(frame);
        }
        frames
    }

    /// The whole event log of a session, read from one runtime.
    async fn log_ids(stack: &Stack, runtime: &Service, tenant: &str, session: &str) -> Vec<i64> {
        let (token, _) =
            platform_sdk::security_guard::service::mint(&stack.service_ring()).unwrap();
        let url = runtime.url(&format!(
            "/api/session/{session}/events?tenant_id={tenant}&after=0"
        ));
        let (status, _, page) = stack.call(Method::GET, &url, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        ids(page["events"].as_array().unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_socket_on_one_replica_sees_turns_another_runtime_ran_in_order() {
        let replicas = Replicas::start(Options::default()).await;
        let stack = &replicas.stack;
        let (experience_a, experience_b) = replicas.pinned_experiences().await;
        // The session is made through A (login), and validates through B.
        let (email, password, _) = stack.register().await;
        let body = json!({"email": email, "password": password});
        let (status, _, login) = stack
            .call(
                Method::POST,
                &experience_a.url("/api/auth/login"),
                None,
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{login}");
        let token = s(&login, "access_token");
        let session = s(&login, "session_id");
        let (status, _, record) = stack
            .call(
                Method::GET,
                &experience_b.url(&format!("/api/session/{session}")),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{record}");

        let query = format!("access_token={token}&session_id={session}");
        let mut on_a = opened(&experience_a, &query).await;
        let mut on_b = opened(&experience_b, &query).await;
        // Turns sent through B run on runtime B; the socket on A follows runtime A and sees
        // every one of their events, in order, and vice versa.
        for round in 0..3 {
            on_b.send(turn(&format!("hello from B, round {round}")))
                .await;
            let sent_b = until_finished_n(&mut on_b, 1).await;
            let seen_a = until_finished_n(&mut on_a, 1).await;
            assert_eq!(ids(&seen_a), ids(&sent_b), "round {round}");
            on_a.send(turn(&format!("hello from A, round {round}")))
                .await;
            let sent_a = until_finished_n(&mut on_a, 1).await;
            let seen_b = until_finished_n(&mut on_b, 1).await;
            assert_eq!(ids(&seen_b), ids(&sent_a), "round {round}");
            assert_eq!(ids(&sent_a)[0], ids(&sent_b).last().unwrap() + 1);
        }
        let tenant = s(&login, "tenant_id");
        let log = log_ids(stack, &replicas.runtime_b, &tenant, &session).await;
        assert_eq!(log, (1..=log.len() as i64).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_turns_on_one_session_through_both_runtimes_get_gap_free_ids() {
        let replicas = Replicas::start(Options::default()).await;
        let stack = &replicas.stack;
        let (_experiences, login, mut on_a, mut on_b) = replicas.two_sockets().await;
        // Both sockets send their turns at once, without waiting for answers: the two runtimes
        // append to the one session concurrently.
        const TURNS: usize = 6;
        for i in 0..TURNS {
            on_a.send(turn(&format!("A{i}"))).await;
            on_b.send(turn(&format!("B{i}"))).await;
        }
        let (seen_a, seen_b) = tokio::join!(
            until_finished_n(&mut on_a, 2 * TURNS),
            until_finished_n(&mut on_b, 2 * TURNS)
        );
        let tenant = s(&login, "tenant_id");
        let session = s(&login, "session_id");
        let log = log_ids(stack, replicas.runtime_a(), &tenant, &session).await;
        assert_eq!(
            log,
            (1..=log.len() as i64).collect::<Vec<_>>(),
            "gap-free and ordered"
        );
        let started = log.len();
        assert!(started >= 2 * TURNS * 3, "{started} events");
        // Each socket saw every event once, in id order.
        for seen in [ids(&seen_a), ids(&seen_b)] {
            assert!(seen.windows(2).all(|w| w[1] > w[0]), "in order: {seen:?}");
            assert_eq!(seen.len(), seen.iter().collect::<BTreeSet<_>>().len());
            assert_eq!(seen, log[..seen.len()].to_vec(), "every event");
        }
        // Socket A saw every turn start, the ones runtime B ran included (each experience
        // replica submits to its own runtime).
        let started = seen_a
            .iter()
            .filter(|f| f["event_type"] == "EXECUTION_STARTED")
            .count();
        assert_eq!(started, 2 * TURNS);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_safety_answer_through_another_runtime_reaches_the_owner() {
        let replicas = Replicas::start(Options::default()).await;
        let (_experiences, _, mut on_a, mut on_b) = replicas.two_sockets().await;
        // The turn runs on runtime A and waits for a human ...
        on_a.send(json!({"type": "intent", "intent": "please run the invoice approval workflow", "agent_type": "liaison", "metadata": {"pillar": "operations"}}))
            .await;
        let pending = on_b.until("SAFETY_APPROVAL_PENDING").await;
        let hook = pending.last().unwrap()["data"]["hook_id"].clone();
        // ... a wrong hook id through runtime B is a definite "unknown" ...
        on_b.send(json!({"type": "safety_response", "hook_id": "hook-that-is-not-there", "response_type": "approval", "approved": true}))
            .await;
        let refused = on_b.next().await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["code"], "unknown_hook", "{refused}");
        // ... and the right one, answered through runtime B, reaches the hook on runtime A.
        on_b.send(json!({"type": "safety_response", "hook_id": hook, "response_type": "approval", "approved": true}))
            .await;
        let finished = on_b.until_finished().await;
        assert!(
            finished.iter().all(|f| f["type"] != "error"),
            "{finished:?}"
        );
        assert_eq!(
            finished.last().unwrap()["event_type"],
            "EXECUTION_COMPLETED",
            "{finished:?}"
        );
        let seen_a = on_a.until_finished().await;
        assert_eq!(seen_a.last().unwrap()["event_type"], "EXECUTION_COMPLETED");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn logout_on_one_replica_closes_the_sockets_of_the_other_at_once() {
        let replicas = Replicas::start(Options::default()).await;
        let stack = &replicas.stack;
        let experience_b = stack.experience_for(&[&replicas.runtime_b]).await;
        let (_, _, login) = stack.register().await;
        let token = s(&login, "access_token");
        let mut on_b = opened(&experience_b, &format!("access_token={token}")).await;
        let (status, _, _) = stack
            .call(
                Method::POST,
                &stack.exp("/api/auth/logout"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let logged_out = tokio::time::Instant::now();
        assert_eq!(on_b.next_or_end().await.err(), Some(Ended::Closed(4401)));
        // SPEC: within one second (a loaded CI box gets a little margin).
        assert!(
            logged_out.elapsed() < Duration::from_millis(1_500),
            "closed after {:?}",
            logged_out.elapsed()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn killing_the_runtime_that_owns_a_turn_fails_it_within_the_lease_and_the_next_turn_works(
    ) {
        let options = Options {
            runtime_env: vec![("APP__EXECUTIONS__LEASE_MS".into(), LEASE_MS.to_string())],
            ..Options::default()
        };
        let mut replicas = Replicas::start(options).await;
        // Experience calls both runtimes, round robin, and moves on when one is gone.
        let experience = replicas
            .stack
            .experience_for(&[replicas.runtime_a(), &replicas.runtime_b])
            .await;
        let (_, _, login) = replicas.stack.register().await;
        let token = s(&login, "access_token");
        let mut ws = opened(&experience, &format!("access_token={token}")).await;
        ws.send(json!({"type": "intent", "intent": "please run the invoice approval workflow", "agent_type": "liaison", "metadata": {"pillar": "operations"}}))
            .await;
        let frames = ws.until("SAFETY_APPROVAL_PENDING").await;
        let execution = s(&frames.last().unwrap()["data"], "execution_id");

        // Which replica owns it: the lease row names the owner, each runtime logged its id.
        let schema = replicas
            .stack
            .runtime_env()
            .into_iter()
            .find(|(k, _)| k == "APP__DATABASE__SCHEMA")
            .unwrap()
            .1;
        let pool = sqlx::PgPool::connect(&e2e_tests::postgres_url())
            .await
            .unwrap();
        let owner: String = sqlx::query_scalar(&format!(
            "SELECT owner_id FROM {schema}.executions WHERE id = $1"
        ))
        .bind(&execution)
        .fetch_one(&pool)
        .await
        .unwrap();
        let killed_a = replicas.runtime_a().replica_id.as_deref() == Some(owner.as_str());
        let killed = if killed_a {
            replicas.stack.runtime.as_mut().unwrap()
        } else {
            assert_eq!(
                replicas.runtime_b.replica_id.as_deref(),
                Some(owner.as_str())
            );
            &mut replicas.runtime_b
        };
        killed.kill().await; // SIGKILL: no goodbye
        let at = tokio::time::Instant::now();

        // The socket hears of it: the survivor fails the execution when its lease expires, and
        // the event reaches the socket whichever runtime it was following.
        let failed = ws.until_finished().await;
        let last = failed.last().unwrap();
        assert_eq!(last["event_type"], "EXECUTION_FAILED", "{failed:?}");
        assert_eq!(last["data"]["reason"], "owner_lost", "{last}");
        assert_eq!(last["data"]["execution_id"], execution.as_str());
        // Expiry (≤ lease) + one sweep period (lease / 2) + margin for a loaded machine.
        assert!(
            at.elapsed() < Duration::from_millis(LEASE_MS * 2 + 5_000),
            "{:?}",
            at.elapsed()
        );

        // The next turn works, on the surviving runtime.
        ws.send(turn("still there?")).await;
        let next = ws.until_finished().await;
        assert_eq!(
            next.last().unwrap()["event_type"],
            "EXECUTION_COMPLETED",
            "{next:?}"
        );
        let mut all = ids(&frames);
        all.extend(ids(&failed));
        all.extend(ids(&next));
        assert!(all.windows(2).all(|w| w[1] == w[0] + 1), "{all:?}");
    }
}
