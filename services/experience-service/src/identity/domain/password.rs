//! New passwords: 8..=128 characters and not one of the bundled common passwords.
//! (Login does not apply this policy: an old password that no longer meets it still logs in.)

/// A password that satisfies the policy. Never printed.
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// Why a password was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WeakPassword {
    /// Fewer than 8 characters.
    #[error("must be at least 8 characters")]
    TooShort,
    /// More than 128 characters.
    #[error("must be at most 128 characters")]
    TooLong,
    /// In the common-password list.
    #[error("is too common; choose another")]
    Common,
}

/// Minimum length in characters.
pub const MIN_LEN: usize = 8;
/// Maximum length in characters.
pub const MAX_LEN: usize = 128;

const COMMON: &str = include_str!("common_passwords.txt");

fn is_common(candidate: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });
    set.contains(candidate.to_lowercase().as_str())
}

impl NewPassword {
    /// Applies the policy.
    pub fn parse(raw: &str) -> Result<Self, WeakPassword> {
        let len = raw.chars().count();
        if len < MIN_LEN {
            return Err(WeakPassword::TooShort);
        }
        if len > MAX_LEN {
            return Err(WeakPassword::TooLong);
        }
        if is_common(raw) {
            return Err(WeakPassword::Common);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_the_policy() {
        assert_eq!(
            NewPassword::parse("short").unwrap_err(),
            WeakPassword::TooShort
        );
        assert_eq!(
            NewPassword::parse(&"x".repeat(129)).unwrap_err(),
            WeakPassword::TooLong
        );
        assert_eq!(
            NewPassword::parse("Password123").unwrap_err(),
            WeakPassword::Common
        );
        assert_eq!(
            NewPassword::parse("qwertyuiop").unwrap_err(),
            WeakPassword::Common
        );
        assert!(NewPassword::parse("correct horse battery staple").is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("correct horse").unwrap()),
            "NewPassword(***)"
        );
    }
}
