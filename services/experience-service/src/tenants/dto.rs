//! Request and response bodies of `/api/tenants/current/*` (SPEC §5), with their validation
//! rules in the schemas. Times are RFC 3339 UTC with `Z`.

use platform_sdk::page::{PageError, PageRequest};
use platform_sdk::security_guard::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/tenants/current`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantInfo {
    /// Tenant id.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The caller's role (`null` for an API key).
    pub role: Option<Role>,
}

/// `PATCH /api/tenants/current`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenameTenant {
    /// New name: trimmed, 1..=100 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
}

/// `POST /api/tenants/current/members`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AddMember {
    /// Email of the person (trimmed, case-insensitive). A registered user is added at once; an
    /// unknown email gets an invitation.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Their role; only an owner may grant `owner`.
    pub role: Role,
}

/// `PATCH /api/tenants/current/members/{user_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangeRole {
    /// The new role; only an owner may grant `owner` or change an owner's role.
    pub role: Role,
}

/// A member of the tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// User id.
    pub user_id: String,
    /// Email.
    #[schema(format = Email)]
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Role in the tenant.
    pub role: Role,
    /// When they joined.
    #[schema(format = DateTime)]
    pub joined_at: String,
}

/// A pending invitation (answer of adding an unknown email). The token is shown only here.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    /// Invitation id (`inv_…`).
    pub invitation_id: String,
    /// Invitee email.
    #[schema(format = Email)]
    pub email: String,
    /// Role they get on registering.
    pub role: Role,
    /// The token to pass as `invitation_token` to `POST /api/auth/register`; single use.
    pub token: String,
    /// After this, the token is refused (`410 invitation_expired`).
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// Answer of `POST /api/tenants/current/members`: a member or an invitation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Added {
    /// The email belonged to a registered user, now a member.
    Member(Member),
    /// The email is unknown: an invitation was created.
    Invitation(Invitation),
}

/// A page of members, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    /// Members.
    pub items: Vec<Member>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `POST /api/tenants/current/api-keys`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateApiKey {
    /// Display name: trimmed, 1..=100 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Scopes (`resource:action` from the catalogue, or `admin`), 1..=32 of them, none beyond
    /// the creator's role.
    #[schema(min_items = 1, max_items = 32)]
    pub scopes: Vec<String>,
    /// Optional expiry, in the future.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// An API key as listed (no key material).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    /// Key id (`key_…`).
    pub key_id: String,
    /// Display name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// The first characters of the key, to tell keys apart.
    pub key_prefix: String,
    /// The user the key acts as.
    pub created_by: String,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Expiry, if any.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Revocation time, if revoked.
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// Answer of creating a key: the key itself is shown only here.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewApiKey {
    /// Key id (`key_…`).
    pub key_id: String,
    /// The key (`sk_…`): send it as `X-API-Key` or `Authorization: Bearer`.
    #[schema(pattern = "^sk_[A-Za-z0-9_-]{43}$")]
    pub key: String,
    /// Display name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Expiry, if any.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A page of API keys, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    /// Keys.
    pub items: Vec<ApiKey>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `limit` and `cursor` of the lists.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Items per page, 1..=200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Page {
    /// The parsed page (`400 invalid_query` naming `limit` or `cursor` otherwise).
    pub fn request(&self) -> Result<PageRequest, PageError> {
        PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())
    }
}
