//! Who may change a member's role (ADR 0010):
//! - membership management needs the `admin` scope (owners and admins, or an API key holding it);
//! - only an owner (a person, not an API key) may grant the `owner` role, or demote or remove
//!   an owner;
//! - the last owner can be neither demoted nor removed (`409 last_owner`).

use platform_sdk::security_guard::Role;

/// Why a role change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Granting or taking away `owner` needs an owner.
    OwnerOnly,
    /// The tenant would be left without an owner.
    LastOwner,
}

/// Checks changing a member from `current` to `new` (`None` = removal), by an actor whose own
/// role is `actor` (`None` for an API key), in a tenant that has `owners` owners.
pub fn check_change(
    actor: Option<Role>,
    current: Role,
    new: Option<Role>,
    owners: i64,
) -> Result<(), Refusal> {
    let touches_owner = current == Role::Owner || new == Some(Role::Owner);
    if touches_owner && actor != Some(Role::Owner) {
        return Err(Refusal::OwnerOnly);
    }
    if current == Role::Owner && new != Some(Role::Owner) && owners <= 1 {
        return Err(Refusal::LastOwner);
    }
    Ok(())
}

/// Checks granting `role` to a new member (add or invite).
pub fn check_grant(actor: Option<Role>, role: Role) -> Result<(), Refusal> {
    if role == Role::Owner && actor != Some(Role::Owner) {
        return Err(Refusal::OwnerOnly);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    #[test]
    fn the_last_owner_stays() {
        assert_eq!(
            check_change(Some(Owner), Owner, Some(Admin), 1),
            Err(Refusal::LastOwner)
        );
        assert_eq!(
            check_change(Some(Owner), Owner, None, 1),
            Err(Refusal::LastOwner)
        );
        assert_eq!(check_change(Some(Owner), Owner, Some(Admin), 2), Ok(()));
        assert_eq!(check_change(Some(Owner), Owner, Some(Owner), 1), Ok(()));
    }

    #[test]
    fn only_owners_touch_owners() {
        assert_eq!(
            check_change(Some(Admin), Owner, Some(Member), 3),
            Err(Refusal::OwnerOnly)
        );
        assert_eq!(
            check_change(Some(Admin), Member, Some(Owner), 3),
            Err(Refusal::OwnerOnly)
        );
        assert_eq!(
            check_change(None, Member, Some(Owner), 3),
            Err(Refusal::OwnerOnly)
        );
        assert_eq!(check_change(Some(Admin), Member, Some(Viewer), 1), Ok(()));
        assert_eq!(check_change(Some(Admin), Admin, None, 1), Ok(()));
        assert_eq!(check_grant(Some(Admin), Owner), Err(Refusal::OwnerOnly));
        assert_eq!(check_grant(Some(Owner), Owner), Ok(()));
        assert_eq!(check_grant(None, Admin), Ok(()));
    }
}
