//! Roles and scopes (SPEC §2). A scope is `resource:action`; `admin` grants every scope and a
//! granted scope ending in `*` covers every scope with that prefix (`agents:*` ⊇ `agents:read`).

use serde::{Deserialize, Serialize};

/// Every scope the platform knows, for documentation and the `admin` expansion.
pub const ALL_SCOPES: &[&str] = &[
    "agents:read",
    "agents:write",
    "agents:invoke",
    "sessions:read",
    "sessions:write",
    "governance:read",
    "governance:write",
    "workflows:read",
    "workflows:execute",
    "multimodal:read",
    "multimodal:write",
    "multimodal:execute",
    "outcomes:read",
    "outcomes:write",
    "notifications:read",
    "admin",
];

/// Every `:read` scope (what a `viewer` gets, SPEC §5).
const READS: &[&str] = &[
    "agents:read",
    "sessions:read",
    "governance:read",
    "workflows:read",
    "multimodal:read",
    "outcomes:read",
    "notifications:read",
];

/// What a `member` gets (SPEC §5): every `:read` plus using agents, workflows, multimodal and
/// outcomes.
const MEMBER: &[&str] = &[
    "agents:read",
    "sessions:read",
    "governance:read",
    "workflows:read",
    "multimodal:read",
    "outcomes:read",
    "notifications:read",
    "agents:invoke",
    "agents:write",
    "multimodal:write",
    "multimodal:execute",
    "outcomes:write",
    "workflows:execute",
];

/// A member's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created the tenant; everything.
    Owner,
    /// Administers the tenant; everything.
    Admin,
    /// Uses agents and workflows.
    Member,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Parses a stored role name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }

    /// The scopes this role grants.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Self::Owner | Self::Admin => &["admin"],
            Self::Member => MEMBER,
            Self::Viewer => READS,
        }
    }

    /// Every role, highest first.
    pub const ALL: [Role; 4] = [Self::Owner, Self::Admin, Self::Member, Self::Viewer];
}

/// A set of granted scopes, as carried in the token's space-separated `scope` claim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<String>);

impl ScopeSet {
    /// The union of the scopes of some roles, sorted and de-duplicated.
    pub fn for_roles(roles: &[Role]) -> Self {
        let mut scopes: Vec<String> = roles
            .iter()
            .flat_map(|r| r.scopes().iter().map(|s| (*s).to_owned()))
            .collect();
        scopes.sort();
        scopes.dedup();
        Self(scopes)
    }

    /// Parses a space-separated `scope` claim.
    pub fn parse(claim: &str) -> Self {
        Self(claim.split_whitespace().map(str::to_owned).collect())
    }

    /// True when `required` is granted (directly, through `admin`, or through a `*` wildcard).
    pub fn grants(&self, required: &str) -> bool {
        self.0.iter().any(|granted| {
            granted == "admin"
                || granted == required
                || granted
                    .strip_suffix('*')
                    .is_some_and(|prefix| required.starts_with(prefix))
        })
    }

    /// True when every scope of `other` is granted by this set (an API key's scopes never exceed
    /// its creator's).
    pub fn covers(&self, other: &ScopeSet) -> bool {
        other.0.iter().all(|s| self.grants(s))
    }

    /// The scopes of this set that `ceiling` also grants (a key narrowed to its creator's
    /// current role).
    pub fn within(&self, ceiling: &ScopeSet) -> ScopeSet {
        Self(
            self.0
                .iter()
                .filter(|s| ceiling.grants(s))
                .cloned()
                .collect(),
        )
    }

    /// A set of exactly these scopes, sorted and de-duplicated.
    pub fn of(scopes: impl IntoIterator<Item = String>) -> Self {
        let mut scopes: Vec<String> = scopes.into_iter().collect();
        scopes.sort();
        scopes.dedup();
        Self(scopes)
    }

    /// True when no scope is granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, for display (`permissions`).
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The space-separated claim form.
    pub fn to_claim(&self) -> String {
        self.0.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_and_wildcards_grant() {
        assert!(ScopeSet::for_roles(&[Role::Owner]).grants("governance:write"));
        let member = ScopeSet::for_roles(&[Role::Member]);
        assert!(member.grants("agents:invoke"));
        assert!(member.grants("agents:write"));
        assert!(member.grants("notifications:read"));
        assert!(!member.grants("governance:write"));
        assert!(!member.grants("sessions:write"));
        let viewer = ScopeSet::for_roles(&[Role::Viewer]);
        assert!(!viewer.grants("agents:invoke"));
        for scope in ALL_SCOPES {
            assert_eq!(viewer.grants(scope), scope.ends_with(":read"), "{scope}");
        }
        let wild = ScopeSet::parse("agents:* sessions:read");
        assert!(wild.grants("agents:write"));
        assert!(!wild.grants("governance:read"));
    }

    #[test]
    fn keys_are_narrowed_to_a_ceiling() {
        let key = ScopeSet::parse("agents:read agents:write governance:write");
        let member = ScopeSet::for_roles(&[Role::Member]);
        assert!(!member.covers(&key));
        assert_eq!(key.within(&member).to_claim(), "agents:read agents:write");
        assert!(ScopeSet::for_roles(&[Role::Admin]).covers(&key));
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Owner, Role::Admin, Role::Member, Role::Viewer] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
