//! Register and login.

use platform_sdk::time_util::now_ms;
use platform_sdk::wire::{LoginRequest, LoginResponse, RegisterRequest};

use platform_sdk::runtime_client::Actor;

use super::service::{Identity, Principal};
use crate::error::ApiError;
use crate::extractors::Caller;
use crate::identity::domain::email::Email;
use crate::identity::domain::password::{NewPassword, MAX_LEN};
use crate::identity::domain::refresh_token;
use crate::identity::domain::throttle::Verdict;
use crate::identity::storage::refresh::NewFamily;
use crate::identity::storage::users::NewAccount;
use crate::identity::storage::{self, is_unique_violation};
use crate::tenants::invitations;

/// What is wrong with a user or tenant name, if anything: at most 200 characters, and no
/// control characters (a name is one line of display text; docs/adr/0012).
fn display_name_problem(name: &str) -> Option<&'static str> {
    if name.chars().count() > 200 {
        Some("must be at most 200 characters")
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else {
        None
    }
}

impl Identity {
    /// Registers a user with a new tenant they own, or into the inviting tenant with the invited
    /// role when an invitation token is given (ADR 0010), and logs them in.
    pub async fn register(
        &self,
        caller: &Caller,
        req: RegisterRequest,
    ) -> Result<LoginResponse, ApiError> {
        let mut fields = Vec::new();
        let email = Email::parse(&req.email)
            .map_err(|e| fields.push(("email", e.to_string())))
            .ok();
        let password = NewPassword::parse(&req.password)
            .map_err(|e| fields.push(("password", e.to_string())))
            .ok();
        let name = req.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if let Some(problem) = name.and_then(display_name_problem) {
            fields.push(("name", problem.into()));
        }
        let tenant_name = req
            .tenant_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(problem) = tenant_name.and_then(display_name_problem) {
            fields.push(("tenant_name", problem.into()));
        }
        let (Some(email), Some(password), true) = (email, password, fields.is_empty()) else {
            return Err(ApiError::Validation(
                fields
                    .into_iter()
                    .map(|(field, message)| platform_sdk::error::FieldError {
                        field: field.to_owned(),
                        message,
                    })
                    .collect(),
            ));
        };
        self.check_ip(caller).await?;
        if storage::users::email_exists(&self.pool, email.as_str()).await? {
            return Err(ApiError::EmailTaken);
        }
        let invitation = match req.invitation_token.as_deref() {
            Some(token) => Some(invitations::check(&self.pool, token, email.as_str()).await?),
            None => None,
        };
        let password_hash = self.hasher.hash(password.expose()).await?;
        let user_id = uuid::Uuid::new_v4().to_string();
        let tenant_id = invitation
            .as_ref()
            .map(|i| i.tenant_id.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let role = invitation.as_ref().map_or("owner", |i| i.role.as_str());
        let session_id = uuid::Uuid::new_v4().to_string();
        let tenant_name = tenant_name
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}'s workspace", name.unwrap_or(email.as_str())));

        let actor = Actor {
            tenant_id: &tenant_id,
            user_id: Some(&user_id),
            session_id: &session_id,
        };
        self.create_runtime_session(caller, actor).await?;
        let refresh = refresh_token::generate();
        let now = now_ms();
        let written: Result<bool, sqlx::Error> = async {
            let mut tx = self.pool.begin().await?;
            let account = NewAccount {
                user_id: &user_id,
                tenant_id: &tenant_id,
                tenant_name: &tenant_name,
                email: email.as_str(),
                name,
                password_hash: &password_hash,
                now,
            };
            match &invitation {
                None => storage::users::insert_account(&mut tx, &account).await?,
                Some(invitation) => {
                    storage::users::insert_user(&mut tx, &account).await?;
                    if !invitations::accept(&mut tx, invitation, &user_id, now).await? {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                }
            }
            storage::refresh::insert_family(
                &mut tx,
                &self.new_family(&tenant_id, &user_id, &session_id, &refresh, now),
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await;
        if !matches!(written, Ok(true)) {
            self.end_runtime_sessions(
                caller,
                &tenant_id,
                &user_id,
                std::slice::from_ref(&session_id),
            )
            .await;
            return Err(match written {
                Ok(_) => ApiError::InvitationUsed,
                Err(e) if is_unique_violation(&e) => ApiError::EmailTaken,
                Err(e) => ApiError::internal(e),
            });
        }
        self.metrics.incr("registrations");
        tracing::info!(user_id = %user_id, tenant_id = %tenant_id, session_id = %session_id, "registered");
        self.respond(
            Principal {
                user_id: &user_id,
                email: email.as_str(),
                name: name.map(str::to_owned),
                tenant_id: &tenant_id,
                role,
            },
            &session_id,
            refresh,
        )
    }

    /// Logs in: verifies the password (uniformly for unknown accounts), creates the runtime
    /// session and a refresh family.
    pub async fn login(
        &self,
        caller: &Caller,
        req: LoginRequest,
    ) -> Result<LoginResponse, ApiError> {
        let email =
            Email::parse(&req.email).map_err(|e| ApiError::invalid("email", e.to_string()))?;
        if req.password.is_empty() {
            return Err(ApiError::invalid("password", "must not be empty"));
        }
        self.check_ip(caller).await?;
        if let Verdict::Limited(retry_after_secs) =
            self.throttle.account_allowed(email.as_str()).await?
        {
            return Err(ApiError::RateLimited { retry_after_secs });
        }
        let row = storage::users::find_login(&self.pool, email.as_str()).await?;
        // A password longer than any we accept cannot match; still spend the same time on it.
        let candidate: String = req.password.chars().take(MAX_LEN + 1).collect();
        let stored = row.as_ref().map(|r| r.password_hash.clone());
        let ok = self.hasher.verify(&candidate, stored).await?;
        let (true, Some(user)) = (ok, row) else {
            self.throttle.failed(email.as_str()).await?;
            self.metrics.incr("login_failures");
            return Err(ApiError::InvalidCredentials);
        };
        self.throttle.succeeded(email.as_str()).await?;
        let user = self.choose_tenant(user, req.tenant_id.as_deref()).await?;

        let session_id = uuid::Uuid::new_v4().to_string();
        let actor = Actor {
            tenant_id: &user.tenant_id,
            user_id: Some(&user.user_id),
            session_id: &session_id,
        };
        self.create_runtime_session(caller, actor).await?;
        let refresh = refresh_token::generate();
        let now = now_ms();
        let family = self.new_family(&user.tenant_id, &user.user_id, &session_id, &refresh, now);
        let written: Result<(), sqlx::Error> = async {
            let mut tx = self.pool.begin().await?;
            storage::refresh::insert_family(&mut tx, &family).await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = written {
            self.end_runtime_sessions(
                caller,
                &user.tenant_id,
                &user.user_id,
                std::slice::from_ref(&session_id),
            )
            .await;
            return Err(ApiError::internal(e));
        }
        self.metrics.incr("logins");
        tracing::info!(user_id = %user.user_id, session_id = %session_id, "logged in");
        self.respond(
            Principal {
                user_id: &user.user_id,
                email: &user.email,
                name: user.name,
                tenant_id: &user.tenant_id,
                role: &user.role,
            },
            &session_id,
            refresh,
        )
    }

    /// The tenant a login is for: the one asked for, if the user is a member of it (otherwise
    /// the same `401 invalid_credentials` as a wrong password, ADR 0010), else the first joined.
    async fn choose_tenant(
        &self,
        mut user: storage::users::LoginRow,
        tenant_id: Option<&str>,
    ) -> Result<storage::users::LoginRow, ApiError> {
        let Some(wanted) = tenant_id.filter(|t| *t != user.tenant_id) else {
            return Ok(user);
        };
        let role = crate::tenants::storage::members::role_of(&self.pool, wanted, &user.user_id)
            .await?
            .ok_or(ApiError::InvalidCredentials)?;
        user.tenant_id = wanted.to_owned();
        user.role = role;
        Ok(user)
    }

    fn new_family<'a>(
        &self,
        tenant_id: &'a str,
        user_id: &'a str,
        session_id: &'a str,
        refresh: &str,
        now: i64,
    ) -> NewFamily<'a> {
        NewFamily {
            family_id: uuid::Uuid::new_v4().to_string(),
            tenant_id,
            user_id,
            session_id,
            token_hash: refresh_token::hash(refresh),
            now,
            idle_expires_at: now + self.settings.refresh_idle_secs * 1000,
            absolute_expires_at: now + self.settings.refresh_absolute_secs * 1000,
        }
    }
}
