//! List pagination, the one convention of every list endpoint (SPEC §7): the answer is
//! `{"items":[…],"next_cursor":null|"…"}`, newest first; `limit` (default 50, 1..=200) and
//! `cursor` are query parameters.
//!
//! A cursor is opaque to clients: base64url of `{sort_key}|{id}` of the last item of the page,
//! so the next page is a keyset query (`(sort_key, id) < (cursor)`), stable under inserts and
//! cheap at any depth. A limit or cursor that does not parse is refused, naming the parameter: each service answers it as
//! `400 invalid_query` with the parameter in `fields`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page size.
pub const MAX_LIMIT: u32 = 200;
/// What a `limit` must be.
const LIMIT_RULE: &str = "must be an integer from 1 to 200";

/// Where a page starts: after the item with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The sort key (a timestamp, epoch ms) of the last item seen.
    pub key: i64,
    /// Its id (the tie-breaker).
    pub id: String,
}

impl Cursor {
    /// The opaque text form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.key, self.id))
    }

    /// Parses the opaque form.
    pub fn decode(text: &str) -> Result<Self, PageError> {
        let bad = || PageError {
            field: "cursor",
            message: "is not a cursor this endpoint issued",
        };
        if text.len() > 400 {
            return Err(bad());
        }
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (key, id) = raw.split_once('|').ok_or_else(bad)?;
        let key = key.parse().map_err(|_| bad())?;
        if id.is_empty() || id.len() > 200 || id.contains('\0') {
            return Err(bad());
        }
        Ok(Self {
            key,
            id: id.to_owned(),
        })
    }
}

/// The keyset start of a page as `(sort_key, id)`: the rows wanted are those with
/// `(key < sort_key) OR (key = sort_key AND id < id)`. The first page starts after a key no row
/// has, so one query serves every page.
pub fn start_after(after: Option<&Cursor>) -> (i64, &str) {
    after.map_or((i64::MAX, ""), |c| (c.key, c.id.as_str()))
}

/// A refused pagination parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {message}")]
pub struct PageError {
    /// `limit` or `cursor`.
    pub field: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

/// A parsed page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size, 1..=[`MAX_LIMIT`].
    pub limit: u32,
    /// Where to start (the first page when absent).
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Parses the `limit` and `cursor` query parameters as sent.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or(PageError {
                    field: "limit",
                    message: LIMIT_RULE,
                })?,
        };
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(Cursor::decode)
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the fetched rows to the page and returns the cursor of the next page, if any.
    pub fn finish<T>(&self, rows: &mut Vec<T>, cursor_of: impl Fn(&T) -> Cursor) -> Option<String> {
        if rows.len() <= self.limit as usize {
            return None;
        }
        rows.truncate(self.limit as usize);
        rows.last().map(|last| cursor_of(last).encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            key: 1_700_000_000_123,
            id: "conv-1".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "!!!", "bm9waXBl", &"A".repeat(500)] {
            assert_eq!(Cursor::decode(bad).unwrap_err().field, "cursor", "{bad}");
        }
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(PageRequest::parse(Some("200"), None).unwrap().limit, 200);
        for bad in ["0", "201", "-1", "abc", "1.5", ""] {
            assert_eq!(
                PageRequest::parse(Some(bad), None).unwrap_err().field,
                "limit"
            );
        }
    }

    #[test]
    fn finish_cuts_and_points_at_the_last_item() {
        let page = PageRequest::parse(Some("2"), None).unwrap();
        let mut rows = vec![(3, "c"), (2, "b"), (1, "a")];
        let next = page.finish(&mut rows, |r| Cursor {
            key: r.0,
            id: r.1.into(),
        });
        assert_eq!(rows, vec![(3, "c"), (2, "b")]);
        let next = Cursor::decode(&next.unwrap()).unwrap();
        assert_eq!((next.key, next.id.as_str()), (2, "b"));
        let mut short = vec![(1, "a")];
        assert_eq!(
            page.finish(&mut short, |r| Cursor {
                key: r.0,
                id: r.1.into()
            }),
            None
        );
    }
}
