//! The tenant service: the current tenant, renaming it, and its members (add or invite, list,
//! change role, remove). Every membership change runs in one transaction under the tenant's lock
//! and records an access change that every replica applies to live tokens (ADR 0010).

use std::sync::Arc;

use platform_sdk::security_guard::Role;
use platform_sdk::time_util::{now_ms, rfc3339_ms};
use sqlx::AnyPool;

use super::domain::changes::{Change, Dated};
use super::domain::names::Name;
use super::domain::rules::{self, Refusal};
use super::domain::secrets;
use super::dto::{Added, Invitation, Member, MemberList, TenantInfo};
use super::storage::{self, members::MemberRow, Tx};
use crate::configuration::TenantsSettings;
use crate::error::ApiError;
use crate::extractors::{AuthUser, Caller};
use crate::identity::domain::email::Email;
use crate::identity::storage::is_unique_violation;
use crate::identity::Identity;
use platform_sdk::page::{Cursor, PageRequest};

/// The tenant service; one per process.
pub struct Tenants {
    pool: AnyPool,
    identity: Arc<Identity>,
    settings: TenantsSettings,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::OwnerOnly => {
                ApiError::Forbidden("only an owner can grant or take away the owner role")
            }
            Refusal::LastOwner => ApiError::LastOwner,
        }
    }
}

fn member_view(row: MemberRow, role: Role) -> Member {
    Member {
        user_id: row.user_id,
        email: row.email,
        name: row.name,
        role,
        joined_at: rfc3339_ms(row.joined_at),
    }
}

fn stored_role(row: &MemberRow) -> Result<Role, ApiError> {
    Role::parse(&row.role)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown stored role `{}`", row.role)))
}

impl Tenants {
    /// The service.
    pub fn new(pool: AnyPool, identity: Arc<Identity>, settings: TenantsSettings) -> Self {
        Self {
            pool,
            identity,
            settings,
        }
    }

    /// The caller's tenant and role.
    pub async fn current(&self, who: &AuthUser) -> Result<TenantInfo, ApiError> {
        let tenant = storage::members::tenant(&self.pool, &who.0.tid)
            .await?
            .ok_or(ApiError::NotFound("tenant"))?;
        Ok(TenantInfo {
            tenant_id: tenant.id,
            name: tenant.name,
            created_at: rfc3339_ms(tenant.created_at),
            role: who.role(),
        })
    }

    /// Renames the caller's tenant.
    pub async fn rename(&self, who: &AuthUser, raw: &str) -> Result<TenantInfo, ApiError> {
        let name = Name::parse(raw).map_err(|e| ApiError::invalid("name", e.to_string()))?;
        if !storage::members::rename(&self.pool, &who.0.tid, name.as_str()).await? {
            return Err(ApiError::NotFound("tenant"));
        }
        self.current(who).await
    }

    /// When a change recorded now can be forgotten: once every access token issued before it
    /// has expired, and every cached API key has been re-read.
    fn forget_after(&self, now: i64) -> i64 {
        now + (self.identity.tokens().ttl_secs() + 120) * 1000
    }

    /// Records a member's change inside `tx`; the caller applies it locally after the commit.
    async fn record(
        &self,
        tx: &mut Tx<'_>,
        tenant_id: &str,
        user_id: &str,
        role: Option<Role>,
    ) -> Result<Dated, ApiError> {
        let changed_at = storage::changes::next_instant(tx, tenant_id, user_id).await?;
        let dated = Dated {
            change: Change::Member {
                tenant_id: tenant_id.to_owned(),
                user_id: user_id.to_owned(),
                role,
            },
            changed_at,
            forget_after: self.forget_after(changed_at),
        };
        storage::changes::record(tx, tenant_id, &dated).await?;
        Ok(dated)
    }

