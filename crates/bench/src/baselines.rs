//! The baselines each target is compared with, measured in the same run on the same machine:
//! a bare actix-web handler, a bare actix-ws echo server, raw Argon2id hashing at the service's
//! parameters, and a bare Redis GET. Absolute numbers on a shared 2-core box move from run to run; a ratio against a baseline
//! taken minutes (or, interleaved, seconds) apart does not move much, so the targets are ratios.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{dev::ServerHandle, web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::{anyhow, Context as _, Result};
use argon2::password_hash::{rand_core::OsRng, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::load::{Plan, Probe, Sample, Window};

/// Argon2id parameters the services use by default (OWASP: m=19456 KiB, t=2, p=1).
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// Iterations.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Lanes.
pub const ARGON2_PARALLELISM: u32 = 1;

/// A bare actix-web server in this process: one GET route returning a small JSON body (or, from
/// [`BareServer::echo`], one WebSocket echo route), no middleware. It runs its own actix system
/// on a dedicated thread.
pub struct BareServer {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl BareServer {
    /// Its only route.
    pub const PATH: &'static str = "/bare";

    /// Starts it on 127.0.0.1:0 with `workers` worker threads.
    pub fn start(workers: usize) -> Result<Self> {
        Self::spawn("bare-actix", workers, |cfg| {
            cfg.route(Self::PATH, web::get().to(bare));
        })
    }

    /// A bare actix-ws echo server on 127.0.0.1:0: [`Self::ECHO_PATH`] upgrades with
    /// `actix_ws::handle` and sends every text frame straight back; nothing else runs.
    pub fn echo(workers: usize) -> Result<Self> {
        Self::spawn("bare-actix-ws", workers, |cfg| {
            cfg.route(Self::ECHO_PATH, web::get().to(echo));
        })
    }

    /// The echo server's only route.
    pub const ECHO_PATH: &'static str = "/echo";

    fn spawn(name: &str, workers: usize, routes: fn(&mut web::ServiceConfig)) -> Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let bound = HttpServer::new(move || App::new().configure(routes))
                        .workers(workers)
                        .disable_signals()
                        .shutdown_timeout(1)
                        .bind(("127.0.0.1", 0));
                    let server = match bound {
                        Ok(server) => server,
                        Err(error) => {
                            let _ = ready_tx.send(Err(error.to_string()));
                            return Err(error);
                        }
                    };
                    let addr = server.addrs().first().copied();
                    let running = server.run();
                    let _ = ready_tx.send(
                        addr.map(|a| (a, running.handle()))
                            .ok_or_else(|| "no address".to_owned()),
                    );
                    running.await
                })
            })?;
        let (addr, handle) = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .with_context(|| format!("{name} server did not start"))?
            .map_err(|e| anyhow!("{name} server: {e}"))?;
        Ok(Self {
            addr,
            handle,
            thread,
        })
    }

    /// Stops it and waits for its thread.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
    }
}

async fn bare() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "service": "bare" }))
}

/// Upgrades and echoes text frames (answers pings, returns the close) until the client leaves.
async fn echo(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut messages) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(async move {
        while let Some(Ok(message)) = messages.recv().await {
            let sent = match message {
                actix_ws::Message::Text(text) => session.text(text).await,
                actix_ws::Message::Ping(bytes) => session.pong(&bytes).await,
                actix_ws::Message::Close(reason) => {
                    let _ = session.close(reason).await;
                    return;
                }
                _ => Ok(()),
            };
            if sent.is_err() {
                return;
            }
        }
    });
    Ok(response)
}

/// Hashes a password with a fresh salt on `threads` OS threads for one window (blocking: call it
/// from `spawn_blocking`). This is the ceiling for logins/s: each login verifies one hash at the
/// same cost.
pub fn argon2_hashes(threads: usize, plan: Plan) -> Result<Sample> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        None,
    )
    .map_err(|e| anyhow!("argon2 parameters: {e}"))?;
    let window = Window::start(plan);
    let probes = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let params = params.clone();
                scope.spawn(move || hash_loop(window.probe(), params))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|_| anyhow!("hashing thread panicked"))
            })
            .collect::<Result<Vec<Probe>>>()
    })?;
    Ok(Sample::merge(plan, probes))
}

fn hash_loop(mut probe: Probe, params: Params) -> Probe {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    while let Some(started) = probe.next_now() {
        let salt = SaltString::generate(&mut OsRng);
        let outcome = argon2
            .hash_password(b"Bench-password-for-raw-hashing", &salt)
            .map(|_| ())
            .map_err(|e| anyhow!("argon2: {e}"));
        probe.record(started, outcome);
    }
    probe
}

/// A bare Redis GET of one key over one multiplexed connection shared by all tasks.
pub struct RedisGet {
    connection: redis::aio::MultiplexedConnection,
    key: String,
}

impl RedisGet {
    /// Connects and stores `value` at `key`.
    pub async fn new(url: &str, key: String, value: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("EX")
            .arg(3600)
            .query_async::<()>(&mut connection)
            .await?;
        Ok(Self { connection, key })
    }

    /// `tasks` closed-loop tasks GETting the key for one window.
    pub async fn load(&self, tasks: usize, plan: Plan) -> Result<Sample> {
        crate::load::closed(tasks, plan, |_, mut probe| {
            let mut connection = self.connection.clone();
            let key = self.key.clone();
            async move {
                while let Some(started) = probe.next().await {
                    let outcome = redis::cmd("GET")
                        .arg(&key)
                        .query_async::<Option<String>>(&mut connection)
                        .await
                        .map_err(anyhow::Error::from)
                        .and_then(|value| value.map(|_| ()).context("key vanished"));
                    probe.record(started, outcome);
                }
                probe
            }
        })
        .await
    }
}
