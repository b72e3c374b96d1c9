//! Wire DTOs shared by the experience plane, the runtime plane and the tests.
//!
//! Field names follow SPEC §2–§3 exactly; the frontend and the original backend read them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a runtime session can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// The session is live.
    Active,
    /// The session was ended (logout, revocation, reuse detection) and never comes back.
    Ended,
}

/// A runtime session (SPEC §3). Times are RFC 3339 UTC strings on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionRecord {
    /// Session id (UUID).
    pub session_id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Owning user; `None` for an anonymous session.
    pub user_id: Option<String>,
    /// `active` or `ended`.
    pub status: SessionStatus,
    /// Creation time, epoch milliseconds.
    pub created_at: i64,
    /// Last activity, epoch milliseconds; the idle TTL slides from here.
    pub last_seen_at: i64,
    /// When the session expires if nothing touches it, epoch milliseconds.
    pub expires_at: i64,
    /// Absolute end of life, epoch milliseconds; sliding never passes it.
    pub absolute_expires_at: i64,
    /// Free-form metadata supplied at creation.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// Payload of a `create_session` / `create_anonymous_session` intent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateSessionPayload {
    /// Free-form metadata stored on the session (user agent, client ip, ...).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// Payload of an `upgrade_session` intent: the user that now owns the anonymous session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpgradeSessionPayload {
    /// The user taking over the session.
    pub user_id: String,
}

/// Body of `POST /api/session/{id}/validate`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ValidateSessionRequest {
    /// Tenant the caller believes owns the session.
    pub tenant_id: String,
    /// User the caller believes owns the session.
    pub user_id: String,
}

/// Answer of `POST /api/session/{id}/validate`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ValidateSessionResponse {
    /// True when the session exists, is active and belongs to that user.
    pub valid: bool,
    /// Why it is not valid: `not_found`, `ended`, `expired`, `wrong_user`.
    pub reason: Option<String>,
    /// The (touched) session when valid.
    pub session: Option<SessionRecord>,
}

/// A user's sessions, as listed by the runtime.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    /// Active sessions, newest first.
    pub sessions: Vec<SessionRecord>,
}

/// The user object inside the login response (the frontend reads this one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginUser {
    /// User id.
    pub id: String,
    /// Normalised email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Current tenant.
    pub tenant_id: String,
    /// Roles in that tenant.
    pub roles: Vec<String>,
    /// Scopes granted by those roles.
    pub permissions: Vec<String>,
}

/// Response of register, login and refresh (SPEC §2): nested `user` plus the flat legacy fields.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// JWT access token.
    pub access_token: String,
    /// Opaque refresh token.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
    /// Runtime session id (the token's `sid`).
    pub session_id: String,
    /// The user, nested.
    pub user: LoginUser,
    /// Flat copy of `user.id`.
    pub user_id: String,
    /// Flat copy of `user.tenant_id`.
    pub tenant_id: String,
    /// Flat copy of `user.roles`.
    pub roles: Vec<String>,
    /// Flat copy of `user.permissions`.
    pub permissions: Vec<String>,
}

/// The user in `GET /api/auth/me`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeUser {
    /// User id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Registration time, RFC 3339.
    pub created_at: String,
}

/// A tenant as shown to its members.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    /// Tenant id.
    pub id: String,
    /// Tenant name.
    pub name: String,
}

/// Response of `GET /api/auth/me`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    /// The user.
    pub user: MeUser,
    /// The current tenant.
    pub tenant: TenantView,
    /// Roles in the tenant.
    pub roles: Vec<String>,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// Current session.
    pub session_id: String,
}

/// Response of `GET /api/auth/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MySessions {
    /// Active sessions, newest first.
    pub sessions: Vec<SessionRecord>,
    /// The session of the calling token.
    pub current_session_id: String,
}

/// Body of `POST /api/auth/register`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// Email (trimmed, case-insensitive).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Password, 8..=128 characters, not a common one.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Display name: at most 200 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub name: Option<String>,
    /// Name of the tenant created for the user (default: derived from the name or email): at
    /// most 200 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub tenant_name: Option<String>,
    /// An invitation token (SPEC §5): the user joins the inviting tenant with the invited role
    /// instead of creating a tenant. Single use, refused after expiry or for another email.
    #[serde(default)]
    pub invitation_token: Option<String>,
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Email.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Password.
    #[schema(min_length = 1)]
    pub password: String,
    /// The tenant to log into, for a user in several (default: the first joined). Not a
    /// member of it → the same `401 invalid_credentials` as a wrong password.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// Body of `POST /api/auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// Body of `POST /api/auth/logout` (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// End every session of the user in this tenant, not only the current one.
    #[serde(default)]
    pub all_sessions: bool,
}

/// Response of `POST /api/session/create-anonymous` on experience.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AnonymousSession {
    /// The new session id.
    pub session_id: String,
    /// The session record.
    pub session: SessionRecord,
}