    /// Adds a registered user as a member, or invites an unknown email.
    pub async fn add_member(
        &self,
        who: &AuthUser,
        email: &str,
        role: Role,
    ) -> Result<Added, ApiError> {
        let email = Email::parse(email).map_err(|e| ApiError::invalid("email", e.to_string()))?;
        rules::check_grant(who.role(), role)?;
        let tenant_id = who.0.tid.as_str();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        if !storage::members::lock(&mut tx, tenant_id).await? {
            return Err(ApiError::NotFound("tenant"));
        }
        let Some((user_id, email, name)) =
            storage::members::user_by_email(&mut tx, email.as_str()).await?
        else {
            let token = secrets::new_invitation_token();
            let id = format!("inv_{}", uuid::Uuid::new_v4().simple());
            let expires_at = now + self.settings.invitation_ttl_secs * 1000;
            storage::invitations::insert(
                &mut tx,
                &storage::invitations::NewInvitation {
                    id: &id,
                    tenant_id,
                    email: email.as_str(),
                    role: role.as_str(),
                    token_hash: &secrets::hash(&token),
                    invited_by: &who.0.sub,
                    now,
                    expires_at,
                },
            )
            .await?;
            tx.commit().await?;
            tracing::info!(invitation_id = %id, tenant_id = %tenant_id, "invitation created");
            return Ok(Added::Invitation(Invitation {
                invitation_id: id,
                email: email.as_str().to_owned(),
                role,
                token,
                expires_at: rfc3339_ms(expires_at),
            }));
        };
        if storage::members::member(&mut tx, tenant_id, &user_id)
            .await?
            .is_some()
        {
            return Err(ApiError::AlreadyMember);
        }
        match storage::members::insert(&mut tx, tenant_id, &user_id, role.as_str(), now).await {
            Err(e) if is_unique_violation(&e) => return Err(ApiError::AlreadyMember),
            other => other?,
        }
        // A user removed earlier and added back must not stay "removed" in the mirror.
        let dated = self
            .record(&mut tx, tenant_id, &user_id, Some(role))
            .await?;
        tx.commit().await?;
        self.identity.access().apply([dated]);
        tracing::info!(user_id = %user_id, tenant_id = %tenant_id, role = role.as_str(), "member added");
        Ok(Added::Member(Member {
            user_id,
            email,
            name,
            role,
            joined_at: rfc3339_ms(now),
        }))
    }

    /// A page of the caller's tenant's members, newest first.
    pub async fn members(
        &self,
        who: &AuthUser,
        page: &PageRequest,
    ) -> Result<MemberList, ApiError> {
        let mut rows =
            storage::members::list(&self.pool, &who.0.tid, page.after.as_ref(), page.fetch())
                .await?;
        let next_cursor = page.finish(&mut rows, |r| Cursor {
            key: r.joined_at,
            id: r.user_id.clone(),
        });
        let items = rows
            .into_iter()
            .map(|row| {
                let role = stored_role(&row)?;
                Ok(member_view(row, role))
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(MemberList { items, next_cursor })
    }

    /// Changes a member's role (`None`: removes them). Another tenant's member: `404`.
    async fn change(
        &self,
        who: &AuthUser,
        user_id: &str,
        new: Option<Role>,
    ) -> Result<MemberRow, ApiError> {
        let tenant_id = who.0.tid.as_str();
        let mut tx = self.pool.begin().await?;
        if !storage::members::lock(&mut tx, tenant_id).await? {
            return Err(ApiError::NotFound("tenant"));
        }
        let row = storage::members::member(&mut tx, tenant_id, user_id)
            .await?
            .ok_or(ApiError::NotFound("member"))?;
        let current = stored_role(&row)?;
        if new == Some(current) {
            return Ok(row);
        }
        let owners = storage::members::count_owners(&mut tx, tenant_id).await?;
        rules::check_change(who.role(), current, new, owners)?;
        match new {
            Some(role) => {
                storage::members::set_role(&mut tx, tenant_id, user_id, role.as_str()).await?
            }
            None => storage::members::remove(&mut tx, tenant_id, user_id).await?,
        }
        let dated = self.record(&mut tx, tenant_id, user_id, new).await?;
        tx.commit().await?;
        self.identity.access().apply([dated]);
        tracing::info!(user_id = %user_id, tenant_id = %tenant_id, role = new.map_or("removed", Role::as_str), "membership changed");
        Ok(row)
    }

    /// Changes a member's role.
    pub async fn change_role(
        &self,
        who: &AuthUser,
        user_id: &str,
        role: Role,
    ) -> Result<Member, ApiError> {
        let row = self.change(who, user_id, Some(role)).await?;
        Ok(member_view(row, role))
    }

    /// Removes a member and ends their sessions in the tenant.
    pub async fn remove(
        &self,
        caller: &Caller,
        who: &AuthUser,
        user_id: &str,
    ) -> Result<(), ApiError> {
        self.change(who, user_id, None).await?;
        // The removal is committed and already refuses their tokens everywhere; ending the
        // sessions (refresh families, sockets) is the tidy-up and must not turn it into an error.
        if let Err(e) = self
            .identity
            .end_member_sessions(caller, &who.0.tid, user_id)
            .await
        {
            tracing::warn!(error = %e, user_id = %user_id, "could not end a removed member's sessions");
        }
        Ok(())
    }
}
