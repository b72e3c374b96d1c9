//! The in-memory mirror of access changes (ADR 0010), extending the revoked-session mechanism of
//! ADR 0004: a role change, a removal or an API-key revocation is written to the
//! `access_changes` table and applied here at once; every replica polls the table every
//! `auth.revocation_poll_ms` and applies what it has not seen. Access tokens and cached keys are
//! then checked against this map on every request, so a demoted member's live token loses the
//! scopes, a removed member's token is refused, and a revoked key stops working within a
//! second everywhere, without a database read per request.
//!
//! Per member only the latest change counts (its `changed_at` is strictly increasing per member,
//! assigned under the tenant's lock): it is the member's current standing. Entries are
//! forgotten once every credential issued before them has expired.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use platform_sdk::security_guard::Role;

/// One change, as stored and polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A member's role changed (`Some`) or they were removed (`None`).
    Member {
        /// Tenant.
        tenant_id: String,
        /// The member.
        user_id: String,
        /// The new role, `None` when removed.
        role: Option<Role>,
    },
    /// An API key was revoked.
    KeyRevoked {
        /// The key.
        key_id: String,
    },
}

/// A change with its ordering instant and the instant it can be forgotten (epoch ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    /// What changed.
    pub change: Change,
    /// When (strictly increasing per member).
    pub changed_at: i64,
    /// When no credential issued before it can still be alive.
    pub forget_after: i64,
}

/// A member's latest standing: tenant, role (`None` = removed), changed_at, forget_after.
type Entry = (String, Option<Role>, i64, i64);

#[derive(Default)]
struct Inner {
    /// By user id (a lookup borrows the id); a user has one entry per tenant that changed.
    members: HashMap<String, Vec<Entry>>,
    /// Revoked key ids and when to forget them.
    keys: HashMap<String, i64>,
}

/// What a member's latest change says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No recent change: the credential's own role stands.
    Unchanged,
    /// The member now has this role.
    Role(Role),
    /// The member was removed.
    Removed,
}

/// The mirror; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct AccessChanges {
    inner: Arc<RwLock<Inner>>,
}

impl AccessChanges {
    /// An empty mirror.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies changes (local writes at once, polled rows later; re-applying is harmless).
    pub fn apply(&self, changes: impl IntoIterator<Item = Dated>) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        for dated in changes {
            match dated.change {
                Change::Member {
                    tenant_id,
                    user_id,
                    role,
                } => {
                    let entries = inner.members.entry(user_id).or_default();
                    match entries.iter_mut().find(|e| e.0 == tenant_id) {
                        Some(entry) if entry.2 >= dated.changed_at => {}
                        Some(entry) => {
                            *entry = (tenant_id, role, dated.changed_at, dated.forget_after)
                        }
                        None => {
                            entries.push((tenant_id, role, dated.changed_at, dated.forget_after))
                        }
                    }
                }
                Change::KeyRevoked { key_id } => {
                    inner.keys.insert(key_id, dated.forget_after);
                }
            }
        }
    }

    /// The member's standing in the tenant according to the latest change.
    pub fn standing(&self, tenant_id: &str, user_id: &str) -> Standing {
        let Ok(inner) = self.inner.read() else {
            // A poisoned lock: refuse rather than grant.
            return Standing::Removed;
        };
        match inner
            .members
            .get(user_id)
            .and_then(|entries| entries.iter().find(|e| e.0 == tenant_id))
        {
            None => Standing::Unchanged,
            Some((_, Some(role), _, _)) => Standing::Role(*role),
            Some((_, None, _, _)) => Standing::Removed,
        }
    }

    /// True when the key was revoked.
    pub fn key_revoked(&self, key_id: &str) -> bool {
        self.inner
            .read()
            .map(|inner| inner.keys.contains_key(key_id))
            .unwrap_or(true)
    }

    /// Forgets entries no live credential predates.
    pub fn prune(&self, now_ms: i64) {
        if let Ok(mut inner) = self.inner.write() {
            inner.members.retain(|_, entries| {
                entries.retain(|e| e.3 > now_ms);
                !entries.is_empty()
            });
            inner.keys.retain(|_, forget_after| *forget_after > now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(tenant: &str, user: &str, role: Option<Role>, at: i64) -> Dated {
        Dated {
            change: Change::Member {
                tenant_id: tenant.into(),
                user_id: user.into(),
                role,
            },
            changed_at: at,
            forget_after: at + 100,
        }
    }

    #[test]
    fn the_latest_change_per_member_and_tenant_wins() {
        let changes = AccessChanges::new();
        assert_eq!(changes.standing("t", "u"), Standing::Unchanged);
        changes.apply([member("t", "u", Some(Role::Viewer), 10)]);
        changes.apply([member("t", "u", None, 5)]);
        assert_eq!(changes.standing("t", "u"), Standing::Role(Role::Viewer));
        changes.apply([member("t", "u", None, 20)]);
        assert_eq!(changes.standing("t", "u"), Standing::Removed);
        assert_eq!(changes.standing("other", "u"), Standing::Unchanged);
        changes.prune(200);
        assert_eq!(changes.standing("t", "u"), Standing::Unchanged);
    }

    #[test]
    fn revoked_keys_are_remembered_until_pruned() {
        let changes = AccessChanges::new();
        changes.apply([Dated {
            change: Change::KeyRevoked {
                key_id: "key_1".into(),
            },
            changed_at: 1,
            forget_after: 50,
        }]);
        assert!(changes.key_revoked("key_1"));
        assert!(!changes.key_revoked("key_2"));
        changes.prune(60);
        assert!(!changes.key_revoked("key_1"));
    }
}
