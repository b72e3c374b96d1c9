//! Profile rules: a profile names one of the tenant's catalog agents; its defining fields
//! (agent, name, description, capabilities, framework, compliance level) are hashed into the
//! constitution hash, and a change to them is a new version with a new hash. An update that
//! changes nothing is answered with the profile as it is.

use platform_sdk::page::{Cursor, PageRequest};
use platform_sdk::profile_wire::{CreateProfile, ProfileList, ProfileRecord, UpdateProfile};
use platform_sdk::time_util::now_ms;
use platform_sdk::traffic_cop::Contract;
use sqlx::AnyPool;

use super::canonical::Constitution;
use super::input;
use super::keys::AttestationKeys;
use super::storage::{self as store, ProfileFields};
use crate::agents::known;
use crate::error::RuntimeError;

/// Agent profiles over SQL.
#[derive(Clone)]
pub struct Profiles {
    pool: AnyPool,
    keys: AttestationKeys,
}

/// The user a contract acts for (every profile and attestation mutation has one).
pub fn actor(contract: &Contract) -> Result<&str, RuntimeError> {
    contract
        .user_id
        .as_deref()
        .ok_or_else(|| RuntimeError::Validation {
            field: "user_id",
            message: "this action needs a user".into(),
        })
}

impl Profiles {
    /// The service over a pool and the tenants' keys.
    pub fn new(pool: AnyPool, keys: AttestationKeys) -> Self {
        Self { pool, keys }
    }

    /// Creates a profile for one of the tenant's agents (`422` on `agent_id` for an agent the
    /// tenant cannot name). The tenant's attestation key is made here on first use.
    pub async fn create(
        &self,
        contract: &Contract,
        request: CreateProfile,
    ) -> Result<ProfileRecord, RuntimeError> {
        let tenant_id = contract.tenant_id.as_str();
        let user = actor(contract)?;
        input::name(&request.name)?;
        input::profile_fields(
            request.description.as_deref(),
            &request.capabilities,
            request.governance_framework.as_deref(),
        )?;
        if !known::is_known(&self.pool, tenant_id, &request.agent_id).await? {
            return Err(RuntimeError::Validation {
                field: "agent_id",
                message: format!("`{}` is not an agent of this tenant", request.agent_id),
            });
        }
        let level = input::compliance_level(request.compliance_level);
        let constitution = Constitution {
            agent_id: &request.agent_id,
            name: &request.name,
            description: request.description.as_deref(),
            capabilities: &request.capabilities,
            governance_framework: request.governance_framework.as_deref(),
            compliance_level: level,
        };
        let now = now_ms();
        let key_id = self.keys.active_kid(tenant_id, now).await?;
        let hash = constitution.hash();
        let id = format!("prof_{}", uuid::Uuid::new_v4().simple());
        let fields = ProfileFields {
            name: &request.name,
            description: request.description.as_deref(),
            capabilities: &request.capabilities,
            governance_framework: request.governance_framework.as_deref(),
            compliance_level: level,
            constitution_hash: &hash,
            key_id: &key_id,
        };
        store::insert_profile(
            &self.pool,
            tenant_id,
            &id,
            &request.agent_id,
            user,
            fields,
            now,
        )
        .await?;
        self.get(tenant_id, &id).await
    }

    /// Replaces a profile's defining fields: a new version and constitution hash when they
    /// changed; the profile unchanged when they did not. The agent cannot change (`422`).
    pub async fn update(
        &self,
        contract: &Contract,
        id: &str,
        request: UpdateProfile,
    ) -> Result<ProfileRecord, RuntimeError> {
        let tenant_id = contract.tenant_id.as_str();
        actor(contract)?;
        let current = self.get(tenant_id, id).await?;
        if request
            .agent_id
            .as_deref()
            .is_some_and(|a| a != current.agent_id)
        {
            return Err(RuntimeError::Validation {
                field: "agent_id",
                message: "a profile's agent cannot change; create another profile".into(),
            });
        }
        input::name(&request.name)?;
        input::profile_fields(
            request.description.as_deref(),
            &request.capabilities,
            request.governance_framework.as_deref(),
        )?;
        let level = input::compliance_level(request.compliance_level);
        let hash = Constitution {
            agent_id: &current.agent_id,
            name: &request.name,
            description: request.description.as_deref(),
            capabilities: &request.capabilities,
            governance_framework: request.governance_framework.as_deref(),
            compliance_level: level,
        }
        .hash();
        if hash == current.governance_identity.constitution_hash {
            return Ok(current);
        }
        let now = now_ms();
        let key_id = self.keys.active_kid(tenant_id, now).await?;
        let fields = ProfileFields {
            name: &request.name,
            description: request.description.as_deref(),
            capabilities: &request.capabilities,
            governance_framework: request.governance_framework.as_deref(),
            compliance_level: level,
            constitution_hash: &hash,
            key_id: &key_id,
        };
        let updated =
            store::update_profile(&self.pool, tenant_id, id, current.version, fields, now).await?;
        if !updated {
            return Err(RuntimeError::Conflict(
                "the profile changed while this update was made; read it again and retry".into(),
            ));
        }
        self.get(tenant_id, id).await
    }

    /// One of the tenant's profiles (`404` otherwise).
    pub async fn get(&self, tenant_id: &str, id: &str) -> Result<ProfileRecord, RuntimeError> {
        store::profile_by_id(&self.pool, tenant_id, id)
            .await?
            .ok_or(RuntimeError::NotFound("profile"))
    }

    /// One page of the tenant's profiles (of one agent, when given), newest first.
    pub async fn list(
        &self,
        tenant_id: &str,
        agent_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<ProfileList, RuntimeError> {
        let mut rows = store::profiles(
            &self.pool,
            tenant_id,
            agent_id,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
        let next_cursor = page.finish(&mut rows, |(p, key)| Cursor {
            key: *key,
            id: p.id.clone(),
        });
        Ok(ProfileList {
            items: rows.into_iter().map(|(p, _)| p).collect(),
            next_cursor,
        })
    }
}
