//! The one way both planes assemble and run their HTTP server.
//!
//! Each service brings only what is its own: the routes and shared state (a `configure`
//! function) and, optionally, something to do when shutdown begins (the experience plane closes
//! its agent sockets with 1001). Everything else is the same for both and lives here, in one
//! visible place: the middleware stack (request id outermost, then metrics), the extractor error
//! mapping and body limit, the `404` fallback, worker count, per-connection socket options, the
//! graceful-shutdown timeout, and how shutdown is triggered.
//!
//! Shutdown is a future the caller passes in: [`os_signal`] (SIGTERM or Ctrl-C) in the binaries,
//! anything else — say a oneshot — in a test that wants to stop an app and watch it stop.

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;

use crate::http::{configure_extractors, not_found, request_id_middleware};
use crate::metrics::{metrics_middleware, Metrics};

/// A future that, when it completes, starts a graceful shutdown.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What to run once shutdown has begun, before the server stops accepting.
pub type OnShutdown = Box<dyn FnOnce() + Send + 'static>;

/// The server-level settings both planes share.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Service name, for the log lines.
    pub service: &'static str,
    /// Largest accepted request body, bytes.
    pub body_limit_bytes: usize,
    /// Worker threads (`None`: one per core).
    pub workers: Option<usize>,
    /// How long in-flight requests may take to finish once shutdown begins, seconds.
    pub shutdown_timeout_secs: u64,
    /// Kernel send buffer of every accepted connection (`None`: the system default).
    pub socket_send_buffer_bytes: Option<usize>,
}

/// Binds `host:port` (port 0 picks a free one), naming the address in the error.
pub fn bind(host: &str, port: u16) -> anyhow::Result<TcpListener> {
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

/// Starts serving `listener`: the shared middleware and fallbacks around the service's own
/// `configure`. When `shutdown` completes, `on_shutdown` runs, then the server stops accepting
/// and lets in-flight requests finish. Must be called inside the actix/tokio runtime.
pub fn serve<F>(
    listener: TcpListener,
    options: &ServerOptions,
    metrics: Metrics,
    configure: F,
    shutdown: Shutdown,
    on_shutdown: Option<OnShutdown>,
) -> anyhow::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let addr = listener.local_addr()?;
    let metrics = web::Data::new(metrics);
    let body_limit = options.body_limit_bytes;
    let mut server = HttpServer::new(move || {
        let configure = configure.clone();
        App::new()
            .wrap(from_fn(metrics_middleware))
            .wrap(from_fn(request_id_middleware))
            .app_data(metrics.clone())
            .configure(|cfg| configure_extractors(cfg, body_limit))
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .shutdown_timeout(options.shutdown_timeout_secs);
    if let Some(bytes) = options.socket_send_buffer_bytes {
        server = server.on_connect(move |conn, _| {
            if let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                if let Err(e) = socket2::SockRef::from(stream).set_send_buffer_size(bytes) {
                    tracing::warn!(error = %e, "could not set the socket send buffer");
                }
            }
        });
    }
    if let Some(workers) = options.workers {
        server = server.workers(workers);
    }
    let server = server.listen(listener)?.disable_signals().run();
    let handle = server.handle();
    let service = options.service;
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!(service, "shutting down");
        if let Some(hook) = on_shutdown {
            hook();
        }
        handle.stop(true).await;
    });
    tracing::info!(service, addr = %addr, "listening");
    Ok(server)
}
