//! The wrappers service: definitions (create, read, list, update, delete) and the deployment
//! moves (deploy, pause, resume, retire), each checked against the state machine of
//! [`super::rules`] and written with its `deployment.status` event in one transaction.
//! A deployment's checks run in the background ([`super::deploy`]); what the catalog serves is
//! what is stored, so every replica and every restart sees the same deployed agents.

use std::sync::Arc;
use std::time::Duration;

use platform_sdk::page::{Cursor, PageRequest};
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use platform_sdk::traffic_cop::Contract;
use platform_sdk::wrapper_wire::{
    DeployedDefinition, DeploymentAccepted, DeploymentHealth, Provider, WrapperInput, WrapperList,
    WrapperRecord, WrapperStatus,
};
use sqlx::AnyPool;

use super::rules::{self, Action, Status};
use super::storage::{self as store, Filter, Move, StatusEvent, Stored};
use super::ID_PREFIX;
use crate::agents::{Agent, AgentKind, Providers};
use crate::configuration::ProviderKind;
use crate::error::RuntimeError;

/// Agent wrappers of every tenant.
#[derive(Clone)]
pub struct Wrappers {
    pub(super) pool: AnyPool,
    pub(super) providers: Arc<Providers>,
    pub(super) check_timeout: Duration,
}

fn actor(contract: &Contract) -> &str {
    contract.user_id.as_deref().unwrap_or("service")
}

impl Wrappers {
    /// The service; a deployment's health call is bounded by `check_timeout`.
    pub fn new(pool: AnyPool, providers: Arc<Providers>, check_timeout: Duration) -> Self {
        Self {
            pool,
            providers,
            check_timeout,
        }
    }

    async fn stored(&self, tenant_id: &str, id: &str) -> Result<Stored, RuntimeError> {
        store::get(&self.pool, tenant_id, id)
            .await?
            .ok_or(RuntimeError::NotFound("wrapper"))
    }

