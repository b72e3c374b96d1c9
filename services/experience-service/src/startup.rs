//! Building and running the experience plane: `Application::build` resolves secrets, opens the
//! database (running the embedded migrations) and the state store, builds the shared runtime
//! client and the services over it (identity, sessions, gateway), starts the revocation poller
//! and hands its routes and state to the SDK's server builder (`platform_sdk::server`);
//! `run_until_stopped` serves until SIGTERM / Ctrl-C: agent sockets are closed with 1001 first,
//! then in-flight requests finish.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use anyhow::Context as _;
use platform_sdk::metrics::Metrics;
use platform_sdk::runtime_client::RuntimeClient;
use platform_sdk::security_guard::{KeyRing, TokenIssuer};
use platform_sdk::server::{self, ServerOptions};
use platform_sdk::settings::resolve_secret;
use platform_sdk::state_surface::{self, StateStore};
use platform_sdk::time_util::now_ms;
use secrecy::ExposeSecret as _;
use sqlx::AnyPool;
use tokio::task::JoinHandle;

use crate::agent_socket::sockets::{Sockets, GOING_AWAY};
use crate::configuration::Settings;
use crate::extractors::TrustForwardedFor;
use crate::gateway::Gateway;
use crate::identity::domain::hasher::{HashParams, PasswordHasher};
use crate::identity::domain::revocation::RevokedSessions;
use crate::identity::domain::throttle::{Limits, Throttle};
use crate::identity::storage;
use crate::identity::{Identity, IdentityParts};
use crate::sessions::Sessions;
use crate::tenants::{ApiKeys, Tenants};
use crate::{agent_socket, gateway, health, identity, polled, sessions, tenants};

/// What the operational handlers share.
pub struct AppState {
    /// SQL pool.
    pub pool: AnyPool,
    /// State store.
    pub store: Arc<dyn StateStore>,
    /// The runtime client (readiness asks it).
    pub runtime: Arc<RuntimeClient>,
}

/// A built, not yet running, experience plane.
pub struct Application {
    port: u16,
    server: Server,
    poller: JoinHandle<()>,
    changes_poller: JoinHandle<()>,
}

impl Application {
    /// Connects everything and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let env = settings.environment;
        let dir = &settings.data_dir;
        let jwt_secret = resolve_secret(
            settings.jwt.secret.clone(),
            env,
            dir,
            "jwt.secret",
            "jwt-secret",
        )?;
        let service_secret = resolve_secret(
            settings.security.service_secret.clone(),
            env,
            dir,
            "security.service_secret",
            "service-secret",
        )?;
        let refresh_secret = resolve_secret(
            settings.security.refresh_secret.clone(),
            env,
            dir,
            "security.refresh_secret",
            "refresh-secret",
        )?;
        let jwt_ring = KeyRing::new(
            &settings.jwt.kid,
            &jwt_secret,
            settings.jwt.previous_keys.as_ref(),
        )
        .context("setting `jwt.secret`")?;
        let service_ring = KeyRing::new(
            &settings.security.service_kid,
            &service_secret,
            settings.security.previous_service_keys.as_ref(),
        )
        .context("setting `security.service_secret`")?;
        anyhow::ensure!(
            refresh_secret.expose_secret().len()
                >= platform_sdk::security_guard::keys::MIN_SECRET_LEN,
            "setting `security.refresh_secret` must be at least 32 bytes"
        );

        let pool = platform_sdk::db::open(
            &settings.database,
            &dir.join("experience.db"),
            "experience-service",
            &sqlx::migrate!("./migrations"),
        )
        .await
        .context("opening the experience database (settings `database.*`)")?;
        let store = state_surface::connect_journaled(
            settings.state.backend,
            Some(settings.redis.url.as_str()),
            &settings.state.key_prefix,
            Some(settings.data_dir.join("state-experience.journal")),
        )
        .await
        .context("setting `state.backend` / `redis.url`")?;

