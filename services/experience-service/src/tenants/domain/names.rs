//! Display names given by users: a tenant's name, an API key's name.

/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Why a name was refused (the message of a `422` field error).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidName {
    /// Empty once trimmed.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`].
    #[error("must be at most 100 characters")]
    TooLong,
    /// Holds a control character (newline, NUL, ...).
    #[error("must not contain control characters")]
    Control,
}

/// A trimmed, bounded, printable name. Once parsed, trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Trims and checks a name.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(InvalidName::Empty);
        }
        if name.chars().any(char::is_control) {
            return Err(InvalidName::Control);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(InvalidName::TooLong);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(Name::parse("  Acme ").unwrap().as_str(), "Acme");
        assert_eq!(Name::parse(" \t "), Err(InvalidName::Empty));
        assert_eq!(Name::parse("a\u{0}b"), Err(InvalidName::Control));
        assert_eq!(Name::parse("a\nb"), Err(InvalidName::Control));
        assert!(Name::parse(&"é".repeat(100)).is_ok());
        assert_eq!(Name::parse(&"x".repeat(101)), Err(InvalidName::TooLong));
    }
}
