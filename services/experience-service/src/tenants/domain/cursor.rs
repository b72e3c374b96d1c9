//! The opaque cursor of the member and API-key lists (newest first): the last item's instant and
//! id, so a page boundary is exact even when two items share a millisecond.

use base64::Engine as _;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// A position in the list: items strictly after it come next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Instant of the last item seen (joined, created), epoch ms.
    pub at: i64,
    /// Id of the last item seen.
    pub id: String,
}

impl Cursor {
    /// The cursor's wire form.
    pub fn encode(&self) -> String {
        b64().encode(format!("{}|{}", self.at, self.id))
    }

    /// Parses a cursor a previous page returned; `None` when it is not one.
    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = b64().decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (at, user) = text.split_once('|')?;
        Some(Self {
            at: at.parse().ok()?,
            id: user.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_junk() {
        let c = Cursor {
            at: 42,
            id: "u-1".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("!!"), None);
        assert_eq!(Cursor::decode(&b64().encode("x|y")), None);
    }
}
