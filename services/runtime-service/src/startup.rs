//! Building and running the runtime plane: `Application::build` opens the database (running the
//! embedded migrations), the state store and the listener, then hands its routes and state to
//! the SDK's server builder (`platform_sdk::server`); `run_until_stopped` serves until SIGTERM /
//! Ctrl-C, letting in-flight requests finish.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use anyhow::Context as _;
use platform_sdk::metrics::Metrics;
use platform_sdk::security_guard::KeyRing;
use platform_sdk::server::{self, ServerOptions};
use platform_sdk::settings::resolve_secret;
use platform_sdk::state_surface::{self, StateBackend, StateSurface};
use platform_sdk::traffic_cop::IntentVerifier;
use sqlx::AnyPool;

use crate::agents::openai::OpenAiSettings;
use crate::agents::{AgentCatalog, Providers};
use crate::configuration::ProviderKind;
use crate::configuration::Settings;
use crate::conversations::Conversations;
use crate::events::EventLog;
use crate::executions::{Executions, ExecutionsDeps};
use crate::governance::Governance;
use crate::intents::storage::IntentAudit;
use crate::intents::IntentGate;
use crate::profiles::keys::{AttestationKeys, Sealer};
use crate::profiles::{Attestations, Profiles};
use crate::sessions::Sessions;
use crate::wrappers::Wrappers;
use crate::{
    conversations, events, executions, health, profiles, sessions as session_routes, wrappers,
};

/// What handlers share.
pub struct AppState {
    /// SQL pool.
    pub pool: AnyPool,
    /// The state surface.
    pub surface: StateSurface,
    /// Session rules.
    pub sessions: Sessions,
    /// The intent pipeline.
    pub gate: IntentGate,
    /// The audit log.
    pub audit: IntentAudit,
    /// The event log (durable log + live fan-out).
    pub events: Arc<EventLog>,
    /// Conversation history.
    pub conversations: Conversations,
    /// Agent executions.
    pub executions: Arc<Executions>,
    /// Agent wrappers and their deployments.
    pub wrappers: Wrappers,
    /// Agent profiles (SPEC §9).
    pub profiles: Profiles,
    /// Signed attestations and the tenants' attestation keys (SPEC §9).
    pub attestations: Attestations,
    /// Usage analytics.
    pub usage: crate::usage::Usage,
    /// Policies, decisions, violations and the audit chain (SPEC §10).
    pub governance: Arc<Governance>,
    /// Outcome events, trends and the dashboard (SPEC §16).
    pub outcomes: crate::outcomes::Outcomes,
    /// Multi-agent contexts (SPEC §12).
    pub multi_agent: Arc<crate::multi_agent::MultiAgent>,
    /// Multimodal requests (SPEC §15).
    pub multimodal: Arc<crate::multimodal::Multimodal>,
    /// The tenant live event log (SPEC §13).
    pub live: crate::live::Live,
    /// Notifications (SPEC §13).
    pub notifications: crate::notifications::Notifications,
    /// The operations hub (SPEC §14).
    pub operations: crate::operations::Operations,
}

