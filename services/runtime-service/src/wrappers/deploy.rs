//! A deployment's checks and outcome. The configuration was validated when it was stored; what
//! is left can only be known by trying: for `openai`, one real (streamed) chat completion on the
//! agent's model server with the agent's model. Success registers the definition in the catalog
//! (`active`); anything else leaves the wrapper `failed` with the reason in `last_error` and
//! nothing served. A deployment interrupted by a stopped runtime is failed at the next start of
//! any replica.

use platform_sdk::time_util::now_ms;
use platform_sdk::wrapper_wire::{DeployedDefinition, Provider};
use tokio::sync::mpsc;

use super::rules::Status;
use super::service::{agent_of, Wrappers};
use super::storage::{self as store, Move, Outcome, StatusEvent};
use crate::agents::{ModelRequest, ProviderError};
use crate::error::RuntimeError;

/// How long a deployment may stay `deploying` before a starting replica calls it interrupted.
pub const INTERRUPTED_AFTER_MS: i64 = 120_000;

/// One deployment in flight.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Tenant.
    pub tenant_id: String,
    /// Wrapper.
    pub wrapper_id: String,
    /// `dep_…`.
    pub deployment_id: String,
    /// The version being deployed.
    pub version: String,
    /// What will be served.
    pub definition: DeployedDefinition,
}

impl Wrappers {
    /// Runs the checks and records the outcome; errors go to the log (the wrapper stays
    /// `deploying` and is failed by the next start-up sweep).
    pub(super) async fn run_deployment(self, d: Deployment) {
        let check = self.check(&d).await;
        if let Err(e) = self
            .finish(&d, check.as_ref().err().map(String::as_str))
            .await
        {
            tracing::error!(wrapper_id = %d.wrapper_id, error = ?e, "recording a deployment failed");
        }
    }

    async fn check(&self, d: &Deployment) -> Result<(), String> {
        let agent = agent_of(&d.wrapper_id, &d.version, d.definition.clone());
        if d.definition.configuration.provider != Provider::Openai {
            return Ok(());
        }
        let provider = self
            .providers
            .for_agent(&agent)
            .map_err(|e| e.to_string())?;
        let (tx, mut rx) = mpsc::channel::<String>(16);
        let request = ModelRequest {
            agent,
            history: Vec::new(),
            text: "Health check: answer with one word.".into(),
        };
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let answer = tokio::time::timeout(self.check_timeout, provider.stream(request, tx)).await;
        drain.abort();
        match answer {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("health call failed: {e}")),
            Err(_) => Err(format!(
                "health call failed: {}",
                ProviderError::Stalled(self.check_timeout.as_secs())
            )),
        }
    }

    async fn finish(&self, d: &Deployment, failure: Option<&str>) -> Result<(), RuntimeError> {
        let to = if failure.is_some() {
            Status::Failed
        } else {
            Status::Active
        };
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved = store::set_status(
            &mut *tx,
            &Move {
                tenant_id: &d.tenant_id,
                id: &d.wrapper_id,
                from: Status::Deploying.as_str(),
                to: to.as_str(),
                deployment_id: Some(&d.deployment_id),
                now,
            },
        )
        .await?;
        if !moved {
            // Deleted meanwhile: nothing to record.
            return Ok(());
        }
        let outcome = match failure {
            Some(error) => Outcome::Failed(error),
            None => Outcome::Serving {
                version: &d.version,
                definition: &d.definition,
            },
        };
        store::record_outcome(&mut *tx, &d.tenant_id, &d.wrapper_id, &outcome, now).await?;
        store::add_event(
            &mut tx,
            &StatusEvent {
                wrapper_id: &d.wrapper_id,
                tenant_id: &d.tenant_id,
                deployment_id: Some(&d.deployment_id),
                status: to.as_str(),
                version: Some(&d.version),
                error: failure,
                actor_id: None,
                now,
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(wrapper_id = %d.wrapper_id, deployment_id = %d.deployment_id, status = to.as_str(), "deployment finished");
        Ok(())
    }

    /// Fails the deployments a stopped runtime left `deploying`; returns how many.
    pub async fn fail_interrupted(&self) -> Result<usize, RuntimeError> {
        let stale = store::stale_deployments(&self.pool, now_ms() - INTERRUPTED_AFTER_MS).await?;
        let mut failed = 0;
        for w in stale {
            let Some(deployment_id) = w.record.deployment_id.clone() else {
                continue;
            };
            let d = Deployment {
                tenant_id: w.record.tenant_id.clone(),
                wrapper_id: w.record.id.clone(),
                deployment_id,
                version: w.record.version.clone(),
                definition: DeployedDefinition {
                    name: w.record.name.clone(),
                    configuration: w.record.configuration.clone(),
                },
            };
            self.finish(
                &d,
                Some("the deployment was interrupted: its runtime stopped"),
            )
            .await?;
            failed += 1;
        }
        Ok(failed)
    }
}
