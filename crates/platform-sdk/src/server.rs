//! The one way both planes assemble and run their HTTP server.
//!
//! Each service brings only what is its own: its routes and shared state (a `configure`
//! function) and, optionally, something to run when shutdown begins (the experience plane closes
//! its agent sockets with 1001). Everything else is the same for both and lives here, in one
//! visible place: the middleware stack (request id outermost, then metrics), the extractor error
//! mapping and body limit, the `404` fallback, worker count, the options of every accepted
//! socket, the graceful-shutdown timeout, and how shutdown is triggered.
//!
//! The routes come in as a `Fn(&mut web::ServiceConfig)` rather than as an `App`: actix's `App`
//! changes type with every `wrap`, so a builder that took or returned one would have to spell
//! those types out. A `ServiceConfig` function has one type and carries routes, app data and
//! default services alike.
//!
//! Every accepted connection gets `TCP_NODELAY` (ADR 0009): the planes answer with small writes
//! (a JSON body, a WebSocket frame, an SSE event) and Nagle's algorithm would hold each one back
//! until the peer's delayed ACK, ~40 ms on Linux, whenever a write follows an unacknowledged one.
//! What the kernel reports for the option is kept on the connection as [`AcceptedSocket`], so a
//! test can read it back from the server side.
//!
//! Shutdown is a future the caller passes in: [`os_signal`] (SIGTERM or Ctrl-C) in the binaries,
//! anything else — a oneshot, say — in a test that wants to stop an app and watch it stop. When
//! it completes the server first drains (`server.drain_secs`): [`Draining`] is set, so readiness
//! answers 503 and a load balancer takes the replica out, while every request is still served;
//! then the service's hook runs and the server stops.

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;

use crate::http::{configure_extractors, not_found, request_id_middleware};
use crate::metrics::{metrics_middleware, Metrics};
use crate::settings::ServerSettings;

/// A future that, when it completes, starts a graceful shutdown.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What to run once shutdown has begun, before the server stops accepting: it is awaited, so it
/// may do I/O (everything the service owns is still alive while it runs).
pub type OnShutdown =
    Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + 'static>;

/// The socket options the kernel reports for an accepted connection, read once when it is
/// accepted. Available to handlers as `req.conn_data::<AcceptedSocket>()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedSocket {
    /// `TCP_NODELAY` is on.
    pub nodelay: bool,
}

/// Set once shutdown has begun (app data of every app [`serve`] runs): readiness fails from then
/// on. Available to handlers as `web::Data<Draining>`.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Shutdown has begun.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// How to run one plane's server: the shared settings, its metrics, and when to stop.
pub struct ServerOptions {
    /// Service name, for the log lines.
    pub service: &'static str,
    /// Listener settings (body limit, workers, shutdown timeout, socket send buffer).
    pub settings: ServerSettings,
    /// The service's metrics (served to the metrics middleware as app data).
    pub metrics: Metrics,
    /// Completes when the server should shut down (default: [`os_signal`]).
    pub shutdown: Shutdown,
    /// Runs when shutdown begins, before the server stops accepting.
    pub on_shutdown: Option<OnShutdown>,
}

impl ServerOptions {
    /// Options that stop on SIGTERM / Ctrl-C and run nothing special on the way down.
    pub fn new(service: &'static str, settings: &ServerSettings, metrics: Metrics) -> Self {
        Self {
            service,
            settings: settings.clone(),
            metrics,
            shutdown: os_signal(),
            on_shutdown: None,
        }
    }

    /// Stops when `signal` completes instead of on an OS signal.
    pub fn shutdown_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Box::pin(signal);
        self
    }

    /// Runs `hook` once shutdown has begun and awaits it, before the server stops accepting.
    pub fn on_shutdown<F>(mut self, hook: impl FnOnce() -> F + Send + 'static) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.on_shutdown = Some(Box::new(move || Box::pin(hook())));
        self
    }
}

/// Binds the configured `host:port` (port 0 picks a free one), naming the address in the error.
pub fn bind(settings: &ServerSettings) -> anyhow::Result<TcpListener> {
    let (host, port) = (settings.host.as_str(), settings.port);
    TcpListener::bind((host, port)).with_context(|| format!("binding {host}:{port}"))
}

/// Completes on SIGTERM or Ctrl-C.
pub fn os_signal() -> Shutdown {
    Box::pin(async {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = interrupt => {}
            _ = terminate => {}
        }
    })
}

/// Starts serving `listener`: the shared middleware, extractor settings and fallback around the
/// service's own `configure`. When `options.shutdown` completes, `options.on_shutdown` runs, then
/// the server stops accepting and lets in-flight requests finish (`shutdown_timeout_secs`). The
/// returned [`Server`] resolves once it has stopped. Must be called inside a tokio runtime.
/// Nothing is logged on success: the caller logs its `listening` line.
pub fn serve<F>(
    listener: TcpListener,
    options: ServerOptions,
    configure: F,
) -> anyhow::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let ServerOptions {
        service,
        settings,
        metrics,
        shutdown,
        on_shutdown,
    } = options;
    let metrics = web::Data::new(metrics);
    let draining = web::Data::new(Draining::default());
    let body_limit = settings.body_limit_bytes;
    let send_buffer = settings.socket_send_buffer_bytes;
    let draining_app = draining.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(crate::http::refuse_nul_middleware))
            .wrap(from_fn(metrics_middleware))
            .wrap(from_fn(request_id_middleware))
            .app_data(metrics.clone())
            .app_data(draining_app.clone())
            .configure(|cfg| configure_extractors(cfg, body_limit))
            .configure(configure.clone())
            .default_service(web::to(not_found))
    })
    .tcp_nodelay(true)
    .on_connect(move |conn, data| {
        if let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            if let Some(bytes) = send_buffer {
                if let Err(e) = socket2::SockRef::from(stream).set_send_buffer_size(bytes) {
                    tracing::warn!(error = %e, "could not set the socket send buffer");
                }
            }
            data.insert(AcceptedSocket {
                nodelay: stream.nodelay().unwrap_or(false),
            });
        }
    })
    .shutdown_timeout(settings.shutdown_timeout_secs);
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    let server = server.listen(listener)?.disable_signals().run();
    let handle = server.handle();
    let drain = Duration::from_secs(settings.drain_secs);
    tokio::spawn(async move {
        shutdown.await;
        draining.set();
        if !drain.is_zero() {
            tracing::info!(
                service,
                secs = drain.as_secs(),
                "draining: not ready, still serving"
            );
            tokio::time::sleep(drain).await;
        }
        tracing::info!(service, "shutting down");
        if let Some(hook) = on_shutdown {
            hook().await;
        }
        handle.stop(true).await;
    });
    // The `listening` line (which tells the port) is the caller's to log, under its own log
    // target: harnesses look for it, and their log filters name the service crates.
    Ok(server)
}