/// A built, not yet running, runtime plane.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects everything and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let secret = resolve_secret(
            settings.security.service_secret.clone(),
            settings.environment,
            &settings.data_dir,
            "security.service_secret",
            "service-secret",
        )?;
        let ring = KeyRing::new(
            &settings.security.service_kid,
            &secret,
            settings.security.previous_service_keys.as_ref(),
        )
        .context("setting `security.service_secret`")?;

        anyhow::ensure!(
            settings.executions.lease_ms >= 300,
            "setting `executions.lease_ms` must be at least 300"
        );
        let pool = platform_sdk::db::open(
            &settings.database,
            &settings.data_dir.join("runtime.db"),
            "runtime-service",
            &sqlx::migrate!("./migrations"),
        )
        .await
        .context("opening the runtime database (settings `database.*`)")?;
        let store = state_surface::connect_journaled(
            settings.state.backend,
            Some(settings.redis.url.as_str()),
            &settings.state.key_prefix,
            Some(settings.data_dir.join("state-runtime.journal")),
        )
        .await
        .context("setting `state.backend` / `redis.url`")?;
        let surface = StateSurface::new(store);
        let audit = IntentAudit::new(pool.clone());
        let sessions = Sessions::new(
            surface.clone(),
            Duration::from_secs(settings.sessions.idle_ttl_secs),
            Duration::from_secs(settings.sessions.absolute_ttl_secs),
        );
        let platform_llm = OpenAiSettings {
            base_url: settings.llm.base_url.clone(),
            api_key: settings.llm.api_key.clone(),
            stall_timeout: Duration::from_secs(settings.llm.stall_timeout_secs),
            connect_timeout: Duration::from_secs(settings.llm.connect_timeout_secs),
        };
        let providers = Arc::new(
            Providers::new(platform_llm)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("settings `llm.*`")?,
        );
        let metrics = Metrics::new("runtime");
        let events = EventLog::new(pool.clone());
        let live = crate::live::Live::new(pool.clone());
        let notifications = crate::notifications::Notifications::new(live.clone());
        let conversations = Conversations::new(pool.clone());
        let model = match settings.agents.provider {
            ProviderKind::Builtin => "builtin",
            ProviderKind::Openai => settings.llm.model.as_str(),
        };
        let catalog = Arc::new(AgentCatalog::builtin(settings.agents.provider, model));
        let governance = Arc::new(Governance::new(
            pool.clone(),
            settings
                .agents
                .approval_actions
                .split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
        ));
        // Decisions are linked into each tenant's audit chain in the background (ADR 0019).
        governance.clone().chain_forever(Duration::from_millis(200));
        let executions = Executions::new(ExecutionsDeps {
            pool: pool.clone(),
            events: events.clone(),
            conversations: conversations.clone(),
            catalog,
            governance: governance.clone(),
            providers: providers.clone(),
            approval_timeout: Duration::from_secs(settings.agents.approval_timeout_secs),
            surface: surface.clone(),
            sessions: sessions.clone(),
            metrics: metrics.clone(),
            lease: Duration::from_millis(settings.executions.lease_ms),
            latency_slo_ms: i64::try_from(settings.agents.latency_slo_ms).unwrap_or(i64::MAX),
        });
        let wrappers = Wrappers::new(
            pool.clone(),
            providers,
            Duration::from_secs(
                settings.llm.connect_timeout_secs + settings.llm.stall_timeout_secs,
            ),
        );
        let interrupted = wrappers
            .fail_interrupted()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if interrupted > 0 {
            tracing::warn!(
                count = interrupted,
                "failed deployments a stopped runtime left deploying"
            );
        }
        let swept = executions
            .sweep_expired()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if swept > 0 {
            tracing::warn!(
                count = swept,
                "failed executions whose runtime was lost (their lease expired)"
            );
        }
        executions.keep_leases();
        if settings.state.backend == StateBackend::Redis {
            // Replicas share one Redis: live events and safety answers travel between them
            // (SPEC §17).
            events.connect_bus(surface.store().clone(), executions.owner_id().to_owned());
            live.connect_bus(surface.store().clone(), executions.owner_id().to_owned());
            executions
                .connect_relay(surface.store().clone())
                .await
                .map_err(|e| anyhow::anyhow!("subscribing to execution control: {e}"))?;
        }
        tracing::info!(
            owner_id = executions.owner_id(),
            lease_ms = settings.executions.lease_ms,
            "execution leases"
        );
        let retention = Duration::from_secs(settings.agents.event_retention_secs.max(1));
        if retention < Duration::from_secs(3600) {
            tracing::warn!(
                secs = retention.as_secs(),
                "agents.event_retention_secs is under an hour: clients may not be able to resume"
            );
        }
        tokio::spawn(events.clone().prune_forever(retention));
        tokio::spawn(
            live.clone()
                .prune_forever(Duration::from_secs(settings.live.retention_secs.max(1))),
        );
        tokio::spawn(
            live.clone()
                .watch_forever(Duration::from_millis(settings.live.poll_ms.max(10))),
        );
        // Attestation private keys are sealed under a key derived from the service secret.
        let attestation_keys = AttestationKeys::new(
            pool.clone(),
            Sealer::new(&secret, settings.security.previous_service_keys.as_ref()),
        );
        let profiles = Profiles::new(pool.clone(), attestation_keys.clone());
        let attestations = Attestations::new(pool.clone(), attestation_keys, profiles.clone());
        let multimodal = crate::multimodal::Multimodal::new(crate::multimodal::MultimodalDeps {
            pool: pool.clone(),
            events: events.clone(),
            adapter: crate::multimodal::adapters::configured(&settings.multimodal)
                .context("settings `multimodal.*`")?,
            owner_id: executions.owner_id().to_owned(),
            lease: Duration::from_millis(settings.executions.lease_ms),
            latency_slo_ms: i64::try_from(settings.agents.latency_slo_ms).unwrap_or(i64::MAX),
        });
        multimodal.reconcile_forever();
        // One multi-agent service for its routes and the hub's context controls.
        let contexts = Arc::new(crate::multi_agent::MultiAgent::new(
            pool.clone(),
            governance.clone(),
            executions.clone(),
            live.clone(),
        ));
        let operations = crate::operations::Operations::new(
            pool.clone(),
            executions.clone(),
            wrappers.clone(),
            contexts.clone(),
            multimodal.clone(),
        );
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            sessions,
            gate: IntentGate::new(
                IntentVerifier::new(ring.clone(), settings.security.clock_skew_ms),
                surface.clone(),
                audit.clone(),
            ),
            surface,
            audit,
            events,
            conversations,
            executions: executions.clone(),
            wrappers,
            profiles,
            attestations,
            usage: crate::usage::Usage::new(pool.clone()),
            multi_agent: contexts.clone(),
            governance,
            outcomes: crate::outcomes::Outcomes::new(pool.clone()),
            multimodal,
            live: live.clone(),
            notifications,
            operations,
        });

        let listener = server::bind(&settings.server)?;
        let addr = listener.local_addr()?;
        let service_tokens = web::Data::new(crate::auth::ServiceTokens {
            verifier: platform_sdk::security_guard::service::verifier(&ring),
            max_lifetime_secs: settings.security.service_token_max_lifetime_secs,
        });
        let stopping = state.clone();
        let options = ServerOptions::new("runtime-service", &settings.server, metrics)
            .on_shutdown(move || async move { stop_owned_work(&stopping).await });
        let server = server::serve(listener, options, move |cfg| {
            cfg.app_data(state.clone())
                .app_data(service_tokens.clone())
                .configure(health::configure)
                .configure(session_routes::routes::configure)
                .configure(events::routes::configure)
                .configure(conversations::routes::configure)
                .configure(executions::routes::configure)
                .configure(wrappers::routes::configure)
                .configure(profiles::routes::configure)
                .configure(crate::usage::routes::configure)
                .configure(crate::governance::routes::configure)
                .configure(crate::governance::trust::routes::configure)
                .configure(crate::governance::compliance::configure)
                .configure(crate::governance::plans::routes::configure)
                .configure(crate::outcomes::routes::configure)
                .configure(crate::multi_agent::routes::configure)
                .configure(crate::multimodal::routes::configure)
                .configure(crate::live::routes::configure)
                .configure(crate::notifications::routes::configure)
                .configure(crate::operations::routes::configure);
        })?;
        tracing::info!(service = "runtime-service", addr = %addr, "listening");
        Ok(Self {
            port: addr.port(),
            server,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped (see [`stop_owned_work`] for what happens when shutdown begins).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        tracing::info!(service = "runtime-service", "stopped");
        Ok(())
    }
}

/// When shutdown begins, while everything this process owns is still alive: executions still
/// running here cannot finish now, so they are failed (their clients learn it at once instead
/// of when the lease expires, docs/adr/0013-replicas-and-leases.md; the `EXECUTION_FAILED`
/// reaches live followers), then every live follow ends so the drain does not wait on streams
/// that never end by themselves.
async fn stop_owned_work(state: &AppState) {
    match state.executions.release_owned().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(count = n, "failed the executions still running at shutdown"),
        Err(e) => {
            tracing::warn!(error = %e, "could not fail the executions still running at shutdown")
        }
    }
    state.events.close_follows();
    state.live.close_follows();
}