    /// Defines a wrapper (`draft`).
    pub async fn create(
        &self,
        contract: &Contract,
        mut input: WrapperInput,
    ) -> Result<WrapperRecord, RuntimeError> {
        rules::validate(&mut input)?;
        let now = now_ms();
        let record = WrapperRecord {
            id: format!("{ID_PREFIX}{}", uuid::Uuid::new_v4().simple()),
            tenant_id: contract.tenant_id.clone(),
            created_by: actor(contract).to_owned(),
            name: input.name,
            description: input.description,
            version: input.version.unwrap_or_else(|| "1.0.0".into()),
            supported_providers: input.supported_providers,
            configuration: input.configuration,
            deployment_status: Status::Draft,
            deployment_id: None,
            deployed_version: None,
            last_error: None,
            created_at: rfc3339_ms(now),
            updated_at: rfc3339_ms(now),
        };
        let mut tx = self.pool.begin().await?;
        store::insert(&mut *tx, &record, now).await?;
        store::add_event(
            &mut tx,
            &StatusEvent {
                wrapper_id: &record.id,
                tenant_id: &record.tenant_id,
                deployment_id: None,
                status: Status::Draft.as_str(),
                version: Some(&record.version),
                error: None,
                actor_id: contract.user_id.as_deref(),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// A wrapper of the tenant.
    pub async fn get(&self, tenant_id: &str, id: &str) -> Result<WrapperRecord, RuntimeError> {
        Ok(self.stored(tenant_id, id).await?.record)
    }

    /// One page of the tenant's wrappers, newest first.
    pub async fn list(
        &self,
        tenant_id: &str,
        filter: &Filter<'_>,
        page: &PageRequest,
    ) -> Result<WrapperList, RuntimeError> {
        let mut rows = store::list(
            &self.pool,
            tenant_id,
            filter,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |w| Cursor {
            key: w.created_ms,
            id: w.record.id.clone(),
        });
        Ok(WrapperList {
            items: rows.into_iter().map(|w| w.record).collect(),
            next_cursor,
        })
    }

    /// Replaces the definition; a deployed wrapper keeps serving its deployed version until the
    /// next deploy. The version is bumped (minor for a new configuration, patch otherwise).
    pub async fn update(
        &self,
        contract: &Contract,
        id: &str,
        mut input: WrapperInput,
    ) -> Result<WrapperRecord, RuntimeError> {
        rules::validate(&mut input)?;
        let current = self.stored(&contract.tenant_id, id).await?;
        let status = current.record.deployment_status;
        if status == Status::Deploying {
            return Err(RuntimeError::InvalidTransition {
                what: "wrapper",
                current: status.as_str().into(),
                action: "update",
            });
        }
        let old = current.record;
        let changed = old.configuration != input.configuration
            || old.supported_providers != input.supported_providers;
        let version = match input.version {
            Some(v) if v != old.version => v,
            _ => rules::bump(&old.version, changed),
        };
        let now = now_ms();
        let record = WrapperRecord {
            name: input.name,
            description: input.description,
            version,
            supported_providers: input.supported_providers,
            configuration: input.configuration,
            updated_at: rfc3339_ms(now),
            ..old.clone()
        };
        if !store::update_definition(&self.pool, &record, &old.version, now).await? {
            return Err(RuntimeError::Conflict(
                "the wrapper changed while this update was being made; read it and try again"
                    .into(),
            ));
        }
        Ok(record)
    }

    /// The answer when another request moved the wrapper between our read and our write: the
    /// refusal from where it is now, or a plain conflict when the move is still allowed.
    async fn lost_race(&self, contract: &Contract, id: &str, action: Action) -> RuntimeError {
        let now = match self.stored(&contract.tenant_id, id).await {
            Ok(w) => w,
            Err(e) => return e,
        };
        match rules::after(now.record.deployment_status, action) {
            Err(e) => e,
            Ok(_) => RuntimeError::Conflict(
                "the wrapper changed while this request was being made; try again".into(),
            ),
        }
    }

    /// Moves `current` by `action` inside a new transaction, with its `deployment.status` event
    /// (naming `deployment_id` and `version`), and hands the transaction back for the writes that
    /// go with the move; nothing is committed yet. The 409 of a forbidden move, or of a move
    /// another request made first, comes from here.
    async fn begin_move(
        &self,
        contract: &Contract,
        current: &Stored,
        action: Action,
        deployment_id: Option<&str>,
        version: Option<&str>,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, Status), RuntimeError> {
        let (id, from) = (current.record.id.as_str(), current.record.deployment_status);
        let to = rules::after(from, action)?;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let change = Move {
            tenant_id: &contract.tenant_id,
            id,
            from: from.as_str(),
            to: to.as_str(),
            deployment_id: None,
            now,
        };
        if !store::set_status(&mut *tx, &change).await? {
            drop(tx);
            return Err(self.lost_race(contract, id, action).await);
        }
        let event = StatusEvent {
            wrapper_id: id,
            tenant_id: &contract.tenant_id,
            deployment_id,
            status: to.as_str(),
            version,
            error: None,
            actor_id: contract.user_id.as_deref(),
            now,
        };
        store::add_event(&mut tx, &event).await?;
        Ok((tx, to))
    }

    /// Moves a wrapper by `action`: pause (`active → paused`), resume (`paused → active`) or
    /// retire (`active | paused → retired`, withdrawn from the catalog); answers the new record.
    pub async fn apply(
        &self,
        contract: &Contract,
        id: &str,
        action: Action,
    ) -> Result<WrapperRecord, RuntimeError> {
        let current = self.stored(&contract.tenant_id, id).await?;
        let (deployment, version) = (
            current.record.deployment_id.as_deref(),
            current.record.deployed_version.as_deref(),
        );
        let (mut tx, to) = self
            .begin_move(contract, &current, action, deployment, version)
            .await?;
        if to == Status::Retired {
            store::withdraw(&mut *tx, &contract.tenant_id, id).await?;
        }
        tx.commit().await?;
        self.get(&contract.tenant_id, id).await
    }

    /// Retires it if it is deployed, then removes it.
    pub async fn delete(&self, contract: &Contract, id: &str) -> Result<(), RuntimeError> {
        let current = self.stored(&contract.tenant_id, id).await?;
        if current.record.deployment_status == Status::Retired {
            if !store::delete(&self.pool, &contract.tenant_id, id).await? {
                return Err(RuntimeError::NotFound("wrapper"));
            }
            return Ok(());
        }
        let (deployment, version) = (
            current.record.deployment_id.as_deref(),
            current.record.deployed_version.as_deref(),
        );
        let (mut tx, _) = self
            .begin_move(contract, &current, Action::Delete, deployment, version)
            .await?;
        store::delete(&mut *tx, &contract.tenant_id, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts a deployment: `deploying` now, `active` or `failed` once its checks ran.
    pub async fn deploy(
        &self,
        contract: &Contract,
        id: &str,
    ) -> Result<DeploymentAccepted, RuntimeError> {
        let current = self.stored(&contract.tenant_id, id).await?;
        let deployment_id = format!("dep_{}", uuid::Uuid::new_v4().simple());
        let version = Some(current.record.version.as_str());
        let (mut tx, to) = self
            .begin_move(
                contract,
                &current,
                Action::Deploy,
                Some(&deployment_id),
                version,
            )
            .await?;
        store::start_deployment(&mut *tx, &contract.tenant_id, id, &deployment_id).await?;
        tx.commit().await?;
        let this = self.clone();
        let task = super::deploy::Deployment {
            tenant_id: contract.tenant_id.clone(),
            wrapper_id: id.to_owned(),
            deployment_id: deployment_id.clone(),
            version: current.record.version.clone(),
            definition: DeployedDefinition {
                name: current.record.name.clone(),
                configuration: current.record.configuration.clone(),
            },
        };
        tokio::spawn(async move { this.run_deployment(task).await });
        Ok(DeploymentAccepted {
            deployment_id,
            status: to,
        })
    }

    /// The deployment state, health and use of a wrapper.
    pub async fn status(&self, tenant_id: &str, id: &str) -> Result<WrapperStatus, RuntimeError> {
        let w = self.stored(tenant_id, id).await?;
        let invocations = store::invocations(&self.pool, tenant_id, id).await?;
        Ok(WrapperStatus {
            deployment_status: w.record.deployment_status,
            active_version: w.record.deployed_version,
            deployed_at: w.deployed_at.map(rfc3339_ms),
            deployment_id: w.record.deployment_id,
            health: DeploymentHealth {
                ok: w.health_ok,
                checked_at: w.health_checked_at.map(rfc3339_ms),
                last_error: w.record.last_error,
            },
            invocations,
        })
    }
}

/// The agent a deployed wrapper serves, for a turn of `tenant_id`: another tenant's or an unknown
/// id is `404 agent not found`; a wrapper that is not serving (draft, failed, paused, retired) is
/// `409 agent_unavailable`. A wrapper being redeployed keeps serving its deployed version.
pub async fn deployed_agent(
    pool: &AnyPool,
    tenant_id: &str,
    id: &str,
) -> Result<Agent, RuntimeError> {
    let w = store::get(pool, tenant_id, id)
        .await?
        .ok_or(RuntimeError::NotFound("agent"))?;
    let status = w.record.deployment_status;
    let serving = matches!(status, Status::Active | Status::Deploying);
    let (Some(definition), Some(version), true) = (w.deployed, w.record.deployed_version, serving)
    else {
        return Err(RuntimeError::AgentUnavailable {
            agent_id: id.to_owned(),
            status: status.as_str().into(),
        });
    };
    Ok(agent_of(id, &version, definition))
}

/// A deployed definition as a catalog agent.
pub(super) fn agent_of(id: &str, version: &str, d: DeployedDefinition) -> Agent {
    let c = d.configuration;
    Agent {
        agent_id: id.to_owned(),
        kind: AgentKind::Specialist,
        name: d.name,
        system_prompt: c.system_prompt,
        provider: match c.provider {
            Provider::Openai => ProviderKind::Openai,
            Provider::Builtin => ProviderKind::Builtin,
        },
        model: c.model,
        temperature: c.temperature.map(|t| t as f32),
        max_output_tokens: c.max_output_tokens,
        approval_actions: c.approval_actions,
        version: version.to_owned(),
        pillar: None,
        base_url: c.base_url,
    }
}
