//! The shared server builder: an injected shutdown stops the server (running the shutdown hook
//! first and letting an in-flight request finish), and accepted sockets have `TCP_NODELAY` on,
//! read back from the server's side of the connection.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use platform_sdk::metrics::Metrics;
use platform_sdk::server::{self, AcceptedSocket, ServerOptions};
use platform_sdk::settings::ServerSettings;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Generous bound for things that should happen at once (a loaded CI box is slow).
const DEADLINE: Duration = Duration::from_secs(10);

fn settings() -> ServerSettings {
    ServerSettings {
        workers: Some(1),
        shutdown_timeout_secs: 5,
        ..ServerSettings::default()
    }
}

async fn nodelay(req: HttpRequest) -> HttpResponse {
    match req.conn_data::<AcceptedSocket>() {
        Some(socket) => HttpResponse::Ok().body(socket.nodelay.to_string()),
        None => HttpResponse::InternalServerError().body("no socket data"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_sockets_have_nodelay_on() {
    let listener = server::bind(&settings()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let options =
        ServerOptions::new("test", &settings(), Metrics::new("test")).shutdown_on(async move {
            let _ = stopped.await;
        });
    let running = tokio::spawn(
        server::serve(listener, options, |cfg| {
            cfg.route("/nodelay", web::get().to(nodelay));
        })
        .unwrap(),
    );
    let body = reqwest::get(format!("http://{addr}/nodelay"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "true", "TCP_NODELAY as read on the accepted socket");
    // The shared fallback and middleware are in place: an unknown path is the error body with
    // the request id echoed.
    let missing = reqwest::get(format!("http://{addr}/nope")).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key("x-request-id"));
    stop.send(()).unwrap();
    tokio::time::timeout(DEADLINE, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// State of the slow route: it reports that a request arrived, then waits to be released.
struct Gate {
    entered: mpsc::Sender<()>,
    release: Mutex<Option<oneshot::Receiver<()>>>,
}

async fn slow(gate: web::Data<Gate>) -> HttpResponse {
    let _ = gate.entered.send(()).await;
    let release = gate.release.lock().await.take();
    if let Some(release) = release {
        let _ = release.await;
    }
    HttpResponse::Ok().body("finished")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_shutdown_runs_the_hook_lets_in_flight_requests_finish_and_stops() {
    let listener = server::bind(&settings()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (entered_tx, mut entered) = mpsc::channel(1);
    let (release, released) = oneshot::channel::<()>();
    let gate = web::Data::new(Gate {
        entered: entered_tx,
        release: Mutex::new(Some(released)),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let (hook_ran, mut hook) = oneshot::channel::<()>();
    let options = ServerOptions::new("test", &settings(), Metrics::new("test"))
        .shutdown_on(async move {
            let _ = stopped.await;
        })
        .on_shutdown(move || async move {
            let _ = hook_ran.send(());
        });
    let running = tokio::spawn(
        server::serve(listener, options, move |cfg| {
            cfg.app_data(gate.clone())
                .route("/slow", web::get().to(slow));
        })
        .unwrap(),
    );

    // A request is in flight (the handler has started) when shutdown is asked for.
    let in_flight = tokio::spawn(async move {
        let response = reqwest::get(format!("http://{addr}/slow")).await?;
        response.text().await
    });
    tokio::time::timeout(DEADLINE, entered.recv())
        .await
        .unwrap()
        .unwrap();
    stop.send(()).unwrap();
    tokio::time::timeout(DEADLINE, &mut hook)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !running.is_finished(),
        "stopped before the request finished"
    );

    // Released, the request completes normally and then the server stops.
    release.send(()).unwrap();
    let body = tokio::time::timeout(DEADLINE, in_flight)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(body, "finished");
    tokio::time::timeout(DEADLINE, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after it stopped"
    );
}

async fn ready(draining: web::Data<server::Draining>) -> HttpResponse {
    platform_sdk::operational::readiness(&draining, &[("database", true)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_server_is_not_ready_but_still_serves_then_stops() {
    let drain = ServerSettings {
        drain_secs: 2,
        ..settings()
    };
    let listener = server::bind(&drain).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let (hook_ran, mut hook) = oneshot::channel::<()>();
    let options = ServerOptions::new("test", &drain, Metrics::new("test"))
        .shutdown_on(async move {
            let _ = stopped.await;
        })
        .on_shutdown(move || async move {
            let _ = hook_ran.send(());
        });
    let running = tokio::spawn(
        server::serve(listener, options, |cfg| {
            cfg.route("/ready", web::get().to(ready))
                .route("/nodelay", web::get().to(nodelay));
        })
        .unwrap(),
    );
    let url = format!("http://{addr}/ready");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let asked = tokio::time::Instant::now();
    stop.send(()).unwrap();
    // Readiness turns to 503 `draining` (at once: poll until it does) ...
    let body: serde_json::Value = loop {
        let response = reqwest::get(&url).await.unwrap();
        if response.status() == 503 {
            break response.json().await.unwrap();
        }
        assert!(asked.elapsed() < DEADLINE, "readiness never failed");
        tokio::task::yield_now().await;
    };
    assert_eq!(body["status"], "draining", "{body}");
    // ... while other requests are still served and the hook has not run yet.
    let served = reqwest::get(format!("http://{addr}/nodelay"))
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert!(
        hook.try_recv().is_err(),
        "the hook ran before the drain ended"
    );
    // Then the drain ends: the hook runs and the server stops, no earlier than the drain time.
    tokio::time::timeout(DEADLINE, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(asked.elapsed() >= Duration::from_secs(2));
    assert!(hook.try_recv().is_ok());
}