        let auth = settings.auth.clone();
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2);
        let hasher = PasswordHasher::new(
            HashParams {
                memory_kib: auth.argon2_memory_kib,
                iterations: auth.argon2_iterations,
                parallelism: auth.argon2_parallelism,
            },
            auth.max_concurrent_hashes.unwrap_or(cores),
            auth.max_queued_hashes,
        )
        .context("settings `auth.argon2_*`")?;
        let throttle = Throttle::new(
            store.clone(),
            Limits {
                account_failures: auth.login_max_failures,
                account_window: Duration::from_secs(auth.login_failure_window_secs),
                ip_attempts: auth.ip_max_attempts,
                ip_window: Duration::from_secs(auth.ip_window_secs),
            },
        );
        let runtime = Arc::new(
            RuntimeClient::new(
                &settings.runtime.url,
                Duration::from_millis(settings.runtime.timeout_ms),
                service_ring,
            )
            .context("setting `runtime.url`")?,
        );
        let metrics = Metrics::new("experience");
        let queue = hasher.clone();
        metrics.sample("password_hash_queue", move || queue.queued() as i64);
        let revoked = RevokedSessions::new();
        revoked.extend(storage::revocations::since(&pool, 0, now_ms()).await?);
        let poller = tokio::spawn(polled::poll(
            pool.clone(),
            revoked.clone(),
            Duration::from_millis(auth.revocation_poll_ms.max(10)),
        ));
        let identity = web::Data::new(Identity::new(IdentityParts {
            pool: pool.clone(),
            hasher,
            throttle: throttle.clone(),
            tokens: TokenIssuer::new(
                jwt_ring,
                &settings.jwt.issuer,
                &settings.jwt.audience,
                settings.jwt.access_ttl_secs,
            ),
            runtime: runtime.clone(),
            revoked,
            refresh_secret: refresh_secret.expose_secret().as_bytes().to_vec(),
            settings: auth,
            metrics: metrics.clone(),
        }));
        let tenants_settings = settings.tenants.clone();
        anyhow::ensure!(
            tenants_settings.invitation_ttl_secs > 0,
            "setting `tenants.invitation_ttl_secs` must be positive"
        );
        anyhow::ensure!(
            tenants_settings.api_key_requests_per_sec > 0.0 && tenants_settings.api_key_burst >= 1.0,
            "settings `tenants.api_key_requests_per_sec` must be positive and `tenants.api_key_burst` at least 1"
        );
        let access = identity.access().clone();
        tenants::load_changes(&pool, &access).await?;
        let changes_poller = tokio::spawn(polled::poll(
            pool.clone(),
            access.clone(),
            Duration::from_millis(settings.auth.revocation_poll_ms.max(10)),
        ));
        let api_keys = web::Data::new(ApiKeys::new(
            pool.clone(),
            access,
            tenants_settings.api_key_requests_per_sec,
            tenants_settings.api_key_burst,
        ));
        let tenants = web::Data::new(Tenants::new(
            pool.clone(),
            identity.clone().into_inner(),
            tenants_settings,
        ));
        let sockets = web::Data::new(Sockets::new(
            identity.revoked(),
            metrics.clone(),
            settings.ws.clone(),
            runtime.clone(),
        ));
        let streams = web::Data::new(crate::live_events::Streams::new(
            runtime.clone(),
            settings.events.clone(),
            identity.revoked().clone(),
            identity.access().clone(),
        ));
        let sessions = web::Data::new(Sessions::new(runtime.clone(), throttle));
        let gateway = web::Data::new(Gateway::new(runtime.clone()));
        let state = web::Data::new(AppState {
            pool,
            store,
            runtime: runtime.clone(),
        });
        let runtime = web::Data::from(runtime);

        let listener = server::bind(&settings.server)?;
        let addr = listener.local_addr()?;
        let closer = sockets.get_ref().clone();
        let trust = web::Data::new(TrustForwardedFor(settings.server.trust_forwarded_for));
        let options = ServerOptions::new("experience-service", &settings.server, metrics)
            .on_shutdown(move || async move {
                tracing::info!(open_sockets = closer.count(), "closing agent sockets");
                closer.close_all(GOING_AWAY);
            });
        let server = server::serve(listener, options, move |cfg| {
            cfg.app_data(state.clone())
                .app_data(identity.clone())
                .app_data(sessions.clone())
                .app_data(gateway.clone())
                .app_data(tenants.clone())
                .app_data(api_keys.clone())
                .app_data(runtime.clone())
                .app_data(trust.clone())
                .app_data(sockets.clone())
                .configure(health::configure)
                .configure(identity::routes::configure)
                .configure(sessions::routes::configure)
                .configure(agent_socket::route::configure)
                .configure(gateway::routes::configure)
                .configure(tenants::routes::configure)
                .app_data(streams.clone())
                .configure(crate::live_events::route::configure);
        })?;
        tracing::info!(service = "experience-service", addr = %addr, "listening");
        Ok(Self {
            port: addr.port(),
            server,
            poller,
            changes_poller,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await;
        self.poller.abort();
        self.changes_poller.abort();
        tracing::info!(service = "experience-service", "stopped");
        Ok(result?)
    }
}
